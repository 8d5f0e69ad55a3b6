"""The life-circle step of a scenario run on a small offline district, against direct computations."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from coverage._errors import CoverageInputError, CoverageWarning
from coverage.accessibility import two_step_fca
from coverage.capacity import allocate_capacity
from coverage.fairness import fairness
from coverage.life_circle import FAIL, PASS
from coverage.pairs import pairs_from_sites
from coverage.pipeline import RunResult, run_scenario
from coverage.scenario import load_scenario
from tests._scenarios import lonlat, write_scenario

HALLS = [("h1", "Hall one", 150.0, 150.0), ("h2", "Hall two", 800.0, 700.0), ("h3", "Hall three", 300.0, 900.0)]
KINDERGARTENS = [(100.0, 900.0, 200), (600.0, 300.0, 150), (1000.0, 1000.0, 120)]

LIFE_CIRCLE = """
[communities]
file = "communities.geojson"
name_col = "name"

[[services]]
key = "kindergarten"
name = "幼儿园"
file = "kindergartens.csv"
id_col = "code"
name_col = "title"
minutes = 5
capacity_col = "places"

[life_circle]
tiers = ["5min"]
target_share = 0.5
facilities = { halls = "community_service_station" }
"""


def _district(folder: Path, extra: str = LIFE_CIRCLE, *, capacity: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rows = ["code,title,lon,lat,places"]
    for k, (x, y, places) in enumerate(KINDERGARTENS):
        lon, lat = lonlat(x, y)
        rows.append(f"k{k},Kindergarten {k},{lon:.7f},{lat:.7f},{places}")
    (folder / "kindergartens.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    features = []
    for i, (x0, y0) in enumerate([(-50, -50), (550, -50), (-50, 550), (550, 550)]):
        ring = [lonlat(x0, y0), lonlat(x0 + 600, y0), lonlat(x0 + 600, y0 + 600), lonlat(x0, y0 + 600), lonlat(x0, y0)]
        features.append({"type": "Feature", "properties": {"name": f"社区{i + 1}"},
                         "geometry": {"type": "Polygon", "coordinates": [ring]}})
    (folder / "communities.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": features}),
                                                encoding="utf-8")
    path = write_scenario(folder, halls=HALLS, extra=extra)
    if capacity:
        halls = pd.read_csv(folder / "halls.csv")
        halls["capacity"] = [900, 700, 400]
        halls.to_csv(folder / "halls.csv", index=False)
        text = path.read_text(encoding="utf-8").replace('label = "test halls"\n',
                                                        'label = "test halls"\ncapacity_col = "capacity"\n')
        path.write_text(text, encoding="utf-8")
    return path


def _run(path: Path, **kwargs: object) -> RunResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)
        return run_scenario(load_scenario(path), **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    path = _district(tmp_path_factory.mktemp("life"))
    text = path.read_text(encoding="utf-8").replace(
        'id_col = "id"\n\n[areas]', 'id_col = "id"\nelderly_share = 0.2\nelderly_walk_speed_kmh = 3.0\n\n[areas]'
    ).replace("[plan]\n", '[plan]\nmethod = "greedy"\n')  # the plan only has to add sites here
    path.write_text(text, encoding="utf-8")
    return _run(path, steps=("network", "halls", "demand", "coverage", "services", "life_circle", "plan"))


def test_checklist_matches_the_distances(run: RunResult) -> None:
    lc = run.life_circle
    assert lc is not None and lc.check is not None and run.services is not None and run.coverage is not None
    assert lc.main_group == "residents"
    units = run.coverage.units
    fac = lc.check.facilities
    # Judged at the standard's radii: 300 m for the station (the halls) and the kindergarten.
    for key, col in (("community_service_station", "distance_m"), ("kindergarten", None)):
        dist = units[col].to_numpy() if col else run.services.units["kindergarten_m"].to_numpy()
        for r in fac[(fac["facility"] == key) & (fac["level"] == "community")].itertuples():
            sel = (units["community"].to_numpy() == r.area) & (units["group"].to_numpy() == (
                "residents" if r.group == "all" else r.group))
            pop = units["population"].to_numpy()
            assert r.population == pytest.approx(pop[sel].sum())
            assert r.population_within == pytest.approx(pop[sel & (dist <= 300.0)].sum())
            assert r.status == (PASS if r.share >= 0.5 else FAIL)
    wide = lc.check.checklist("community")
    assert set(wide["area"]) <= {"社区1", "社区2", "社区3", "社区4", "(outside the areas)"}
    assert set(lc.check.checklist("subdistrict")["area"]) == {"西区", "东区"}
    # The elderly are checked on their own; the "all" rows are the residents, not residents + elderly.
    whole = lc.check.tiers.query("level == 'all'").set_index("group")
    assert whole.loc["all", "population"] == pytest.approx(whole.loc["residents", "population"])


def _pairs(run: RunResult, sites: pd.DataFrame, limit: float):
    assert run.coverage is not None and run.network is not None
    return pairs_from_sites(run.network, sites, run.coverage.units, limit_m=limit)


def test_capacity_equals_a_direct_allocation_and_a_flow_oracle(run: RunResult) -> None:
    lc = run.life_circle
    assert lc is not None and run.coverage is not None and run.halls is not None
    units = run.coverage.units
    pop = np.where(units["group"] == "residents", units["population"], 0.0)
    pairs = _pairs(run, run.halls, 300.0)
    direct = allocate_capacity(pairs, pop, [900, 700, 400])
    row = lc.capacity.set_index("facility").loc["halls"]
    assert row["served"] == pytest.approx(direct.served)
    assert row["served"] + row["over_capacity"] + row["out_of_reach"] == pytest.approx(pop.sum())
    loads = lc.loads[lc.loads["facility"] == "halls"]
    np.testing.assert_allclose(loads["load"], direct.halls["load"], atol=1e-6)
    assert (loads["load"] <= loads["capacity_residents"] + 1e-6).all()
    # Oracle: the maximum flow through the pairs equals the residents served.
    G = nx.DiGraph()
    for i, j in zip(pairs.demand, pairs.supply, strict=True):
        G.add_edge(("u", int(i)), ("h", int(j)), capacity=float(pop[i]))
    for i in set(pairs.demand.tolist()):
        G.add_edge("s", ("u", i), capacity=float(pop[i]))
    for j, cap in enumerate([900, 700, 400]):
        G.add_edge(("h", j), "t", capacity=float(cap))
    assert nx.maximum_flow_value(G, "s", "t") == pytest.approx(row["served"], rel=1e-9)
    # Residents within reach but over capacity sit around full halls only.
    assert loads.loc[~loads["full"], "unserved_within"].sum() == pytest.approx(0.0, abs=1e-6)
    # 2SFCA on the same pairs.
    acc = two_step_fca(pairs, pop, [900, 700, 400], radius_m=300.0)
    np.testing.assert_allclose(lc.residents["halls_2sfca"], acc.score, rtol=1e-12)
    # The kindergarten: 5 minutes at 4.5 km/h = 375 m for the residents.
    kg = lc.capacity.set_index("facility").loc["kindergarten"]
    assert kg["sites"] == 3 and kg["served"] <= 470 + 1e-6


def test_backup_counts_and_fairness_before_and_after(run: RunResult) -> None:
    lc = run.life_circle
    assert lc is not None and run.coverage is not None and run.plan is not None and run.halls is not None
    units = run.coverage.units
    res = units["group"] == "residents"
    pairs = _pairs(run, run.halls, 300.0)
    count = np.bincount(pairs.demand, minlength=len(units))
    b = lc.backup.query("facility == 'halls' and when == 'before' and group == 'residents'").iloc[0]
    assert b["backup"] == pytest.approx(units.loc[res & (count >= 2), "population"].sum())
    assert b["covered"] == pytest.approx(units.loc[res & (count >= 1), "population"].sum())
    # Fairness after the plan equals fairness() on the after assessment.
    after = run.plan.after.units.assign(community=units["community"].fillna("(outside the areas)").to_numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)
        ref = fairness(after, overall_group="residents").indices.set_index(["measure", "across"])
    got = lc.fairness.query("facility == 'halls' and when == 'after'").set_index(["measure", "across"])
    for key in ref.index:
        assert got.loc[key, "gini"] == pytest.approx(ref.loc[key, "gini"], abs=1e-12)
    table = lc.fairness_table("halls")
    assert {"gini_before", "gini_after", "palma_before", "theil_after"} <= set(table.columns)
    assert lc.check_after is not None
    after_cov = lc.check_after.facilities.query("facility == 'community_service_station' and level == 'all'")
    before_cov = lc.check.facilities.query("facility == 'community_service_station' and level == 'all'")
    assert (after_cov["share"].to_numpy() >= before_cov["share"].to_numpy() - 1e-12).all()
    assert "community_service_station" in lc.headline() or "5min" in lc.headline()


def test_services_judge_uses_each_groups_walking_time(tmp_path: Path) -> None:
    extra = LIFE_CIRCLE.replace("target_share = 0.5", 'target_share = 0.5\njudge = "services"')
    path = _district(tmp_path, extra, capacity=False)
    text = path.read_text(encoding="utf-8").replace(
        'id_col = "id"\n\n[areas]', 'id_col = "id"\nelderly_share = 0.2\nelderly_walk_speed_kmh = 3.0\n\n[areas]'
    ).replace("[plan]\n", "[plan]\nenabled = false\n")
    path.write_text(text, encoding="utf-8")
    run = _run(path)
    lc = run.life_circle
    assert lc is not None and lc.check is not None and run.plan is None
    kg = lc.check.facilities.query("facility == 'kindergarten' and level == 'all'").set_index("group")
    assert kg.loc["residents", "threshold_m"] == pytest.approx(375.0)
    assert kg.loc["elderly", "threshold_m"] == pytest.approx(250.0)  # 5 min at 3 km/h
    assert kg.loc["elderly", "share"] <= kg.loc["residents", "share"]
    assert set(lc.fairness["when"]) == {"before"} and list(lc.capacity["facility"]) == ["kindergarten"]


def test_capacity_alone_turns_the_step_on_without_a_check(tmp_path: Path) -> None:
    path = _district(tmp_path, "", capacity=True)
    path.write_text(path.read_text(encoding="utf-8").replace("[plan]\n", "[plan]\nenabled = false\n"),
                    encoding="utf-8")
    run = _run(path, steps=("network", "halls", "demand", "coverage", "services", "life_circle"))
    assert run.life_circle is not None and run.life_circle.check is None
    assert list(run.life_circle.capacity["facility"]) == ["halls"]
    assert run.life_circle.area_level == "subdistrict"


BAD = [
    ("[life_circle]\nstandard = \"GB 9999\"\n", "not shipped"),
    ("[life_circle]\ntiers = [\"20min\"]\nfacilities = { halls = \"kindergarten\" }\n", "not tiers of"),
    ("[life_circle]\nfacilities = { halls = \"swimming_pool\" }\n", "not a facility type"),
    ("[life_circle]\nfacilities = { health = \"kindergarten\" }\n", "no \\[\\[services\\]\\] has key"),
    ("[life_circle]\ntarget_share = 0.5\n", "no \\[\\[services\\]\\] key is a facility type"),
    ("[life_circle]\nfacilities = { halls = \"kindergarten\" }\nthresholds_m = { kindergarten = -3 }\n",
     "thresholds_m.kindergarten"),
    ("[life_circle]\nfacilities = { halls = \"kindergarten\" }\nthresholds_m = { pool = 300 }\n",
     "not facility types"),
    ("[life_circle]\nfacilities = { halls = \"kindergarten\" }\njudge = \"services\"\nthresholds_m = "
     "{ kindergarten = 300 }\n", "no effect"),
    ("[life_circle]\nenabled = false\n", None),
    ("[life_circle]\nfacilities = { halls = \"kindergarten\" }\nstandard = \"TD/T 1062-2021\"\n"
     "standard_file = \"s.toml\"\n", "not both"),
    ("[life_circle]\nfacilities = { halls = \"kindergarten\" }\ntiers = []\n", "list of 1 to"),
    ("[life_circle]\nfacilities = { halls = \"kindergarten\" }\nbogus = 1\n", "unknown key"),
]


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One small district written once; each bad case writes its own scenario file beside it."""
    folder = tmp_path_factory.mktemp("bad")
    path = write_scenario(folder, halls=HALLS)
    (folder / "s.toml").write_text("", encoding="utf-8")
    return path


def _variant(base: Path, name: str, extra: str, halls_keys: str = "") -> Path:
    text = base.read_text(encoding="utf-8").replace('label = "test halls"\n', 'label = "test halls"\n' + halls_keys)
    path = base.parent / f"{name}.toml"
    path.write_text(text + "\n" + extra, encoding="utf-8")
    return path


@pytest.mark.parametrize(("extra", "match"), BAD)
def test_bad_life_circle_sections(plain: Path, extra: str, match: str | None) -> None:
    path = _variant(plain, f"lc{BAD.index((extra, match))}", extra)
    if match is None:
        assert load_scenario(path)["life_circle"]["enabled"] is False
        return
    with pytest.raises(CoverageInputError, match=match):
        load_scenario(path)


CAPACITY_BAD = [
    ('visits_per_resident = 0.1\n', "", "needs capacity_col"),
    ('capacity_col = "capacity"\n', "[life_circle]\nenabled = false\n", "turns off"),
    ('capacity_col = "capacity"\nvisits_per_resident = -1\n', "", "give a number > 0"),
    ("", '[[services]]\nkey = "kindergarten"\nfile = "halls.csv"\nvisits_per_resident = 0.2\n',
     "needs capacity_col"),
    ("", '[[services]]\nkey = "kindergarten"\nfile = "halls.csv"\n[life_circle]\njudge = "services"\n',
     "has no radius_m or minutes"),
]


@pytest.mark.parametrize(("halls_keys", "extra", "match"), CAPACITY_BAD)
def test_bad_capacity_keys(plain: Path, halls_keys: str, extra: str, match: str) -> None:
    path = _variant(plain, f"cap{CAPACITY_BAD.index((halls_keys, extra, match))}", extra, halls_keys)
    with pytest.raises(CoverageInputError, match=match):
        load_scenario(path)


def test_bad_capacity_values_name_the_rows(tmp_path: Path) -> None:
    path = _district(tmp_path, "", capacity=True)
    halls = pd.read_csv(tmp_path / "halls.csv")
    halls["capacity"] = ["900", "many", "-4"]
    halls.to_csv(tmp_path / "halls.csv", index=False)
    want = r"halls.csv: capacity column 'capacity'.*sites \['h2', 'h3'\] hold \['many', '-4'\]"
    with pytest.raises(CoverageInputError, match=want):
        _run(path, steps=("network", "halls"))  # read with the halls, before any heavy step


SCENARIOS = Path(__file__).resolve().parents[1] / "data" / "scenarios"


@pytest.mark.parametrize("name", ["porto_alegre_life_circle.toml", "futian_life_circle.toml"])
def test_shipped_life_circle_scenarios_validate(name: str, shared_data: Path) -> None:
    sc = load_scenario(SCENARIOS / name, data_dir=shared_data)
    lc = sc["life_circle"]
    assert lc["enabled"] and lc["judge"] == "services" and lc["facilities"]["halls"]
    assert sc["demand"]["elderly_share"] and sc["communities"]["file"] and sc["areas"]["file"]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["porto_alegre_life_circle.toml", "futian_life_circle.toml"])
def test_shipped_life_circle_scenarios_run(name: str, shared_data: Path) -> None:
    sc = load_scenario(SCENARIOS / name, data_dir=shared_data)
    run = _run_loaded(sc)
    lc = run.life_circle
    assert lc is not None and lc.check is not None and run.coverage is not None
    # Every resident is in a stand-in community and sub-district.
    assert "(outside the areas)" not in set(lc.check.tiers["area"])
    whole = lc.check.facilities.query("level == 'all' and group == 'all' and threshold_from == 'service'")
    units = run.coverage.units
    main = units[units["group"] == "residents"]
    halls = whole[whole["facility"] == lc.options["mapping"]["halls"]].iloc[0]
    assert halls["population_within"] == pytest.approx(main.loc[main["status"] == "covered", "population"].sum())
    if "planner" in sc.name:
        assert lc.check.standard.code == "PLANNER-RULE-POA" and not lc.check.facilities["verified"].any()
        cap = lc.capacity.set_index("facility")
        assert set(cap.index) == {"halls", "school"}
        assert (cap["served"] + cap["over_capacity"] + cap["out_of_reach"]).to_numpy() == pytest.approx(
            main["population"].sum())
        loads = lc.loads[lc.loads["facility"] == "halls"]
        assert loads["capacity_residents"].sum() == pytest.approx(4000 * run.halls["healthcare"].astype(float).sum())


def _run_loaded(sc):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)
        return run_scenario(sc, steps=("network", "halls", "demand", "coverage", "services", "life_circle"))


def test_tables_reach_the_run_outputs(run: RunResult, tmp_path: Path) -> None:
    from coverage import io
    from coverage.report import run_layers, summary_markdown

    lc = run.life_circle
    assert lc is not None
    tables = lc.tables()
    assert {"life_circle_checklist_community", "life_circle_checklist_subdistrict", "life_circle_tiers",
            "hall_loads", "capacity_summary", "backup_coverage", "fairness", "fairness_before_after",
            "life_circle_checklist_community_after"} <= set(tables)
    assert set(tables["life_circle_tiers"]["when"]) == {"before", "after"}
    layers = run_layers(run)
    assert set(tables) <= set(layers)
    written = io.write_csvs({k: layers[k] for k in tables}, tmp_path)
    back = pd.read_csv(written["life_circle_checklist_community"], encoding="utf-8-sig")
    assert set(back["5min"]) <= {PASS, FAIL, "无数据"}
    text = summary_markdown(run)
    assert "## Life circle" in text and "Fairness of the halls, before and after" in text and "社区1" in text


def test_elderly_checklist_and_shares(run: RunResult) -> None:
    lc = run.life_circle
    assert lc is not None and lc.check is not None
    tables = lc.tables()
    assert "life_circle_checklist_community_elderly" in tables and "life_circle_checklist_subdistrict_elderly" in tables
    shares = tables["life_circle_shares_community"]
    assert set(shares["group"]) == {"all", "elderly"}
    fac = lc.check.facilities.query("level == 'community' and group == 'elderly' and facility == 'kindergarten'")
    got = shares[shares["group"] == "elderly"].set_index("area")["kindergarten"]
    for r in fac.itertuples():
        assert got[r.area] == pytest.approx(r.share)
    with pytest.raises(CoverageInputError, match="no rows"):
        lc.check.checklist("community", "children")


@pytest.mark.slow  # renders report.html and report.docx
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_report_has_the_life_circle_section(run: RunResult, tmp_path: Path, lang: str) -> None:
    import datetime as dt

    from coverage.report_doc import build_report
    from coverage.report_files import report_html, write_docx

    doc = build_report(run, lang=lang, title="t", halls_label="h", source_note="", stand_in=False, map_png=None,
                       date=dt.date(2026, 1, 2))
    heads = [b.text for b in doc.blocks if b.kind == "h2"]
    title = "生活圈达标核查" if lang == "zh" else "Life-circle check"
    assert title in heads and heads.index(title) < len(heads) - 1  # before the caveats
    tables = [b.table for b in doc.blocks if b.kind == "table" and b.table is not None]
    assert all(t.map(lambda v: isinstance(v, str)).all().all() for t in tables)  # cells are formatted text
    html = report_html(doc)
    assert "社区1" in html or "西区" in html
    assert ("未达标" if lang == "zh" else "not met") in html
    pytest.importorskip("docx")
    assert write_docx(doc, tmp_path / "r.docx").stat().st_size > 0
