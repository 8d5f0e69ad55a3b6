"""One validator per kind of value: distance, speed, share, count, time limit, CRS, memory.

Every public function checks its arguments through these helpers, so every
bad argument gets the same kind of message: the name of the argument (or
scenario key), the value given, what is expected, and an example.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyproj

from ._defaults import (
    DEFAULT_MEMORY_LIMIT_BYTES,
    DEFAULT_WALK_SPEED_KMH,
    MAX_RADIUS_M,
    MAX_WALK_SPEED_KMH,
    MEMORY_LIMIT_ENV,
    MIN_WALK_SPEED_KMH,
)
from ._errors import CoverageInputError
from ._types import FloatArray

__all__ = [
    "Radii",
    "as_count",
    "as_crs",
    "as_distance",
    "as_radii",
    "as_share",
    "as_speed",
    "as_time_limit",
    "check_memory",
    "memory_limit_bytes",
]


def _number(value: Any, name: str, example: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise CoverageInputError(f"{name}={value!r:.80}: give a number, e.g. {name}={example}.")
    out = float(value)
    if not math.isfinite(out):
        raise CoverageInputError(f"{name}={value!r}: give a finite number, e.g. {name}={example}.")
    return out


def as_distance(
    value: Any,
    *,
    name: str,
    minimum: float = 0.0,
    maximum: float = MAX_RADIUS_M,
    allow_zero: bool = False,
    example: str = "500",
) -> float:
    """Validate a distance in metres.

    Parameters
    ----------
    value : number
        The distance.
    name : str
        Argument or scenario key, for the message.
    minimum : float, default 0
        Smallest value accepted (exclusive of 0 unless ``allow_zero``).
    maximum : float, default MAX_RADIUS_M
        Largest value accepted.
    allow_zero : bool, default False
        Whether exactly 0 is accepted.
    example : str
        A good value, shown in the message.

    Returns
    -------
    float

    Examples
    --------
    >>> as_distance(500, name="radius_m")
    500.0
    >>> as_distance(-1, name="radius_m")
    Traceback (most recent call last):
    ...
    coverage._errors.CoverageInputError: radius_m=-1: give a distance > 0 m, e.g. radius_m=500.
    """
    out = _number(value, name, example)
    if allow_zero and out == 0.0:
        return 0.0
    if out <= 0.0:
        raise CoverageInputError(f"{name}={value!r}: give a distance > 0 m, e.g. {name}={example}.")
    if out < minimum:
        raise CoverageInputError(
            f"{name}={value!r}: below the smallest accepted value of {minimum:g} m; finer settings only cost "
            f"memory and time. Use e.g. {name}={example}."
        )
    if out > maximum:
        raise CoverageInputError(
            f"{name}={value!r}: more than {maximum:g} m, not a walking distance. Is it in metres "
            f"(not feet or centimetres)? e.g. {name}={example}."
        )
    return out


def as_speed(value: Any, *, name: str = "walk_speed_kmh") -> float:
    """Validate a walking speed in km/h (between 0.5 and 20).

    Examples
    --------
    >>> as_speed(4.5)
    4.5
    """
    out = _number(value, name, "4.5")
    if not MIN_WALK_SPEED_KMH <= out <= MAX_WALK_SPEED_KMH:
        raise CoverageInputError(
            f"{name}={value!r}: a walking speed is between {MIN_WALK_SPEED_KMH:g} and "
            f"{MAX_WALK_SPEED_KMH:g} km/h (about 4.5 for adults, 3.6 for the elderly)."
        )
    return out


def as_share(value: Any, *, name: str, allow_zero: bool = False) -> float:
    """Validate a share in (0, 1] (or [0, 1] with ``allow_zero``).

    Examples
    --------
    >>> as_share(0.95, name="target_share")
    0.95
    """
    out = _number(value, name, "0.95")
    low_ok = out >= 0.0 if allow_zero else out > 0.0
    if not (low_ok and out <= 1.0):
        span = "[0, 1]" if allow_zero else "(0, 1]"
        raise CoverageInputError(f"{name}={value!r}: give a share in {span}, e.g. 0.95 for 95 %.")
    return out


def as_count(value: Any, *, name: str, minimum: int = 0, maximum: int | None = None, what: str = "") -> int:
    """Validate a whole number in ``[minimum, maximum]``.

    Examples
    --------
    >>> as_count(5, name="k")
    5
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise CoverageInputError(f"{name}={value!r:.80}: give a whole number, e.g. {name}=5.")
    out = int(value)
    if out < minimum:
        raise CoverageInputError(f"{name}={out}: must be at least {minimum}.")
    if maximum is not None and out > maximum:
        extra = f" ({what})" if what else ""
        raise CoverageInputError(f"{name}={out}: must be at most {maximum}{extra}.")
    return out


def as_time_limit(value: Any, *, name: str = "time_limit_s") -> float:
    """Validate a time limit in seconds (> 0; ``inf`` for none).

    Examples
    --------
    >>> as_time_limit(10)
    10.0
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(float(value)):
        raise CoverageInputError(f"{name}={value!r:.80}: give a number of seconds > 0, e.g. {name}=60.")
    out = float(value)
    if out <= 0:
        raise CoverageInputError(f"{name}={value!r}: give a number of seconds > 0, e.g. {name}=60.")
    return out


def as_crs(value: Any, *, name: str = "crs", projected: bool = False) -> pyproj.CRS:
    """Validate a CRS given as an EPSG code, a string or a ``pyproj.CRS``.

    Parameters
    ----------
    value : str, int or pyproj.CRS
        The CRS.
    name : str
        Argument or key, for the message.
    projected : bool, default False
        Require a projected (metric) CRS.

    Returns
    -------
    pyproj.CRS

    Examples
    --------
    >>> as_crs("EPSG:32650", projected=True).to_epsg()
    32650
    """
    if isinstance(value, pyproj.CRS):
        crs = value
    else:
        try:
            crs = pyproj.CRS.from_user_input(value)
        except (pyproj.exceptions.CRSError, TypeError) as exc:
            raise CoverageInputError(
                f"{name}={value!r:.80}: not a coordinate reference system; give an EPSG code such as "
                "'EPSG:4326' (lon/lat) or 'EPSG:32650' (UTM 50N, metres)"
                + ("." if projected else ", or 'gcj02' / 'bd09' for Chinese map coordinates where those are accepted.")
            ) from exc
    if projected and not crs.is_projected:
        raise CoverageInputError(
            f"{name}={crs.to_string()}: a projected CRS in metres is needed here, e.g. the UTM zone "
            "(coverage.crs.utm_crs_for(lon, lat))."
        )
    return crs


@dataclass(frozen=True)
class Radii:
    """Radii in metres, sorted, with the walking minutes they came from (if any).

    Attributes
    ----------
    metres : numpy.ndarray
        Sorted radii in metres.
    minutes : numpy.ndarray or None
        The walking times they stand for, in the same order (None if given in metres).
    walk_speed_kmh : float
        Speed used to turn minutes into metres (and metres into minutes in tables).
    """

    metres: FloatArray
    minutes: FloatArray | None
    walk_speed_kmh: float

    @property
    def label_minutes(self) -> FloatArray:
        """Walking minutes of each radius at ``walk_speed_kmh``."""
        if self.minutes is not None:
            return self.minutes
        return self.metres / (self.walk_speed_kmh * 1000.0 / 60.0)


def as_radii(
    radius_m: float | Sequence[float] | None = None,
    minutes: float | Sequence[float] | None = None,
    *,
    walk_speed_kmh: float = DEFAULT_WALK_SPEED_KMH,
    unique: bool = True,
) -> Radii:
    """Validate radii given in metres or in walking minutes.

    Parameters
    ----------
    radius_m : float or sequence of float, optional
        Radii in metres.
    minutes : float or sequence of float, optional
        Walking times in minutes (give this or ``radius_m``, not both).
    walk_speed_kmh : float
        Walking speed turning minutes into metres.
    unique : bool, default True
        Reject repeated radii (a repeated ring is a typo).

    Returns
    -------
    Radii

    Examples
    --------
    >>> as_radii(500).metres
    array([500.])
    >>> as_radii(minutes=[5, 10], walk_speed_kmh=4.8).metres
    array([400., 800.])
    """
    speed = as_speed(walk_speed_kmh)
    if radius_m is not None and minutes is not None:
        raise CoverageInputError("give radius_m (metres) or minutes (walking time), not both.")
    if minutes is not None:
        raw = minutes
        values = np.atleast_1d(np.asarray(_list(minutes, "minutes"), dtype=np.float64))
        if values.size == 0 or not np.all(np.isfinite(values)) or np.any(values <= 0):
            raise CoverageInputError(f"minutes={raw!r}: give walking times > 0, e.g. minutes=[5, 10, 15].")
        metres = values * speed * 1000.0 / 60.0
        mins: FloatArray | None = values
    elif radius_m is not None:
        raw = radius_m
        metres = np.atleast_1d(np.asarray(_list(radius_m, "radius_m"), dtype=np.float64))
        mins = None
    else:
        raise CoverageInputError("give radius_m (metres) or minutes (walking time), e.g. radius_m=500.")
    if metres.size == 0 or not np.all(np.isfinite(metres)) or np.any(metres <= 0):
        raise CoverageInputError(f"radius {raw!r}: every radius must be a distance > 0 m, e.g. radius_m=500.")
    if np.any(metres > MAX_RADIUS_M):
        raise CoverageInputError(
            f"radius {float(metres.max()):g} m is more than {MAX_RADIUS_M:g} m: not a walking distance. "
            "Is it in metres (not feet or centimetres)?"
        )
    if unique and np.unique(metres).size != metres.size:
        raise CoverageInputError(f"radius {raw!r}: a radius is given twice; list each ring once.")
    order = np.argsort(metres, kind="stable")
    return Radii(metres=metres[order], minutes=None if mins is None else mins[order], walk_speed_kmh=speed)


def _list(value: Any, name: str) -> list[float]:
    items = list(value) if isinstance(value, (list, tuple, np.ndarray)) else [value]
    for item in items:
        if isinstance(item, bool) or not isinstance(item, numbers.Real):
            raise CoverageInputError(f"{name}={value!r:.80}: give numbers, e.g. {name}=500 or {name}=[300, 500].")
    return [float(v) for v in items]


def memory_limit_bytes() -> int:
    """Largest single allocation allowed: ``$COVERAGE_PLANNER_MAX_MEMORY_GB`` or 8 GiB."""
    env = os.environ.get(MEMORY_LIMIT_ENV)
    if env:
        try:
            gb = float(env)
        except ValueError as exc:
            raise CoverageInputError(f"${MEMORY_LIMIT_ENV}={env!r}: give a number of GiB, e.g. 8.") from exc
        if gb > 0:
            return int(gb * 1024**3)
    return DEFAULT_MEMORY_LIMIT_BYTES


def check_memory(n_bytes: float, *, what: str, setting: str) -> None:
    """Refuse an allocation larger than :func:`memory_limit_bytes`, naming the setting to change.

    Examples
    --------
    >>> check_memory(1e6, what="outline grid", setting="resolution_m")
    """
    limit = memory_limit_bytes()
    if n_bytes > limit:
        raise CoverageInputError(
            f"{what} would need about {n_bytes / 1024**3:,.1f} GiB, more than the {limit / 1024**3:,.1f} GiB "
            f"allowed; make {setting} coarser (or raise ${MEMORY_LIMIT_ENV} if the machine has the memory)."
        )
