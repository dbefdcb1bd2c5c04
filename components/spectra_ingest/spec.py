"""SpectraIngest's contract: the keys of its outputs, parameters and custom properties,
and its spec."""

from __future__ import annotations

from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter

from components.artifact_types import RejectedFiles

FILE_PATTERNS_KEY = "file_patterns"
FILE_LIST_KEY = "file_list"
LABELS_KEY = "labels"
CLASS_NAMES_KEY = "class_names"
PREPROCESSING_KEY = "preprocessing"
DEGRADE_RESOLUTION_KEY = "degrade_resolution"
SPLITS_KEY = "splits"
INPUT_FINGERPRINT_KEY = "input_fingerprint"

EXAMPLES_KEY = "examples"
REJECTIONS_KEY = "rejections"

#: Custom properties of both outputs: spectra read, rejected, and rejections per code
#: (a JSON object); the examples also carry ``num_examples_<split>``.
NUM_INGESTED_PROPERTY = "num_ingested"
NUM_REJECTED_PROPERTY = "num_rejected"
REJECTIONS_BY_CODE_PROPERTY = "rejections_by_code"
NUM_EXAMPLES_PROPERTY_PREFIX = "num_examples_"


class SpectraIngestSpec(ComponentSpec):
    """Parameters and outputs of :class:`components.spectra_ingest.component.SpectraIngest`
    (lists and dicts as JSON strings)."""

    PARAMETERS = {
        FILE_PATTERNS_KEY: ExecutionParameter(type=str),
        FILE_LIST_KEY: ExecutionParameter(type=str, optional=True),
        LABELS_KEY: ExecutionParameter(type=str, optional=True),
        CLASS_NAMES_KEY: ExecutionParameter(type=str),
        PREPROCESSING_KEY: ExecutionParameter(type=str),
        DEGRADE_RESOLUTION_KEY: ExecutionParameter(type=bool),
        SPLITS_KEY: ExecutionParameter(type=str),
        INPUT_FINGERPRINT_KEY: ExecutionParameter(type=str, optional=True),
    }
    INPUTS: dict[str, ChannelParameter] = {}
    OUTPUTS = {
        EXAMPLES_KEY: ChannelParameter(type=standard_artifacts.Examples),
        REJECTIONS_KEY: ChannelParameter(type=RejectedFiles),
    }
