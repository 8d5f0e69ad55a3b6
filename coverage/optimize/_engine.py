"""The maximum-coverage engine: reduce, split into blocks, refine where the allocation needs it.

For a question about ``k`` sites the engine allocates ``k`` across the blocks
twice by dynamic programming: over the blocks' upper curves (a proven bound
on the whole) and over their lower curves (the best plan found). While the
two differ, every block whose value at the upper allocation is not yet known
takes its next refinement step (LP, then MILP). When the upper allocation
uses only known values, the lower allocation reaches the bound: the answer
is proven. Work limits (MILP nodes, simplex iterations) are deterministic;
only the safety time limit depends on machine speed, and a result it stops
says so.

One engine serves many questions (``k``, the curve over ``k``, the fewest
sites for a target): every bound and solution found is kept.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ._blocks import Allocation, allocate, split_blocks
from ._checks import _Problem
from ._curve import EXACT, OPT_TOL, BlockCurve, Limits
from ._greedy import _lazy_greedy, _value
from ._reduce import _reduce, _Reduced
from .result import SiteSelection


@dataclass(frozen=True)
class Answer:
    """The engine's answer for one ``k``: reduced columns and the proven interval."""

    k: int
    sites: list[int]
    lower: float
    upper: float
    proven: bool


class Engine:
    """Maximum coverage over one problem, for any ``k`` up to ``k_cap``."""

    def __init__(
        self,
        prob: _Problem,
        k_cap: int,
        *,
        exact: bool,
        max_nodes: int,
        time_limit_s: float,
        reduce: bool = True,
        red: _Reduced | None = None,
    ) -> None:
        t0 = time.perf_counter()
        self.prob = prob
        self.red = red if red is not None else _reduce(prob, enabled=reduce, weighted=True)
        self.limits = Limits(exact=exact, max_nodes=int(max_nodes), deadline=t0 + float(time_limit_s))
        self.time_limit_s = float(time_limit_s)
        self.k_cap = int(k_cap)
        parts = split_blocks(self.red)
        self.red.drop_csr()  # the blocks hold what they need; this copy costs 5 bytes a pair
        for part in parts:
            part.drop_csr()
        blocks = [BlockCurve(b, self.k_cap, self.limits) for b in parts]
        # Blocks known exactly for every k are merged once into one curve.
        self.known = [b for b in blocks if bool(np.all(b.state == EXACT))]
        self.open = [b for b in blocks if not bool(np.all(b.state == EXACT))]
        self.known_alloc = allocate([b.lower for b in self.known], self.k_cap)
        self.n_cap = sum(b.cap for b in blocks)
        self.n_blocks = len(blocks)
        self.red_total = math.fsum(self.red.w.tolist())
        self.setup_s = time.perf_counter() - t0

    @property
    def reduced_shape(self) -> tuple[int, int]:
        """Rows and columns of the reduced problem."""
        return self.red.shape

    def _curves(self, which: str) -> list[np.ndarray]:
        known = self.known_alloc.total[: min(self.k_cap, sum(b.cap for b in self.known)) + 1]
        return [known, *(getattr(b, which) for b in self.open)]

    def bounds(self, k_max: int) -> tuple[np.ndarray, np.ndarray]:
        """Best lower and upper totals for every ``k = 0..k_max`` (capped at the useful columns)."""
        k_eff = min(k_max, self.n_cap)
        return allocate(self._curves("lower"), k_eff).total, allocate(self._curves("upper"), k_eff).total

    def solve(self, k: int, *, goal: float | None = None) -> Answer:
        """Refine until ``k`` sites are proven optimal, or no step is left.

        With ``goal``, stop as soon as the best plan reaches it or the bound
        falls below it (all the fewest-sites question needs).
        """
        k_eff = min(int(k), self.n_cap)
        while True:
            low = allocate(self._curves("lower"), k_eff)
            up = allocate(self._curves("upper"), k_eff)
            lower, upper = float(low.total[k_eff]), float(up.total[k_eff])
            if lower >= upper - OPT_TOL * max(1.0, abs(upper)):
                break
            if goal is not None and (lower >= goal or upper < goal):
                break
            split = up.split(k_eff)[1:]
            todo = [(b, int(j)) for b, j in zip(self.open, split, strict=True) if b.can_refine(int(j))]
            if not todo or self.limits.remaining_s() <= 0:
                if self.limits.remaining_s() <= 0:
                    self.limits.stopped.add("time")
                break
            for block, j in todo:
                block.refine(j)
        proven = lower >= upper - OPT_TOL * max(1.0, abs(upper))
        return Answer(k=k_eff, sites=self._sites(low, k_eff), lower=lower, upper=max(upper, lower), proven=proven)

    def _sites(self, alloc: Allocation, k: int) -> list[int]:
        split = alloc.split(k)
        chosen: list[int] = []
        for block, j in zip(self.known, self.known_alloc.split(int(split[0])), strict=True):
            chosen.extend(block.red.cols[block.sols[int(j)]].tolist())
        for block, j in zip(self.open, split[1:], strict=True):
            chosen.extend(block.red.cols[block.sols[int(j)]].tolist())
        return sorted(chosen)

    # ---------------------------------------------------------------- results

    def method(self) -> str:
        """How the answers so far were certified."""
        if self.limits.milp_used:
            return "milp-highs"
        if self.limits.lp_used:
            return "lp-highs"
        return "greedy+swap"

    def stop_note(self) -> str:
        """Why refinement stopped short of a proof, in words ("" if it did not)."""
        notes = []
        if "nodes" in self.limits.stopped:
            notes.append(f"the node limit (max_nodes={self.limits.max_nodes:,} per MILP) was reached")
        if "iterations" in self.limits.stopped:
            notes.append("the simplex iteration limit was reached")
        if "time" in self.limits.stopped:
            notes.append(
                f"the safety time limit of {self.time_limit_s:g} s was reached (this part depends on machine speed)"
            )
        if not self.limits.exact:
            notes.append('method="greedy" stops at the LP bound')
        return "; ".join(notes)

    def selection(self, answer: Answer, k: int, t0: float, *, model: str = "max_coverage") -> SiteSelection:
        """Turn an answer into a :class:`SiteSelection` with exactly ``k`` sites."""
        if k == 0:
            return self.finish([], k, 0.0, True, "none", "k = 0: the baseline, no new sites", t0, model=model)
        if self.red.shape[1] == 0 or self.red_total <= 0:
            status = (
                "nothing left to cover: every demand unit with residents is already covered "
                "or out of every candidate's reach"
            )
            return self.finish([], k, 0.0, True, "none", status, t0, model=model)
        if k >= self.n_cap and self.n_cap == self.red.shape[1]:
            status = (
                f"optimal: k = {k} >= the {self.red.shape[1]:,} candidates that still add coverage, so all of "
                "them are built and every reachable demand unit is covered"
            )
            return self.finish(answer.sites, k, self.red_total, True, "none", status, t0, model=model)
        blocks = f" ({self.n_blocks:,} independent blocks)" if self.n_blocks > 1 else ""
        if answer.proven:
            status = f"optimal: the best plan found meets the proven upper bound{blocks}"
        else:
            gap = (answer.upper - answer.lower) / answer.upper if answer.upper > 0 else 0.0
            status = (
                f"not proven optimal: within {gap:.3%} of the upper bound{blocks}; "
                f"{self.stop_note() or 'no refinement step was left'}"
            )
        return self.finish(answer.sites, k, answer.upper, answer.proven, self.method(), status, t0, model=model)

    def finish(
        self,
        red_sites: Sequence[int],
        k: int,
        bound: float,
        optimal: bool,
        method: str,
        status: str,
        t0: float,
        *,
        model: str = "max_coverage",
    ) -> SiteSelection:
        """Map reduced sites back, fill up to ``k``, order them and certify."""
        chosen = [int(c) for c in self.red.cols[np.asarray(red_sites, dtype=np.int64)]]
        return self.finish_original(chosen, k, bound, optimal, method, status, t0, model=model)

    def finish_original(
        self,
        chosen: list[int],
        k: int,
        bound: float,
        optimal: bool,
        method: str,
        status: str,
        t0: float,
        *,
        model: str = "max_coverage",
    ) -> SiteSelection:
        """Fill original candidate columns up to ``k``, order them and certify."""
        prob = self.prob
        chosen = list(chosen)
        if len(chosen) < k:
            # sites that add nothing more: among zero gains the lowest index comes first
            extra, _ = _lazy_greedy(
                prob.a,
                prob.weights,
                k - len(chosen),
                allowed=np.flatnonzero(prob.available).astype(np.int64),
                start=chosen,
                uncovered=~prob.already,
            )
            chosen.extend(extra)
        return make_selection(
            prob,
            chosen,
            bound=bound,
            optimal=optimal,
            method=method,
            status=status,
            t0=t0,
            reduced_shape=self.red.shape,
            model=model,
            n_blocks=self.n_blocks,
        )


def make_selection(
    prob: _Problem,
    chosen: Sequence[int],
    *,
    bound: float,
    optimal: bool,
    method: str,
    status: str,
    t0: float,
    reduced_shape: tuple[int, int],
    model: str,
    sites_lower_bound: int | None = None,
    n_blocks: int = 0,
) -> SiteSelection:
    """Build a :class:`SiteSelection`: the chosen columns in build order, with their certificate."""
    uncovered = ~prob.already
    order, marginal = _lazy_greedy(
        prob.a, prob.weights, len(chosen), allowed=np.asarray(chosen, dtype=np.int64), uncovered=uncovered
    )
    objective = _value(prob.a, prob.weights, order, uncovered=uncovered)
    before = prob.covered_before
    if sites_lower_bound is not None:
        upper = math.nan
        n = len(order)
        gap = 0.0 if optimal or n == 0 else max(0.0, (n - sites_lower_bound) / n)
    else:
        upper = objective if optimal else max(bound, objective)
        gap = 0.0 if optimal or upper <= 0 else max(0.0, (upper - objective) / upper)
    return SiteSelection(
        sites=np.asarray(order, dtype=np.int64),
        marginal_weight=np.asarray(marginal, dtype=np.float64),
        objective=objective,
        covered_before=before,
        covered_after=before + objective,
        total_weight=prob.total_weight,
        upper_bound=upper,
        gap=gap,
        optimal=bool(optimal),
        method=method,
        status=status,
        time_s=time.perf_counter() - t0,
        n_reduced_demand=int(reduced_shape[0]),
        n_reduced_candidates=int(reduced_shape[1]),
        model=model,
        fixed_sites=prob.fixed,
        sites_lower_bound=sites_lower_bound,
        n_blocks=n_blocks,
    )
