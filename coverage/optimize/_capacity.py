"""The capacitated coverage model on the useful part of the matrix: allocations, bounds, MILP.

Notation (see :mod:`.capacitated`): ``P_i`` residents of unit ``i``, ``v_i``
the value of one of them, ``w_i = v_i P_i``; ``C_j`` the capacity of site
``j``. The pieces:

- :meth:`_Model.served`: the best allocation of residents to a given set of
  open sites, exactly. Residents within reach of an open site whose capacity
  can never bind (``C_j`` at least everyone it reaches) are served in full;
  the rest is a transportation LP over the open capacitated sites only.
- :meth:`_Model.bound`: a proven upper bound on what any ``k`` new sites can
  serve. In any allocation the existing halls serve no more than their best
  allocation alone (``served([])``), and a new site no more than its best
  service alone (a fractional knapsack over the residents it reaches, the
  most valuable first); so ``served([]) + (the k largest single-site
  values)`` bounds the optimum, and so does the total weight.
- :meth:`_Model.greedy`: a start: ``k`` times the site with the largest
  knapsack value over the residents not yet served.
- :meth:`_Model.milp`: the exact model, with one share variable per pair
  only for sites whose capacity can bind; sites whose capacity cannot bind
  use one coverage variable per unit (``y_i <= sum_j a_ij x_j``), as in
  plain maximum coverage.
"""

from __future__ import annotations

import math
from typing import Any

import highspy
import numpy as np
import scipy.sparse as sp

from .._errors import CoverageInternalError
from .._types import BoolArray, FloatArray, IntArray
from ._greedy import column_sums
from ._highs import _HighsModel
from ._milp import Milp

#: Capacity counts as never binding when it is at least this share above everyone the site reaches.
_FREE_SLACK = 1e-9


class _Model:
    """The capacitated model on the rows with weight and the columns that reach them (or are fixed)."""

    def __init__(self, a: Any, pop: FloatArray, val: FloatArray, cap: FloatArray, is_fixed: BoolArray) -> None:
        weight = pop * val
        rows_ok = (weight > 0) & (np.bincount(a.indices, minlength=a.shape[0]) > 0)
        self.rows = np.flatnonzero(rows_ok)
        sub = sp.csc_array(a[self.rows])
        self.cols = np.flatnonzero((np.diff(sub.indptr) > 0) | is_fixed)
        self.a = sp.csc_array(sub[:, self.cols])
        self.a.sort_indices()
        self.n_all = a.shape[1]
        self.n_rows = int(self.rows.size)
        self.pop = pop[self.rows]
        self.val = val[self.rows]
        self.w = weight[self.rows]
        self.total = math.fsum(self.w.tolist())
        self.cap = cap[self.cols]
        self.is_fixed = is_fixed[self.cols]
        n_c = self.cols.size
        self.pair_row = self.a.indices.astype(np.int64)
        self.pair_col = np.repeat(np.arange(n_c, dtype=np.int64), np.diff(self.a.indptr))
        col_pop = column_sums(self.a, self.pop)
        #: sites whose capacity can never bind: they serve everyone they reach
        self.free = self.cap >= col_pop * (1.0 + _FREE_SLACK)
        # pairs of each column, the most valuable residents first (the knapsack order)
        self._knap = np.lexsort((self.pair_row, -self.val[self.pair_row], self.pair_col))
        self._position = np.full(self.n_all, -1, dtype=np.int64)
        self._position[self.cols] = np.arange(n_c)

    @property
    def n_pairs(self) -> int:
        """Covering pairs (matrix entries) of the model."""
        return int(self.pair_row.size)

    def local(self, sites: list[int]) -> IntArray:
        """Model columns of original column indices (columns reaching nobody are dropped)."""
        local = self._position[np.asarray(sites, dtype=np.int64)]
        return local[local >= 0]

    def original(self, local: IntArray) -> list[int]:
        """Original column indices of model columns."""
        return [int(j) for j in self.cols[np.asarray(local, dtype=np.int64)]]

    # ------------------------------------------------------------ allocation

    def served(self, sites: list[int]) -> tuple[float, FloatArray]:
        """Best value-weighted service with the existing halls plus ``sites``, and each unit's served share."""
        open_ = self.is_fixed.copy()
        open_[self.local(sites)] = True
        share = np.zeros(self.n_rows)
        free_open = np.flatnonzero(open_ & self.free)
        if free_open.size:
            share[self.a[:, free_open].indices] = 1.0
        cap_open = np.flatnonzero(open_ & ~self.free)
        pairs = np.flatnonzero(np.isin(self.pair_col, cap_open) & (share[self.pair_row] < 1.0))
        if pairs.size:
            z = self._transport(pairs)
            np.add.at(share, self.pair_row[pairs], z)
            np.minimum(share, 1.0, out=share)
        return math.fsum((self.w * share).tolist()), share

    def _transport(self, pairs: IntArray) -> FloatArray:
        """Shares ``z`` on the given pairs (of capacitated open columns) of the best allocation."""
        rows, row_idx = np.unique(self.pair_row[pairs], return_inverse=True)
        cols, col_idx = np.unique(self.pair_col[pairs], return_inverse=True)
        n = pairs.size
        once = sp.csr_array((np.ones(n), (row_idx, np.arange(n))), shape=(rows.size, n))
        capacity = sp.csr_array((self.pop[self.pair_row[pairs]], (col_idx, np.arange(n))), shape=(cols.size, n))
        model = _HighsModel(
            cost=self.w[self.pair_row[pairs]],
            matrix=sp.vstack([once, capacity], format="csc"),
            row_lower=np.full(rows.size + cols.size, -highspy.kHighsInf),
            row_upper=np.concatenate([np.ones(rows.size), self.cap[cols]]),
            n_integer=0,
            maximize=True,
            relax=True,
        )
        model.h.setOptionValue("solver", "simplex")
        out = model.run(time_limit_s=math.inf)
        if out.x is None or not out.optimal:
            raise CoverageInternalError(f"the capacity allocation LP did not solve ({out.status})")
        return np.clip(out.x, 0.0, 1.0)

    # ------------------------------------------------------------ bounds and heuristics

    def knapsack(self, residents: FloatArray) -> FloatArray:
        """Per column: the most value it can serve alone from ``residents`` per unit (fractional knapsack)."""
        order = self._knap
        if order.size == 0:
            return np.zeros(self.cols.size)
        col = self.pair_col[order]
        row = self.pair_row[order]
        p = residents[row]
        cum = np.cumsum(p)
        start = np.r_[0, np.flatnonzero(np.diff(col)) + 1]
        offset = np.repeat(cum[start] - p[start], np.diff(np.r_[start, col.size]))
        before = cum - p - offset  # residents the column took before this pair
        take = np.clip(self.cap[col] - before, 0.0, p)
        return np.bincount(col, weights=take * self.val[row], minlength=self.cols.size).astype(np.float64)

    def bound(self, k: int, served_before: float) -> float:
        """Proven upper bound on the best service with ``k`` new sites (see the module notes)."""
        gain = np.sort(self.knapsack(self.pop)[~self.is_fixed])[::-1]
        return min(self.total, served_before + math.fsum(gain[:k].tolist()))

    def greedy(self, k: int, share_before: FloatArray) -> list[int]:
        """Open, ``k`` times, the candidate whose knapsack over the residents not yet served is largest."""
        residual = self.pop * np.clip(1.0 - share_before, 0.0, 1.0)
        closed = ~self.is_fixed
        chosen: list[int] = []
        for _ in range(k):
            gain = np.where(closed, self.knapsack(residual), -1.0)
            best = int(np.argmax(gain))  # ties: the lowest index
            if gain[best] < 0:
                break
            closed[best] = False
            chosen.append(best)
            rows = self.a.indices[self.a.indptr[best] : self.a.indptr[best + 1]]
            rows = rows[np.lexsort((rows, -self.val[rows]))]
            left = self.cap[best]
            for i in rows.tolist():
                take = min(residual[i], left)
                residual[i] -= take
                left -= take
                if left <= 0:
                    break
        return self.original(np.asarray(chosen, dtype=np.int64))

    def within_reach(self, sites: list[int]) -> float:
        """Value-weighted residents within reach of an open site (capacity ignored)."""
        open_cols = np.concatenate([np.flatnonzero(self.is_fixed), self.local(sites)])
        reached = np.zeros(self.n_rows, dtype=bool)
        if open_cols.size:
            reached[self.a[:, open_cols].indices] = True
        return math.fsum(self.w[reached].tolist())

    # ------------------------------------------------------------ the exact model

    def milp(self, k: int) -> Milp:
        """Return the MILP: x (sites, binary), y (units served by uncapacitated sites), z (capacitated pairs).

        Rows: each unit at most once; ``y_i <= sum_j a_ij x_j`` over uncapacitated
        sites; ``sum_i P_i z_ij <= C_j x_j``; ``z_ij <= x_j`` for new capacitated
        sites (strengthening); ``sum x_j <= k`` over new sites.
        """
        n_r, n_c = self.a.shape
        free_pair = self.free[self.pair_col]
        zp = np.flatnonzero(~free_pair)  # pairs with a share variable
        n_z = zp.size
        y = n_c + np.arange(n_r)
        z = n_c + n_r + np.arange(n_z)
        n_var = n_c + n_r + n_z
        zr, zc = self.pair_row[zp], self.pair_col[zp]
        blocks: list[sp.csr_array] = []
        upper: list[FloatArray] = []
        # each unit at most once: y_i + sum_j z_ij <= 1
        blocks.append(sp.csr_array((np.ones(n_r + n_z), (np.r_[np.arange(n_r), zr], np.r_[y, z])), shape=(n_r, n_var)))
        upper.append(np.ones(n_r))
        # y_i <= sum of open uncapacitated sites reaching i
        fp = np.flatnonzero(free_pair)
        blocks.append(
            sp.csr_array(
                (
                    np.r_[np.ones(n_r), -np.ones(fp.size)],
                    (np.r_[np.arange(n_r), self.pair_row[fp]], np.r_[y, self.pair_col[fp]]),
                ),
                shape=(n_r, n_var),
            )
        )
        upper.append(np.zeros(n_r))
        # capacity of capacitated sites: sum_i P_i z_ij - C_j x_j <= 0
        cap_cols = np.flatnonzero(~self.free)
        where = np.full(n_c, -1, dtype=np.int64)
        where[cap_cols] = np.arange(cap_cols.size)
        blocks.append(
            sp.csr_array(
                (
                    np.r_[self.pop[zr], -self.cap[cap_cols]],
                    (np.r_[where[zc], np.arange(cap_cols.size)], np.r_[z, cap_cols]),
                ),
                shape=(cap_cols.size, n_var),
            )
        )
        upper.append(np.zeros(cap_cols.size))
        # z_ij <= x_j for new capacitated sites
        linked = np.flatnonzero(~self.is_fixed[zc])
        blocks.append(
            sp.csr_array(
                (
                    np.r_[np.ones(linked.size), -np.ones(linked.size)],
                    (np.tile(np.arange(linked.size), 2), np.r_[z[linked], zc[linked]]),
                ),
                shape=(linked.size, n_var),
            )
        )
        upper.append(np.zeros(linked.size))
        card = np.zeros(n_var)
        card[:n_c] = (~self.is_fixed).astype(np.float64)
        blocks.append(sp.csr_array(card.reshape(1, -1)))
        upper.append(np.array([float(k)]))
        matrix = sp.vstack(blocks, format="csr")
        row_upper = np.concatenate(upper)
        col_lower = np.zeros(n_var)
        col_lower[:n_c] = self.is_fixed.astype(np.float64)
        self._zp = zp
        return Milp(
            cost=np.concatenate([np.zeros(n_c), self.w, self.w[zr]]),
            matrix=matrix,
            row_lower=np.full(row_upper.size, -np.inf),
            row_upper=row_upper,
            n_integer=n_c,
            col_lower=col_lower,
            col_upper=np.ones(n_var),
        )

    def start_vector(self, sites: list[int]) -> FloatArray:
        """Return a feasible MILP point with these new sites open (the best allocation)."""
        n_r = self.n_rows
        open_ = self.is_fixed.copy()
        open_[self.local(sites)] = True
        x = open_.astype(np.float64)
        y = np.zeros(n_r)
        free_open = np.flatnonzero(open_ & self.free)
        if free_open.size:
            y[self.a[:, free_open].indices] = 1.0
        zp = self._zp
        zval = np.zeros(zp.size)
        cap_open = np.flatnonzero(open_ & ~self.free)
        usable = np.isin(self.pair_col[zp], cap_open) & (y[self.pair_row[zp]] < 1.0)
        if usable.any():
            zval[usable] = self._transport(zp[usable])
        return np.concatenate([x, y, zval])

    def open_sites(self, x: FloatArray) -> list[int]:
        """Return the new sites (original column indices) open in a MILP solution."""
        n_c = self.cols.size
        return self.original(np.flatnonzero((x[:n_c] > 0.5) & ~self.is_fixed))
