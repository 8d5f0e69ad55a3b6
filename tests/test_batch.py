"""Batches of scenarios: a local Dask cluster, the one-by-one fallback, failures, the summary and index page.

Oracle for the cluster run: the same scenarios run one at a time in this
process through the same pipeline (``run_scenario``) give the same numbers.
"""

from __future__ import annotations

import builtins
import os
import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest

from coverage._errors import CoverageInputError, CoverageWarning
from coverage.batch import SUMMARY_COLUMNS, run_batch
from coverage.cli import main
from coverage.pipeline import run_scenario
from coverage.scenario import load_scenario

REPO = Path(__file__).resolve().parents[1]
FUTIAN = REPO / "data" / "scenarios" / "futian.toml"


def futian_variant(folder: Path, stem: str, *, radius_m: int, title: str | None = None) -> Path:
    """Futian with another radius, no plan (cheap), the real data through absolute {data} paths."""
    text = FUTIAN.read_text(encoding="utf-8")
    text = text.replace("radius_m = 500", f"radius_m = {radius_m}")
    text = text.replace("[plan]", "[plan]\nenabled = false", 1)
    if title is not None:
        text = "\n".join(
            f"name = {title!r}" if line.startswith("name = ") else line for line in text.splitlines()
        )
    path = folder / f"{stem}.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def cache_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private network cache for the batch (workers inherit the environment)."""
    folder = tmp_path_factory.mktemp("cache")
    os.chmod(folder, 0o700)
    monkeypatch.setenv("COVERAGE_PLANNER_CACHE", str(folder))
    return folder


def _no_dask(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def fake_import(name: str, *args: object, **kwargs: object) -> object:
        if name == "distributed" or name.startswith(("distributed.", "dask")):
            raise ImportError(f"No module named {name!r} (simulated)")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "distributed", raising=False)
    monkeypatch.setattr(builtins, "__import__", fake_import)


def test_duplicate_file_names_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    one = futian_variant(tmp_path / "a", "futian", radius_m=300)
    two = futian_variant(tmp_path / "b", "futian", radius_m=500)
    with pytest.raises(CoverageInputError, match="file names must differ"):
        run_batch([one, two], out=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_non_empty_output_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    with pytest.raises(CoverageInputError, match="--overwrite"):
        run_batch([futian_variant(tmp_path, "a", radius_m=300)], out=tmp_path / "out")


def test_scheduler_without_dask_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _no_dask(monkeypatch)
    with pytest.raises(CoverageInputError, match=r"coverage-planner\[dask\]"):
        run_batch([futian_variant(tmp_path, "a", radius_m=300)], out=tmp_path / "out", scheduler="tcp://127.0.0.1:1")


def test_cli_batch_refuses_duplicates_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "x").mkdir()
    a = futian_variant(tmp_path, "same", radius_m=300)
    b = futian_variant(tmp_path / "x", "same", radius_m=300)
    assert main(["batch", str(a), str(b), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "must differ" in err


@pytest.mark.slow
def test_sequential_fallback_failing_scenario_and_hostile_title(
    tmp_path: Path, shared_data: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without Dask: a note, scenarios one by one; a broken scenario gets its row; user text stays text."""
    _no_dask(monkeypatch)
    hostile = '=HYPERLINK("x")<script>alert(1)</script>{{7*7}}'
    good = futian_variant(tmp_path, "good", radius_m=400, title=hostile)
    (tmp_path / "garbage.graphml").write_text("not a network")
    broken = tmp_path / "broken.toml"
    broken.write_text('name = "x"\n[network]\nsource = "garbage.graphml"\n[demand]\nkind = "estimate"\n'
                      "population = 1000\narea_km2 = 1.0\n")
    invalid = tmp_path / "invalid.toml"
    invalid.write_text('name = "x"\n[network]\nsource = "garbage.graphml"\n[demand]\nkind = "estimate"\n')
    missing = tmp_path / "missing.toml"
    with pytest.warns(CoverageWarning, match="Dask is not installed"):
        result = run_batch([broken, good, invalid, missing], out=tmp_path / "out", data_dir=shared_data)
    assert result.mode.startswith("one by one")
    summary = result.summary
    assert summary["scenario"].tolist() == ["broken", "good", "invalid", "missing"]  # the order given
    assert summary["status"].tolist() == ["error", "ok", "error", "error"]
    assert "garbage.graphml" in summary.loc[0, "error"]
    assert "population and area_km2" in summary.loc[2, "error"]
    assert "not found" in summary.loc[3, "error"]
    assert result.networks["status"].str.startswith("error").sum() == 1
    assert (tmp_path / "out" / "good" / "map.html").is_file()
    table = pd.read_csv(tmp_path / "out" / "batch_summary.csv", encoding="utf-8-sig")
    assert list(table.columns) == SUMMARY_COLUMNS
    assert table.loc[1, "name"] == "'" + hostile  # never a formula
    assert table.loc[1, "covered"] > 0
    page = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert 'href="good/map.html"' in page


def test_output_folder_of_other_files_is_never_replaced(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    with pytest.raises(CoverageInputError, match="did not write"):
        run_batch([futian_variant(tmp_path, "a", radius_m=300)], out=tmp_path / "out", overwrite=True)
    assert (tmp_path / "out" / "keep.txt").read_text() == "mine"


@pytest.mark.slow
def test_overwrite_leaves_nothing_of_the_earlier_batch_and_names_stay_text(
    tmp_path: Path, shared_data: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second batch with --overwrite replaces the folder; a hostile file name and title stay text."""
    _no_dask(monkeypatch)
    first = futian_variant(tmp_path, "first", radius_m=300)
    hostile_stem = "=cmd|' calc'!A0 <img src=x onerror=alert(1)> {{7*7}}"
    hostile_title = "+SUM(1)<b>${x}</b>"
    second = futian_variant(tmp_path, hostile_stem, radius_m=300, title=hostile_title)
    out = tmp_path / "out"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)
        run_batch([first], out=out, data_dir=shared_data)
        (out / "first" / "stale.txt").write_text("from the first batch")
        with pytest.raises(CoverageInputError, match="--overwrite"):
            run_batch([second], out=out, data_dir=shared_data)
        result = run_batch([second], out=out, data_dir=shared_data, overwrite=True)
    assert result.summary["status"].tolist() == ["ok"], result.summary["error"].tolist()
    assert not (out / "first").exists()  # nothing of the first batch survives
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [".coverage-planner-run", hostile_stem, "batch_summary.csv", "index.html"]
    )
    assert not list(tmp_path.glob(".out.*"))  # no staging folder left behind
    table = pd.read_csv(out / "batch_summary.csv", encoding="utf-8-sig", keep_default_na=False)
    assert table.loc[0, "scenario"] == "'" + hostile_stem and table.loc[0, "name"] == "'" + hostile_title
    page = (out / "index.html").read_text(encoding="utf-8")
    for raw in ("<img", "<b>", "{{7*7}}", "${x}"):
        assert raw not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    from urllib.parse import quote

    assert f'href="{quote(hostile_stem)}/map.html"' in page and "%3Cimg" in page
    assert (out / hostile_stem / "map.html").is_file()


@pytest.mark.slow
def test_local_cluster_matches_single_runs(tmp_path: Path, shared_data: Path, cache_dir: Path) -> None:
    """Two worker processes on 127.0.0.1, three scenarios; numbers equal to in-process runs; cache reused."""
    files = [futian_variant(tmp_path, f"futian_{r}", radius_m=r) for r in (300, 500, 800)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)
        result = run_batch(files, out=tmp_path / "out", workers=2, data_dir=shared_data)
        singles = [
            run_scenario(load_scenario(f, data_dir=shared_data), steps=("network", "halls", "demand", "coverage"))
            for f in files
        ]
    assert result.mode == "on a local Dask cluster of 2 worker process(es)"
    summary = result.summary
    assert summary["status"].tolist() == ["ok"] * 3, summary["error"].tolist()
    for row, single in zip(summary.itertuples(), singles, strict=True):
        assert single.coverage is not None
        main_row = single.coverage.summary.set_index("group").loc["residents"]
        assert row.covered == main_row["covered"]
        assert row.covered_share == main_row["covered_share"]
        assert row.circle_share == main_row["circle_share"]
        assert row.residents == main_row["total"]
        assert (tmp_path / "out" / row.scenario / "summary.md").is_file()
    assert summary["covered"].is_monotonic_increasing  # wider radius, more covered
    assert result.networks["status"].tolist() == ["prepared"]  # parsed once, before the scenarios
    assert summary["network"].tolist() == ["cache"] * 3
    assert list(cache_dir.glob("network-*.npz"))


@pytest.mark.slow
def test_partition_by_districts_matches_the_whole_run(tmp_path: Path, shared_data: Path, cache_dir: Path) -> None:
    """Futian split by a 2 x 2 grid of polygons, on the local cluster: same coverage as the plain run."""
    import geopandas as gpd
    import shapely

    from coverage.network import load_network

    net = load_network(shared_data / "shenzhen" / "futian_walk.graphml")
    x0, y0, x1, y1 = shapely.total_bounds(net.edge_geometry)
    xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
    boxes = [shapely.box(a, b, c, d) for a, c in ((x0, xm), (xm, x1)) for b, d in ((y0, ym), (ym, y1))]
    grid = gpd.GeoDataFrame({"part": ["SW", "NW", "SE", "NE"]}, geometry=boxes, crs=net.crs).to_crs("EPSG:4326")
    polygons = tmp_path / "grid.geojson"
    grid.to_file(polygons)
    scenario = futian_variant(tmp_path, "futian_parts", radius_m=500)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)
        result = run_batch([scenario], out=tmp_path / "out", workers=2, data_dir=shared_data,
                           partition_by=polygons, partition_name_col="part")
        single = run_scenario(load_scenario(scenario, data_dir=shared_data),
                              steps=("network", "halls", "demand", "coverage"))
    row = result.summary.iloc[0]
    assert row["status"] == "ok", row["error"]
    assert single.coverage is not None
    assert row["covered"] == single.coverage.summary.set_index("group").loc["residents", "covered"]
    parts = pd.read_csv(tmp_path / "out" / "futian_parts" / "partition.csv", encoding="utf-8-sig")
    assert sorted(parts["district"]) == ["NE", "NW", "SE", "SW"]
    residents = pd.read_csv(tmp_path / "out" / "futian_parts" / "tables" / "residents.csv", dtype={"demand_id": str})
    assert residents["status"].tolist() == single.coverage.units["status"].astype(str).tolist()
