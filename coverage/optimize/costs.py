"""spopt-shaped entry points over a demand x candidate cost matrix."""

from __future__ import annotations

import math
import numbers
import time
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from .._defaults import DEFAULT_MAX_NODES, DEFAULT_TIME_LIMIT_S
from .._errors import CoverageInputError
from .._types import IntArray
from ._checks import Method, _as_method, _as_time_limit, _as_weights, _check_total, _Problem
from ._greedy import _covered_mask
from .fewest import _full_coverage
from .maximum import _as_nodes, _max_coverage
from .result import SiteSelection, _empty_int, _few


def _cost_problem(
    cost_matrix: Any,
    weights: Any,
    service_radius: float,
    predefined_facilities_arr: Any,
    *,
    weights_required: bool,
) -> _Problem:
    try:
        cost = np.asarray(cost_matrix, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise CoverageInputError(
            f"cost_matrix must be a 2-D array of non-negative numbers (np.inf allowed); ({exc})."
        ) from exc
    if cost.ndim != 2:
        raise CoverageInputError(f"cost_matrix must be 2-D (demand x candidates), got shape {cost.shape}.")
    nan = np.argwhere(np.isnan(cost))
    if nan.size:
        i, j = (int(v) for v in nan[0])
        raise CoverageInputError(
            f"cost_matrix has {len(nan):,} NaN value(s), first at demand row {i}, candidate column {j}; "
            "use np.inf for unreachable pairs."
        )
    neg = np.argwhere(cost < 0)
    if neg.size:
        i, j = (int(v) for v in neg[0])
        raise CoverageInputError(
            f"cost_matrix has {len(neg):,} negative value(s), first {cost[i, j]} at demand row {i}, "
            f"candidate column {j}; costs are walking distances or times and must be >= 0."
        )
    if isinstance(service_radius, bool) or not isinstance(service_radius, numbers.Real):
        raise CoverageInputError(f"service_radius must be a number (same unit as cost_matrix), got {service_radius!r}.")
    radius = float(service_radius)
    if not math.isfinite(radius) or radius < 0:
        raise CoverageInputError(f"service_radius must be finite and >= 0, got {service_radius!r}.")
    n_d, n_c = cost.shape
    if n_d == 0:
        raise CoverageInputError("cost_matrix has no demand rows; there is nothing to cover.")
    w = np.ones(n_d, dtype=np.float64) if weights is None and not weights_required else _as_weights(weights, n_d)
    a = sp.csc_array(cost <= radius)  # spopt: a_ij = 1 where cost <= service_radius
    a.eliminate_zeros()
    a.sort_indices()
    fixed = _as_predefined(predefined_facilities_arr, n_c)
    available = np.ones(n_c, dtype=np.bool_)
    available[fixed] = False
    already = _covered_mask(a, fixed.tolist(), n_d)
    return _Problem(a=a, weights=w, already=already, available=available, fixed=fixed)


def _as_predefined(value: Any, n_c: int) -> IntArray:
    """Predefined facilities as sorted unique column indices.

    Accepts column indices, a boolean mask, or (as spopt does) a 0/1 integer
    array of length ``n_candidates``.
    """
    if value is None:
        return _empty_int()
    arr = np.asarray(value)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise CoverageInputError(
            f"predefined_facilities_arr must be 1-D (column indices or a mask of length {n_c}), got shape {arr.shape}."
        )
    if arr.size == 0:
        return _empty_int()
    if arr.dtype == np.bool_:
        if arr.size != n_c:
            raise CoverageInputError(
                f"predefined_facilities_arr is a boolean mask of length {arr.size} but there are {n_c} "
                "candidate columns; pass one flag per candidate or integer column indices."
            )
        return np.flatnonzero(arr).astype(np.int64)
    if not np.issubdtype(arr.dtype, np.integer):
        raise CoverageInputError(
            f"predefined_facilities_arr has dtype {arr.dtype}; pass integer candidate column indices "
            f"or a boolean mask of length {n_c}."
        )
    if arr.size == n_c and bool(np.isin(arr, (0, 1)).all()) and n_c > 1:
        # spopt's convention: an array as long as the candidates is a 0/1 mask
        return np.flatnonzero(arr).astype(np.int64)
    bad = np.flatnonzero((arr < 0) | (arr >= n_c))
    if bad.size:
        raise CoverageInputError(
            f"predefined_facilities_arr has out-of-range index {int(arr[bad[0]])} at position {int(bad[0])}; "
            f"candidate columns run from 0 to {n_c - 1}."
        )
    uniq, counts = np.unique(arr, return_counts=True)
    dup = uniq[counts > 1]
    if dup.size:
        raise CoverageInputError(
            f"predefined_facilities_arr lists candidate(s) {_few(dup.tolist())} more than once; "
            "list each predefined facility once."
        )
    return uniq.astype(np.int64)


def from_cost_matrix(
    cost_matrix: npt.ArrayLike,
    weights: npt.ArrayLike,
    service_radius: float,
    p_facilities: int,
    *,
    predefined_facilities_arr: npt.ArrayLike | None = None,
    method: Method = "exact",
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
    max_nodes: int = DEFAULT_MAX_NODES,
) -> SiteSelection:
    """Maximal coverage over a cost matrix, with spopt's ``MCLP`` conventions.

    Mirrors ``spopt.locate.MCLP.from_cost_matrix(cost_matrix, weights,
    service_radius, p_facilities, predefined_facilities_arr)`` (spopt 0.7):

    - candidate ``j`` covers demand ``i`` when ``cost_matrix[i, j] <= service_radius``;
    - ``p_facilities`` is the total number of open facilities **including** the
      predefined ones (spopt adds ``sum_j x_j == p_facilities`` with the
      predefined ``x_j`` fixed to 1), so ``p_facilities - n_predefined`` new
      sites are chosen;
    - predefined facilities may be given as column indices, a boolean mask, or
      spopt's 0/1 integer array of length ``n_candidates``;
    - spopt's objective value (total covered weight, predefined included)
      equals :attr:`SiteSelection.covered_after`; :attr:`~SiteSelection.objective`
      is the part the new sites add, and ``sites`` excludes the predefined
      facilities (they are in ``fixed_sites``).

    Parameters
    ----------
    cost_matrix : array-like, shape (n_demand, n_candidates)
        Non-negative costs (walking metres or minutes); ``np.inf`` for
        unreachable pairs.
    weights : array-like, shape (n_demand,) or (n_demand, 1)
        Non-negative demand weights.
    service_radius : float
        Maximum cost of a covering pair, same unit as ``cost_matrix``.
    p_facilities : int
        Total number of facilities, predefined ones included.
    predefined_facilities_arr : array-like, optional
        Facilities fixed open (see above).
    method, time_limit_s, max_nodes
        As in :func:`max_coverage`.

    Returns
    -------
    SiteSelection

    Examples
    --------
    >>> import numpy as np
    >>> cost = np.array([[100.0, np.inf], [400.0, 300.0], [np.inf, 200.0]])
    >>> sel = from_cost_matrix(cost, [1.0, 2.0, 3.0], 500, 2, predefined_facilities_arr=[0])
    >>> sel.sites.tolist(), sel.covered_after
    ([1], 6.0)
    """
    prob = _cost_problem(cost_matrix, weights, service_radius, predefined_facilities_arr, weights_required=True)
    _check_total(prob.weights)
    n_c = prob.a.shape[1]
    n_fixed = int(prob.fixed.size)
    if isinstance(p_facilities, bool | np.bool_) or not isinstance(p_facilities, numbers.Integral):
        raise CoverageInputError(f"p_facilities must be a whole number of facilities, got {p_facilities!r}.")
    p = int(p_facilities)
    if p < n_fixed:
        raise CoverageInputError(
            f"p_facilities={p} is fewer than the {n_fixed} predefined facilities; as in spopt, "
            f"p_facilities counts the predefined ones too, so pass p_facilities >= {n_fixed}."
        )
    if p > n_c:
        raise CoverageInputError(f"p_facilities={p} is more than the {n_c} candidate columns; pass at most {n_c}.")
    return _max_coverage(
        prob,
        p - n_fixed,
        method=_as_method(method),
        time_limit_s=_as_time_limit(time_limit_s),
        reduce=True,
        max_nodes=_as_nodes(max_nodes),
    )


def lscp_from_cost_matrix(
    cost_matrix: npt.ArrayLike,
    service_radius: float,
    *,
    predefined_facilities_arr: npt.ArrayLike | None = None,
    weights: npt.ArrayLike | None = None,
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
    max_nodes: int = DEFAULT_MAX_NODES,
) -> SiteSelection:
    """Fewest sites covering every coverable demand unit, with spopt's ``LSCP`` conventions.

    Mirrors ``spopt.locate.LSCP.from_cost_matrix(cost_matrix, service_radius,
    predefined_facilities_arr)``: coverage is ``cost <= service_radius`` and
    predefined facilities are fixed open. spopt's objective (number of open
    facilities) equals ``len(sites) + len(fixed_sites)``. Unlike spopt, which
    reports an infeasible model, demand no candidate reaches is left out with a
    :class:`~coverage._errors.CoverageWarning` naming it.

    Parameters
    ----------
    cost_matrix, service_radius, predefined_facilities_arr
        As in :func:`from_cost_matrix`.
    weights : array-like, optional
        Weights for reporting; default 1 per demand unit.
    time_limit_s, max_nodes
        As in :func:`full_coverage`.

    Returns
    -------
    SiteSelection
        ``model="full_coverage"``.
    """
    t0 = time.perf_counter()
    prob = _cost_problem(cost_matrix, weights, service_radius, predefined_facilities_arr, weights_required=False)
    _check_total(prob.weights)
    return _full_coverage(prob, _as_time_limit(time_limit_s), t0, stacklevel=3, max_nodes=_as_nodes(max_nodes))
