"""Decomposition: independent blocks of the coverage graph, and the exact split of ``k`` across them.

Two candidates interact only through demand rows they both cover. The
bipartite graph of reduced rows and columns therefore falls apart into
connected *blocks* whose coverage adds up: the best coverage with ``k`` sites
is ``max sum_b f_b(k_b)`` over ``sum_b k_b = k``, where ``f_b`` is block
``b``'s own curve. That maximum is found exactly by dynamic programming over
the blocks (a max-plus convolution of their curves), whatever their shape:
the curves need not be concave.

The same recursion over *bounds* of the curves gives bounds of the whole:
lower curves give a feasible allocation, upper curves a proven upper bound.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from .._types import FloatArray, IntArray
from ._reduce import _Reduced

#: Matrix entries turned into column links per chunk of rows.
_LINK_CHUNK = 8_000_000


def _column_links(ptr: IntArray, idx: Any, n_cols: int) -> IntArray:
    """Distinct pairs of consecutive columns within each row (CSR, sorted), as an (m, 2) array."""
    n = ptr.size - 1
    keys = [np.empty(0, dtype=np.int64)]
    start = 0
    while start < n:
        end = min(max(int(np.searchsorted(ptr, ptr[start] + _LINK_CHUNK, side="right")) - 1, start + 1), n)
        lo, hi = int(ptr[start]), int(ptr[end])
        cols = np.asarray(idx[lo:hi], dtype=np.int64)
        if cols.size > 1:
            linked = np.ones(cols.size - 1, dtype=bool)  # entry i links to i + 1 unless i ends its row
            row_end = ptr[start + 1 : end + 1] - lo - 1
            linked[row_end[(row_end >= 0) & (row_end < cols.size - 1)]] = False
            pos = np.flatnonzero(linked)
            keys.append(np.unique(cols[pos] * n_cols + cols[pos + 1]))
        start = end
    key = np.unique(np.concatenate(keys))
    return np.column_stack(np.divmod(key, n_cols))


def split_blocks(red: _Reduced) -> list[_Reduced]:
    """Split a reduced problem into its connected blocks.

    Parameters
    ----------
    red : _Reduced
        The reduced problem (every column covers at least one row).

    Returns
    -------
    list of _Reduced
        One per block, ordered by its lowest column; ``cols`` holds the
        block's column indices *in* ``red`` (not the original candidates).
        Rows keep their order; every row of ``red`` with weight belongs to
        exactly one block.
    """
    n_rows, n_cols = red.shape
    if n_cols == 0:
        return []
    # Columns sharing a row are linked by a chain through the row's (sorted) columns;
    # the chains' distinct links, gathered in chunks of rows, span the same components
    # at a fraction of the memory of the bipartite graph.
    a = red.a_csr
    links = _column_links(a.indptr, a.indices, n_cols)
    graph = sp.csr_array((np.ones(links.shape[0], dtype=np.int8), (links[:, 0], links[:, 1])), shape=(n_cols, n_cols))
    n_labels, col_label = connected_components(graph, directed=False)
    if n_labels == 1:  # one block: no copy
        return [_Reduced(a=red.a, w=red.w, cols=np.arange(n_cols, dtype=np.int64), csr=red.csr)]
    has = np.diff(a.indptr) > 0
    row_label = np.full(n_rows, -1, dtype=np.int64)
    row_label[has] = col_label[a.indices[a.indptr[:-1][has]]]
    # Number blocks by their lowest column, so the order does not depend on scipy's labelling.
    first_col = np.full(n_labels, n_cols, dtype=np.int64)
    np.minimum.at(first_col, col_label, np.arange(n_cols))
    used = np.unique(col_label)
    order = used[np.argsort(first_col[used], kind="stable")]
    col_order = np.argsort(col_label, kind="stable")
    col_ptr = np.searchsorted(col_label[col_order], np.arange(n_labels + 1))
    row_order = np.argsort(row_label, kind="stable")
    row_ptr = np.searchsorted(row_label[row_order], np.arange(n_labels + 1))
    blocks = []
    for lab in order.tolist():
        cols = col_order[col_ptr[lab] : col_ptr[lab + 1]]
        rows = row_order[row_ptr[lab] : row_ptr[lab + 1]]
        csr = red.a_csr[rows][:, cols]
        csr.sort_indices()
        csc = sp.csc_array(csr)
        csc.sort_indices()
        blocks.append(_Reduced(a=csc, w=red.w[rows], cols=cols.astype(np.int64), csr=csr))
    return blocks


@dataclass(frozen=True)
class Allocation:
    """Best sum of block curves for every total ``k``, with the choices to recover it.

    Attributes
    ----------
    total : numpy.ndarray
        ``total[k]``: the best ``sum_b v_b[k_b]`` with ``sum_b k_b = k``
        (``-inf`` where no split exists, i.e. ``k`` beyond every block's length).
    choice : list of numpy.ndarray
        ``choice[b][k]``: sites given to block ``b`` when blocks ``0..b``
        share ``k`` sites in the best split.
    """

    total: FloatArray
    choice: list[IntArray]

    def split(self, k: int) -> IntArray:
        """Return the number of sites per block in the best split of ``k``."""
        out = np.zeros(len(self.choice), dtype=np.int64)
        rest = int(k)
        for b in range(len(self.choice) - 1, -1, -1):
            j = int(self.choice[b][rest])
            out[b] = j
            rest -= j
        if rest != 0:
            raise ValueError(f"no split of k={k} across the blocks")
        return out


def allocate(curves: list[FloatArray], k_max: int) -> Allocation:
    """Split up to ``k_max`` sites across blocks to maximise the sum of their curves.

    Parameters
    ----------
    curves : list of numpy.ndarray
        ``curves[b][j]``: value of block ``b`` with ``j`` sites, for
        ``j = 0..len - 1`` (non-decreasing in ``j``).
    k_max : int
        Largest total number of sites.

    Returns
    -------
    Allocation
        Ties go to fewer sites for later blocks, so the split is deterministic.

    Examples
    --------
    >>> a = allocate([np.array([0.0, 5.0, 6.0]), np.array([0.0, 4.0, 10.0])], 2)
    >>> a.total.tolist(), a.split(1).tolist(), a.split(2).tolist()
    ([0.0, 5.0, 10.0], [1, 0], [0, 2])
    """
    best = np.full(k_max + 1, -np.inf)
    best[0] = 0.0
    choice: list[IntArray] = []
    for v in curves:
        cap = min(len(v) - 1, k_max)
        new = best.copy()
        pick = np.zeros(k_max + 1, dtype=np.int64)
        for j in range(1, cap + 1):
            cand = best[: k_max + 1 - j] + v[j]
            better = cand > new[j:]
            new[j:] = np.where(better, cand, new[j:])
            pick[j:] = np.where(better, j, pick[j:])
        best = new
        choice.append(pick)
    return Allocation(total=best, choice=choice)
