"""Safe reductions: the same optimum on a smaller matrix."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from .._types import BoolArray, FloatArray, IntArray
from ._checks import _Problem

#: Work budget (multiply-adds) per block when looking for dominated candidates.
_DOMINANCE_BLOCK_WORK = 4_000_000
#: Matrix entries hashed per chunk (bounds the temporary memory of the grouping).
_HASH_CHUNK = 8_000_000
#: Largest total work (sum of squared row degrees) spent looking for dominated candidates.
_DOMINANCE_MAX_WORK = 100_000_000


@dataclass(frozen=True, eq=False)
class _Reduced:
    """The problem actually optimised: merged demand rows, useful candidate columns.

    ``a`` is column-major; the row-major copy ``a_csr`` is made on first use
    and can be dropped (:meth:`drop_csr`): at city scale each copy costs about
    5 bytes per covering pair.
    """

    a: Any  # csc_array bool, n_rows x n_cols
    w: FloatArray
    cols: IntArray  # original candidate index per column
    csr: Any = field(default=None, repr=False)

    @property
    def shape(self) -> tuple[int, int]:
        return int(self.a.shape[0]), int(self.a.shape[1])

    @property
    def a_csr(self) -> Any:
        """Row-major copy of ``a`` (sorted indices), made once."""
        if self.csr is None:
            csr = sp.csr_array(self.a)
            csr.sort_indices()
            object.__setattr__(self, "csr", csr)
        return self.csr

    def drop_csr(self) -> None:
        """Free the row-major copy (it is made again if needed)."""
        object.__setattr__(self, "csr", None)


def _identical_groups(ptr: IntArray, idx: Any) -> IntArray:
    """Group the rows of a CSR (or columns of a CSC) structure with identical index sets.

    Rows are hashed twice (sums of fixed random 64-bit values, wrapping) with
    their length, then every row grouped with another is compared exactly, so
    the grouping is exact; groups are numbered in order of first occurrence.
    """
    n = ptr.size - 1
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    rng = np.random.default_rng(20_240_601)  # fixed: the same hashes on every run
    m = int(idx.max()) + 1 if idx.size else 1
    keys = [np.diff(ptr).astype(np.uint64)]
    for _ in range(2):
        keys.append(_segment_sums(rng.integers(1, 2**63, m, dtype=np.uint64), ptr, idx))
    order = np.lexsort(keys[::-1])  # stable: within a group, rows keep their order
    new = np.zeros(n, dtype=bool)
    new[0] = True
    for key in keys:
        sorted_key = key[order]
        new[1:] |= sorted_key[1:] != sorted_key[:-1]
    first = order[new]  # lowest row of each group
    sorted_group = np.cumsum(new) - 1
    leader = np.empty(n, dtype=np.int64)
    leader[order] = first[sorted_group]
    rank = np.empty(first.size, dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(first.size)
    group = np.empty(n, dtype=np.int64)
    group[order] = rank[sorted_group]
    for i in np.flatnonzero(leader != np.arange(n)).tolist():
        j = int(leader[i])
        if not np.array_equal(idx[ptr[i] : ptr[i + 1]], idx[ptr[j] : ptr[j + 1]]):
            return _identical_groups_exact(ptr, idx)  # a hash collision (never seen): group exactly
    return group


def _segment_sums(value: Any, ptr: IntArray, idx: Any) -> Any:
    """Per segment ``s``, the wrapping uint64 sum of ``value[idx[ptr[s]:ptr[s + 1]]]``, in chunks."""
    n = ptr.size - 1
    out = np.zeros(n, dtype=np.uint64)
    start = 0
    while start < n:
        end = min(max(int(np.searchsorted(ptr, ptr[start] + _HASH_CHUNK, side="right")) - 1, start + 1), n)
        first = ptr[start:end]
        filled = np.flatnonzero(ptr[start + 1 : end + 1] > first)
        if filled.size:
            lo, hi = int(ptr[start]), int(ptr[end])
            out[start + filled] = np.add.reduceat(value[idx[lo:hi]], first[filled] - lo)
        start = end
    return out


def _identical_groups_exact(ptr: IntArray, idx: Any) -> IntArray:
    keys: dict[bytes, int] = {}
    group = np.empty(ptr.size - 1, dtype=np.int64)
    for i in range(ptr.size - 1):
        group[i] = keys.setdefault(idx[ptr[i] : ptr[i + 1]].tobytes(), len(keys))
    return group


def _merge_rows(rows: Any, w: FloatArray) -> tuple[Any, FloatArray]:
    """Merge rows (CSR, sorted indices) with identical column sets; weights add."""
    group = _identical_groups(rows.indptr, rows.indices)
    n_groups = int(group.max()) + 1 if group.size else 0
    if n_groups == rows.shape[0]:
        return rows, w
    _, first = np.unique(group, return_index=True)
    merged = np.asarray(np.bincount(group, weights=w, minlength=n_groups), dtype=np.float64)
    return rows[first], merged


def _duplicate_columns(a: Any) -> BoolArray:
    """Flag columns identical to a lower-index column (CSC with sorted indices); O(nnz)."""
    group = _identical_groups(a.indptr, a.indices)
    out = np.ones(a.shape[1], dtype=np.bool_)
    _, first = np.unique(group, return_index=True)
    out[first] = False
    return out


def _dominated_columns(a: Any) -> BoolArray:
    """Flag columns whose row set is contained in another column's.

    Column ``j`` is dominated by ``l`` when ``S_j`` is a subset of ``S_l`` and either
    ``S_l`` is larger or the two are equal and ``l < j``; this is a strict order,
    so every dominated column has an undominated dominator and exactly one
    column (the lowest index) survives among identical ones.

    The check costs the sum over rows of their degree squared; beyond
    ``_DOMINANCE_MAX_WORK`` (city-sized matrices, where it would take minutes
    for a modest gain) only identical columns are removed.
    """
    n = a.shape[1]
    out = np.zeros(n, dtype=np.bool_)
    if n < 2:
        return out
    size = np.diff(a.indptr).astype(np.int64)
    row_degree = np.bincount(a.indices, minlength=a.shape[0]).astype(np.int64)
    if int(np.dot(row_degree, row_degree)) > _DOMINANCE_MAX_WORK:
        return _duplicate_columns(a)
    ones = sp.csc_array((np.ones(a.nnz, dtype=np.int32), a.indices, a.indptr), shape=a.shape)
    ones_csr = ones.tocsr()
    at = ones.T.tocsr()
    work = np.cumsum(at @ row_degree)
    start = 0
    while start < n:
        base = work[start - 1] if start else 0
        end = max(int(np.searchsorted(work, base + _DOMINANCE_BLOCK_WORK, side="right")), start + 1)
        block = (at[start:end] @ ones_csr).tocoo()
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
    sub = prob.a if avail.size == prob.a.shape[1] else prob.a[:, avail]
    base_w = prob.weights if weighted else np.ones(prob.a.shape[0], dtype=np.float64)
    if not enabled:
        w = np.where(prob.already, 0.0, base_w)
        sub_csc = sp.csc_array(sub)
        sub_csc.sort_indices()
        csr = sub_csc.tocsr()
        csr.sort_indices()
        return _Reduced(a=sub_csc, w=w, cols=avail, csr=csr)
    keep = ~prob.already & (np.bincount(sub.indices, minlength=sub.shape[0]) > 0)
    if weighted:
        keep &= prob.weights > 0
    rows = np.flatnonzero(keep)
    mat = sp.csr_array(sub)
    if rows.size < sub.shape[0]:
        mat = mat[rows]  # row slicing is cheap in CSR, and the full copy is freed here
    mat.sort_indices()
    w = base_w[rows]
    # Merging identical rows never changes which column sets contain which, and a
    # column dominated by a dominated column is dominated by that one's dominator
    # too, so one pass of each suffices; dropping columns can make rows identical,
    # hence the second merge.
    mat, w = _merge_rows(mat, w)
    csc = sp.csc_array(mat)
    csc.sort_indices()
    del mat  # at city scale every copy of the matrix costs about 5 bytes a pair
    useful = np.flatnonzero(np.diff(csc.indptr) > 0)
    keep_cols = np.flatnonzero(~_dominated_columns(csc[:, useful] if useful.size < csc.shape[1] else csc))
    cols = avail[useful][keep_cols]
    if cols.size < csc.shape[1]:  # dropping columns can make rows identical: merge again
        csc = csc[:, useful[keep_cols]]
        mat = csc.tocsr()
        mat.sort_indices()
        n_rows = mat.shape[0]
        mat, w = _merge_rows(mat, w)
        if mat.shape[0] < n_rows:
            csc = sp.csc_array(mat)
        csc.sort_indices()
        del mat
    return _Reduced(a=csc, w=np.asarray(w, dtype=np.float64), cols=cols.astype(np.int64))
