from __future__ import annotations

import filecmp
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from coverage.cli import main

REPO = Path(__file__).resolve().parents[1]
FUTIAN = REPO / "data" / "scenarios" / "futian.toml"


@pytest.fixture
def futian_out(futian_run) -> Path:
    """The output folder of the session's one Futian CLI run (tests/conftest.py)."""
    return futian_run.out


@pytest.mark.slow
def test_run_writes_every_output(futian_out: Path) -> None:
    for name in (
        "map.html",
        "results.gpkg",
        "summary.md",
        "tables/residents.csv",
        "tables/coverage_summary.csv",
        "tables/proposed_sites.csv",
        "tables/coverage_curve.csv",
    ):
        assert (futian_out / name).exists(), name
    summary = (futian_out / "summary.md").read_text(encoding="utf-8")
    assert "ESTIMATE" in summary and "stand-ins" in summary
    assert "OpenStreetMap contributors" in summary


@pytest.mark.slow
def test_geopackage_round_trips(futian_out: Path) -> None:
    residents = gpd.read_file(futian_out / "results.gpkg", layer="residents")
    table = pd.read_csv(futian_out / "tables" / "residents.csv", dtype={"demand_id": str})
    assert residents["demand_id"].tolist() == table["demand_id"].tolist()
    assert residents["status"].tolist() == table["status"].tolist()
    # The CSV shows whole people, rounded so that each group's total is kept; the GeoPackage is exact.
    assert (table["population"] - residents["population"]).abs().max() < 1.0
    for group, rows in residents.groupby("group"):
        assert table.loc[table["group"] == group, "population"].sum() == round(rows["population"].sum())
    summary = gpd.read_file(futian_out / "results.gpkg", layer="coverage_summary")
    by_status = residents.groupby(["group", "status"])["population"].sum()
    for row in summary.itertuples():
        assert by_status.get((row.group, "covered"), 0.0) == pytest.approx(row.covered)
        assert row.covered + row.uncovered + row.unreachable == pytest.approx(row.total)


@pytest.mark.slow
def test_same_scenario_twice_gives_identical_outputs(
    futian_out: Path, tmp_path: Path, shared_data: Path
) -> None:
    out = tmp_path / "again"
    assert main(["run", str(FUTIAN), "--out", str(out), "--data-dir", str(shared_data), "--quiet"]) == 0
    for csv in sorted((futian_out / "tables").glob("*.csv")):
        if csv.name == "coverage_curve.csv":
            continue  # compared below: its certificate depends on the solver's time limit
        assert filecmp.cmp(csv, out / "tables" / csv.name, shallow=False), csv.name
    # A curve step proven optimal in both runs is the same; on a loaded machine a step may hit
    # [plan] time_limit_s in one run only, and then its bound and status differ (not an error).
    a_curve = pd.read_csv(futian_out / "tables" / "coverage_curve.csv")
    b_curve = pd.read_csv(out / "tables" / "coverage_curve.csv")
    both = (a_curve["optimal"] & b_curve["optimal"]).to_numpy()
    pd.testing.assert_frame_equal(a_curve[both], b_curve[both])
    assert a_curve["k"].tolist() == b_curve["k"].tolist()
    assert (futian_out / "map.html").read_bytes() == (out / "map.html").read_bytes()
    for layer in ("halls", "service_areas", "residents", "gaps", "proposed_sites"):
        a = gpd.read_file(futian_out / "results.gpkg", layer=layer)
        b = gpd.read_file(out / "results.gpkg", layer=layer)
        pd.testing.assert_frame_equal(
            pd.DataFrame(a.drop(columns="geometry")), pd.DataFrame(b.drop(columns="geometry"))
        )
        assert a.geometry.equals(b.geometry)


@pytest.mark.slow
def test_existing_output_folder_is_not_overwritten(futian_out: Path, shared_data: Path, capsys) -> None:
    code = main(["areas", str(FUTIAN), "--out", str(futian_out), "--data-dir", str(shared_data), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "--overwrite" in err


def test_bad_scenario_gets_one_line(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'name = "x"\nradius_m = "far"\n[network]\nsource = "a.graphml"\n[demand]\nkind = "estimate"\n',
        encoding="utf-8",
    )
    code = main(["coverage", str(bad), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "radius_m" in err


@pytest.mark.slow  # a subprocess importing the whole package (~2 s)
def test_help_explains_options() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "coverage.cli", "run", "--help"], capture_output=True, text=True, check=True
    )
    for option in ("--out", "--overwrite", "--data-dir", "--lang", "--quiet"):
        assert option in result.stdout
