"""The README's library example runs as written, on the shared data."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def readme_block(section: str) -> str:
    """The first ```python block after the README heading ``## <section>``."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    after = text.split(f"\n## {section}\n", 1)[1]
    match = re.search(r"```python\n(.*?)```", after, re.S)
    assert match, f"no python block in the README's {section} section"
    return match.group(1)


@pytest.mark.slow
def test_library_example_runs(shared_data: Path, tmp_path: Path) -> None:
    code = readme_block("Library") + "\nprint(before)\nprint(plan)\n"
    script = tmp_path / "example.py"
    script.write_text(code, encoding="utf-8")
    env = {
        **os.environ,
        "COVERAGE_PLANNER_DATA": str(shared_data),
        "COVERAGE_PLANNER_CACHE": str(tmp_path / "cache"),
        "PYTHONPATH": str(REPO),
    }
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = tmp_path / "out"
    for name in ["futian_map.html", "coverage.gpkg", "coverage.xlsx", "plan.gpkg", "plan.xlsx"]:
        assert (out / name).stat().st_size > 0, name
    assert {p.name for p in (out / "tables").glob("*.csv")} >= {"coverage_summary.csv", "residents.csv"}
    assert "proven optimal" in done.stdout
    assert done.stdout.count("Estimated, not census data") == 1
    assert "more than 300 m from any street" not in done.stderr


def test_ci_runs_the_readme_test_command() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8").split("\n## Two commands\n", 1)[1]
    commands = re.findall(r"```bash\n(.*?)\n```", text.split("\n## ", 1)[0], re.S)
    assert len(commands) == 2, "the README gives exactly two commands"
    setup_and_run, setup_and_test = commands
    assert "coverage-planner run data/scenarios/futian.toml" in setup_and_run
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert setup_and_test in ci, ".ci/run must run the README's test command as written"
