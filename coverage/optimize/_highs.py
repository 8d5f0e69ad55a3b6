"""HiGHS models kept alive between runs, and the MCLP matrix."""

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
    x: FloatArray | None
    bound: float  # dual bound in the model's own sense (max: upper, min: lower)
    optimal: bool
    time_limit_hit: bool
    status: str
    time_s: float


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
    ) -> None:
        m = sp.csc_array(matrix, dtype=np.float64)
        m.sort_indices()
        n_rows, n_cols = m.shape
        lp = highspy.HighsLp()
        lp.num_col_ = int(n_cols)
        lp.num_row_ = int(n_rows)
        lp.col_cost_ = np.asarray(cost, dtype=np.float64)
        lp.col_lower_ = np.zeros(n_cols)
        lp.col_upper_ = np.ones(n_cols)
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
        if relax:
            self.h.setOptionValue("solver", "ipm")
        self.h.passModel(lp)
        self._runs = 0

    def set_row_bounds(self, row: int, lower: float, upper: float) -> None:
        self.h.changeRowBounds(int(row), float(lower), float(upper))

    def run(self, *, time_limit_s: float, start: FloatArray | None = None) -> _MipOutcome:
        h = self.h
        h.setOptionValue("time_limit", float(time_limit_s) if math.isfinite(time_limit_s) else highspy.kHighsInf)
        if self.relax and self._runs == 1:
            h.setOptionValue("solver", "simplex")  # later runs restart from the previous basis
        if start is not None and not self.relax:
            sol = highspy.HighsSolution()
            sol.col_value = np.asarray(start, dtype=np.float64).tolist()
            sol.value_valid = True
            h.setSolution(sol)
        t0 = time.perf_counter()
        h.run()
        elapsed = time.perf_counter() - t0
        self._runs += 1
        model_status = h.getModelStatus()
        info = h.getInfo()
        feasible = int(info.primal_solution_status) == int(highspy.kSolutionStatusFeasible)
        x = np.asarray(h.getSolution().col_value, dtype=np.float64) if feasible else None
        optimal = model_status == highspy.HighsModelStatus.kOptimal
        if self.relax:
            bound = float(info.objective_function_value) if optimal else math.nan
        else:
            bound = float(info.mip_dual_bound)
            if optimal and x is not None:
                bound = float(info.objective_function_value)
        return _MipOutcome(
            x=x,
            bound=bound,
            optimal=bool(optimal),
            time_limit_hit=model_status == highspy.HighsModelStatus.kTimeLimit,
            status=str(h.modelStatusToString(model_status)),
            time_s=elapsed,
        )


def _mclp_matrix(red: _Reduced) -> Any:
    """Rows ``y_i - sum_j a_ij x_j <= 0`` then ``sum_j x_j``; columns x then y."""
    n_rows, n_cols = red.shape
    link = sp.hstack([-sp.csc_array(red.a, dtype=np.float64), sp.eye_array(n_rows, format="csc")])
    card = sp.hstack([sp.csc_array(np.ones((1, n_cols))), sp.csc_array((1, n_rows))])
    return sp.vstack([link, card], format="csc")


def _mclp_start(red: _Reduced, sites: Sequence[int]) -> FloatArray:
    n_rows, n_cols = red.shape
    x = np.zeros(n_cols)
    x[np.asarray(sites, dtype=np.int64)] = 1.0
    y = _covered_mask(red.a, sites, n_rows).astype(np.float64)
    return np.concatenate([x, y])


def _sites_from_x(x: FloatArray, n_cols: int) -> list[int]:
    return np.flatnonzero(x[:n_cols] > 0.5).astype(np.int64).tolist()
