"""Max-min coverage: new sites that raise the worst-served group's covered share.

Groups are communities (or age groups); group ``g`` has total weight ``T_g``
and weight ``B_g`` already covered. With ``y_i`` = unit covered by a new
site::

    max t   s.t.  t T_g <= B_g + sum_{i in g} w_i y_i   for every group
                  y_i <= sum_j a_ij x_j,   sum_j x_j <= k

then, at that worst share, the most weight covered overall (lexicographic,
see :mod:`._milp`), so the plan is not fair by covering nobody it need not.

Groups whose share no candidate can change (every uncovered resident out of
reach) are left out of the minimum: they would pin it and make every plan
equally "fair". Their shares still count in ``worst_share_before/after``.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from .._defaults import DEFAULT_MAX_NODES, DEFAULT_TIME_LIMIT_S
from .._errors import CoverageInputError
from ._checks import _as_count, _as_cover, _as_mask, _as_time_limit, _as_weights, _check_total
from ._greedy import _lazy_greedy
from ._milp import Milp, solve_phases
from .maximum import _as_nodes
from .result import SiteSelection


def max_min_coverage(
    cover: Any,
    weights: npt.ArrayLike,
    k: int,
    *,
    groups: npt.ArrayLike,
    already_covered: npt.ArrayLike | None = None,
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
    max_nodes: int = DEFAULT_MAX_NODES,
) -> SiteSelection:
    """Choose ``k`` new sites that maximise the smallest covered share over the groups.

    Parameters
    ----------
    cover, weights, k, already_covered, time_limit_s, max_nodes
        As in :func:`max_coverage`.
    groups : array-like, shape (n_demand,)
        Group of each demand unit (community name or code). Groups with no
        weight are ignored.

    Returns
    -------
    SiteSelection
        ``model="max_min_coverage"``; ``objective`` is the newly covered weight
        at the best worst share; ``extras`` holds ``worst_share_before`` and
        ``worst_share_after`` over every group, and the same over the groups
        the plan can reach (``worst_reachable_share_*``), which is what is
        maximised.

    Examples
    --------
    >>> import numpy as np
    >>> cover = np.array([[1, 0], [0, 1], [0, 1]], dtype=bool)
    >>> already = [False, True, False]  # group b is half covered, group a not at all
    >>> sel = max_min_coverage(cover, [10.0, 100.0, 100.0], 1, groups=["a", "b", "b"], already_covered=already)
    >>> sel.sites.tolist(), sel.extras["worst_share_before"], sel.extras["worst_share_after"]
    ([0], 0.0, 0.5)
    """
    t0 = time.perf_counter()
    a = _as_cover(cover)
    n_d, n_c = a.shape
    w = _as_weights(weights, n_d)
    _check_total(w)
    k = _as_count(k, name="k", upper=n_c, what="candidate sites")
    already = _as_mask(already_covered, n_d, name="already_covered")
    labels = np.asarray(groups)
    if labels.shape != (n_d,):
        raise CoverageInputError(f"groups has shape {labels.shape}; give one group per demand unit, shape ({n_d},).")
    _, code = np.unique(labels.astype(str), return_inverse=True)
    code = code.reshape(-1)
    limit, nodes = _as_time_limit(time_limit_s), _as_nodes(max_nodes)
    group_total = np.bincount(code, weights=w)
    group_before = np.bincount(code, weights=np.where(already, w, 0.0), minlength=group_total.size)
    live = group_total > 0
    share_before = float(np.min(group_before[live] / group_total[live]))
    rows = np.flatnonzero(~already & (w > 0) & (np.bincount(a.indices, minlength=n_d) > 0))
    improvable = np.zeros(group_total.size, dtype=bool)
    improvable[np.unique(code[rows])] = True
    live &= improvable
    if not live.any():
        live = group_total > 0  # nothing can change: the minimum is what it is
    sub = sp.csc_array(a[rows])
    milp, worst_cost, cover_cost = _model(sub, w[rows], code[rows], group_total, group_before, live, k)
    start = _start(sub, w[rows], code[rows], group_total, group_before, live, k)
    out = solve_phases(milp, [worst_cost, cover_cost], start=start, time_limit_s=limit, max_nodes=nodes)
    x = out.x if out.x is not None else start
    chosen = [int(j) for j in np.flatnonzero(x[:n_c] > 0.5)]
    covered = already.copy()
    for j in chosen:
        covered[a.indices[a.indptr[j] : a.indptr[j + 1]]] = True
    after = np.bincount(code, weights=np.where(covered, w, 0.0), minlength=group_total.size)
    everyone = group_total > 0
    share_after = float(np.min(after[everyone] / group_total[everyone]))
    helped_after = float(np.min(after[live] / group_total[live]))
    order, marginal = _lazy_greedy(a, w, len(chosen), allowed=np.asarray(chosen, dtype=np.int64), uncovered=~already)
    before_w = math.fsum(w[already].tolist())
    objective = math.fsum(w[covered & ~already].tolist())
    status = (
        f"optimal: the worst reachable group's covered share rises to {helped_after:.2%} "
        "(the most it can), with the most weight covered at that share"
        if out.optimal
        else f"not proven optimal: a limit ({out.limit or 'HiGHS'}) stopped a phase; worst share {share_after:.2%}"
        + (f", at most {out.bounds[0]:.2%}" if math.isfinite(out.bounds[0]) else "")
    )
    total = math.fsum(w.tolist())
    upper = objective if out.optimal else max(objective, total - before_w)
    return SiteSelection(
        sites=np.asarray(order, dtype=np.int64),
        marginal_weight=np.asarray(marginal, dtype=np.float64),
        objective=objective,
        covered_before=before_w,
        covered_after=before_w + objective,
        total_weight=total,
        upper_bound=upper,
        gap=0.0 if out.optimal or upper <= 0 else (upper - objective) / upper,
        optimal=out.optimal,
        method="milp-highs",
        status=status,
        time_s=time.perf_counter() - t0,
        n_reduced_demand=int(rows.size),
        n_reduced_candidates=n_c,
        model="max_min_coverage",
        extras={
            "worst_share_before": share_before,
            "worst_share_after": share_after,
            "worst_reachable_share_before": float(np.min(group_before[live] / group_total[live])),
            "worst_reachable_share_after": helped_after,
        },
    )


def _model(a: Any, w: Any, code: Any, total: Any, before: Any, live: Any, k: int) -> tuple[Milp, Any, Any]:
    """Variables x (candidates), y (units), t; rows: links, one per live group, the cardinality."""
    n_r, n_c = a.shape
    pair_row = a.indices.astype(np.int64)
    pair_col = np.repeat(np.arange(n_c), np.diff(a.indptr))
    y = n_c + np.arange(n_r)
    t = n_c + n_r
    n_var = n_c + n_r + 1
    link = sp.csr_array(
        (
            np.concatenate([np.ones(n_r), -np.ones(pair_row.size)]),
            (np.concatenate([np.arange(n_r), pair_row]), np.concatenate([y, pair_col])),
        ),
        shape=(n_r, n_var),
    )
    groups = np.flatnonzero(live)
    where = np.full(total.size, -1)
    where[groups] = np.arange(groups.size)
    in_live = live[code]
    share = sp.csr_array(
        (
            np.concatenate([total[groups], -w[in_live]]),
            (
                np.concatenate([np.arange(groups.size), where[code[in_live]]]),
                np.concatenate([np.full(groups.size, t), y[in_live]]),
            ),
        ),
        shape=(groups.size, n_var),
    )
    card = sp.csr_array(np.concatenate([np.ones(n_c), np.zeros(n_r + 1)]).reshape(1, -1))
    milp = Milp(
        cost=np.zeros(n_var),
        matrix=sp.vstack([link, share, card], format="csr"),
        row_lower=np.full(n_r + groups.size + 1, -np.inf),
        row_upper=np.concatenate([np.zeros(n_r), before[groups], [float(k)]]),
        n_integer=n_c,
        col_lower=np.zeros(n_var),
        col_upper=np.ones(n_var),
    )
    worst = np.zeros(n_var)
    worst[t] = 1.0
    coverage = np.concatenate([np.zeros(n_c), w, [0.0]])
    return milp, worst, coverage


def _start(a: Any, w: Any, code: Any, total: Any, before: Any, live: Any, k: int) -> Any:
    """Return a feasible start: the greedy coverage plan, its y and the worst share it gives."""
    n_r, n_c = a.shape
    picks, _ = _lazy_greedy(a, w, k)
    covered = np.zeros(n_r, dtype=bool)
    for j in picks:
        covered[a.indices[a.indptr[j] : a.indptr[j + 1]]] = True
    gained = np.bincount(code, weights=np.where(covered, w, 0.0), minlength=total.size)
    worst = float(np.min((before[live] + gained[live]) / total[live]))
    x = np.zeros(n_c)
    x[np.asarray(picks, dtype=np.int64)] = 1.0
    return np.concatenate([x, covered.astype(float), [worst * (1 - 1e-12)]])
