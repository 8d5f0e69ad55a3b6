"""Choose new sites: coverage location models on a sparse coverage matrix.

This is the numerical core of the site optimizer. It knows nothing about
geometry: demand units and candidate sites are rows and columns of a boolean
*coverage matrix* ``cover`` (``n_demand x n_candidates``, ``True`` where the
candidate lies within the walking radius of the demand unit), demand units
carry non-negative ``weights`` (residents), and ``already_covered`` marks the
units that the existing halls already serve. Existing halls are fixed open
and cost nothing; they never appear as columns.

Models
------
:func:`max_coverage`
    The maximal covering location problem (MCLP): ``k`` new sites that cover
    the most not-yet-covered weight. Exact (a MILP solved by HiGHS, warm-started
    from the heuristic) or heuristic (lazy greedy plus a 1-swap pass, with the
    LP relaxation as its certificate).
:func:`coverage_curve`
    :func:`max_coverage` for every ``k`` from 0 to ``k_max``, reusing the reduced
    problem and the previous solution.
:func:`target_coverage`
    The fewest new sites that bring the covered share to a target.
:func:`full_coverage`
    The fewest new sites that cover every demand unit some candidate can reach
    (the location set covering problem, LSCP).
:func:`from_cost_matrix`, :func:`lscp_from_cost_matrix`
    The same models over a demand x candidate cost matrix, shaped like
    ``spopt.locate.MCLP.from_cost_matrix`` / ``LSCP.from_cost_matrix`` and using
    spopt's conventions, so that objectives compare directly.

Every model returns a :class:`SiteSelection` with the sites in *build order*
(each site the one that adds most given those before it), the weight each one
adds, and a certificate: an upper bound and the relative gap to it. A time
limit never raises; it returns the best solution found with its gap.

Safe reductions (on by default) shrink the problem without changing its
optimum: demand units already covered or out of every candidate's reach drop
out, units with identical candidate sets merge (weights add), and candidates
whose covered set is contained in another candidate's drop out (the lowest
index survives among identical ones). Results are deterministic for the same
input; ties are broken by the lowest index. (A run stopped by its time limit
depends on machine speed.)

Examples
--------
>>> import numpy as np
>>> import scipy.sparse as sp
>>> cover = sp.csc_array(np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 1]], dtype=bool))
>>> sel = max_coverage(cover, [10.0, 20.0, 30.0, 5.0], 1)
>>> sel.sites.tolist(), sel.objective, sel.optimal
([1], 50.0, True)
>>> sel = max_coverage(cover, [10.0, 20.0, 30.0, 5.0], 2)
>>> sel.sites.tolist(), sel.marginal_weight.tolist()
([1, 0], [50.0, 10.0])
"""

from __future__ import annotations

import heapq
import html
import logging
import math
import numbers
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import highspy
import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from ._errors import CoverageInputError, CoverageWarning

__all__ = [
    "SiteSelection",
    "coverage_curve",
    "from_cost_matrix",
    "full_coverage",
    "lscp_from_cost_matrix",
    "max_coverage",
    "reachable_share",
    "target_coverage",
]

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
Method = Literal["exact", "greedy"]

#: Relative slack for float noise (LP bounds, targets, swap improvements).
_REL_TOL = 1e-9
#: Relative gap under which a solution counts as matching its bound (HiGHS's own
#: feasibility tolerance is 1e-7).
_OPT_TOL = 1e-7
#: Work budget (multiply-adds) per block when looking for dominated candidates.
_DOMINANCE_BLOCK_WORK = 4_000_000
#: How many indices an error message lists before it says "...".
_FEW = 10


# --------------------------------------------------------------------------- result


def _empty_int() -> IntArray:
    return np.zeros(0, dtype=np.int64)


@dataclass(frozen=True, eq=False, repr=False)
class SiteSelection:
    """New sites chosen by a coverage model, in build order, with a certificate.

    Weights are in the unit of the ``weights`` passed in (residents in this
    project). "Newly covered" means covered by a new site and not already
    covered by an existing hall (or a predefined facility).

    Attributes
    ----------
    sites : numpy.ndarray
        Candidate column indices (int64) of the new sites in build order: the
        first adds the most weight, each next one the most given those before
        it (ties: lowest index). Fixed/predefined sites are not included.
    marginal_weight : numpy.ndarray
        Weight each site in ``sites`` adds given the ones before it; sums to
        ``objective``.
    objective : float
        Newly covered weight.
    covered_before : float
        Weight covered before any new site (existing halls, predefined sites).
    covered_after : float
        ``covered_before + objective``.
    total_weight : float
        Weight of all demand units, including those no candidate can reach.
    upper_bound : float
        Proven upper bound on the newly covered weight any choice of as many
        sites could reach (``max_coverage``); equal to ``objective`` when proven
        optimal. ``nan`` for the fewest-sites models (``target_coverage``,
        ``full_coverage``), whose certificate is ``sites_lower_bound``.
    gap : float
        Relative optimality gap: ``(upper_bound - objective) / upper_bound`` for
        ``max_coverage``; ``(len(sites) - sites_lower_bound) / len(sites)`` for
        the fewest-sites models; 0 when proven optimal or when the bound is 0.
    optimal : bool
        Whether the solution is proven optimal.
    method : str
        ``"milp-highs"`` (mixed-integer program solved by HiGHS),
        ``"greedy+swap"`` (lazy greedy and a 1-swap pass; also reported for
        ``method="exact"`` when the heuristic already met its upper bound and
        the MILP was not needed), or ``"none"`` when no optimisation was needed
        (``k = 0``, nothing left to cover, or every useful candidate fits).
    status : str
        What happened, in words (optimal, time limit reached, target already met...).
    time_s : float
        Wall-clock seconds spent, including reduction and heuristics.
    n_reduced_demand, n_reduced_candidates : int
        Size of the problem actually optimised after the safe reductions.
    model : str
        ``"max_coverage"``, ``"target_coverage"`` or ``"full_coverage"``.
    fixed_sites : numpy.ndarray
        Candidate columns that were fixed open (predefined facilities of
        :func:`from_cost_matrix`); empty when existing halls were given as
        ``already_covered``.
    sites_lower_bound : int or None
        Proven lower bound on the number of new sites (fewest-sites models).
    """

    sites: IntArray
    marginal_weight: FloatArray
    objective: float
    covered_before: float
    covered_after: float
    total_weight: float
    upper_bound: float
    gap: float
    optimal: bool
    method: str
    status: str
    time_s: float
    n_reduced_demand: int
    n_reduced_candidates: int
    model: str = "max_coverage"
    fixed_sites: IntArray = field(default_factory=_empty_int)
    sites_lower_bound: int | None = None

    def __post_init__(self) -> None:
        for name in ("sites", "marginal_weight", "fixed_sites"):
            arr = np.array(getattr(self, name), copy=True)
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)

    @property
    def k(self) -> int:
        """Number of new sites."""
        return int(self.sites.size)

    @property
    def covered_share_before(self) -> float:
        """Share of the total weight covered before the new sites."""
        return self.covered_before / self.total_weight if self.total_weight > 0 else 0.0

    @property
    def covered_share_after(self) -> float:
        """Share of the total weight covered with the new sites."""
        return self.covered_after / self.total_weight if self.total_weight > 0 else 0.0

    def to_frame(self) -> pd.DataFrame:
        """Return the build order as a table.

        Returns
        -------
        pandas.DataFrame
            One row per new site: ``rank`` (1 = build first), ``site`` (candidate
            column), ``marginal_weight``, ``cumulative_weight`` (newly covered
            so far) and ``covered_share`` (share of the total covered after
            building the sites up to this one).
        """
        cumulative = np.cumsum(self.marginal_weight)
        share = (
            (self.covered_before + cumulative) / self.total_weight
            if self.total_weight > 0
            else np.zeros_like(cumulative)
        )
        return pd.DataFrame(
            {
                "rank": np.arange(1, self.k + 1, dtype=np.int64),
                "site": self.sites.astype(np.int64),
                "marginal_weight": self.marginal_weight.astype(np.float64),
                "cumulative_weight": cumulative,
                "covered_share": share,
            }
        )

    def _summary_rows(self) -> list[tuple[str, str]]:
        rows = [
            ("model", f"{self.model} by {self.method}"),
            ("status", self.status),
            ("new sites", f"{self.k:,}"),
            (
                "newly covered",
                f"{_fmt(self.objective)} ({_pct(self.objective, self.total_weight)} of total "
                f"{_fmt(self.total_weight)})",
            ),
            (
                "covered",
                f"{_fmt(self.covered_before)} ({_pct(self.covered_before, self.total_weight)})"
                f" -> {_fmt(self.covered_after)} ({_pct(self.covered_after, self.total_weight)})",
            ),
        ]
        if self.sites_lower_bound is not None:
            rows.append(("certificate", f"at least {self.sites_lower_bound:,} sites needed; gap {self.gap:.3%}"))
        else:
            rows.append(("certificate", f"upper bound {_fmt(self.upper_bound)}; gap {self.gap:.3%}"))
        if self.fixed_sites.size:
            rows.append(("fixed open", _few(self.fixed_sites.tolist())))
        rows.append(
            (
                "time",
                f"{self.time_s:.2f} s; optimised {self.n_reduced_demand:,} demand x "
                f"{self.n_reduced_candidates:,} candidates after reduction",
            )
        )
        return rows

    def __repr__(self) -> str:
        head = f"SiteSelection({self.k} new site(s), {'optimal' if self.optimal else 'not proven optimal'})"
        width = max(len(name) for name, _ in self._summary_rows())
        lines = [head] + [f"  {name:<{width}}  {value}" for name, value in self._summary_rows()]
        if self.k:
            shown = ", ".join(
                f"{s} (+{_fmt(m)})"
                for s, m in zip(self.sites[:_FEW].tolist(), self.marginal_weight[:_FEW].tolist(), strict=True)
            )
            more = f", ... {self.k - _FEW} more" if self.k > _FEW else ""
            lines.append(f"  {'build order':<{width}}  {shown}{more}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        esc = html.escape
        body = "".join(
            f"<tr><th style='text-align:left'>{esc(n)}</th><td style='text-align:left'>{esc(v)}</td></tr>"
            for n, v in self._summary_rows()
        )
        order = ""
        if self.k:
            frame = self.to_frame().head(20)
            order = "<p>Build order" + (f" (first 20 of {self.k})" if self.k > 20 else "") + ":</p>"
            order += frame.to_html(
                index=False,
                formatters={
                    "marginal_weight": _fmt_any,
                    "cumulative_weight": _fmt_any,
                    "covered_share": _pct_any,
                },
            )
        title = "optimal" if self.optimal else "not proven optimal"
        return f"<div><strong>SiteSelection</strong> ({esc(title)})<table>{body}</table>{order}</div>"


def _fmt(x: float) -> str:
    if not math.isfinite(x):
        return str(x)
    return f"{x:,.0f}" if abs(x - round(x)) < 1e-6 else f"{x:,.2f}"


def _fmt_any(x: object) -> str:
    return _fmt(float(x)) if isinstance(x, numbers.Real) else str(x)


def _pct_any(x: object) -> str:
    return f"{float(x):.1%}" if isinstance(x, numbers.Real) else str(x)


def _pct(part: float, whole: float) -> str:
    return f"{part / whole:.1%}" if whole > 0 else "n/a"


def _few(items: Sequence[Any], n: int = _FEW) -> str:
    shown = ", ".join(str(x) for x in items[:n])
    return f"[{shown}{', ...' if len(items) > n else ''}]"


# --------------------------------------------------------------------------- validation


def _as_cover(cover: Any, *, name: str = "cover") -> Any:
    """Return ``cover`` as a canonical boolean CSC array (a copy)."""
    if sp.issparse(cover):
        mat = sp.csc_array(cover, copy=True)
    else:
        try:
            arr = np.asarray(cover)
        except (TypeError, ValueError) as exc:
            raise CoverageInputError(
                f"{name} must be a 2-D scipy.sparse matrix or array of booleans; it could not be "
                f"read as an array ({exc})."
            ) from exc
        if arr.ndim != 2:
            raise CoverageInputError(
                f"{name} must be 2-D (demand units x candidate sites), got {arr.ndim} dimension(s) "
                f"with shape {arr.shape}; reshape it or build it as cost_m <= radius_m."
            )
        if arr.dtype.kind not in "biuf":
            raise CoverageInputError(
                f"{name} has dtype {arr.dtype}; it must hold booleans (True where a candidate "
                "covers a demand unit), e.g. build it as cost_m <= radius_m."
            )
        mat = sp.csc_array(arr)
    if mat.ndim != 2:
        raise CoverageInputError(f"{name} must be 2-D (demand units x candidate sites), got shape {mat.shape}.")
    if mat.dtype != np.bool_:
        if not (np.issubdtype(mat.dtype, np.number)) or np.issubdtype(mat.dtype, np.complexfloating):
            raise CoverageInputError(
                f"{name} has dtype {mat.dtype}; it must hold booleans (True where a candidate "
                "covers a demand unit), e.g. build it as cost_m <= radius_m."
            )
        mat.sum_duplicates()
        data = mat.data
        bad = np.flatnonzero(~np.isfinite(data) | (data < 0) | ((data != 0) & (data != 1)))
        if bad.size:
            coo = mat.tocoo()
            cdata = coo.data
            cbad = np.flatnonzero(~np.isfinite(cdata) | (cdata < 0) | ((cdata != 0) & (cdata != 1)))
            i, j, v = int(coo.row[cbad[0]]), int(coo.col[cbad[0]]), cdata[cbad[0]]
            if np.isnan(v):
                what = "a NaN"
            elif v < 0:
                what = f"a negative entry ({v})"
            else:
                what = f"a non-boolean entry ({v})"
            raise CoverageInputError(
                f"{name} has {what} at demand row {i}, candidate column {j} ({cbad.size:,} bad "
                "entries in all); a coverage matrix holds only True/1 (covers) and False/0; "
                "pass a boolean matrix, e.g. cost_m <= radius_m."
            )
        mat = mat.astype(np.bool_)
    mat.eliminate_zeros()
    mat.sort_indices()
    return mat


def _as_weights(weights: Any, n: int, *, name: str = "weights") -> FloatArray:
    try:
        arr = np.array(weights, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as exc:
        raise CoverageInputError(
            f"{name} must be numbers (one non-negative weight per demand unit); could not convert ({exc})."
        ) from exc
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1 or arr.shape[0] != n:
        raise CoverageInputError(
            f"{name} has shape {arr.shape} but the coverage matrix has {n:,} demand rows; "
            f"pass one weight per demand unit (shape ({n},)), in the matrix's row order."
        )
    nan = np.flatnonzero(np.isnan(arr))
    if nan.size:
        raise CoverageInputError(
            f"{name} has {nan.size:,} NaN value(s) (rows {_few(nan.tolist())}); fill them "
            "(0 for no residents) before optimising."
        )
    inf = np.flatnonzero(np.isinf(arr))
    if inf.size:
        raise CoverageInputError(f"{name} has infinite value(s) at rows {_few(inf.tolist())}; weights must be finite.")
    neg = np.flatnonzero(arr < 0)
    if neg.size:
        raise CoverageInputError(
            f"{name} has {neg.size:,} negative value(s) (rows {_few(neg.tolist())}, first "
            f"{arr[neg[0]]}); weights are populations and must be >= 0."
        )
    return arr


def _as_mask(mask: Any, n: int, *, name: str) -> BoolArray:
    if mask is None:
        return np.zeros(n, dtype=np.bool_)
    arr = np.asarray(mask)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise CoverageInputError(
            f"{name} has shape {arr.shape} but the coverage matrix has {n:,} demand rows; pass a "
            f"boolean mask of shape ({n},) that is True for demand units existing halls cover."
        )
    if arr.dtype == np.bool_:
        return arr.copy()
    if np.issubdtype(arr.dtype, np.number) and not np.issubdtype(arr.dtype, np.complexfloating):
        bad = np.flatnonzero((arr != 0) & (arr != 1))
        if bad.size == 0:
            return arr.astype(np.bool_)
        raise CoverageInputError(
            f"{name} must be a boolean mask; it has value {arr[bad[0]].item()!r} at row {int(bad[0])} "
            f"({bad.size:,} non-0/1 values); pass a bool array (True = already covered)."
        )
    raise CoverageInputError(f"{name} has dtype {arr.dtype}; pass a boolean mask of shape ({n},).")


def _as_count(value: Any, *, name: str, upper: int, what: str) -> int:
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        raise CoverageInputError(f"{name} must be a whole number of sites, got {value!r}.")
    v = int(value)
    if v < 0:
        raise CoverageInputError(f"{name} must be >= 0, got {v}; pass 0 for the baseline without new sites.")
    if v > upper:
        raise CoverageInputError(f"{name}={v} is more than the {upper:,} {what}; ask for at most {upper:,}.")
    return v


def _as_time_limit(value: Any) -> float:
    try:
        t = float(value)
    except (TypeError, ValueError) as exc:
        raise CoverageInputError(f"time_limit_s must be a number of seconds, got {value!r}.") from exc
    if math.isnan(t) or t <= 0:
        raise CoverageInputError(f"time_limit_s must be > 0 seconds (math.inf for no limit), got {value!r}.")
    return t


def _as_method(value: Any) -> Method:
    if value not in ("exact", "greedy"):
        raise CoverageInputError(
            f"method must be 'exact' (MILP with HiGHS) or 'greedy' (lazy greedy + swap), got {value!r}."
        )
    return "exact" if value == "exact" else "greedy"


def _as_share(value: Any) -> float:
    try:
        s = float(value)
    except (TypeError, ValueError) as exc:
        raise CoverageInputError(f"target_share must be a share between 0 and 1, got {value!r}.") from exc
    if not (0.0 <= s <= 1.0):
        raise CoverageInputError(f"target_share must be between 0 and 1 (e.g. 0.95 for 95 %), got {value!r}.")
    return s


def _check_total(weights: FloatArray) -> None:
    if math.fsum(weights.tolist()) <= 0:
        raise CoverageInputError(
            "weights sum to 0, so there is nobody to cover and coverage shares are undefined; "
            "check that the population column was joined to the demand units."
        )


@dataclass(frozen=True)
class _Problem:
    """A validated problem on the full matrix."""

    a: Any  # csc_array bool, n_demand x n_candidates
    weights: FloatArray
    already: BoolArray
    available: BoolArray  # candidates that may be chosen as new sites
    fixed: IntArray

    @property
    def n_available(self) -> int:
        return int(self.available.sum())

    @property
    def total_weight(self) -> float:
        return math.fsum(self.weights.tolist())

    @property
    def covered_before(self) -> float:
        return math.fsum(self.weights[self.already].tolist())

    def reachable(self) -> BoolArray:
        """Demand units some available candidate covers."""
        sub = self.a[:, np.flatnonzero(self.available)]
        return np.asarray(np.diff(sub.tocsr().indptr) > 0)


def _problem(cover: Any, weights: Any, already_covered: Any, *, weights_required: bool = True) -> _Problem:
    a = _as_cover(cover)
    n_d, n_c = a.shape
    if n_d == 0:
        raise CoverageInputError("cover has no demand rows; there is nothing to cover.")
    no_weights = weights is None and not weights_required
    w = np.ones(n_d, dtype=np.float64) if no_weights else _as_weights(weights, n_d)
    already = _as_mask(already_covered, n_d, name="already_covered")
    return _Problem(a=a, weights=w, already=already, available=np.ones(n_c, dtype=np.bool_), fixed=_empty_int())


# --------------------------------------------------------------------------- reductions


@dataclass(frozen=True)
class _Reduced:
    """The problem actually optimised: merged demand rows, useful candidate columns."""

    a: Any  # csc_array bool, n_rows x n_cols
    a_csr: Any
    w: FloatArray
    cols: IntArray  # original candidate index per column

    @property
    def shape(self) -> tuple[int, int]:
        return int(self.a.shape[0]), int(self.a.shape[1])


def _merge_rows(rows: Any, w: FloatArray) -> tuple[Any, FloatArray]:
    """Merge rows (CSR, sorted indices) with identical column sets; weights add."""
    keys: dict[bytes, int] = {}
    group = np.empty(rows.shape[0], dtype=np.int64)
    ptr, idx = rows.indptr, rows.indices
    for i in range(rows.shape[0]):
        group[i] = keys.setdefault(idx[ptr[i] : ptr[i + 1]].tobytes(), len(keys))
    if len(keys) == rows.shape[0]:
        return rows, w
    _, first = np.unique(group, return_index=True)
    merged = np.asarray(np.bincount(group, weights=w, minlength=len(keys)), dtype=np.float64)
    return rows[first], merged


def _dominated_columns(a: Any) -> BoolArray:
    """Flag columns whose row set is contained in another column's.

    Column ``j`` is dominated by ``l`` when ``S_j`` is a subset of ``S_l`` and either
    ``S_l`` is larger or the two are equal and ``l < j``; this is a strict order,
    so every dominated column has an undominated dominator and exactly one
    column (the lowest index) survives among identical ones.
    """
    n = a.shape[1]
    out = np.zeros(n, dtype=np.bool_)
    if n < 2:
        return out
    size = np.diff(a.indptr).astype(np.int64)
    ones = sp.csc_array((np.ones(a.nnz, dtype=np.int32), a.indices, a.indptr), shape=a.shape)
    at = ones.T.tocsr()
    row_degree = np.diff(ones.tocsr().indptr).astype(np.int64)
    work = np.cumsum(at @ row_degree)
    start = 0
    while start < n:
        base = work[start - 1] if start else 0
        end = max(int(np.searchsorted(work, base + _DOMINANCE_BLOCK_WORK, side="right")), start + 1)
        block = (at[start:end] @ ones).tocoo()
        j = np.asarray(block.row, dtype=np.int64) + start
        col = np.asarray(block.col, dtype=np.int64)
        sj, sl = size[j], size[col]
        hit = (block.data == sj) & (col != j) & ((sl > sj) | ((sl == sj) & (col < j)))
        out[j[hit]] = True
        start = end
    return out


def _reduce(prob: _Problem, *, enabled: bool, weighted: bool) -> _Reduced:
    """Build the problem to optimise.

    With ``enabled=False`` only the unavoidable steps are taken: fixed columns are
    removed and already-covered rows get weight 0.
    """
    avail = np.flatnonzero(prob.available).astype(np.int64)
    sub = prob.a[:, avail]
    base_w = prob.weights if weighted else np.ones(prob.a.shape[0], dtype=np.float64)
    if not enabled:
        w = np.where(prob.already, 0.0, base_w)
        sub_csc = sp.csc_array(sub)
        sub_csc.sort_indices()
        csr = sub_csc.tocsr()
        csr.sort_indices()
        return _Reduced(a=sub_csc, a_csr=csr, w=w, cols=avail)
    csr = sp.csr_array(sub)
    csr.sort_indices()
    keep = ~prob.already & (np.diff(csr.indptr) > 0)
    if weighted:
        keep &= prob.weights > 0
    rows = np.flatnonzero(keep)
    mat = csr[rows]
    mat.sort_indices()
    w = base_w[rows]
    # Merging identical rows never changes which column sets contain which, and a
    # column dominated by a dominated column is dominated by that one's dominator
    # too, so one pass of each suffices; dropping columns can make rows identical,
    # hence the second merge.
    mat, w = _merge_rows(mat, w)
    csc = sp.csc_array(mat)
    csc.sort_indices()
    useful = np.flatnonzero(np.diff(csc.indptr) > 0)
    csc = csc[:, useful]
    csc.sort_indices()
    keep_cols = np.flatnonzero(~_dominated_columns(csc))
    csc = csc[:, keep_cols]
    cols = avail[useful][keep_cols]
    mat = csc.tocsr()
    mat.sort_indices()
    mat, w = _merge_rows(mat, w)
    csc = sp.csc_array(mat)
    csc.sort_indices()
    return _Reduced(a=csc, a_csr=mat, w=np.asarray(w, dtype=np.float64), cols=cols.astype(np.int64))


# --------------------------------------------------------------------------- heuristics


def _column_rows(a: Any, j: int) -> npt.NDArray[Any]:
    return np.asarray(a.indices[a.indptr[j] : a.indptr[j + 1]])


def _covered_mask(a: Any, sites: Sequence[int], n_rows: int) -> BoolArray:
    mask = np.zeros(n_rows, dtype=np.bool_)
    for j in sites:
        mask[_column_rows(a, int(j))] = True
    return mask


def _value(a: Any, w: FloatArray, sites: Sequence[int], *, uncovered: BoolArray | None = None) -> float:
    """Weight (exactly rounded sum) of the rows the sites cover, among ``uncovered``."""
    mask = _covered_mask(a, sites, a.shape[0])
    if uncovered is not None:
        mask &= uncovered
    return math.fsum(w[mask].tolist())


def _lazy_greedy(
    a: Any,
    w: FloatArray,
    k: int,
    *,
    allowed: npt.NDArray[Any] | None = None,
    start: Sequence[int] = (),
    uncovered: BoolArray | None = None,
    stop_at: float | None = None,
) -> tuple[list[int], list[float]]:
    """Lazy greedy: add up to ``k`` columns, each the one adding most weight.

    Stale gains sit in a priority queue; since gains only shrink (submodularity),
    a popped gain that is fresh is the true maximum. Ties go to the lowest
    index. Stops early at ``stop_at`` total gain. Returns the picks and their
    marginal gains.
    """
    n_rows, n_cols = a.shape
    unc = np.ones(n_rows, dtype=np.bool_) if uncovered is None else uncovered.copy()
    taken = np.zeros(n_cols, dtype=np.bool_)
    for j in start:
        unc[_column_rows(a, int(j))] = False
        taken[int(j)] = True
    pool = np.arange(n_cols) if allowed is None else np.asarray(allowed, dtype=np.int64)
    pool = pool[~taken[pool]]
    wu = np.where(unc, w, 0.0)
    heap = [(-float(wu[_column_rows(a, j)].sum()), j) for j in pool.tolist()]
    heapq.heapify(heap)
    fresh_at = np.zeros(n_cols, dtype=np.int64)  # all gains are fresh in round 0
    picks: list[int] = []
    gains: list[float] = []
    total = 0.0
    while len(picks) < k and heap:
        if stop_at is not None and total >= stop_at:
            break
        neg, j = heapq.heappop(heap)
        if fresh_at[j] == len(picks):
            rows = _column_rows(a, j)
            picks.append(j)
            gains.append(-neg)
            total += -neg
            unc[rows] = False
            wu[rows] = 0.0
        else:
            fresh_at[j] = len(picks)
            heapq.heappush(heap, (-float(wu[_column_rows(a, j)].sum()), j))
    return picks, gains


def _swap_improve(red: _Reduced, sites: Sequence[int], *, max_passes: int | None = None) -> list[int]:
    """Best-improvement 1-swap local search (swap one chosen column for one other)."""
    current = [int(s) for s in sites]
    if not current:
        return current
    a, a_csr, w = red.a, red.a_csr, red.w
    n_rows, n_cols = a.shape
    if len(current) >= n_cols:
        return current
    tol = _REL_TOL * max(1.0, float(w.sum()))
    count = np.zeros(n_rows, dtype=np.int64)
    for s in current:
        count[_column_rows(a, s)] += 1
    passes = max_passes if max_passes is not None else 10 * len(current) + 50
    for _ in range(passes):
        base = np.asarray(a.T @ np.where(count == 0, w, 0.0), dtype=np.float64)
        chosen = np.zeros(n_cols, dtype=np.bool_)
        chosen[current] = True
        best_delta, best = tol, None
        for pos, s in enumerate(current):
            rows = _column_rows(a, s)
            sole = rows[count[rows] == 1]
            loss = float(w[sole].sum())
            gain = base.copy()
            if sole.size:
                gain += np.asarray(a_csr[sole].T @ w[sole], dtype=np.float64)
            gain[chosen] = -np.inf
            c = int(np.argmax(gain))
            delta = float(gain[c]) - loss
            if delta > best_delta:
                best_delta, best = delta, (pos, c)
        if best is None:
            break
        pos, c = best
        count[_column_rows(a, current[pos])] -= 1
        count[_column_rows(a, c)] += 1
        current[pos] = c
    return current


def _submodular_bound(red: _Reduced, sites: Sequence[int], k: int) -> float:
    """Upper bound ``f(S) + sum of the k largest marginal gains given S``."""
    a, w = red.a, red.w
    covered = _covered_mask(a, sites, a.shape[0])
    value = math.fsum(w[covered].tolist())
    gains = np.asarray(a.T @ np.where(covered, 0.0, w), dtype=np.float64)
    if sites:
        gains[np.asarray(sites, dtype=np.int64)] = 0.0
    top = np.sort(gains)[::-1][:k]
    return min(value + math.fsum(np.maximum(top, 0.0).tolist()), math.fsum(w.tolist()))


def _within_tol(value: float, bound: float) -> bool:
    return bound - value <= _OPT_TOL * max(1.0, abs(bound))


# --------------------------------------------------------------------------- HiGHS


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


# --------------------------------------------------------------------------- max coverage engine


class _MaxCoverEngine:
    """Max coverage over one reduced problem, for one or many ``k``."""

    def __init__(self, prob: _Problem, *, reduce: bool) -> None:
        t0 = time.perf_counter()
        self.prob = prob
        self.red = _reduce(prob, enabled=reduce, weighted=True)
        self.red_total = math.fsum(self.red.w.tolist())
        self.uncovered = ~prob.already
        self.allowed = np.flatnonzero(prob.available).astype(np.int64)
        self._mip: _HighsModel | None = None
        self._lp: _HighsModel | None = None
        self.setup_s = time.perf_counter() - t0
        n_rows, n_cols = self.red.shape
        logger.debug(
            "max coverage: %d x %d reduced to %d demand x %d candidates in %.2f s",
            prob.a.shape[0],
            prob.n_available,
            n_rows,
            n_cols,
            self.setup_s,
        )

    # -- pieces
    def value(self, sites: Sequence[int]) -> float:
        return _value(self.red.a, self.red.w, sites)

    def greedy(self, k: int, start: Sequence[int] = ()) -> list[int]:
        picks, _ = _lazy_greedy(self.red.a, self.red.w, k - len(start), start=start)
        return [*start, *picks]

    def _model(self, k: int, *, relax: bool) -> _HighsModel:
        attr = "_lp" if relax else "_mip"
        model: _HighsModel | None = getattr(self, attr)
        n_rows, n_cols = self.red.shape
        if model is None:
            model = _HighsModel(
                cost=np.concatenate([np.zeros(n_cols), self.red.w]),
                matrix=_mclp_matrix(self.red),
                row_lower=np.full(n_rows + 1, -highspy.kHighsInf),
                row_upper=np.concatenate([np.zeros(n_rows), [float(k)]]),
                n_integer=n_cols,
                maximize=True,
                relax=relax,
            )
            setattr(self, attr, model)
        else:
            model.set_row_bounds(n_rows, -highspy.kHighsInf, float(k))
        return model

    # -- one k
    def solve(
        self,
        k: int,
        *,
        method: Method,
        time_limit_s: float,
        warm: Sequence[Sequence[int]] = (),
        include_setup: bool = True,
    ) -> tuple[SiteSelection, list[int]]:
        t0 = time.perf_counter() - (self.setup_s if include_setup else 0.0)
        n_cols = self.red.shape[1]
        if k == 0:
            return self.finish([], k, 0.0, True, "none", "k = 0: the baseline, no new sites", t0), []
        if n_cols == 0 or self.red_total <= 0:
            status = (
                "nothing left to cover: every demand unit with residents is already covered "
                "or out of every candidate's reach"
            )
            return self.finish([], k, 0.0, True, "none", status, t0), []
        if k >= n_cols:
            everything = list(range(n_cols))
            status = (
                f"optimal: k = {k} >= the {n_cols:,} candidates that still add coverage, so all of "
                "them are built and every reachable demand unit is covered"
            )
            return self.finish(everything, k, self.red_total, True, "none", status, t0), everything

        # heuristic start: the best of the warm starts (each completed to k) and plain greedy
        starts = [self.greedy(k, list(w)[:k]) for w in warm] or [self.greedy(k)]
        values = [self.value(s) for s in starts]
        best = starts[int(np.argmax(values))]
        sites = _swap_improve(self.red, best)
        value = self.value(sites)
        bound = _submodular_bound(self.red, sites, k)
        if k == 1:
            bound = value  # greedy's first pick is the single best site (the LP is slow here)
        if _within_tol(value, bound):
            return (
                self.finish(
                    sites,
                    k,
                    value,
                    True,
                    "greedy+swap",
                    "optimal: the greedy+swap solution meets its upper bound",
                    t0,
                ),
                sites,
            )

        if method == "greedy":
            lp = self._model(k, relax=True).run(time_limit_s=time_limit_s)
            lp_note = ""
            if lp.optimal and math.isfinite(lp.bound):
                bound = min(bound, lp.bound * (1 + _REL_TOL) + _REL_TOL)
            else:
                lp_note = f"; the LP relaxation stopped ({lp.status}), so the bound is the weaker submodular one"
            optimal = _within_tol(value, bound)
            status = (
                "optimal: the greedy+swap solution meets the LP bound"
                if optimal
                else f"heuristic solution; proven within the gap of the LP-relaxation bound{lp_note}"
            )
            return self.finish(sites, k, bound, optimal, "greedy+swap", status, t0), sites

        out = self._model(k, relax=False).run(time_limit_s=time_limit_s, start=_mclp_start(self.red, sites))
        if out.x is not None:
            mip_sites = _sites_from_x(out.x, n_cols)
            if len(mip_sites) <= k:
                mip_value = self.value(mip_sites)
                if mip_value > value:
                    sites, value = mip_sites, mip_value
        if math.isfinite(out.bound):
            bound = min(bound, out.bound)
        optimal = out.optimal or _within_tol(value, bound)
        if optimal:
            status = "optimal (MILP solved by HiGHS)"
            if not out.optimal:
                status = f"optimal: the solution meets its upper bound (HiGHS: {out.status})"
        elif out.time_limit_hit:
            status = (
                f"time limit of {time_limit_s:g} s reached: best solution found (MILP incumbent or "
                "greedy+swap start), optimality not proven"
            )
        else:
            status = f"HiGHS stopped ({out.status}): best solution found returned, optimality not proven"
        return self.finish(sites, k, bound, optimal, "milp-highs", status, t0), sites

    def finish(
        self,
        red_sites: Sequence[int],
        k: int,
        bound: float,
        optimal: bool,
        method: str,
        status: str,
        t0: float,
    ) -> SiteSelection:
        """Map reduced sites back, fill up to ``k``, order them and certify."""
        prob = self.prob
        chosen = [int(c) for c in self.red.cols[np.asarray(red_sites, dtype=np.int64)]]
        if len(chosen) < k:
            # sites that add nothing more (or, after a time limit, the best additions);
            # among zero gains the lowest index comes first
            extra, _ = _lazy_greedy(
                prob.a,
                prob.weights,
                k - len(chosen),
                allowed=self.allowed,
                start=chosen,
                uncovered=self.uncovered,
            )
            chosen.extend(extra)
        return _selection(
            prob,
            chosen,
            bound=bound,
            optimal=optimal,
            method=method,
            status=status,
            t0=t0,
            reduced_shape=self.red.shape,
            model="max_coverage",
        )


def _selection(
    prob: _Problem,
    chosen: Sequence[int],
    *,
    bound: float,
    optimal: bool,
    method: str,
    status: str,
    t0: float,
    reduced_shape: tuple[int, int],
    model: str,
    sites_lower_bound: int | None = None,
) -> SiteSelection:
    uncovered = ~prob.already
    order, marginal = _lazy_greedy(
        prob.a, prob.weights, len(chosen), allowed=np.asarray(chosen, dtype=np.int64), uncovered=uncovered
    )
    objective = _value(prob.a, prob.weights, order, uncovered=uncovered)
    before = prob.covered_before
    if sites_lower_bound is not None:
        upper = math.nan
        n = len(order)
        gap = 0.0 if optimal or n == 0 else max(0.0, (n - sites_lower_bound) / n)
    else:
        upper = objective if optimal else max(bound, objective)
        gap = 0.0 if optimal or upper <= 0 else max(0.0, (upper - objective) / upper)
    return SiteSelection(
        sites=np.asarray(order, dtype=np.int64),
        marginal_weight=np.asarray(marginal, dtype=np.float64),
        objective=objective,
        covered_before=before,
        covered_after=before + objective,
        total_weight=prob.total_weight,
        upper_bound=upper,
        gap=gap,
        optimal=bool(optimal),
        method=method,
        status=status,
        time_s=time.perf_counter() - t0,
        n_reduced_demand=int(reduced_shape[0]),
        n_reduced_candidates=int(reduced_shape[1]),
        model=model,
        fixed_sites=prob.fixed,
        sites_lower_bound=sites_lower_bound,
    )


def _max_coverage(prob: _Problem, k: int, *, method: Method, time_limit_s: float, reduce: bool) -> SiteSelection:
    engine = _MaxCoverEngine(prob, reduce=reduce)
    selection, _ = engine.solve(k, method=method, time_limit_s=time_limit_s)
    return selection


# --------------------------------------------------------------------------- public: max coverage


def max_coverage(
    cover: Any,
    weights: npt.ArrayLike,
    k: int,
    *,
    already_covered: npt.ArrayLike | None = None,
    method: Method = "exact",
    time_limit_s: float = 60.0,
    reduce: bool = True,
) -> SiteSelection:
    """Choose ``k`` new sites that cover the most not-yet-covered weight.

    The maximal covering location problem: maximise ``sum_i w_i y_i`` subject to
    ``y_i <= sum_j a_ij x_j``, ``sum_j x_j <= k``, ``x`` binary, ``0 <= y <= 1``,
    where demand already covered by existing halls has been taken out. The
    model uses ``<= k``; since coverage never falls when a site is added this
    has the same optimum as ``= k``, and the result always holds exactly ``k``
    sites: when fewer already reach the optimum (say every reachable unit is
    covered), the rest are the lowest-index remaining candidates, at zero
    marginal weight.

    Parameters
    ----------
    cover : scipy.sparse matrix or array, shape (n_demand, n_candidates)
        ``True`` (or 1) where candidate ``j`` covers demand unit ``i``.
    weights : array-like, shape (n_demand,)
        Non-negative weight (residents) of each demand unit.
    k : int
        Number of new sites, ``0 <= k <= n_candidates``; 0 gives the baseline.
    already_covered : array-like of bool, shape (n_demand,), optional
        Demand units existing halls already cover (fixed open, free).
    method : {"exact", "greedy"}
        ``"exact"``: MILP solved by HiGHS, warm-started from greedy+swap.
        ``"greedy"``: lazy greedy then a best-improvement 1-swap pass, certified
        by the LP-relaxation bound.
    time_limit_s : float
        Time limit for the solver (MILP, or the LP bound for ``"greedy"``). When
        it is hit the best solution found is returned with its gap.
    reduce : bool
        Apply the safe reductions first (same optimum, smaller problem).

    Returns
    -------
    SiteSelection
        The sites in build order with their marginal weights and certificate.

    Raises
    ------
    CoverageInputError
        Bad shapes, weights, masks, ``k`` or options.

    Examples
    --------
    >>> import numpy as np
    >>> cover = np.array([[1, 0], [1, 1], [0, 1]], dtype=bool)
    >>> max_coverage(cover, [5.0, 1.0, 2.0], 1, already_covered=[False, False, True]).sites.tolist()
    [0]
    """
    prob = _problem(cover, weights, already_covered)
    _check_total(prob.weights)
    k = _as_count(k, name="k", upper=prob.n_available, what="candidate sites")
    return _max_coverage(
        prob, k, method=_as_method(method), time_limit_s=_as_time_limit(time_limit_s), reduce=bool(reduce)
    )


def coverage_curve(
    cover: Any,
    weights: npt.ArrayLike,
    k_max: int,
    *,
    already_covered: npt.ArrayLike | None = None,
    method: Method = "exact",
    time_limit_s: float = 60.0,
    reduce: bool = True,
    progress: bool = False,
) -> pd.DataFrame:
    """Best coverage for every number of new sites from 0 to ``k_max``.

    The reduced problem and the HiGHS model are built once; each ``k`` starts
    from the better of the previous solution plus its best greedy addition and
    the greedy solution, improved by swaps. Hence the curve never decreases,
    even when a time limit stops the solver.

    Parameters
    ----------
    cover, weights, already_covered, method, reduce
        As in :func:`max_coverage`.
    k_max : int
        Largest number of new sites, ``0 <= k_max <= n_candidates``.
    time_limit_s : float
        Time limit for the solver *per value of k*.
    progress : bool
        Show a progress bar (``tqdm``).

    Returns
    -------
    pandas.DataFrame
        One row per ``k`` with columns ``k``; ``covered_weight`` (total covered:
        existing plus new); ``covered_share`` (of the total weight);
        ``upper_bound`` (bound on ``covered_weight``); ``gap`` (relative to the
        newly covered weight, as :attr:`SiteSelection.gap`); ``optimal``;
        ``time_s`` (solve time for this ``k``; the shared reduction is counted
        in row ``k = 0``); ``new_weight``; ``sites`` (tuple, build order) and
        ``status``.

    Raises
    ------
    CoverageInputError
        Bad shapes, weights, masks, ``k_max`` or options.
    """
    prob = _problem(cover, weights, already_covered)
    _check_total(prob.weights)
    k_max = _as_count(k_max, name="k_max", upper=prob.n_available, what="candidate sites")
    method = _as_method(method)
    limit = _as_time_limit(time_limit_s)
    engine = _MaxCoverEngine(prob, reduce=bool(reduce))
    chain = engine.greedy(min(k_max, engine.red.shape[1]))
    records: list[dict[str, Any]] = []
    previous: list[int] = []
    previous_obj = 0.0
    ks: Any = range(k_max + 1)
    if progress:
        from tqdm.auto import tqdm

        ks = tqdm(ks, desc="coverage curve", unit="k")
    for k in ks:
        warm = [previous, chain[:k]] if k else []
        sel, red_sites = engine.solve(k, method=method, time_limit_s=limit, warm=warm, include_setup=k == 0)
        if sel.objective < previous_obj:  # float noise only; keep the curve monotone
            t0 = time.perf_counter()
            red_sites = engine.greedy(k, previous)
            sel = engine.finish(red_sites, k, sel.upper_bound, sel.optimal, sel.method, sel.status, t0)
        previous, previous_obj = list(red_sites), sel.objective
        upper = sel.covered_before + sel.upper_bound
        records.append(
            {
                "k": k,
                "covered_weight": sel.covered_after,
                "covered_share": sel.covered_share_after,
                "upper_bound": upper,
                "gap": sel.gap,
                "optimal": sel.optimal,
                "time_s": sel.time_s,
                "new_weight": sel.objective,
                "sites": tuple(sel.sites.tolist()),
                "status": sel.status,
            }
        )
    return pd.DataFrame.from_records(records)


# --------------------------------------------------------------------------- public: fewest sites


def reachable_share(
    cover: Any,
    weights: npt.ArrayLike,
    *,
    already_covered: npt.ArrayLike | None = None,
) -> float:
    """Largest share of the total weight that existing halls plus all candidates cover.

    Parameters
    ----------
    cover, weights, already_covered
        As in :func:`max_coverage`.

    Returns
    -------
    float
        ``(covered_before + weight some candidate can newly cover) / total weight``.

    Examples
    --------
    >>> import numpy as np
    >>> reachable_share(np.array([[1], [0]], dtype=bool), [3.0, 1.0])
    0.75
    """
    prob = _problem(cover, weights, already_covered)
    _check_total(prob.weights)
    return _reach(prob)[0]


def _reach(prob: _Problem) -> tuple[float, IntArray, float]:
    """Reachable share, unreachable demand rows and their weight."""
    reachable = prob.reachable()
    unreachable = np.flatnonzero(~prob.already & ~reachable).astype(np.int64)
    lost = math.fsum(prob.weights[unreachable].tolist())
    total = prob.total_weight
    reach_w = math.fsum(prob.weights[prob.already | reachable].tolist())
    return (reach_w / total if total > 0 else 0.0), unreachable, lost


def _fewest_sites_status(out: Any, n_sites: int, limit: float, goal: str) -> tuple[int, str]:
    """Proven lower bound on the site count and status text of a fewest-sites MILP run."""
    bound = max(1, math.ceil(out.bound - 1e-6) if math.isfinite(out.bound) else 1)
    lower = min(n_sites if out.optimal else bound, n_sites)
    if lower == n_sites:
        return lower, f"optimal: {n_sites} new site(s) are the fewest that {goal}"
    if out.time_limit_hit:
        return lower, f"time limit of {limit:g} s reached: best solution found; at least {lower} site(s) are needed"
    return lower, f"HiGHS stopped ({out.status}): best solution found; at least {lower} site(s) are needed"


def target_coverage(
    cover: Any,
    weights: npt.ArrayLike,
    *,
    target_share: float = 0.95,
    already_covered: npt.ArrayLike | None = None,
    time_limit_s: float = 60.0,
) -> SiteSelection:
    """Find the fewest new sites that bring the covered share to ``target_share``.

    Minimise ``sum_j x_j`` subject to ``sum_i w_i y_i >= needed``,
    ``y_i <= sum_j a_ij x_j``, where ``needed = target_share * total_weight -
    covered_before`` and the total includes demand no candidate can reach.
    Solved exactly by HiGHS, warm-started from greedy.

    Parameters
    ----------
    cover, weights, already_covered
        As in :func:`max_coverage`.
    target_share : float
        Share of the total weight to cover (existing plus new), in ``[0, 1]``.
    time_limit_s : float
        Time limit for the solver; when hit, the best solution found is
        returned with ``sites_lower_bound`` and its gap.

    Returns
    -------
    SiteSelection
        ``model="target_coverage"``; ``sites_lower_bound`` is the proven fewest
        number of sites and ``upper_bound`` is ``nan``. When the target is
        already met the selection has no sites and ``method="none"``.

    Raises
    ------
    CoverageInputError
        If the target exceeds :func:`reachable_share`; the message gives the
        reachable share and the demand no candidate reaches.
    """
    t0 = time.perf_counter()
    prob = _problem(cover, weights, already_covered)
    _check_total(prob.weights)
    share = _as_share(target_share)
    limit = _as_time_limit(time_limit_s)
    total = prob.total_weight
    before = prob.covered_before
    slack = _REL_TOL * max(1.0, total)
    needed = share * total - before
    if needed <= slack:
        status = f"target already met: existing coverage {before / total:.2%} >= target {share:.2%}; nothing to do"
        return _selection(
            prob,
            [],
            bound=0.0,
            optimal=True,
            method="none",
            status=status,
            t0=t0,
            reduced_shape=(0, 0),
            model="target_coverage",
            sites_lower_bound=0,
        )
    reach, unreachable, lost = _reach(prob)
    reachable_new = total * reach - before
    if needed > reachable_new + slack:
        raise CoverageInputError(
            f"target_share={share:.4g} cannot be met: existing halls plus every candidate reach at most "
            f"{reach:.4%} of the total weight {_fmt(total)}; {unreachable.size:,} demand units with weight "
            f"{_fmt(lost)} ({lost / total:.2%}) are out of every candidate's reach (rows "
            f"{_few(unreachable.tolist())}). Lower target_share to at most "
            f"{math.floor(reach * 1e4) / 1e4:.4f}, or add candidate sites near those units."
        )
    needed = min(needed, reachable_new) - slack
    red = _reduce(prob, enabled=True, weighted=True)
    n_rows, n_cols = red.shape
    picks, _ = _lazy_greedy(red.a, red.w, n_cols, stop_at=needed)
    picks = _prune(red, picks, needed)
    matrix = sp.vstack(
        [
            _mclp_matrix(red)[:n_rows],
            sp.hstack([sp.csc_array((1, n_cols)), sp.csc_array(red.w.reshape(1, -1))]),
        ],
        format="csc",
    )
    model = _HighsModel(
        cost=np.concatenate([np.ones(n_cols), np.zeros(n_rows)]),
        matrix=matrix,
        row_lower=np.concatenate([np.full(n_rows, -highspy.kHighsInf), [needed]]),
        row_upper=np.concatenate([np.zeros(n_rows), [highspy.kHighsInf]]),
        n_integer=n_cols,
        maximize=False,
    )
    out = model.run(time_limit_s=limit, start=_mclp_start(red, picks))
    sites = picks
    if out.x is not None:
        mip_sites = _sites_from_x(out.x, n_cols)
        if len(mip_sites) < len(sites) and _value(red.a, red.w, mip_sites) >= needed:
            sites = mip_sites
    lower, status = _fewest_sites_status(out, len(sites), limit, f"reach {share:.2%}")
    optimal = lower == len(sites)
    chosen = red.cols[np.asarray(sites, dtype=np.int64)].tolist()
    return _selection(
        prob,
        chosen,
        bound=math.nan,
        optimal=optimal,
        method="milp-highs",
        status=status,
        t0=t0,
        reduced_shape=red.shape,
        model="target_coverage",
        sites_lower_bound=lower,
    )


def _prune(red: _Reduced, sites: Sequence[int], needed: float) -> list[int]:
    """Drop sites (latest first) whose removal keeps the covered weight >= needed."""
    current = list(sites)
    for s in reversed(list(sites)):
        trial = [c for c in current if c != s]
        if _value(red.a, red.w, trial) >= needed:
            current = trial
    return current


def full_coverage(
    cover: Any,
    weights: npt.ArrayLike | None = None,
    *,
    already_covered: npt.ArrayLike | None = None,
    time_limit_s: float = 60.0,
) -> SiteSelection:
    """Find the fewest new sites that cover every demand unit some candidate can reach.

    The location set covering problem (LSCP): minimise ``sum_j x_j`` subject to
    ``sum_j a_ij x_j >= 1`` for every demand unit not already covered that at
    least one candidate covers. Units no candidate reaches cannot be covered;
    they are reported in a :class:`~coverage._errors.CoverageWarning` and in
    ``status`` and left out (spopt's LSCP would be infeasible instead).

    Parameters
    ----------
    cover, already_covered
        As in :func:`max_coverage`.
    weights : array-like, optional
        Weights for reporting only (every unit counts in the constraint, even
        with weight 0); default 1 per demand unit.
    time_limit_s : float
        Time limit for the solver.

    Returns
    -------
    SiteSelection
        ``model="full_coverage"``, with ``sites_lower_bound`` as certificate.
    """
    t0 = time.perf_counter()
    prob = _problem(cover, weights, already_covered, weights_required=False)
    _check_total(prob.weights)
    limit = _as_time_limit(time_limit_s)
    return _full_coverage(prob, limit, t0, stacklevel=3)


def _full_coverage(prob: _Problem, limit: float, t0: float, *, stacklevel: int) -> SiteSelection:
    _, unreachable, lost = _reach(prob)
    note = ""
    if unreachable.size:
        note = (
            f"; {unreachable.size:,} demand unit(s) with weight {_fmt(lost)} are out of every candidate's "
            f"reach and stay uncovered (rows {_few(unreachable.tolist())})"
        )
        warnings.warn(
            f"{unreachable.size:,} demand unit(s) (rows {_few(unreachable.tolist())}, weight {_fmt(lost)}) "
            "are farther than the service radius from every candidate and cannot be covered; they are "
            "left out of the set cover. Add candidate sites near them to cover them.",
            CoverageWarning,
            stacklevel=stacklevel,
        )
    red = _reduce(prob, enabled=True, weighted=False)
    n_rows, n_cols = red.shape
    if n_rows == 0:
        status = "nothing to do: every reachable demand unit is already covered" + note
        return _selection(
            prob,
            [],
            bound=0.0,
            optimal=True,
            method="none",
            status=status,
            t0=t0,
            reduced_shape=(0, 0),
            model="full_coverage",
            sites_lower_bound=0,
        )
    picks, _ = _lazy_greedy(red.a, red.w, n_cols, stop_at=math.fsum(red.w.tolist()))
    picks = _prune(red, picks, math.fsum(red.w.tolist()))
    model = _HighsModel(
        cost=np.ones(n_cols),
        matrix=sp.csc_array(red.a, dtype=np.float64),
        row_lower=np.ones(n_rows),
        row_upper=np.full(n_rows, highspy.kHighsInf),
        n_integer=n_cols,
        maximize=False,
    )
    start = np.zeros(n_cols)
    start[np.asarray(picks, dtype=np.int64)] = 1.0
    out = model.run(time_limit_s=limit, start=start)
    sites = picks
    if out.x is not None:
        mip_sites = _sites_from_x(out.x, n_cols)
        covered = _covered_mask(red.a, mip_sites, n_rows)
        if len(mip_sites) < len(sites) and bool(covered.all()):
            sites = mip_sites
    lower, status = _fewest_sites_status(out, len(sites), limit, "cover every reachable demand unit")
    optimal = lower == len(sites)
    chosen = red.cols[np.asarray(sites, dtype=np.int64)].tolist()
    return _selection(
        prob,
        chosen,
        bound=math.nan,
        optimal=optimal,
        method="milp-highs",
        status=status + note,
        t0=t0,
        reduced_shape=red.shape,
        model="full_coverage",
        sites_lower_bound=lower,
    )


# --------------------------------------------------------------------------- spopt-shaped entry points


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
    time_limit_s: float = 60.0,
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
    method, time_limit_s
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
        prob, p - n_fixed, method=_as_method(method), time_limit_s=_as_time_limit(time_limit_s), reduce=True
    )


def lscp_from_cost_matrix(
    cost_matrix: npt.ArrayLike,
    service_radius: float,
    *,
    predefined_facilities_arr: npt.ArrayLike | None = None,
    weights: npt.ArrayLike | None = None,
    time_limit_s: float = 60.0,
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
    time_limit_s : float
        Time limit for the solver.

    Returns
    -------
    SiteSelection
        ``model="full_coverage"``.
    """
    t0 = time.perf_counter()
    prob = _cost_problem(cost_matrix, weights, service_radius, predefined_facilities_arr, weights_required=False)
    _check_total(prob.weights)
    return _full_coverage(prob, _as_time_limit(time_limit_s), t0, stacklevel=3)
