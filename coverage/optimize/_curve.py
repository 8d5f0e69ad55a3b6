"""One block's coverage curve, known between a lower and an upper bound, refined on demand.

For every ``k`` up to the block's cap the block keeps the best solution found
(``lower``) and a proven upper bound (``upper``). They start cheap and are
tightened only where the allocation across blocks needs them:

1. start: the lazy-greedy chain (all ``k`` at once) below; above, the
   Lagrangian bound with multipliers ``mu = w``, i.e. the ``k`` heaviest
   columns. Small blocks are enumerated exactly instead.
2. LP step: the LP relaxation at this ``k`` on the block's one HiGHS model
   (only the cardinality right-hand side changes; the simplex restarts from
   the previous basis). Its row duals ``mu`` give a Lagrangian bound
   ``sum_i max(0, w_i - mu_i) + (sum of the k largest sum_i a_ij mu_i)``,
   valid for any ``mu >= 0`` and equal to the LP value at the optimum; it is
   recomputed here, so HiGHS's tolerances cannot make it invalid. An
   integral LP solution is optimal; otherwise a small MILP on the LP's
   support (plus the incumbent) improves the incumbent ("greedy" method: a
   swap pass instead).
3. exact step: reduced-cost fixing with that bound (a column whose forced
   use drops the bound below the incumbent cannot be in a better solution)
   leaves a much smaller MILP, solved by HiGHS within a node budget. Solved:
   the value is exact. Stopped: the MILP's dual bound still bounds the curve.

Lower bounds only rise with ``k`` and upper bounds only fall as ``k``
shrinks, so every improvement is spread along the curve.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from .._types import FloatArray, IntArray
from ._greedy import _lazy_greedy, _swap_improve, _value, column_sums
from ._highs import _mclp_model, _mclp_start, _sites_from_x
from ._lp import BlockLP
from ._reduce import _merge_rows, _Reduced

#: Blocks with at most this many columns are enumerated exactly (2**n subsets).
BRUTE_MAX_COLS = 8
#: Share of the node budget given to the MILP on the LP support (the heuristic).
_HEURISTIC_NODE_SHARE = 0.1
#: The MILP heuristic runs on LP supports of at most this many columns per site (plus the extra);
#: a wider support means a very fractional LP, where rounding and swaps are the cheaper start.
_SUPPORT_FACTOR = 3
_SUPPORT_EXTRA = 30
#: Passes of the 1-swap local search per LP step (each pass is one best swap).
_SWAP_PASSES = 50
#: Relative tolerance of "proven" (HiGHS's own feasibility tolerance is 1e-7).
OPT_TOL = 1e-7

NONE, LP, EXACT = 0, 1, 2


@dataclass
class Limits:
    """Work limits shared by every solve of one question.

    Attributes
    ----------
    exact : bool
        Whether MILPs may run (``method="exact"``); else the LP bound is the end.
    max_nodes : int
        Branch-and-bound nodes allowed to each MILP (a deterministic limit).
    deadline : float
        ``time.perf_counter()`` value after which no more work starts (safety net).
    stopped : set of str
        Which limits stopped some work: ``"nodes"``, ``"iterations"``, ``"time"``.
    """

    exact: bool
    max_nodes: int
    deadline: float = math.inf
    stopped: set[str] = field(default_factory=set)
    milp_used: bool = False
    lp_used: bool = False

    def remaining_s(self) -> float:
        """Seconds left before the safety deadline."""
        import time

        return self.deadline - time.perf_counter()


class BlockCurve:
    """Lower and upper bounds of one block's best coverage for ``k = 0..cap``."""

    def __init__(self, red: _Reduced, cap: int, limits: Limits) -> None:
        self.red = red
        self.limits = limits
        n = red.shape[1]
        self.cap = min(int(cap), n)
        self.total = math.fsum(red.w.tolist())
        self.tol = OPT_TOL * max(1.0, self.total)
        size = self.cap + 1
        self.lower = np.zeros(size)
        self.upper = np.full(size, self.total)
        self.sols: list[list[int]] = [[] for _ in range(size)]
        self.state = np.zeros(size, dtype=np.int8)
        self.bound_source = ["trivial"] * size
        self._lp: BlockLP | None = None
        self._mu: dict[int, tuple[FloatArray, float]] = {}
        if n <= BRUTE_MAX_COLS:
            self._enumerate()
        else:
            self._start()

    # ---------------------------------------------------------------- start

    def _start(self) -> None:
        chain, gains = _lazy_greedy(self.red.a, self.red.w, self.cap)
        self.lower = np.concatenate([[0.0], np.cumsum(gains)])
        self.sols = [chain[:k] for k in range(self.cap + 1)]
        weight = np.sort(column_sums(self.red.a, self.red.w))[::-1]
        self.upper = np.minimum(self.upper, np.concatenate([[0.0], np.cumsum(weight[: self.cap])]))
        self.bound_source = ["lagrangian"] * (self.cap + 1)
        self._spread()

    def _enumerate(self) -> None:
        """Exact curve of a small block: every subset of its columns."""
        a, w = self.red.a, self.red.w
        n_rows, n = a.shape
        cols = [np.zeros(n_rows, dtype=bool) for _ in range(n)]
        for j in range(n):
            cols[j][a.indices[a.indptr[j] : a.indptr[j + 1]]] = True
        covered = np.zeros((1 << n, n_rows), dtype=bool)
        for mask in range(1, 1 << n):
            low = (mask & -mask).bit_length() - 1
            covered[mask] = covered[mask & (mask - 1)] | cols[low]
        value = covered.astype(np.float64) @ w
        size = np.array([bin(m).count("1") for m in range(1 << n)])
        for k in range(self.cap + 1):
            masks = np.flatnonzero(size == k)
            best = int(masks[np.argmax(value[masks])])  # ties: lowest mask
            self.sols[k] = [j for j in range(n) if best >> j & 1]
            self.lower[k] = _value(a, w, self.sols[k])
        self.upper = self.lower.copy()
        self.state[:] = EXACT
        self.bound_source = ["exact"] * (self.cap + 1)

    # ---------------------------------------------------------------- queries

    def exact(self, k: int) -> bool:
        """Whether the value at ``k`` is known (lower meets upper)."""
        return bool(self.lower[k] >= self.upper[k] - self.tol)

    def can_refine(self, k: int) -> bool:
        """Whether another step could tighten the bounds at ``k``."""
        if self.exact(k):
            return False
        return bool(self.state[k] == NONE or (self.state[k] == LP and self.limits.exact))

    def refine(self, k: int) -> None:
        """Take the next step at ``k``: the LP step, then (exact method) the MILP step."""
        if self.limits.remaining_s() <= 0:
            self.limits.stopped.add("time")
            return
        if self.state[k] == NONE:
            self._lp_step(k)
        elif self.state[k] == LP and self.limits.exact:
            self._exact_step(k)
        self._spread()

    # ---------------------------------------------------------------- steps

    def _offer(self, k: int, sites: list[int]) -> None:
        value = _value(self.red.a, self.red.w, sites)
        if value > self.lower[k] and len(sites) <= k:
            self.lower[k] = value
            self.sols[k] = sorted(sites)

    def _bound(self, k: int, value: float, source: str) -> None:
        if value < self.upper[k]:
            self.upper[k] = value
            self.bound_source[k] = source

    def _lp_step(self, k: int) -> None:
        self.limits.lp_used = True
        if self._lp is None:
            seeds = np.unique(np.concatenate([np.asarray(s, dtype=np.int64) for s in self.sols]))
            self._lp = BlockLP(self.red, seeds, self.cap)
        out = self._lp.solve(k, time_limit_s=self.limits.remaining_s())
        self.state[k] = LP
        if out.limit:
            self.limits.stopped.add(out.limit)
        if out.mu is None or out.x is None:
            return
        self._mu[k] = (out.mu, out.bound)
        self._bound(k, out.bound, "lp")
        x = out.x
        if np.all((x < 1e-9) | (x > 1 - 1e-9)):
            self._offer(k, np.flatnonzero(x > 0.5).tolist())
        if self.exact(k):
            return
        support = np.union1d(np.flatnonzero(x > 1e-9), self.sols[k]).astype(np.int64)
        if self.limits.exact and support.size <= _SUPPORT_FACTOR * k + _SUPPORT_EXTRA:
            nodes = max(1, int(self.limits.max_nodes * _HEURISTIC_NODE_SHARE))
            sites, _, _ = self._restricted(k, support, nodes)
            if sites is not None:
                self._offer(k, sites)
        else:
            # A very fractional LP: round it (the k largest x) and improve by swaps.
            rounded = np.argsort(-x, kind="stable")[:k].tolist()
            for start in (rounded, self.sols[k]):
                self._offer(k, _swap_improve(self.red, start, max_passes=_SWAP_PASSES))

    def _exact_step(self, k: int) -> None:
        self.state[k] = EXACT
        if k not in self._mu:
            return  # the LP did not solve: nothing to fix with
        self.limits.milp_used = True
        mu, bound = self._mu[k]
        incumbent = self.lower[k]
        c = column_sums(self.red.a, mu)
        kth = np.sort(c)[::-1][k - 1] if k <= c.size else 0.0
        # Forcing column j into a solution costs at least kth - c_j of the bound.
        with_j = bound - np.maximum(kth - c, 0.0)
        # Dropped columns cannot be in any solution as good as the incumbent (the margin
        # keeps a few more against rounding), so the optimum is the incumbent's value or
        # the restricted problem's.
        keep = np.union1d(np.flatnonzero(with_j >= incumbent - self.tol), self.sols[k]).astype(np.int64)
        sites, optimal, dual = self._restricted(k, keep, self.limits.max_nodes)
        if sites is not None:
            self._offer(k, sites)
        if optimal:
            self._bound(k, self.lower[k], "milp")
        elif math.isfinite(dual):
            self._bound(k, max(dual, incumbent), "milp")

    def _lagrangian(self, mu: FloatArray, k: int) -> float:
        """Bound ``sum_i max(0, w_i - mu_i) + sum of the k largest column weights under mu``."""
        c = np.sort(column_sums(self.red.a, mu))[::-1]
        bound = math.fsum(np.maximum(self.red.w - mu, 0.0).tolist()) + math.fsum(c[:k].tolist())
        return min(bound, self.total)

    def _restricted(self, k: int, cols: IntArray, max_nodes: int) -> tuple[list[int] | None, bool, float]:
        """Best ``k`` sites among ``cols`` by MILP: (sites, proven, dual bound of the restricted problem)."""
        if self.limits.remaining_s() <= 0:
            self.limits.stopped.add("time")
            return None, False, math.nan
        sub = sp.csr_array(self.red.a[:, cols])
        sub.sort_indices()
        rows = np.flatnonzero(np.diff(sub.indptr) > 0)
        mat, w = _merge_rows(sub[rows], self.red.w[rows])
        csc = sp.csc_array(mat)
        csc.sort_indices()
        local = _Reduced(a=csc, w=w, cols=cols, csr=sp.csr_array(mat))
        if cols.size <= k:
            return [int(j) for j in cols], True, _value(csc, w, list(range(cols.size)))
        position = {int(j): i for i, j in enumerate(cols.tolist())}
        start = [position[j] for j in self.sols[k] if j in position]
        model = _mclp_model(local, k, relax=False)
        out = model.run(time_limit_s=self.limits.remaining_s(), max_nodes=max_nodes, start=_mclp_start(local, start))
        if out.limit:
            self.limits.stopped.add(out.limit)
        sites = None if out.x is None else [int(cols[i]) for i in _sites_from_x(out.x, cols.size)]
        return sites, out.optimal, out.bound

    def _spread(self) -> None:
        """Carry solutions up and bounds down the curve; keep lower <= upper."""
        for k in range(1, self.cap + 1):
            if self.lower[k - 1] > self.lower[k]:
                self.lower[k] = self.lower[k - 1]
                self.sols[k] = list(self.sols[k - 1])
        for k in range(self.cap - 1, -1, -1):
            if self.upper[k + 1] < self.upper[k]:
                self.upper[k] = self.upper[k + 1]
                self.bound_source[k] = self.bound_source[k + 1]
        self.upper = np.maximum(self.upper, self.lower)
