"""The furniture of the printable map: scale bar, north arrow and the text beside the map."""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ._format import fmt_people, fmt_share
from ._text import display

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from .assess import CoverageResult
    from .plan import SitePlan

__all__ = ["nice_length", "north_arrow", "quiet_font_fallback", "scale_bar", "side_text"]


def nice_length(span_m: float) -> float:
    """Return a round scale-bar length near a fifth of ``span_m`` (1, 2 or 5 x 10^n metres)."""
    target = max(span_m / 5.0, 1.0)
    power = 10 ** math.floor(math.log10(target))
    return float(max(m * power for m in (1, 2, 5) if m * power <= target))


def scale_bar(ax: Axes, L: dict[str, str], lang: str) -> None:
    """Draw a metric scale bar (1, 2 or 5 x 10^n m) in the lower left of ``ax``."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = nice_length(x1 - x0)
    left, base = x0 + 0.03 * (x1 - x0), y0 + 0.04 * (y1 - y0)
    height = 0.008 * (y1 - y0)
    for i in range(2):
        ax.add_patch(_rect(left + i * length / 2, base, length / 2, height, "#212529" if i == 0 else "#ffffff"))
    unit_km = length >= 1000
    text = f"{length / 1000:g} {L['km']}" if unit_km else f"{length:g} {L['metres']}"
    ax.text(left, base + 1.8 * height, "0", ha="center", va="bottom", fontsize=8, parse_math=False)
    ax.text(left + length, base + 1.8 * height, text, ha="center", va="bottom", fontsize=8, parse_math=False)


def _rect(x: float, y: float, w: float, h: float, color: str) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), w, h, facecolor=color, edgecolor="#212529", linewidth=0.8, zorder=20)


def north_arrow(ax: Axes, L: dict[str, str]) -> None:
    """Draw the north arrow in the upper right of ``ax``."""
    ax.annotate(
        L["north"],
        xy=(0.96, 0.95),
        xytext=(0.96, 0.86),
        xycoords="axes fraction",
        ha="center",
        va="center",
        fontsize=11,
        fontweight="bold",
        arrowprops={"facecolor": "#212529", "width": 4, "headwidth": 12, "headlength": 10},
        zorder=21,
    )


def side_text(
    side: Axes,
    coverage: CoverageResult | None,
    plan: SitePlan | None,
    L: dict[str, str],
    lang: str,
    notes: Sequence[str],
    date: dt.date,
) -> None:
    import textwrap

    lines: list[str] = []
    if coverage is not None:
        s = coverage.summary.set_index("group")
        main = "residents" if "residents" in s.index else s.index[0]
        row = s.loc[main]
        lines.append(
            f"{L['covered_now']}{L['colon']}{fmt_people(row.covered)} / {fmt_people(row.total)} "
            f"{L['residents']}（{fmt_share(row.covered_share)}）"
            if lang == "zh"
            else f"{L['covered_now']}{L['colon']}{fmt_people(row.covered)} of {fmt_people(row.total)} "
            f"({fmt_share(row.covered_share)})"
        )
        lines.append(f"{L['circle_claim']}{L['colon']}{fmt_share(row.circle_share)}")
        if plan is not None:
            a = plan.after.summary.set_index("group").loc[main]
            lines.append(L["covered_after"].format(n=len(plan.sites)) + L["colon"] + fmt_share(a.covered_share))
        if coverage.estimate:
            lines.append(L["estimate"])
    body = []
    for line in [*lines, *[display(n, 400) for n in notes if n]]:
        if lang == "zh":  # Chinese breaks anywhere, not at spaces
            body += [line[i : i + 30] for i in range(0, len(line), 30)] or [""]
        else:
            body += textwrap.wrap(line, 48) or [""]
    body += ["", f"{L['made']}{L['colon']}{date.isoformat()}", L["attribution"]]
    side.text(
        0.0,
        0.30,
        "\n".join(body),
        va="top",
        ha="left",
        fontsize=8.5,
        linespacing=1.5,
        transform=side.transAxes,
        parse_math=False,
    )


@contextmanager
def quiet_font_fallback() -> Iterator[None]:
    """Silence matplotlib's "findfont: ... now using 500" notes (CJK fonts ship one weight)."""
    logger = logging.getLogger("matplotlib.font_manager")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)
