"""Physical and survey constants shared by readers, preprocessing and the simulator."""

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

#: The published common grid: 140 points, 6519-6732 Å in vacuum.
GRID_START = 6519.0
GRID_STOP = 6732.0
GRID_POINTS = 140
