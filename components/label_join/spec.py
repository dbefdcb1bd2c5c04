"""LabelJoin's contract: the keys of its inputs, outputs and parameters, and its spec."""

from __future__ import annotations

from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter

LABELLED_EXAMPLES_KEY = "labelled_examples"
POOL_EXAMPLES_KEY = "pool_examples"
EXAMPLES_KEY = "examples"
LABELS_KEY = "labels"
LABELS_DIGEST_KEY = "labels_digest"
CLASS_NAMES_KEY = "class_names"
TARGET_SPLIT_KEY = "target_split"
POOL_SPLIT_KEY = "pool_split"

#: Custom properties of the output: labels in the snapshot, pool examples that got one,
#: labels without a pool example, and a sample of those (JSON list).
NUM_LABELS_PROPERTY = "num_labels"
NUM_JOINED_PROPERTY = "num_joined"
NUM_UNMATCHED_PROPERTY = "num_unmatched"
UNMATCHED_SAMPLE_PROPERTY = "unmatched_sample"


class LabelJoinSpec(ComponentSpec):
    """Inputs, parameters and outputs of :class:`components.label_join.component.LabelJoin`."""

    PARAMETERS = {
        LABELS_KEY: ExecutionParameter(type=str, optional=True),
        LABELS_DIGEST_KEY: ExecutionParameter(type=str, optional=True),
        CLASS_NAMES_KEY: ExecutionParameter(type=str),
        TARGET_SPLIT_KEY: ExecutionParameter(type=str),
        POOL_SPLIT_KEY: ExecutionParameter(type=str),
    }
    INPUTS = {
        LABELLED_EXAMPLES_KEY: ChannelParameter(type=standard_artifacts.Examples),
        POOL_EXAMPLES_KEY: ChannelParameter(type=standard_artifacts.Examples),
    }
    OUTPUTS = {EXAMPLES_KEY: ChannelParameter(type=standard_artifacts.Examples)}
