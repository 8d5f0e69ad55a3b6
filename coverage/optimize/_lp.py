"""A block's LP relaxation, by column generation when the block is large, and its Lagrangian bound.

For ``k`` sites in a city-sized block, the LP optimum uses few columns: a
restricted LP over a *working set* of columns (the heaviest ones and the
incumbents to start with) is solved, its row duals ``mu`` are extended with
``mu_i = w_i`` for the rows the working set does not touch, and every column
is priced at once (``c = A^T mu``, one pass over the matrix). The Lagrangian

    L(mu) = sum_i max(0, w_i - mu_i) + (sum of the k largest c_j)

is a valid upper bound for any ``mu >= 0`` (each round's is kept, the best
one wins); when no column outside the working set prices above the k-th
largest inside, the restricted LP is the full LP and ``L(mu)`` equals its
value. Otherwise the best-priced columns join the working set and the
restricted LP is solved again. Small blocks skip the working set: their LP is
built whole, once, and only its right-hand side changes with ``k``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import highspy
import numpy as np
import scipy.sparse as sp

from .._types import FloatArray, IntArray
from ._greedy import column_sums
from ._highs import _HighsModel, _mclp_model
from ._reduce import _Reduced

#: Blocks with more columns than this are solved by column generation.
CG_MIN_COLUMNS = 3_000
#: Columns added to the working set per pricing round (at least; also >= 2 k).
_CG_ADD = 100
#: Pricing rounds per LP step (a deterministic limit; the bound of the last round stays valid).
_CG_MAX_ROUNDS = 30


@dataclass(frozen=True)
class LPResult:
    """One LP step: the LP solution over the block's columns, the multipliers and their bound.

    ``x`` is None when the LP did not solve (a limit stopped it); ``limit`` says which.
    """

    x: FloatArray | None
    mu: FloatArray | None
    bound: float
    limit: str


class BlockLP:
    """The LP relaxation of one block for any ``k`` (whole, or by column generation).

    One HiGHS model per block: ``k`` changes a right-hand side, and a pricing
    round *adds* the new columns (and the demand rows only they touch) to the
    same model, so the simplex restarts from the previous basis.
    """

    def __init__(self, red: _Reduced, seed_columns: IntArray, cap: int) -> None:
        self.red = red
        n = red.shape[1]
        self.total = math.fsum(red.w.tolist())
        if n <= CG_MIN_COLUMNS:
            working = np.arange(n, dtype=np.int64)
        else:
            heavy = np.argsort(-column_sums(red.a, red.w), kind="stable")[: max(2 * _CG_ADD, 5 * cap)]
            working = np.union1d(heavy, seed_columns).astype(np.int64)
        self.working = working
        self._model: _HighsModel | None = None
        self._k = -1
        self._rows: IntArray = np.empty(0, dtype=np.int64)  # block rows in the model, in link-row order
        self._x_col: IntArray = np.empty(0, dtype=np.int64)  # model column of each working column
        self._card_row = 0

    def lagrangian(self, mu: FloatArray, k: int) -> tuple[float, FloatArray]:
        """Return the bound ``L(mu)`` for ``k`` sites and the column prices ``A^T mu``."""
        c = column_sums(self.red.a, mu)
        top = np.sort(c)[::-1][:k]
        bound = math.fsum(np.maximum(self.red.w - mu, 0.0).tolist()) + math.fsum(top.tolist())
        return min(bound, self.total), c

    def solve(self, k: int, *, time_limit_s: float) -> LPResult:
        """Solve the LP relaxation at ``k`` (pricing rounds as needed)."""
        n = self.red.shape[1]
        best = LPResult(x=None, mu=None, bound=math.inf, limit="")
        for _ in range(_CG_MAX_ROUNDS):
            model = self._model_at(k)
            out = model.run(time_limit_s=time_limit_s)
            if out.x is None or out.row_dual is None:
                return LPResult(x=best.x, mu=best.mu, bound=best.bound, limit=out.limit or "iterations")
            mu = self.red.w.copy()  # rows the working set does not touch: y_i = 0, mu_i = w_i
            link = np.delete(np.abs(out.row_dual), self._card_row)  # link rows, in the order of self._rows
            mu[self._rows] = np.clip(link, 0.0, self.red.w[self._rows])
            bound, c = self.lagrangian(mu, k)
            x = np.zeros(n)
            x[self.working] = out.x[self._x_col]
            if bound < best.bound:
                best = LPResult(x=x, mu=mu, bound=bound, limit="")
            else:
                best = LPResult(x=x, mu=best.mu, bound=best.bound, limit="")
            if self.working.size == n:
                break
            inside = np.sort(c[self.working])[::-1]
            kth = inside[k - 1] if k <= inside.size else 0.0
            outside = np.setdiff1d(np.arange(n), self.working, assume_unique=True)
            better = outside[c[outside] > kth + 1e-9 * max(1.0, kth)]
            if better.size == 0:
                break
            add = better[np.argsort(-c[better], kind="stable")[: max(_CG_ADD, 2 * k)]]
            self._grow(np.sort(add))
        return best

    def _model_at(self, k: int) -> _HighsModel:
        """Return the model with the cardinality row at ``k`` (built on first use)."""
        if self._model is None:
            sub = sp.csr_array(self.red.a[:, self.working])
            rows = np.flatnonzero(np.diff(sub.indptr) > 0)
            csr = sub[rows]
            csr.sort_indices()
            csc = sp.csc_array(csr)
            csc.sort_indices()
            local = _Reduced(a=csc, w=self.red.w[rows], cols=self.working, csr=csr)
            self._rows = rows.astype(np.int64)
            self._x_col = np.arange(self.working.size, dtype=np.int64)
            self._card_row = int(rows.size)
            self._model = _mclp_model(local, k, relax=True)
            self._k = k
        elif k != self._k:
            self._model.set_row_bounds(self._card_row, -math.inf, float(k))
            self._k = k
        return self._model

    def _grow(self, add: IntArray) -> None:
        """Add working columns to the live model: their x, the new rows they touch and those rows' y."""
        model = self._model
        if model is None:
            self.working = np.union1d(self.working, add).astype(np.int64)
            return
        h = model.h
        n_rows_block = self.red.shape[0]
        row_of = np.full(n_rows_block, -1, dtype=np.int64)
        row_of[self._rows] = np.arange(self._rows.size)
        link_row = np.arange(self._rows.size)
        link_row[link_row >= self._card_row] += 1  # rows added after the cardinality row sit one further
        sub = sp.csc_array(self.red.a[:, add])
        sub.sort_indices()
        n_col0 = int(h.getNumCol())
        # 1. the new x columns, with their entries in the rows already in the model and in the cardinality row
        starts: list[int] = []
        indices: list[int] = []
        values: list[float] = []
        for j in range(add.size):
            rows = sub.indices[sub.indptr[j] : sub.indptr[j + 1]]
            known = row_of[rows]
            known = link_row[known[known >= 0]]
            starts.append(len(indices))
            indices.extend(known.tolist())
            values.extend([-1.0] * known.size)
            indices.append(self._card_row)
            values.append(1.0)
        h.addCols(
            int(add.size),
            np.zeros(add.size),
            np.zeros(add.size),
            np.ones(add.size),
            len(indices),
            np.asarray(starts, dtype=np.int32),
            np.asarray(indices, dtype=np.int32),
            np.asarray(values, dtype=np.float64),
        )
        # 2. the demand rows only the new columns touch: their y, then their link rows
        new_rows = np.setdiff1d(np.unique(sub.indices), self._rows, assume_unique=False).astype(np.int64)
        if new_rows.size:
            h.addCols(
                int(new_rows.size),
                self.red.w[new_rows],
                np.zeros(new_rows.size),
                np.ones(new_rows.size),
                0,
                np.zeros(new_rows.size, dtype=np.int32),
                np.zeros(0, dtype=np.int32),
                np.zeros(0),
            )
            y_col = n_col0 + add.size + np.arange(new_rows.size)
            csr = sp.csr_array(sub)[new_rows]
            csr.sort_indices()
            r_starts: list[int] = []
            r_idx: list[int] = []
            r_val: list[float] = []
            for r in range(new_rows.size):
                cols = csr.indices[csr.indptr[r] : csr.indptr[r + 1]]
                r_starts.append(len(r_idx))
                r_idx.extend([int(y_col[r]), *(n_col0 + cols).tolist()])
                r_val.extend([1.0, *([-1.0] * cols.size)])
            h.addRows(
                int(new_rows.size),
                np.full(new_rows.size, -highspy.kHighsInf),
                np.zeros(new_rows.size),
                len(r_idx),
                np.asarray(r_starts, dtype=np.int32),
                np.asarray(r_idx, dtype=np.int32),
                np.asarray(r_val, dtype=np.float64),
            )
        self._rows = np.concatenate([self._rows, new_rows])
        order = np.argsort(np.concatenate([self.working, add]), kind="stable")
        x_col = np.concatenate([self._x_col, n_col0 + np.arange(add.size)])
        self.working = np.concatenate([self.working, add])[order]
        self._x_col = x_col[order]
