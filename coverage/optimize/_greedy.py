"""Heuristics: lazy greedy and 1-swap local search (the bounds come from the LP, never from here)."""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from .._types import BoolArray, FloatArray
from ._checks import _REL_TOL
from ._reduce import _Reduced

#: Matrix entries handled per chunk by :func:`column_sums` (bounds its temporary memory).
_SUM_CHUNK = 8_000_000


def column_sums(a: Any, v: FloatArray) -> FloatArray:
    """Return ``a.T @ v`` for a boolean CSC matrix without a float copy of the matrix.

    Columns are summed in chunks of about ``_SUM_CHUNK`` entries, so the
    temporary memory stays small even for city-sized matrices.
    """
    n = a.shape[1]
    out = np.zeros(n, dtype=np.float64)
    ptr, idx = a.indptr, a.indices
    v = np.asarray(v, dtype=np.float64)
    start = 0
    while start < n:
        end = max(int(np.searchsorted(ptr, ptr[start] + _SUM_CHUNK, side="right")) - 1, start + 1)
        end = min(end, n)
        lo, hi = int(ptr[start]), int(ptr[end])
        if hi > lo:
            first = ptr[start:end]
            filled = np.flatnonzero(ptr[start + 1 : end + 1] > first)
            out[start + filled] = np.add.reduceat(v[idx[lo:hi]], first[filled] - lo)
        start = end
    return out


def _column_rows(a: Any, j: int) -> npt.NDArray[Any]:
    return np.asarray(a.indices[a.indptr[j] : a.indptr[j + 1]])


def _covered_mask(a: Any, sites: Sequence[int], n_rows: int) -> BoolArray:
    mask = np.zeros(n_rows, dtype=np.bool_)
    for j in sites:
        mask[_column_rows(a, int(j))] = True
    return mask


def _value(a: Any, w: FloatArray, sites: Sequence[int], *, uncovered: BoolArray | None = None) -> float:
    """Weight (exactly rounded sum) of the rows the sites cover, among ``uncovered``."""
    mask = _covered_mask(a, sites, a.shape[0])
    if uncovered is not None:
        mask &= uncovered
    return math.fsum(w[mask].tolist())


def _lazy_greedy(
    a: Any,
    w: FloatArray,
    k: int,
    *,
    allowed: npt.NDArray[Any] | None = None,
    start: Sequence[int] = (),
    uncovered: BoolArray | None = None,
    stop_at: float | None = None,
) -> tuple[list[int], list[float]]:
    """Lazy greedy: add up to ``k`` columns, each the one adding most weight.

    Stale gains sit in a priority queue; since gains only shrink (submodularity),
    a popped gain that is fresh is the true maximum. Ties go to the lowest
    index. Stops early at ``stop_at`` total gain. Returns the picks and their
    marginal gains.
    """
    n_rows, n_cols = a.shape
    unc = np.ones(n_rows, dtype=np.bool_) if uncovered is None else uncovered.copy()
    taken = np.zeros(n_cols, dtype=np.bool_)
    for j in start:
        unc[_column_rows(a, int(j))] = False
        taken[int(j)] = True
    pool = np.arange(n_cols) if allowed is None else np.asarray(allowed, dtype=np.int64)
    pool = pool[~taken[pool]]
    wu = np.where(unc, w, 0.0)
    heap = [(-float(wu[_column_rows(a, j)].sum()), j) for j in pool.tolist()]
    heapq.heapify(heap)
    fresh_at = np.zeros(n_cols, dtype=np.int64)  # all gains are fresh in round 0
    picks: list[int] = []
    gains: list[float] = []
    total = 0.0
    while len(picks) < k and heap:
        if stop_at is not None and total >= stop_at:
            break
        neg, j = heapq.heappop(heap)
        if fresh_at[j] == len(picks):
            rows = _column_rows(a, j)
            picks.append(j)
            gains.append(-neg)
            total += -neg
            unc[rows] = False
            wu[rows] = 0.0
        else:
            fresh_at[j] = len(picks)
            heapq.heappush(heap, (-float(wu[_column_rows(a, j)].sum()), j))
    return picks, gains


def _swap_improve(red: _Reduced, sites: Sequence[int], *, max_passes: int | None = None) -> list[int]:
    """Best-improvement 1-swap local search (swap one chosen column for one other)."""
    current = [int(s) for s in sites]
    if not current:
        return current
    a, a_csr, w = red.a, red.a_csr, red.w
    n_rows, n_cols = a.shape
    if len(current) >= n_cols:
        return current
    tol = _REL_TOL * max(1.0, float(w.sum()))
    count = np.zeros(n_rows, dtype=np.int64)
    for s in current:
        count[_column_rows(a, s)] += 1
    passes = max_passes if max_passes is not None else 10 * len(current) + 50
    for _ in range(passes):
        base = column_sums(a, np.where(count == 0, w, 0.0))
        chosen = np.zeros(n_cols, dtype=np.bool_)
        chosen[current] = True
        best_delta, best = tol, None
        for pos, s in enumerate(current):
            rows = _column_rows(a, s)
            sole = rows[count[rows] == 1]
            loss = float(w[sole].sum())
            gain = base.copy()
            if sole.size:
                gain += np.asarray(a_csr[sole].T @ w[sole], dtype=np.float64)
            gain[chosen] = -np.inf
            c = int(np.argmax(gain))
            delta = float(gain[c]) - loss
            if delta > best_delta:
                best_delta, best = delta, (pos, c)
        if best is None:
            break
        pos, c = best
        count[_column_rows(a, current[pos])] -= 1
        count[_column_rows(a, c)] += 1
        current[pos] = c
    return current


def _prune(red: _Reduced, sites: Sequence[int], needed: float) -> list[int]:
    """Drop sites (latest first) whose removal keeps the covered weight >= needed."""
    current = list(sites)
    for s in reversed(list(sites)):
        trial = [c for c in current if c != s]
        if _value(red.a, red.w, trial) >= needed:
            current = trial
    return current
