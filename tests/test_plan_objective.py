"""[plan] objective on a small offline district: capacitated, backup and max-min models through a scenario."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coverage._errors import CoverageInputError, CoverageWarning
from coverage.pipeline import RunResult, run_scenario
from coverage.scenario import load_scenario
from tests._scenarios import write_scenario
from tests.test_life_circle_run import HALLS, _district

STEPS = ("network", "halls", "demand", "coverage", "plan")


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _district(tmp_path_factory.mktemp("objective"), "[communities]\nfile = \"communities.geojson\"\n"
                     "name_col = \"name\"\n", capacity=True)


def _run(base: Path, name: str, plan: str) -> RunResult:
    text = base.read_text(encoding="utf-8").replace("[plan]\n", "[plan]\n" + plan)
    path = base.parent / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)
        return run_scenario(load_scenario(path), steps=STEPS)


@pytest.fixture(scope="module")
def plain(base: Path) -> RunResult:
    return _run(base, "plain", "")


def _covered(run: RunResult) -> np.ndarray:
    assert run.plan is not None
    units = run.plan.after.units
    return ((units["status"].astype(str) == "covered") & (units["group"] == "residents")).to_numpy()


@pytest.mark.slow
def test_backup_keeps_the_best_coverage_and_adds_backup(base: Path, plain: RunResult) -> None:
    backup = _run(base, "backup", 'objective = "backup"\n')
    assert plain.plan is not None and backup.plan is not None
    pop = plain.plan.after.units["population"].to_numpy()
    # Lexicographic: the most coverage first (as the plain model), then the most backup among those plans.
    assert pop[_covered(backup)].sum() == pytest.approx(pop[_covered(plain)].sum())
    within = lambda r: r.plan.after.units["halls_within"].to_numpy()  # noqa: E731
    res = (plain.plan.after.units["group"] == "residents").to_numpy()
    assert pop[res & (within(backup) >= 2)].sum() >= pop[res & (within(plain) >= 2)].sum() - 1e-6


@pytest.mark.slow
def test_maxmin_raises_the_worst_community(base: Path, plain: RunResult) -> None:
    fair = _run(base, "maxmin", 'objective = "maxmin"\n')

    def worst(run: RunResult) -> float:
        assert run.plan is not None and run.coverage is not None
        units = run.plan.after.units.assign(community=run.coverage.units["community"].to_numpy())
        units = units[units["group"] == "residents"]
        covered = units["population"].where(units["status"].astype(str) == "covered", 0.0)
        by = pd.DataFrame({"c": units["community"], "cov": covered, "pop": units["population"]}).groupby("c").sum()
        return float((by["cov"] / by["pop"]).min())

    assert worst(fair) >= worst(plain) - 1e-12


@pytest.mark.slow
def test_capacitated_plan_equals_the_transportation_lp(base: Path, plain: RunResult) -> None:
    """Two solvers: the plan's MILP on the coverage matrix, and allocate_capacity on network pairs."""
    import geopandas as gpd

    from coverage.capacity import allocate_capacity
    from coverage.pairs import pairs_from_sites

    run = _run(base, "cap", 'objective = "capacitated"\nnew_site_capacity = 800\n')
    assert run.plan is not None and run.coverage is not None and run.life_circle is None
    sel = run.plan.selection
    assert sel.model == "capacitated_coverage" and sel.optimal
    units = run.coverage.units
    pop = np.where(units["group"] == "residents", units["population"], 0.0)
    halls = run.halls.to_crs(run.network.crs)

    def served(new_sites: gpd.GeoDataFrame) -> float:
        sites = gpd.GeoDataFrame(
            {"site_id": [*halls["site_id"], *[f"new{i}" for i in range(len(new_sites))]]},
            geometry=[*halls.geometry, *new_sites.geometry], crs=run.network.crs,
        )
        cap = [*halls["capacity"].astype(float), *[800.0] * len(new_sites)]
        pairs = pairs_from_sites(run.network, sites, units, limit_m=300.0)
        return allocate_capacity(pairs, pop, cap).served

    assert sel.extras["served_before"] == pytest.approx(served(run.plan.sites.iloc[:0]), rel=1e-9)
    assert sel.extras["served_after"] == pytest.approx(served(run.plan.sites), rel=1e-9)
    assert plain.plan is not None
    assert served(plain.plan.sites) <= sel.extras["served_after"] + 1e-6  # the plain plan serves no more


@pytest.mark.parametrize(
    ("plan", "extra", "match"),
    [
        ('objective = "capacitated"\n', "", "needs new_site_capacity"),
        ('new_site_capacity = 500\n', "", "is for objective = 'capacitated'"),
        ('objective = "maxmin"\n', "no-areas", "give \\[communities\\]"),
        ('objective = "capacitated"\nnew_site_capacity = 500\n', "no-capacity", "needs \\[halls\\] capacity_col"),
        ('objective = "fastest"\n', "", "should be one of"),
    ],
)
def test_bad_objectives(tmp_path: Path, plan: str, extra: str, match: str) -> None:
    path = write_scenario(tmp_path, halls=HALLS)
    text = path.read_text(encoding="utf-8")
    if extra == "no-areas":
        text = text.replace('[areas]\nfile = "areas.geojson"\nname_col = "name"\n', "")
    if extra != "no-capacity":
        text = text.replace('label = "test halls"\n', 'label = "test halls"\ncapacity_col = "capacity"\n')
    path.write_text(text.replace("[plan]\n", "[plan]\n" + plan), encoding="utf-8")
    with pytest.raises(CoverageInputError, match=match):
        load_scenario(path)
