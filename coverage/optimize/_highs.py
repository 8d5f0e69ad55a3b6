"""HiGHS models kept alive between runs, with deterministic work limits.

Limits are counted in work, not seconds, so that the same input gives the
same answer on a busy and on an idle machine: branch-and-bound nodes
(``mip_max_nodes``) for MILPs and simplex iterations for LPs. A wall-clock
limit is still passed as a safety net; a run it stops is reported as such.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np
import scipy.sparse as sp

from .._types import FloatArray
from ._greedy import _covered_mask
from ._reduce import _Reduced

#: Simplex iterations allowed to one LP solve (deterministic; far above what the models need).
LP_ITERATION_LIMIT = 5_000_000


def _new_highs() -> Any:
    """Return a silent HiGHS instance.

    The public ``highspy.Highs`` wrapper prints a banner on stdout when it sets
    up its callback machinery; its base class is the same solver without it.
    """
    cls = getattr(highspy, "_Highs", None) or highspy.Highs
    h = cls()
    h.setOptionValue("output_flag", False)
    return h


@dataclass(frozen=True)
class _MipOutcome:
    """What one HiGHS run gave.

    ``limit`` is ``""`` when the run finished, else ``"nodes"``,
    ``"iterations"`` or ``"time"`` (the last one depends on machine speed).
    """

    x: FloatArray | None
    bound: float  # dual bound in the model's own sense (max: upper, min: lower)
    optimal: bool
    limit: str
    status: str
    time_s: float
    row_dual: FloatArray | None = None

    @property
    def time_limit_hit(self) -> bool:
        """Whether the wall-clock safety limit stopped the run."""
        return self.limit == "time"


_LIMITS = {
    "kTimeLimit": "time",
    "kSolutionLimit": "nodes",
    "kIterationLimit": "iterations",
    "kInterrupt": "time",
}


class _HighsModel:
    """A HiGHS model kept alive so that right-hand sides can change between runs."""

    def __init__(
        self,
        *,
        cost: FloatArray,
        matrix: Any,
        row_lower: FloatArray,
        row_upper: FloatArray,
        n_integer: int,
        maximize: bool,
        relax: bool = False,
        col_lower: FloatArray | None = None,
        col_upper: FloatArray | None = None,
    ) -> None:
        m = sp.csc_array(matrix, dtype=np.float64)
        m.sort_indices()
        n_rows, n_cols = m.shape
        lp = highspy.HighsLp()
        lp.num_col_ = int(n_cols)
        lp.num_row_ = int(n_rows)
        lp.col_cost_ = np.asarray(cost, dtype=np.float64)
        lp.col_lower_ = np.zeros(n_cols) if col_lower is None else np.asarray(col_lower, dtype=np.float64)
        lp.col_upper_ = np.ones(n_cols) if col_upper is None else np.asarray(col_upper, dtype=np.float64)
        lp.row_lower_ = np.asarray(row_lower, dtype=np.float64)
        lp.row_upper_ = np.asarray(row_upper, dtype=np.float64)
        lp.sense_ = highspy.ObjSense.kMaximize if maximize else highspy.ObjSense.kMinimize
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.num_col_ = int(n_cols)
        lp.a_matrix_.num_row_ = int(n_rows)
        lp.a_matrix_.start_ = m.indptr.astype(np.int32)
        lp.a_matrix_.index_ = m.indices.astype(np.int32)
        lp.a_matrix_.value_ = m.data.astype(np.float64)
        if not relax:
            lp.integrality_ = [highspy.HighsVarType.kInteger] * n_integer + [highspy.HighsVarType.kContinuous] * (
                n_cols - n_integer
            )
        self.maximize = maximize
        self.relax = relax
        self.n_cols = int(n_cols)
        self.h = _new_highs()
        self.h.setOptionValue("mip_rel_gap", 0.0)
        self.h.setOptionValue("random_seed", 0)
        self.h.setOptionValue("simplex_iteration_limit", LP_ITERATION_LIMIT)
        if relax:
            # The first solve by interior point (with crossover, for a basis): on dense
            # blocks it is many times faster than a cold simplex; later solves restart
            # the simplex from the previous basis.
            self.h.setOptionValue("solver", "ipm")
        self.h.passModel(lp)
        self._runs = 0

    def set_row_bounds(self, row: int, lower: float, upper: float) -> None:
        """Change the bounds of one row (the next run starts from the last basis)."""
        self.h.changeRowBounds(int(row), float(lower), float(upper))

    def run(self, *, time_limit_s: float, max_nodes: int | None = None, start: FloatArray | None = None) -> _MipOutcome:
        """Solve, within ``max_nodes`` branch-and-bound nodes and the safety time limit."""
        h = self.h
        h.setOptionValue("time_limit", float(time_limit_s) if math.isfinite(time_limit_s) else highspy.kHighsInf)
        if self.relax and self._runs == 1:
            h.setOptionValue("solver", "simplex")
        self._runs += 1
        if max_nodes is not None:
            h.setOptionValue("mip_max_nodes", int(max_nodes))
        if start is not None and not self.relax:
            sol = highspy.HighsSolution()
            sol.col_value = np.asarray(start, dtype=np.float64).tolist()
            sol.value_valid = True
            h.setSolution(sol)
        t0 = time.perf_counter()
        h.run()
        elapsed = time.perf_counter() - t0
        model_status = h.getModelStatus()
        info = h.getInfo()
        feasible = int(info.primal_solution_status) == int(highspy.kSolutionStatusFeasible)
        solution = h.getSolution()
        x = np.asarray(solution.col_value, dtype=np.float64) if feasible else None
        optimal = model_status == highspy.HighsModelStatus.kOptimal
        row_dual = None
        if self.relax:
            bound = float(info.objective_function_value) if optimal else math.nan
            if optimal and solution.dual_valid:
                row_dual = np.asarray(solution.row_dual, dtype=np.float64)
        else:
            bound = float(info.mip_dual_bound)
            if optimal and x is not None:
                bound = float(info.objective_function_value)
        name = str(model_status).rsplit(".", 1)[-1]
        return _MipOutcome(
            x=x,
            bound=bound,
            optimal=bool(optimal),
            limit=_LIMITS.get(name, ""),
            status=str(h.modelStatusToString(model_status)),
            time_s=elapsed,
            row_dual=row_dual,
        )


def _mclp_matrix(red: _Reduced) -> Any:
    """Rows ``y_i - sum_j a_ij x_j <= 0`` then ``sum_j x_j``; columns x then y."""
    n_rows, n_cols = red.shape
    link = sp.hstack([-sp.csc_array(red.a, dtype=np.float64), sp.eye_array(n_rows, format="csc")])
    card = sp.hstack([sp.csc_array(np.ones((1, n_cols))), sp.csc_array((1, n_rows))])
    return sp.vstack([link, card], format="csc")


def _mclp_model(red: _Reduced, k: int, *, relax: bool) -> _HighsModel:
    """Maximum coverage of ``red`` with at most ``k`` sites (the last row holds ``k``)."""
    n_rows, n_cols = red.shape
    return _HighsModel(
        cost=np.concatenate([np.zeros(n_cols), red.w]),
        matrix=_mclp_matrix(red),
        row_lower=np.full(n_rows + 1, -highspy.kHighsInf),
        row_upper=np.concatenate([np.zeros(n_rows), [float(k)]]),
        n_integer=n_cols,
        maximize=True,
        relax=relax,
    )


def _mclp_start(red: _Reduced, sites: Sequence[int]) -> FloatArray:
    n_rows, n_cols = red.shape
    x = np.zeros(n_cols)
    x[np.asarray(sites, dtype=np.int64)] = 1.0
    y = _covered_mask(red.a, sites, n_rows).astype(np.float64)
    return np.concatenate([x, y])


def _sites_from_x(x: FloatArray, n_cols: int) -> list[int]:
    return np.flatnonzero(x[:n_cols] > 0.5).astype(np.int64).tolist()
