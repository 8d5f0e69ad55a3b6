from __future__ import annotations

from pathlib import Path

import pytest

from coverage._errors import CoverageInputError
from coverage.scenario import load_scenario

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


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_and_data_dir(tmp_path: Path, shared_data: Path) -> None:
    sc = load_scenario(write(tmp_path, GOOD), data_dir=shared_data)
    assert sc[""]["radius_m"] == 500.0
    assert sc["network"]["source"] == shared_data / "shenzhen" / "futian_walk.graphml"
    assert sc["plan"]["k"] == 5


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (GOOD.replace('name = "t"', ""), r"missing key name"),
        ("radius = 500\n" + GOOD, r"unknown key radius; did you mean .radius_m."),
        (GOOD.replace("[demand]", "[demnd]"), r"unknown section \[demnd\]; did you mean 'demand'"),
        (
            GOOD.replace("population = 100", 'population = "many"'),
            r"\[demand\] population = 'many' should be",
        ),
        (
            GOOD.replace("futian_walk.graphml", "nope.graphml"),
            r"\[network\] source: .*nope.graphml does not exist",
        ),
        (GOOD.replace('kind = "estimate"', 'kind = "census"'), r"kind = 'census' should be one of"),
        (GOOD + "[plan]\nk = -1\n", r"k and k_max must be >= 0"),
        (GOOD + "[plan]\ntarget_share = 1.5\n", r"target_share = 1.5"),
        (GOOD + "[map]\nlang = 'fr'\n", r"lang = 'fr'"),
        (
            "name = 't'\n[network]\n[demand]\nkind='estimate'\npopulation=1\narea_km2=1\n",
            r"exactly one of source",
        ),
        ("name = \n", r"not valid TOML"),
    ],
)
def test_bad_scenarios(tmp_path: Path, shared_data: Path, text: str, match: str) -> None:
    with pytest.raises(CoverageInputError, match=match):
        load_scenario(write(tmp_path, text), data_dir=shared_data)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CoverageInputError, match="not found"):
        load_scenario(tmp_path / "none.toml")
