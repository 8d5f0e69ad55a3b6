"""Demand: where the residents are, as weighted points.

Every reader in this package returns one :class:`geopandas.GeoDataFrame` of
*demand units* with exactly these columns (and a ``RangeIndex``):

============  =========  ==========================================================
column        dtype      meaning
============  =========  ==========================================================
demand_id     str        Id of the unit, unique within its ``group``.
group         str        Who the unit counts (default ``"residents"``; for example
                         ``"elderly"`` for a share of them).
population    float64    Number of people the unit stands for (>= 0): the weight
                         that coverage counts.
estimate      bool       True when the unit's population is an estimate (a share
                         spread over streets or buildings, a density times an area,
                         a demographic share) rather than a count for that place.
source_id     str        Id of the input row (point, polygon, building, street edge)
                         the unit came from. Units spread from one polygon share it.
geometry      Point      Where the people are counted; CRS documented per reader.
============  =========  ==========================================================

The population is *conserved*: for every group, the sum of ``population``
over the units equals the total of the input (up to float rounding); each
reader checks this before returning and raises if it ever fails. Nothing is
dropped silently: unusable input raises :class:`~coverage._errors.CoverageInputError`
naming the file, rows or ids and the fix; recoverable problems warn with
:class:`~coverage._errors.CoverageWarning`; figures that are estimates warn
with :class:`~coverage._errors.EstimateWarning` (street-density estimates) or
carry ``estimate=True`` plus a sentence in ``gdf.attrs["estimate_note"]``.

Readers
-------
- :func:`read_demand`: points (CSV lon/lat, GeoJSON, GeoPackage, GeoDataFrame);
  polygons in such files go through :func:`demand_from_polygons`.
- :func:`demand_from_polygons`: census units, grid cells or hexagons, one unit
  at an interior point (``method="centroid"``) or spread over the streets inside
  (``method="streets"``).
- :func:`read_h3_hexagons`, :func:`read_population_grid`: polygons with a
  population, ready for :func:`demand_from_polygons`.
- :func:`demand_from_buildings`: a known total shared over OSM buildings by
  floor area.
- :func:`demand_from_streets` (also importable as ``estimate_demand_along_streets``):
  no population data at all; a district density times the study area, spread
  along residential-type streets.
- :func:`validate_demand`, :func:`combine_demand`, :func:`demand_share`.

Naming: ``read_*`` read files, ``*_from_*`` build from frames.

Modules
-------
- :mod:`.schema`: the columns, shared figures, unit building and :func:`validate_demand`;
- :mod:`.readers`: :func:`read_demand`, :func:`read_h3_hexagons`, :func:`read_population_grid`;
- :mod:`.polygons`: :func:`demand_from_polygons`;
- :mod:`._spread`: the array kernels (clipping, points along lines, sharing);
- :mod:`.streets`: :func:`demand_from_streets`;
- :mod:`.buildings`: :func:`demand_from_buildings`;
- :mod:`.groups`: :func:`combine_demand`, :func:`demand_share`.
"""

from __future__ import annotations

from .buildings import NON_RESIDENTIAL_BUILDINGS, demand_from_buildings
from .groups import combine_demand, demand_share
from .polygons import demand_from_polygons
from .readers import read_demand, read_h3_hexagons, read_population_grid
from .schema import (
    DEMAND_COLUMNS,
    FUTIAN_AREA_KM2,
    FUTIAN_POPULATION_2020,
    validate_demand,
)
from .streets import DEFAULT_STREET_WEIGHTS, RESIDENTIAL_HIGHWAYS, demand_from_streets, estimate_demand_along_streets

__all__ = [
    "DEFAULT_STREET_WEIGHTS",
    "DEMAND_COLUMNS",
    "FUTIAN_AREA_KM2",
    "FUTIAN_POPULATION_2020",
    "NON_RESIDENTIAL_BUILDINGS",
    "RESIDENTIAL_HIGHWAYS",
    "combine_demand",
    "demand_from_buildings",
    "demand_from_polygons",
    "demand_from_streets",
    "demand_share",
    "estimate_demand_along_streets",
    "read_demand",
    "read_h3_hexagons",
    "read_population_grid",
    "validate_demand",
]
