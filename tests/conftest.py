"""Shared fixtures: where the real data lives, and a scratch output folder."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

REPO = Path(__file__).resolve().parents[1]
FUTIAN = REPO / "data" / "scenarios" / "futian.toml"


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


@dataclass(frozen=True)
class FutianRun:
    """The one full Futian run of the test session: the CLI's output folder and its RunResult."""

    out: Path
    result: Any


@pytest.fixture(scope="session")
def futian_run(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> FutianRun:
    """Run ``coverage-planner run futian.toml`` once per session (about a minute).

    Shared by the CLI, map and report tests (all ``slow``). The run goes
    through the command line itself; the RunResult it computed is kept by
    wrapping ``coverage.pipeline.run_scenario``.
    """
    import coverage.pipeline
    from coverage.cli import main

    kept: list[Any] = []
    original = coverage.pipeline.run_scenario

    def keep(*args: Any, **kwargs: Any) -> Any:
        kept.append(original(*args, **kwargs))
        return kept[-1]

    out = tmp_path_factory.mktemp("futian") / "out"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(coverage.pipeline, "run_scenario", keep)
        code = main(["run", str(FUTIAN), "--out", str(out), "--data-dir", str(shared_data), "--quiet"])
    assert code == 0 and len(kept) == 1
    return FutianRun(out=out, result=kept[0])
