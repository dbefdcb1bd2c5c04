"""Facts of the published SDSS and DESI data models that the readers, detection and tests use.

SDSS ``spec-PLATE-MJD-FIBERID.fits`` and ``spec-lite`` files (DR8-DR17, SDSS-I/II and
BOSS/eBOSS; https://data.sdss.org/datamodel/files/BOSS_SPECTRO_REDUX/RUN2D/spectra/PLATE4/spec.html):

* HDU 0: header only; PLUG_RA/PLUG_DEC are the fibre's position (RA/DEC there are the
  telescope boresight, not the object), PLATEID, MJD, FIBERID;
* HDU 1 ``COADD``: one row per pixel, columns ``flux`` (1e-17 erg/s/cm²/Å), ``loglam``
  (log10 of the vacuum wavelength in Å), ``ivar``, ``and_mask``, ``or_mask``, ``wdisp``,
  ``sky``, ``model``;
* HDU 2 ``SPALL`` (BOSS/eBOSS) or ``SPECOBJ`` (SDSS-I/II): one row of pipeline metadata,
  e.g. PLATE, MJD, FIBERID, PLUG_RA, PLUG_DEC, CLASS, SUBCLASS, Z, SN_MEDIAN (u, g, r, i, z)
  and SN_MEDIAN_ALL; HDU 3 ``SPZLINE`` and (``spec`` only) per-exposure HDUs follow.

DESI ``coadd-SURVEY-PROGRAM-PIXNUM.fits`` (and the per-exposure ``spectra-*`` files of the
same structure; https://desidatamodel.readthedocs.io/ ... /coadd-SURVEY-PROGRAM-PIXNUM.html):

* HDU 0: header only (SURVEY, PROGRAM, HPXPIXEL ... in recent productions);
* ``FIBERMAP``: one row per spectrum (TARGETID, TARGET_RA, TARGET_DEC, ...);
* per camera ``B``, ``R``, ``Z``: ``<C>_WAVELENGTH`` (float64 image [nwave], vacuum Å),
  ``<C>_FLUX`` (float32 image [nspec, nwave], 1e-17 erg/s/cm²/Å), ``<C>_IVAR``,
  ``<C>_MASK`` (uint32 image [nspec, nwave], tile-compressed, BZERO = 2**31) and
  ``<C>_RESOLUTION`` (float32 [nspec, ndiag, nwave]);
* ``SCORES``: one row per spectrum, e.g. MEDIAN_COADD_SNR_<C> (median S/N per √Å).
"""

from __future__ import annotations

# --- SDSS spec / spec-lite -------------------------------------------------------------
#: Upper-case column names of the SDSS COADD table (the files spell them in lower case).
SDSS_FLUX = "FLUX"
SDSS_LOGLAM = "LOGLAM"
SDSS_IVAR = "IVAR"
SDSS_AND_MASK = "AND_MASK"
#: Columns whose presence in the table of HDU 1 marks an SDSS spec file (LAMOST tables
#: spell the mask ANDMASK or PIXMASK, never AND_MASK).
SDSS_COADD_COLUMNS = (SDSS_FLUX, SDSS_AND_MASK)
#: Names of the one-row metadata table: BOSS/eBOSS (DR9+) and SDSS-I/II.
SDSS_METADATA_EXTENSIONS = ("SPALL", "SPECOBJ")
#: Keywords and columns of the metadata read from HDU 2 (first) and the primary header.
SDSS_PLATE_KEYS = ("PLATE", "PLATEID")
SDSS_MJD_KEYS = ("MJD",)
SDSS_FIBER_KEYS = ("FIBERID",)
SDSS_RA_KEYS = ("PLUG_RA",)
SDSS_DEC_KEYS = ("PLUG_DEC",)
SDSS_CLASS_KEY = "CLASS"
SDSS_SUBCLASS_KEY = "SUBCLASS"
SDSS_REDSHIFT_KEY = "Z"
#: ``"SDSS"`` or ``"BOSS"`` in DR17's spAll: the spectrograph.
SDSS_INSTRUMENT_KEY = "INSTRUMENT"
#: Median S/N per pixel in the u, g, r, i, z bands; r (index 2) covers H-alpha.
SDSS_SN_BANDS_KEY = "SN_MEDIAN"
SDSS_SN_R_INDEX = 2
SDSS_SN_ALL_KEY = "SN_MEDIAN_ALL"
#: Flux unit of SDSS and DESI spectra (preprocessing scales each spectrum anyway).
FLUX_UNIT_1E17_CGS = "1e-17 erg/s/cm^2/Angstrom"

# --- DESI coadd / spectra --------------------------------------------------------------
DESI_FIBERMAP = "FIBERMAP"
DESI_SCORES = "SCORES"
#: Camera names in DESI's order (blue to red); ``BRZ`` is the cameras-combined coadd.
DESI_CAMERAS = ("B", "R", "Z", "BRZ")
#: Per-camera HDU suffixes: ``f"{camera}{suffix}"``.
DESI_WAVELENGTH_SUFFIX = "_WAVELENGTH"
DESI_FLUX_SUFFIX = "_FLUX"
DESI_IVAR_SUFFIX = "_IVAR"
DESI_MASK_SUFFIX = "_MASK"
DESI_TARGETID = "TARGETID"
DESI_RA = "TARGET_RA"
DESI_DEC = "TARGET_DEC"
#: SCORES column of a camera's median S/N per √Å: ``f"{DESI_SNR_PREFIX}{camera}"``.
DESI_SNR_PREFIX = "MEDIAN_COADD_SNR_"
#: Primary-header keywords naming the survey and programme of a healpix coadd.
DESI_SURVEY_KEY = "SURVEY"
DESI_PROGRAM_KEY = "PROGRAM"
