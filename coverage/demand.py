"""Demand: where the residents are, as weighted points.

Every reader in this module returns one :class:`geopandas.GeoDataFrame` of
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
- :func:`estimate_demand_along_streets`: no population data at all; a district
  density times the study area, spread along residential-type streets.
- :func:`validate_demand`, :func:`combine_demand`, :func:`demand_share`.
"""

from __future__ import annotations

import ast
import logging
import math
import os
import re
import sys
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyproj
import shapely
from shapely.geometry.base import BaseGeometry

from coverage._coords import LAT_NAMES, LON_NAMES, geometry_in_crs, points_from_columns
from coverage._defaults import DEFAULT_DEMAND_SPACING_M, MAX_BLOCK_CELLS, MIN_SPACING_M
from coverage._errors import CoverageInputError, CoverageWarning, EstimateWarning
from coverage._rows import RowRef, resolve_column
from coverage._tabular import read_table
from coverage._validate import as_distance, check_memory
from coverage.network import WalkNetwork

__all__ = [
    "DEFAULT_STREET_WEIGHTS",
    "DEMAND_COLUMNS",
    "FUTIAN_AREA_KM2",
    "FUTIAN_POPULATION_2020",
    "GUANGMING_AREA_KM2",
    "GUANGMING_POPULATION_2020",
    "NON_RESIDENTIAL_BUILDINGS",
    "RESIDENTIAL_HIGHWAYS",
    "combine_demand",
    "demand_from_buildings",
    "demand_from_polygons",
    "demand_share",
    "estimate_demand_along_streets",
    "read_demand",
    "read_h3_hexagons",
    "read_population_grid",
    "validate_demand",
]

logger = logging.getLogger(__name__)

# District figures for the Shenzhen scenarios. Source: 7th national population
# census of China (2020), as published by the Shenzhen Statistics Bureau; areas
# are the official district areas (see ../shared/data/DATA.md).
FUTIAN_POPULATION_2020 = 1_553_225
FUTIAN_AREA_KM2 = 78.7
GUANGMING_POPULATION_2020 = 1_095_289
GUANGMING_AREA_KM2 = 155.4

DEMAND_COLUMNS: tuple[str, ...] = (
    "demand_id",
    "group",
    "population",
    "estimate",
    "source_id",
    "geometry",
)

RESIDENTIAL_HIGHWAYS: tuple[str, ...] = (
    "residential",
    "living_street",
    "unclassified",
    "tertiary",
    "secondary",
    "primary",
    "service",
    "footway",
    "pedestrian",
    "path",
)

# Relative number of residents per metre of street, by OSM highway type, used by
# estimate_demand_along_streets. Homes front residential streets; arterials run
# through commercial strips and past walls; footways and paths are partly in
# residential compounds (Shenzhen's gated xiaoqu) and partly in parks.
DEFAULT_STREET_WEIGHTS: Mapping[str, float] = {
    "residential": 1.0,
    "living_street": 1.0,
    "unclassified": 0.75,
    "service": 0.5,
    "pedestrian": 0.5,
    "footway": 0.5,
    "tertiary": 0.5,
    "secondary": 0.25,
    "primary": 0.25,
    "path": 0.25,
}
_UNLISTED_STREET_WEIGHT = 0.5

# OSM building=* values in which nobody lives (excluded by residential_only=True).
# "yes" (type unknown) and every residential or mixed type are kept.
NON_RESIDENTIAL_BUILDINGS: frozenset[str] = frozenset(
    {
        "barn",
        "boathouse",
        "bridge",
        "bunker",
        "carport",
        "cathedral",
        "chapel",
        "church",
        "civic",
        "college",
        "commercial",
        "construction",
        "cowshed",
        "data_center",
        "digester",
        "factory",
        "farm_auxiliary",
        "fire_station",
        "garage",
        "garages",
        "gatehouse",
        "government",
        "grandstand",
        "greenhouse",
        "greenhouse_horticulture",
        "hangar",
        "hospital",
        "hotel",
        "industrial",
        "kindergarten",
        "kiosk",
        "manufacture",
        "military",
        "monastery",
        "mosque",
        "museum",
        "office",
        "parking",
        "pavilion",
        "public",
        "religious",
        "retail",
        "riding_hall",
        "roof",
        "ruins",
        "school",
        "service",
        "shed",
        "shrine",
        "silo",
        "sports_centre",
        "sports_hall",
        "stable",
        "stadium",
        "storage_tank",
        "sty",
        "supermarket",
        "synagogue",
        "temple",
        "toilets",
        "train_station",
        "transformer_tower",
        "transportation",
        "university",
        "warehouse",
        "water_tower",
    }
)

_POPULATION_NAME_HINTS = (
    "population",
    "pop",
    "inhab",
    "resident",
    "asukk",
    "vaesto",
    "väestö",
    "einw",
    "bevolk",
    "habit",
)
_SPREAD_NOTE = (
    "Population of each input polygon shared over the walkable streets inside it "
    "in proportion to street length (points every ~{spacing:g} m); polygon totals are "
    "as given, their placement along the streets is modelled."
)
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_REL_TOL = 1e-9
# Memory per demand unit while spreading (measured about 360 B of Python objects
# at the peak, plus the GEOS point): used for the estimate before allocating.
_BYTES_PER_UNIT = 600


# ---------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------


def _warn(message: str, category: type[Warning] = CoverageWarning) -> None:
    """Warn, pointing at the first caller outside the ``coverage`` package."""
    frame = sys._getframe(1)
    level = 2
    while frame.f_back is not None and os.path.dirname(os.path.abspath(frame.f_code.co_filename)) == _PACKAGE_DIR:
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)


def _few(items: Iterable[Any], limit: int = 10, *, quote: bool = True) -> str:
    """Format up to ``limit`` items, saying how many more there are."""
    items = list(items)
    shown = ", ".join(repr(i) if quote and not isinstance(i, tuple) else str(i) for i in items[:limit])
    if len(items) > limit:
        shown += f" … and {len(items) - limit:,} more"
    return shown


def _where(source_name: str | None) -> str:
    return f" in {source_name}" if source_name else ""


def _ids_as_str(values: pd.Series, *, what: str, rows: RowRef | None = None) -> npt.NDArray[np.object_]:
    """Return ids as an object array of str; whole floats print without '.0'."""
    empty = values.isna().to_numpy() | (values.astype(str).str.strip() == "").to_numpy()
    if empty.any():
        rows = rows or RowRef.for_frame(values.to_frame(), what)
        raise CoverageInputError(
            f"{what}: {int(empty.sum()):,} rows have no id ({rows.describe(empty)}); "
            "fill the id column or pass id_col=None to use row numbers."
        )
    if pd.api.types.is_float_dtype(values.dtype):
        arr = values.to_numpy(dtype=np.float64)
        if np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            return np.array([str(int(v)) for v in arr], dtype=object)
    return np.array([str(v) for v in values.to_numpy()], dtype=object)


def _check_group(group: str) -> None:
    if not isinstance(group, str) or not group.strip():
        raise CoverageInputError(f"group must be a non-empty string such as 'residents', got {group!r}.")


def _check_spacing(spacing_m: float, *, name: str = "spacing_m") -> float:
    """Validate a spacing of points along streets (at least :data:`MIN_SPACING_M`)."""
    return as_distance(spacing_m, name=name, minimum=MIN_SPACING_M, example="50")


def _str_series(values: npt.ArrayLike) -> pd.Series:
    """Return values as a Series of str (pandas' string dtype where it is the default)."""
    return pd.Series(np.asarray(values, dtype=object), dtype=object).astype(str)


def _units(
    *,
    demand_id: npt.ArrayLike,
    group: str | npt.ArrayLike,
    population: npt.ArrayLike,
    estimate: bool | npt.ArrayLike,
    source_id: npt.ArrayLike,
    geometry: npt.ArrayLike,
    crs: Any,
) -> gpd.GeoDataFrame:
    """Build a GeoDataFrame in the demand schema."""
    pop = np.asarray(population, dtype=np.float64)
    n = pop.shape[0]
    groups = np.full(n, group, dtype=object) if isinstance(group, str) else np.asarray(group)
    est = np.full(n, bool(estimate)) if isinstance(estimate, bool) else np.asarray(estimate)
    return gpd.GeoDataFrame(
        {
            "demand_id": _str_series(demand_id),
            "group": _str_series(groups),
            "population": pop,
            "estimate": est.astype(bool),
            "source_id": _str_series(source_id),
        },
        geometry=gpd.GeoSeries(np.asarray(geometry, dtype=object), crs=crs),
    )


def _check_totals(units: gpd.GeoDataFrame, expected: Mapping[str, float], *, what: str) -> None:
    """Raise if the units do not add up to the expected total of each group."""
    got = units.groupby("group", sort=False)["population"].sum()
    for grp, total in expected.items():
        value = float(got.get(grp, 0.0))
        if not math.isclose(value, total, rel_tol=_REL_TOL, abs_tol=1e-6):
            raise RuntimeError(
                f"{what}: demand units of group {grp!r} sum to {value!r} people but the input "
                f"holds {total!r}; the population was not conserved. This is a bug in "
                "coverage.demand; please report it with the input file."
            )


def _crs_of(obj: Any, what: str) -> pyproj.CRS:
    crs = getattr(obj, "crs", None)
    if crs is None:
        raise CoverageInputError(
            f"{what} has no CRS; call .set_crs(...) with the CRS its coordinates are in "
            "(for example .set_crs('EPSG:4326') for longitude/latitude)."
        )
    return pyproj.CRS.from_user_input(crs)


def _check_metric(crs: pyproj.CRS, what: str) -> None:
    if not crs.is_projected:
        raise CoverageInputError(
            f"{what} are in the geographic CRS {crs.to_string()}; project them to a metric CRS "
            "first, e.g. edges.to_crs(edges.estimate_utm_crs()) or osmnx.project_graph(G)."
        )
    unit = (crs.axis_info[0].unit_name or "").lower() if crs.axis_info else ""
    if unit not in {"metre", "meter", "m"}:
        raise CoverageInputError(
            f"{what} use the CRS {crs.to_string()} whose unit is {unit!r}, not metres; "
            "reproject them to a metric CRS such as the local UTM zone."
        )


def _interior_points(geoms: npt.NDArray[np.object_]) -> npt.NDArray[np.object_]:
    """Centroid where it lies strictly inside the polygon, else a point on its surface."""
    centroids = shapely.centroid(geoms)
    inside = shapely.contains_properly(geoms, centroids)
    out = np.asarray(shapely.point_on_surface(geoms), dtype=object)
    out[inside] = centroids[inside]
    return out


def _utm_crs(lon: float, lat: float) -> pyproj.CRS:
    """Return the WGS 84 / UTM zone CRS containing (lon, lat)."""
    zone = min(60, max(1, math.floor((lon + 180.0) / 6.0) + 1))
    return pyproj.CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


# ---------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------


def _population_values(
    frame: pd.DataFrame, column: str, which: Callable[[npt.NDArray[np.bool_]], str], *, where: str, label: str
) -> npt.NDArray[np.float64]:
    """Return the population column as float64, raising on any unusable value."""
    column = str(resolve_column(list(frame.columns), column, key="population_col", label=label, what="population"))
    raw = frame[column]
    if pd.api.types.is_bool_dtype(raw.dtype):
        raise CoverageInputError(
            f"population column {column!r}{where} holds True/False values, not numbers of "
            "people; pass population_col= naming the column with head counts."
        )
    values = pd.to_numeric(raw, errors="coerce")
    missing = raw.isna().to_numpy()
    bad_text = values.isna().to_numpy() & ~missing
    if bad_text.any():
        sample = [repr(v) for v in raw.to_numpy()[bad_text]]
        raise CoverageInputError(
            f"population column {column!r}{where} has {int(bad_text.sum()):,} non-numeric "
            f"values {_few(sample, quote=False)} in {which(bad_text)}; clean them to plain numbers "
            "(no thousands separators or text)."
        )
    arr = values.to_numpy(dtype=np.float64, na_value=np.nan)
    if missing.any():
        raise CoverageInputError(
            f"population column {column!r}{where} is empty (NaN) for {int(missing.sum()):,} "
            f"rows, {which(missing)}; fill them (0 if nobody lives there)."
        )
    infinite = ~np.isfinite(arr)
    if infinite.any():
        raise CoverageInputError(
            f"population column {column!r}{where} is infinite for {int(infinite.sum()):,} "
            f"rows, {which(infinite)}; fix those values."
        )
    negative = arr < 0
    if negative.any():
        raise CoverageInputError(
            f"population column {column!r}{where} is negative for {int(negative.sum()):,} "
            f"rows, {which(negative)}; a population must be >= 0."
        )
    if not (arr > 0).any():
        raise CoverageInputError(
            f"population column {column!r}{where} is zero in all {arr.size:,} rows; "
            "there is nobody to cover. Check that population_col names the right column."
        )
    return arr


def _check_overlaps(geoms: npt.NDArray[np.object_], ids: npt.NDArray[np.object_], *, where: str) -> None:
    """Warn when polygons overlap by more than a sliver (people counted twice)."""
    poly = np.isin(shapely.get_type_id(geoms), (3, 6))
    if poly.sum() < 2:
        return
    index = np.flatnonzero(poly)
    g = geoms[index]
    tree = shapely.STRtree(g)
    left, right = tree.query(g, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    if left.size == 0:
        return
    overlap = shapely.area(shapely.intersection(g[left], g[right]))
    areas = shapely.area(g)
    big = overlap > 1e-6 * np.minimum(areas[left], areas[right])
    if big.any():
        pairs = [(str(ids[index[a]]), str(ids[index[b]])) for a, b in zip(left[big], right[big], strict=True)]
        _warn(
            f"{len(pairs):,} pairs of demand polygons{where} overlap each other, e.g. "
            f"{_few(pairs, 5)}; people in the overlaps are counted twice. Dissolve or clip "
            "the polygons so that each place belongs to one of them."
        )


def _validate(
    gdf: gpd.GeoDataFrame,
    *,
    population_col: str,
    id_col: str | None,
    group_col: str | None,
    source_name: str | None,
    rows: RowRef | None = None,
) -> tuple[gpd.GeoDataFrame, npt.NDArray[np.object_], npt.NDArray[np.float64]]:
    """Validate a demand or polygon frame; return a clean copy, its str ids and population.

    Rows are named by id when ``id_col`` is given, else as ``rows`` counts
    them (spreadsheet rows for a CSV; index labels for a frame).
    """
    where = _where(source_name)
    what = source_name or "the demand frame"
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise CoverageInputError(
            f"{what} is a {type(gdf).__name__}, not a GeoDataFrame; read files and "
            "DataFrames with coverage.demand.read_demand(...)."
        )
    if len(gdf) == 0:
        raise CoverageInputError(f"{what} has no rows; there is no demand to count.")
    _crs_of(gdf, what)
    rows = rows if rows is not None else RowRef.for_frame(gdf, what)
    if id_col is None:
        ids = np.array([str(i) for i in range(len(gdf))], dtype=object)
    else:
        id_col = resolve_column(list(gdf.columns), id_col, key="id_col", label=what, what="id")
        ids = _ids_as_str(gdf[id_col], what=what, rows=rows)

    def which(mask: npt.NDArray[np.bool_]) -> str:
        return f"ids {_few(ids[mask].tolist())}" if id_col is not None else rows.describe(mask)

    population = _population_values(gdf, population_col, which, where=where, label=what)
    population_col = str(resolve_column(list(gdf.columns), population_col, key="population_col", label=what))

    groups = (
        gdf[group_col].astype(str).to_numpy(dtype=object)
        if group_col is not None and group_col in gdf.columns
        else np.zeros(len(gdf), dtype=object)
    )
    keys = pd.MultiIndex.from_arrays([groups, ids])
    dup = keys.duplicated(keep=False)
    if dup.any():
        dup_ids = sorted({str(i) for i in ids[dup]})
        raise CoverageInputError(
            f"{len(dup_ids):,} ids appear more than once{where}"
            f"{' within a group' if group_col is not None and group_col in gdf.columns else ''}:"
            f" {_few(dup_ids)} ({rows.describe(np.asarray(dup))}); ids must be unique. Fix the id "
            "column or pass id_col=None to number the rows."
        )

    geoms = np.asarray(gdf.geometry.array, dtype=object)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if missing.any():
        raise CoverageInputError(
            f"{int(missing.sum()):,} rows{where} have no geometry (missing or empty), "
            f"{which(missing)}; give them a location or remove them."
        )
    types = shapely.get_type_id(geoms)
    # 0 Point, 3 Polygon, 6 MultiPolygon
    wrong = ~np.isin(types, (0, 3, 6))
    if wrong.any():
        kinds = Counter(shapely.get_type_id(geoms[wrong]).tolist())
        names = {
            1: "LineString",
            2: "LinearRing",
            4: "MultiPoint",
            5: "MultiLineString",
            7: "GeometryCollection",
        }
        raise CoverageInputError(
            f"{int(wrong.sum()):,} rows{where} are not points or polygons "
            f"({', '.join(f'{n} {names.get(k, k)}' for k, n in kinds.items())}), "
            f"{which(wrong)}; demand must be Points or (Multi)Polygons. "
            "Split MultiPoints with .explode() and share their population first."
        )
    invalid = ~shapely.is_valid(geoms)
    bad_points = invalid & (types == 0)
    if bad_points.any():
        raise CoverageInputError(
            f"{int(bad_points.sum()):,} points{where} have invalid coordinates (NaN or "
            f"infinite), {which(bad_points)}; fix their coordinates."
        )
    if invalid.any():
        fixed = shapely.make_valid(geoms[invalid], method="structure", keep_collapsed=False)
        still_bad = shapely.is_empty(fixed) | ~np.isin(shapely.get_type_id(fixed), (3, 6))
        if still_bad.any():
            unrepaired = np.zeros(len(geoms), dtype=bool)
            unrepaired[np.flatnonzero(invalid)[still_bad]] = True
            raise CoverageInputError(
                f"{int(still_bad.sum()):,} polygons{where} are invalid and could not be repaired into "
                f"areas (they collapse to lines or points), {which(unrepaired)}; "
                "fix their geometry in a GIS."
            )
        _warn(
            f"{int(invalid.sum()):,} invalid polygons{where} were repaired with "
            f"shapely.make_valid, {which(invalid)}; check them."
        )
        geoms = geoms.copy()
        geoms[invalid] = fixed
    _check_overlaps(geoms, ids, where=where)

    out = gdf.copy()
    out[population_col] = population
    out = out.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs))
    return out, ids, population


def validate_demand(
    gdf: gpd.GeoDataFrame,
    *,
    population_col: str = "population",
    id_col: str | None = "demand_id",
    group_col: str | None = "group",
    source_name: str | None = None,
) -> gpd.GeoDataFrame:
    """Check a demand frame and return a clean copy.

    Every reader calls this on its input; call it on demand frames built by
    hand before counting coverage.

    Parameters
    ----------
    gdf
        Demand points or polygons with a population column.
    population_col
        Column with the number of people (float or int, >= 0).
    id_col
        Column with the unit ids; ``None`` numbers the rows ``"0", "1", ...``.
    group_col
        Column with the group of each unit; ids must be unique within a group.
        A frame without it (or ``None``) is one group.
    source_name
        File or frame name to put in messages.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy with the population as float64 and invalid polygons repaired.

    Raises
    ------
    CoverageInputError
        For a missing CRS; a missing, non-numeric, NaN, infinite or negative
        population (naming up to 10 ids and the count); an all-zero
        population; missing, empty or non-point/polygon geometries; invalid
        points or unrepairable polygons; duplicate ids within a group.

    Warns
    -----
    CoverageWarning
        When invalid polygons were repaired with ``make_valid``, and when
        polygons overlap each other (people would be counted twice).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> gdf = gpd.GeoDataFrame(
    ...     {"demand_id": ["a", "b"], "population": [10, 0]},
    ...     geometry=[Point(0, 0), Point(1, 1)], crs="EPSG:32650")
    >>> validate_demand(gdf)["population"].dtype
    dtype('float64')

    """
    out, _, _ = _validate(
        gdf,
        population_col=population_col,
        id_col=id_col,
        group_col=group_col,
        source_name=source_name,
    )
    return out


# ---------------------------------------------------------------------------
# streets: clip, place points, share
# ---------------------------------------------------------------------------


def _edges_frame(edges: gpd.GeoDataFrame | WalkNetwork, what: str = "edges") -> gpd.GeoDataFrame:
    """Check street edges (projected lines) and drop exact duplicates (two-way copies)."""
    if isinstance(edges, WalkNetwork):
        edges = edges.edges_gdf()
    if not isinstance(edges, gpd.GeoDataFrame):
        raise CoverageInputError(
            f"{what} must be a GeoDataFrame of street LineStrings (or a WalkNetwork), "
            f"got {type(edges).__name__}; e.g. osmnx.graph_to_gdfs(G, nodes=False)."
        )
    crs = _crs_of(edges, what)
    _check_metric(crs, what)
    geoms = np.asarray(edges.geometry.array, dtype=object)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if missing.any():
        _warn(
            f"{int(missing.sum()):,} of {len(edges):,} {what} have no geometry and carry no "
            "street length; they are ignored."
        )
    types = shapely.get_type_id(geoms)
    wrong = ~missing & ~np.isin(types, (1, 5))
    if wrong.any():
        labels = [str(i) for i in edges.index[wrong][:10]]
        raise CoverageInputError(
            f"{int(wrong.sum()):,} {what} are not LineStrings, index {_few(labels)}; "
            "pass the street edges only (osmnx.graph_to_gdfs(G, nodes=False))."
        )
    out = edges.loc[~missing]
    keys = pd.Series(shapely.to_wkb(shapely.normalize(np.asarray(out.geometry.array))))
    dup = keys.duplicated().to_numpy()
    if dup.any():
        # A two-way street appears once per direction in a directed graph; keep one copy.
        logger.debug("dropped %d duplicate (reverse) edges of %d", int(dup.sum()), len(out))
        out = out.loc[~dup]
    out = out.copy()
    out.attrs["duplicate_edges_dropped"] = int(dup.sum())
    return out


def _convex_mask(areas: npt.NDArray[np.object_]) -> npt.NDArray[np.bool_]:
    """Flag single polygons without holes that equal their convex hull."""
    simple = (shapely.get_type_id(areas) == 3) & (shapely.get_num_interior_rings(areas) == 0)
    out = np.zeros(areas.size, dtype=bool)
    if simple.any():
        a = shapely.area(areas[simple])
        hull = shapely.area(shapely.convex_hull(areas[simple]))
        out[simple] = (hull - a) <= 1e-9 * hull
    return out


def _clip_convex(
    areas: npt.NDArray[np.object_],
    lines: npt.NDArray[np.object_],
    area_idx: npt.NDArray[np.int64],
    line_idx: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.int64]]:
    """Clip LineStrings to convex polygons, pair by pair (Cyrus-Beck on every segment).

    Exact and vectorised: far faster than a GEOS overlay per pair for grid cells
    and hexagons. Returns the pieces and the pair index of each piece.
    """
    # Polygon edges, counter-clockwise, padded to the largest vertex count.
    used, poly_of_pair = np.unique(area_idx, return_inverse=True)
    rings = shapely.orient_polygons(areas[used], exterior_cw=False)
    coords, ring_of = shapely.get_coordinates(shapely.get_exterior_ring(rings), return_index=True)
    counts = np.bincount(ring_of, minlength=used.size)
    n_edges = int(counts.max()) - 1
    first = np.cumsum(counts) - counts
    e = np.minimum(np.arange(n_edges)[None, :], (counts - 2)[:, None])  # repeat the last edge
    start = coords[first[:, None] + e]  # (polygons, edges, 2)
    step = coords[first[:, None] + e + 1] - start
    normal = np.stack([-step[..., 1], step[..., 0]], axis=-1)  # points inside for CCW

    # Segments of every (pair) line.
    seg_xy, seg_pair = shapely.get_coordinates(lines[line_idx], return_index=True)
    same = seg_pair[:-1] == seg_pair[1:]
    p0, p1, pair = seg_xy[:-1][same], seg_xy[1:][same], seg_pair[:-1][same]
    seg_no = np.flatnonzero(same)  # consecutive segments of a line have consecutive numbers
    poly = poly_of_pair[pair]
    d = p1 - p0
    num = np.einsum("spk,spk->sp", normal[poly], p0[:, None, :] - start[poly])
    den = np.einsum("spk,sk->sp", normal[poly], d)
    # t = -num / den, computed only where |t| <= 1: a denormal segment (5e-324 m) would overflow,
    # and any |t| > 1 acts exactly like +-2 in the clamps below (entering after the end, leaving
    # before the start, or a bound outside [0, 1] that the clamps ignore).
    exact = (den != 0) & (np.abs(num) <= np.abs(den))
    t = np.where(np.signbit(num) == np.signbit(den), -2.0, 2.0)
    np.divide(-num, den, out=t, where=exact)
    t0 = np.max(np.where(den > 0, t, 0.0), axis=1, initial=0.0)
    t1 = np.min(np.where(den < 0, t, 1.0), axis=1, initial=1.0)
    outside = ((den == 0) & (num < 0)).any(axis=1)
    kept = ~outside & (t1 > t0)
    p0, p1, pair, seg_no = p0[kept], p1[kept], pair[kept], seg_no[kept]
    t0, t1, d = t0[kept], t1[kept], d[kept]
    a = p0 + t0[:, None] * d
    b = p0 + t1[:, None] * d
    # A piece continues while one kept segment runs into the next of the same line.
    cont = np.zeros(pair.size, dtype=bool)
    cont[1:] = (seg_no[1:] == seg_no[:-1] + 1) & (t1[:-1] >= 1.0) & (t0[1:] <= 0.0)
    piece = np.cumsum(~cont) - 1
    xy = np.stack([a, b], axis=1).reshape(-1, 2)
    take = np.stack([~cont, np.ones(pair.size, dtype=bool)], axis=1).reshape(-1)
    index = np.repeat(piece, 2)
    pieces = shapely.linestrings(xy[take], indices=index[take])
    piece_pair = np.zeros(int(piece.max()) + 1 if piece.size else 0, dtype=np.int64)
    piece_pair[piece] = pair
    return np.asarray(pieces, dtype=object), piece_pair


def _clip_lines(
    areas: npt.NDArray[np.object_], lines: npt.NDArray[np.object_]
) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Cut lines by areas: return the pieces and, per piece, the area and line index.

    Lines wholly inside an area are kept whole; lines crossing a convex area
    (grid cells, hexagons) are clipped with :func:`_clip_convex`, others with a
    GEOS intersection. Pieces of zero length are dropped (a line touching an
    area only at a point carries no street length into it).
    """
    parts, part_of = shapely.get_parts(lines, return_index=True)
    parts = np.asarray(parts, dtype=object)
    tree = shapely.STRtree(parts)
    area_idx, line_idx = tree.query(areas, predicate="intersects")
    area_idx, line_idx = area_idx.astype(np.int64), line_idx.astype(np.int64)
    shapely.prepare(areas)
    inside = shapely.contains_properly(areas[area_idx], parts[line_idx])
    convex = _convex_mask(areas)[area_idx] & ~inside
    other = ~inside & ~convex
    chunks = [parts[line_idx[inside]]]
    owners = [np.flatnonzero(inside)]
    if convex.any():
        pairs = np.flatnonzero(convex)
        # Blocks of pairs keep the (segments x polygon edges) arrays of _clip_convex bounded.
        n_edges = int(shapely.get_num_coordinates(areas).max())
        segments = shapely.get_num_coordinates(parts[line_idx[pairs]]) - 1
        block = np.cumsum(segments) * n_edges // MAX_BLOCK_CELLS
        for b in np.unique(block):
            sub = pairs[block == b]
            clipped, pair_of = _clip_convex(areas, parts, area_idx[sub], line_idx[sub])
            chunks.append(clipped)
            owners.append(sub[pair_of])
    if other.any():
        pairs = np.flatnonzero(other)
        cut = np.asarray(shapely.intersection(parts[line_idx[pairs]], areas[area_idx[pairs]]), dtype=object)
        # Explode multi-part results (MultiLineString, GeometryCollection) into parts.
        while np.isin(shapely.get_type_id(cut), (4, 5, 6, 7)).any():
            exploded, of = shapely.get_parts(cut, return_index=True)
            cut, pairs = np.asarray(exploded, dtype=object), pairs[of]
        chunks.append(cut)
        owners.append(pairs)
    pieces = np.concatenate(chunks)
    owner = np.concatenate(owners)
    keep = (shapely.get_type_id(pieces) == 1) & (shapely.length(pieces) > 0)
    owner = owner[keep]
    return pieces[keep], area_idx[owner], part_of[line_idx[owner]].astype(np.int64)


def _points_along(
    lines: npt.NDArray[np.object_], spacing_m: float
) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Place points every ~spacing_m along each LineString (at least one per line).

    A line of length L gets n = max(1, round(L / spacing_m)) points at the middles
    of n equal stretches; each point stands for L / n metres of street.
    Returns the points, the line index of each point and the metres it stands for.
    (Interpolates on the coordinate arrays with numpy, like
    ``shapely.line_interpolate_point`` but without a GEOS call per point.)
    """
    xy, line_of_xy = shapely.get_coordinates(lines, return_index=True)
    counts = np.bincount(line_of_xy, minlength=lines.size)
    first_xy = np.cumsum(counts) - counts
    seg = np.hypot(*np.diff(xy, axis=0).T)
    seg[line_of_xy[1:] != line_of_xy[:-1]] = 0.0  # no length between two lines
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    lengths = cum[first_xy + counts - 1] - cum[first_xy]

    n = np.maximum(1, np.rint(lengths / spacing_m)).astype(np.int64)
    line_of = np.repeat(np.arange(lines.size, dtype=np.int64), n)
    first = np.cumsum(n) - n
    k = np.arange(line_of.size, dtype=np.int64) - first[line_of]
    step = (lengths / n)[line_of]
    target = cum[first_xy[line_of]] + (k + 0.5) * step
    pos = np.searchsorted(cum, target, side="right") - 1
    pos = np.clip(pos, first_xy[line_of], first_xy[line_of] + counts[line_of] - 2)
    # The distance into the segment is clamped to [0, seg] before dividing, so that rounding
    # past the end of a denormal segment cannot overflow (hypothesis found a 5e-324 m one).
    into = np.clip(target - cum[pos], 0.0, seg[pos])
    frac = np.divide(into, seg[pos], out=np.zeros_like(into), where=seg[pos] > 0)
    at = xy[pos] + frac[:, None] * (xy[pos + 1] - xy[pos])
    return np.asarray(shapely.points(at), dtype=object), line_of, step


def _check_points_memory(lines: npt.NDArray[np.object_], spacing_m: float) -> None:
    """Refuse to place more points along ``lines`` than the memory limit allows, naming ``spacing_m``."""
    n = float(np.maximum(1.0, np.rint(shapely.length(lines) / spacing_m)).sum()) if lines.size else 0.0
    check_memory(
        n * _BYTES_PER_UNIT,
        what=f"spreading people over the streets at spacing_m={spacing_m:g} ({n:,.0f} demand points)",
        setting="spacing_m",
    )


def _share(
    weights: npt.NDArray[np.float64],
    owner: npt.NDArray[np.int64],
    totals: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """Share ``totals[owner]`` among the units of each owner in proportion to weights."""
    sums = np.bincount(owner, weights=weights, minlength=totals.size)
    # The ratio first: weights / sums is in [0, 1] even for denormal street lengths, where
    # totals * weights would underflow and lose people.
    return np.asarray(totals[owner] * (weights / sums[owner]), dtype=np.float64)


def _numbered(source: npt.NDArray[np.object_]) -> npt.NDArray[np.object_]:
    """Ids ``"<source>#<k>"`` numbering the units of each source from 0."""
    s = pd.Series(source, dtype="str")
    k = s.groupby(s, sort=False).cumcount()
    return np.asarray((s + "#" + k.astype(str)).to_numpy(), dtype=object)


# ---------------------------------------------------------------------------
# polygons
# ---------------------------------------------------------------------------


def demand_from_polygons(
    polygons: gpd.GeoDataFrame,
    *,
    population_col: str = "population",
    id_col: str | None = None,
    method: Literal["streets", "centroid"] = "streets",
    edges: gpd.GeoDataFrame | WalkNetwork | None = None,
    spacing_m: float = 50.0,
    group: str = "residents",
) -> gpd.GeoDataFrame:
    """Turn polygons with a population (census units, grid cells, hexagons) into points.

    Parameters
    ----------
    polygons
        (Multi)Polygons with a CRS and a population column.
    population_col
        Column with the number of people per polygon.
    id_col
        Column with polygon ids (unique); ``None`` uses row numbers. Becomes
        ``source_id``.
    method
        ``"streets"`` (default) spreads each polygon's population over the
        walkable streets inside it: the ``edges`` are clipped to the polygon,
        points are put along every clipped piece every ~``spacing_m`` (at least
        one per piece, at the middles of equal stretches), and each point gets
        the polygon's population times the share of the polygon's street length
        it stands for. A polygon with people but no street inside falls back to
        one unit at its interior point (one warning lists them). Units keep
        the polygon's ``estimate`` flag (False for census counts): the polygon
        totals are measured, only their placement along the streets is
        modelled, which ``attrs["allocation_note"]`` says.
        ``"centroid"`` puts one unit per polygon at its centroid when the centroid
        lies strictly inside the polygon, else at ``shapely.point_on_surface``
        (concave or multi-part polygons); ``estimate`` is False (or taken from an
        ``estimate`` column of the input).
    edges
        Street edges for ``"streets"``: a GeoDataFrame of LineStrings in a metric
        CRS (or a :class:`~coverage.network.WalkNetwork`). Pass the walkable ones;
        exact duplicate geometries (both directions of a two-way street) count once.
    spacing_m
        Distance between points along a street, in metres.
    group
        Group of the units.

    Returns
    -------
    geopandas.GeoDataFrame
        Demand units (see the module docstring) in the edges' CRS for
        ``"streets"`` and in the polygons' CRS for ``"centroid"``. Ids are the
        polygon id for one-unit polygons and ``"<polygon id>#<k>"`` for spread ones.

    Raises
    ------
    CoverageInputError
        For bad polygons (see :func:`validate_demand`), a missing CRS, ``"streets"``
        without edges, or edges that are not projected lines.

    Warns
    -----
    CoverageWarning
        Naming the polygons with people but no street inside, which fell back to
        one unit at their interior point.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString, box
    >>> cells = gpd.GeoDataFrame({"population": [400.0]}, geometry=[box(0, 0, 500, 500)],
    ...                          crs="EPSG:32650")
    >>> streets = gpd.GeoDataFrame(geometry=[LineString([(10, 100), (110, 100)]),
    ...                                      LineString([(10, 300), (310, 300)])],
    ...                            crs="EPSG:32650")
    >>> units = demand_from_polygons(cells, edges=streets)
    >>> units.groupby(units.geometry.y)["population"].sum().tolist()
    [100.0, 300.0]

    """
    _check_group(group)
    spacing_m = _check_spacing(spacing_m)
    if method not in ("streets", "centroid"):
        raise CoverageInputError(f"method must be 'streets' or 'centroid', got {method!r}.")
    if method == "streets" and edges is None:
        raise CoverageInputError(
            "method='streets' needs the street edges: pass edges= (a projected GeoDataFrame "
            "of LineStrings or a WalkNetwork), or use method='centroid'."
        )
    clean, ids, population = _validate(
        polygons,
        population_col=population_col,
        id_col=id_col,
        group_col=None,
        source_name="the polygons",
    )
    types = shapely.get_type_id(np.asarray(clean.geometry.array, dtype=object))
    if (types == 0).any():
        raise CoverageInputError(
            f"{int((types == 0).sum()):,} rows of the polygons are points, ids "
            f"{_few(ids[types == 0].tolist())}; use read_demand for point data."
        )
    return _polygons_to_units(clean, ids, population, method=method, edges=edges, spacing_m=spacing_m, group=group)


def _polygons_to_units(
    clean: gpd.GeoDataFrame,
    ids: npt.NDArray[np.object_],
    population: npt.NDArray[np.float64],
    *,
    method: Literal["streets", "centroid"],
    edges: gpd.GeoDataFrame | WalkNetwork | None,
    spacing_m: float,
    group: str,
) -> gpd.GeoDataFrame:
    """Turn validated polygons into units (see :func:`demand_from_polygons`)."""
    total = float(population.sum())
    given_estimate = (
        clean["estimate"].fillna(False).astype(bool).to_numpy()
        if "estimate" in clean.columns
        else np.zeros(len(clean), dtype=bool)
    )
    if method == "centroid":
        units = _units(
            demand_id=ids,
            group=group,
            population=population,
            estimate=given_estimate,
            source_id=ids,
            geometry=_interior_points(np.asarray(clean.geometry.array)),
            crs=clean.crs,
        )
        _check_totals(units, {group: total}, what="demand_from_polygons")
        return units

    if edges is None:
        raise CoverageInputError("method='streets' needs edges=.")
    started = time.perf_counter()
    streets = _edges_frame(edges)
    crs = streets.crs
    areas = np.asarray(clean.to_crs(crs).geometry.array, dtype=object)
    lines = np.asarray(streets.geometry.array, dtype=object)

    pieces, area_of, _ = _clip_lines(areas, lines)
    # Only polygons with people are spread; empty polygons keep one zero unit.
    spread = population[area_of] > 0
    pieces, area_of = pieces[spread], area_of[spread]
    _check_points_memory(pieces, spacing_m)
    points, piece_of, metres = _points_along(pieces, spacing_m)
    unit_area = area_of[piece_of]
    has_street = np.zeros(len(clean), dtype=bool)
    has_street[unit_area] = True
    lone = ~has_street
    fallback = lone & (population > 0)
    if fallback.any():
        _warn(
            f"{int(fallback.sum()):,} of {len(clean):,} polygons with people have no street "
            f"of the edges inside them, ids {_few(ids[fallback].tolist())}; each is counted "
            "as one unit at an interior point. Check that the edges cover the polygons."
        )
    lone_idx = np.flatnonzero(lone)
    spread_pop = _share(metres, unit_area, population)

    area_all = np.concatenate([unit_area, lone_idx])
    order = np.argsort(area_all, kind="stable")
    source = ids[area_all][order]
    demand_id = np.concatenate([_numbered(ids[unit_area]), ids[lone_idx]])[order]
    geometry = np.concatenate([points, _interior_points(areas[lone_idx])])[order]
    pop = np.concatenate([spread_pop, population[lone_idx]])[order]
    estimate = np.concatenate([given_estimate[unit_area], given_estimate[lone_idx]])
    units = _units(
        demand_id=demand_id,
        group=group,
        population=pop,
        estimate=estimate[order],
        source_id=source,
        geometry=geometry,
        crs=crs,
    )
    _check_totals(units, {group: total}, what="demand_from_polygons")
    per_polygon = np.bincount(
        area_all, weights=np.concatenate([spread_pop, population[lone_idx]]), minlength=len(clean)
    )
    if not np.allclose(per_polygon, population, rtol=_REL_TOL, atol=1e-6):
        worst = int(np.argmax(np.abs(per_polygon - population)))
        raise RuntimeError(
            f"demand_from_polygons: polygon {ids[worst]!r} holds {population[worst]!r} people "
            f"but its units sum to {per_polygon[worst]!r}. This is a bug; please report it."
        )
    units.attrs["allocation_note"] = _SPREAD_NOTE.format(spacing=spacing_m)
    if estimate.any():
        units.attrs["estimate_note"] = "Some input polygons carry estimated populations (estimate=True)."
    units.attrs["fallback_polygons"] = [str(i) for i in ids[fallback]]
    logger.debug(
        "spread %d polygons over %d street pieces -> %d units in %.2f s",
        len(clean),
        pieces.size,
        len(units),
        time.perf_counter() - started,
    )
    return units


# ---------------------------------------------------------------------------
# readers
# ---------------------------------------------------------------------------


def _frame_of(
    source: str | os.PathLike[str] | pd.DataFrame,
    *,
    id_col: str | None,
    lon_col: str | None,
    lat_col: str | None,
    crs: Any,
    layer: str | int | None,
    encoding: str | None,
) -> tuple[gpd.GeoDataFrame, RowRef]:
    """Read a demand source into a geometry frame with a settled CRS, and its row naming."""
    if isinstance(source, gpd.GeoDataFrame):
        label = "the demand GeoDataFrame"
    elif isinstance(source, pd.DataFrame):
        label = "the demand DataFrame"
    elif isinstance(source, str | os.PathLike):
        label = str(source)
    else:
        raise CoverageInputError(
            f"source must be a file path, DataFrame or GeoDataFrame, got {type(source).__name__}."
        )
    table = read_table(source, label=label, layer=layer, encoding=encoding, text_columns=[id_col])
    frame = table.frame
    if isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame.columns:
        for key, value in (("lon_col", lon_col), ("lat_col", lat_col)):
            if value is not None:
                raise CoverageInputError(
                    f"{label}: {key}={value!r} applies to tables with coordinate columns; this source has "
                    f"geometry, which is used. Remove {key}."
                )
        gdf = geometry_in_crs(frame, rows=table.rows, crs=crs, crs_implied=table.crs_implied)
    else:
        gdf = points_from_columns(frame, rows=table.rows, lon_col=lon_col, lat_col=lat_col, crs=crs)
    return gdf, table.rows


def read_demand(
    source: str | os.PathLike[str] | pd.DataFrame | gpd.GeoDataFrame,
    *,
    population_col: str = "population",
    id_col: str | None = None,
    lon_col: str | None = None,
    lat_col: str | None = None,
    crs: Any = None,
    group: str = "residents",
    layer: str | int | None = None,
    encoding: str | None = None,
    edges: gpd.GeoDataFrame | WalkNetwork | None = None,
    spacing_m: float = DEFAULT_DEMAND_SPACING_M,
) -> gpd.GeoDataFrame:
    """Read demand points (or polygons) from a file or frame.

    Parameters
    ----------
    source
        A CSV file (points from ``lon_col``/``lat_col``; ``,`` ``;`` or tab
        delimited; UTF-8, GBK or Latin-1), a GeoJSON, GeoPackage, FlatGeobuf
        or Shapefile, a JSON list of records, a GeoDataFrame, or a DataFrame
        with lon/lat columns. Files are read with
        :func:`coverage._tabular.read_table` (regular files only, bounded size).
    population_col
        Column with the number of people per row (exact name; a misspelt one
        is an error with a "did you mean").
    id_col
        Column with unique row ids; ``None`` numbers the rows ``"0", "1", ...``.
    lon_col, lat_col
        Coordinate columns of a table; guessed (``lon``/``lng``/``longitude``,
        ``lat``/``latitude``, ...) when not given.
    crs
        CRS of the coordinates: default WGS-84 for a table and the file's own
        for a geometry file; ``"gcj02"`` and ``"bd09"`` (Chinese map
        coordinates) are converted to WGS-84 as in :func:`coverage.sites.read_sites`;
        a GeoJSON in metres needs its CRS here.
    group
        Group of the units.
    layer
        Layer of a multi-layer file (required when there are several).
    encoding
        Force the text encoding of a CSV/JSON file (detected otherwise).
    edges, spacing_m
        Street edges: polygons in the source are spread over them
        (``method="streets"`` of :func:`demand_from_polygons`); without edges
        polygons become one unit each (``method="centroid"``).

    Returns
    -------
    geopandas.GeoDataFrame
        Demand units (see the module docstring), in the source's CRS (WGS-84
        for lon/lat and converted GCJ-02/BD-09 tables; the edges' CRS for
        spread polygons). ``estimate`` comes from an ``estimate`` column of
        the source when there is one, else False.

    Raises
    ------
    CoverageInputError
        For a missing or unreadable file, several layers without ``layer=``,
        missing or misspelt columns, missing, non-numeric or out-of-range
        coordinates (naming the rows: spreadsheet row numbers for a CSV, the
        header being row 1), or any problem :func:`validate_demand` finds.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"lon": [114.05, 114.06], "lat": [22.54, 22.55],
    ...                       "population": [120, 80]})
    >>> units = read_demand(table)
    >>> units[["demand_id", "population"]].values.tolist()
    [['0', 120.0], ['1', 80.0]]

    """
    _check_group(group)
    frame, rows = _frame_of(
        source, id_col=id_col, lon_col=lon_col, lat_col=lat_col, crs=crs, layer=layer, encoding=encoding
    )
    name = rows.label
    clean, ids, population = _validate(
        frame, population_col=population_col, id_col=id_col, group_col=None, source_name=name, rows=rows
    )
    geoms = np.asarray(clean.geometry.array, dtype=object)
    is_point = shapely.get_type_id(geoms) == 0
    estimate = (
        clean["estimate"].fillna(False).astype(bool).to_numpy()
        if "estimate" in clean.columns
        else np.zeros(len(clean), dtype=bool)
    )
    parts = []
    if is_point.any():
        parts.append(
            _units(
                demand_id=ids[is_point],
                group=group,
                population=population[is_point],
                estimate=estimate[is_point],
                source_id=ids[is_point],
                geometry=geoms[is_point],
                crs=clean.crs,
            )
        )
    if not is_point.all():
        spacing_m = _check_spacing(spacing_m)
        method: Literal["streets", "centroid"] = "streets" if edges is not None else "centroid"
        units = _polygons_to_units(
            clean.loc[~is_point],
            ids[~is_point],
            population[~is_point],
            method=method,
            edges=edges,
            spacing_m=spacing_m,
            group=group,
        )
        if parts:
            units = units.to_crs(parts[0].crs)
        parts.append(units)
    if len(parts) == 1:
        out = parts[0]
    else:
        attrs = parts[1].attrs
        out = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=parts[0].crs)
        out.attrs = dict(attrs)
    _check_totals(out, {group: float(population.sum())}, what=f"read_demand({name})")
    return out


def read_h3_hexagons(
    csv_path: str | os.PathLike[str],
    *,
    id_col: str = "id",
    population_col: str = "population",
    lon_col: str | None = None,
    lat_col: str | None = None,
    encoding: str | None = None,
) -> gpd.GeoDataFrame:
    r"""Read a CSV of H3 cells with a population into hexagon polygons.

    Parameters
    ----------
    csv_path
        CSV with an H3 cell id column and a population column (other columns
        are kept). Read with :func:`coverage._tabular.read_table`.
    id_col
        Column with H3 cell ids (hex strings such as ``"89a901291abffff"``).
    population_col
        Column with the number of people per cell.
    lon_col, lat_col
        Columns with a point per cell, used when the ids are not valid H3 and
        to check the cells; guessed (``lon``/``lat``, ...) when not given. A
        name given must exist.
    encoding
        Force the text encoding (detected otherwise).

    Returns
    -------
    geopandas.GeoDataFrame
        One polygon per cell (EPSG:4326) built with ``h3.cell_to_boundary``, all
        columns of the CSV kept, ``id_col`` as str. Feed it to
        :func:`demand_from_polygons` with ``id_col=id_col``.

    Raises
    ------
    CoverageInputError
        For a missing file or column, bad populations or duplicate ids.

    Warns
    -----
    CoverageWarning
        When some ids are not valid H3 cells: then every row becomes the point
        at its lon/lat instead of a hexagon (the warning names the bad ids);
        also when a cell's lon/lat point lies outside its own hexagon.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "cells.csv"
    >>> _ = path.write_text("id,lon,lat,population\n89a901291abffff,-51.1582,-30.0538,10\n")
    >>> read_h3_hexagons(path).geom_type.tolist()
    ['Polygon']

    """
    import h3

    path = Path(csv_path)
    table = read_table(path, encoding=encoding, text_columns=[id_col])
    name = table.label
    id_col = str(resolve_column(list(table.frame.columns), id_col, key="id_col", label=name, what="H3 id"))
    frame = table.frame
    cells = frame[id_col].fillna("").astype(str).str.strip().to_numpy(dtype=object)
    valid = np.array([bool(c) and h3.is_valid_cell(c) for c in cells], dtype=bool)
    columns = list(frame.columns)
    lon_name = resolve_column(columns, lon_col, key="lon_col", label=name, guesses=LON_NAMES, required=False)
    lat_name = resolve_column(columns, lat_col, key="lat_col", label=name, guesses=LAT_NAMES, required=False)
    if valid.all():
        rings = [[(lng, lat) for lat, lng in h3.cell_to_boundary(c)] for c in cells]
        geometry = (
            shapely.polygons(rings)
            if len({len(r) for r in rings}) == 1
            else np.array([shapely.Polygon(r) for r in rings], dtype=object)
        )
        gdf = gpd.GeoDataFrame(frame.assign(**{id_col: cells}), geometry=geometry, crs="EPSG:4326")
        if lon_name is not None and lat_name is not None:
            lon = pd.to_numeric(frame[lon_name], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
            lat = pd.to_numeric(frame[lat_name], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
            off = np.array(
                [
                    not (math.isfinite(y) and math.isfinite(x) and abs(y) <= 90 and abs(x) <= 180)
                    or h3.latlng_to_cell(y, x, h3.get_resolution(c)) != c
                    for c, x, y in zip(cells, lon, lat, strict=True)
                ],
                dtype=bool,
            )
            if off.any():
                _warn(
                    f"{name}: the {lon_name}/{lat_name} point of {int(off.sum()):,} rows is not "
                    f"inside its H3 cell, ids {_few(cells[off].tolist())}; the hexagons from "
                    "the ids are used. Check that the coordinates belong to the ids."
                )
    else:
        _warn(
            f"{name}: {int((~valid).sum()):,} of {len(cells):,} values of {id_col!r} are not "
            f"valid H3 cells, e.g. {_few(cells[~valid].tolist())} ({table.rows.describe(~valid)}); using the "
            f"{lon_name or 'lon'}/{lat_name or 'lat'} points of all rows instead of hexagons."
        )
        gdf = points_from_columns(
            frame.assign(**{id_col: cells}), rows=table.rows, lon_col=lon_name, lat_col=lat_name, crs="EPSG:4326"
        )
    out, _, _ = _validate(
        gdf, population_col=population_col, id_col=id_col, group_col=None, source_name=name, rows=table.rows
    )
    return out


def _detect_population_col(frame: pd.DataFrame, *, source_name: str) -> str:
    columns = [c for c in frame.columns if c != frame.geometry.name]
    candidates = [
        c
        for c in columns
        if any(h in str(c).lower() for h in _POPULATION_NAME_HINTS)
        and pd.api.types.is_numeric_dtype(frame[c].dtype)
        and not pd.api.types.is_bool_dtype(frame[c].dtype)
    ]
    if len(candidates) == 1:
        return str(candidates[0])
    exact = [c for c in candidates if str(c).lower() == "population"]
    if len(exact) == 1:
        return str(exact[0])
    if not candidates:
        raise CoverageInputError(
            f"no population column found in {source_name}; the columns are "
            f"{_few(columns, 30)}. Pass population_col= naming the one with head counts."
        )
    raise CoverageInputError(
        f"several columns of {source_name} could be the population: {_few(candidates)} "
        f"(all columns: {_few(columns, 30)}). Pass population_col= to choose one."
    )


def read_population_grid(
    path: str | os.PathLike[str],
    *,
    population_col: str | None = None,
    layer: str | int | None = None,
    crs: Any = None,
    encoding: str | None = None,
) -> gpd.GeoDataFrame:
    """Read a population grid (cells with head counts) from a GeoPackage or similar.

    Parameters
    ----------
    path
        GeoPackage, GeoJSON, FlatGeobuf or Shapefile (read with
        :func:`coverage._tabular.read_table`).
    population_col
        Column with the number of people per cell. ``None`` auto-detects it: the
        one numeric column whose name looks like a population (``population``,
        ``pop...``, ``asukkaita``, ``inhabitants``, ...; an exact ``population``
        wins among several). A name given must exist exactly.
    layer
        Layer to read; required when the file holds several.
    crs
        CRS of a file that does not declare one (a GeoJSON in metres).
    encoding
        Text encoding of a Shapefile's attributes (or a GeoJSON), if not detected.

    Returns
    -------
    geopandas.GeoDataFrame
        The cells with all their columns; the population column is renamed to
        ``population`` (float64) and its original name kept in
        ``attrs["population_source_col"]``. Feed it to :func:`demand_from_polygons`.

    Raises
    ------
    CoverageInputError
        For a missing file, several layers without ``layer=``, no or several
        candidate population columns (listing the columns), a name clash with
        an existing ``population`` column, or bad values.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "grid.gpkg"
    >>> gpd.GeoDataFrame({"asukkaita": [5, 7]}, geometry=[box(0, 0, 250, 250),
    ...     box(250, 0, 500, 250)], crs="EPSG:3067").to_file(path)
    >>> read_population_grid(path)["population"].sum()
    np.float64(12.0)

    """
    table = read_table(Path(path), layer=layer, encoding=encoding)
    name = table.label
    if not (isinstance(table.frame, gpd.GeoDataFrame) and table.frame.geometry.name in table.frame.columns):
        raise CoverageInputError(
            f"{name} has no geometry; a population grid needs cell polygons (use read_demand for CSV points)."
        )
    frame = geometry_in_crs(table.frame, rows=table.rows, crs=crs, crs_implied=table.crs_implied)
    if population_col is None:
        column = _detect_population_col(frame, source_name=name)
    else:
        column = str(
            resolve_column(list(frame.columns), population_col, key="population_col", label=name, what="population")
        )
    if column != "population" and "population" in frame.columns:
        raise CoverageInputError(
            f"{name} has both {column!r} and 'population' columns; rename or drop "
            "'population' first, or pass population_col='population'."
        )
    frame = frame.rename(columns={column: "population"})
    out, _, _ = _validate(
        frame, population_col="population", id_col=None, group_col=None, source_name=name, rows=table.rows
    )
    out.attrs["population_source_col"] = column
    return out



# ---------------------------------------------------------------------------
# buildings
# ---------------------------------------------------------------------------

_NUMBER = re.compile(r"[-+]?\d+(?:[.,]\d+)?")


def _parse_levels(value: str | None, default: float) -> tuple[float, bool]:
    """Parse ``building:levels``: the first number; (default, False) when unusable."""
    if value is None:
        return default, True
    match = _NUMBER.search(value)
    if match is None:
        return default, False
    number = float(match.group().replace(",", "."))
    if not (math.isfinite(number) and 0 < number <= 200):
        return default, False
    return number, True


def demand_from_buildings(
    pbf_path: str | os.PathLike[str],
    total_population: float,
    *,
    area_crs: Any = None,
    default_levels: float = 1.0,
    residential_only: bool = True,
    group: str = "residents",
) -> gpd.GeoDataFrame:
    """Share a known population over the OSM buildings of a PBF by floor area.

    Every building area (closed way or multipolygon relation tagged
    ``building=*``) becomes one unit at its interior point (centroid if inside,
    else a point on its surface). Its floor area is the footprint area in
    ``area_crs`` times ``building:levels`` (first number of the tag, so
    ``"3;4"`` reads 3 and ``"2,5"`` reads 2.5; missing -> ``default_levels``;
    unparseable or out of (0, 200] -> ``default_levels``, counted). The total
    is shared in proportion to floor area.

    Parameters
    ----------
    pbf_path
        OSM PBF (or XML) file, read with pyosmium.
    total_population
        People to share (e.g. the census total of the area), > 0.
    area_crs
        Metric CRS for footprint areas; ``None`` uses the UTM zone of the
        buildings' centre.
    default_levels
        Levels assumed where the tag is missing or unusable.
    residential_only
        Leave out building types nobody lives in (``building=`` one of
        :data:`NON_RESIDENTIAL_BUILDINGS`: industrial, commercial, retail,
        church, garage, shed, ...). ``building=yes`` (type unknown) is kept.
        ``building=no`` is always left out.
    group
        Group of the units.

    Returns
    -------
    geopandas.GeoDataFrame
        Demand units in EPSG:4326, ``demand_id`` = ``source_id`` = ``"w<way id>"`` or
        ``"r<relation id>"``, ``estimate=True``. ``attrs`` hold
        ``"excluded"`` (dict of building type -> count left out, plus
        ``"building=no"``, ``"no footprint (node)"``, ``"not closed (way)"``,
        ``"zero area"``), ``"levels"`` (counts of tagged, defaulted-missing and
        unparseable tags), ``"area_crs"``, ``"floor_area_m2"`` (total) and
        ``"estimate_note"``.

    Raises
    ------
    CoverageInputError
        For a missing or unreadable file, a bad total or ``default_levels``, a
        geographic ``area_crs``, or no building left.

    Warns
    -----
    CoverageWarning
        Counting ``building:levels`` values that could not be parsed (with examples).

    Examples
    --------
    >>> units = demand_from_buildings("liechtenstein-latest.osm.pbf", 39_000)  # doctest: +SKIP
    >>> round(units["population"].sum())  # doctest: +SKIP
    39000

    """
    from coverage.osm.buildings import buildings_from_file

    _check_group(group)
    if not (
        isinstance(total_population, int | float | np.number)
        and math.isfinite(float(total_population))
        and float(total_population) > 0
    ):
        raise CoverageInputError(f"total_population must be a positive number of people, got {total_population!r}.")
    if not (math.isfinite(default_levels) and default_levels > 0):
        raise CoverageInputError(f"default_levels must be > 0, got {default_levels!r}.")
    path = Path(pbf_path)
    if not path.exists():
        raise CoverageInputError(f"OSM file {path} does not exist; check the path.")

    started = time.perf_counter()
    buildings = buildings_from_file(path, area_crs=area_crs)  # the OSM parsing lives in coverage.osm
    excluded: Counter[str] = Counter(buildings.attrs["skipped"])
    ids = buildings["building_id"].to_numpy(dtype=object)
    kind = buildings["building"].to_numpy(dtype=object)
    level_tags: list[str | None] = buildings["building_levels"].tolist()
    keep = kind != "no"
    if (~keep).any():
        excluded["building=no"] = int((~keep).sum())
    if residential_only:
        nonres = np.isin(kind, list(NON_RESIDENTIAL_BUILDINGS))
        for k, n in Counter(kind[nonres & keep].tolist()).items():
            excluded[str(k)] += n
        keep &= ~nonres

    levels = np.empty(len(level_tags), dtype=np.float64)
    bad_levels: list[str] = []
    tagged = 0
    for i, tag in enumerate(level_tags):
        levels[i], ok = _parse_levels(tag, default_levels)
        if tag is not None and ok:
            tagged += 1
        if not ok and keep[i]:
            bad_levels.append(f"{ids[i]}: {tag!r}")
    if bad_levels:
        _warn(
            f"{path}: {len(bad_levels):,} buildings have a building:levels value that is not a "
            f"number of floors (id: value) {_few(bad_levels, 5, quote=False)}; {default_levels:g} "
            "level(s) assumed for them."
        )

    if not keep.any():
        raise CoverageInputError(
            f"{path}: no building is left after excluding {dict(excluded)}; "
            "pass residential_only=False to keep every type."
        )
    crs = pyproj.CRS.from_user_input(buildings.attrs["area_crs"])
    floor = buildings["footprint_m2"].to_numpy(dtype=np.float64)[keep] * levels[keep]
    zero = floor <= 0
    if zero.any():
        excluded["zero area"] = int(zero.sum())
    kept = np.flatnonzero(keep)[~zero]
    floor = floor[~zero]
    total = float(total_population)
    population = total * floor / floor.sum()
    units = _units(
        demand_id=ids[kept],
        group=group,
        population=population,
        estimate=True,
        source_id=ids[kept],
        geometry=gpd.points_from_xy(buildings["lon"].to_numpy()[kept], buildings["lat"].to_numpy()[kept]),
        crs="EPSG:4326",
    )
    _check_totals(units, {group: total}, what="demand_from_buildings")
    units.attrs["excluded"] = dict(excluded)
    units.attrs["levels"] = {
        "tagged": tagged,
        "missing (default used)": int(sum(t is None for t in level_tags)),
        "unparseable (default used)": len(bad_levels),
    }
    units.attrs["area_crs"] = crs.to_string()
    units.attrs["floor_area_m2"] = float(floor.sum())
    units.attrs["estimate_note"] = (
        f"{total:,.0f} people shared over {len(units):,} OSM buildings in proportion to "
        f"floor area (footprint x building:levels, {default_levels:g} level where untagged); "
        "per-building counts are estimates."
    )
    logger.debug("demand_from_buildings: %d units in %.2f s", len(units), time.perf_counter() - started)
    return units


# ---------------------------------------------------------------------------
# estimates from density
# ---------------------------------------------------------------------------


def _highway_types(value: Any) -> list[str]:
    """Return the highway types of an edge (osmnx stores a list for merged edges)."""
    if isinstance(value, list | tuple | np.ndarray):
        return [str(v) for v in value]
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    text = str(value)
    if text.startswith("["):
        try:
            parsed = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return [text]
        if isinstance(parsed, list):
            return [str(v) for v in parsed]
    return [text]


def _study_area(
    area: BaseGeometry | gpd.GeoSeries | gpd.GeoDataFrame | None,
    lines: npt.NDArray[np.object_],
    crs: pyproj.CRS,
) -> BaseGeometry:
    if area is None:
        return shapely.convex_hull(shapely.multilinestrings(shapely.get_parts(lines)))
    if isinstance(area, gpd.GeoSeries | gpd.GeoDataFrame):
        _crs_of(area, "area")
        geom = area.to_crs(crs).union_all()
    elif isinstance(area, BaseGeometry):
        geom = area
    else:
        raise CoverageInputError(
            f"area must be a shapely polygon in the edges' CRS or a GeoSeries/GeoDataFrame, got {type(area).__name__}."
        )
    if geom.is_empty or shapely.get_type_id(geom) not in (3, 6):
        raise CoverageInputError(
            f"area must be a non-empty (Multi)Polygon, got {geom.geom_type}; for a district "
            "polygon intersected with the network, use district.intersection(hull)."
        )
    if not geom.is_valid:
        raise CoverageInputError("area polygon is invalid; repair it with shapely.make_valid.")
    return geom


def estimate_demand_along_streets(
    edges: gpd.GeoDataFrame | WalkNetwork,
    *,
    density_per_km2: float,
    area: BaseGeometry | gpd.GeoSeries | gpd.GeoDataFrame | None = None,
    highway: Sequence[str] | None = RESIDENTIAL_HIGHWAYS,
    street_weights: Mapping[str, float] | None = None,
    spacing_m: float = 50.0,
    group: str = "residents",
) -> gpd.GeoDataFrame:
    """Estimate residents from a density where there is no population data.

    The total is ``density_per_km2`` x the study area (``area``, else the convex
    hull of the edges). It is spread over the streets of the ``highway`` types
    inside the area: points every ~``spacing_m`` along each clipped street,
    each weighted by the metres it stands for times the street type's weight in
    ``street_weights`` (default :data:`DEFAULT_STREET_WEIGHTS`: residential and
    living streets 1.0, unclassified 0.75, service, pedestrian, footway and
    tertiary 0.5, secondary, primary and path 0.25; a listed type without a
    weight gets 0.5). An edge with several types (merged by osmnx) takes the
    largest weight among its listed types.

    Parameters
    ----------
    edges
        Street edges: GeoDataFrame of LineStrings in a metric CRS with a
        ``highway`` column (or a :class:`~coverage.network.WalkNetwork`).
    density_per_km2
        Residents per km², e.g. ``FUTIAN_POPULATION_2020 / FUTIAN_AREA_KM2``.
    area
        Study area: a shapely polygon in the edges' CRS, or a GeoSeries /
        GeoDataFrame in any CRS (reprojected, unioned). Use the district polygon
        intersected with the network's hull so the total matches the streets.
    highway
        OSM highway types that residents live along; ``None`` uses every edge
        with weight 1 (no ``highway`` column needed).
    street_weights
        Relative residents per metre by highway type.
    spacing_m
        Distance between points along a street, in metres.
    group
        Group of the units.

    Returns
    -------
    geopandas.GeoDataFrame
        Demand units in the edges' CRS, all ``estimate=True``; ``source_id`` is the
        edge's index label (``"u-v-key"`` for osmnx edges). ``attrs`` hold
        ``"estimate_note"`` (how it was estimated), ``"area_km2"``,
        ``"total_population"`` and ``"street_km"``.

    Raises
    ------
    CoverageInputError
        For a bad density, area or edges, or no street of the listed types inside
        the area.

    Warns
    -----
    EstimateWarning
        Always: the result is a density estimate, not data.

    Examples
    --------
    >>> import warnings
    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString, box
    >>> streets = gpd.GeoDataFrame({"highway": ["residential", "primary"]},
    ...     geometry=[LineString([(0, 0), (1000, 0)]), LineString([(0, 500), (1000, 500)])],
    ...     crs="EPSG:32650")
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", EstimateWarning)
    ...     units = estimate_demand_along_streets(streets, density_per_km2=10_000,
    ...                                           area=box(0, -500, 1000, 500))
    >>> units.groupby(units.geometry.y)["population"].sum().round().tolist()
    [8000.0, 2000.0]

    """
    _check_group(group)
    spacing_m = _check_spacing(spacing_m)
    if not (
        isinstance(density_per_km2, int | float | np.number)
        and math.isfinite(float(density_per_km2))
        and float(density_per_km2) > 0
    ):
        raise CoverageInputError(
            f"density_per_km2 must be a positive number of residents per km², got "
            f"{density_per_km2!r}; e.g. FUTIAN_POPULATION_2020 / FUTIAN_AREA_KM2."
        )
    streets = _edges_frame(edges)
    crs = pyproj.CRS.from_user_input(streets.crs)
    weights_by_type = dict(DEFAULT_STREET_WEIGHTS if street_weights is None else street_weights)
    if highway is None:
        weight = np.ones(len(streets), dtype=np.float64)
        type_note = "all streets weighted equally"
    else:
        if "highway" not in streets.columns:
            raise CoverageInputError(
                "edges have no 'highway' column to choose residential streets by; "
                "pass highway=None to use every edge with equal weight."
            )
        listed = set(highway)
        weight = np.array(
            [
                max(
                    (weights_by_type.get(t, _UNLISTED_STREET_WEIGHT) for t in _highway_types(v) if t in listed),
                    default=0.0,
                )
                for v in streets["highway"].to_numpy()
            ],
            dtype=np.float64,
        )
        type_note = (
            "weighted by street type ("
            + ", ".join(f"{t} {weights_by_type.get(t, _UNLISTED_STREET_WEIGHT):g}" for t in highway)
            + ")"
        )
    if (weight < 0).any() or not np.isfinite(weight).all():
        raise CoverageInputError("street_weights must be finite and >= 0.")
    use = weight > 0
    lines = np.asarray(streets.geometry.array, dtype=object)
    study = _study_area(area, lines, crs)
    area_km2 = float(study.area) / 1e6
    total = float(density_per_km2) * area_km2
    pieces, _, line_of_piece = _clip_lines(np.array([study], dtype=object), lines[use])
    if pieces.size == 0:
        raise CoverageInputError(
            f"no street of the types {list(highway) if highway else 'any'} lies inside the "
            "study area; check the area's CRS and the highway types."
        )
    edge_index = np.flatnonzero(use)[line_of_piece]
    _check_points_memory(pieces, spacing_m)
    points, piece_of, metres = _points_along(pieces, spacing_m)
    unit_edge = edge_index[piece_of]
    w = metres * weight[unit_edge]
    population = _share(w, np.zeros(w.size, dtype=np.int64), np.array([total]))
    labels = streets.index[unit_edge]
    source = np.array(
        ["-".join(map(str, lab)) if isinstance(lab, tuple) else str(lab) for lab in labels],
        dtype=object,
    )
    units = _units(
        demand_id=_numbered(source),
        group=group,
        population=population,
        estimate=True,
        source_id=source,
        geometry=points,
        crs=crs,
    )
    _check_totals(units, {group: total}, what="estimate_demand_along_streets")
    street_km = float(metres.sum()) / 1000
    note = (
        f"Estimated, not census data: {float(density_per_km2):,.0f} residents/km² x "
        f"{area_km2:,.2f} km² study area = {total:,.0f} residents, spread along "
        f"{street_km:,.1f} km of streets ({type_note}), a point every ~{spacing_m:g} m."
    )
    units.attrs.update(estimate_note=note, area_km2=area_km2, total_population=total, street_km=street_km)
    _warn(note, EstimateWarning)
    return units


# ---------------------------------------------------------------------------
# several groups
# ---------------------------------------------------------------------------


def _check_schema(gdf: Any, what: str) -> None:
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise CoverageInputError(f"{what} is a {type(gdf).__name__}, not a demand GeoDataFrame.")
    missing = [c for c in DEMAND_COLUMNS if c not in gdf.columns]
    if missing:
        raise CoverageInputError(
            f"{what} lacks the demand columns {missing}; build it with a coverage.demand "
            "reader (read_demand, demand_from_polygons, ...)."
        )


def combine_demand(*frames: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Stack demand frames of different groups into one.

    Parameters
    ----------
    *frames
        Demand frames (the module's schema). Frames in another CRS than the first
        are reprojected to the first one's CRS.

    Returns
    -------
    geopandas.GeoDataFrame
        All units; ``attrs["estimate_note"]`` joins the frames' notes.

    Raises
    ------
    CoverageInputError
        For no frames, a frame outside the schema, or a (group, demand_id) pair
        that appears twice (rename a group, e.g. with :func:`demand_share`).

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"lon": [114.05], "lat": [22.54], "population": [100]})
    >>> both = combine_demand(read_demand(table), read_demand(table, group="workers"))
    >>> both.groupby("group")["population"].sum().to_dict()
    {'residents': 100.0, 'workers': 100.0}

    """
    if not frames:
        raise CoverageInputError("combine_demand needs at least one demand frame.")
    for i, frame in enumerate(frames):
        _check_schema(frame, f"frame {i}")
        _crs_of(frame, f"frame {i}")
    crs = frames[0].crs
    parts = [f if f.crs == crs else f.to_crs(crs) for f in frames]
    out = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=crs)
    keys = pd.MultiIndex.from_arrays([out["group"].astype(str), out["demand_id"].astype(str)])
    dup = keys.duplicated(keep="first")
    if dup.any():
        pairs = sorted({(str(g), str(d)) for g, d in keys[dup]})
        raise CoverageInputError(
            f"{len(pairs):,} (group, demand_id) pairs appear in more than one frame: "
            f"{_few(pairs)}; give each frame its own group (group= of the reader)."
        )
    expected = {str(g): float(v) for f in frames for g, v in f.groupby("group")["population"].sum().items()}
    _check_totals(out, expected, what="combine_demand")
    notes = [f.attrs["estimate_note"] for f in frames if f.attrs.get("estimate_note")]
    out.attrs = {"estimate_note": " ".join(dict.fromkeys(notes))} if notes else {}
    return out


def demand_share(
    gdf: gpd.GeoDataFrame,
    share: float,
    *,
    group: str,
    from_group: str | None = None,
) -> gpd.GeoDataFrame:
    """Scale a demand frame by a demographic share, as a new group (an estimate).

    Parameters
    ----------
    gdf
        Demand units (the module's schema).
    share
        Fraction in (0, 1], e.g. 0.12 for residents aged 65 and over.
    group
        Name of the new group, e.g. ``"elderly"``.
    from_group
        Group of ``gdf`` to scale; required when ``gdf`` holds several.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy with ``population`` x ``share``, ``group`` set, ``estimate=True``
        and ``attrs["estimate_note"]`` saying the share is a flat assumption.

    Raises
    ------
    CoverageInputError
        For a share outside (0, 1], a frame outside the schema, or several groups
        without ``from_group``.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"lon": [114.05], "lat": [22.54], "population": [100]})
    >>> elderly = demand_share(read_demand(table), 0.12, group="elderly")
    >>> elderly[["group", "population", "estimate"]].values.tolist()
    [['elderly', 12.0, True]]

    """
    _check_schema(gdf, "gdf")
    _check_group(group)
    if not (isinstance(share, int | float) and math.isfinite(share) and 0 < share <= 1):
        raise CoverageInputError(f"share must be a fraction in (0, 1], got {share!r}.")
    groups = list(dict.fromkeys(gdf["group"].astype(str)))
    if from_group is None:
        if len(groups) > 1:
            raise CoverageInputError(f"the frame holds several groups {groups}; pass from_group= to pick one.")
        source = gdf
        from_group = groups[0]
    else:
        if from_group not in groups:
            raise CoverageInputError(f"from_group {from_group!r} is not in the frame; its groups are {groups}.")
        source = gdf.loc[gdf["group"].astype(str) == from_group]
    out = source.copy().reset_index(drop=True)
    out["population"] = out["population"].to_numpy(dtype=np.float64) * float(share)
    out["group"] = _str_series(np.full(len(out), group, dtype=object))
    out["estimate"] = True
    expected = float(source["population"].sum()) * float(share)
    _check_totals(out, {group: expected}, what="demand_share")
    note = f"{group}: a flat {share:.0%} share of {from_group} in every unit (assumed, not counted)."
    previous = source.attrs.get("estimate_note")
    out.attrs = {"estimate_note": f"{previous} {note}" if previous else note}
    return out
