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
    """The LP relaxation of one block for any ``k`` (whole, or by column generation)."""

    def __init__(self, red: _Reduced, seed_columns: IntArray, cap: int) -> None:
        self.red = red
        n = red.shape[1]
        self.total = math.fsum(red.w.tolist())
        if n <= CG_MIN_COLUMNS:
            self.working = np.arange(n, dtype=np.int64)
        else:
            heavy = np.argsort(-column_sums(red.a, red.w), kind="stable")[: max(2 * _CG_ADD, 5 * cap)]
            self.working = np.union1d(heavy, seed_columns).astype(np.int64)
        self._model: _HighsModel | None = None
        self._rows: IntArray = np.empty(0, dtype=np.int64)

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
            model = self._restricted_model(k)
            out = model.run(time_limit_s=time_limit_s)
            if out.x is None or out.row_dual is None:
                return LPResult(x=best.x, mu=best.mu, bound=best.bound, limit=out.limit or "iterations")
            mu = self.red.w.copy()  # rows the working set does not touch: y_i = 0, mu_i = w_i
            mu[self._rows] = np.clip(np.abs(out.row_dual[: self._rows.size]), 0.0, self.red.w[self._rows])
            bound, c = self.lagrangian(mu, k)
            x = np.zeros(n)
            x[self.working] = out.x[: self.working.size]
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
            self.working = np.union1d(self.working, add).astype(np.int64)
            self._model = None
        return best

    def _restricted_model(self, k: int) -> _HighsModel:
        """Return the LP over the working set (rows it touches), built once per working set."""
        if self._model is None:
            sub = sp.csr_array(self.red.a[:, self.working])
            rows = np.flatnonzero(np.diff(sub.indptr) > 0)
            csr = sub[rows]
            csr.sort_indices()
            csc = sp.csc_array(csr)
            csc.sort_indices()
            local = _Reduced(a=csc, a_csr=csr, w=self.red.w[rows], cols=self.working)
            self._rows = rows.astype(np.int64)
            self._model = _mclp_model(local, k, relax=True)
        else:
            self._model.set_row_bounds(self._rows.size, -math.inf, float(k))
        return self._model
