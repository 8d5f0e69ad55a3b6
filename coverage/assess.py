"""Coverage: who lives within the walking radius of a hall, counted exactly once.

Halls and demand units are snapped onto the network together (each access
walk counts), then one multi-source search gives every unit its nearest hall
and its distance, and bounded searches count how many halls reach it
(redundancy). Each unit gets one status:

``covered``      nearest hall within the radius;
``uncovered``    on the network, but every hall is farther;
``unreachable``  farther than the snap limit from any street, or on a part of
                 the network no hall is on.

Totals by status add up exactly to the input total (checked in code). The
straight-line circle of the same radius is counted side by side, so the
overstatement of the circle is a headline figure.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from . import _defaults as defaults
from ._errors import CoverageInputError, CoverageInternalError
from ._frames import place_sites, site_frame
from ._reach import reach_from_sites
from ._validate import as_distance, as_radii, as_speed
from .gaps import find_gaps
from .network import WalkNetwork
from .sites import Snap
from .snapped import SnappedDemand, snap_demand
from .tables import HEADLINE_COLUMNS, STATUSES, area_names, areas_table, circle_covered, halls_table, summary_table

__all__ = ["HEADLINE_COLUMNS", "STATUSES", "CoverageResult", "assess_coverage", "group_radii"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class CoverageResult:
    """Coverage of demand by halls within a walking threshold.

    Attributes
    ----------
    units : geopandas.GeoDataFrame
        One row per demand unit (input order): ``demand_id``, ``group``,
        ``population``, ``estimate``, ``status``, ``distance_m`` (network
        distance to the nearest hall, access walks included; inf if none),
        ``walk_min`` (that distance in minutes at the group's walking speed),
        ``threshold_m`` (the group's threshold), ``nearest_site`` (id or
        None), ``halls_within`` (redundancy), ``access_m``, ``circle_covered``
        (within the straight-line circle of a hall), ``gap_id`` (for uncovered
        units), geometry (network CRS).
    halls : pandas.DataFrame
        Per hall: ``site_id``, ``name``, ``snapped``, ``population_served``
        (residents whose nearest hall it is, within the threshold, each
        counted once) and ``population_within`` (everyone it reaches) per group.
    areas : pandas.DataFrame or None
        Per area polygon (district, sub-district) and group: population by
        status and circle-covered; ``units`` then has an ``area`` column.
    gaps : geopandas.GeoDataFrame
        Gap areas of uncovered residents (see :func:`coverage.gaps.find_gaps`).
    summary : pandas.DataFrame
        Headline numbers per group: totals by status, shares, circle coverage
        and its overstatement in percentage points.
    radius_m : float
        The threshold in metres of the main group (``residents``, else the first).
    minutes : float or None
        The threshold in walking minutes, when it was given as time.
    walk_speed_kmh : float
        Walking speed of the main group.
    radius_by_group : dict
        Threshold in metres per group (differs with per-group speeds and minutes).
    estimate : bool
        True if any population figure is an estimate.
    estimate_note : str
    timings : dict
    communities : pandas.DataFrame or None
        The same per community polygon; ``units`` then has a ``community`` column.
    demand : SnappedDemand or None
        The demand as placed on the network (reused by :func:`coverage.plan.plan_sites`
        and :func:`coverage.services.assess_services` instead of snapping again).
    """

    units: gpd.GeoDataFrame
    halls: pd.DataFrame
    areas: pd.DataFrame | None
    gaps: gpd.GeoDataFrame
    summary: pd.DataFrame
    radius_m: float
    minutes: float | None = None
    walk_speed_kmh: float = defaults.DEFAULT_WALK_SPEED_KMH
    radius_by_group: dict[str, float] = field(default_factory=dict)
    estimate: bool = False
    estimate_note: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    demand: SnappedDemand | None = None
    communities: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        _check_invariants(self.units)

    @property
    def unit_snap(self) -> Snap | None:
        """Where each unit sits on the network (same order as ``units``), from :attr:`demand`."""
        return self.demand.snap if self.demand is not None else None

    def threshold_text(self, group: str | None = None) -> str:
        """Return the threshold as words, e.g. ``"500 m walk"`` or ``"10-minute walk (750 m)"``."""
        r = self.radius_by_group.get(group, self.radius_m) if group else self.radius_m
        if self.minutes is not None:
            return f"{self.minutes:g}-minute walk ({r:,.0f} m)"
        return f"{r:g} m walk"

    def headline(self, group: str | None = None) -> str:
        """One sentence per group with the headline figures."""
        rows = self.summary if group is None else self.summary[self.summary["group"] == group]
        lines = []
        for row in rows.itertuples():
            r = self.radius_by_group.get(str(row.group), self.radius_m)
            lines.append(
                f"{row.group}: {row.covered:,.0f} of {row.total:,.0f} "
                f"({row.covered_share:.1%}) live within a {self.threshold_text(str(row.group))} of a hall; "
                f"the straight-line {r:g} m circle claims {row.circle_covered:,.0f} "
                f"({row.circle_share:.1%}), overstating by {row.circle_overstatement_pp:.1f} points; "
                f"{row.uncovered:,.0f} uncovered, {row.unreachable:,.0f} unreachable."
            )
        text = "\n".join(lines)
        if self.estimate:
            text += f"\nESTIMATE: {self.estimate_note}"
        return text

    def __repr__(self) -> str:
        return (
            f"CoverageResult({self.threshold_text()}, {len(self.units):,} units, {len(self.gaps)} gaps)\n"
            + self.headline()
        )

    def _repr_html_(self) -> str:
        import html

        table = self.summary[HEADLINE_COLUMNS].to_html(
            index=False,
            formatters={
                "total": "{:,.0f}".format,
                "covered": "{:,.0f}".format,
                "circle_covered": "{:,.0f}".format,
                "uncovered": "{:,.0f}".format,
                "unreachable": "{:,.0f}".format,
                "covered_share": "{:.1%}".format,
                "circle_share": "{:.1%}".format,
                "circle_overstatement_pp": "{:.1f}".format,
            },
        )
        note = f"<p><b>Estimate:</b> {html.escape(self.estimate_note)}</p>" if self.estimate else ""
        gaps = ""
        if len(self.gaps):
            top = self.gaps.drop(columns="geometry").head(10)
            gaps = "<p>Largest gaps</p>" + top.to_html(
                index=False,
                formatters={
                    "population": "{:,.0f}".format,
                    "centroid_x": "{:,.1f}".format,
                    "centroid_y": "{:,.1f}".format,
                    "area_km2": "{:,.3f}".format,
                    "nearest_hall_m": "{:,.0f}".format,
                    "mean_distance_m": "{:,.0f}".format,
                },
            )
        return (
            f"<p><b>Coverage within a {html.escape(self.threshold_text())}</b> ({len(self.units):,} demand units, "
            f"{len(self.halls):,} halls)</p>{table}{note}{gaps}"
        )

    def to_file(self, path: str | os.PathLike[str]) -> Path:
        """Write a GeoPackage with layers residents, gaps, coverage_summary, coverage_by_hall (and _by_area)."""
        from .io import coverage_layers, write_gpkg

        return write_gpkg(coverage_layers(self), path)

    def to_csv(self, folder: str | os.PathLike[str]) -> list[Path]:
        """Write the same tables as CSV for people (see :mod:`coverage.io`): residents.csv, gaps.csv, ..."""
        from .io import coverage_layers, write_csvs

        return list(write_csvs(coverage_layers(self), folder).values())

    def to_excel(self, path: str | os.PathLike[str], *, lang: str = "zh") -> Path:
        """Write the same tables as an Excel workbook (:func:`coverage.io.write_xlsx`; big tables stay in CSV)."""
        from .io import coverage_layers, write_xlsx

        return write_xlsx(coverage_layers(self), path, lang=lang)


def _plain(frame: Any) -> Any:
    """Make a frame writable by GDAL: inf -> NaN, object columns -> str."""
    out = frame.copy()
    for col in out.columns:
        if col == getattr(out, "_geometry_column_name", None):
            continue
        if pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].replace([np.inf, -np.inf], np.nan)
        elif out[col].dtype == object:
            out[col] = out[col].astype("string")
    return out


def group_radii(
    groups: list[str],
    *,
    radius_m: float | None = None,
    minutes: float | None = None,
    walk_speed_kmh: float = defaults.DEFAULT_WALK_SPEED_KMH,
    group_walk_speed_kmh: Mapping[str, float] | None = None,
) -> tuple[dict[str, float], dict[str, float]]:
    """Threshold in metres and walking speed per group.

    A threshold in metres is the same for every group; a threshold in minutes
    reaches less far for slower groups. Speeds: ``group_walk_speed_kmh[g]``,
    else the default of known groups (``elderly`` 3.6 km/h), else
    ``walk_speed_kmh``.

    Examples
    --------
    >>> group_radii(["residents", "elderly"], minutes=10)[0]
    {'residents': 750.0, 'elderly': 600.0}
    """
    speed = as_speed(walk_speed_kmh)
    given = dict(group_walk_speed_kmh or {})
    speeds: dict[str, float] = {}
    for g in groups:
        if g in given:
            speeds[g] = as_speed(given[g], name=f"group_walk_speed_kmh[{g!r}]")
        elif g != "residents" and g in defaults.GROUP_WALK_SPEED_KMH:
            speeds[g] = defaults.GROUP_WALK_SPEED_KMH[g]
        else:
            speeds[g] = speed
    if minutes is not None:
        if radius_m is not None:
            raise CoverageInputError("give radius_m (metres) or minutes (walking time), not both.")
        mins = float(as_radii(minutes=minutes, walk_speed_kmh=speed).minutes[0])  # type: ignore[index]
        radii = {g: float(as_radii(minutes=mins, walk_speed_kmh=v).metres[0]) for g, v in speeds.items()}
    else:
        r = as_distance(defaults.DEFAULT_RADIUS_M if radius_m is None else radius_m, name="radius_m")
        radii = dict.fromkeys(speeds, r)
    return radii, speeds


def assess_coverage(
    net: WalkNetwork,
    halls: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame | SnappedDemand,
    *,
    radius_m: float | None = None,
    minutes: float | None = None,
    walk_speed_kmh: float = defaults.DEFAULT_WALK_SPEED_KMH,
    group_walk_speed_kmh: Mapping[str, float] | None = None,
    max_snap_m: float = defaults.DEFAULT_MAX_SNAP_M,
    demand_max_snap_m: float | None = None,
    areas: gpd.GeoDataFrame | None = None,
    area_name_col: str | None = None,
    communities: gpd.GeoDataFrame | None = None,
    community_name_col: str | None = None,
    gap_min_population: float = 0.0,
    id_col: str = "site_id",
    name_col: str | None = "name",
) -> CoverageResult:
    """Count the residents within a network walk of a hall.

    Parameters
    ----------
    net : WalkNetwork
        The prepared walking network.
    halls : GeoDataFrame
        Hall points with unique ids (see :func:`coverage.sites.read_sites`).
        May be empty: then every resident near a street is ``uncovered``.
    demand : GeoDataFrame or SnappedDemand
        Demand units as returned by :mod:`coverage.demand` (points with
        ``demand_id``, ``group``, ``population``; any CRS, reprojected), or
        already placed on the network by :func:`coverage.snapped.snap_demand`.
    radius_m : float, optional
        Walking distance in metres within which a resident counts as
        covered (default 500).
    minutes : float, optional
        Walking time instead of distance, at each group's walking speed.
    walk_speed_kmh : float, default 4.5
        Walking speed of residents (minutes in the tables; metres from ``minutes``).
    group_walk_speed_kmh : mapping, optional
        Walking speed per group, e.g. ``{"elderly": 3.0}`` (the elderly
        default to 3.6 km/h).
    max_snap_m : float, default 300
        Largest access walk from a hall to its street.
    demand_max_snap_m : float, optional
        Largest access walk from a demand unit (default: ``max_snap_m``);
        units farther from any street are ``unreachable``.
    areas : GeoDataFrame, optional
        Polygons (districts, sub-districts, communities) to tabulate by.
    area_name_col : str, optional
        Column naming each area (default: the first text column).
    communities : GeoDataFrame, optional
        Finer polygons (社区) tabulated the same way (``communities`` table).
    community_name_col : str, optional
        Column naming each community (default: the first text column).
    gap_min_population : float, default 0
        Gaps with fewer residents are still listed but flagged ``minor``.
    id_col : str, default "site_id"
        Column of ``halls`` holding their unique ids.
    name_col : str or None, default "name"
        Column of ``halls`` holding their names (the ids if absent).

    Returns
    -------
    CoverageResult

    Examples
    --------
    >>> result = assess_coverage(net, halls, people, radius_m=500)  # doctest: +SKIP
    >>> result.summary[["group", "covered", "covered_share"]]  # doctest: +SKIP
    """
    timings: dict[str, float] = {}
    t = time.perf_counter()
    max_snap_m = as_distance(max_snap_m, name="max_snap_m", maximum=5_000.0, example="300")
    placed = snap_demand(net, demand, max_snap_m=max_snap_m if demand_max_snap_m is None else demand_max_snap_m)
    units, unit_snap = placed.units.copy(), placed.snap
    groups = sorted(units["group"].unique().tolist())
    radii, speeds = group_radii(
        groups, radius_m=radius_m, minutes=minutes, walk_speed_kmh=walk_speed_kmh,
        group_walk_speed_kmh=group_walk_speed_kmh,
    )
    placed_halls = place_sites(net, site_frame(halls, id_col=id_col, name_col=name_col), max_snap_m=max_snap_m)
    sites, hall_snap = placed_halls.sites, placed_halls.snap
    timings["snap"] = time.perf_counter() - t

    t = time.perf_counter()
    threshold = units["group"].map(radii).to_numpy(dtype=np.float64)
    reach = reach_from_sites(net, hall_snap, unit_snap, limit=float(threshold.max(initial=0.0)))
    dist = reach.distance
    keep = reach.pair_distance <= threshold[reach.pair_unit]
    pair_site, pair_unit = reach.pair_site[keep], reach.pair_unit[keep]
    within = np.bincount(pair_unit, minlength=len(units)).astype(np.int64)
    timings["search"] = time.perf_counter() - t

    t = time.perf_counter()
    any_hall = bool(hall_snap.ok.any())
    status = np.where(
        ~unit_snap.ok | (~np.isfinite(dist) & any_hall),
        "unreachable",
        np.where(dist <= threshold, "covered", "uncovered"),
    )
    circle = circle_covered(hall_snap.x, hall_snap.y, unit_snap.x, unit_snap.y, threshold)
    site_ids = sites["site_id"].to_numpy()
    speed_of_unit = units["group"].map(speeds).to_numpy(dtype=np.float64)
    units = units.assign(
        status=pd.Categorical(status, categories=list(STATUSES)),
        distance_m=dist,
        walk_min=dist / (speed_of_unit * 1000.0 / 60.0),
        threshold_m=threshold,
        nearest_site=pd.array([site_ids[i] if i >= 0 else None for i in reach.nearest], dtype="string"),
        halls_within=within,
        access_m=unit_snap.access_m,
        circle_covered=circle,
    )
    summary = summary_table(units)
    hall_table = halls_table(sites, units, reach.nearest, pair_site, pair_unit)
    area_table = None
    if areas is not None:
        units["area"] = area_names(units, areas, area_name_col, what="areas")
        area_table = areas_table(units, "area")
    community_table = None
    if communities is not None:
        units["community"] = area_names(units, communities, community_name_col, what="communities")
        community_table = areas_table(units, "community")
    timings["tables"] = time.perf_counter() - t

    t = time.perf_counter()
    found = find_gaps(units, radius_m=radii, min_population=gap_min_population)
    units["gap_id"] = pd.array(found.gap_of_unit, dtype="string")
    timings["gaps"] = time.perf_counter() - t
    main = "residents" if "residents" in radii else (groups[0] if groups else "residents")
    estimate = bool(units["estimate"].any())
    note = str(placed.units.attrs.get("estimate_note", "")) if estimate else ""
    if estimate and not note:
        note = "some population figures are estimates (estimate=True in the units table)."
    _check_totals(placed.units, units)
    return CoverageResult(
        units=units,
        halls=hall_table,
        areas=area_table,
        communities=community_table,
        gaps=found.gaps,
        summary=summary,
        radius_m=radii.get(main, as_distance(radius_m or defaults.DEFAULT_RADIUS_M, name="radius_m")),
        minutes=None if minutes is None else float(minutes),
        walk_speed_kmh=speeds.get(main, float(walk_speed_kmh)),
        radius_by_group=radii,
        estimate=estimate,
        estimate_note=note,
        timings=timings,
        demand=placed,
    )


def _check_totals(demand: gpd.GeoDataFrame, units: gpd.GeoDataFrame) -> None:
    """Every input unit and every resident is in the result exactly once."""
    if len(units) != len(demand) or units.duplicated(["group", "demand_id"]).any():
        raise CoverageInternalError("demand units were lost or duplicated")
    for group, frame in units.groupby("group", observed=True):
        total = float(demand.loc[demand["group"] == group, "population"].sum())
        if not math.isclose(float(frame["population"].sum()), total, rel_tol=1e-9, abs_tol=1e-6):
            got = float(frame["population"].sum())
            raise CoverageInternalError(f"group {group}: {got} people in the result, {total} given")


def _check_invariants(units: gpd.GeoDataFrame) -> None:
    """Statuses add up to the total of each group; covered units are within their threshold."""
    for group, frame in units.groupby("group", observed=True):
        parts = frame.groupby("status", observed=False)["population"].sum()
        total = float(frame["population"].sum())
        if not math.isclose(float(parts.sum()), total, rel_tol=1e-9, abs_tol=1e-6):
            raise CoverageInternalError(f"group {group}: statuses add up to {parts.sum()} not {total}")
    if "threshold_m" in units.columns:
        covered = units["status"].astype(str).to_numpy() == "covered"
        if np.any(units["distance_m"].to_numpy()[covered] > units["threshold_m"].to_numpy()[covered] + 1e-9):
            raise CoverageInternalError("a unit is counted covered beyond its threshold")
