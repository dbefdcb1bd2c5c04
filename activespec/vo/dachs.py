"""A local GAVO DaCHS server publishing the project's real test spectra (SSAP, DataLink, TAP).

DaCHS is the server the Ondřejov archive and GAVO's LAMOST services run; Debian packages
it as ``gavodachs2-server``. :class:`LocalDachs` installs it when missing (as root, with
``apt-get``; PostgreSQL must run before the package's post-install step), publishes a
directory of FITS spectra through the resource descriptor ``activespec_test.rd`` (an
SSAP service whose records carry a DataLink service: the FITS file itself, and a derived
Spectral Data Model table with ``FLUXCALIB`` and ``BAND`` processing; plus a table of
known objects for TAP) and runs ``dachs serve debug`` on 127.0.0.1 on a free port.

The tests (``tests/vo``) start it once per session; developers run ``make dachs``
(``python -m activespec.vo.dachs serve``), which keeps it in the foreground.

Spectra are read with :func:`activespec.io.read_spectrum` to fill the SSAP metadata
(position, object, wavelength range) and the DataLink's derived spectra, so every
published spectrum is one the project's readers accept.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence

from activespec.vo.errors import DachsUnavailableError

#: The default resource name: its directory under DaCHS's inputs directory (the RD is
#: ``<name>/q``) and its database schema. Tests use one name per server, so that two
#: test sessions (or xdist workers) never share tables.
DEFAULT_NAME = "activespec"
#: The schema attribute of the shipped RD, replaced by the resource name.
_RD_SCHEMA = '<resource schema="activespec">'
#: The RD shipped with this module.
RD_TEMPLATE = pathlib.Path(__file__).with_name("activespec_test.rd")
#: The authority of the publisher DIDs (``ivo://<authority>/~?<accref>``).
AUTHORITY = "activespec.test"
DEFAULT_INPUTS_DIR = pathlib.Path("/var/gavo/inputs")
#: How long ``dachs serve`` may take to answer.
START_TIMEOUT_S = 120.0
#: Every ``KNOWN_EVERY``-th published spectrum's object goes into the known-objects table,
#: ``KNOWN_OFFSET_ARCSEC`` away; the next one's ``NEAR_OFFSET_ARCSEC`` away (see
#: :func:`known_objects`).
KNOWN_EVERY = 3
KNOWN_OFFSET_ARCSEC = 1.0
NEAR_OFFSET_ARCSEC = 6.0
#: Known objects away from every test spectrum (they must never match).
EXTRA_KNOWN = (
    ("Vega", 279.234735, 38.783689, "Star"),
    ("gamma Cas", 14.177215, 60.716740, "Be*"),
)
_APT_ENV = {"DEBIAN_FRONTEND": "noninteractive"}


@dataclasses.dataclass(frozen=True)
class PublishedSpectrum:
    """One spectrum of the SSAP service."""

    file: str  # path relative to the published directory (``lamost/spec-...fits``)
    accref: str
    pubdid: str
    spectrum_id: str  # as activespec.io reads it from the original file
    object: str
    ra: float | None
    dec: float | None
    survey: str
    size: int


@dataclasses.dataclass(frozen=True)
class KnownObject:
    name: str
    ra: float
    dec: float
    otype: str


def ensure_installed(log: Callable[[str], None] = print) -> None:
    """Make ``dachs`` available and its PostgreSQL running; install them if needed.

    Raises
    ------
    DachsUnavailableError
        When DaCHS is missing and this is not root on a machine with ``apt-get``, or the
        installation failed (the message quotes the end of its output).
    """
    if shutil.which("dachs") is None:
        if os.geteuid() != 0:
            raise DachsUnavailableError(
                "GAVO DaCHS is not installed and installing it needs root "
                "(apt-get install gavodachs2-server)"
            )
        if shutil.which("apt-get") is None:
            raise DachsUnavailableError(
                "GAVO DaCHS is not installed and there is no apt-get to install "
                "gavodachs2-server with (a Debian or Ubuntu machine is needed)"
            )
        log("installing GAVO DaCHS (apt-get install gavodachs2-server) ...")
        _run(["apt-get", "update", "-qq"], "apt-get update")
        # The server package's post-install step creates its database: PostgreSQL must
        # run by then, and Debian's policy-rc.d in containers keeps it from starting.
        _run(["apt-get", "install", "-y", "-qq", "postgresql"], "install PostgreSQL")
        start_postgres()
        _run(
            ["apt-get", "install", "-y", "-qq", "gavodachs2-server"],
            "install gavodachs2-server",
            check=False,
        )
        _run(["dpkg", "--configure", "-a"], "dpkg --configure -a")
        if shutil.which("dachs") is None:
            raise DachsUnavailableError("apt-get install gavodachs2-server left no dachs command")
    start_postgres()


def start_postgres() -> None:
    """Start every PostgreSQL cluster that is down (Debian's ``pg_ctlcluster``)."""
    if shutil.which("pg_lsclusters") is None:
        raise DachsUnavailableError("PostgreSQL's pg_lsclusters is missing (postgresql-common)")
    for version, cluster in _clusters_down():
        if os.geteuid() != 0:
            raise DachsUnavailableError(
                f"PostgreSQL cluster {version}/{cluster} is down; start it as root "
                f"(pg_ctlcluster {version} {cluster} start)"
            )
        try:
            _run(["pg_ctlcluster", version, cluster, "start"], "start PostgreSQL")
        except DachsUnavailableError:
            # another process (a second test worker) may have started it meanwhile
            if (version, cluster) in _clusters_down():
                raise


def _clusters_down() -> list[tuple[str, str]]:
    listing = subprocess.run(
        ["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=False
    )
    fields = [line.split() for line in listing.stdout.splitlines()]
    return [(f[0], f[1]) for f in fields if len(f) >= 4 and f[3] == "down"]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pubdid_of(accref: str) -> str:
    """DaCHS's standard publisher DID of a product (``//ssap#setMeta`` with ``\\standardPubDID``)."""
    return f"ivo://{AUTHORITY}/~?{accref}"


class LocalDachs:
    """Publish FITS spectra with a local DaCHS and serve them on 127.0.0.1.

    Parameters
    ----------
    spectra_dir : path-like
        Folder of FITS spectra, searched recursively (``tests/data/real``).
    state_dir : path-like
        Where the server's settings file and log go.
    port : int, optional
        Default: a free port.
    name : str, optional
        Resource directory and database schema (default ``activespec``); a letter, then
        letters, digits and underscores.
    inputs_dir : path-like, optional
        DaCHS's inputs directory (``/var/gavo/inputs``); the resource goes to
        ``inputs_dir/activespec``.
    """

    def __init__(
        self,
        spectra_dir,
        state_dir,
        *,
        port: int | None = None,
        name: str = DEFAULT_NAME,
        inputs_dir=DEFAULT_INPUTS_DIR,
        log: Callable[[str], None] = print,
    ) -> None:
        self.spectra_dir = pathlib.Path(spectra_dir)
        self.state_dir = pathlib.Path(state_dir)
        self.port = port or free_port()
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name):
            raise ValueError(f"resource name must be an SQL identifier, not {name!r}")
        self.name = name
        self.rd_id = f"{name}/q"
        self.inputs_dir = pathlib.Path(inputs_dir)
        self.resource_dir = self.inputs_dir / name
        self.log = log
        self.spectra: list[PublishedSpectrum] = []
        self.known: list[KnownObject] = []
        self.skipped: list[tuple[str, str]] = []
        self._process: subprocess.Popen | None = None

    # URLs ---------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ssap_url(self) -> str:
        return f"{self.base_url}/{self.rd_id}/ssa/ssap.xml"

    @property
    def datalink_url(self) -> str:
        return f"{self.base_url}/{self.rd_id}/dl/dlmeta"

    @property
    def tap_url(self) -> str:
        return f"{self.base_url}/tap"

    @property
    def known_table(self) -> str:
        return f"{self.name}.known"

    @property
    def settings_path(self) -> pathlib.Path:
        return self.state_dir / "gavo.rc"

    @property
    def log_path(self) -> pathlib.Path:
        return self.state_dir / "dachs-serve.log"

    # Publishing ---------------------------------------------------------------------
    def publish(self) -> None:
        """Copy the spectra into the resource directory, write its tables, import them."""
        # fitsio-free: activespec.io is astropy + numpy
        from activespec.io import read_spectrum

        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._write_settings()
        try:
            if self.resource_dir.exists():
                shutil.rmtree(self.resource_dir)
            self.resource_dir.mkdir(parents=True)
        except PermissionError as err:
            raise DachsUnavailableError(
                f"cannot write DaCHS's inputs directory ({err.filename}): run as root or as a "
                "member of the gavo group"
            ) from None
        data_dir = self.resource_dir / "data"
        sdm_dir = self.resource_dir / "sdm"
        rows = []
        self.spectra, self.skipped = [], []
        for path in sorted(self.spectra_dir.rglob("*")):
            if not path.is_file() or not path.name.lower().endswith(_FITS_ENDINGS):
                continue
            relative = path.relative_to(self.spectra_dir).as_posix()
            try:
                spectrum = read_spectrum(path)
            except Exception as err:  # publish what the readers accept; say what not
                self.skipped.append((relative, f"{type(err).__name__}: {err}"))
                continue
            target = data_dir / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            _write_sdm_sidecar(sdm_dir / f"{relative}.txt", spectrum)
            meta = spectrum.meta
            accref = f"{self.name}/data/{relative}"
            good = spectrum.wave[~spectrum.mask] if (~spectrum.mask).any() else spectrum.wave
            row = {
                "path": accref,
                "fsize": target.stat().st_size,
                "title": f"{meta.survey} {meta.designation or meta.spectrum_id}",
                "object": meta.designation or "",
                "ra": "" if meta.ra is None else f"{meta.ra:.7f}",
                "dec": "" if meta.dec is None else f"{meta.dec:.7f}",
                "wave_min": f"{float(good.min()):.4f}",
                "wave_max": f"{float(good.max()):.4f}",
                "n_pixels": spectrum.n_pixels,
                "snr": "" if meta.snr is None else f"{meta.snr:.3f}",
                "survey": meta.survey,
                "source_id": meta.spectrum_id,
            }
            rows.append(row)
            self.spectra.append(
                PublishedSpectrum(
                    file=relative,
                    accref=accref,
                    pubdid=pubdid_of(accref),
                    spectrum_id=meta.spectrum_id,
                    object=meta.designation or "",
                    ra=meta.ra,
                    dec=meta.dec,
                    survey=meta.survey,
                    size=row["fsize"],
                )
            )
        if not rows:
            raise DachsUnavailableError(f"no readable FITS spectra under {self.spectra_dir}")
        _write_csv(self.resource_dir / "spectra.csv", rows)
        self.known = known_objects(self.spectra)
        _write_csv(
            self.resource_dir / "known.csv",
            [dataclasses.asdict(k) for k in self.known],
        )
        rd_text = RD_TEMPLATE.read_text(encoding="utf-8")
        if _RD_SCHEMA not in rd_text:
            raise DachsUnavailableError(f"{RD_TEMPLATE} lacks {_RD_SCHEMA}")
        rd_text = rd_text.replace(_RD_SCHEMA, f'<resource schema="{self.name}">')
        (self.resource_dir / "q.rd").write_text(rd_text, encoding="utf-8")
        self._dachs(["imp", "q"], "dachs imp")
        self._dachs(["limits", "q"], "dachs limits", check=False)
        self._dachs(["pub", "q"], "dachs pub")
        (self.state_dir / "published.json").write_text(
            json.dumps(
                {
                    "ssap": self.ssap_url,
                    "tap": self.tap_url,
                    "known_table": self.known_table,
                    "spectra": [dataclasses.asdict(s) for s in self.spectra],
                    "known": [dataclasses.asdict(k) for k in self.known],
                    "skipped": self.skipped,
                },
                indent=1,
            )
        )
        self.log(
            f"published {len(self.spectra)} spectra and {len(self.known)} known objects "
            f"({len(self.skipped)} files skipped) in {self.resource_dir}"
        )

    # Serving ------------------------------------------------------------------------
    def start(self, timeout: float = START_TIMEOUT_S) -> None:
        """Run ``dachs serve debug`` in the background and wait until TAP answers."""
        self._write_settings()
        handle = self.log_path.open("ab")
        self._process = subprocess.Popen(
            ["dachs", "serve", "debug"],
            stdout=handle,
            stderr=subprocess.STDOUT,
            env=self._env(),
            cwd=self.state_dir,
            start_new_session=True,
        )
        handle.close()
        deadline = time.monotonic() + timeout
        probe = f"{self.base_url}/__system__/tap/run/capabilities"
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise DachsUnavailableError(
                    f"dachs serve exited with status {self._process.returncode}: {self.log_tail()}"
                )
            try:
                with urllib.request.urlopen(probe, timeout=5) as answer:
                    if answer.status == 200:
                        self.log(f"DaCHS serves {self.base_url} (log {self.log_path})")
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.5)
        self.stop()
        raise DachsUnavailableError(
            f"dachs serve did not answer on {self.base_url} within {timeout:g} s: {self.log_tail()}"
        )

    def stop(self) -> None:
        """Stop the server started by :meth:`start` (its whole process group)."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        except ProcessLookupError:
            pass

    def drop(self) -> None:
        """Drop the resource's tables and publication, and remove its directory."""
        if (self.resource_dir / "q.rd").is_file():
            self._dachs(["drop", "q"], "dachs drop", check=False)
        shutil.rmtree(self.resource_dir, ignore_errors=True)

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(text[-lines:])

    def __enter__(self) -> LocalDachs:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # Helpers ------------------------------------------------------------------------
    def _write_settings(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.settings_path.write_text(
            "[general]\n"
            f"inputsDir: {self.inputs_dir}\n"
            "[web]\n"
            "bindAddress: 127.0.0.1\n"
            f"serverPort: {self.port}\n"
            f"serverURL: {self.base_url}\n"
            "[ivoa]\n"
            f"authority: {AUTHORITY}\n"
        )

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
        env["GAVOSETTINGS"] = str(self.settings_path)
        return env

    def _dachs(self, args: Sequence[str], what: str, *, check: bool = True) -> None:
        _run(["dachs", *args], what, env=self._env(), cwd=self.resource_dir, check=check)


def known_objects(spectra: Sequence[PublishedSpectrum]) -> list[KnownObject]:
    """The known objects of the TAP table.

    Of the spectra with a position: every :data:`KNOWN_EVERY`-th one's object, placed
    :data:`KNOWN_OFFSET_ARCSEC` away (a match at 3 arcsec); the next one's, as ``near
    <object>``, placed :data:`NEAR_OFFSET_ARCSEC` away (no match at 3 arcsec, a match at
    10); and :data:`EXTRA_KNOWN`, far from all.
    """
    located = [s for s in spectra if s.ra is not None and s.dec is not None]
    known = []
    for i, spectrum in enumerate(located):
        name = spectrum.object or spectrum.spectrum_id
        if i % KNOWN_EVERY == 0:
            ra, dec = _offset(spectrum.ra, spectrum.dec, KNOWN_OFFSET_ARCSEC)
            known.append(KnownObject(name, ra, dec, "Star"))
        elif i % KNOWN_EVERY == 1:
            ra, dec = _offset(spectrum.ra, spectrum.dec, NEAR_OFFSET_ARCSEC)
            known.append(KnownObject(f"near {name}", ra, dec, "Star"))
    known += [KnownObject(*extra) for extra in EXTRA_KNOWN]
    return known


def _offset(ra: float, dec: float, arcsec: float) -> tuple[float, float]:
    """The position ``arcsec`` north of (ra, dec)."""
    return float(ra), float(dec) + arcsec / 3600.0


_FITS_ENDINGS = (".fits", ".fit", ".fts", ".fits.gz", ".fit.gz", ".fts.gz")


def _write_sdm_sidecar(path: pathlib.Path, spectrum) -> None:
    """Wavelength (in air) and flux of the good pixels: the DataLink's derived spectrum.

    Derived spectra are served in air wavelengths, as the Ondřejov archive serves its
    own (the readers take an SSAP table's wavelengths as air).
    """
    import numpy as np

    from activespec.preprocessing.wavelength import vacuum_to_air

    path.parent.mkdir(parents=True, exist_ok=True)
    good = ~spectrum.mask & np.isfinite(spectrum.flux)
    wave = spectrum.wave[good]
    if spectrum.medium == "vacuum":
        wave = vacuum_to_air(wave)
    np.savetxt(path, np.column_stack([wave, spectrum.flux[good]]), fmt="%.9g")


def _write_csv(path: pathlib.Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _run(command, what: str, *, env=None, cwd=None, check: bool = True) -> None:
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        env={**os.environ, **_APT_ENV} if env is None else env,
        cwd=cwd,
        check=False,
    )
    if check and result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise DachsUnavailableError(f"{what} failed (exit {result.returncode}):\n{tail}")


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m activespec.vo.dachs serve``: install, publish and serve until Ctrl-C."""
    parser = argparse.ArgumentParser(
        prog="python -m activespec.vo.dachs",
        description="A local GAVO DaCHS serving the project's real test spectra over "
        "SSAP/DataLink and known objects over TAP (installs gavodachs2-server as root).",
    )
    parser.add_argument("action", choices=["serve", "install"])
    parser.add_argument("--port", type=int, default=8080, help="default 8080 (0: a free port)")
    parser.add_argument(
        "--spectra",
        default=str(pathlib.Path(__file__).resolve().parents[2] / "tests" / "data" / "real"),
        help="folder of FITS spectra to publish (default tests/data/real)",
    )
    parser.add_argument("--state-dir", default=".dachs", help="settings and log (default .dachs)")
    args = parser.parse_args(argv)
    try:
        ensure_installed()
        if args.action == "install":
            return 0
        server = LocalDachs(args.spectra, args.state_dir, port=args.port or None)
        server.publish()
        # SIGTERM (kill, a supervisor) stops the server as Ctrl-C does: `with` cleans up
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        with server:
            server.start()
            print(f"SSAP      {server.ssap_url}")
            print(f"DataLink  {server.datalink_url}?ID=<publisher DID>")
            print(f"TAP       {server.tap_url}  (known objects: {server.known_table})")
            print("Ctrl-C stops the server.")
            while server._process is not None and server._process.poll() is None:
                time.sleep(1)
            print(f"dachs serve stopped: {server.log_tail()}", file=sys.stderr)
            return 1
    except DachsUnavailableError as err:
        print(f"dachs: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
