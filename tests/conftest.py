"""Shared fixtures: where the real data lives, and a scratch output folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

REPO = Path(__file__).resolve().parents[1]


def _shared_data() -> Path:
    env = os.environ.get("COVERAGE_PLANNER_DATA")
    if env:
        return Path(env)
    return REPO.parent / "shared" / "data"


SHARED_DATA = _shared_data()

# Property tests: derandomized in CI (the same examples on every run, so the same
# verdict on the same commit); local runs keep exploring new examples. A failing
# example is printed with the blob that reproduces it.
settings.register_profile("ci", derandomize=True, print_blob=True, deadline=None, database=None)
settings.register_profile("dev", print_blob=True, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder holding the real OSM and population data (``../shared/data``)."""
    if not SHARED_DATA.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"shared data folder {SHARED_DATA} is missing in CI")
        pytest.skip(f"shared data folder {SHARED_DATA} not found; set COVERAGE_PLANNER_DATA")
    return SHARED_DATA


@pytest.fixture(scope="session")
def output_dir() -> Path:
    """Ignored folder for files the tests write (maps, screenshots)."""
    path = REPO / "tests" / "output"
    path.mkdir(parents=True, exist_ok=True)
    return path
