"""Safe reductions: the same optimum on a smaller matrix."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from .._types import BoolArray, FloatArray, IntArray
from ._checks import _Problem

#: Work budget (multiply-adds) per block when looking for dominated candidates.
_DOMINANCE_BLOCK_WORK = 4_000_000


@dataclass(frozen=True)
class _Reduced:
    """The problem actually optimised: merged demand rows, useful candidate columns."""

    a: Any  # csc_array bool, n_rows x n_cols
    a_csr: Any
    w: FloatArray
    cols: IntArray  # original candidate index per column

    @property
    def shape(self) -> tuple[int, int]:
        return int(self.a.shape[0]), int(self.a.shape[1])


def _merge_rows(rows: Any, w: FloatArray) -> tuple[Any, FloatArray]:
    """Merge rows (CSR, sorted indices) with identical column sets; weights add."""
    keys: dict[bytes, int] = {}
    group = np.empty(rows.shape[0], dtype=np.int64)
    ptr, idx = rows.indptr, rows.indices
    for i in range(rows.shape[0]):
        group[i] = keys.setdefault(idx[ptr[i] : ptr[i + 1]].tobytes(), len(keys))
    if len(keys) == rows.shape[0]:
        return rows, w
    _, first = np.unique(group, return_index=True)
    merged = np.asarray(np.bincount(group, weights=w, minlength=len(keys)), dtype=np.float64)
    return rows[first], merged


def _dominated_columns(a: Any) -> BoolArray:
    """Flag columns whose row set is contained in another column's.

    Column ``j`` is dominated by ``l`` when ``S_j`` is a subset of ``S_l`` and either
    ``S_l`` is larger or the two are equal and ``l < j``; this is a strict order,
    so every dominated column has an undominated dominator and exactly one
    column (the lowest index) survives among identical ones.
    """
    n = a.shape[1]
    out = np.zeros(n, dtype=np.bool_)
    if n < 2:
        return out
    size = np.diff(a.indptr).astype(np.int64)
    ones = sp.csc_array((np.ones(a.nnz, dtype=np.int32), a.indices, a.indptr), shape=a.shape)
    at = ones.T.tocsr()
    row_degree = np.diff(ones.tocsr().indptr).astype(np.int64)
    work = np.cumsum(at @ row_degree)
    start = 0
    while start < n:
        base = work[start - 1] if start else 0
        end = max(int(np.searchsorted(work, base + _DOMINANCE_BLOCK_WORK, side="right")), start + 1)
        block = (at[start:end] @ ones).tocoo()
        j = np.asarray(block.row, dtype=np.int64) + start
        col = np.asarray(block.col, dtype=np.int64)
        sj, sl = size[j], size[col]
        hit = (block.data == sj) & (col != j) & ((sl > sj) | ((sl == sj) & (col < j)))
        out[j[hit]] = True
        start = end
    return out


def _reduce(prob: _Problem, *, enabled: bool, weighted: bool) -> _Reduced:
    """Build the problem to optimise.

    With ``enabled=False`` only the unavoidable steps are taken: fixed columns are
    removed and already-covered rows get weight 0.
    """
    avail = np.flatnonzero(prob.available).astype(np.int64)
    sub = prob.a[:, avail]
    base_w = prob.weights if weighted else np.ones(prob.a.shape[0], dtype=np.float64)
    if not enabled:
        w = np.where(prob.already, 0.0, base_w)
        sub_csc = sp.csc_array(sub)
        sub_csc.sort_indices()
        csr = sub_csc.tocsr()
        csr.sort_indices()
        return _Reduced(a=sub_csc, a_csr=csr, w=w, cols=avail)
    csr = sp.csr_array(sub)
    csr.sort_indices()
    keep = ~prob.already & (np.diff(csr.indptr) > 0)
    if weighted:
        keep &= prob.weights > 0
    rows = np.flatnonzero(keep)
    mat = csr[rows]
    mat.sort_indices()
    w = base_w[rows]
    # Merging identical rows never changes which column sets contain which, and a
    # column dominated by a dominated column is dominated by that one's dominator
    # too, so one pass of each suffices; dropping columns can make rows identical,
    # hence the second merge.
    mat, w = _merge_rows(mat, w)
    csc = sp.csc_array(mat)
    csc.sort_indices()
    useful = np.flatnonzero(np.diff(csc.indptr) > 0)
    csc = csc[:, useful]
    csc.sort_indices()
    keep_cols = np.flatnonzero(~_dominated_columns(csc))
    csc = csc[:, keep_cols]
    cols = avail[useful][keep_cols]
    mat = csc.tocsr()
    mat.sort_indices()
    mat, w = _merge_rows(mat, w)
    csc = sp.csc_array(mat)
    csc.sort_indices()
    return _Reduced(a=csc, a_csr=mat, w=np.asarray(w, dtype=np.float64), cols=cols.astype(np.int64))
