"""The whole run of a scenario: network, halls, service areas, residents, coverage, plan.

Each step is a small function of the previous steps' results, so the command
line, the notebooks and the tests share one code path. Step times are kept.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import demand as dm
from ._errors import CoverageInputError, CoverageWarning
from .assess import CoverageResult, assess_coverage
from .candidates import build_candidates
from .network import WalkNetwork, load_network, network_from_place, network_from_polygon
from .plan import SitePlan, plan_sites
from .scenario import Scenario
from .service_areas import ServiceAreas, service_areas
from .sites import read_sites

logger = logging.getLogger(__name__)


@dataclass
class RunResult:
    """Everything a scenario run produced."""

    scenario: Scenario
    network: WalkNetwork | None = None
    halls: gpd.GeoDataFrame | None = None
    halls_note: str = ""
    areas: ServiceAreas | None = None
    demand: gpd.GeoDataFrame | None = None
    coverage: CoverageResult | None = None
    plan: SitePlan | None = None
    timings: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


@contextmanager
def _step(result: RunResult, name: str, progress: Callable[[str], None] | None) -> Iterator[None]:
    if progress is not None:
        progress(name)
    t = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CoverageWarning)
        yield
    for w in caught:
        if issubclass(w.category, CoverageWarning):
            if any(str(w.message) in seen for seen in result.warnings):
                continue  # the same problem seen by an earlier step (e.g. an unsnapped hall)
            result.warnings.append(f"{name}: {w.message}")
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    result.timings[name] = time.perf_counter() - t


def load_scenario_network(sc: Scenario) -> WalkNetwork:
    """Load the scenario's network (file, or online download)."""
    net_cfg = sc["network"]
    if net_cfg["source"] is not None:
        return load_network(net_cfg["source"], largest_only=net_cfg["largest_only"])
    if net_cfg["place"]:
        return network_from_place(net_cfg["place"], largest_only=net_cfg["largest_only"])
    polys = _filtered(gpd.read_file(net_cfg["polygon_file"]), net_cfg["polygon_filter"], "network")
    return network_from_polygon(polys.to_crs("EPSG:4326").union_all(), largest_only=net_cfg["largest_only"])


def _filtered(frame: pd.DataFrame, rule: dict[str, Any] | None, section: str) -> Any:
    if not rule:
        return frame
    mask = np.ones(len(frame), dtype=bool)
    for col, wanted in rule.items():
        if col not in frame.columns:
            raise CoverageInputError(f"[{section}] filter: no column {col!r}; columns are {list(frame.columns)}.")
        mask &= _matches(frame[col], wanted, f"[{section}] filter {col}")
    if not mask.any():
        raise CoverageInputError(f"[{section}] filter {rule} keeps no row; check the values.")
    return frame[mask]


_OPS = {">=": np.greater_equal, "<=": np.less_equal, "!=": np.not_equal, ">": np.greater, "<": np.less}


def _matches(column: pd.Series, wanted: Any, where: str) -> Any:
    """Rows equal to a value (or one of a list), or compared with ">0", "<=5", "!=x"."""
    if isinstance(wanted, str):
        for op, func in _OPS.items():
            if wanted.startswith(op):
                rhs = wanted[len(op) :].strip()
                try:
                    value = float(rhs)
                except ValueError as exc:
                    raise CoverageInputError(f"{where} = {wanted!r}: compare with a number, e.g. '>0'.") from exc
                numbers = pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64)
                return func(numbers, value) & np.isfinite(numbers)
    values = wanted if isinstance(wanted, list) else [wanted]
    return column.astype(str).isin([str(v) for v in values]).to_numpy()


def load_scenario_halls(sc: Scenario, net: WalkNetwork) -> tuple[gpd.GeoDataFrame, str]:
    """Read, filter and (optionally) clip the halls to the network area."""
    cfg = sc["halls"]
    if cfg["file"] is None:
        empty = gpd.GeoDataFrame(
            {"site_id": pd.Series([], dtype=str), "name": pd.Series([], dtype=str)},
            geometry=gpd.GeoSeries([], crs="EPSG:4326"),
        )
        return empty, "no existing halls: the question is where halls should go."
    sites = read_sites(
        cfg["file"],
        id_col=cfg["id_col"],
        name_col=cfg["name_col"],
        lon_col=cfg["lon_col"],
        lat_col=cfg["lat_col"],
        crs=cfg["crs"],
    )
    sites = _filtered(sites, cfg["filter"], "halls").reset_index(drop=True)
    note = f"{len(sites)} {cfg['label']}"
    if cfg["clip_to_network"]:
        hull = shapely.convex_hull(shapely.multilinestrings(list(net.edge_geometry)))
        reach = shapely.buffer(hull, float(sc[""]["max_snap_m"]))
        inside = sites.to_crs(net.crs).within(reach).to_numpy()
        note = (
            f"{int(inside.sum())} of {len(sites)} {cfg['label']} lie in the network's area "
            f"(within {sc['']['max_snap_m']:g} m of its outline); the other {int((~inside).sum())} are "
            "outside the study area and left out."
        )
        sites = sites[inside].reset_index(drop=True)
    return sites, note


def load_scenario_demand(sc: Scenario, net: WalkNetwork) -> gpd.GeoDataFrame:
    """Build the demand units the scenario asks for."""
    cfg = sc["demand"]
    kind = cfg["kind"]
    if kind == "estimate":
        density = float(cfg["population"]) / float(cfg["area_km2"])
        area = None
        if cfg["area_file"] is not None:
            polys = _filtered(gpd.read_file(cfg["area_file"]), cfg["area_filter"], "demand").to_crs(net.crs)
            hull = shapely.convex_hull(shapely.multilinestrings(list(net.edge_geometry)))
            area = shapely.intersection(polys.union_all(), hull)
        units = dm.estimate_demand_along_streets(net, density_per_km2=density, area=area, spacing_m=cfg["spacing_m"])
        if cfg["source_note"]:
            units.attrs["estimate_note"] = (
                f"{units.attrs.get('estimate_note', '')} Source: {cfg['source_note']}".strip()
            )
    elif kind == "hexagons":
        polys = dm.read_h3_hexagons(cfg["file"], id_col=cfg["id_col"] or "id", population_col=cfg["population_col"])
        units = _from_polygons(polys, cfg, net)
    elif kind == "grid":
        polys = dm.read_population_grid(cfg["file"], population_col=cfg["population_col"])
        units = _from_polygons(polys, cfg, net)
    elif kind == "polygons":
        polys = gpd.read_file(cfg["file"])
        units = _from_polygons(polys, cfg, net)
    elif kind == "buildings":
        units = dm.demand_from_buildings(cfg["file"], float(cfg["population"]))
    else:  # points
        units = dm.read_demand(cfg["file"], population_col=cfg["population_col"], id_col=cfg["id_col"])
    if cfg["elderly_share"]:
        elderly = dm.demand_share(units, float(cfg["elderly_share"]), group="elderly")
        attrs = dict(units.attrs)
        units = dm.combine_demand(units, elderly)
        units.attrs.update(attrs)
    return units


def _from_polygons(polys: gpd.GeoDataFrame, cfg: dict[str, Any], net: WalkNetwork) -> gpd.GeoDataFrame:
    id_col = cfg["id_col"] or ("id" if "id" in polys.columns else None)
    return dm.demand_from_polygons(
        polys,
        population_col=cfg["population_col"] if cfg["population_col"] in polys.columns else "population",
        id_col=id_col,
        method=cfg["method"],
        edges=net if cfg["method"] == "streets" else None,
        spacing_m=cfg["spacing_m"],
    )


def run_scenario(
    sc: Scenario,
    *,
    steps: tuple[str, ...] = ("network", "halls", "service_areas", "demand", "coverage", "plan"),
    progress: Callable[[str], None] | None = None,
) -> RunResult:
    """Run the scenario's steps in order and return everything they produced."""
    result = RunResult(scenario=sc)
    top = sc[""]
    rings = sc.rings
    with _step(result, "network", progress):
        result.network = load_scenario_network(sc)
    net = result.network
    if "halls" in steps:
        with _step(result, "halls", progress):
            result.halls, result.halls_note = load_scenario_halls(sc, net)
    if "service_areas" in steps and result.halls is not None and len(result.halls):
        with _step(result, "service_areas", progress):
            result.areas = service_areas(
                net,
                result.halls,
                radius_m=None if rings.minutes is not None else rings.metres.tolist(),
                minutes=None if rings.minutes is None else rings.minutes.tolist(),
                walk_speed_kmh=top["walk_speed_kmh"],
                buffer_m=float(sc["service_areas"]["buffer_m"]),
                resolution_m=sc["service_areas"]["resolution_m"],
                max_snap_m=float(top["max_snap_m"]),
            )
    if "demand" in steps:
        with _step(result, "demand", progress):
            result.demand = load_scenario_demand(sc, net)
    if "coverage" in steps and result.demand is not None and result.halls is not None:
        with _step(result, "coverage", progress):
            areas = gpd.read_file(sc["areas"]["file"]) if sc["areas"]["file"] is not None else None
            result.coverage = assess_coverage(
                net,
                result.halls,
                result.demand,
                radius_m=top["radius_m"],
                minutes=top["minutes"],
                walk_speed_kmh=top["walk_speed_kmh"],
                group_walk_speed_kmh=group_speeds(sc),
                max_snap_m=float(top["max_snap_m"]),
                areas=areas,
                area_name_col=sc["areas"]["name_col"],
            )
    if "plan" in steps and sc["plan"]["enabled"] and result.coverage is not None:
        with _step(result, "plan", progress):
            result.plan = plan_from_scenario(sc, net, result.halls, result.coverage)
    return result


def plan_from_scenario(sc: Scenario, net: WalkNetwork, halls: gpd.GeoDataFrame, before: CoverageResult) -> SitePlan:
    """Build the candidates and run :func:`coverage.plan.plan_sites` with a scenario's ``[plan]`` options."""
    cfg = sc["plan"]
    sources = cfg["candidates"] if isinstance(cfg["candidates"], list) else [cfg["candidates"]]
    max_snap_m = float(sc[""]["max_snap_m"])
    candidates = build_candidates(
        net,
        spacing_m=float(cfg["spacing_m"]) if "network" in sources else None,
        gaps=before.gaps if "gaps" in sources else None,
        sites=read_sites(cfg["candidate_file"]) if "file" in sources else None,
        exclude=gpd.read_file(cfg["exclude_file"]) if cfg["exclude_file"] is not None else None,
        max_snap_m=max_snap_m,
    )
    return plan_sites(
        net,
        halls,
        before,
        candidates,
        k=int(cfg["k"]),
        k_max=int(cfg["k_max"]),
        target_share=float(cfg["target_share"]),
        method=cfg["method"],
        time_limit_s=float(cfg["time_limit_s"]),
        max_snap_m=max_snap_m,
        areas=gpd.read_file(sc["areas"]["file"]) if sc["areas"]["file"] is not None else None,
        area_name_col=sc["areas"]["name_col"],
    )


def group_speeds(sc: Scenario) -> dict[str, float]:
    """Return the walking speed per demand group from the scenario (residents at ``walk_speed_kmh``)."""
    speeds = {"residents": float(sc[""]["walk_speed_kmh"])}
    if sc["demand"]["elderly_walk_speed_kmh"] is not None:
        speeds["elderly"] = float(sc["demand"]["elderly_walk_speed_kmh"])
    return speeds
