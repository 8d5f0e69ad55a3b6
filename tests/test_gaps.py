"""Gap areas: uncovered residents grouped into places one new hall could serve."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coverage import CoverageInputError, find_gaps

UTM = "EPSG:32650"
RADIUS = 500.0
EPS = 0.7 * RADIUS  # the default clustering distance


def units_frame(
    xy: np.ndarray, *, status: list[str] | None = None, population: np.ndarray | None = None
) -> gpd.GeoDataFrame:
    n = len(xy)
    return gpd.GeoDataFrame(
        {
            "status": status or ["uncovered"] * n,
            "population": np.full(n, 10.0) if population is None else population,
            "group": ["residents"] * n,
            "distance_m": np.full(n, 800.0),
        },
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=UTM,
    )


def chain(start: tuple[float, float], n: int, step: float, angle: float) -> np.ndarray:
    """n points from start, step metres apart along a direction."""
    t = np.arange(n) * step
    return np.column_stack([start[0] + t * math.cos(angle), start[1] + t * math.sin(angle)])


@settings(max_examples=25)
@given(
    sizes=st.lists(st.integers(1, 8), min_size=1, max_size=5),
    angles=st.lists(st.floats(0, 2 * math.pi), min_size=5, max_size=5),
    people=st.lists(st.integers(1, 50), min_size=40, max_size=40),
)
def test_chains_far_apart_are_separate_gaps(sizes: list[int], angles: list[float], people: list[int]) -> None:
    # Points 0.25 eps apart always end in one gap (cells of eps/4: centres move by at
    # most 0.36 eps each); chains 3 km apart never share one. Each chain is shorter
    # than one service circle's side, so none is split.
    step = 0.25 * EPS
    chains = [chain((3000.0 * i, 1000.0 * (i % 2)), n, step, angles[i]) for i, n in enumerate(sizes)]
    xy = np.vstack(chains)
    pop = np.array(people[: len(xy)], dtype=float)
    units = units_frame(xy, population=pop)
    found = find_gaps(units, radius_m=RADIUS)
    owner = np.repeat(np.arange(len(sizes)), sizes)
    ids = found.gap_of_unit
    for i in range(len(sizes)):
        assert len(set(ids[owner == i])) == 1, "a chain was cut"
    assert len(set(ids)) == len(sizes), "two chains share a gap"
    table = found.gaps
    assert table["population"].sum() == pytest.approx(pop.sum())
    assert list(table["population"]) == sorted(table["population"], reverse=True)
    assert list(table["gap_id"]) == [f"G{k + 1:02d}" for k in range(len(sizes))]
    for row in table.itertuples():
        members = ids == row.gap_id
        assert row.units == members.sum()
        assert row.population == pytest.approx(pop[members].sum())


def test_only_uncovered_units_get_a_gap() -> None:
    xy = chain((0.0, 0.0), 6, 50.0, 0.0)
    units = units_frame(xy, status=["covered", "uncovered", "unreachable", "uncovered", "covered", "uncovered"])
    found = find_gaps(units, radius_m=RADIUS)
    assert [g is None for g in found.gap_of_unit] == [True, False, True, False, True, False]
    assert found.gaps["population"].sum() == 30.0


def test_a_large_uncovered_district_is_split_into_circle_sized_parts() -> None:
    # A continuous 4 km street: density clustering chains it into one cluster; the
    # grid of circle-sized cells (side sqrt(pi) * 500 m = 886 m) cuts it into 5.
    xy = chain((0.0, 0.0), 81, 50.0, 0.0)
    found = find_gaps(units_frame(xy), radius_m=RADIUS)
    assert len(found) == math.ceil(4000.0 / (math.sqrt(math.pi) * RADIUS))
    assert found.gaps["population"].sum() == 810.0


def test_minutes_equal_their_distance() -> None:
    xy = np.vstack([chain((0.0, 0.0), 5, 80.0, 0.3), chain((2000.0, 0.0), 4, 80.0, 1.0)])
    units = units_frame(xy)
    by_minutes = find_gaps(units, minutes=10, walk_speed_kmh=3.0)  # 500 m
    by_metres = find_gaps(units, radius_m=500.0)
    assert list(by_minutes.gap_of_unit) == list(by_metres.gap_of_unit)
    with pytest.raises(CoverageInputError, match="not both"):
        find_gaps(units, radius_m=500.0, minutes=10)
    with pytest.raises(CoverageInputError, match="radius_m"):
        find_gaps(units)


def test_people_nowhere_dense_are_scattered() -> None:
    xy = np.array([[0.0, 0.0], [5000.0, 0.0]])
    found = find_gaps(units_frame(xy, population=np.array([3.0, 4.0])), radius_m=RADIUS, min_core_population=5)
    assert list(found.gap_of_unit) == ["scattered", "scattered"]
    assert found.gaps["population"].sum() == 7.0
