<!-- The DaCHS resource of activespec's VO tests (activespec.vo.dachs): the project's real
test spectra (tests/data/real) behind an SSAP service with DataLink, and a small table of
known objects for TAP. activespec.vo.dachs copies the spectra to data/, writes
spectra.csv (one row per spectrum, read with activespec.io), sdm/*.txt (wavelength and
flux per spectrum, for the DataLink's derived spectra) and known.csv, then runs
`dachs imp` and `dachs pub` on this file. -->
<resource schema="activespec">
	<meta name="title">activespec test spectra</meta>
	<meta name="description">Real LAMOST and Ondřejov test spectra of the activespec
		project, served by SSAP with DataLink (FITS products, flux recalibration and
		spectral cut-outs), and a table of known objects for TAP cross-matches.</meta>
	<meta name="creationDate">2026-12-05T00:00:00Z</meta>
	<meta name="subject">Spectroscopy</meta>
	<meta name="creator.name">activespec tests</meta>
	<meta name="instrument">LAMOST; Ondrejov 2m CCD700</meta>
	<meta name="source">2020A&amp;C....3000305S</meta>
	<meta name="contentLevel">Research</meta>
	<meta name="type">Archive</meta>
	<meta name="coverage.waveband">Optical</meta>

	<table id="spectra" onDisk="True" primary="accref" adql="True">
		<meta name="description">One row per published spectrum.</meta>
		<mixin
			fluxCalibration="UNCALIBRATED"
			spectralCalibration="ABSOLUTE"
			fluxUnit=" "
			spectralUnit="Angstrom"
			spectralResolution="1e-10"
			instrument="LAMOST; Ondrejov 2m CCD700"
			collection="activespec test spectra"
			>//ssap#hcd</mixin>
		<column name="survey" type="text" ucd="meta.dataset"
			description="Survey or archive the spectrum comes from"/>
		<column name="source_id" type="text" ucd="meta.id"
			description="The spectrum's identifier in its survey (LAMOST obsid, file stem)"/>
	</table>

	<data id="import">
		<sources>spectra.csv</sources>
		<csvGrammar>
			<rowfilter procDef="//products#define">
				<bind name="table">"\schema.spectra"</bind>
				<bind name="accref">@path</bind>
				<bind name="path">@path</bind>
				<bind name="fsize">int(@fsize)</bind>
				<bind name="mime">"application/fits"</bind>
				<bind name="preview">None</bind>
			</rowfilter>
		</csvGrammar>
		<make table="spectra">
			<rowmaker idmaps="ssa_*">
				<apply procDef="//ssap#setMeta">
					<bind name="pubDID">\standardPubDID</bind>
					<bind name="dstitle">@title</bind>
					<bind name="targname">@object or None</bind>
					<bind name="alpha">@ra or None</bind>
					<bind name="delta">@dec or None</bind>
					<bind name="specstart">float(@wave_min)*1e-10</bind>
					<bind name="specend">float(@wave_max)*1e-10</bind>
					<bind name="length">int(@n_pixels)</bind>
					<bind name="snr">@snr or None</bind>
					<bind name="aperture">3/3600.</bind>
				</apply>
				<map dest="survey">@survey</map>
				<map dest="source_id">@source_id</map>
			</rowmaker>
		</make>
	</data>

	<table id="known" onDisk="True" adql="True">
		<meta name="description">Known objects at the positions of some of the test
			spectra (and a few elsewhere), for positional cross-matches over TAP.</meta>
		<column name="name" type="text" ucd="meta.id;meta.main"
			description="Object name"/>
		<column name="ra" type="double precision" unit="deg" ucd="pos.eq.ra;meta.main"
			description="Right ascension (ICRS)"/>
		<column name="dec" type="double precision" unit="deg" ucd="pos.eq.dec;meta.main"
			description="Declination (ICRS)"/>
		<column name="otype" type="text" ucd="src.class"
			description="Object type"/>
	</table>

	<data id="import_known">
		<sources>known.csv</sources>
		<csvGrammar/>
		<make table="known">
			<rowmaker idmaps="*"/>
		</make>
	</data>

	<!-- The spectrum itself as a Spectral Data Model table, for the DataLink. -->
	<table id="instance" onDisk="False">
		<mixin ssaTable="spectra"
			spectralDescription="Wavelength in air (LAMOST's vacuum wavelengths converted)"
			fluxDescription="Flux as in the original file"
			>//ssap#sdm-instance</mixin>
	</table>

	<data id="build_sdm" auto="False">
		<embeddedGrammar>
			<iterator>
				<setup>
					<code>
						import os
						import numpy
					</code>
				</setup>
				<code>
					accref = self.sourceToken["accref"]
					sidecar = os.path.join(base.getConfig("inputsDir"),
						accref.replace("/data/", "/sdm/", 1) + ".txt")
					for wave, flux in numpy.loadtxt(sidecar, ndmin=2):
						yield {"spectral": float(wave), "flux": float(flux)}
				</code>
			</iterator>
		</embeddedGrammar>
		<make table="instance">
			<parmaker>
				<apply procDef="//ssap#feedSSAToSDM"/>
			</parmaker>
		</make>
	</data>

	<service id="dl" allowed="dlget,dlmeta">
		<meta name="title">activespec test spectra DataLink</meta>
		<datalinkCore>
			<descriptorGenerator procDef="//soda#sdm_genDesc">
				<bind name="ssaTD">"\rdId#spectra"</bind>
			</descriptorGenerator>
			<dataFunction procDef="//soda#sdm_genData">
				<bind name="builder">"\rdId#build_sdm"</bind>
			</dataFunction>
			<FEED source="//soda#sdm_cutout"/>
			<!-- after the cut-out, FLUXCALIB: RELATIVE (maximum 1 within it), NORMALIZED
			(divided by a running median, a continuum estimate) or UNCALIBRATED (as
			published) -->
			<metaMaker>
				<code>
					yield MS(InputKey, name="FLUXCALIB", type="text",
						multiplicity="forced-single", ucd="phot.calib",
						utype="ssa:Char.FluxAxis.Calibration",
						description="Flux calibration of the returned spectrum",
						values=MS(Values, options=[MS(Option, content_=v)
							for v in ("UNCALIBRATED", "RELATIVE", "NORMALIZED")]))
				</code>
			</metaMaker>
			<dataFunction>
				<setup>
					<code>
						import numpy
					</code>
				</setup>
				<code>
					calib = (args.get("FLUXCALIB") or "").upper()
					if calib not in ("RELATIVE", "NORMALIZED"):
						return
					table = descriptor.data.getPrimaryTable()
					if not table.rows:
						return
					flux = numpy.array([r["flux"] for r in table.rows], dtype=float)
					if calib == "RELATIVE":
						scale = numpy.nanmax(numpy.abs(flux)) or 1.0
						new = flux / scale
					else:
						half = min(50, max(1, len(flux) // 4))
						padded = numpy.pad(flux, half, mode="edge")
						windows = numpy.lib.stride_tricks.sliding_window_view(
							padded, 2 * half + 1)
						continuum = numpy.nanmedian(windows, axis=1)
						continuum[~(numpy.abs(continuum) > 0)] = numpy.nan
						new = flux / continuum
					for row, value in zip(table.rows, new):
						row["flux"] = float(value)
					table.setParam("ssa_fluxcalib", calib)
				</code>
			</dataFunction>
			<FEED source="//soda#sdm_format"/>
		</datalinkCore>
	</service>

	<service id="ssa" allowed="ssap.xml,form">
		<meta name="title">activespec test spectra SSAP</meta>
		<meta name="shortName">activespec ssa</meta>
		<meta name="ssap.dataSource">survey</meta>
		<meta name="ssap.creationType">archival</meta>
		<meta name="ssap.testQuery">MAXREC=1</meta>
		<meta name="ssap.complianceLevel">query</meta>
		<property name="datalink">dl</property>
		<ssapCore queriedTable="spectra">
			<FEED source="//ssap#hcd_condDescs"/>
		</ssapCore>
		<publish render="ssap.xml" sets="ivo_managed,local"/>
	</service>
</resource>
