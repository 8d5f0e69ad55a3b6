from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coverage._errors import CoverageInputError
from coverage.scenario import SCHEMA, load_scenario, validate

SCENARIOS = Path(__file__).resolve().parents[1] / "data" / "scenarios"

GOOD = """
name = "t"
[network]
source = "{data}/shenzhen/futian_walk.graphml"
[demand]
kind = "estimate"
population = 100
area_km2 = 1.0
"""


@pytest.mark.parametrize("name", ["futian.toml", "porto_alegre.toml", "guangming.toml"])
def test_shipped_scenarios_validate(name: str, shared_data: Path) -> None:
    sc = load_scenario(SCENARIOS / name, data_dir=shared_data)
    assert sc.name
    assert sc.radius.metres.tolist() == [500.0]


def write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "s.toml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_defaults_and_data_dir(tmp_path: Path, shared_data: Path) -> None:
    sc = load_scenario(write(tmp_path, GOOD), data_dir=shared_data)
    assert sc[""]["radius_m"] == 500.0
    assert sc[""]["walk_speed_kmh"] == 4.5
    assert sc["network"]["source"] == shared_data / "shenzhen" / "futian_walk.graphml"
    assert sc["plan"]["k"] == 5
    assert sc["plan"]["k_max"] == 20
    assert sc["plan"]["max_nodes"] == 2_000  # the deterministic work limit of the optimizer
    assert sc.rings.metres.tolist() == [500.0]


def test_minutes_and_rings(tmp_path: Path, shared_data: Path) -> None:
    text = GOOD.replace('name = "t"', 'name = "t"\nminutes = 10\nwalk_speed_kmh = 4.8') + (
        "[service_areas]\nrings_min = [5, 15]\n"
    )
    sc = load_scenario(write(tmp_path, text), data_dir=shared_data)
    assert sc.radius.metres.tolist() == pytest.approx([800.0])
    assert sc.rings.minutes.tolist() == [5.0, 10.0, 15.0]
    assert sc.rings.metres.tolist() == pytest.approx([400.0, 800.0, 1200.0])


def test_byte_order_mark_is_accepted(tmp_path: Path, shared_data: Path) -> None:
    sc = load_scenario(write(tmp_path, b"\xef\xbb\xbf" + GOOD.replace('"t"', '"福田"').encode()), data_dir=shared_data)
    assert sc.name == "福田"


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (GOOD.replace('name = "t"', ""), r"missing key name"),
        ("radius = 500\n" + GOOD, r"unknown key radius; did you mean .radius_m."),
        (GOOD.replace("[demand]", "[demnd]"), r"unknown section \[demnd\]; did you mean 'demand'"),
        (GOOD.replace("population = 100", 'population = "many"'), r"\[demand\] population = 'many': give a number"),
        (GOOD.replace("area_km2 = 1.0", "area_km2 = 0"), r"\[demand\] area_km2 = 0: give a number > 0"),
        (GOOD.replace("futian_walk.graphml", "nope.graphml"), r"\[network\] source: .*nope.graphml does not exist"),
        (GOOD.replace('kind = "estimate"', 'kind = "census"'), r"kind = 'census' should be one of"),
        (GOOD + "[plan]\nk = -1\n", r"\[plan\] k=-1: must be at least 0"),
        (GOOD + "[plan]\nmax_nodes = -5\n", r"\[plan\] max_nodes=-5: must be at least 0"),
        (GOOD + "[plan]\nk = 5\nk_max = 3\n", r"k_max = 3 is below k = 5"),
        (GOOD + "[plan]\ntarget_share = 1.5\n", r"target_share=1.5: give a share in \(0, 1\]"),
        (GOOD + "[plan]\ncandidates = ['network', 'parks']\n", r"\['parks'\] should be among"),
        (GOOD + "[plan]\ncandidate_file = 'x.csv'\n", r"candidates do not include 'file'"),
        (GOOD + "[plan]\nspacing_m = 0.01\n", r"spacing_m=0.01: below the smallest accepted value of 1 m"),
        (GOOD + "[map]\nlang = 'fr'\n", r"lang = 'fr'"),
        ("walk_speed_kmh = 0\n" + GOOD, r"walk_speed_kmh=0: a walking speed is between"),
        ("walk_speed_kmh = -3\n" + GOOD, r"walk_speed_kmh=-3"),
        ("radius_m = [300, 500]\n" + GOOD, r"radius_m=\[300, 500\]: give a number"),
        ("radius_m = 500\nminutes = 10\n" + GOOD, r"radius_m \(metres\) or minutes .*not both"),
        (GOOD + "[service_areas]\nrings_m = [300, 300]\n", r"listed twice"),
        (GOOD + "[service_areas]\nresolution_m = 0.001\n", r"resolution_m=0.001: below the smallest"),
        (GOOD + "[halls]\nid_col = 'id'\n", r"\[halls\] id_col needs file"),
        (GOOD.replace("area_km2 = 1.0", "area_km2 = 1.0\nmethod = 'centroid'"), r"method has no effect"),
        ("demand = 5\n" + GOOD.replace("[demand]", "[x]"), r"demand should be a section \[demand\]"),
        (
            "name = 't'\n[network]\n[demand]\nkind='estimate'\npopulation=1\narea_km2=1\n",
            r"exactly one of source",
        ),
        ("name = \n", r"not valid TOML"),
        ('name = "a\\u0000b"\n' + GOOD.replace('name = "t"', ""), r"NUL byte"),
    ],
)
def test_bad_scenarios(tmp_path: Path, shared_data: Path, text: str, match: str) -> None:
    with pytest.raises(CoverageInputError, match=match):
        load_scenario(write(tmp_path, text), data_dir=shared_data)


def test_missing_file_folder_and_bad_encoding(tmp_path: Path) -> None:
    with pytest.raises(CoverageInputError, match="not found"):
        load_scenario(tmp_path / "none.toml")
    with pytest.raises(CoverageInputError, match="is a folder"):
        load_scenario(tmp_path)
    gbk = write(tmp_path, GOOD.replace('"t"', '"福田区"').encode("gbk"))
    with pytest.raises(CoverageInputError, match=r"not UTF-8 text .*save the file as UTF-8"):
        load_scenario(gbk)


# Every schema key, and some keys that do not exist, with values of every TOML kind.
_KEYS = [(section, key) for section, spec in SCHEMA.items() for key in spec] + [("", "radius"), ("plan", "kk")]
_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changes=st.lists(st.tuples(st.sampled_from(_KEYS), _VALUES), max_size=6))
def test_any_scenario_dictionary_loads_or_gets_a_clear_error(changes, tmp_path_factory) -> None:
    raw = tomllib.loads(GOOD)
    for (section, key), value in changes:
        if value is None:  # TOML has no null: drop the key instead
            (raw if section == "" else raw.setdefault(section, {})).pop(key, None)
            continue
        (raw if section == "" else raw.setdefault(section, {}))[key] = value
    data = tmp_path_factory.getbasetemp()
    message = ""
    try:
        validate(raw, path=data / "s.toml", data_dir=data)
    except CoverageInputError as exc:  # the only exception allowed, and it must say something
        message = str(exc)
        assert message.startswith(str(data / "s.toml")), message


def test_map_and_text_keys(tmp_path: Path, shared_data: Path) -> None:
    text = GOOD.replace('name = "t"', 'name = "t"\nname_zh = "福田"') + (
        '[halls]\nlabel_zh = "替代点"\nstand_in = true\n[map]\nbasemap = "amap"\npaper = "A4"\n'
    )
    sc = load_scenario(write(tmp_path, text), data_dir=shared_data)
    assert sc[""]["name_zh"] == "福田" and sc[""]["name_en"] == ""
    assert sc["halls"]["stand_in"] is True and sc["halls"]["label_zh"] == "替代点"
    assert sc["map"]["basemap"] == "amap" and sc["map"]["paper"] == "A4"
    assert load_scenario(write(tmp_path, GOOD), data_dir=shared_data)["map"]["basemap"] == "offline"


@pytest.mark.parametrize(
    ("section", "match"),
    [
        ('[map]\nbasemap = "google"\n', "basemap"),
        ('[map]\npaper = "A0"\n', "paper"),
        ('[map]\nbasemap = "tianditu"\ntianditu_key = "abc"\n', "tianditu_key"),
        ('[map]\ntianditu_key = "1234567890\\"><script>"\n', "tianditu_key"),
    ],
)
def test_bad_map_keys_are_named(tmp_path: Path, shared_data: Path, section: str, match: str) -> None:
    with pytest.raises(CoverageInputError, match=match):
        load_scenario(write(tmp_path, GOOD + section), data_dir=shared_data)


def test_tianditu_needs_a_key(tmp_path: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TIANDITU_KEY", raising=False)
    with pytest.raises(CoverageInputError, match="tianditu_key"):
        load_scenario(write(tmp_path, GOOD + '[map]\nbasemap = "tianditu"\n'), data_dir=shared_data)
