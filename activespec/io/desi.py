"""Reader for DESI ``coadd-*.fits`` (and per-exposure ``spectra-*.fits``) files.

A DESI file holds many spectra: one row per target in FIBERMAP and in each camera's
``<C>_FLUX`` / ``<C>_IVAR`` / ``<C>_MASK`` images (the data model's facts live in
:mod:`activespec.io.datamodels`). :func:`read_desi` returns one of them:

* a file with a single spectrum is read as is (what :func:`split_desi_file` writes);
* otherwise the spectrum is chosen by TARGETID (``read_spectrum(..., desi_targetid=...)``);
  without one a :class:`~activespec.errors.MultiSpectrumError` says how many spectra the
  file holds. Everything downstream (ingestion, scoring, the labelling page) names a
  spectrum by its file, so a coadd is split into single-spectrum files first.

Only the camera whose wavelengths cover H-alpha (the R camera; else the nearest) is read.
Wavelengths are vacuum; fluxes are in 1e-17 erg/s/cm²/Å. A pixel whose MASK is nonzero
or whose IVAR is 0 is flagged bad.
"""

from __future__ import annotations

import math
import os
import pathlib

import numpy as np

from activespec.constants import H_ALPHA_VACUUM, R_DESI
from activespec.errors import MultiSpectrumError, NoFluxError, WrongShapeError
from activespec.io.assemble import assemble_spectrum
from activespec.io.datamodels import (
    DESI_DEC,
    DESI_FIBERMAP,
    DESI_FLUX_SUFFIX,
    DESI_IVAR_SUFFIX,
    DESI_MASK_SUFFIX,
    DESI_PROGRAM_KEY,
    DESI_RA,
    DESI_SCORES,
    DESI_SNR_PREFIX,
    DESI_SURVEY_KEY,
    DESI_TARGETID,
    DESI_WAVELENGTH_SUFFIX,
)
from activespec.io.detect import DESI_COADD, desi_cameras, is_binary_table
from activespec.io.headers import HeaderLookup
from activespec.io.identity import file_stem
from activespec.io.opening import OpenedFits
from activespec.io.tables import column_map, row_values
from activespec.spectrum import Spectrum, SpectrumMeta

SURVEY = "DESI"
INSTRUMENT_PREFIX = "DESI-"


def read_desi(opened: OpenedFits, *, targetid: int | None = None) -> Spectrum:
    """Read one spectrum of a DESI coadd/spectra file into a :class:`Spectrum`.

    Parameters
    ----------
    opened : OpenedFits
        A file :func:`activespec.io.detect_layout` found to be ``"desi-coadd"``.
    targetid : int, optional
        TARGETID of the spectrum to read; required when the file holds several.

    Returns
    -------
    Spectrum
        The camera covering H-alpha, vacuum wavelengths.

    Raises
    ------
    MultiSpectrumError
        Several spectra and no ``targetid``.
    NoFluxError
        An empty flux image, or no spectrum with ``targetid``.
    WrongShapeError
        Images or FIBERMAP whose shapes disagree.
    """
    hdus = {hdu.name.strip().upper(): hdu for hdu in opened.hdul[1:]}
    camera = _camera_covering_h_alpha(hdus, desi_cameras(opened.hdul))
    wave = hdus[camera + DESI_WAVELENGTH_SUFFIX].data
    flux = _spectra_image(hdus[camera + DESI_FLUX_SUFFIX], camera + DESI_FLUX_SUFFIX)
    n_spectra = flux.shape[0]
    fibermap = hdus.get(DESI_FIBERMAP)
    if fibermap is not None and not is_binary_table(fibermap):
        fibermap = None
    targetids = _targetids(fibermap, n_spectra)
    row = _chosen_row(targetids, n_spectra, targetid)

    ivar = bad = None
    if camera + DESI_IVAR_SUFFIX in hdus:
        ivar_image = _spectra_image(hdus[camera + DESI_IVAR_SUFFIX], camera + DESI_IVAR_SUFFIX)
        ivar = _same_shape(ivar_image, flux, camera + DESI_IVAR_SUFFIX)[row]
    if camera + DESI_MASK_SUFFIX in hdus:
        mask_image = _spectra_image(hdus[camera + DESI_MASK_SUFFIX], camera + DESI_MASK_SUFFIX)
        bad = _same_shape(mask_image, flux, camera + DESI_MASK_SUFFIX)[row] != 0

    lookup = HeaderLookup(
        row_values(fibermap, (DESI_TARGETID, DESI_RA, DESI_DEC), row)
        if fibermap is not None
        else None,
        opened.hdul[0].header,
    )
    spectrum = assemble_spectrum(
        wave, flux[row], ivar=ivar, bad=bad, medium="vacuum",
        meta=desi_meta(lookup, opened, camera=camera),
    )  # fmt: skip
    spectrum.meta.snr = _snr(hdus.get(DESI_SCORES), camera, row, n_spectra, spectrum.wave)
    return spectrum


def _camera_covering_h_alpha(hdus: dict, cameras: list[str]) -> str:
    """The first camera (blue to red) whose wavelengths cover H-alpha, else the nearest."""
    distances = []
    for camera in cameras:
        wave = hdus[camera + DESI_WAVELENGTH_SUFFIX].data
        if wave is None or np.ndim(wave) != 1:
            shape = "none" if wave is None else "x".join(map(str, np.shape(wave)))
            raise WrongShapeError(
                f"{camera}{DESI_WAVELENGTH_SUFFIX} has shape {shape}; expected 1-D"
            )
        finite = wave[np.isfinite(wave)]
        if finite.size == 0:
            distances.append(math.inf)
            continue
        low, high = float(finite.min()), float(finite.max())
        distances.append(max(low - H_ALPHA_VACUUM, H_ALPHA_VACUUM - high, 0.0))
    return cameras[int(np.argmin(distances))]


def _spectra_image(hdu, name: str) -> np.ndarray:
    """A camera image as [nspec, nwave] (a 1-D image is one spectrum)."""
    data = hdu.data
    if data is None or data.size == 0:
        raise NoFluxError(f"{name} is empty")
    if data.ndim == 1:
        return data[np.newaxis, :]
    if data.ndim != 2:
        raise WrongShapeError(f"{name} has {data.ndim} axes; expected [nspec, nwave]")
    return data


def _same_shape(image: np.ndarray, flux: np.ndarray, name: str) -> np.ndarray:
    if image.shape != flux.shape:
        raise WrongShapeError(
            f"{name} has shape {'x'.join(map(str, image.shape))}, "
            f"flux {'x'.join(map(str, flux.shape))}"
        )
    return image


def _targetids(fibermap, n_spectra: int) -> np.ndarray | None:
    if fibermap is None or DESI_TARGETID not in column_map(fibermap):
        return None
    n_rows = int(fibermap.header.get("NAXIS2", 0))
    if n_rows != n_spectra:
        raise WrongShapeError(f"{DESI_FIBERMAP} has {n_rows} rows for {n_spectra} spectra")
    return np.asarray(fibermap.data.field(column_map(fibermap)[DESI_TARGETID]))


def _chosen_row(targetids: np.ndarray | None, n_spectra: int, targetid: int | None) -> int:
    if targetid is None:
        if n_spectra == 1:
            return 0
        raise MultiSpectrumError(
            f"DESI file holds {n_spectra} spectra; choose one with desi_targetid, or split "
            "the file with activespec.io.desi.split_desi_file"
        )
    if targetids is not None:
        rows = np.flatnonzero(targetids == targetid)
        if rows.size:
            return int(rows[0])
    raise NoFluxError(f"no spectrum with TARGETID {targetid} in this DESI file")


def _snr(scores, camera: str, row: int, n_spectra: int, wave: np.ndarray) -> float | None:
    """The camera's median S/N per pixel: SCORES' S/N per √Å times √(pixel width)."""
    column = DESI_SNR_PREFIX + camera
    if scores is None or not is_binary_table(scores) or wave.size < 2:
        return None
    if int(scores.header.get("NAXIS2", 0)) != n_spectra:
        return None
    per_root_angstrom = HeaderLookup(row_values(scores, (column,), row)).number(column)
    if per_root_angstrom is None:
        return None
    return per_root_angstrom * math.sqrt(float(np.median(np.diff(wave))))


def desi_spectrum_id(lookup: HeaderLookup, opened: OpenedFits) -> str:
    """``f"desi-{SURVEY}-{PROGRAM}-{TARGETID}"`` when the primary header names the survey
    and programme (a target has one coadd per survey and programme), else
    ``f"desi-{TARGETID}"``; without TARGETID the file stem, else a SHA-1 of the bytes."""
    targetid = lookup.raw(DESI_TARGETID)  # int64: exact, never through a float
    if not isinstance(targetid, int) or isinstance(targetid, bool):
        return file_stem(opened.name) or opened.sha1()
    survey, program = lookup.string(DESI_SURVEY_KEY), lookup.string(DESI_PROGRAM_KEY)
    if survey and program:
        return f"desi-{survey.lower()}-{program.lower()}-{targetid}"
    return f"desi-{targetid}"


def desi_meta(lookup: HeaderLookup, opened: OpenedFits, *, camera: str) -> SpectrumMeta:
    """Metadata of a DESI spectrum from its FIBERMAP row and the primary header."""
    return SpectrumMeta(
        spectrum_id=desi_spectrum_id(lookup, opened),
        survey=SURVEY,
        instrument=INSTRUMENT_PREFIX + camera,
        layout=DESI_COADD,
        source=opened.source,
        ra=lookup.number(DESI_RA),
        dec=lookup.number(DESI_DEC),
        resolving_power=R_DESI,
    )


def split_desi_file(source, out_dir: str | os.PathLike) -> list[pathlib.Path]:
    """Write each spectrum of a DESI coadd/spectra file as a single-spectrum file.

    Each output keeps the data model (primary header, FIBERMAP row, every camera's
    WAVELENGTH, FLUX, IVAR, MASK and RESOLUTION rows, SCORES row; EXP_FIBERMAP rows of
    that target), so :func:`activespec.io.read_spectrum`, ingestion and scoring read it
    like any other file. Names are ``<input stem>-<TARGETID>.fits``.

    Parameters
    ----------
    source : str, os.PathLike or bytes
        The DESI file (plain or gzip-compressed).
    out_dir : str or os.PathLike
        Existing or new directory.

    Returns
    -------
    list of pathlib.Path
        The files written, in FIBERMAP order.

    Raises
    ------
    activespec.errors.SpectrumReadError
        When ``source`` is not a readable DESI file.
    """
    from astropy.io import fits

    from activespec.errors import UnknownLayoutError
    from activespec.io.detect import detect_layout
    from activespec.io.opening import gunzip_if_needed, parse_fits, read_source_bytes

    raw, path = read_source_bytes(source)
    hdul = parse_fits(gunzip_if_needed(raw))
    try:
        if detect_layout(hdul) != DESI_COADD:
            raise UnknownLayoutError("not a DESI coadd/spectra file")
        fibermap = next((h for h in hdul[1:] if h.name.upper() == DESI_FIBERMAP), None)
        if fibermap is None or DESI_TARGETID not in column_map(fibermap):
            raise NoFluxError(f"DESI file has no {DESI_FIBERMAP} {DESI_TARGETID} column")
        targetids = _targetids(fibermap, int(fibermap.header.get("NAXIS2", 0)))
        out = pathlib.Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        stem = file_stem(path) or "desi"
        written = []
        for row, targetid in enumerate(targetids.tolist()):
            hdus = [fits.PrimaryHDU(header=hdul[0].header.copy())]
            for hdu in hdul[1:]:
                hdus.append(_one_spectrum_hdu(hdu, row, targetid, len(targetids)))
            target = out / f"{stem}-{targetid}.fits"
            fits.HDUList(hdus).writeto(target, overwrite=True)
            written.append(target)
        return written
    finally:
        hdul.close()


def _one_spectrum_hdu(hdu, row: int, targetid: int, n_spectra: int):
    """``hdu`` cut down to spectrum ``row`` (tables by row or TARGETID, images by first axis)."""
    from astropy.io import fits

    name = hdu.name
    if isinstance(hdu, fits.CompImageHDU):
        return fits.CompImageHDU(hdu.data[row : row + 1], name=name)
    if isinstance(hdu, fits.BinTableHDU):
        data = hdu.data
        if data is not None and DESI_TARGETID in column_map(hdu) and len(data) != n_spectra:
            keep = np.asarray(data.field(column_map(hdu)[DESI_TARGETID])) == targetid
            return fits.BinTableHDU(data[keep], header=hdu.header.copy(), name=name)
        if data is not None and len(data) == n_spectra:
            return fits.BinTableHDU(data[row : row + 1], header=hdu.header.copy(), name=name)
        return hdu.copy()
    data = hdu.data
    if data is not None and data.ndim >= 2 and data.shape[0] == n_spectra:
        return fits.ImageHDU(data[row : row + 1], header=hdu.header.copy(), name=name)
    return fits.ImageHDU(data, header=hdu.header.copy(), name=name)
