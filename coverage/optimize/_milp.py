"""Shared pieces of the life-circle models (capacity, backup, max-min): one MILP, solved in phases.

Each model is written as ``max c^T v`` over variables ``v`` (the site
choices ``x`` first, binary) subject to ``lower <= M v <= upper`` and column
bounds, and solved by HiGHS within the node limit. A *lexicographic* second
objective is solved as a second phase with the first objective held at its
optimum (a row ``c1^T v >= best - tol``), so "most coverage, then most backup"
never trades one resident covered for two backed up.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from .._types import FloatArray
from ._highs import _HighsModel, _MipOutcome

#: Relative slack when holding an earlier phase's objective at its optimum.
PHASE_TOL = 1e-9


@dataclass
class Milp:
    """A MILP ``max cost . v`` with rows ``row_lower <= matrix v <= row_upper``; the first ``n_integer`` are binary."""

    cost: FloatArray
    matrix: sp.csr_array
    row_lower: FloatArray
    row_upper: FloatArray
    n_integer: int
    col_lower: FloatArray
    col_upper: FloatArray
    notes: list[str] = field(default_factory=list)

    def with_row(self, coefficients: FloatArray, lower: float, upper: float) -> Milp:
        """Return a copy with one more row."""
        row = sp.csr_array(np.asarray(coefficients, dtype=np.float64).reshape(1, -1))
        return Milp(
            cost=self.cost,
            matrix=sp.vstack([self.matrix, row], format="csr"),
            row_lower=np.append(self.row_lower, lower),
            row_upper=np.append(self.row_upper, upper),
            n_integer=self.n_integer,
            col_lower=self.col_lower,
            col_upper=self.col_upper,
        )

    def solve(
        self, *, time_limit_s: float, max_nodes: int, start: FloatArray | None, relax: bool = False
    ) -> _MipOutcome:
        """Solve (the LP relaxation with ``relax``) within the limits."""
        model = _HighsModel(
            cost=self.cost,
            matrix=self.matrix,
            row_lower=self.row_lower,
            row_upper=self.row_upper,
            n_integer=self.n_integer,
            maximize=True,
            relax=relax,
            col_lower=self.col_lower,
            col_upper=self.col_upper,
        )
        return model.run(time_limit_s=time_limit_s, max_nodes=None if relax else max_nodes, start=start)


@dataclass(frozen=True)
class PhaseResult:
    """The final phase's solution with the proven bound of each phase."""

    x: FloatArray | None
    values: list[float]  # objective of each phase at the solution
    bounds: list[float]  # proven upper bound of each phase's objective
    optimal: bool
    limit: str


def solve_phases(
    milp: Milp, objectives: list[FloatArray], *, start: FloatArray, time_limit_s: float, max_nodes: int
) -> PhaseResult:
    """Maximise the objectives one after the other, each at the optimum of the ones before.

    ``start`` must be feasible for the first phase; each phase starts from the
    previous phase's solution (feasible for it by construction).
    """
    deadline = time.perf_counter() + time_limit_s
    current = start
    values: list[float] = []
    bounds: list[float] = []
    optimal, limit = True, ""
    for number, objective in enumerate(objectives):
        phase = Milp(
            cost=np.asarray(objective, dtype=np.float64),
            matrix=milp.matrix,
            row_lower=milp.row_lower,
            row_upper=milp.row_upper,
            n_integer=milp.n_integer,
            col_lower=milp.col_lower,
            col_upper=milp.col_upper,
        )
        for held, value in zip(objectives[:number], values, strict=False):
            phase = phase.with_row(held, value - PHASE_TOL * max(1.0, abs(value)), math.inf)
        out = phase.solve(time_limit_s=max(deadline - time.perf_counter(), 1e-3), max_nodes=max_nodes, start=current)
        if out.x is not None and float(np.dot(objective, out.x)) >= float(np.dot(objective, current)):
            current = out.x
        optimal = optimal and out.optimal
        limit = limit or out.limit
        values.append(float(np.dot(objective, current)))
        bounds.append(max(out.bound, values[-1]) if math.isfinite(out.bound) else math.inf)
        if not out.optimal:
            # later phases would be held at an unproven value: stop here, report what is proven
            for later in objectives[number + 1 :]:
                values.append(float(np.dot(later, current)))
                bounds.append(math.inf)
            break
    return PhaseResult(x=current, values=values, bounds=bounds, optimal=optimal, limit=limit)
