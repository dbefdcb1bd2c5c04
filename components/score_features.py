"""Feature keys of the scored-pool records (``activespec.PoolScores``)."""

from models import features

SPECTRUM_ID = features.SPECTRUM_ID
DESIGNATION = features.DESIGNATION
RA = features.RA
DEC = features.DEC
SNR = features.SNR
SURVEY = features.SURVEY
LAYOUT = features.LAYOUT
SOURCE = features.SOURCE
#: float_list, one probability per class, in the configured class order.
PROBABILITIES = "probabilities"
#: int64 index and bytes name of the most probable class.
PREDICTED_LABEL = "predicted_label"
PREDICTED_CLASS = "predicted_class"
#: Uncertainty measures (float): entropy in nats (higher = less sure), margin between the two
#: most probable classes (lower = less sure) and least confidence 1 - max p (higher = less sure).
ENTROPY = "entropy"
MARGIN = "margin"
LEAST_CONFIDENCE = "least_confidence"
#: Optional scores, written only when the sampling strategy needs them (the PoolScorer's
#: ``extra_scores``): BALD, the mutual information of Monte Carlo dropout passes (float,
#: nats, higher = the passes disagree more), and the network's embedding (float_list, the
#: output layer's input: 512 values for the published CNN).
BALD = "bald"
EMBEDDING = "embedding"
EXTRA_SCORES = (BALD, EMBEDDING)
#: Written by the NoveltyScorer beside the class scores (float): the distance to the
#: k-th nearest pool spectrum in the network's embedding (or the flux without a
#: network), higher = more unusual (:mod:`activespec.novelty`).
NOVELTY = "novelty"

#: Metadata copied unchanged from the pool examples.
PASSTHROUGH = (SPECTRUM_ID, DESIGNATION, RA, DEC, SNR, SURVEY, LAYOUT, SOURCE)
