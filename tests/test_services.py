"""Several services in one run: equal to one assessment per service, residents snapped once."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from coverage import _reach
from coverage._errors import CoverageInputError
from coverage.assess import assess_coverage
from coverage.network import network_from_graph
from coverage.services import Service, assess_services
from coverage.snapped import snap_demand
from tests._graphs import line_graph, points
from tests.test_assess import demand, random_points
from tests.test_search import grid_network


def test_each_service_equals_its_own_assessment() -> None:
    net = grid_network(n=16, seed=11)
    rng = np.random.default_rng(5)
    people = random_points(net, rng, 400, "d")
    elderly = people.assign(group="elderly", population=people["population"] / 4)
    people = pd.concat([people, elderly], ignore_index=True)
    a = random_points(net, rng, 6, "h")
    b = random_points(net, rng, 3, "h")
    services = [
        Service("health", a, name="社区健康服务中心", minutes=5),
        Service("kindergarten", b, radius_m=300.0),
    ]
    res = assess_services(net, people, services)
    for svc in services:
        ref = assess_coverage(net, svc.sites, people, radius_m=svc.radius_m, minutes=svc.minutes)
        np.testing.assert_array_equal(res.units[f"{svc.key}_m"], ref.units["distance_m"])
        assert res.units[f"{svc.key}_status"].astype(str).tolist() == ref.units["status"].astype(str).tolist()
        np.testing.assert_array_equal(res.units[f"{svc.key}_within"], ref.units["halls_within"])
        got = res.summary[res.summary["service"] == svc.key].set_index("group")["covered"]
        want = ref.summary.set_index("group")["covered"]
        assert got.to_dict() == pytest.approx(want.to_dict())
    covered = sum((res.units[f"{s.key}_status"].astype(str) == "covered").astype(int) for s in services)
    assert res.units["services_met"].tolist() == covered.tolist()
    assert res.met["population"].sum() == pytest.approx(people["population"].sum())
    # Minutes: the elderly (3.6 km/h) reach 300 m in 5 minutes, residents 375 m.
    health = res.summary[res.summary["service"] == "health"].set_index("group")["threshold_m"]
    assert health.to_dict() == pytest.approx({"elderly": 300.0, "residents": 375.0})
    assert "社区健康服务中心" in res.headline()
    assert set(res.distances().columns) >= {"health", "kindergarten", "population"}


def test_residents_are_snapped_once(monkeypatch: pytest.MonkeyPatch) -> None:
    net = network_from_graph(line_graph([500.0, 500.0]))
    people = snap_demand(net, demand([(100.0, 0.0), (900.0, 0.0)]))
    calls = []
    real = _reach.reach_from_sites

    def spy(net_, sites, units, *, limit):
        calls.append(units)
        return real(net_, sites, units, limit=limit)

    monkeypatch.setattr("coverage.services.reach_from_sites", spy)
    res = assess_services(net, people, [Service("a", points([(0.0, 0.0)]), radius_m=200.0),
                                        Service("b", points([(1000.0, 0.0)]), radius_m=200.0)])
    assert len(calls) == 2 and all(c is people.snap for c in calls)
    assert res.units["services_met"].tolist() == [1, 1]


def test_a_service_without_sites_leaves_everyone_uncovered() -> None:
    net = network_from_graph(line_graph([500.0]))
    res = assess_services(net, demand([(100.0, 0.0)]), [Service("market", points([]), minutes=10)])
    assert res.units["market_status"].astype(str).tolist() == ["uncovered"]
    assert np.isinf(res.units["market_m"]).all()


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda s: [Service("Bad Key", s)], "lower-case ASCII"),
        (lambda s: [Service("a", s), Service("a", s)], "unique"),
        (lambda s: [Service("a", s, radius_m=300.0, minutes=5.0)], "not both"),
        (lambda s: [], "at least one"),
        (lambda s: [Service("a", s.rename(columns={"site_id": "code"}))], "no 'site_id' column"),
    ],
)
def test_bad_services(make, match: str) -> None:
    net = network_from_graph(line_graph([500.0]))
    sites: gpd.GeoDataFrame = points([(0.0, 0.0)])
    with pytest.raises(CoverageInputError, match=match):
        assess_services(net, demand([(100.0, 0.0)]), make(sites))
