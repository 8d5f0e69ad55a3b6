"""The result of every coverage model: :class:`SiteSelection`, with its certificate."""

from __future__ import annotations

import html
import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._types import FloatArray, IntArray

#: How many indices an error message lists before it says "...".
_FEW = 10


def _empty_int() -> IntArray:
    return np.zeros(0, dtype=np.int64)


@dataclass(frozen=True, eq=False, repr=False)
class SiteSelection:
    """New sites chosen by a coverage model, in build order, with a certificate.

    Weights are in the unit of the ``weights`` passed in (residents in this
    project). "Newly covered" means covered by a new site and not already
    covered by an existing hall (or a predefined facility).

    Attributes
    ----------
    sites : numpy.ndarray
        Candidate column indices (int64) of the new sites in build order: the
        first adds the most weight, each next one the most given those before
        it (ties: lowest index). Fixed/predefined sites are not included.
    marginal_weight : numpy.ndarray
        Weight each site in ``sites`` adds given the ones before it; sums to
        ``objective``.
    objective : float
        Newly covered weight.
    covered_before : float
        Weight covered before any new site (existing halls, predefined sites).
    covered_after : float
        ``covered_before + objective``.
    total_weight : float
        Weight of all demand units, including those no candidate can reach.
    upper_bound : float
        Proven upper bound on the newly covered weight any choice of as many
        sites could reach (``max_coverage``); equal to ``objective`` when proven
        optimal. ``nan`` for the fewest-sites models (``target_coverage``,
        ``full_coverage``), whose certificate is ``sites_lower_bound``.
    gap : float
        Relative optimality gap: ``(upper_bound - objective) / upper_bound`` for
        ``max_coverage``; ``(len(sites) - sites_lower_bound) / len(sites)`` for
        the fewest-sites models; 0 when proven optimal or when the bound is 0.
    optimal : bool
        Whether the solution is proven optimal.
    method : str
        ``"milp-highs"`` (mixed-integer program solved by HiGHS),
        ``"greedy+swap"`` (lazy greedy and a 1-swap pass; also reported for
        ``method="exact"`` when the heuristic already met its upper bound and
        the MILP was not needed), or ``"none"`` when no optimisation was needed
        (``k = 0``, nothing left to cover, or every useful candidate fits).
    status : str
        What happened, in words (optimal, time limit reached, target already met...).
    time_s : float
        Wall-clock seconds spent, including reduction and heuristics.
    n_reduced_demand, n_reduced_candidates : int
        Size of the problem actually optimised after the safe reductions.
    model : str
        ``"max_coverage"``, ``"target_coverage"`` or ``"full_coverage"``.
    fixed_sites : numpy.ndarray
        Candidate columns that were fixed open (predefined facilities of
        :func:`from_cost_matrix`); empty when existing halls were given as
        ``already_covered``.
    sites_lower_bound : int or None
        Proven lower bound on the number of new sites (fewest-sites models).
    n_blocks : int
        Independent blocks the reduced problem fell apart into (0: not split).
    extras : dict
        Model-specific figures (capacity: residents served before and after;
        backup: weight covered twice before and after; max-min: the worst
        group's share before and after), shown in the summary.
    """

    sites: IntArray
    marginal_weight: FloatArray
    objective: float
    covered_before: float
    covered_after: float
    total_weight: float
    upper_bound: float
    gap: float
    optimal: bool
    method: str
    status: str
    time_s: float
    n_reduced_demand: int
    n_reduced_candidates: int
    model: str = "max_coverage"
    fixed_sites: IntArray = field(default_factory=_empty_int)
    sites_lower_bound: int | None = None
    n_blocks: int = 0
    extras: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "extras", dict(self.extras))
        for name in ("sites", "marginal_weight", "fixed_sites"):
            arr = np.array(getattr(self, name), copy=True)
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)

    @property
    def k(self) -> int:
        """Number of new sites."""
        return int(self.sites.size)

    @property
    def covered_share_before(self) -> float:
        """Share of the total weight covered before the new sites."""
        return self.covered_before / self.total_weight if self.total_weight > 0 else 0.0

    @property
    def covered_share_after(self) -> float:
        """Share of the total weight covered with the new sites."""
        return self.covered_after / self.total_weight if self.total_weight > 0 else 0.0

    def to_frame(self) -> pd.DataFrame:
        """Return the build order as a table.

        Returns
        -------
        pandas.DataFrame
            One row per new site: ``rank`` (1 = build first), ``site`` (candidate
            column), ``marginal_weight``, ``cumulative_weight`` (newly covered
            so far) and ``covered_share`` (share of the total covered after
            building the sites up to this one).
        """
        cumulative = np.cumsum(self.marginal_weight)
        share = (
            (self.covered_before + cumulative) / self.total_weight
            if self.total_weight > 0
            else np.zeros_like(cumulative)
        )
        return pd.DataFrame(
            {
                "rank": np.arange(1, self.k + 1, dtype=np.int64),
                "site": self.sites.astype(np.int64),
                "marginal_weight": self.marginal_weight.astype(np.float64),
                "cumulative_weight": cumulative,
                "covered_share": share,
            }
        )

    def _summary_rows(self) -> list[tuple[str, str]]:
        rows = [
            ("model", f"{self.model} by {self.method}"),
            ("status", self.status),
            ("new sites", f"{self.k:,}"),
            (
                "newly covered",
                f"{_fmt(self.objective)} ({_pct(self.objective, self.total_weight)} of total "
                f"{_fmt(self.total_weight)})",
            ),
            (
                "covered",
                f"{_fmt(self.covered_before)} ({_pct(self.covered_before, self.total_weight)})"
                f" -> {_fmt(self.covered_after)} ({_pct(self.covered_after, self.total_weight)})",
            ),
        ]
        if self.sites_lower_bound is not None:
            rows.append(("certificate", f"at least {self.sites_lower_bound:,} sites needed; gap {self.gap:.3%}"))
        else:
            rows.append(("certificate", f"upper bound {_fmt(self.upper_bound)}; gap {self.gap:.3%}"))
        if self.fixed_sites.size:
            rows.append(("fixed open", _few(self.fixed_sites.tolist())))
        for name, value in self.extras.items():
            rows.append((name.replace("_", " "), _fmt(value) if abs(value) >= 1 or value == 0 else f"{value:.4f}"))
        rows.append(
            (
                "time",
                f"{self.time_s:.2f} s; optimised {self.n_reduced_demand:,} demand x "
                f"{self.n_reduced_candidates:,} candidates after reduction"
                + (f", in {self.n_blocks:,} independent blocks" if self.n_blocks > 1 else ""),
            )
        )
        return rows

    def __repr__(self) -> str:
        head = f"SiteSelection({self.k} new site(s), {'optimal' if self.optimal else 'not proven optimal'})"
        width = max(len(name) for name, _ in self._summary_rows())
        lines = [head] + [f"  {name:<{width}}  {value}" for name, value in self._summary_rows()]
        if self.k:
            shown = ", ".join(
                f"{s} (+{_fmt(m)})"
                for s, m in zip(self.sites[:_FEW].tolist(), self.marginal_weight[:_FEW].tolist(), strict=True)
            )
            more = f", ... {self.k - _FEW} more" if self.k > _FEW else ""
            lines.append(f"  {'build order':<{width}}  {shown}{more}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        esc = html.escape
        body = "".join(
            f"<tr><th style='text-align:left'>{esc(n)}</th><td style='text-align:left'>{esc(v)}</td></tr>"
            for n, v in self._summary_rows()
        )
        order = ""
        if self.k:
            frame = self.to_frame().head(20)
            order = "<p>Build order" + (f" (first 20 of {self.k})" if self.k > 20 else "") + ":</p>"
            order += frame.to_html(
                index=False,
                formatters={
                    "marginal_weight": _fmt_any,
                    "cumulative_weight": _fmt_any,
                    "covered_share": _pct_any,
                },
            )
        title = "optimal" if self.optimal else "not proven optimal"
        return f"<div><strong>SiteSelection</strong> ({esc(title)})<table>{body}</table>{order}</div>"


def _fmt(x: float) -> str:
    if not math.isfinite(x):
        return str(x)
    return f"{x:,.0f}" if abs(x - round(x)) < 1e-6 else f"{x:,.2f}"


def _fmt_any(x: object) -> str:
    return _fmt(float(x)) if isinstance(x, numbers.Real) else str(x)


def _pct_any(x: object) -> str:
    return f"{float(x):.1%}" if isinstance(x, numbers.Real) else str(x)


def _pct(part: float, whole: float) -> str:
    return f"{part / whole:.1%}" if whole > 0 else "n/a"


def _few(items: Sequence[Any], n: int = _FEW) -> str:
    shown = ", ".join(str(x) for x in items[:n])
    return f"[{shown}{', ...' if len(items) > n else ''}]"
