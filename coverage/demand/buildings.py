"""A known population shared over buildings by floor area (:func:`demand_from_buildings`).

The buildings come as the table of :func:`coverage.osm.buildings_from_file`
(the OSM parsing lives in the osm package); a path to an OSM file is read
with that function first.
"""

from __future__ import annotations

import math
import os
import re
from collections import Counter
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage._errors import CoverageInputError, warn
from coverage._rows import few

from .schema import (
    _check_group,
    _check_totals,
    _units,
)

__all__ = ["NON_RESIDENTIAL_BUILDINGS", "demand_from_buildings"]

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


_NUMBER = re.compile(r"[-+]?\d+(?:[.,]\d+)?")


def _parse_levels(value: str | None, default: float) -> tuple[float, bool]:
    """Parse ``building:levels``: the first number; (default, False) when unusable."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return default, True
    match = _NUMBER.search(str(value))
    if match is None:
        return default, False
    number = float(match.group().replace(",", "."))
    if not (math.isfinite(number) and 0 < number <= 200):
        return default, False
    return number, True


def _check_buildings(frame: pd.DataFrame) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise CoverageInputError(
            f"buildings must be the table of coverage.osm.buildings_from_file (or a path to an OSM file), "
            f"got {type(frame).__name__}."
        )
    from coverage.osm.buildings import BUILDING_COLUMNS

    missing = [c for c in BUILDING_COLUMNS if c not in frame.columns]
    if missing:
        raise CoverageInputError(
            f"the buildings table lacks the columns {missing} (it has {few(list(frame.columns), 20)}); build it "
            "with coverage.osm.buildings_from_file(path)."
        )
    if len(frame) == 0:
        raise CoverageInputError("the buildings table has no rows; there is nobody to place.")
    ids = frame["building_id"]
    dup = ids.duplicated(keep=False).to_numpy()
    if dup.any():
        raise CoverageInputError(
            f"the buildings table repeats the ids {few(sorted(set(ids[dup].astype(str))))}; ids must be unique."
        )
    area = pd.to_numeric(frame["footprint_m2"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    lon = pd.to_numeric(frame["lon"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    lat = pd.to_numeric(frame["lat"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~(np.isfinite(area) & (area >= 0) & np.isfinite(lon) & np.isfinite(lat))
    bad |= (np.abs(lon) > 180) | (np.abs(lat) > 90)
    if bad.any():
        raise CoverageInputError(
            f"{int(bad.sum()):,} buildings have a missing, negative or non-finite footprint_m2 or a lon/lat out "
            f"of range, ids {few(ids[bad].astype(str).tolist())}; fix those rows."
        )


def demand_from_buildings(
    buildings: pd.DataFrame | str | os.PathLike[str],
    total_population: float,
    *,
    area_crs: Any = None,
    default_levels: float = 1.0,
    residential_only: bool = True,
    group: str = "residents",
) -> gpd.GeoDataFrame:
    """Share a known population over buildings by floor area.

    Every building becomes one unit at its interior point (centroid if inside
    the footprint, else a point on its surface). Its floor area is the
    footprint area times ``building:levels`` (first number of the tag, so
    ``"3;4"`` reads 3 and ``"2,5"`` reads 2.5; missing -> ``default_levels``;
    unparseable or out of (0, 200] -> ``default_levels``, counted). The total
    is shared in proportion to floor area.

    Parameters
    ----------
    buildings
        The table of :func:`coverage.osm.buildings_from_file` (columns
        ``building_id``, ``building``, ``building_levels``, ``lon``, ``lat``,
        ``footprint_m2``), or, as a convenience, the path of an OSM PBF/XML
        file, which is read with that function first.
    total_population
        People to share (e.g. the census total of the area), > 0.
    area_crs
        For a path: metric CRS for footprint areas; ``None`` uses the UTM zone
        of the buildings' centre. (A table carries its areas already.)
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
        Demand units in EPSG:4326, ``demand_id`` = ``source_id`` = the building
        id (``"w<way id>"`` or ``"r<relation id>"``), ``estimate=True``.
        ``attrs`` hold ``"excluded"`` (dict of reason -> count left out:
        building types, ``"building=no"``, ``"zero area"``, and what the OSM
        reader skipped: ``"no footprint (node)"``, ``"not closed (way)"``,
        ``"broken geometry"``), ``"levels"`` (counts of tagged,
        defaulted-missing and unparseable tags), ``"area_crs"``,
        ``"floor_area_m2"`` (total) and ``"estimate_note"``.

    Raises
    ------
    CoverageInputError
        For a missing or unreadable file, a table without the columns, a bad
        total or ``default_levels``, or no building left.

    Warns
    -----
    CoverageWarning
        Counting ``building:levels`` values that could not be parsed (with examples).

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"building_id": ["w1", "w2"], "building": ["house", "apartments"],
    ...     "building_levels": [None, "4"], "lon": [9.52, 9.53], "lat": [47.14, 47.15],
    ...     "footprint_m2": [100.0, 100.0]})
    >>> demand_from_buildings(table, 50)["population"].tolist()
    [10.0, 40.0]
    """
    _check_group(group)
    if not (
        isinstance(total_population, int | float | np.number)
        and math.isfinite(float(total_population))
        and float(total_population) > 0
    ):
        raise CoverageInputError(f"total_population must be a positive number of people, got {total_population!r}.")
    if not (isinstance(default_levels, int | float) and math.isfinite(default_levels) and default_levels > 0):
        raise CoverageInputError(f"default_levels must be > 0, got {default_levels!r}.")
    if isinstance(buildings, str | os.PathLike):
        from coverage.osm.buildings import buildings_from_file

        buildings = buildings_from_file(buildings, area_crs=area_crs)
    elif area_crs is not None:
        raise CoverageInputError(
            "area_crs applies to an OSM file; a buildings table carries its footprint areas already. Remove area_crs."
        )
    _check_buildings(buildings)
    source = str(buildings.attrs.get("source", "the buildings table"))
    ids = buildings["building_id"].astype(str).to_numpy(dtype=object)
    kind = buildings["building"].fillna("yes").astype(str).to_numpy(dtype=object)
    level_tags = buildings["building_levels"].to_numpy(dtype=object)
    excluded: Counter[str] = Counter({str(k): int(v) for k, v in buildings.attrs.get("skipped", {}).items()})
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
    tagged = missing = 0
    for i, tag in enumerate(level_tags):
        levels[i], ok = _parse_levels(tag, default_levels)
        absent = tag is None or (isinstance(tag, float) and math.isnan(tag))
        missing += absent
        if not absent and ok:
            tagged += 1
        if not ok and keep[i]:
            bad_levels.append(f"{ids[i]}: {tag!r}")
    if bad_levels:
        warn(
            f"{source}: {len(bad_levels):,} buildings have a building:levels value that is not a "
            f"number of floors (id: value) {few(bad_levels, 5, quote=False)}; {default_levels:g} "
            "level(s) assumed for them."
        )
    if not keep.any():
        raise CoverageInputError(
            f"{source}: no building is left after excluding {dict(excluded)}; "
            "pass residential_only=False to keep every type."
        )
    floor = buildings["footprint_m2"].to_numpy(dtype=np.float64)[keep] * levels[keep]
    zero = floor <= 0
    if zero.any():
        excluded["zero area"] = int(zero.sum())
    kept = np.flatnonzero(keep)[~zero]
    floor = floor[~zero]
    if kept.size == 0:
        raise CoverageInputError(f"{source}: every building left has a zero footprint; there is nobody to place.")
    total = float(total_population)
    population = total * (floor / floor.sum())
    points = gpd.points_from_xy(buildings["lon"].to_numpy()[kept], buildings["lat"].to_numpy()[kept])
    units = _units(
        demand_id=ids[kept],
        group=group,
        population=population,
        estimate=True,
        source_id=ids[kept],
        geometry=np.asarray(points, dtype=object),
        crs="EPSG:4326",
    )
    _check_totals(units, {group: total}, what="demand_from_buildings")
    units.attrs["excluded"] = dict(excluded)
    units.attrs["levels"] = {
        "tagged": tagged,
        "missing (default used)": int(missing),
        "unparseable (default used)": len(bad_levels),
    }
    units.attrs["area_crs"] = str(buildings.attrs.get("area_crs", ""))
    units.attrs["floor_area_m2"] = float(floor.sum())
    units.attrs["estimate_note"] = (
        f"{total:,.0f} people shared over {len(units):,} OSM buildings in proportion to "
        f"floor area (footprint x building:levels, {default_levels:g} level where untagged); "
        "per-building counts are estimates."
    )
    return units
