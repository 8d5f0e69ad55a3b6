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

from ._errors import CoverageWarning
from .assess import CoverageResult, assess_coverage
from .candidates import build_candidates
from .life_circle_options import scenario_standard
from .life_circle_run import LifeCircleResult, assess_life_circle, life_circle_after
from .loaders import (
    load_scenario_demand,
    load_scenario_halls,
    load_scenario_network,
    load_scenario_polygons,
    load_scenario_services,
)
from .network import WalkNetwork
from .plan import SitePlan, plan_sites
from .scenario import Scenario
from .service_areas import ServiceAreas, service_areas
from .services import ServicesResult, assess_services
from .sites import read_sites

logger = logging.getLogger(__name__)


@dataclass
class RunResult:
    """Everything a scenario run produced.

    ``life_circle`` (:class:`coverage.life_circle_run.LifeCircleResult`) holds
    the ``[life_circle]`` step: the standard's checklist per community and
    sub-district, hall loads against capacity, backup coverage, 2SFCA scores
    and the fairness indices, before and (when a plan ran) after.
    """

    scenario: Scenario
    network: WalkNetwork | None = None
    halls: gpd.GeoDataFrame | None = None
    halls_note: str = ""
    areas: ServiceAreas | None = None
    demand: gpd.GeoDataFrame | None = None
    coverage: CoverageResult | None = None
    services: ServicesResult | None = None
    life_circle: LifeCircleResult | None = None
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


def run_scenario(
    sc: Scenario,
    *,
    steps: tuple[str, ...] = (
        "network", "halls", "service_areas", "demand", "coverage", "services", "life_circle", "plan",
    ),
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
            areas, area_col = load_scenario_polygons(sc, "areas")
            communities, community_col = load_scenario_polygons(sc, "communities")
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
                area_name_col=area_col,
                communities=communities,
                community_name_col=community_col,
            )
    if "services" in steps and sc.services and result.coverage is not None:
        with _step(result, "services", progress):
            result.services = assess_services(
                net,
                result.coverage.demand or result.demand,
                load_scenario_services(sc),
                walk_speed_kmh=top["walk_speed_kmh"],
                group_walk_speed_kmh=group_speeds(sc),
                max_snap_m=float(top["max_snap_m"]),
            )
    if "life_circle" in steps and sc["life_circle"]["enabled"] and result.coverage is not None:
        with _step(result, "life_circle", progress):
            result.life_circle = life_circle_from_scenario(sc, net, result)
    if "plan" in steps and sc["plan"]["enabled"] and result.coverage is not None:
        with _step(result, "plan", progress):
            result.plan = plan_from_scenario(sc, net, result.halls, result.coverage)
        if result.life_circle is not None:
            with _step(result, "life_circle after", progress):
                result.life_circle = life_circle_after(result.life_circle, result.plan.after)
    return result


def life_circle_from_scenario(sc: Scenario, net: WalkNetwork, result: RunResult) -> LifeCircleResult:
    """Run :func:`coverage.life_circle_run.assess_life_circle` with a scenario's ``[life_circle]`` options."""
    assert result.coverage is not None
    lc = sc["life_circle"]
    capacity = {cfg["key"]: cfg["capacity_col"] for cfg in sc.services if cfg["capacity_col"] is not None}
    rates = {cfg["key"]: cfg["visits_per_resident"] for cfg in sc.services if cfg["visits_per_resident"] is not None}
    if sc["halls"]["capacity_col"] is not None:
        capacity["halls"] = sc["halls"]["capacity_col"]
        if sc["halls"]["visits_per_resident"] is not None:
            rates["halls"] = sc["halls"]["visits_per_resident"]
    return assess_life_circle(
        net,
        result.coverage,
        result.services,
        halls=result.halls,
        halls_name=sc["halls"]["label"],
        facilities=lc["facilities"],
        standard=scenario_standard(lc) if lc["facilities"] else None,
        tiers=lc["tiers"],
        target_share=lc["target_share"],
        include_optional=lc["include_optional"],
        thresholds_m=lc["thresholds_m"],
        judge=lc["judge"],
        capacity=capacity,
        visits_per_resident=rates,
        backup_min_sites=lc["backup_min_sites"],
    )


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
        max_nodes=int(cfg["max_nodes"]),
        max_snap_m=max_snap_m,
        areas=gpd.read_file(sc["areas"]["file"]) if sc["areas"]["file"] is not None else None,
        area_name_col=sc["areas"]["name_col"],
        **plan_objective(sc, before),
    )


def plan_objective(sc: Scenario, before: CoverageResult) -> dict[str, Any]:
    """Return the :func:`coverage.plan.plan_sites` options of ``[plan] objective``."""
    cfg = sc["plan"]
    objective = cfg["objective"]
    if objective == "capacitated":
        return {
            "capacity_col": sc["halls"]["capacity_col"],
            "visits_per_resident": sc["halls"]["visits_per_resident"],
            "new_site_capacity": float(cfg["new_site_capacity"]),
        }
    if objective == "backup":
        return {"backup": True}
    if objective == "maxmin":
        return {"fairness_col": "community" if "community" in before.units.columns else "area"}
    return {}


def group_speeds(sc: Scenario) -> dict[str, float]:
    """Return the walking speed per demand group from the scenario (residents at ``walk_speed_kmh``)."""
    speeds = {"residents": float(sc[""]["walk_speed_kmh"])}
    if sc["demand"]["elderly_walk_speed_kmh"] is not None:
        speeds["elderly"] = float(sc["demand"]["elderly_walk_speed_kmh"])
    return speeds
