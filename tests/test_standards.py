"""The shipped standards: schema, provenance rules, nesting, and bad files."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from coverage._errors import CoverageInputError
from coverage.standards import list_standards, load_standard, read_standard


@pytest.mark.parametrize("code", list_standards())
def test_shipped_standard_loads_and_every_verified_row_names_a_source(code):
    std = load_standard(code)
    known = set(std.sources["id"])
    for table in (std.tiers, std.facilities):
        for row in table.itertuples():
            ids = [i for i in row.sources.split(";") if i]
            assert set(ids) <= known
            if row.verified:
                assert ids, f"{row.key} is verified without a source"
            else:
                assert row.note.strip(), f"{row.key} is unverified without a note"
    for src in std.sources.itertuples():
        assert src.url.startswith("http")
        assert src.confirms


def test_gb50180_tiers_are_ordered_and_nested():
    std = load_standard("gb50180-2018")
    assert std.tier_keys == ["15min", "10min", "5min", "block"]
    walks = std.tiers["walk_m_max"].tolist()
    assert walks == sorted(walks, reverse=True)
    pops = std.tiers["population_min"].tolist()
    assert pops == sorted(pops, reverse=True)
    # Nesting: every tier carries its own facility types plus every lower tier's.
    sizes = [len(std.facilities_for(t)) for t in std.tier_keys]
    assert sizes == sorted(sizes, reverse=True)
    for upper, lower in zip(std.tier_keys, std.tier_keys[1:], strict=False):
        assert set(std.facilities_for(lower)["key"]) < set(std.facilities_for(upper)["key"])
    assert std.nesting_verified


def test_gb50180_verified_figures_are_the_checked_ones():
    """The 10-minute tier was checked (zgbk): pin its figures so an edit cannot drift silently."""
    std = load_standard("GB 50180-2018")
    ten = std.tier("10min")
    assert bool(ten["verified"])
    assert (ten["walk_m_max"], ten["population_min"], ten["population_max"]) == (500, 15000, 25000)
    assert (ten["households_min"], ten["households_max"]) == (5000, 8000)
    fifteen = std.tier("15min")
    assert (fifteen["population_min"], fifteen["population_max"]) == (50000, 100000)
    assert (fifteen["households_min"], fifteen["households_max"]) == (17000, 32000)
    assert not bool(fifteen["verified"])  # its walking distance was not found in a reproduction


def test_required_only_drops_optional_types():
    std = load_standard("GB 50180-2018")
    every = std.facilities_for("5min")
    required = std.facilities_for("5min", include_optional=False)
    assert set(required["class"]) == {"required"}
    assert set(every["key"]) - set(required["key"]) == set(every.loc[every["class"] == "optional", "key"])


def test_unknown_code_and_tier_name_the_fix():
    with pytest.raises(CoverageInputError, match="read_standard"):
        load_standard("GB 99999-2030")
    with pytest.raises(CoverageInputError, match="its tiers are"):
        load_standard("GB 50180-2018").tier("20min")


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "local.toml"
    path.write_text(body, encoding="utf-8")
    return path


HEAD = """
[standard]
code = "LOCAL-1"
[[sources]]
id = "s1"
title = "a page"
url = "https://example.org"
confirms = "the 5-minute figures"
"""

TIER = """
[[tiers]]
key = "5min"
name_zh = "五分钟"
level = 1
walk_m_max = 300
verified = true
sources = ["s1"]
"""


def test_read_standard_accepts_a_local_file(tmp_path):
    body = (
        HEAD
        + TIER
        + """
[[facilities]]
key = "hall"
name_zh = "党群服务中心"
tier = "5min"
class = "required"
service_radius_m = 500
verified = false
note = "local rule"
"""
    )
    std = read_standard(_write(tmp_path, body))
    assert std.facilities.loc[0, "service_radius_m"] == 500
    assert math.isnan(std.tiers.loc[0, "population_min"])


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            '\n[[facilities]]\nkey = "x"\nname_zh = "x"\ntier = "9min"\nclass = "required"\n'
            'verified = false\nnote = "n"\n',
            "is not one of the tiers",
        ),
        (
            '\n[[facilities]]\nkey = "x"\nname_zh = "x"\ntier = "5min"\nclass = "must"\nverified = false\nnote = "n"\n',
            "give 'required' or 'optional'",
        ),
        (
            '\n[[facilities]]\nkey = "x"\nname_zh = "x"\ntier = "5min"\nclass = "required"\nverified = true\n',
            "names no source",
        ),
        (
            '\n[[facilities]]\nkey = "x"\nname_zh = "x"\ntier = "5min"\nclass = "required"\nverified = false\n',
            "add a `note`",
        ),
        (
            '\n[[facilities]]\nkey = "x"\nname_zh = "x"\ntier = "5min"\nclass = "required"\nverified = true\n'
            'sources = ["nope"]\n',
            "unknown sources",
        ),
        (
            '\n[[facilities]]\nkey = "x"\nname_zh = "x"\ntier = "5min"\nclass = "required"\nverified = false\n'
            'note = "n"\nservice_radius_m = -5\n',
            "give a number >= 0",
        ),
    ],
)
def test_bad_rows_are_refused_with_the_row_named(tmp_path, extra, message):
    with pytest.raises(CoverageInputError, match=message):
        read_standard(_write(tmp_path, HEAD + TIER + extra))


def test_unreadable_file_is_an_input_error(tmp_path):
    with pytest.raises(CoverageInputError, match="TOML"):
        read_standard(_write(tmp_path, "[standard\ncode ="))
    with pytest.raises(CoverageInputError, match=r"\[standard\]"):
        read_standard(_write(tmp_path, "x = 1"))
