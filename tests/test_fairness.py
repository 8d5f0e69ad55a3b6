"""Fairness indices against their definitions, textbook values and invariances."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coverage._errors import CoverageInputError, CoverageWarning
from coverage.fairness import coverage_by_community, fairness, gini, palma, theil, theil_decomposition


def gini_pairs(x, w):
    """Definition: weighted mean absolute difference over all pairs, over twice the mean."""
    x, w = np.asarray(x, float), np.asarray(w, float)
    mean = (w * x).sum() / w.sum()
    if mean == 0:
        return 0.0
    total = sum(w[i] * w[j] * abs(x[i] - x[j]) for i in range(len(x)) for j in range(len(x)))
    return total / (2 * w.sum() ** 2 * mean)


def theil_definition(x, w):
    x, w = np.asarray(x, float), np.asarray(w, float)
    mean = (w * x).sum() / w.sum()
    if mean == 0:
        return 0.0
    return sum(wi * (xi / mean) * math.log(xi / mean) for xi, wi in zip(x, w, strict=True) if xi / mean > 0) / w.sum()


def palma_people(x, counts):
    """Palma on individual people: replicate each value by its (integer) head count, sort, cut exactly."""
    people = np.sort(np.repeat(np.asarray(x, float), counts))
    n = people.size
    assert n % 10 == 0
    bottom = people[: 4 * n // 10].sum()
    top = people[9 * n // 10 :].sum()
    return math.inf if bottom == 0 and top > 0 else (0.0 if bottom == 0 else top / bottom)


def test_textbook_values():
    assert gini([1, 2, 3, 4, 5]) == pytest.approx(4 / 15)
    assert gini([0, 0, 0, 0, 10]) == pytest.approx(0.8)  # one of n holds all: (n-1)/n
    assert theil([0, 0, 0, 1]) == pytest.approx(math.log(4))  # one of n holds all: ln n
    assert palma(range(1, 11)) == pytest.approx(10 / 10)
    assert palma([5] * 20) == pytest.approx(0.25)
    assert palma([0, 0, 0, 0, 0, 0, 0, 0, 0, 3]) == math.inf


values = st.lists(st.floats(0, 5000, allow_nan=False), min_size=1, max_size=12)


@given(st.lists(st.tuples(st.floats(0, 5000), st.floats(0.01, 50)), min_size=1, max_size=12))
@settings(max_examples=25)
def test_gini_and_theil_match_definitions(pairs):
    x = [p[0] for p in pairs]
    w = [p[1] for p in pairs]
    assert gini(x, w) == pytest.approx(gini_pairs(x, w), abs=1e-9)
    assert theil(x, w) == pytest.approx(theil_definition(x, w), abs=1e-9)


@given(st.lists(st.tuples(st.integers(0, 50), st.integers(1, 6)), min_size=1, max_size=8))
@settings(max_examples=25)
def test_palma_matches_individual_people(pairs):
    x = [float(p[0]) for p in pairs]
    counts = [p[1] for p in pairs]
    # Make the head count a multiple of 10 so the cut-offs fall between people.
    counts = [c * 10 for c in counts]
    want = palma_people(x, counts)
    got = palma(x, counts)
    assert got == pytest.approx(want, rel=1e-9) if math.isfinite(want) else got == want


@given(values, st.floats(0.001, 1000))
@settings(max_examples=25)
def test_scale_invariance_and_replication(x, c):
    scaled = [c * v for v in x]
    assert gini(scaled) == pytest.approx(gini(x), abs=1e-9)
    assert theil(scaled) == pytest.approx(theil(x), abs=1e-9)
    # Weights are people: weight 3 is the same as three copies.
    assert gini(x, [3] * len(x)) == pytest.approx(gini(x * 3), abs=1e-12)
    assert theil(x, [2] * len(x)) == pytest.approx(theil(x * 2), abs=1e-12)


@given(st.floats(0, 1e4), st.integers(1, 20))
@settings(max_examples=25)
def test_perfect_equality_is_zero(v, n):
    assert gini([v] * n) == 0.0
    assert theil([v] * n) == pytest.approx(0.0, abs=1e-12)


@given(st.lists(st.tuples(st.floats(0, 3000), st.floats(0.1, 100), st.sampled_from("abcd")), min_size=1, max_size=15))
@settings(max_examples=25)
def test_theil_decomposition_adds_up(rows):
    x = [r[0] for r in rows]
    w = [r[1] for r in rows]
    g = [r[2] for r in rows]
    d = theil_decomposition(x, g, w)
    assert d.within + d.between == pytest.approx(d.total, abs=1e-9)
    assert d.within >= 0 and d.between >= -1e-12
    assert d.groups["value_share"].sum() == pytest.approx(1.0 if sum(a * b for a, b in zip(x, w, strict=True)) else 0.0)


def test_bad_input():
    with pytest.raises(CoverageInputError, match="finite"):
        gini([1, math.inf])
    with pytest.raises(CoverageInputError, match="same length"):
        theil([1, 2], [1])
    with pytest.raises(CoverageInputError, match="not all zero"):
        palma([1, 2], [0, 0])
    with pytest.raises(CoverageInputError, match="at least one"):
        gini([])


def _units():
    return pd.DataFrame(
        {
            "population": [10.0, 10.0, 20.0, 5.0, 5.0],
            "community": ["A", "A", "B", "B", "C"],
            "group": ["residents", "elderly", "residents", "elderly", "residents"],
            "status": ["covered", "uncovered", "covered", "covered", "unreachable"],
            "distance_m": [100.0, 800.0, 300.0, 450.0, math.inf],
        }
    )


def test_coverage_by_community_by_hand():
    table = coverage_by_community(_units(), covered_col="status").set_index(["community", "group"])
    assert table.loc[("A", "all"), "covered_share"] == pytest.approx(0.5)
    assert table.loc[("A", "elderly"), "covered_share"] == 0.0
    assert table.loc[("B", "all"), "mean_distance_m"] == pytest.approx((20 * 300 + 5 * 450) / 25)
    assert table.loc[("C", "all"), "unreachable"] == 5.0
    assert math.isnan(table.loc[("C", "all"), "mean_distance_m"])


def test_fairness_summary_by_hand():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CoverageWarning)
        result = fairness(_units())
    assert any("reach no hall" in str(w.message) for w in caught)
    assert result.unreachable_population == 5.0
    idx = result.indices.set_index(["measure", "across"])
    # Residents' distance: the 5 people with no hall are left out.
    want = gini([100, 800, 300, 450], [10, 10, 20, 5])
    assert idx.loc[("distance_m", "residents"), "gini"] == pytest.approx(want)
    row = idx.loc[("distance_m", "residents")]
    assert row["theil_within"] + row["theil_between"] == pytest.approx(row["theil"])
    # Coverage across communities: shares A 0.5 (20), B 1.0 (25), C 0.0 (5).
    assert idx.loc[("coverage", "communities"), "gini"] == pytest.approx(gini([0.5, 1.0, 0.0], [20, 25, 5]))
    assert idx.loc[("coverage", "groups"), "population"] == 50
    assert "Gini" in repr(result) and "<table" in result._repr_html_()


def test_overlapping_groups_count_everyone_once():
    """With the elderly a subset of the residents, the indices across residents use the residents' rows only."""
    units = _units()
    elderly = units.assign(group="elderly", population=units["population"] * 0.2)
    both = pd.concat([units.assign(group="residents"), elderly], ignore_index=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)
        got = fairness(both, overall_group="residents")
        ref = fairness(units.assign(group="residents"), group_col=None)
    g = got.indices.set_index(["measure", "across"])
    r = ref.indices.set_index(["measure", "across"])
    for key in [("distance_m", "residents"), ("coverage", "communities"), ("distance_m", "communities")]:
        assert g.loc[key, "gini"] == pytest.approx(r.loc[key, "gini"])
        assert g.loc[key, "population"] == pytest.approx(r.loc[key, "population"])
    assert g.loc[("coverage", "groups"), "population"] == pytest.approx(units["population"].sum() * 1.2)
    table = got.communities.set_index(["community", "group"])
    assert table.loc[("A", "all"), "population"] == pytest.approx(table.loc[("A", "residents"), "population"])
    with pytest.raises(CoverageInputError, match="not a group"):
        fairness(both, overall_group="children")


def test_unreachable_units_with_no_people_are_fine():
    units = _units()
    units.loc[units.index[-1], "population"] = 0.0  # an unreachable unit without people: inf x 0 must not be NaN
    table = coverage_by_community(units, covered_col="status")
    assert table["mean_distance_m"].notna().sum() >= 2 and table["unreachable"].ge(0).all()
