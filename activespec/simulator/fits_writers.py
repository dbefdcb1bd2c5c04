"""Write simulated spectra in the real archive layouts (see ``tests/data/real/README.md``).

=====================  =====================================================================
layout                 structure
=====================  =====================================================================
``lamost-dr2-image``   primary image 5 x N ``>f8``: Flux / Invvar / Wavelength / Andmask /
                       Ormask; header of pipeline 2.7.5 (``SN_U`` .. ``SN_Z``), plus ``OBSID``
``lamost-dr7-image``   the same rows as ``>f4``; header of pipeline v2.9.7 (``SNRU`` ..
                       ``SNRZ``, ``OBSID``, ``DATA_V``), MWRFITS-style fixed decimals
``lamost-dr9-table``   empty primary HDU with the header; HDU 1 ``COADD`` one-row binary
                       table with array columns FLUX, IVAR, WAVELENGTH, ANDMASK, ORMASK,
                       NORMALIZATION (``>f4``)
``ondrejov-raw``       primary 1-D ``>f4`` image of 1,997 px in ADU, IRAF linear air WCS
                       (CRVAL1, CDELT1, CD1_1), header after ``oe270005.fits``
``ondrejov-ssap``      empty primary HDU; HDU 1 binary table with columns ``spectral``
                       (air Å, ``>f8``) and ``flux`` (normalised, ``>f4``); OBJECT, RA,
                       DEC (deg) and DS_IDPUB in both headers
``sdss-spec``          SDSS ``spec-lite``: primary header (PLATEID, MJD, FIBERID, PLUG_RA,
                       PLUG_DEC, boresight RA/DEC); HDU 1 ``COADD`` one row per pixel
                       (flux, loglam, ivar, and_mask, or_mask, wdisp, sky, model); HDU 2
                       ``SPALL`` one row (PLATE, MJD, FIBERID, PLUG_RA, PLUG_DEC, CLASS,
                       SUBCLASS, Z, SN_MEDIAN, SN_MEDIAN_ALL)
=====================  =====================================================================

The LAMOST header templates reproduce the keyword order and comments of the real
files; the writer only fills in the values that differ per plate or object.
"""

from __future__ import annotations

import os

import numpy as np

from activespec.simulator.fits_format import (
    UNDEFINED,
    Raw,
    bintable_cards,
    card,
    header_bytes,
    image_cards,
    write_file,
)

#: Marks a template keyword whose value must be supplied per file.
REQUIRED = object()
LAMOST_LAYOUTS = ("lamost-dr2-image", "lamost-dr7-image", "lamost-dr9-table")
ONDREJOV_LAYOUTS = ("ondrejov-raw", "ondrejov-ssap")
#: zlib level: noisy floats compress about as well at level 1 as at 9, 4-6x faster.
GZIP_LEVEL = 1


def _cards(*entries):
    """Normalise template entries to (key, default, comment, decimals) tuples."""
    out = []
    for entry in entries:
        entry = tuple(entry)
        key, default, comment, decimals = entry + (REQUIRED, None, None)[len(entry) - 1 :]
        out.append((key, default, comment, decimals))
    return tuple(out)


def _section(title):
    return ("COMMENT", f"--------{title}", None)


_LAMOST_DR2 = _cards(
    ("", None),
    _section("FILE INFORMATION"),
    ("FILENAME",),
    ("OBSID", REQUIRED, "Unique number ID of this spectrum"),
    ("AUTHOR", "LAMOST Pipeline", "Who compiled the information"),
    ("EXTEN0", "Flux Inverse Wavelength Andmask Ormask"),
    ("N_EXTEN", 1, "The extension number"),
    ("EXTNAME", "Flux", "The extension name"),
    ("ORIGIN", "NAOC-LAMOST", "Organization responsible for creating this file"),
    ("DATE", REQUIRED, "Time when this HDU is created (UTC)"),
    _section("TELESCOPE PARAMETERS"),
    ("TELESCOP", "LAMOST", "GuoShouJing Telescope"),
    ("LONGITUD", 117.58, "[deg] Longitude of site"),
    ("LATITUDE", 40.39, "[deg] Latitude of site"),
    ("FOCUS", 19964, "[mm] Telescope focus"),
    ("CAMPRO", "NEWCAM", "Camera program name"),
    ("CAMVER", "2.0", "Camera program version"),
    _section("OBSERVATION PARAMETERS"),
    ("DATE-OBS", REQUIRED, "The observation median UTC"),
    ("DATE-BEG", REQUIRED, "The observation start local time"),
    ("DATE-END", REQUIRED, "The observation end local time"),
    ("LMJD", REQUIRED, "Local Modified Julian Day"),
    ("MJD", REQUIRED, "Modified Julian Day"),
    ("LMJMLIST", REQUIRED, "Local Modified Julian Minute list"),
    ("PLANID", REQUIRED, "Plan ID in use"),
    ("RA", REQUIRED, "[deg] Right ascension of object"),
    ("DEC", REQUIRED, "[deg] Declination of object"),
    ("OFFSET", False, "Whether there is a offset during observing"),
    ("OBS_RA", REQUIRED, "[deg] Right ascension during observing"),
    ("OBS_DEC", REQUIRED, "[deg] Declination during observing"),
    ("DESIG", REQUIRED, "Designation of LAMOST target"),
    ("FIBERID", REQUIRED, "Fiber ID of Object"),
    ("CELL_ID", REQUIRED, "Fiber Unit ID on the focal plane"),
    ("X_VALUE", REQUIRED, "[mm] X coordinate of object on the focal plane"),
    ("Y_VALUE", REQUIRED, "[mm] Y coordinate of object on the focal plane"),
    ("OBJNAME", REQUIRED, "Name of object"),
    ("OBJTYPE", REQUIRED, "Object type from input catalog"),
    ("OBJSOURC", REQUIRED, "Name of input catalog"),
    ("T_INFO", REQUIRED, "Target information"),
    ("T_FROM", REQUIRED, "Target catalog"),
    ("FIBERTYP", "Obj", "Fiber type of object"),
    ("MAGTYPE", "ugrijhk", "Magnitude type of object"),
    *[(f"MAG{i}", REQUIRED, f"[mag] Mag{i} of object") for i in range(1, 8)],
    ("OBS_TYPE", "OBJ", "The type of target (OBJ, FLAT, ARC or BIAS)"),
    ("OBSCOMM", "Science", "Science, Test"),
    ("RADECSYS", "FK5", "Equatorial coordinate system"),
    ("EQUINOX", 2000.0, "Equinox in years"),
    _section("SPECTROGRAPH PARAMETERS"),
    ("SPID", REQUIRED, "Spectrograph ID"),
    ("SPRA", REQUIRED, "[deg] Average RA of this spectrograph"),
    ("SPDEC", REQUIRED, "[deg] Average DEC of this spectrograph"),
    ("SLIT_MOD", "x2/3", "Slit mode, x1, x2/3 or x1/2"),
    _section("WEATHER CONDITION"),
    ("TEMPCCDB", -109.3, "[deg] The temperature of blue CCD"),
    ("TEMPCCDR", -119.1, "[deg] The temperature of red CCD"),
    ("SEEING", REQUIRED, "[arcsec] Seeing during exposure"),
    ("MOONPHA", REQUIRED, "[day] Moon phase for a 29.53 days period"),
    ("TEMP_AIR", REQUIRED, "[deg] Temperature outside dome"),
    ("TEMP_FP", 2.0, "[degree celsius] Temprature of the focalplane"),
    ("DEWPOINT", REQUIRED, "[deg]"),
    ("DUST", "", "Reservation"),
    ("HUMIDITY", REQUIRED, None),
    ("WINDD", REQUIRED, "[deg] Wind direction"),
    ("WINDS", REQUIRED, "[m/s] Wind speed"),
    ("SKYLEVEL", 0.0, "Reservation"),
    _section("DATA REDUCTION PARAMETERS"),
    ("LAMPLIST", "", "Arc lamp emission line list"),
    ("SKYLIST", "skylines.dat", "Sky emission line list"),
    ("NEXP", REQUIRED, "Number of valid exposures"),
    ("NEXP_B", REQUIRED, "Number of valid blue exposures"),
    ("NEXP_R", REQUIRED, "Number of valid red exposures"),
    ("EXPT_B", REQUIRED, "[s] Blue exposure duration time"),
    ("EXPT_R", REQUIRED, "[s] Red exposure duration time"),
    ("EXPTIME", REQUIRED, "[s] Minimum of exposure time for all cameras"),
    ("BESTEXP", REQUIRED, "MJM of the best exposure"),
    ("SCAMEAN", REQUIRED, "[ADU] Mean level of scatter light"),
    ("EXTRACT", "aperture", "Extraction method"),
    ("SFLATTEN", True, "Super flat has been applied"),
    ("PCASKYSB", True, "PCA sky-subtraction has been applied"),
    ("NSKIES", REQUIRED, "Sky fiber number"),
    ("SKYCHI2", REQUIRED, "Mean chi^2 of sky-subtraction"),
    ("SCHI2MIN", REQUIRED, "Minimum chi^2 of sky-subtraction"),
    ("SCHI2MAX", REQUIRED, "Maximum chi^2 of sky-subtraction"),
    ("NSTD", REQUIRED, "Number of (good) standard stars"),
    ("FSTAR", REQUIRED, "FiberID of flux standard stars"),
    ("FCBY", REQUIRED, "Standard stars origin (auto, manual or catalog)"),
    ("HELIO", True, "Heliocentric correction"),
    ("HELIO_RV", REQUIRED, "[km/s] Heliocentric correction"),
    ("VACUUM", True, "Wavelengths are in vacuum"),
    ("NWORDER", 2, "Number of linear-log10 coefficients"),
    ("WFITTYPE", "LOG-LINEAR", "Linear-log10 dispersion"),
    ("COEFF0", 3.5682, "Central wavelength (log10) of first pixel"),
    ("COEFF1", 0.0001, "Log10 dispersion per pixel"),
    ("WAT0_001", "system=linear"),
    ("WAT1_001", "wtype=linear label=Wavelength units=Angstroms"),
    ("CRVAL1", 3.5682, "Central wavelength (log10) of first pixel"),
    ("CD1_1", 0.0001, "Log10 dispersion per pixel"),
    ("CRPIX1", 1, "Starting pixel (1-indexed)"),
    ("CTYPE1", "LINEAR"),
    ("DC-FLAG", 1, "Log-linear flag"),
    _section("SPECTRA ANALYSIS RESULTS"),
    ("VERSPIPE", "2.7.5", "Version of Pipeline"),
    ("CLASS", REQUIRED, "Class of object"),
    ("SUBCLASS", REQUIRED, "Subclass of object"),
    ("Z", REQUIRED, "Redshift of object"),
    ("Z_ERR", REQUIRED, "Redshift error of object"),
    ("Z_FROM", "PIPELINE", "Which method computes the redshift"),
    *[(f"SN_{b}", REQUIRED, f"SNR of {b.lower()} filter") for b in "UGRIZ"],
)

_LAMOST_DR7 = _cards(
    ("", None),
    _section("FILE INFORMATION"),
    ("FILENAME", REQUIRED, ""),
    ("OBSID", REQUIRED, "Unique number ID of this spectrum"),
    ("AUTHOR", "LAMOST Pipeline", "Who compiled the information"),
    ("DATA_V", REQUIRED, "Data release version"),
    ("EXTEN0", "Flux, Inverse, Wavelength, Andmask, Ormask", ""),
    ("N_EXTEN", 1, "The extension number"),
    ("EXTNAME", "Flux", "The extension name"),
    ("ORIGIN", "NAOC-LAMOST", "Organization responsible for creating this file"),
    ("DATE", REQUIRED, "Time when this HDU is created (UTC)"),
    _section("TELESCOPE PARAMETERS"),
    ("TELESCOP", "LAMOST", "GuoShouJing Telescope"),
    ("LONGITUD", Raw("117.58"), "[deg] Longitude of site"),
    ("LATITUDE", Raw("40.39"), "[deg] Latitude of site"),
    ("FOCUS", 19964, "[mm] Telescope focus"),
    ("CAMPRO", "NEWCAM", "Camera program name"),
    ("CAMVER", "v2.0", "Camera program version"),
    _section("OBSERVATION PARAMETERS"),
    ("DATE-OBS", REQUIRED, "The observation median UTC"),
    ("DATE-BEG", REQUIRED, "The observation start local time"),
    ("DATE-END", REQUIRED, "The observation end local time"),
    ("LMJD", REQUIRED, "Local Modified Julian Day"),
    ("MJD", REQUIRED, "Modified Julian Day"),
    ("LMJMLIST", REQUIRED, "Local Modified Julian Minute list"),
    ("PLANID", REQUIRED, "Plan ID in use"),
    ("RA", REQUIRED, "[deg] Right ascension of object", 6),
    ("DEC", REQUIRED, "[deg] Declination of object", 6),
    ("RA_OBS", REQUIRED, "[deg] Right ascension during observing", 6),
    ("DEC_OBS", REQUIRED, "[deg] Declination during observing", 6),
    ("OFFSET", False, "Whether there's a offset during observing"),
    ("OFFSET_V", Raw("0.00"), "Offset value in arcsecond"),
    ("DESIG", REQUIRED, "Designation of LAMOST target"),
    ("FIBERID", REQUIRED, "Fiber ID of Object"),
    ("CELL_ID", REQUIRED, "Fiber Unit ID on the focal plane"),
    ("X_VALUE", REQUIRED, "[mm] X coordinate of object on the focal plane"),
    ("Y_VALUE", REQUIRED, "[mm] Y coordinate of object on the focal plane"),
    ("OBJNAME", REQUIRED, "Name of object"),
    ("OBJTYPE", REQUIRED, "Object type from input catalog"),
    ("TSOURCE", REQUIRED, "Name of input catalog"),
    ("TCOMMENT", REQUIRED, "Target information"),
    ("TFROM", REQUIRED, "Target catalog"),
    ("FIBERTYP", "Obj", "Fiber type of object"),
    ("FIBERMAS", 0, "Bitmask of warning values, 0 means all is well"),
    ("MAGTYPE", "ugrizjh", "Magnitude type of object"),
    *[(f"MAG{i}", REQUIRED, f"[mag] Mag{i} of object", 2) for i in range(1, 8)],
    ("OBS_TYPE", "OBJ", "The type of target (OBJ, FLAT, ARC or BIAS)"),
    ("OBSCOMM", "Science", "Science or Test"),
    ("RADECSYS", "FK5", "Equatorial coordinate system"),
    ("EQUINOX", Raw("2000.00"), "Equinox in years"),
    ("LAMPLIST", "lamphgcdne.dat", "Arc lamp emission line list"),
    ("SKYLIST", "skylines.dat", "Sky emission line list"),
    ("NEXP", REQUIRED, "Number of valid exposures"),
    ("NEXP_B", REQUIRED, "Number of valid blue exposures"),
    ("NEXP_R", REQUIRED, "Number of valid red exposures"),
    ("EXPT_B", REQUIRED, "[s] Blue exposure duration time", 2),
    ("EXPT_R", REQUIRED, "[s] Red exposure duration time", 2),
    ("EXPTIME", REQUIRED, "[s] Minimum of exposure time for all cameras", 2),
    ("BESTEXP", REQUIRED, "MJM of the best exposure"),
    ("SCAMEAN", REQUIRED, "[ADU] Mean level of scatter light", 2),
    _section("SPECTROGRAPH PARAMETERS"),
    ("SPID", REQUIRED, "Spectrograph ID"),
    ("SPRA", REQUIRED, "[deg] Average RA of this spectrograph", 7),
    ("SPDEC", REQUIRED, "[deg] Average DEC of this spectrograph", 7),
    ("SLIT_MOD", "x2/3", "Slit mode, x1, x2/3 or x1/2"),
    _section("WEATHER CONDITION"),
    ("TEMPCCDB", Raw("-999.00"), "[deg] The temperature of blue CCD"),
    ("TEMPCCDR", Raw("-999.00"), "[deg] The temperature of red CCD"),
    ("SEEING", REQUIRED, "[arcsec] Seeing during exposure", 2),
    ("MOONPHA", REQUIRED, "[day] Moon phase for a 29.53 days period", 2),
    ("TEMP_AIR", REQUIRED, "[deg] Temperature outside dome", 2),
    ("TEMP_FP", Raw("-999.00"), "[degree celsius] Temprature of the focalplane"),
    ("DEWPOINT", REQUIRED, "[deg]", 2),
    ("DUST", "", "Reservation"),
    ("HUMIDITY", REQUIRED, "", 2),
    ("WINDD", REQUIRED, "[deg] Wind direction", 2),
    ("WINDS", REQUIRED, "[m/s] Wind speed", 2),
    ("SKYLEVEL", "", "Reservation"),
    _section("DATA REDUCTION PARAMETERS"),
    ("EXTRACT", "aperture", "Extraction method"),
    ("SFLATTEN", True, "Super flat has been applied"),
    ("PCASKYSB", True, "PCA sky-subtraction has been applied"),
    ("NSKIES", REQUIRED, "Sky fiber number"),
    ("SKYCHI2", REQUIRED, "Mean chi^2 of sky-subtraction", 1),
    ("SCHI2MIN", REQUIRED, "Minimum chi^2 of sky-subtraction", 1),
    ("SCHI2MAX", REQUIRED, "Maximum chi^2 of sky-subtraction", 1),
    ("NSTD", REQUIRED, "Number of (good) standard stars"),
    ("FSTAR", REQUIRED, "FiberID of flux standard stars"),
    ("FCBY", REQUIRED, "Standard stars origin (auto, manual or catalog)"),
    ("HELIO", True, "Heliocentric correction"),
    ("HELIO_RV", REQUIRED, "[km/s] Heliocentric correction", 5),
    ("VACUUM", True, "Wavelengths are in vacuum"),
    ("NWORDER", 2, "Number of linear-log10 coefficients"),
    ("WFITTYPE", "LOG-LINEAR", "Linear-log10 dispersion"),
    ("COEFF0", Raw("3.5682"), "Central wavelength (log10) of first pixel"),
    ("COEFF1", Raw("0.0001"), "Log10 dispersion per pixel"),
    ("WAT0_001", "system=linear", ""),
    ("WAT1_001", "wtype=linear label=Wavelength units=Angstroms", ""),
    ("CRVAL1", Raw("3.5682"), "Central wavelength (log10) of first pixel"),
    ("CD1_1", Raw("0.0001"), "Log10 dispersion per pixel"),
    ("CRPIX1", 1, "Starting pixel (1-indexed)"),
    ("CTYPE1", "LINEAR", ""),
    ("DC-FLAG", 1, "Log-linear flag"),
    _section("SPECTRA ANALYSIS RESULTS"),
    ("VERSPIPE", "v2.9.7", "Version of Pipeline"),
    ("CLASS", REQUIRED, "Class of object"),
    ("SUBCLASS", REQUIRED, "Subclass of object"),
    ("Z", REQUIRED, "Redshift of object", 8),
    ("Z_ERR", REQUIRED, "Redshift error of object", 8),
    ("ZFLAG", "LASP", "Which method computes the redshift"),
    *[(f"SNR{b}", REQUIRED, f"SNR of {b.lower()} filter", 2) for b in "UGRIZ"],
)

#: DR9 keeps the DR7 keywords in an otherwise empty primary HDU.
_LAMOST_DR9 = tuple(c for c in _LAMOST_DR7 if c[0] not in ("EXTEN0", "N_EXTEN", "EXTNAME"))

_ONDREJOV_RAW = _cards(
    ("ORIGIN", "NOAO-IRAF FITS Image Kernel July 2003", "FITS file originator"),
    ("IRAF-TLM", REQUIRED, "Time of last modification"),
    ("OBJECT", REQUIRED, "Title of observation"),
    ("DATE", REQUIRED, "Date FITS file was generated"),
    ("OBSERVAT", "ONDREJOV", "Name of observatory (IRAF style)"),
    ("LATITUDE", 49.910555, "Telescope latitude  (degrees), +49:54:38.0"),
    ("LONGITUD", 14.783611, "Telescope longitud  (degrees), +14:47:01.0"),
    ("HEIGHT", Raw("0528"), "Height above sea level [m]."),
    ("OBSERVER", REQUIRED, "Observers"),
    ("IMAGETYP", "object", "Type of observation, eg. FLAT"),
    ("FILENAME", REQUIRED, "BIAS filename"),
    ("TELESCOP", "ZEISS-2m", "2m Ondrejov observatory telescope"),
    ("TELSYST", "COUDE", "Telescope setup - COUDE or CASSegrain"),
    ("EXPTIME", REQUIRED, "Length of observation excluding pauses", 3),
    ("DARKTIME", REQUIRED, "Length of observation including pauses", 3),
    ("EXPVAL", REQUIRED, "Exposure value in photon counts [Mcounts]", 3),
    ("DATE-OBS", REQUIRED, "UTC date start of observation"),
    ("TM_START", REQUIRED, REQUIRED),
    ("TM_END", REQUIRED, REQUIRED),
    ("COMMENT1", UNDEFINED, ""),
    ("UT", REQUIRED, "UTC of  start of observation"),
    ("INSTRUME", "COUDE700", "Coude spectrograph setup - 1400/700mm focus"),
    ("CAMERA", "BROR", "Camera head name"),
    ("DETECTOR", "SITe 2000x800", "Name of the detector"),
    ("CHIPID", "SITe005 800x2000", "Name of CCD chip"),
    ("BUNIT", "ADU", "Unit of the array of image data"),
    ("GAINM", "HIGH", "Gain mode"),
    ("AMPLM", "A", "Amplifier A,B or AB"),
    ("MPP", True, "Multiphase pinned mode (T/F)"),
    ("PREFLASH", 0, "Length of preflash in seconds"),
    ("GAIN", Raw("1.07"), "Electrons per ADU"),
    ("READNOIS", Raw("7.00"), "Readout noise in electrons per pix"),
    ("CCDTEMP", REQUIRED, "Detector temperature", 1),
    ("CCDXSIZE", 2030, "X Size in pixels of digitised frame"),
    ("CCDYSIZE", 800, "Y Size in pixels of digitised frame"),
    ("CCDXBIN", 1, "Binning factor, in X"),
    ("CCDYBIN", 1, "Binning factor, in Y"),
    ("CCDSUM", "1 1", "CCD binning in both axes"),
    ("GRATNAME", "3", "Grating name - ID"),
    ("GRATANG", 30.25, "30:15"),
    ("GRATPOS", 10889, "Grating angle in increments"),
    ("SLITTYPE", "BLADE", "Type of slit - blade or image slicers"),
    ("SLITWID", Raw("0.20"), "Slit width in mm"),
    ("FLATTYPE", "PROJECT", "Flat type (Projector/Dome)"),
    ("COMPLAMP", "ThAr-BS/15mA", "Comparison arc setup"),
    ("AUTOGUID", "NO", "Status of autoguider system"),
    ("RA", REQUIRED, REQUIRED),
    ("DEC", REQUIRED, REQUIRED),
    ("EQUINOX", 2000.0, "Equinox of RA and DEC"),
    ("EPOCH", 2000.0, "Same as EQUINOX - for back compat."),
    ("ST", REQUIRED, "Local sidereal time at start of observation"),
    ("AZIMUTH", REQUIRED, "Mean azimuth of observation (degrees)", 1),
    ("ZD", REQUIRED, "Mean horizon-distance of observation (degrees)", 1),
    ("CAT-EPOC", Raw("2000.00"), "Target epoch of proper motions"),
    ("WCSDIM", 1, "2"),
    ("LTM1_1", Raw("1."), None),
    ("WAT0_001", "system=equispec", None),
    ("WAT1_001", "wtype=linear label=Wavelength units=angstroms", None),
    ("TRIM", REQUIRED, None),
    ("OVERSCAN", REQUIRED, None),
    ("ZEROCOR", REQUIRED, None),
    ("FLATCOR", REQUIRED, None),
    ("CCDSEC", "[16:2012,430:570]", None),
    ("CCDPROC", REQUIRED, None),
    ("JD", REQUIRED, None),
    ("LJD", REQUIRED, None),
    ("AIRMASS", REQUIRED, None),
    ("UTMIDDLE", REQUIRED, None),
    ("BANDID1", "spectrum - background fit, weights variance, clean yes", None),
    ("APNUM1", REQUIRED, None),
    ("CTYPE1", "LINEAR", None),
    ("CRVAL1", REQUIRED, None),
    ("CRPIX1", Raw("1."), None),
    ("CDELT1", REQUIRED, None),
    ("CD1_1", REQUIRED, None),
    ("DC-FLAG", 0, "0"),
    ("DCLOG1", REQUIRED, None),
    ("DCLOG2", REQUIRED, None),
    ("DISPCOR", 0, None),
    ("HJD", REQUIRED, None),
    ("VHELIO", REQUIRED, None),
    ("VLSR", REQUIRED, None),
    ("VSUN", "   20.    18.    30.  1900.", None),
)

_SSAP_PRIMARY = _cards(
    ("ORIGIN", "ASU CAS Ondrejov DaCHS", "SSAP/DataLink service"),
    ("DATE", REQUIRED, "Date this file was written"),
    ("TELESCOP", "ZEISS-2m", "Ondrejov 2m Perek telescope"),
    ("INSTRUME", "CCD700", "Coude spectrograph, 700 mm camera"),
    ("OBJECT", REQUIRED, "Target name"),
    ("RA", REQUIRED, "[deg] ICRS right ascension of target"),
    ("DEC", REQUIRED, "[deg] ICRS declination of target"),
    ("DATE-OBS", REQUIRED, "UTC start of observation"),
    ("EXPTIME", REQUIRED, "[s] Exposure time"),
    ("DS_IDPUB", REQUIRED, "Publisher dataset identifier"),
    ("SPECSYS", "TOPOCENT", "Wavelengths are topocentric"),
    ("AIRORVAC", "air", "Wavelengths are in air"),
    ("FLUXNORM", "continuum", "Flux normalised to the continuum"),
)


_COMPILED: dict[int, list] = {}


def _compile(template) -> list:
    """Pre-render the static cards of a template; dynamic entries stay as tuples."""
    compiled = []
    for key, default, comment, decimals in template:
        if key in ("COMMENT", ""):
            compiled.append(card(key, default))
        elif default is REQUIRED or comment is REQUIRED:
            compiled.append((key, default, comment, decimals))
        else:
            if decimals is not None and isinstance(default, (float, int)):
                default = Raw(f"{float(default):.{decimals}f}")
            compiled.append(card(key, default, comment))
    return compiled


def _render(template, values: dict) -> list[str]:
    """Cards of ``template`` with REQUIRED values (and comments) taken from ``values``."""
    compiled = _COMPILED.get(id(template))
    if compiled is None:
        compiled = _COMPILED[id(template)] = _compile(template)
    cards = []
    for entry in compiled:
        if isinstance(entry, str):
            cards.append(entry)
            continue
        key, default, comment, decimals = entry
        value = values[key] if default is REQUIRED else default
        if comment is REQUIRED:
            comment = values[key + "#comment"]
        if decimals is not None and isinstance(value, (float, np.floating, int, np.integer)):
            value = Raw(f"{float(value):.{decimals}f}")
        cards.append(card(key, value, comment))
    return cards


def _be(array, dtype) -> bytes:
    return np.ascontiguousarray(array, dtype=np.dtype(dtype).newbyteorder(">")).tobytes()


def write_lamost(
    path: str | os.PathLike,
    layout: str,
    wave,
    flux,
    ivar,
    andmask,
    ormask,
    normalised,
    values: dict,
    gzipped: bool,
) -> int:
    """Write one LAMOST LRS spectrum in ``layout`` (see the module docstring).

    Parameters
    ----------
    path : path-like
        Destination (``.fits`` or ``.fits.gz``; compression follows ``gzipped``).
    layout : {"lamost-dr2-image", "lamost-dr7-image", "lamost-dr9-table"}
    wave, flux, ivar, andmask, ormask : ndarray
        The five rows of the spectrum (vacuum Å, flux, inverse variance, masks).
    normalised : ndarray
        Continuum-normalised flux (the DR9 NORMALIZATION column).
    values : dict
        Header values of the REQUIRED template keywords.
    gzipped : bool

    Returns
    -------
    int
        Bytes written.
    """
    level = GZIP_LEVEL if gzipped else None
    if layout == "lamost-dr2-image" or layout == "lamost-dr7-image":
        dtype = ">f8" if layout == "lamost-dr2-image" else ">f4"
        template = _LAMOST_DR2 if layout == "lamost-dr2-image" else _LAMOST_DR7
        data = np.empty((5, len(wave)), dtype=np.float64)
        data[0], data[1], data[2], data[3], data[4] = flux, ivar, wave, andmask, ormask
        head = image_cards(data.shape, -64 if dtype == ">f8" else -32)
        head += _render(template, values)
        return write_file(path, [(header_bytes(head), _be(data, dtype))], level)
    if layout == "lamost-dr9-table":
        primary = [
            card("SIMPLE", True, "conforms to FITS standard"),
            card("BITPIX", 8, "array data type"),
            card("NAXIS", 0, "number of array dimensions"),
            card("EXTEND", True),
        ] + _render(_LAMOST_DR9, values)
        n = len(wave)
        names = ("FLUX", "IVAR", "WAVELENGTH", "ANDMASK", "ORMASK", "NORMALIZATION")
        columns = [(name, ">f4", n, None) for name in names]
        table = bintable_cards(columns, 1)
        table.append(card("EXTNAME", "COADD", "name of this binary table extension"))
        payload = b"".join(
            _be(col, ">f4") for col in (flux, ivar, wave, andmask, ormask, normalised)
        )
        return write_file(
            path, [(header_bytes(primary), b""), (header_bytes(table), payload)], level
        )
    raise ValueError(f"unknown LAMOST layout {layout!r}")


def write_ondrejov_raw(path: str | os.PathLike, flux, values: dict) -> int:
    """Write a raw Ondřejov CCD700 frame: a 1-D ``>f4`` primary image with IRAF WCS."""
    head = [
        card("SIMPLE", True, "Fits standard"),
        card("BITPIX", -32, "Bits per pixel"),
        card("NAXIS", 1, "Number of axes"),
        card("NAXIS1", len(flux), "Axis length"),
        card("EXTEND", False, "File may contain extensions"),
    ] + _render(_ONDREJOV_RAW, values)
    return write_file(path, [(header_bytes(head), _be(flux, ">f4"))])


def write_ondrejov_ssap(path: str | os.PathLike, wave_air, flux, values: dict) -> int:
    """Write an Ondřejov SSAP product: table HDU with ``spectral`` (air Å) and ``flux``."""
    meta = _render(_SSAP_PRIMARY, values)
    primary = [
        card("SIMPLE", True, "conforms to FITS standard"),
        card("BITPIX", 8, "array data type"),
        card("NAXIS", 0, "number of array dimensions"),
        card("EXTEND", True),
    ] + meta
    columns = [("spectral", ">f8", 1, "Angstrom"), ("flux", ">f4", 1, None)]
    table = bintable_cards(columns, len(wave_air))
    table += [card("EXTNAME", "SPECTRUM", "Spectrum of one observation")]
    table += [c for c in meta if c[:8].strip() in ("OBJECT", "RA", "DEC", "DS_IDPUB", "DATE-OBS")]
    rows = np.empty(len(wave_air), dtype=[("spectral", ">f8"), ("flux", ">f4")])
    rows["spectral"] = wave_air
    rows["flux"] = flux
    return write_file(path, [(header_bytes(primary), b""), (header_bytes(table), rows.tobytes())])


#: SDSS fluxes are in 1e-17 erg/s/cm²/Å: the simulated LAMOST-like counts times this.
SDSS_FLUX_SCALE = 0.01


def write_sdss_spec(
    path: str | os.PathLike, wave, flux, ivar, andmask, ormask, values: dict, gzipped: bool
) -> int:
    """Write one spectrum as an SDSS ``spec-lite`` file (see the module docstring).

    Parameters
    ----------
    path : path-like
    wave, flux, ivar, andmask, ormask : ndarray
        Vacuum wavelengths (log-linear), flux and inverse variance in the simulated
        LAMOST-like units (scaled here by :data:`SDSS_FLUX_SCALE`), and the masks.
    values : dict
        PLATE, MJD, FIBERID, PLUG_RA, PLUG_DEC, RA, DEC (boresight), CLASS, SUBCLASS, Z,
        SN_MEDIAN (five bands u-z), SN_MEDIAN_ALL.
    gzipped : bool

    Returns
    -------
    int
        Bytes written.
    """
    primary = [
        card("SIMPLE", True, "conforms to FITS standard"),
        card("BITPIX", 8, "array data type"),
        card("NAXIS", 0, "number of array dimensions"),
        card("EXTEND", True),
        card("TELESCOP", "SDSS 2.5-M", "Sloan Digital Sky Survey"),
        card("PLATEID", values["PLATE"], "Current plate"),
        card("MJD", values["MJD"], "MJD of observation"),
        card("FIBERID", values["FIBERID"], "Fiber number"),
        card("RA", values["RA"], "RA of telescope boresight (deg)"),
        card("DEC", values["DEC"], "DEC of telescope boresight (deg)"),
        card("PLUG_RA", values["PLUG_RA"], "RA of the fiber (deg)"),
        card("PLUG_DEC", values["PLUG_DEC"], "DEC of the fiber (deg)"),
        card("RUN2D", "v5_13_2", "Spectroscopic 2D reduction (extraction) name"),
    ]
    n = len(wave)
    coadd_columns = [
        ("flux", ">f4", 1, None), ("loglam", ">f4", 1, None), ("ivar", ">f4", 1, None),
        ("and_mask", ">i4", 1, None), ("or_mask", ">i4", 1, None), ("wdisp", ">f4", 1, None),
        ("sky", ">f4", 1, None), ("model", ">f4", 1, None),
    ]  # fmt: skip
    rows = np.zeros(n, dtype=[(name, dtype) for name, dtype, _, _ in coadd_columns])
    rows["flux"] = np.asarray(flux) * SDSS_FLUX_SCALE
    rows["loglam"] = np.log10(np.asarray(wave, dtype=np.float64))
    rows["ivar"] = np.asarray(ivar) / SDSS_FLUX_SCALE**2
    rows["and_mask"], rows["or_mask"] = andmask, ormask
    rows["wdisp"] = 1.0
    rows["model"] = rows["flux"]
    coadd = bintable_cards(coadd_columns, n) + [card("EXTNAME", "COADD", "Coadded spectrum")]
    spall_columns = [
        ("PLATE", ">i4", 1, None), ("MJD", ">i4", 1, None), ("FIBERID", ">i4", 1, None),
        ("PLUG_RA", ">f8", 1, None), ("PLUG_DEC", ">f8", 1, None), ("CLASS", "S6", 1, None),
        ("SUBCLASS", "S21", 1, None), ("Z", ">f4", 1, None), ("SN_MEDIAN", ">f4", 5, None),
        ("SN_MEDIAN_ALL", ">f4", 1, None),
    ]  # fmt: skip
    spall_dtype = [
        (name, dtype, (repeat,)) if repeat > 1 else (name, dtype)
        for name, dtype, repeat, _ in spall_columns
    ]
    spall = np.zeros(1, dtype=spall_dtype)
    for name, dtype, _, _ in spall_columns:
        value = values[name]
        if isinstance(value, str):  # blank-padded, as IDL's mwrfits writes text
            value = value.ljust(np.dtype(dtype).itemsize).encode("ascii")
        spall[name] = value
    meta = bintable_cards(spall_columns, 1) + [card("EXTNAME", "SPALL", "spAll row")]
    return write_file(
        path,
        [
            (header_bytes(primary), b""),
            (header_bytes(coadd), rows.tobytes()),
            (header_bytes(meta), spall.tobytes()),
        ],
        GZIP_LEVEL if gzipped else None,
    )
