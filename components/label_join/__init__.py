"""LabelJoin: turn stored human labels into labelled examples without re-reading FITS files."""

from components.label_join.component import LabelJoin

__all__ = ["LabelJoin"]
