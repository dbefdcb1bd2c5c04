"""Generate FITS files for the reader tests from the real spectra in tests/data/real.

Two kinds of files:

* layouts that exist in the archives but have no real sample here, written from
  real spectra exactly as documented (LAMOST DR9+ one-row table, Ondřejov
  SSAP/DataLink table, float32 copies of float64 images, gzip copies);
* a broken-file corpus: truncations, random bytes, empty files, wrong shapes,
  NaN flux, bad wavelengths, an enormous but valid header.
"""

from __future__ import annotations

import dataclasses
import gzip
import io
import pathlib

import numpy as np
from astropy.io import fits

from activespec import errors

REAL_DIR = pathlib.Path(__file__).resolve().parents[1] / "data" / "real"
DR1_FILE = REAL_DIR / "lamost" / "spec-55862-B6212_sp06-003.fits"
DR2_FILE = REAL_DIR / "lamost" / "spec-56257-GAC089N38V2_sp01-001.fits"
DR7_FILE = REAL_DIR / "lamost" / "spec-58397-EG014118N254444M01_sp03-031.fits"
DR6_GZ_FILE = REAL_DIR / "lamost" / "spec-57287-KP193637N444141V03_sp10-161.fits.gz"
MRS_FILE = REAL_DIR / "lamost" / "med-58408-TD230151N343645T01_sp01-015.fits"
ZERO_FLUX_FILE = REAL_DIR / "lamost" / "spec-55862-B6212_sp06-145.fits"
ONDREJOV_FILE = REAL_DIR / "ondrejov" / "oe270005.fits"

#: Header keywords a DR9+ LRS file carries (identity, position, classification, S/N).
LAMOST_META_KEYS = (
    "OBSID", "LMJD", "PLANID", "SPID", "FIBERID", "RA", "DEC", "DESIG",
    "CLASS", "SUBCLASS", "SNRU", "SNRG", "SNRR", "SNRI", "SNRZ", "VACUUM",
)  # fmt: skip


def _primary_image(path: pathlib.Path) -> tuple[fits.Header, np.ndarray]:
    with fits.open(path) as hdul:
        return hdul[0].header.copy(), np.array(hdul[0].data)


def write_dr9_table(
    out: pathlib.Path, *, source: pathlib.Path = DR7_FILE, keys_in: str = "primary"
) -> pathlib.Path:
    """Write a LAMOST DR9+-style LRS file from a real DR2-DR8 5xN image.

    HDU 0 is header-only; HDU 1 (EXTNAME COADD) is a one-row binary table with
    array columns FLUX, IVAR, WAVELENGTH, ANDMASK, ORMASK. ``keys_in`` puts the
    metadata keywords in the "primary" header, the "table" header, or "both".
    """
    header, image = _primary_image(source)
    n_pixels = image.shape[1]
    columns = [
        fits.Column("FLUX", format=f"{n_pixels}E", array=image[0:1].astype(">f4")),
        fits.Column("IVAR", format=f"{n_pixels}E", array=image[1:2].astype(">f4")),
        fits.Column("WAVELENGTH", format=f"{n_pixels}D", array=image[2:3].astype(">f8")),
        fits.Column("ANDMASK", format=f"{n_pixels}J", array=image[3:4].astype(">i4")),
        fits.Column("ORMASK", format=f"{n_pixels}J", array=image[4:5].astype(">i4")),
    ]
    table = fits.BinTableHDU.from_columns(columns, name="COADD")
    primary = fits.PrimaryHDU()
    primary.header["DATA_V"] = "LAMOST LRS DR9"
    for key in LAMOST_META_KEYS:
        if key not in header:
            continue
        if keys_in in ("primary", "both"):
            primary.header[key] = header[key]
        if keys_in in ("table", "both"):
            table.header[key] = header[key]
    fits.HDUList([primary, table]).writeto(out)
    return out


def write_ssap_table(
    out: pathlib.Path,
    *,
    source: pathlib.Path = ONDREJOV_FILE,
    unit: str = "Angstrom",
    descending: bool = False,
    ds_idpub: str | None = "ivo://asu.cas.cz/stel/ccd700/oe270005",
) -> pathlib.Path:
    """Write an Ondřejov SSAP/DataLink-style table from the real raw CCD700 image.

    HDU 1 holds one row per pixel with columns ``spectral`` (air wavelength in
    ``unit``) and ``flux`` (normalised by the median, as the service serves it);
    the primary header has OBJECT, RA, DEC (J2000 degrees) and DS_IDPUB.
    """
    header, flux = _primary_image(source)
    wave = header["CRVAL1"] + header["CDELT1"] * (np.arange(flux.size) + 1 - header["CRPIX1"])
    scale = {"Angstrom": 1.0, "nm": 0.1, "m": 1e-10}[unit]
    normalised = flux / np.median(flux)
    if descending:
        wave, normalised = wave[::-1], normalised[::-1]
    table = fits.BinTableHDU.from_columns(
        [
            fits.Column("spectral", format="D", unit=unit, array=wave * scale),
            fits.Column("flux", format="E", array=normalised.astype(np.float32)),
        ]
    )
    primary = fits.PrimaryHDU()
    primary.header["OBJECT"] = header["OBJECT"]
    primary.header["RA"] = 329.28466
    primary.header["DEC"] = 61.26851
    if ds_idpub is not None:
        primary.header["DS_IDPUB"] = ds_idpub
    fits.HDUList([primary, table]).writeto(out)
    return out


#: Values written into the synthesised SDSS files' SPALL/SPECOBJ row and primary header.
SDSS_PLATE, SDSS_MJD, SDSS_FIBERID = 7512, 56777, 396
SDSS_PLUG_RA, SDSS_PLUG_DEC = 147.25511, 25.427147
SDSS_CLASS, SDSS_SUBCLASS, SDSS_Z = "STAR", "A0", 0.000123
SDSS_SN_MEDIAN = (3.5, 20.25, 31.5, 28.0, 12.0)


def _lamost_image_rows(path: pathlib.Path):
    """Flux, ivar, vacuum wavelength and and-mask rows of a real DR2-DR8 LRS image."""
    _, image = _primary_image(path)
    return image[0], image[1], image[2], image[3]


def write_sdss_spec(
    out: pathlib.Path,
    *,
    source: pathlib.Path = DR7_FILE,
    lite: bool = True,
    metadata: str | None = "SPALL",
) -> pathlib.Path:
    """Write an SDSS ``spec``/``spec-lite`` file (DR8-DR17 data model) from a real LAMOST
    LRS spectrum (LAMOST's grid is log-linear with SDSS's step, 1e-4 in log10 Å).

    HDU 0 has PLATEID, MJD, FIBERID, PLUG_RA/PLUG_DEC and the boresight RA/DEC (elsewhere
    on purpose); HDU 1 ``COADD`` one row per pixel: flux, loglam, ivar, and_mask, or_mask,
    wdisp, sky, model; HDU 2 ``metadata`` (``"SPALL"`` as BOSS, ``"SPECOBJ"`` as SDSS-I/II,
    None: left out) with PLATE, MJD, FIBERID, PLUG_RA, PLUG_DEC, CLASS, SUBCLASS, Z,
    SN_MEDIAN, SN_MEDIAN_ALL; HDU 3 ``SPZLINE``; a full ``spec`` (``lite=False``) adds a
    per-exposure HDU.
    """
    flux, ivar, wave, andmask = _lamost_image_rows(source)
    n_pixels = flux.size
    loglam = np.log10(wave.astype(np.float64)).astype(np.float32)
    primary = fits.PrimaryHDU()
    for key, value in (
        ("TELESCOP", "SDSS 2.5-M"), ("PLATEID", SDSS_PLATE), ("MJD", SDSS_MJD),
        ("FIBERID", SDSS_FIBERID), ("RA", 150.0), ("DEC", 20.0),
        ("PLUG_RA", SDSS_PLUG_RA), ("PLUG_DEC", SDSS_PLUG_DEC), ("RUN2D", "v5_13_2"),
    ):  # fmt: skip
        primary.header[key] = value
    coadd = fits.BinTableHDU.from_columns(
        [
            fits.Column("flux", format="E", array=flux.astype(np.float32)),
            fits.Column("loglam", format="E", array=loglam),
            fits.Column("ivar", format="E", array=ivar.astype(np.float32)),
            fits.Column("and_mask", format="J", array=andmask.astype(np.int32)),
            fits.Column("or_mask", format="J", array=andmask.astype(np.int32)),
            fits.Column("wdisp", format="E", array=np.full(n_pixels, 1.1, np.float32)),
            fits.Column("sky", format="E", array=np.zeros(n_pixels, np.float32)),
            fits.Column("model", format="E", array=flux.astype(np.float32)),
        ],
        name="COADD",
    )
    hdus = [primary, coadd]
    if metadata is not None:
        hdus.append(
            fits.BinTableHDU.from_columns(
                [
                    fits.Column("PROGRAMNAME", format="16A", array=["boss"]),
                    fits.Column("PLATE", format="J", array=[SDSS_PLATE]),
                    fits.Column("MJD", format="J", array=[SDSS_MJD]),
                    fits.Column("FIBERID", format="J", array=[SDSS_FIBERID]),
                    fits.Column("PLUG_RA", format="D", array=[SDSS_PLUG_RA]),
                    fits.Column("PLUG_DEC", format="D", array=[SDSS_PLUG_DEC]),
                    fits.Column("CLASS", format="6A", array=[SDSS_CLASS]),
                    fits.Column("SUBCLASS", format="21A", array=[SDSS_SUBCLASS]),
                    fits.Column("Z", format="E", array=[SDSS_Z]),
                    fits.Column("SN_MEDIAN", format="5E", array=[SDSS_SN_MEDIAN]),
                    fits.Column("SN_MEDIAN_ALL", format="E", array=[22.0]),
                ],
                name=metadata,
            )
        )
    hdus.append(
        fits.BinTableHDU.from_columns(
            [
                fits.Column("PLATE", format="J", array=[SDSS_PLATE] * 2),
                fits.Column("LINENAME", format="13A", array=["H_alpha", "H_beta"]),
                fits.Column("LINEWAVE", format="D", array=[6564.61, 4862.68]),
                fits.Column("LINEZ", format="E", array=[SDSS_Z] * 2),
            ],
            name="SPZLINE",
        )
    )
    if not lite:
        exposure = fits.BinTableHDU.from_columns(
            [
                fits.Column("loglam", format="E", array=loglam),
                fits.Column("flux", format="E", array=flux.astype(np.float32)),
                fits.Column("ivar", format="E", array=ivar.astype(np.float32)),
                fits.Column("mask", format="J", array=andmask.astype(np.int32)),
            ],
            name="R1-00123456",
        )
        hdus.append(exposure)
    fits.HDUList(hdus).writeto(out)
    return out


#: The synthesised DESI files: survey, programme, TARGETIDs, cameras' grids [Å, 0.8 Å steps].
DESI_SURVEY, DESI_PROGRAM = "main", "dark"
DESI_TARGETIDS = (39627652591521181, 39627652591521182, 39627652591521183)
DESI_GRIDS = {"B": (3600.0, 2751), "R": (5760.0, 2326), "Z": (7520.0, 2881)}
DESI_SNR_R = 4.5
#: Pixels of every camera whose MASK has bit 31 set (besides LAMOST's ANDMASK ones).
DESI_MASKED_PIXELS = slice(1000, 1005)
DESI_SOURCES = (DR7_FILE, DR2_FILE, DR6_GZ_FILE)


def desi_grid(camera: str) -> np.ndarray:
    start, n_pixels = DESI_GRIDS[camera]
    return start + 0.8 * np.arange(n_pixels)


def write_desi_coadd(
    out: pathlib.Path,
    *,
    sources: tuple[pathlib.Path, ...] = DESI_SOURCES,
    header: bool = True,
    compress_mask: bool = True,
) -> pathlib.Path:
    """Write a DESI ``coadd-SURVEY-PROGRAM-PIXNUM.fits`` (data model of the healpix coadds)
    holding one spectrum per real LAMOST LRS file of ``sources``, interpolated onto each
    camera's 0.8 Å grid (zero outside LAMOST's range, with ivar 0 and MASK bit 1 there;
    MASK bit 31 where LAMOST's ANDMASK is set and at :data:`DESI_MASKED_PIXELS`).

    HDUs: PRIMARY (SURVEY, PROGRAM, HPX* keys when ``header``), FIBERMAP (TARGETID,
    TARGET_RA, TARGET_DEC, OBJTYPE), EXP_FIBERMAP (two exposures per target), then per
    camera B, R, Z: ``<C>_WAVELENGTH`` float64, ``<C>_FLUX``/``<C>_IVAR`` float32
    [nspec, nwave], ``<C>_MASK`` uint32 (tile-compressed as DESI writes it, else a plain
    BZERO-scaled image), ``<C>_RESOLUTION`` float32 [nspec, 11, nwave]; SCORES.
    """
    rows = [_lamost_image_rows(path) for path in sources]
    n_spectra = len(rows)
    targetids = np.array(DESI_TARGETIDS[:n_spectra], dtype=np.int64)
    primary = fits.PrimaryHDU()
    if header:
        for key, value in (
            ("SURVEY", DESI_SURVEY), ("PROGRAM", DESI_PROGRAM), ("HPXNSIDE", 64),
            ("HPXPIXEL", 38863), ("HPXNEST", True), ("SPGRP", "healpix"),
        ):  # fmt: skip
            primary.header[key] = value
    fibermap = fits.BinTableHDU.from_columns(
        [
            fits.Column("TARGETID", format="K", array=targetids),
            fits.Column("COADD_FIBERSTATUS", format="J", array=np.zeros(n_spectra)),
            fits.Column("TARGET_RA", format="D", array=150.0 + np.arange(n_spectra)),
            fits.Column("TARGET_DEC", format="D", array=2.5 + np.arange(n_spectra)),
            fits.Column("OBJTYPE", format="3A", array=["TGT"] * n_spectra),
        ],
        name="FIBERMAP",
    )
    exp_fibermap = fits.BinTableHDU.from_columns(
        [
            fits.Column("TARGETID", format="K", array=np.repeat(targetids, 2)),
            fits.Column("NIGHT", format="J", array=[20210514, 20210515] * n_spectra),
            fits.Column("EXPID", format="J", array=np.arange(2 * n_spectra) + 88000),
        ],
        name="EXP_FIBERMAP",
    )
    hdus = [primary, fibermap, exp_fibermap]
    for camera in DESI_GRIDS:
        wave = desi_grid(camera)
        flux = np.zeros((n_spectra, wave.size), np.float32)
        ivar = np.zeros_like(flux)
        mask = np.zeros(flux.shape, np.uint32)
        for i, (f, v, w, m) in enumerate(rows):
            inside = (wave >= w[0]) & (wave <= w[-1])
            flux[i, inside] = np.interp(wave[inside], w, f)
            ivar[i, inside] = np.interp(wave[inside], w, v)
            mask[i, ~inside] = 1
            bad = np.interp(wave, w, (m != 0).astype(float), left=0, right=0) > 0
            mask[i, bad] |= np.uint32(2**31)  # a high bit: the unsigned storage matters
            mask[i, DESI_MASKED_PIXELS] |= np.uint32(2**31)
        hdus.append(fits.ImageHDU(wave, name=f"{camera}_WAVELENGTH"))
        hdus[-1].header["BUNIT"] = "Angstrom"
        hdus.append(fits.ImageHDU(flux, name=f"{camera}_FLUX"))
        hdus[-1].header["BUNIT"] = "10**-17 erg/(s cm2 Angstrom)"
        hdus.append(fits.ImageHDU(ivar, name=f"{camera}_IVAR"))
        mask_hdu = fits.CompImageHDU if compress_mask else fits.ImageHDU
        hdus.append(mask_hdu(mask, name=f"{camera}_MASK"))
        resolution = np.zeros((n_spectra, 11, wave.size), np.float32)
        resolution[:, 5, :] = 1.0
        hdus.append(fits.ImageHDU(resolution, name=f"{camera}_RESOLUTION"))
    hdus.append(
        fits.BinTableHDU.from_columns(
            [fits.Column("TARGETID", format="K", array=targetids)]
            + [
                fits.Column(f"MEDIAN_COADD_SNR_{camera}", format="E", array=[value] * n_spectra)
                for camera, value in (("B", 2.0), ("R", DESI_SNR_R), ("Z", 3.0))
            ],
            name="SCORES",
        )
    )
    fits.HDUList(hdus).writeto(out)
    return out


def write_float32_copy(out: pathlib.Path, source: pathlib.Path = DR2_FILE) -> pathlib.Path:
    """Write ``source`` (a float64 5xN LRS image) with its data cast to float32."""
    header, image = _primary_image(source)
    fits.PrimaryHDU(image.astype(np.float32), header=header).writeto(out)
    return out


def write_gzip_copy(out: pathlib.Path, source: pathlib.Path) -> pathlib.Path:
    """Write a gzip-compressed copy of ``source``."""
    out.write_bytes(gzip.compress(source.read_bytes(), compresslevel=6, mtime=0))
    return out


def write_enormous_header(out: pathlib.Path, n_cards: int = 5000) -> pathlib.Path:
    """Write a valid DR7 LRS file whose primary header carries ``n_cards`` extra cards.

    The cards are spliced into the real file's bytes before its END card (astropy's
    ``Header.extend`` takes seconds for thousands of cards).
    """
    raw = DR7_FILE.read_bytes()
    with fits.open(DR7_FILE) as hdul:
        data_start = hdul[0].fileinfo()["datLoc"]
    cards = [raw[i : i + 80] for i in range(0, data_start, 80)]
    end = next(i for i, card in enumerate(cards) if card.startswith(b"END     "))
    filler = [
        fits.Card(f"X{i:07d}", float(i), "filler card").image.encode("ascii")
        for i in range(n_cards)
    ]
    header = b"".join(cards[:end] + filler) + b"END".ljust(80)
    header += b" " * (-len(header) % 2880)
    out.write_bytes(header + raw[data_start:])
    return out


@dataclasses.dataclass(frozen=True)
class BrokenCase:
    """One broken file and the error the reader must raise for it."""

    name: str
    path: pathlib.Path
    error: type[errors.SpectrumReadError]


def _modified_image(out: pathlib.Path, source: pathlib.Path, edit) -> pathlib.Path:
    header, image = _primary_image(source)
    image, header = edit(image, header)
    hdu = fits.PrimaryHDU(image, header=header)
    hdu.writeto(out)
    return out


def _nan_flux(image, header):
    image = image.copy()
    image[0] = np.nan
    return image, header


def _three_rows(image, header):
    return image[:3].copy(), header


def _shuffled_wavelengths(image, header):
    image = image.copy()
    image[2, 1000:1010] = image[2, 1000:1010][::-1]
    return image, header


def _negative_wavelengths(image, header):
    image = image.copy()
    image[2] = image[2] - 5000.0
    return image, header


def _two_dimensional_ondrejov(image, header):
    return np.vstack([image, image]), header


def _ondrejov_without_wcs(image, header):
    for key in ("CRVAL1", "CDELT1", "CD1_1"):
        del header[key]
    return image, header


def _unknown_table(out: pathlib.Path) -> pathlib.Path:
    table = fits.BinTableHDU.from_columns(
        [fits.Column("A", format="E", array=np.arange(5)), fits.Column("B", format="J")]
    )
    fits.HDUList([fits.PrimaryHDU(), table]).writeto(out)
    return out


def _empty_primary(out: pathlib.Path) -> pathlib.Path:
    fits.PrimaryHDU().writeto(out)
    return out


def _mrs_without_coadds(out: pathlib.Path) -> pathlib.Path:
    with fits.open(MRS_FILE) as hdul:
        kept = [hdul[0].copy()] + [h.copy() for h in hdul[3:]]
    kept[0].header["N_EXTEN"] = len(kept)
    fits.HDUList(kept).writeto(out)
    return out


def edited_sdss(out: pathlib.Path, edit) -> pathlib.Path:
    """Write the synthesised SDSS file with ``edit`` (a function of the HDU list) applied."""
    write_sdss_spec(out.with_suffix(".src"))
    with fits.open(out.with_suffix(".src")) as hdul:
        hdus = edit([hdu.copy() for hdu in hdul])
    fits.HDUList(hdus).writeto(out)
    out.with_suffix(".src").unlink()
    return out


def sdss_nan_flux(hdus):
    hdus[1].data["flux"][:] = np.nan
    return hdus


def sdss_without_loglam(hdus):
    columns = [c for c in hdus[1].columns if c.name != "loglam"]
    hdus[1] = fits.BinTableHDU.from_columns(columns, name="COADD")
    return hdus


def edited_desi(out: pathlib.Path, edit, sources=DESI_SOURCES[:1]) -> pathlib.Path:
    """Write a synthesised DESI file with ``edit`` (a function of the HDU list) applied."""
    write_desi_coadd(out.with_suffix(".src"), sources=sources)
    with fits.open(out.with_suffix(".src")) as hdul:
        hdus = edit([hdu.copy() for hdu in hdul])
    fits.HDUList(hdus).writeto(out)
    out.with_suffix(".src").unlink()
    return out


def desi_short_ivar(hdus):
    index = next(i for i, hdu in enumerate(hdus) if hdu.name == "R_IVAR")
    hdus[index] = fits.ImageHDU(hdus[index].data[:, :100], name="R_IVAR")
    return hdus


def build_broken_corpus(directory: pathlib.Path) -> list[BrokenCase]:
    """Write the broken-file corpus into ``directory``.

    Returns
    -------
    list of BrokenCase
        Every file with the typed error :func:`activespec.io.read_spectrum` must raise.
    """
    directory.mkdir(parents=True, exist_ok=True)
    cases: list[BrokenCase] = []

    def add(name: str, error, content: bytes | None = None, writer=None) -> None:
        path = directory / name
        if content is not None:
            path.write_bytes(content)
        else:
            writer(path)
        cases.append(BrokenCase(name, path, error))

    dr1 = DR1_FILE.read_bytes()
    mrs = MRS_FILE.read_bytes()
    # Truncations: inside the first card, mid-header, at the header end, inside the
    # data, one byte short of the data, and inside a later MRS extension.
    for cut in (40, 1000, 2880, 11520, 40000, 89599):
        add(f"truncated-dr1-at-{cut}.fits", errors.TruncatedFileError, dr1[:cut])
    # (the last MRS HDU ends with 2576 bytes of padding: cut past it)
    for cut in (78760, 500000, len(mrs) - 3000):
        add(f"truncated-mrs-at-{cut}.fits", errors.TruncatedFileError, mrs[:cut])
    gz = DR6_GZ_FILE.read_bytes()
    for cut in (5, 200, len(gz) // 2, len(gz) - 3):
        add(f"truncated-gzip-at-{cut}.fits.gz", errors.TruncatedFileError, gz[:cut])
    # A complete gzip of a FITS file that was itself truncated.
    add("gzip-of-truncated.fits.gz", errors.TruncatedFileError, gzip.compress(dr1[:50000], mtime=0))

    rng = np.random.default_rng(20240611)
    add("random-bytes.fits", errors.NotFitsError, rng.bytes(20000))
    add("empty.fits", errors.NotFitsError, b"")
    add("html-error-page.fits", errors.NotFitsError, b"<!DOCTYPE html><html>404</html>\n")
    add("random-after-gzip-magic.fits.gz", errors.NotFitsError, b"\x1f\x8b" + rng.bytes(3000))
    add("empty-primary.fits", errors.NoFluxError, writer=_empty_primary)
    add("unknown-table.fits", errors.UnknownLayoutError, writer=_unknown_table)
    add("mrs-without-coadds.fits", errors.NoFluxError, writer=_mrs_without_coadds)
    add(
        "nan-flux.fits",
        errors.AllNaNError,
        writer=lambda p: _modified_image(p, DR2_FILE, _nan_flux),
    )
    add(
        "three-rows.fits",
        errors.WrongShapeError,
        writer=lambda p: _modified_image(p, DR7_FILE, _three_rows),
    )
    add(
        "ondrejov-2d.fits",
        errors.WrongShapeError,
        writer=lambda p: _modified_image(p, ONDREJOV_FILE, _two_dimensional_ondrejov),
    )
    add(
        "non-monotonic-wavelength.fits",
        errors.BadWavelengthError,
        writer=lambda p: _modified_image(p, DR2_FILE, _shuffled_wavelengths),
    )
    add(
        "negative-wavelength.fits",
        errors.BadWavelengthError,
        writer=lambda p: _modified_image(p, DR7_FILE, _negative_wavelengths),
    )
    add(
        "ondrejov-no-wcs.fits",
        errors.BadWavelengthError,
        writer=lambda p: _modified_image(p, ONDREJOV_FILE, _ondrejov_without_wcs),
    )
    # SDSS and DESI files written from the data models, broken the same ways.
    sdss = io.BytesIO()
    write_sdss_spec(sdss)
    sdss = sdss.getvalue()
    add("truncated-sdss.fits", errors.TruncatedFileError, sdss[: len(sdss) // 2])
    add(
        "sdss-nan-flux.fits",
        errors.AllNaNError,
        writer=lambda p: edited_sdss(p, sdss_nan_flux),
    )
    add(
        "sdss-no-loglam.fits",
        errors.BadWavelengthError,
        writer=lambda p: edited_sdss(p, sdss_without_loglam),
    )
    add("desi-three-spectra.fits", errors.MultiSpectrumError, writer=write_desi_coadd)
    add(
        "desi-short-ivar.fits",
        errors.WrongShapeError,
        writer=lambda p: edited_desi(p, desi_short_ivar),
    )
    return cases
