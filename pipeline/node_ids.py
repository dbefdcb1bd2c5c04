"""Node ids of the round pipeline, shared by its definition (:mod:`pipeline.pipeline`) and
the readers of its runs (:func:`pipeline.local_runner.summarise_round`). TFX-free.

The custom and standard components keep their default ids (their class names); the two
ingestions of one component class are told apart by id.
"""

LABELLED_INGEST = "LabelledIngest"
POOL_INGEST = "PoolIngest"
LABEL_JOIN = "LabelJoin"
TRAINER = "Trainer"
EVALUATOR = "Evaluator"
PUSHER = "Pusher"
POOL_SCORER = "PoolScorer"
LABEL_SPREADING = "LabelSpreading"
NOVELTY_SCORER = "NoveltyScorer"
UNCERTAINTY_SAMPLER = "UncertaintySampler"
