"""Backup coverage: new sites that also put residents within reach of a second site.

Hogan and ReVelle's backup coverage (BACOP), on the sparse matrix, with the
existing halls fixed: ``e_i`` halls already reach unit ``i``; ``y_i`` = unit
covered at least once, ``u_i`` = covered at least twice::

    y_i + u_i <= e_i + sum_j a_ij x_j,   u_i <= y_i,   sum_j x_j <= k

Objectives, in order (``primary="coverage"``): the most weight covered, then,
at that coverage, the most weight covered twice; or (``primary="backup"``)
the most weight covered twice, then the most covered. The second never costs
the first anything (lexicographic phases, see :mod:`._milp`).
"""

from __future__ import annotations

import math
import time
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from .._defaults import DEFAULT_MAX_NODES, DEFAULT_TIME_LIMIT_S
from .._errors import CoverageInputError
from .._types import FloatArray
from ._checks import _as_count, _as_cover, _as_time_limit, _as_weights, _check_total
from ._greedy import _lazy_greedy
from ._milp import Milp, solve_phases
from .maximum import _as_nodes
from .result import SiteSelection

Primary = Literal["coverage", "backup"]


def max_backup_coverage(
    cover: Any,
    weights: npt.ArrayLike,
    k: int,
    *,
    existing: npt.ArrayLike | None = None,
    primary: Primary = "coverage",
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
    max_nodes: int = DEFAULT_MAX_NODES,
) -> SiteSelection:
    """Choose ``k`` new sites for coverage and backup coverage, one after the other.

    Parameters
    ----------
    cover, weights, k
        As in :func:`max_coverage`.
    existing : array-like of int, shape (n_demand,), optional
        How many existing halls already reach each unit (0, 1, 2, ...);
        default none.
    primary : {"coverage", "backup"}
        Which objective comes first; the other is maximised at its optimum.
    time_limit_s, max_nodes
        As in :func:`max_coverage`.

    Returns
    -------
    SiteSelection
        ``model="backup_coverage"``; ``objective`` is the newly covered weight
        (at least once), ``extras`` holds ``backup_before`` and
        ``backup_after`` (weight within reach of at least two sites).
        ``optimal`` means both phases were proven optimal.

    Examples
    --------
    >>> import numpy as np
    >>> cover = np.array([[1, 1, 0], [0, 1, 1], [0, 0, 1]], dtype=bool)
    >>> sel = max_backup_coverage(cover, [5.0, 5.0, 1.0], 2, existing=[1, 0, 0])
    >>> sel.sites.tolist(), sel.extras["backup_after"]
    ([2, 1], 10.0)
    """
    t0 = time.perf_counter()
    a = _as_cover(cover)
    n_d, n_c = a.shape
    w = _as_weights(weights, n_d)
    _check_total(w)
    e = _existing(existing, n_d)
    k = _as_count(k, name="k", upper=n_c, what="candidate sites")
    if primary not in ("coverage", "backup"):
        raise CoverageInputError(f"primary must be 'coverage' or 'backup', got {primary!r}.")
    limit, nodes = _as_time_limit(time_limit_s), _as_nodes(max_nodes)
    total = math.fsum(w.tolist())
    once_before = math.fsum(w[e >= 1].tolist())
    twice_before = math.fsum(w[e >= 2].tolist())
    # Units already backed up, or reached by no candidate, are constants.
    reach = np.bincount(a.indices, minlength=n_d)
    rows = np.flatnonzero((e < 2) & (reach > 0) & (w > 0))
    sub = sp.csc_array(a[rows])
    milp, cover_cost, backup_cost = _model(sub, w[rows], e[rows], k)
    start = _start(sub, w[rows], e[rows], k)
    objectives = [cover_cost, backup_cost] if primary == "coverage" else [backup_cost, cover_cost]
    out = solve_phases(milp, objectives, start=start, time_limit_s=limit, max_nodes=nodes)
    x = out.x if out.x is not None else start
    chosen = [int(j) for j in np.flatnonzero(x[:n_c] > 0.5)]
    covered = e >= 1
    count = e.copy()
    for j in chosen:
        count[a.indices[a.indptr[j] : a.indptr[j + 1]]] += 1
    once_after = math.fsum(w[count >= 1].tolist())
    twice_after = math.fsum(w[count >= 2].tolist())
    order, marginal = _lazy_greedy(a, w, len(chosen), allowed=np.asarray(chosen, dtype=np.int64), uncovered=~covered)
    first = 0 if primary == "coverage" else 1
    # phase "coverage" counts the model rows covered (those already covered once included), so the
    # rows outside the model that are covered (backed up already) complete the bound
    outside = once_before - math.fsum(w[rows][e[rows] >= 1].tolist())
    bound_once = out.bounds[first] + outside if out.optimal or first == 0 else math.inf
    objective = once_after - once_before
    upper = objective if out.optimal else max(objective, min(bound_once - once_before, total - once_before))
    gap = 0.0 if out.optimal or upper <= 0 else max(0.0, (upper - objective) / upper)
    order_text = "covered, then covered twice" if primary == "coverage" else "covered twice, then covered"
    status = (
        f"optimal: most weight {order_text}"
        if out.optimal
        else f"not proven optimal: a limit ({out.limit or 'HiGHS'}) stopped a phase"
    )
    return SiteSelection(
        sites=np.asarray(order, dtype=np.int64),
        marginal_weight=np.asarray(marginal, dtype=np.float64),
        objective=objective,
        covered_before=once_before,
        covered_after=once_after,
        total_weight=total,
        upper_bound=upper,
        gap=gap,
        optimal=out.optimal,
        method="milp-highs",
        status=status,
        time_s=time.perf_counter() - t0,
        n_reduced_demand=int(rows.size),
        n_reduced_candidates=n_c,
        model="backup_coverage",
        extras={"backup_before": twice_before, "backup_after": twice_after},
    )


def _existing(existing: npt.ArrayLike | None, n: int) -> Any:
    if existing is None:
        return np.zeros(n, dtype=np.int64)
    arr = np.asarray(existing)
    if arr.shape != (n,) or not np.issubdtype(arr.dtype, np.integer) or bool((arr < 0).any()):
        raise CoverageInputError(
            f"existing must be one whole number >= 0 per demand unit (halls already within reach), "
            f"shape ({n},); got shape {arr.shape}, dtype {arr.dtype}."
        )
    return arr.astype(np.int64)


def _model(a: Any, w: FloatArray, e: Any, k: int) -> tuple[Milp, FloatArray, FloatArray]:
    """Variables x (candidates) and u (per unit), both binary, then y; rows as in the module notes.

    ``u`` must be binary: with ``y + u <= 1`` the relaxation would count a
    unit reached once as half backed up.
    """
    n_r, n_c = a.shape
    pair_row = a.indices.astype(np.int64)
    pair_col = np.repeat(np.arange(n_c), np.diff(a.indptr))
    u = n_c + np.arange(n_r)
    y = n_c + n_r + np.arange(n_r)
    # y_i + u_i - sum_j a_ij x_j <= e_i
    link = sp.csr_array(
        (
            np.concatenate([np.ones(n_r), np.ones(n_r), -np.ones(pair_row.size)]),
            (np.concatenate([np.arange(n_r), np.arange(n_r), pair_row]), np.concatenate([y, u, pair_col])),
        ),
        shape=(n_r, n_c + 2 * n_r),
    )
    order = sp.csr_array(
        (np.concatenate([np.ones(n_r), -np.ones(n_r)]), (np.tile(np.arange(n_r), 2), np.concatenate([u, y]))),
        shape=(n_r, n_c + 2 * n_r),
    )
    card = sp.csr_array(np.concatenate([np.ones(n_c), np.zeros(2 * n_r)]).reshape(1, -1))
    matrix = sp.vstack([link, order, card], format="csr")
    lower = np.zeros(n_c + 2 * n_r)
    lower[y[e >= 1]] = 1.0  # already covered once
    milp = Milp(
        cost=np.zeros(n_c + 2 * n_r),
        matrix=matrix,
        row_lower=np.full(2 * n_r + 1, -np.inf),
        row_upper=np.concatenate([e.astype(float), np.zeros(n_r), [float(k)]]),
        n_integer=n_c + n_r,
        col_lower=lower,
        col_upper=np.ones(n_c + 2 * n_r),
    )
    cover_cost = np.concatenate([np.zeros(n_c + n_r), w])
    backup_cost = np.concatenate([np.zeros(n_c), w, np.zeros(n_r)])
    return milp, cover_cost, backup_cost


def _start(a: Any, w: FloatArray, e: Any, k: int) -> FloatArray:
    """Return a feasible start: the greedy coverage plan with its y and u."""
    n_c = a.shape[1]
    picks, _ = _lazy_greedy(a, w, k, uncovered=e < 1)
    count = e.copy()
    for j in picks:
        count[a.indices[a.indptr[j] : a.indptr[j + 1]]] += 1
    x = np.zeros(n_c)
    x[np.asarray(picks, dtype=np.int64)] = 1.0
    return np.concatenate([x, (count >= 2).astype(float), (count >= 1).astype(float)])
