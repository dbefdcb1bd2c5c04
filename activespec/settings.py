"""Settings shared by the configuration and the components, each defined and checked once.

:class:`SamplingSettings` is the ``[sampling]`` section of the configuration
(:class:`pipeline.configs.SamplingSection`) and the base of the UncertaintySampler's
parameters (:class:`components.uncertainty_sampler.params.SamplerParams`), whose
defaults the component's arguments take. :func:`check_class_names` is the one check of
a list of class names; :data:`DISTRIBUTION_STRATEGIES` the one list of the Trainer's
distribution strategies. TensorFlow-free.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from activespec.constants import (
    DEFAULT_DIVERSITY_FACTOR,
    DEFAULT_MC_PASSES,
    DEFAULT_PERFORMANCE_SAMPLE_SIZE,
    DEFAULT_POSITIVE_CLASSES,
    DEFAULT_QUERY_SIZE,
    DEFAULT_RECALL_SAMPLE_SIZE,
    DEFAULT_RECALL_STRATA,
    DEFAULT_REEXAMINE_SIZE,
)
from activespec.errors import ConfigError
from activespec.recall import check_strata

#: How the query is chosen: by an uncertainty measure (:mod:`activespec.uncertainty`), by
#: BALD of Monte Carlo dropout passes, batch-diverse (the most uncertain of each k-means
#: cluster in the network's embedding) or at random (the baseline); see
#: :mod:`components.uncertainty_sampler.strategies`.
SAMPLING_STRATEGIES: tuple[str, ...] = (
    "entropy",
    "margin",
    "least_confidence",
    "bald",
    "diverse_entropy",
    "random",
)

#: The ``tf.distribute`` strategies the Trainer can fit under (``[distribution] strategy``);
#: what each one does is :mod:`models.strategy`.
DISTRIBUTION_STRATEGIES: tuple[str, ...] = ("auto", "default", "one_device", "mirrored", "tpu")

#: The labelled set's hash buckets: ``train`` fits, ``eval`` stops early, ``test`` is
#: held out for the Evaluator.
DEFAULT_LABELLED_SPLITS: dict[str, int] = {"train": 16, "eval": 2, "test": 2}


def check_class_names(class_names: Sequence[str], where: str = "class_names") -> tuple[str, ...]:
    """The class names as a tuple, checked: at least two distinct, non-empty strings.

    Parameters
    ----------
    class_names : sequence of str
    where : str, optional
        The setting's name, for the error message.

    Raises
    ------
    activespec.errors.ConfigError
        If ``class_names`` is one string, a mapping or not iterable, or has fewer than two
        names, a repeated, an empty or a non-string name.
    """
    if isinstance(class_names, (str, bytes, Mapping)):
        raise ConfigError(f"{where}: a sequence of class names, got {class_names!r}")
    try:
        names = tuple(class_names)
    except TypeError:
        raise ConfigError(f"{where}: a sequence of class names, got {class_names!r}") from None
    if (
        len(names) < 2
        or not all(isinstance(n, str) and n.strip() for n in names)
        or len(set(names)) != len(names)
    ):
        raise ConfigError(
            f"{where}: need at least two distinct, non-empty class names, got {list(names)}"
        )
    return names


@dataclasses.dataclass(frozen=True)
class SamplingSettings:
    """What each round asks the oracle to label, and how the query is chosen.

    The default 70 + 30 + 30 labels differ from the published setting (entropy, a query
    of 100 and a performance sample of 30): ``query_size = 100``,
    ``recall_sample_size = 0`` and ``reexamine_size = 0`` reproduce it.

    Attributes
    ----------
    strategy : {"entropy", "margin", "least_confidence", "bald", "diverse_entropy", "random"}
        How the query is chosen: highest entropy, smallest margin between the two most
        probable classes, highest ``1 - max p``, highest BALD (mutual information of
        ``mc_passes`` Monte Carlo dropout passes), the most uncertain (entropy) of each
        of ``query_size`` k-means clusters in the network's embedding, or a uniform
        random sample (the baseline).
    query_size : int
        Spectra to query (>= 1).
    performance_sample_size : int
        Spectra drawn uniformly among the predicted positives (>= 0; 0 disables), for a
        precision estimate.
    recall_sample_size : int
        Spectra drawn among the predicted negatives, stratified by positive score
        (>= 0; 0 disables), for a recall estimate; see :mod:`activespec.recall`.
    recall_strata : tuple of float
        Inner bounds of the recall sample's strata on the positive score (the summed
        probability of the positive classes).
    positive_classes : tuple of str
        Classes that make a spectrum a candidate (and count as positive in the samples).
    seed : int
        With the round index, fixes the random samples (and the random query, the
        dropout masks of ``bald`` and the k-means of ``diverse_entropy``).
    mc_passes : int
        Monte Carlo dropout passes per pool spectrum of ``bald`` (>= 1); only that
        strategy runs them. The passes repeat only the layers from the first dropout on
        (the dense layers of the published CNN), so 10 passes cost far less than 10
        scorings (measured: about 1.2 times the plain scoring).
    diversity_factor : int
        ``diverse_entropy`` clusters the ``diversity_factor * query_size`` most uncertain
        spectra (>= 1; 1 is plain entropy).
    reexamine_size : int
        Of the ``query_size``, at most this many are lost candidates (listed by the
        previous round, still unlabelled, now predicted negative), the highest positive
        score first; the rest are chosen by ``strategy`` (>= 0; 0 disables; a query
        smaller than this is all lost candidates, if there are as many).
    novelty_fraction : float
        Share of the query given to the most novel unlabelled spectra (the highest
        ``novelty`` score, :mod:`activespec.novelty`), after the lost candidates and
        before ``strategy``'s choice: ``round(novelty_fraction * query_size)`` spectra
        (0 to 1; 0, the default, disables). Needs the novelty scores (the pipeline's
        NoveltyScorer, ``[novelty] enabled``).
    """

    strategy: str = "entropy"
    query_size: int = DEFAULT_QUERY_SIZE
    performance_sample_size: int = DEFAULT_PERFORMANCE_SAMPLE_SIZE
    recall_sample_size: int = DEFAULT_RECALL_SAMPLE_SIZE
    recall_strata: tuple[float, ...] = DEFAULT_RECALL_STRATA
    positive_classes: tuple[str, ...] = DEFAULT_POSITIVE_CLASSES
    seed: int = 0
    mc_passes: int = DEFAULT_MC_PASSES
    diversity_factor: int = DEFAULT_DIVERSITY_FACTOR
    reexamine_size: int = DEFAULT_REEXAMINE_SIZE
    novelty_fraction: float = 0.0

    def validate(self, where: str = "sampling.") -> None:
        """Raise :class:`~activespec.errors.ConfigError` naming the first bad value.

        ``where`` prefixes each setting's name in the message (``"sampling."`` for the
        configuration, ``"UncertaintySampler: "`` for the component).
        """
        if self.strategy not in SAMPLING_STRATEGIES:
            raise ConfigError(
                f"{where}strategy: unknown strategy {self.strategy!r}; "
                f"use one of {', '.join(SAMPLING_STRATEGIES)}"
            )
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.type in ("int", int) and (
                not isinstance(value, int) or isinstance(value, bool)
            ):
                raise ConfigError(f"{where}{field.name} must be an integer, got {value!r}")
        if self.query_size < 1:
            raise ConfigError(f"{where}query_size must be >= 1, got {self.query_size}")
        for name in ("performance_sample_size", "recall_sample_size", "reexamine_size"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{where}{name} must be >= 0, got {getattr(self, name)}")
        check_strata(self.recall_strata, f"{where}recall_strata")
        for name in ("mc_passes", "diversity_factor"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{where}{name} must be >= 1, got {getattr(self, name)}")
        if not self.positive_classes:
            raise ConfigError(f"{where}positive_classes must name at least one class")
        fraction = self.novelty_fraction
        if (
            isinstance(fraction, bool)
            or not isinstance(fraction, (int, float))
            or not 0.0 <= fraction <= 1.0
        ):
            raise ConfigError(f"{where}novelty_fraction must be in [0, 1], got {fraction!r}")

    def novelty_query_size(self) -> int:
        """Spectra of the query chosen by novelty: ``round(novelty_fraction * query_size)``."""
        return min(self.query_size, int(round(self.novelty_fraction * self.query_size)))

    def check_positive_classes(self, class_names: Sequence[str], where: str = "sampling.") -> None:
        """Raise :class:`~activespec.errors.ConfigError` if a positive class is not among
        ``class_names``."""
        unknown = [name for name in self.positive_classes if name not in class_names]
        if unknown:
            raise ConfigError(
                f"{where}positive_classes: positive classes {unknown} are not among the "
                f"class names {list(class_names)}"
            )


#: The published sampling (Škoda, Podsztavek & Tvrdík 2020): 100 entropy queries and a
#: 30-spectrum performance sample, no recall sample, no re-examined lost candidates.
PUBLISHED_SAMPLING = SamplingSettings(
    query_size=100, performance_sample_size=30, recall_sample_size=0, reexamine_size=0
)


@dataclasses.dataclass(frozen=True)
class CrossmatchSettings:
    """``[crossmatch]``: the known objects ``activespec candidates`` marks candidates against.

    Either a catalogue file (``known``) or a TAP service (``tap`` and ``tap_table``); the
    command's ``--known``, ``--tap``, ``--tap-table`` and ``--radius`` override them. The
    cross-match itself is :mod:`activespec.catalogue.crossmatch` (file) and
    :mod:`activespec.vo.tap` (TAP).

    Attributes
    ----------
    known : str
        CSV, VOTable or FITS table of known objects (relative to the config file).
    tap : str
        TAP service URL (e.g. SIMBAD's ``https://simbad.cds.unistra.fr/simbad/sim-tap``).
    tap_table : str
        Its table of known objects (e.g. ``basic``).
    tap_ra, tap_dec, tap_name : str
        The table's columns, when their names and UCDs do not tell.
    radius_arcsec : float
        Largest separation of a match (> 0).
    retries : int
        Further attempts of a TAP query after a transient failure (>= 0).
    """

    known: str = ""
    tap: str = ""
    tap_table: str = ""
    tap_ra: str = ""
    tap_dec: str = ""
    tap_name: str = ""
    radius_arcsec: float = 3.0
    retries: int = 3

    def validate(self, where: str = "crossmatch.") -> None:
        """Raise :class:`~activespec.errors.ConfigError` naming the first bad value."""
        radius = self.radius_arcsec
        if (
            isinstance(radius, bool)
            or not isinstance(radius, (int, float))
            or not (0 < radius < float("inf"))
        ):
            raise ConfigError(f"{where}radius_arcsec must be a positive number, got {radius!r}")
        if self.known and self.tap:
            raise ConfigError(f"{where}known and {where}tap: give one catalogue, not both")
        if bool(self.tap) != bool(self.tap_table):
            raise ConfigError(f"{where}tap and {where}tap_table go together")
        if bool(self.tap_ra) != bool(self.tap_dec):
            raise ConfigError(f"{where}tap_ra and {where}tap_dec go together")
        if isinstance(self.retries, bool) or not isinstance(self.retries, int) or self.retries < 0:
            raise ConfigError(f"{where}retries must be an integer >= 0, got {self.retries!r}")
