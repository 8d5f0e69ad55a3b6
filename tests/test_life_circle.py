"""check_life_circle against a brute force, the nesting rule by hand, and bad input."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coverage._errors import CoverageInputError, CoverageWarning
from coverage.life_circle import ALL_AREAS, FAIL, NO_DATA, OUTSIDE, PASS, check_life_circle
from coverage.standards import load_standard

STD = load_standard("GB 50180-2018")
FIVE = ["community_service_station", "small_sports_ground", "outdoor_fitness", "kindergarten", "elderly_day_care"]


def _everything_reached(n: int) -> dict[str, np.ndarray]:
    return {k: np.zeros(n) for k in STD.facilities["key"]}


def test_nesting_upper_tier_fails_when_a_lower_tier_facility_is_missing():
    """A community with every 15- and 10-minute facility but no kindergarten within 300 m fails all tiers above."""
    n = 3
    cols = _everything_reached(n)
    cols["kindergarten"] = np.array([100.0, 350.0, np.inf])  # 2 of 3 beyond 300 m
    frame = pd.DataFrame({"population": [10.0, 10.0, 10.0], "community": ["A", "A", "A"], **cols})
    # block facilities have no radius in the standard: give them one.
    check = check_life_circle(frame, subdistrict_col=None, thresholds_m={"convenience_store": 200, "play_ground": 200})
    tiers = check.tiers[(check.tiers["level"] == "community")].set_index("tier")
    assert tiers.loc["block", "status"] == PASS
    for tier in ("5min", "10min", "15min"):
        assert tiers.loc[tier, "status"] == FAIL
        assert tiers.loc[tier, "missing_keys"] == "kindergarten"
        assert tiers.loc[tier, "missing"] == "幼儿园"
    kg = check.facilities.query("level == 'community' and facility == 'kindergarten'").iloc[0]
    assert kg["share"] == pytest.approx(1 / 3)
    assert kg["threshold_m"] == 300 and kg["threshold_from"] == "standard"


def test_upper_tier_facility_does_not_stand_in_for_a_lower_one():
    """Non-inclusion: a health centre (15 min) next door does not make the 5-minute health station pass."""
    frame = pd.DataFrame(
        {
            "population": [5.0],
            "community": ["A"],
            "community_health_centre": [10.0],
            "community_health_station": [np.inf],
        }
    )
    check = check_life_circle(frame, subdistrict_col=None, include_optional=True)
    fac = check.facilities.set_index("facility")
    assert fac.loc["community_health_centre", "status"].eq(PASS).all()
    assert fac.loc["community_health_station", "status"].eq(FAIL).all()
    # The centre has no radius in the file: it is judged at its tier's walking distance.
    assert fac.loc["community_health_centre", "threshold_from"].iloc[0] == "tier"
    assert fac.loc["community_health_centre", "threshold_m"].iloc[0] == 1000


def test_missing_columns_are_no_data_and_block_the_tier():
    frame = pd.DataFrame({"population": [5.0], "community": ["A"], **{k: [0.0] for k in FIVE}})
    check = check_life_circle(frame, subdistrict_col=None, tiers=["5min"])
    tier = check.tiers.query("level == 'community' and tier == '5min'").iloc[0]
    # culture_station has no column; block facilities neither.
    assert tier["status"] == NO_DATA
    assert "文化活动站" in tier["no_data"]
    assert tier["failed"] == 0
    assert "no data for" in check.headline()


def test_boolean_flags_and_groups():
    frame = pd.DataFrame(
        {
            "population": [30.0, 10.0, 20.0],
            "community": ["A", "A", "B"],
            "subdistrict": ["S", "S", "S"],
            "group": ["residents", "elderly", "residents"],
            "kindergarten": [True, False, True],
        }
    )
    check = check_life_circle(frame, group_col="group", tiers=["5min"])
    fac = check.facilities.query("facility == 'kindergarten'")
    got = {(r.level, r.area, r.group): r.share for r in fac.itertuples()}
    assert got[("community", "A", "all")] == pytest.approx(0.75)
    assert got[("community", "A", "elderly")] == 0.0
    assert got[("community", "B", "residents")] == 1.0
    assert got[("subdistrict", "S", "all")] == pytest.approx(50 / 60)
    assert got[("all", ALL_AREAS, "all")] == pytest.approx(50 / 60)
    assert set(fac["threshold_from"]) == {"flags"}


def test_target_share_below_one():
    frame = pd.DataFrame({"population": [90.0, 10.0], "community": ["A", "A"], "kindergarten": [0.0, np.inf]})
    strict = check_life_circle(frame, subdistrict_col=None, tiers=["5min"])
    loose = check_life_circle(frame, subdistrict_col=None, tiers=["5min"], target_share=0.9)
    pick = "level == 'community' and facility == 'kindergarten'"
    assert strict.facilities.query(pick)["status"].item() == FAIL
    assert loose.facilities.query(pick)["status"].item() == PASS


def test_user_threshold_overrides_the_standard():
    frame = pd.DataFrame({"population": [1.0], "community": ["A"], "kindergarten": [400.0]})
    check = check_life_circle(frame, subdistrict_col=None, tiers=["5min"], thresholds_m={"kindergarten": 450})
    row = check.facilities.query("level == 'community' and facility == 'kindergarten'").iloc[0]
    assert (row["status"], row["threshold_m"], row["threshold_from"]) == (PASS, 450, "user")


def test_missing_area_names_warn_and_are_kept():
    frame = pd.DataFrame({"population": [1.0, 2.0], "community": ["A", None], "kindergarten": [0.0, 0.0]})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CoverageWarning)
        check = check_life_circle(frame, subdistrict_col=None, tiers=["5min"])
    assert any("no 'community'" in str(w.message) for w in caught)
    areas = set(check.facilities.query("level == 'community'")["area"])
    assert areas == {"A", OUTSIDE}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"population_col": "pop"}, "has no column 'pop'"),
        ({"distances": {"school": "kindergarten"}}, "does not have"),
        ({"distances": {"kindergarten": "nope"}}, "missing from residents"),
        ({"tiers": ["20min"]}, "its tiers are"),
        ({"target_share": 1.5}, "share"),
        ({"thresholds_m": {"kindergarten": -1}}, "distance > 0"),
    ],
)
def test_bad_arguments(kwargs, message):
    frame = pd.DataFrame({"population": [1.0], "community": ["A"], "kindergarten": [0.0]})
    with pytest.raises(CoverageInputError, match=message):
        check_life_circle(frame, subdistrict_col=None, **kwargs)


def test_bad_values_name_the_rows():
    frame = pd.DataFrame({"population": [1.0, -2.0], "community": ["A", "A"], "kindergarten": [0.0, 1.0]})
    with pytest.raises(CoverageInputError, match=r"rows \[1\]"):
        check_life_circle(frame, subdistrict_col=None)
    frame = pd.DataFrame({"population": [1.0, 2.0], "community": ["A", "A"], "kindergarten": [0.0, np.nan]})
    with pytest.raises(CoverageInputError, match=r"inf where none"):
        check_life_circle(frame, subdistrict_col=None)


def test_block_facility_without_radius_needs_a_threshold():
    frame = pd.DataFrame({"population": [1.0], "community": ["A"], "convenience_store": [10.0]})
    with pytest.raises(CoverageInputError, match="thresholds_m"):
        check_life_circle(frame, subdistrict_col=None)


def _brute(frame: pd.DataFrame, keys: list[str], target: float) -> dict[tuple[str, str, str], tuple[float, str]]:
    """Share and status per (level, area, facility), by plain loops over residents."""
    out = {}
    levels = {
        "all": [ALL_AREAS] * len(frame),
        "community": list(frame["community"]),
        "subdistrict": list(frame["subdistrict"]),
    }
    for level, names in levels.items():
        for area in set(names):
            for key in keys:
                radius = float(STD.facilities.set_index("key").loc[key, "service_radius_m"])
                total = within = 0.0
                for i in range(len(frame)):
                    if names[i] != area:
                        continue
                    total += frame["population"].iloc[i]
                    if frame[key].iloc[i] <= radius:
                        within += frame["population"].iloc[i]
                share = within / total if total > 0 else math.nan
                status = NO_DATA if math.isnan(share) else (PASS if share >= target else FAIL)
                out[(level, area, key)] = (share, status)
    return out


_ROWS = st.lists(
    st.tuples(
        st.floats(0, 1000),
        st.sampled_from(["A", "B", "C"]),
        st.sampled_from(["S1", "S2"]),
        st.lists(st.one_of(st.floats(0, 1200), st.just(math.inf)), min_size=5, max_size=5),
    ),
    min_size=1,
    max_size=25,
)
_TARGETS = st.sampled_from([1.0, 0.8, 0.5])


@given(_ROWS, _TARGETS)
@settings(max_examples=8)
def test_shares_and_statuses_match_brute_force(rows, target):
    _check_against_brute_force(rows, target)


@pytest.mark.slow
@given(_ROWS, _TARGETS)
@settings(max_examples=80)
def test_shares_and_statuses_match_brute_force_many(rows, target):
    _check_against_brute_force(rows, target)


def _check_against_brute_force(rows, target):
    frame = pd.DataFrame(
        {
            "population": [r[0] for r in rows],
            "community": [r[1] for r in rows],
            "subdistrict": [r[2] for r in rows],
            **{k: [r[3][j] for r in rows] for j, k in enumerate(FIVE)},
        }
    )
    check = check_life_circle(frame, tiers=["5min"], target_share=target)
    want = _brute(frame, FIVE, target)
    fac = check.facilities[check.facilities["facility"].isin(FIVE)]
    assert len(fac) == len(want)
    for r in fac.itertuples():
        share, status = want[(r.level, r.area, r.facility)]
        if math.isnan(share):
            assert math.isnan(r.share)
        else:
            assert r.share == pytest.approx(share, rel=1e-12, abs=1e-12)
        assert r.status == status
    # Tier status: 未达标 if any required 5-minute type fails; else 无数据 (block types have no data here).
    for r in check.tiers.itertuples():
        statuses = [want[(r.level, r.area, k)][1] for k in FIVE]
        expected = FAIL if FAIL in statuses else NO_DATA
        assert r.status == expected


def test_headline_repr_checklist():
    frame = pd.DataFrame(
        {
            "population": [1.0, 1.0],
            "community": ["A", "B"],
            "subdistrict": ["S", "S"],
            **{k: [0.0, 900.0] for k in STD.facilities["key"]},
        }
    )
    check = check_life_circle(frame, thresholds_m={"convenience_store": 100, "play_ground": 100})
    text = repr(check)
    assert "1 of 2 community areas 达标" in text
    assert "not verified" in text
    wide = check.checklist("community")
    assert list(wide.columns) == ["area", "15min", "10min", "5min", "block"]
    assert wide.set_index("area").loc["A"].eq(PASS).all()
    assert "<table" in check._repr_html_()
    with pytest.raises(CoverageInputError):
        check.checklist("district")


def _fake_assessment(distances, status):
    import geopandas as gpd
    from shapely.geometry import Point

    units = gpd.GeoDataFrame(
        {
            "demand_id": ["u0", "u1", "u2"],
            "group": ["residents"] * 3,
            "population": [10.0, 20.0, 30.0],
            "distance_m": distances,
            "status": status,
        },
        geometry=[Point(0.5, 0.5), Point(1.5, 0.5), Point(5, 5)],
        crs="EPSG:32650",
    )
    from types import SimpleNamespace

    return SimpleNamespace(units=units)


def test_residents_from_assessments_joins_areas_and_checks_units():
    import geopandas as gpd
    from shapely.geometry import box

    from coverage.life_circle import residents_from_assessments

    runs = {
        "kindergarten": _fake_assessment([100.0, 400.0, np.inf], ["covered", "uncovered", "unreachable"]),
        "primary_school": _fake_assessment([450.0, 450.0, 10.0], ["covered", "covered", "covered"]),
    }
    areas = gpd.GeoDataFrame({"name": ["A", "B"]}, geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs="EPSG:32650")
    frame = residents_from_assessments(runs, communities=areas, community_name_col="name")
    assert frame["community"].tolist()[:2] == ["A", "B"]
    assert pd.isna(frame["community"].iloc[2])  # outside every polygon
    assert frame["kindergarten_covered"].tolist() == [True, False, False]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)
        check = check_life_circle(frame, {k: k for k in runs}, subdistrict_col=None, tiers=["10min"])
    got = check.facilities.query("level == 'community' and facility == 'kindergarten'").set_index("area")["share"]
    assert got["A"] == 1.0 and got["B"] == 0.0
    other = _fake_assessment([1.0, 2.0, 3.0], ["covered"] * 3)
    other.units["demand_id"] = ["x", "y", "z"]
    with pytest.raises(CoverageInputError, match="other demand units"):
        residents_from_assessments({"kindergarten": runs["kindergarten"], "nursery": other})


def test_residents_from_services_uses_distances_and_status():
    from types import SimpleNamespace

    from coverage.life_circle import residents_from_services

    base = _fake_assessment([100.0, 400.0, np.inf], ["covered", "uncovered", "unreachable"]).units
    units = base.drop(columns=["distance_m", "status"]).assign(
        kindergarten_m=[100.0, 400.0, np.inf],
        kindergarten_status=["covered", "covered", "unreachable"],  # e.g. a 500 m service threshold
        community=["A", "A", "B"],
    )
    result = SimpleNamespace(units=units, services=(SimpleNamespace(key="kindergarten"),))
    frame = residents_from_services(result)
    assert frame["community"].tolist() == ["A", "A", "B"]
    by_radius = check_life_circle(frame, {"kindergarten": "kindergarten"}, subdistrict_col=None, tiers=["5min"])
    by_status = check_life_circle(frame, {"kindergarten": "kindergarten_covered"}, subdistrict_col=None, tiers=["5min"])
    pick = "level == 'community' and area == 'A' and facility == 'kindergarten'"
    assert by_radius.facilities.query(pick)["share"].item() == pytest.approx(1 / 3)  # 300 m of the standard
    assert by_status.facilities.query(pick)["share"].item() == 1.0  # the service's own threshold
