"""Every default and bound of the planner, named once.

Public functions, the scenario schema and the command line take their
defaults from here, so that "500 m" or "300 m to the street" is written in
one place. Bounds (floors and ceilings) protect against settings that would
take hours or terabytes; each is enforced by :mod:`coverage._validate`, whose
messages name the setting.
"""

from __future__ import annotations

from typing import Final

# --- the question -----------------------------------------------------------

DEFAULT_RADIUS_M: Final = 500.0
"""Walking distance of Shenzhen's "500-metre service circle"."""

DEFAULT_WALK_SPEED_KMH: Final = 4.5
"""Walking speed that turns minutes into metres (75 m a minute)."""

GROUP_WALK_SPEED_KMH: Final[dict[str, float]] = {"residents": 4.5, "elderly": 3.6}
"""Default walking speed per demand group (the elderly walk about 60 m a minute)."""

MAX_RADIUS_M: Final = 50_000.0
"""Largest radius accepted: beyond it the question is not a walk."""

MIN_WALK_SPEED_KMH: Final = 0.5
MAX_WALK_SPEED_KMH: Final = 20.0

# --- snapping -----------------------------------------------------------------

DEFAULT_MAX_SNAP_M: Final = 300.0
"""Largest walk from a point (hall, resident) to its nearest street."""

# --- demand and candidates ----------------------------------------------------

DEFAULT_DEMAND_SPACING_M: Final = 50.0
"""Spacing of residents spread along streets."""

DEFAULT_CANDIDATE_SPACING_M: Final = 50.0
"""Spacing of candidate sites along streets."""

MIN_SPACING_M: Final = 1.0
"""Smallest spacing of points along streets (finer only costs memory)."""

# --- service-area outlines ----------------------------------------------------

DEFAULT_BUFFER_M: Final = 25.0
"""Half-width of the walkable band drawn around reached streets."""

MIN_RESOLUTION_M: Final = 0.5
"""Smallest outline grid cell (0 means the exact GEOS union)."""

# --- optimizer ----------------------------------------------------------------

DEFAULT_K: Final = 5
DEFAULT_TARGET_SHARE: Final = 0.95
DEFAULT_TIME_LIMIT_S: Final = 60.0
"""Safety net per optimizer question; a result it stops is marked not proven (machine-dependent)."""

DEFAULT_MAX_NODES: Final = 2_000
"""Branch-and-bound nodes allowed to each MILP of the optimizer: a work limit, the same on every machine."""

# --- resources ----------------------------------------------------------------

MAX_BLOCK_CELLS: Final = 20_000_000
"""Largest number of float64 cells in one dense block of search output (160 MB)."""

MEMORY_LIMIT_ENV: Final = "COVERAGE_PLANNER_MAX_MEMORY_GB"
"""Environment variable that raises or lowers :data:`DEFAULT_MEMORY_LIMIT_BYTES`."""

DEFAULT_MEMORY_LIMIT_BYTES: Final = 8 * 1024**3
"""Largest single allocation the planner attempts before refusing with a message."""
