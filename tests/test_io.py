"""The one writer: table formats for people, sum-preserving rounding, the output folder."""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st

from coverage._errors import CoverageInputError
from coverage.io import RUN_MARKER, check_output_dir, round_people, staged_output, table_for_people, write_csvs


@given(st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=1, max_size=50))
def test_round_people_keeps_the_total(values: list[float]) -> None:
    out = round_people(values)
    assert np.all(out == np.round(out))
    assert out.sum() == round(float(np.sum(values)))
    assert np.all(np.abs(out - np.asarray(values)) < 1.0 + 1e-9)


def test_summary_parts_add_up_after_rounding() -> None:
    summary = pd.DataFrame(
        {
            "group": ["r"],
            "total": [10.5],
            "covered": [3.5],
            "uncovered": [3.5],
            "unreachable": [3.5],
            "covered_share": [1 / 3],
        }
    )
    t = table_for_people(summary, "coverage_summary")
    assert int(t.loc[0, "covered"] + t.loc[0, "uncovered"] + t.loc[0, "unreachable"]) == int(t.loc[0, "total"])
    assert t.loc[0, "covered_share"] == pytest.approx(1 / 3, abs=1e-6)


def test_point_tables_get_lonlat_datum_and_gcj02() -> None:
    sites = gpd.GeoDataFrame(
        {"rank": [1], "candidate_id": ["12345678901234567890"], "marginal_population": [55570.1]},
        geometry=[shapely.Point(114.0579, 22.5431)],
        crs="EPSG:4326",
    ).to_crs("EPSG:32650")
    t = table_for_people(sites, "proposed_sites")
    assert t.loc[0, "candidate_id"] == "12345678901234567890"
    assert t.loc[0, "marginal_population"] == 55570
    assert t.loc[0, "datum"] == "WGS-84"
    assert t.loc[0, "lon"] == pytest.approx(114.0579, abs=1e-7) and t.loc[0, "lat"] == pytest.approx(22.5431, abs=1e-7)
    # GCJ-02 is about 500 m off in Shenzhen (checked against coverage.crs).
    assert 0.004 < t.loc[0, "lon_gcj02"] - t.loc[0, "lon"] < 0.007
    assert t.loc[0, "x_m"] == round(t.loc[0, "x_m"], 2)


def test_csvs_have_bom_text_ids_and_seven_decimals(tmp_path: Path) -> None:
    halls = gpd.GeoDataFrame(
        {"site_id": ["00123"], "name": ["=cmd|' /C calc'!A0"]},
        geometry=[shapely.Point(114.123456789, 22.5)],
        crs="EPSG:4326",
    )
    path = write_csvs({"halls": halls}, tmp_path)["halls"]
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert "00123" in text and "114.1234568" in text and "'=cmd" in text


def test_output_dir_checks(tmp_path: Path) -> None:
    assert check_output_dir(tmp_path / "new" / "out") == tmp_path / "new" / "out"
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(CoverageInputError, match="is a file"):
        check_output_dir(blocker)
    with pytest.raises(CoverageInputError, match="cannot write"):
        check_output_dir(blocker / "sub")
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "new")
    with pytest.raises(CoverageInputError, match="symbolic link"):
        check_output_dir(link)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.docx").write_text("precious")
    with pytest.raises(CoverageInputError, match="not empty"):
        check_output_dir(mine)
    with pytest.raises(CoverageInputError, match="never replaced"):
        check_output_dir(mine, overwrite=True)
    assert (mine / "thesis.docx").read_text() == "precious"


def test_staged_output_swaps_in_and_leaves_no_stale_file(tmp_path: Path) -> None:
    out = tmp_path / "out"
    outside = tmp_path / "outside.txt"
    outside.write_text("keep")
    with staged_output(out) as stage:
        (stage / "proposed_sites.csv").write_text("old plan")
        (stage / "escape").symlink_to(outside)
    assert (out / RUN_MARKER).is_file() and (out / "proposed_sites.csv").exists()
    with staged_output(out, overwrite=True) as stage:
        (stage / "map.html").write_text("new")
    assert sorted(p.name for p in out.iterdir()) == sorted([RUN_MARKER, "map.html"])
    assert outside.read_text() == "keep"  # the old run's symlink was removed, not followed
    with pytest.raises(RuntimeError, match="the run failed"):
        _failing_run(out)
    assert sorted(p.name for p in out.iterdir()) == sorted([RUN_MARKER, "map.html"])
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []
    assert os.stat(out).st_mode & 0o777 == 0o777 & ~_umask()


def _failing_run(out: Path) -> None:
    with staged_output(out, overwrite=True) as stage:
        (stage / "half.csv").write_text("x")
        raise RuntimeError("the run failed")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_geopackage_in_a_folder_with_an_exclamation_mark_stays_there(tmp_path: Path) -> None:
    """pyogrio reads 'a!b' as 'b inside the archive a': the file must still land where it was asked."""
    import geopandas as gpd
    import shapely

    from coverage.io import write_gpkg

    folder = tmp_path / "=cmd|' calc'!A0"
    folder.mkdir()
    frame = gpd.GeoDataFrame({"site_id": ["a"]}, geometry=[shapely.Point(1, 2)], crs="EPSG:32650")
    path = write_gpkg({"halls": frame}, folder / "results.gpkg")
    assert path == folder / "results.gpkg" and sorted(p.name for p in folder.iterdir()) == ["results.gpkg"]
    assert not (tmp_path / "A0").exists()
    copy = tmp_path / "copy.gpkg"
    copy.write_bytes(path.read_bytes())
    back = gpd.read_file(copy, layer="halls")
    assert back["site_id"].tolist() == ["a"] and back.crs == frame.crs
