"""Helpers shared by the benchmark scripts: data folder, timing, memory, tables."""

from __future__ import annotations

import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def data_dir() -> Path:
    """The shared data folder ($COVERAGE_PLANNER_DATA, else ../shared/data)."""
    env = os.environ.get("COVERAGE_PLANNER_DATA")
    folder = Path(env) if env else REPO.parent / "shared" / "data"
    if not folder.is_dir():
        sys.exit(f"data folder {folder} not found; set COVERAGE_PLANNER_DATA")
    return folder


def rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux: KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Run ``fn`` and return (seconds, result)."""
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def med(xs: list[float]) -> float:
    """Median as a float."""
    return float(statistics.median(xs))


def table(headers: list[str], rows: list[list[str]]) -> str:
    """A plain-text table: first column left-aligned, the rest right-aligned."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def fmt(cells: list[str]) -> str:
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    line = fmt(headers)
    return "\n".join([line, "-" * len(line), *(fmt(r) for r in rows)])
