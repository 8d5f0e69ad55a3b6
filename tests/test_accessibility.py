"""2SFCA and enhanced 2SFCA against PySAL access on the same cost matrix, and by hand."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from coverage._errors import CoverageInputError
from coverage._pairs import as_pairs
from coverage.accessibility import two_step_fca

access = pytest.importorskip("access")


def _instance(seed: int, n_demand: int = 40, n_supply: int = 9, radius: float = 1000.0):
    rng = np.random.default_rng(seed)
    rows = []
    for j in range(n_supply):
        # every site is reached by someone close, so access never divides by zero
        near = rng.choice(n_demand, size=3, replace=False)
        for i in near:
            rows.append((int(i), j, float(rng.uniform(0, radius / 3))))
        others = rng.choice(n_demand, size=rng.integers(0, 12), replace=False)
        for i in others:
            rows.append((int(i), j, float(rng.uniform(0, radius * 1.3))))
    frame = pd.DataFrame(rows, columns=["i", "j", "d"]).sort_values("d").drop_duplicates(["i", "j"])
    pop = rng.integers(1, 500, size=n_demand).astype(float)
    cap = rng.uniform(1, 50, size=n_supply)
    return frame, pop, cap


def _access_scores(frame, pop, cap, radius, weight_fn):
    logging.getLogger("access").setLevel(logging.ERROR)
    demand = pd.DataFrame({"geoid": [f"d{i}" for i in range(pop.size)], "pop": pop})
    supply = pd.DataFrame({"geoid": [f"s{j}" for j in range(cap.size)], "cap": cap})
    cost = pd.DataFrame(
        {"origin": [f"d{i}" for i in frame["i"]], "dest": [f"s{j}" for j in frame["j"]], "cost": frame["d"]}
    )
    model = access.Access(
        demand_df=demand,
        demand_index="geoid",
        demand_value="pop",
        supply_df=supply,
        supply_index="geoid",
        supply_value="cap",
        cost_df=cost,
        cost_origin="origin",
        cost_dest="dest",
        cost_name="cost",
    )
    out = model.two_stage_fca(name="x", max_cost=radius, weight_fn=weight_fn)
    series = out["x_cap"].reindex([f"d{i}" for i in range(pop.size)]).fillna(0.0)
    return series.to_numpy()


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("kind", ["uniform", "zones", "gaussian"])
def test_equal_to_pysal_access(seed, kind):
    radius = 1000.0
    frame, pop, cap = _instance(seed, radius=radius)
    pairs = as_pairs(
        frame["i"].to_numpy(), frame["j"].to_numpy(), frame["d"].to_numpy(), n_demand=pop.size, n_supply=cap.size
    )
    if kind == "uniform":
        ours = two_step_fca(pairs, pop, cap, radius_m=radius)
        theirs = _access_scores(frame, pop, cap, radius, None)
    elif kind == "zones":
        zones = {300.0: 1.0, 600.0: 0.68, 1000.0: 0.22}
        ours = two_step_fca(pairs, pop, cap, radius_m=radius, zones=list(zones.items()))
        theirs = _access_scores(frame, pop, cap, radius, access.weights.step_fn(zones))
    else:
        ours = two_step_fca(pairs, pop, cap, radius_m=radius, gaussian_sigma_m=400)
        theirs = _access_scores(frame, pop, cap, radius, access.weights.gaussian(400))
    assert ours.idle_supply.size == 0
    np.testing.assert_allclose(ours.score, theirs, rtol=0, atol=1e-9)
    # and relative agreement, since scores are small numbers
    np.testing.assert_allclose(ours.score, theirs, rtol=1e-9, atol=0)


def test_uniform_2sfca_conserves_supply():
    """With W = 1, Σ P_i A_i equals the total supply of sites that someone reaches."""
    frame, pop, cap = _instance(7)
    pairs = as_pairs(
        frame["i"].to_numpy(), frame["j"].to_numpy(), frame["d"].to_numpy(), n_demand=pop.size, n_supply=cap.size
    )
    acc = two_step_fca(pairs, pop, cap, radius_m=5000)
    assert (pop * acc.score).sum() == pytest.approx(cap.sum(), rel=1e-12)


def test_zone_bounds_are_inclusive_and_idle_sites_listed():
    pairs = as_pairs([0, 1], [0, 0], [300.0, 300.0001], n_demand=3, n_supply=2)
    acc = two_step_fca(pairs, [10, 10, 5], [4, 9], radius_m=600, zones=[(300, 1.0), (600, 0.5)])
    assert acc.weighted_demand[0] == pytest.approx(10 * 1.0 + 10 * 0.5)
    assert acc.idle_supply.tolist() == [1]
    assert acc.score[2] == 0.0
    assert "E2SFCA" in repr(acc)
    assert "reach no supply" in acc.headline([10, 10, 5])


def test_bad_input():
    pairs = as_pairs([0], [0], [10.0], n_demand=1, n_supply=1)
    with pytest.raises(CoverageInputError, match="one value per unit"):
        two_step_fca(pairs, [1, 2], [1], radius_m=100)
    with pytest.raises(CoverageInputError, match="not both"):
        two_step_fca(pairs, [1], [1], radius_m=100, zones=[(50, 1)], gaussian_sigma_m=10)
    with pytest.raises(CoverageInputError, match="finite"):
        two_step_fca(pairs, [np.nan], [1], radius_m=100)
    with pytest.raises(CoverageInputError, match="more than once"):
        as_pairs([0, 0], [0, 0], [1.0, 2.0], n_demand=1, n_supply=1)
    with pytest.raises(CoverageInputError, match="lie in"):
        as_pairs([0, 3], [0, 0], [1.0, 2.0], n_demand=2, n_supply=1)
    with pytest.raises(CoverageInputError, match="finite metres"):
        as_pairs([0], [0], [np.inf], n_demand=1, n_supply=1)
