"""A scenario run end to end on a small offline district: halls, no halls, services, minutes."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coverage._errors import CoverageWarning
from coverage.assess import assess_coverage
from coverage.cli import main
from coverage.pipeline import run_scenario
from coverage.scenario import load_scenario
from coverage.services import Service, assess_services
from tests._scenarios import lonlat, write_scenario

HALLS = [("h1", "Hall one", 150.0, 150.0), ("h2", "Hall two", 800.0, 700.0)]


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("district")
    rows = ["code,title,lon,lat"]
    for k, (x, y) in enumerate([(100.0, 900.0), (600.0, 300.0), (1000.0, 1000.0)]):
        lon, lat = lonlat(x, y)
        rows.append(f"k{k},Kindergarten {k},{lon:.7f},{lat:.7f}")
    (folder / "kindergartens.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    extra = (
        '\n[[services]]\nkey = "kindergarten"\nname = "幼儿园"\nfile = "kindergartens.csv"\n'
        'id_col = "code"\nname_col = "title"\nminutes = 5\n'
    )
    return write_scenario(folder, halls=HALLS, extra=extra)


def test_run_with_halls_services_and_areas(district: Path) -> None:
    sc = load_scenario(district)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)
        run = run_scenario(sc)
    cov = run.coverage
    assert cov is not None and run.plan is not None and run.services is not None
    total = float(run.demand["population"].sum())
    s = cov.summary.iloc[0]
    assert s.covered + s.uncovered + s.unreachable == pytest.approx(total)
    assert set(cov.areas["area"]) == {"西区", "东区"}
    assert cov.areas["total"].sum() == pytest.approx(total)
    # The services step equals a direct call with the same residents.
    direct = assess_services(run.network, cov.demand, [Service("kindergarten", run.services.services[0].sites,
                                                               minutes=5)])
    np.testing.assert_array_equal(run.services.units["kindergarten_m"], direct.units["kindergarten_m"])
    assert run.services.summary["name"].iloc[0] == "幼儿园"
    assert run.services.summary["threshold_m"].iloc[0] == pytest.approx(375.0)  # 5 min at 4.5 km/h
    # The coverage step equals a direct assessment.
    ref = assess_coverage(run.network, run.halls, run.demand, radius_m=300.0)
    assert ref.units["status"].astype(str).tolist() == cov.units["status"].astype(str).tolist()
    assert set(run.timings) >= {"network", "halls", "demand", "coverage", "services", "plan"}


def test_minutes_and_the_elderly(tmp_path: Path) -> None:
    path = write_scenario(tmp_path, halls=HALLS)
    text = path.read_text(encoding="utf-8").replace("radius_m = 300", "minutes = 4")
    groups = 'id_col = "id"\nelderly_share = 0.2\nelderly_walk_speed_kmh = 3.0\n\n[areas]'
    text = text.replace('id_col = "id"\n\n[areas]', groups)
    path.write_text(text.replace("[plan]\n", "[plan]\nenabled = false\n"), encoding="utf-8")
    run = run_scenario(load_scenario(path), steps=("network", "halls", "demand", "coverage"))
    cov = run.coverage
    assert cov is not None
    assert cov.radius_by_group == pytest.approx({"residents": 300.0, "elderly": 200.0})
    units = cov.units
    elderly = units[units["group"] == "elderly"]
    assert (elderly.loc[elderly["status"] == "covered", "distance_m"] <= 200.0).all()
    assert units["walk_min"].replace(np.inf, np.nan).dropna().ge(0).all()
    share = cov.summary.set_index("group")["covered_share"]
    assert share["elderly"] < share["residents"]


@pytest.mark.slow
def test_no_halls_cli_run_places_the_first_sites(tmp_path: Path) -> None:
    # The shape of guangming.toml (no halls file), offline on a local network.
    path = write_scenario(tmp_path / "in", halls=None)
    out = tmp_path / "out"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)
        assert main(["run", str(path), "--out", str(out), "--quiet"]) == 0
    summary = pd.read_csv(out / "tables" / "coverage_summary.csv")
    row = summary.iloc[0]
    assert row["covered"] == 0 and row["uncovered"] == pytest.approx(row["total"] - row["unreachable"])
    assert row["uncovered"] > 0
    gaps = pd.read_csv(out / "tables" / "gaps.csv")
    assert gaps["population"].sum() == pytest.approx(row["uncovered"])
    sites = pd.read_csv(out / "tables" / "proposed_sites.csv")
    assert len(sites) == 2 and (sites["marginal_population"] > 0).all()
    assert (out / "map.html").exists()
