"""The demand schema, the figures shared by the readers, and validation.

Every demand reader returns one :class:`geopandas.GeoDataFrame` of *demand
units* with exactly the columns :data:`DEMAND_COLUMNS` (see
:mod:`coverage.demand`); the helpers here build such frames (:func:`_units`),
check that the population is conserved (:func:`_check_totals`) and validate
inputs (:func:`validate_demand`), naming the rows by id, or as the user counts
them (:class:`~coverage._rows.RowRef`) when there is no id column.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyproj
import shapely

from coverage._defaults import MIN_SPACING_M
from coverage._errors import CoverageInputError, CoverageInternalError, warn
from coverage._rows import RowRef, few, resolve_column
from coverage._types import BoolArray, FloatArray, ObjectArray
from coverage._validate import as_distance

__all__ = [
    "DEMAND_COLUMNS",
    "FUTIAN_AREA_KM2",
    "FUTIAN_POPULATION_2020",
    "validate_demand",
]

# District figures for the Shenzhen scenarios. Source: 7th national population
# census of China (2020), as published by the Shenzhen Statistics Bureau; areas
# are the official district areas (see ../shared/data/DATA.md).
FUTIAN_POPULATION_2020 = 1_553_225
FUTIAN_AREA_KM2 = 78.7

DEMAND_COLUMNS: tuple[str, ...] = (
    "demand_id",
    "group",
    "population",
    "estimate",
    "source_id",
    "geometry",
)
"""Columns of every demand frame, in order."""

_REL_TOL = 1e-9
# Memory per demand unit while spreading (measured about 360 B of Python objects
# at the peak, plus the GEOS point): used for the estimate before allocating.
_BYTES_PER_UNIT = 600


def _where(source_name: str | None) -> str:
    return f" in {source_name}" if source_name else ""


def _ids_as_str(values: pd.Series, *, what: str, rows: RowRef | None = None) -> ObjectArray:
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
            raise CoverageInternalError(
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
            "first, e.g. edges.to_crs(edges.estimateutm_crs_for()) or osmnx.project_graph(G)."
        )
    unit = (crs.axis_info[0].unit_name or "").lower() if crs.axis_info else ""
    if unit not in {"metre", "meter", "m"}:
        raise CoverageInputError(
            f"{what} use the CRS {crs.to_string()} whose unit is {unit!r}, not metres; "
            "reproject them to a metric CRS such as the local UTM zone."
        )


def _interior_points(geoms: ObjectArray) -> ObjectArray:
    """Centroid where it lies strictly inside the polygon, else a point on its surface."""
    centroids = shapely.centroid(geoms)
    inside = shapely.contains_properly(geoms, centroids)
    out = np.asarray(shapely.point_on_surface(geoms), dtype=object)
    out[inside] = centroids[inside]
    return out


def _population_values(
    frame: pd.DataFrame, column: str, which: Callable[[BoolArray], str], *, where: str, label: str
) -> FloatArray:
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
            f"values {few(sample, quote=False)} in {which(bad_text)}; clean them to plain numbers "
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


def _check_overlaps(geoms: ObjectArray, ids: ObjectArray, *, where: str) -> None:
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
        warn(
            f"{len(pairs):,} pairs of demand polygons{where} overlap each other, e.g. "
            f"{few(pairs, 5)}; people in the overlaps are counted twice. Dissolve or clip "
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
) -> tuple[gpd.GeoDataFrame, ObjectArray, FloatArray]:
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

    def which(mask: BoolArray) -> str:
        return f"ids {few(ids[mask].tolist())}" if id_col is not None else rows.describe(mask)

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
            f" {few(dup_ids)} ({rows.describe(np.asarray(dup))}); ids must be unique. Fix the id "
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
        warn(
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


def _check_schema(gdf: Any, what: str) -> None:
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise CoverageInputError(f"{what} is a {type(gdf).__name__}, not a demand GeoDataFrame.")
    missing = [c for c in DEMAND_COLUMNS if c not in gdf.columns]
    if missing:
        raise CoverageInputError(
            f"{what} lacks the demand columns {missing}; build it with a coverage.demand "
            "reader (read_demand, demand_from_polygons, ...)."
        )
