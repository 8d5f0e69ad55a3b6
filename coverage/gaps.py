"""Gap areas: uncovered residents grouped into places a new hall could serve.

Uncovered units are clustered with scikit-learn's DBSCAN on projected
coordinates (aggregated first into cells a quarter of the clustering distance
wide), with the neighbourhood distance tied to the radius (0.7 of it by
default, so that neighbouring census hexagons of resolution 9, 300 m apart,
join: two uncovered units closer than that belong to the same gap) and the
population as sample weight, so that a neighbourhood is dense when it holds at
least ``min_core_population`` people. Uncovered units in no dense
neighbourhood are gathered in one ``scattered`` row per group, so every
uncovered resident is in exactly one gap row. A cluster larger than one
service circle (density clustering chains along continuous streets) is cut
into parts of about one circle each by a square grid.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from ._defaults import DEFAULT_WALK_SPEED_KMH
from ._errors import CoverageInputError
from ._types import FloatArray, ObjectArray
from ._validate import as_radii


def _split_large(
    members: npt.NDArray[np.int64],
    xs: npt.NDArray[np.float64],
    ys: npt.NDArray[np.float64],
    radius_m: float,
) -> list[npt.NDArray[np.int64]]:
    """Split a cluster larger than one service circle into parts one hall could serve.

    Density clustering chains along continuous streets, so a large uncovered
    district would be one gap; it is cut by a square grid whose cells have the
    area of the service circle (side ``sqrt(pi) * radius``), anchored at the
    cluster's lower-left corner (deterministic).
    """
    side = math.sqrt(math.pi) * radius_m
    x, y = xs[members], ys[members]
    if x.max() - x.min() <= side and y.max() - y.min() <= side:
        return [members]
    cx = np.floor((x - x.min()) / side).astype(np.int64)
    cy = np.floor((y - y.min()) / side).astype(np.int64)
    key = cx * (int(cy.max()) + 1) + cy
    return [members[key == k] for k in np.unique(key)]


GAP_COLUMNS = [
    "gap_id",
    "group",
    "population",
    "units",
    "centroid_x",
    "centroid_y",
    "area_km2",
    "nearest_hall_m",
    "mean_distance_m",
    "minor",
]


@dataclass(frozen=True, eq=False)
class Gaps:
    """Gap areas and which gap each demand unit belongs to.

    Attributes
    ----------
    gaps : geopandas.GeoDataFrame
        One row per gap (columns :data:`GAP_COLUMNS`), largest first.
    gap_of_unit : numpy.ndarray
        Per unit of the input table, its gap id (None unless uncovered).
    """

    gaps: gpd.GeoDataFrame
    gap_of_unit: ObjectArray

    def __len__(self) -> int:
        return len(self.gaps)

    def __repr__(self) -> str:
        pop = float(self.gaps["population"].sum()) if len(self.gaps) else 0.0
        return f"Gaps({len(self.gaps)} gap areas, {pop:,.0f} uncovered residents)"


def _weighted_mean(values: FloatArray, weights: FloatArray) -> float:
    """Population-weighted mean of the finite values (plain mean without people; inf if none is finite)."""
    finite = np.isfinite(values)
    if not finite.any():
        return math.inf
    v, w = values[finite], weights[finite]
    return float(np.average(v, weights=w)) if w.sum() > 0 else float(v.mean())


def find_gaps(
    units: gpd.GeoDataFrame,
    *,
    radius_m: float | Mapping[str, float] | None = None,
    minutes: float | None = None,
    walk_speed_kmh: float = DEFAULT_WALK_SPEED_KMH,
    eps_share: float = 0.7,
    min_core_population: float = 1.0,
    min_population: float = 0.0,
    outline_m: float = 50.0,
) -> Gaps:
    """Group uncovered demand units into gap areas.

    Parameters
    ----------
    units : GeoDataFrame
        The per-unit table of a coverage assessment (``status``,
        ``population``, ``group``, ``distance_m``, projected points).
    radius_m : float or mapping, optional
        The coverage threshold in metres (or one per group); the clustering
        distance is ``eps_share * radius_m``.
    minutes : float, optional
        The threshold as a walking time instead of ``radius_m`` (give one).
    walk_speed_kmh : float, default 4.5
        Walking speed turning ``minutes`` into metres.
    eps_share : float, default 0.7
        Clustering distance as a share of the radius.
    min_core_population : float, default 1
        People needed within the clustering distance for a dense neighbourhood.
    min_population : float, default 0
        Gaps with fewer people are flagged ``minor`` (still listed).
    outline_m : float, default 50
        The gap's outline is the convex hull of its units grown by this much
        (for the ``scattered`` row, a circle of this radius around each unit).

    Returns
    -------
    Gaps
        The gaps, largest first (``gap_id`` ``G01``, ``G02``, ...; prefixed by
        the group if it is not ``residents``), and the gap id of each unit
        (None for units that are not uncovered). ``nearest_hall_m`` is inf
        where no hall can be reached at all (a district with no halls yet).
    """
    from sklearn.cluster import DBSCAN

    if not isinstance(radius_m, Mapping):
        radius_m = float(as_radii(radius_m, minutes, walk_speed_kmh=walk_speed_kmh).metres[0])
    elif minutes is not None:
        raise CoverageInputError("give radius_m (metres, or one per group) or minutes, not both.")
    gap_of_unit = np.full(len(units), None, dtype=object)
    rows: list[dict[str, object]] = []
    geoms: list[shapely.Geometry] = []
    status = units["status"].astype(str).to_numpy()
    xs = units.geometry.x.to_numpy()
    ys = units.geometry.y.to_numpy()
    pop = units["population"].to_numpy(dtype=np.float64)
    dist = units["distance_m"].to_numpy(dtype=np.float64)
    for group in sorted(units["group"].astype(str).unique()):
        idx = np.flatnonzero((status == "uncovered") & (units["group"].astype(str).to_numpy() == group))
        if idx.size == 0:
            continue
        group_radius = float(radius_m[group] if isinstance(radius_m, Mapping) else radius_m)
        eps = eps_share * group_radius
        model = DBSCAN(eps=eps, min_samples=max(1, math.ceil(min_core_population)))
        if pop[idx].sum() > 0:
            # Cluster cells of eps/4 (population-weighted centres), not every unit:
            # the same clusters up to a quarter of eps, at a fraction of the cost.
            cell = np.floor(np.column_stack([xs[idx], ys[idx]]) / (eps / 4.0)).astype(np.int64)
            _, inverse = np.unique(cell, axis=0, return_inverse=True)
            inverse = inverse.ravel()
            w = np.bincount(inverse, weights=pop[idx])
            safe = np.where(w > 0, w, 1.0)
            cell_x = np.bincount(inverse, weights=xs[idx] * pop[idx]) / safe
            cell_y = np.bincount(inverse, weights=ys[idx] * pop[idx]) / safe
            empty = w <= 0
            cell_x[empty] = np.bincount(inverse, weights=xs[idx])[empty] / np.bincount(inverse)[empty]
            cell_y[empty] = np.bincount(inverse, weights=ys[idx])[empty] / np.bincount(inverse)[empty]
            if min_core_population <= 1.0:
                # Every cell with people counts as dense, a cell without as noise:
                # plain DBSCAN is much faster than the weighted one.
                cell_labels = np.full(w.size, -1, dtype=np.int64)
                has = np.flatnonzero(w > 0)
                cell_labels[has] = (
                    DBSCAN(eps=eps, min_samples=1).fit(np.column_stack([cell_x[has], cell_y[has]])).labels_
                )
            else:
                cell_labels = model.fit(np.column_stack([cell_x, cell_y]), sample_weight=w).labels_
            labels = cell_labels[inverse]
        else:  # nobody lives there: no dense neighbourhood at all
            labels = np.full(idx.size, -1)
        clusters = []
        for k in np.unique(labels[labels >= 0]):
            clusters.extend(_split_large(idx[labels == k], xs, ys, group_radius))
        clusters.sort(key=lambda m: (-pop[m].sum(), int(m.min())))
        noise = idx[labels < 0]
        prefix = "" if group == "residents" else f"{group}-"
        named = [(f"{prefix}G{k + 1:02d}", m) for k, m in enumerate(clusters)]
        if noise.size:
            named.append((f"{prefix}scattered", noise))
        for gap_id, members in named:
            gap_of_unit[members] = gap_id
            w = pop[members]
            total = float(w.sum())
            cx = float(np.average(xs[members], weights=w)) if total > 0 else float(xs[members].mean())
            cy = float(np.average(ys[members], weights=w)) if total > 0 else float(ys[members].mean())
            points = shapely.multipoints(np.column_stack([xs[members], ys[members]]))
            if gap_id.endswith("scattered"):
                # Isolated units far apart: their own small circles, not one hull across the city.
                outline = shapely.buffer(points, outline_m, quad_segs=4)
            else:
                outline = shapely.buffer(shapely.convex_hull(points), outline_m, quad_segs=4)
            geoms.append(outline)
            rows.append(
                {
                    "gap_id": gap_id,
                    "group": group,
                    "population": total,
                    "units": int(members.size),
                    "centroid_x": cx,
                    "centroid_y": cy,
                    "area_km2": float(shapely.area(outline)) / 1e6,
                    "nearest_hall_m": float(dist[members].min()),
                    "mean_distance_m": _weighted_mean(dist[members], w),
                    "minor": total < min_population,
                }
            )
    frame = pd.DataFrame(rows, columns=GAP_COLUMNS)
    gaps = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=units.crs), crs=units.crs)
    return Gaps(gaps=gaps, gap_of_unit=gap_of_unit)
