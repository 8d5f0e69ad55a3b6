"""Input checks of the optimizer and the validated problem on the full matrix."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp

from .._errors import CoverageInputError
from .._types import BoolArray, FloatArray, IntArray
from .result import _empty_int, _few

Method = Literal["exact", "greedy"]

#: Relative slack for float noise (LP bounds, targets, swap improvements).
_REL_TOL = 1e-9
#: Relative gap under which a solution counts as matching its bound (HiGHS's own
#: feasibility tolerance is 1e-7).
_OPT_TOL = 1e-7


def _as_cover(cover: Any, *, name: str = "cover") -> Any:
    """Return ``cover`` as a canonical boolean CSC array (a copy unless it is one already).

    The optimizer never modifies it, so an input that is already a canonical
    boolean CSC array (sorted indices, no duplicates, no stored False) is used
    as it is: at city scale a copy costs gigabytes.
    """
    if sp.issparse(cover):
        if (
            cover.format == "csc"
            and cover.dtype == np.bool_
            and cover.ndim == 2
            and cover.has_canonical_format
            and bool(cover.data.all())
        ):
            return sp.csc_array(cover, copy=False)
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
        avail = np.flatnonzero(self.available)
        sub = self.a if avail.size == self.a.shape[1] else self.a[:, avail]
        return np.asarray(np.bincount(sub.indices, minlength=sub.shape[0]) > 0)


def _problem(cover: Any, weights: Any, already_covered: Any, *, weights_required: bool = True) -> _Problem:
    a = _as_cover(cover)
    n_d, n_c = a.shape
    if n_d == 0:
        raise CoverageInputError("cover has no demand rows; there is nothing to cover.")
    no_weights = weights is None and not weights_required
    w = np.ones(n_d, dtype=np.float64) if no_weights else _as_weights(weights, n_d)
    already = _as_mask(already_covered, n_d, name="already_covered")
    return _Problem(a=a, weights=w, already=already, available=np.ones(n_c, dtype=np.bool_), fixed=_empty_int())
