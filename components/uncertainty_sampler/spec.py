"""UncertaintySampler's contract: the keys of its inputs, outputs and parameters, the
names of its counts and custom properties, and its spec."""

from __future__ import annotations

from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter

from components.artifact_types import (
    Candidates,
    PerformanceSample,
    PoolScores,
    QueryBatch,
    RecallSample,
)

SCORES_KEY = "scores"
LABELLED_EXAMPLES_KEY = "labelled_examples"
QUERY_KEY = "query"
PERFORMANCE_SAMPLE_KEY = "performance_sample"
RECALL_SAMPLE_KEY = "recall_sample"
CANDIDATES_KEY = "candidates"

STRATEGY_KEY = "strategy"
QUERY_SIZE_KEY = "query_size"
PERFORMANCE_SAMPLE_SIZE_KEY = "performance_sample_size"
RECALL_SAMPLE_SIZE_KEY = "recall_sample_size"
RECALL_STRATA_KEY = "recall_strata"
POSITIVE_CLASSES_KEY = "positive_classes"
CLASS_NAMES_KEY = "class_names"
SEED_KEY = "seed"
ROUND_INDEX_KEY = "round_index"
MC_PASSES_KEY = "mc_passes"
DIVERSITY_FACTOR_KEY = "diversity_factor"
REEXAMINE_SIZE_KEY = "reexamine_size"
PREVIOUS_CANDIDATES_KEY = "previous_candidates"
NOVELTY_FRACTION_KEY = "novelty_fraction"

#: Names of the counts the executor's Beam pipeline writes (``{"name", "value"}`` rows):
#: spectra scored, labelled ones left out, predicted positives (candidates), confirmed
#: finds among them, lost candidates re-queried, predicted negatives, and the sizes of
#: the query, performance and recall samples actually drawn.
COUNT_SCORED = "scored"
COUNT_EXCLUDED = "excluded"
COUNT_CANDIDATES = "candidates"
COUNT_CONFIRMED = "confirmed"
COUNT_REEXAMINED = "reexamined"
COUNT_NEGATIVES = "negatives"
COUNT_QUERY = "query"
COUNT_PERFORMANCE = "performance"
COUNT_RECALL = "recall"
COUNT_NOVEL = "novel"

#: Integer custom properties of all four outputs. The sample sizes are those drawn (at
#: most the parameters of the same name); ``round_index`` and the string ``strategy``
#: record the parameters.
QUERY_SIZE_PROPERTY = QUERY_SIZE_KEY
PERFORMANCE_SAMPLE_SIZE_PROPERTY = PERFORMANCE_SAMPLE_SIZE_KEY
RECALL_SAMPLE_SIZE_PROPERTY = RECALL_SAMPLE_SIZE_KEY
NUM_CANDIDATES_PROPERTY = "num_candidates"
NUM_CONFIRMED_PROPERTY = "num_confirmed"
NUM_REEXAMINED_PROPERTY = "num_reexamined"
NUM_NOVEL_PROPERTY = "num_novel"
NUM_PREDICTED_NEGATIVE_PROPERTY = "num_predicted_negative"
NUM_SCORED_PROPERTY = "num_scored"
NUM_EXCLUDED_LABELLED_PROPERTY = "num_excluded_labelled"
ROUND_INDEX_PROPERTY = ROUND_INDEX_KEY
STRATEGY_PROPERTY = STRATEGY_KEY

#: Count name -> the custom property that records it, in the order they are logged.
COUNT_PROPERTIES = {
    COUNT_QUERY: QUERY_SIZE_PROPERTY,
    COUNT_PERFORMANCE: PERFORMANCE_SAMPLE_SIZE_PROPERTY,
    COUNT_RECALL: RECALL_SAMPLE_SIZE_PROPERTY,
    COUNT_CANDIDATES: NUM_CANDIDATES_PROPERTY,
    COUNT_CONFIRMED: NUM_CONFIRMED_PROPERTY,
    COUNT_REEXAMINED: NUM_REEXAMINED_PROPERTY,
    COUNT_NOVEL: NUM_NOVEL_PROPERTY,
    COUNT_NEGATIVES: NUM_PREDICTED_NEGATIVE_PROPERTY,
    COUNT_SCORED: NUM_SCORED_PROPERTY,
    COUNT_EXCLUDED: NUM_EXCLUDED_LABELLED_PROPERTY,
}


class UncertaintySamplerSpec(ComponentSpec):
    """Inputs, parameters and outputs of
    :class:`components.uncertainty_sampler.component.UncertaintySampler`."""

    PARAMETERS = {
        STRATEGY_KEY: ExecutionParameter(type=str),
        QUERY_SIZE_KEY: ExecutionParameter(type=int),
        PERFORMANCE_SAMPLE_SIZE_KEY: ExecutionParameter(type=int),
        RECALL_SAMPLE_SIZE_KEY: ExecutionParameter(type=int),
        RECALL_STRATA_KEY: ExecutionParameter(type=str),
        POSITIVE_CLASSES_KEY: ExecutionParameter(type=str),
        CLASS_NAMES_KEY: ExecutionParameter(type=str),
        SEED_KEY: ExecutionParameter(type=int),
        ROUND_INDEX_KEY: ExecutionParameter(type=int),
        # Absent in pipelines compiled before the bald and diverse_entropy strategies.
        MC_PASSES_KEY: ExecutionParameter(type=int, optional=True),
        DIVERSITY_FACTOR_KEY: ExecutionParameter(type=int, optional=True),
        # Absent in pipelines compiled before lost candidates were re-examined.
        REEXAMINE_SIZE_KEY: ExecutionParameter(type=int, optional=True),
        PREVIOUS_CANDIDATES_KEY: ExecutionParameter(type=str, optional=True),
        # Absent in pipelines compiled before the novelty share of the query.
        NOVELTY_FRACTION_KEY: ExecutionParameter(type=float, optional=True),
    }
    INPUTS = {
        SCORES_KEY: ChannelParameter(type=PoolScores),
        LABELLED_EXAMPLES_KEY: ChannelParameter(type=standard_artifacts.Examples, optional=True),
    }
    OUTPUTS = {
        QUERY_KEY: ChannelParameter(type=QueryBatch),
        PERFORMANCE_SAMPLE_KEY: ChannelParameter(type=PerformanceSample),
        RECALL_SAMPLE_KEY: ChannelParameter(type=RecallSample),
        CANDIDATES_KEY: ChannelParameter(type=Candidates),
    }
