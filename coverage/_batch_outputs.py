"""A batch's own outputs: the summary table and the index page.

Scenario names, file names and error messages are user text: the CSV goes
through :func:`coverage._text.sheet_frame` (a cell that a spreadsheet would
read as a formula gets a leading ``'``); on the HTML page every text goes
through :func:`coverage._text.html_text` and every link is a percent-encoded
relative path, so nothing a user wrote becomes markup, script or a formula.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import pandas as pd

from ._text import html_text, sheet_frame

__all__ = ["SUMMARY_COLUMNS", "write_index", "write_summary"]

SUMMARY_COLUMNS = [
    "scenario",
    "file",
    "status",
    "error",
    "name",
    "network",
    "residents",
    "covered",
    "covered_share",
    "circle_share",
    "new_sites",
    "covered_after",
    "covered_share_after",
    "certificate",
    "gap",
    "time_network_s",
    "time_halls_s",
    "time_service_areas_s",
    "time_demand_s",
    "time_coverage_s",
    "time_services_s",
    "time_plan_s",
    "time_outputs_s",
    "time_total_s",
    "map",
    "note",
]
"""Columns of ``batch_summary.csv``: the scenario (file name without ``.toml``),
its file, ``ok`` or ``error`` with the message, the scenario's title, where
its network came from (``cache``, ``prepared`` or ``download``), the main
group's residents, covered residents and shares (network walk and
straight-line circle), the plan's new sites, coverage after them and its
certificate (``proven optimal`` or ``within x%``, with the gap), each step's
seconds, the map's path inside the scenario's folder, and a note."""

def write_summary(summary: pd.DataFrame, path: Path) -> Path:
    """Write ``batch_summary.csv`` (UTF-8 with BOM, so that spreadsheets read Chinese names)."""
    sheet_frame(summary).to_csv(path, index=False, float_format="%.6g", lineterminator="\n", encoding="utf-8-sig")
    return path


def _text(value: Any) -> str:
    return html_text(value)


def _share(value: Any) -> str:
    return "" if value is None or not np.isfinite(value) else f"{value:.1%}"


def _number(value: Any) -> str:
    return "" if value is None or not np.isfinite(value) else f"{value:,.0f}"


def _seconds(value: Any) -> str:
    return "" if value is None or not np.isfinite(float(value)) else f"{float(value):.1f}"


def _link(folder: str, name: str, label: str, base: Path) -> str:
    if not (base / folder / name).is_file():
        return ""
    href = quote(f"{folder}/{name}")
    return f'<a href="{html_text(href)}">{html_text(label)}</a>'


def write_index(summary: pd.DataFrame, networks: pd.DataFrame, path: Path, *, mode: str) -> Path:
    """Write ``index.html``: one row per scenario with its figures and links to its map and summary."""
    base = path.parent
    rows = []
    for row in summary.itertuples(index=False):
        folder = str(row.scenario)
        links = " ".join(
            part
            for part in (
                _link(folder, "map.html", "map", base),
                _link(folder, "report.html", "report", base),
                _link(folder, "summary.md", "summary", base),
            )
            if part
        )
        figures = (
            f"<td>{_number(row.residents)}</td><td>{_share(row.covered_share)}</td><td>{_share(row.circle_share)}</td>"
            f"<td>{_number(row.new_sites)}</td><td>{_share(row.covered_share_after)}</td>"
            f"<td>{_text(row.certificate)}</td>"
        )
        status = "ok" if row.status == "ok" else f"error: {_text(row.error)}"
        rows.append(
            f"<tr><td>{_text(row.scenario)}</td><td>{_text(row.name)}</td><td>{status}</td>{figures}"
            f"<td>{_text(row.network)}</td><td>{_number(row.time_total_s)}</td><td>{links}</td></tr>"
        )
    nets = "".join(
        f"<tr><td>{_text(r.source)}</td><td>{_text(r.status)}</td><td>{_number(r.nodes)}</td>"
        f"<td>{_number(r.edges)}</td><td>{_seconds(r.seconds)}</td></tr>"
        for r in networks.itertuples(index=False)
    )
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Coverage batch: {len(summary)} scenarios</title>
<style>body{{font-family:sans-serif;margin:1.5em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.3em .6em;text-align:left}}th{{background:#f3f3f3}}</style>
</head><body>
<h1>Coverage batch: {len(summary)} scenarios</h1>
<p>Ran {_text(mode)}. Shares are of the main group (residents) within the scenario's walking threshold;
the circle share is what a straight-line circle of the same radius would claim. Full table:
<a href="batch_summary.csv">batch_summary.csv</a>.</p>
<table><thead><tr><th>scenario</th><th>title</th><th>status</th><th>residents</th><th>covered</th>
<th>circle</th><th>new sites</th><th>covered after</th><th>certificate</th><th>network</th><th>seconds</th>
<th>files</th></tr></thead><tbody>
{chr(10).join(rows)}
</tbody></table>
<h2>Networks prepared once</h2>
<table><thead><tr><th>source</th><th>status</th><th>nodes</th><th>edges</th><th>seconds</th></tr></thead>
<tbody>{nets}</tbody></table>
<p>Map data &copy; OpenStreetMap contributors (ODbL).</p>
</body></html>
"""
    path.write_text(page, encoding="utf-8")
    return path
