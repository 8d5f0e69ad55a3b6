"""Array type aliases shared by the numerical core and the frame layer."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
"""A float64 array (distances in metres, populations, weights)."""

IntArray = npt.NDArray[np.int64]
"""An int64 array (node, edge, unit or site indices)."""

BoolArray = npt.NDArray[np.bool_]
"""A boolean mask."""

ObjectArray = npt.NDArray[np.object_]
"""An object array (shapely geometries, ids as Python strings)."""

__all__ = ["BoolArray", "FloatArray", "IntArray", "ObjectArray"]
