"""Fewest sites: reach a target share (target coverage) or cover everyone coverable (LSCP)."""

from __future__ import annotations

import math
import time
from typing import Any

import highspy
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from .._defaults import DEFAULT_MAX_NODES, DEFAULT_TIME_LIMIT_S
from .._errors import CoverageInputError, warn
from .._types import IntArray
from ._blocks import split_blocks
from ._checks import _REL_TOL, _as_share, _as_time_limit, _check_total, _Problem, _problem
from ._engine import Engine, make_selection
from ._greedy import _covered_mask, _lazy_greedy, _prune
from ._highs import _HighsModel, _sites_from_x
from ._reduce import _reduce
from .maximum import _as_nodes
from .result import SiteSelection, _few, _fmt


def reachable_share(
    cover: Any,
    weights: npt.ArrayLike,
    *,
    already_covered: npt.ArrayLike | None = None,
) -> float:
    """Largest share of the total weight that existing halls plus all candidates cover.

    Parameters
    ----------
    cover, weights, already_covered
        As in :func:`max_coverage`.

    Returns
    -------
    float
        ``(covered_before + weight some candidate can newly cover) / total weight``.

    Examples
    --------
    >>> import numpy as np
    >>> reachable_share(np.array([[1], [0]], dtype=bool), [3.0, 1.0])
    0.75
    """
    prob = _problem(cover, weights, already_covered)
    _check_total(prob.weights)
    return _reach(prob)[0]


def _reach(prob: _Problem) -> tuple[float, IntArray, float]:
    """Reachable share, unreachable demand rows and their weight."""
    reachable = prob.reachable()
    unreachable = np.flatnonzero(~prob.already & ~reachable).astype(np.int64)
    lost = math.fsum(prob.weights[unreachable].tolist())
    total = prob.total_weight
    reach_w = math.fsum(prob.weights[prob.already | reachable].tolist())
    return (reach_w / total if total > 0 else 0.0), unreachable, lost


def target_coverage(
    cover: Any,
    weights: npt.ArrayLike,
    *,
    target_share: float = 0.95,
    already_covered: npt.ArrayLike | None = None,
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
    max_nodes: int = DEFAULT_MAX_NODES,
) -> SiteSelection:
    """Find the fewest new sites that bring the covered share to ``target_share``.

    Minimise ``sum_j x_j`` subject to ``sum_i w_i y_i >= needed``,
    ``y_i <= sum_j a_ij x_j``, where ``needed = target_share * total_weight -
    covered_before`` and the total includes demand no candidate can reach.

    Solved on the maximum-coverage engine: the greedy gives a feasible
    number of sites, the blocks' upper curves a proven lower bound on it,
    and a search over ``k`` between the two asks the engine, at each probe,
    only whether ``k`` sites can reach the target (it stops as soon as a plan
    reaches it or the bound falls below it).

    Parameters
    ----------
    cover, weights, already_covered
        As in :func:`max_coverage`.
    target_share : float
        Share of the total weight to cover (existing plus new), in ``[0, 1]``.
    time_limit_s, max_nodes
        As in :func:`max_coverage`; when a limit stops the search, the best
        solution found is returned with ``sites_lower_bound`` and its gap.

    Returns
    -------
    SiteSelection
        ``model="target_coverage"``; ``sites_lower_bound`` is the proven fewest
        number of sites and ``upper_bound`` is ``nan``. When the target is
        already met the selection has no sites and ``method="none"``.

    Raises
    ------
    CoverageInputError
        If the target exceeds :func:`reachable_share`; the message gives the
        reachable share and the demand no candidate reaches.
    """
    t0 = time.perf_counter()
    prob = _problem(cover, weights, already_covered)
    _check_total(prob.weights)
    share = _as_share(target_share)
    needed = _needed(prob, share)
    if needed is None:
        return _already_met(prob, share, t0)
    engine, picks = _target_engine(
        prob, needed, exact=True, max_nodes=_as_nodes(max_nodes), time_limit_s=_as_time_limit(time_limit_s)
    )
    return target_selection(engine, needed, share, t0, feasible=picks)


def _needed(prob: _Problem, share: float) -> float | None:
    """Weight the new sites must add (slack taken off), or None when the target is already met."""
    total = prob.total_weight
    before = prob.covered_before
    slack = _REL_TOL * max(1.0, total)
    needed = share * total - before
    if needed <= slack:
        return None
    reach, unreachable, lost = _reach(prob)
    reachable_new = total * reach - before
    if needed > reachable_new + slack:
        raise CoverageInputError(
            f"target_share={share:.4g} cannot be met: existing halls plus every candidate reach at most "
            f"{reach:.4%} of the total weight {_fmt(total)}; {unreachable.size:,} demand units with weight "
            f"{_fmt(lost)} ({lost / total:.2%}) are out of every candidate's reach (rows "
            f"{_few(unreachable.tolist())}). Lower target_share to at most "
            f"{math.floor(reach * 1e4) / 1e4:.4f}, or add candidate sites near those units."
        )
    return min(needed, reachable_new) - slack


def _already_met(prob: _Problem, share: float, t0: float) -> SiteSelection:
    before, total = prob.covered_before, prob.total_weight
    status = f"target already met: existing coverage {before / total:.2%} >= target {share:.2%}; nothing to do"
    return make_selection(
        prob,
        [],
        bound=0.0,
        optimal=True,
        method="none",
        status=status,
        t0=t0,
        reduced_shape=(0, 0),
        model="target_coverage",
        sites_lower_bound=0,
    )


def _target_engine(
    prob: _Problem, needed: float, *, exact: bool, max_nodes: int, time_limit_s: float
) -> tuple[Engine, list[int]]:
    """Build an engine capped at the number of sites the plain greedy needs to reach ``needed``."""
    red = _reduce(prob, enabled=True, weighted=True)
    picks, _ = _lazy_greedy(red.a, red.w, red.shape[1], stop_at=needed)
    engine = Engine(prob, len(picks), exact=exact, max_nodes=max_nodes, time_limit_s=time_limit_s, red=red)
    return engine, picks


def target_selection(engine: Engine, needed: float, share: float, t0: float, *, feasible: list[int]) -> SiteSelection:
    """Search ``k`` between the proven lower bound and a feasible count, on ``engine``.

    ``feasible`` are reduced columns known to reach ``needed`` (the greedy's);
    the engine's cap must be at least their number.
    """
    hi, hi_sites = len(feasible), list(feasible)
    lo = _lowest_possible(engine, needed, hi)
    while lo < hi:
        mid = (lo + hi) // 2
        answer = engine.solve(mid, goal=needed)
        if answer.lower >= needed:
            hi, hi_sites = mid, answer.sites
        elif answer.upper < needed:
            lo = mid + 1
        else:
            break  # a limit stopped the probe: neither proven nor refuted
        lo = max(lo, _lowest_possible(engine, needed, hi))
    optimal = lo >= hi
    goal = f"reach {share:.2%}"
    if optimal:
        status = f"optimal: {hi} new site(s) are the fewest that {goal}"
    else:
        status = (
            f"not proven fewest: at least {lo} site(s) are needed to {goal}, {hi} found; "
            f"{engine.stop_note() or 'no refinement step was left'}"
        )
    chosen = [int(c) for c in engine.red.cols[np.asarray(hi_sites, dtype=np.int64)]]
    return make_selection(
        engine.prob,
        chosen,
        bound=math.nan,
        optimal=optimal,
        method=engine.method(),
        status=status,
        t0=t0,
        reduced_shape=engine.reduced_shape,
        model="target_coverage",
        sites_lower_bound=min(lo, hi),
        n_blocks=engine.n_blocks,
    )


def _lowest_possible(engine: Engine, needed: float, hi: int) -> int:
    """Smallest ``k`` whose proven upper bound reaches ``needed`` (a lower bound on the answer)."""
    _, upper = engine.bounds(hi)
    ok = np.flatnonzero(upper >= needed)
    return int(ok[0]) if ok.size else hi


def full_coverage(
    cover: Any,
    weights: npt.ArrayLike | None = None,
    *,
    already_covered: npt.ArrayLike | None = None,
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
    max_nodes: int = DEFAULT_MAX_NODES,
) -> SiteSelection:
    """Find the fewest new sites that cover every demand unit some candidate can reach.

    The location set covering problem (LSCP): minimise ``sum_j x_j`` subject to
    ``sum_j a_ij x_j >= 1`` for every demand unit not already covered that at
    least one candidate covers. Units no candidate reaches cannot be covered;
    they are reported in a :class:`~coverage._errors.CoverageWarning` and in
    ``status`` and left out (spopt's LSCP would be infeasible instead).

    Parameters
    ----------
    cover, already_covered
        As in :func:`max_coverage`.
    weights : array-like, optional
        Weights for reporting only (every unit counts in the constraint, even
        with weight 0); default 1 per demand unit.
    time_limit_s, max_nodes
        As in :func:`max_coverage`. The set cover splits into independent
        blocks, each solved by HiGHS on its own.

    Returns
    -------
    SiteSelection
        ``model="full_coverage"``, with ``sites_lower_bound`` as certificate.
    """
    t0 = time.perf_counter()
    prob = _problem(cover, weights, already_covered, weights_required=False)
    _check_total(prob.weights)
    return _full_coverage(prob, _as_time_limit(time_limit_s), t0, stacklevel=3, max_nodes=_as_nodes(max_nodes))


def _full_coverage(
    prob: _Problem, limit: float, t0: float, *, stacklevel: int, max_nodes: int = DEFAULT_MAX_NODES
) -> SiteSelection:
    _, unreachable, lost = _reach(prob)
    note = ""
    if unreachable.size:
        note = (
            f"; {unreachable.size:,} demand unit(s) with weight {_fmt(lost)} are out of every candidate's "
            f"reach and stay uncovered (rows {_few(unreachable.tolist())})"
        )
        warn(
            f"{unreachable.size:,} demand unit(s) (rows {_few(unreachable.tolist())}, weight {_fmt(lost)}) "
            "are farther than the service radius from every candidate and cannot be covered; they are "
            "left out of the set cover. Add candidate sites near them to cover them.",
            stacklevel=stacklevel,
        )
    red = _reduce(prob, enabled=True, weighted=False)
    if red.shape[0] == 0:
        status = "nothing to do: every reachable demand unit is already covered" + note
        return make_selection(
            prob,
            [],
            bound=0.0,
            optimal=True,
            method="none",
            status=status,
            t0=t0,
            reduced_shape=(0, 0),
            model="full_coverage",
            sites_lower_bound=0,
        )
    deadline = t0 + limit
    blocks = split_blocks(red)
    chosen: list[int] = []
    lower = 0
    stopped = ""
    for block in blocks:
        sites, block_lower, why = _set_cover(block, deadline - time.perf_counter(), max_nodes)
        chosen.extend(block.cols[np.asarray(sites, dtype=np.int64)].tolist())
        lower += block_lower
        stopped = stopped or why
    optimal = lower == len(chosen)
    goal = "cover every reachable demand unit"
    if optimal:
        status = f"optimal: {len(chosen)} new site(s) are the fewest that {goal}"
    else:
        status = f"not proven fewest: at least {lower} site(s) are needed to {goal}; {stopped}"
    if len(blocks) > 1:
        status += f" ({len(blocks):,} independent blocks)"
    return make_selection(
        prob,
        red.cols[np.asarray(chosen, dtype=np.int64)].tolist(),
        bound=math.nan,
        optimal=optimal,
        method="milp-highs",
        status=status + note,
        t0=t0,
        reduced_shape=red.shape,
        model="full_coverage",
        sites_lower_bound=lower,
        n_blocks=len(blocks),
    )


def _set_cover(block: Any, time_left_s: float, max_nodes: int) -> tuple[list[int], int, str]:
    """Fewest columns of one block covering all its rows: (sites, proven lower bound, why stopped)."""
    n_rows, n_cols = block.shape
    total = math.fsum(block.w.tolist())
    picks, _ = _lazy_greedy(block.a, block.w, n_cols, stop_at=total)
    picks = _prune(block, picks, total)
    if len(picks) <= 1:
        return picks, len(picks), ""
    if time_left_s <= 0:
        return picks, 1, "the safety time limit was reached (this part depends on machine speed)"
    model = _HighsModel(
        cost=np.ones(n_cols),
        matrix=sp.csc_array(block.a, dtype=np.float64),
        row_lower=np.ones(n_rows),
        row_upper=np.full(n_rows, highspy.kHighsInf),
        n_integer=n_cols,
        maximize=False,
    )
    start = np.zeros(n_cols)
    start[np.asarray(picks, dtype=np.int64)] = 1.0
    out = model.run(time_limit_s=time_left_s, max_nodes=max_nodes, start=start)
    sites = picks
    if out.x is not None:
        mip_sites = _sites_from_x(out.x, n_cols)
        if len(mip_sites) < len(sites) and bool(_covered_mask(block.a, mip_sites, n_rows).all()):
            sites = mip_sites
    if out.optimal:
        return sites, len(sites), ""
    lower = max(1, math.ceil(out.bound - 1e-6) if math.isfinite(out.bound) else 1)
    why = {
        "nodes": f"the node limit (max_nodes={max_nodes:,}) was reached",
        "time": "the safety time limit was reached (this part depends on machine speed)",
    }.get(out.limit, f"HiGHS stopped ({out.status})")
    return sites, min(lower, len(sites)), why
