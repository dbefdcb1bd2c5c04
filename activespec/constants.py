"""Physical and survey constants shared by readers, preprocessing and the simulator, and
the default sizes of what a round asks the oracle to label."""

#: Class names of the H-alpha profile, in label-index order (Škoda et al. 2020).
DEFAULT_CLASSES: tuple[str, ...] = ("other", "emission", "double-peak")

#: H-alpha rest wavelength in air and in vacuum [Å].
H_ALPHA_AIR = 6562.801
H_ALPHA_VACUUM = 6564.614
#: He I 6678 in air and vacuum [Å].
HE_I_6678_AIR = 6678.151
HE_I_6678_VACUUM = 6679.995

#: Nominal resolving powers of the two instruments at H-alpha.
R_ONDREJOV = 13_000.0
R_LAMOST_LRS = 1_800.0
R_LAMOST_MRS = 7_500.0
#: SDSS/BOSS (R≈1,800-2,200 over the range) and DESI's R camera (R≈3,200-4,100), near H-alpha.
R_SDSS = 2_000.0
R_DESI = 3_600.0

#: The published common grid: 140 points, 6519-6732 Å in vacuum.
GRID_START = 6519.0
GRID_STOP = 6732.0
GRID_POINTS = 140

# Labels asked for each round. The published setting (Škoda et al. 2020) is a query of
# 100 and a performance sample of 30 without a recall sample; the default keeps its 130
# labels per round but spends 30 of them on estimating recall.
#: Classes whose prediction makes a pool spectrum a candidate.
DEFAULT_POSITIVE_CLASSES: tuple[str, ...] = ("emission", "double-peak")
#: The most uncertain spectra, labelled to train the next model.
DEFAULT_QUERY_SIZE = 70
#: A random sample of the candidates, labelled to estimate precision.
DEFAULT_PERFORMANCE_SAMPLE_SIZE = 30
#: A score-stratified random sample of the spectra predicted ``other``, to estimate recall.
DEFAULT_RECALL_SAMPLE_SIZE = 30
#: Inner bounds of the recall sample's strata on the positive score s (the summed
#: probability of the positive classes): s < 0.01, 0.01-0.05, 0.05-0.2, 0.2-0.5, >= 0.5.
DEFAULT_RECALL_STRATA: tuple[float, ...] = (0.01, 0.05, 0.2, 0.5)
#: Stochastic forward passes (MC dropout) per pool spectrum of the ``bald`` strategy.
DEFAULT_MC_PASSES = 10
#: The ``diverse_entropy`` strategy clusters the ``DEFAULT_DIVERSITY_FACTOR * query_size``
#: most uncertain spectra into ``query_size`` clusters and queries the most uncertain of each.
DEFAULT_DIVERSITY_FACTOR = 5
#: Of each query, up to this many spectra are lost candidates: listed by the previous
#: round, unlabelled, and now predicted negative; they are shown again, most positive
#: first, instead of silently leaving the list.
DEFAULT_REEXAMINE_SIZE = 10

# Label spreading over a kNN graph (the 2016 system; activespec.label_spreading).
#: Neighbours per node (the 2016 example configuration).
DEFAULT_SPREADING_K = 5
#: Weight of the neighbours against a node's own label. The 2016 value is not recorded;
#: 0.99 is Zhou et al.'s (2004), which lets labels travel many hops.
DEFAULT_SPREADING_ALPHA = 0.99
#: The 2016 system's cap on the steps and its stopping rule (mean L1 change per row).
DEFAULT_SPREADING_ITERATIONS = 100
DEFAULT_SPREADING_TOLERANCE = 1e-3
#: Where the graph is built: the preprocessed flux vectors, or the CNN's embedding (the
#: input of its output layer) of them.
SPREADING_SPACES: tuple[str, ...] = ("flux", "embedding")
