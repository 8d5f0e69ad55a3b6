"""All three coverage questions on one engine: ``k`` sites, the curve, the fewest sites for a target.

:func:`coverage.plan.plan_sites` asks all three about the same matrix. One
engine answers them: the reduction, the blocks, their HiGHS models and every
bound and solution found are shared, so the answers are also consistent with
each other (the curve's point at ``k`` is the ``k``-site plan).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy.typing as npt
import pandas as pd

from .._defaults import DEFAULT_MAX_NODES, DEFAULT_TIME_LIMIT_S
from .._errors import CoverageInputError
from ._checks import Method, _as_count, _as_method, _as_share, _as_time_limit, _check_total, _problem
from ._engine import Engine
from ._greedy import _lazy_greedy
from ._reduce import _reduce
from .fewest import _already_met, _needed, target_selection
from .maximum import _as_nodes, curve_frame
from .result import SiteSelection


@dataclass(frozen=True, eq=False)
class CoverageSolution:
    """Answers of :func:`solve_coverage`.

    Attributes
    ----------
    selection : SiteSelection
        The best ``k`` new sites.
    curve : pandas.DataFrame or None
        The coverage curve for ``k = 0..k_max`` (as :func:`coverage_curve`), None if not asked.
    target : SiteSelection or None
        The fewest sites reaching ``target_share``; None if not asked or unreachable.
    target_error : str
        Why the target cannot be met ("" otherwise).
    """

    selection: SiteSelection
    curve: pd.DataFrame | None
    target: SiteSelection | None
    target_error: str = ""


def solve_coverage(
    cover: Any,
    weights: npt.ArrayLike,
    *,
    k: int,
    k_max: int | None = None,
    target_share: float | None = None,
    already_covered: npt.ArrayLike | None = None,
    method: Method = "exact",
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
    max_nodes: int = DEFAULT_MAX_NODES,
) -> CoverageSolution:
    """Answer :func:`max_coverage`, :func:`coverage_curve` and :func:`target_coverage` together.

    Parameters
    ----------
    cover, weights, already_covered, method, max_nodes
        As in :func:`max_coverage`.
    k : int
        New sites of the main plan.
    k_max : int, optional
        Largest ``k`` of the curve (None: no curve).
    target_share : float, optional
        Share to reach with the fewest sites (None: not asked).
    time_limit_s : float
        Safety net in seconds for all three questions together.

    Returns
    -------
    CoverageSolution

    Examples
    --------
    >>> import numpy as np
    >>> cover = np.array([[1, 0], [1, 1], [0, 1]], dtype=bool)
    >>> out = solve_coverage(cover, [5.0, 1.0, 2.0], k=1, k_max=2, target_share=1.0)
    >>> out.selection.sites.tolist(), out.curve["covered_weight"].tolist(), out.target.k
    ([0], [0.0, 6.0, 8.0], 2)
    """
    t0 = time.perf_counter()
    prob = _problem(cover, weights, already_covered)
    _check_total(prob.weights)
    k = _as_count(k, name="k", upper=prob.n_available, what="candidate sites")
    if k_max is not None:
        k_max = _as_count(k_max, name="k_max", upper=prob.n_available, what="candidate sites")
    exact = _as_method(method) == "exact"
    nodes = _as_nodes(max_nodes)
    limit = _as_time_limit(time_limit_s)
    red = _reduce(prob, enabled=True, weighted=True)
    needed: float | None = None
    target_error = ""
    picks: list[int] = []
    cap = max(k, k_max or 0)
    if target_share is not None:
        try:
            needed = _needed(prob, _as_share(target_share))
        except CoverageInputError as exc:
            target_error = str(exc)
        if needed is not None:
            picks, _ = _lazy_greedy(red.a, red.w, red.shape[1], stop_at=needed)
            cap = max(cap, len(picks))
    engine = Engine(prob, cap, exact=exact, max_nodes=nodes, time_limit_s=limit, red=red)
    selection = engine.selection(engine.solve(k), k, t0)
    curve = curve_frame(engine, k_max) if k_max is not None else None
    target = None
    if target_share is not None and not target_error:
        t1 = time.perf_counter()
        if needed is None:
            target = _already_met(prob, float(target_share), t1)
        else:
            target = target_selection(engine, needed, float(target_share), t1, feasible=picks)
    return CoverageSolution(selection=selection, curve=curve, target=target, target_error=target_error)
