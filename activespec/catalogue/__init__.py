"""The candidate catalogue of a campaign: build, cross-match, write, report, send over SAMP.

:func:`build_catalogue` turns the latest round's ``candidates.csv`` into an
:class:`astropy.table.Table` with units and UCDs, cross-matched with a catalogue of
known objects; :func:`write_catalogue` writes it as CSV and VOTable,
:func:`write_report` as a self-contained HTML report, and :func:`send_to_samp`
hands the VOTable and the spectra to TOPCAT, Aladin or SPLAT through a SAMP hub.
Only light modules are imported here; astropy's coordinates, matplotlib and SAMP load
when first used.
"""

from activespec.catalogue.build import COLUMNS, build_catalogue, count_summary, top_candidates
from activespec.catalogue.crossmatch import KnownCatalogue, crossmatch, load_known_catalogue
from activespec.catalogue.errors import CatalogueError, SampError
from activespec.catalogue.report import write_report
from activespec.catalogue.samp import send_to_samp
from activespec.catalogue.stats import precision_lower_bound
from activespec.catalogue.writers import write_catalogue, write_csv, write_votable

__all__ = [
    "COLUMNS",
    "CatalogueError",
    "KnownCatalogue",
    "SampError",
    "build_catalogue",
    "count_summary",
    "crossmatch",
    "load_known_catalogue",
    "precision_lower_bound",
    "send_to_samp",
    "top_candidates",
    "write_catalogue",
    "write_csv",
    "write_report",
    "write_votable",
]
