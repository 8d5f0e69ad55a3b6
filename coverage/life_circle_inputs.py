"""Inputs of the life-circle check from the assessments: one residents frame, area names joined.

:func:`residents_from_services` adapts the multi-service assessment
(:func:`coverage.services.assess_services`); :func:`residents_from_assessments`
adapts one :func:`coverage.assess.assess_coverage` run per facility type.
Both return the plain frame :func:`coverage.life_circle.check_life_circle` takes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ._errors import CoverageInputError

if TYPE_CHECKING:
    import geopandas as gpd

    from .assess import CoverageResult
    from .services import ServicesResult

__all__ = ["residents_from_assessments", "residents_from_services"]


def residents_from_assessments(
    assessments: Mapping[str, CoverageResult],
    *,
    communities: gpd.GeoDataFrame | None = None,
    community_name_col: str | None = None,
    subdistricts: gpd.GeoDataFrame | None = None,
    subdistrict_name_col: str | None = None,
) -> pd.DataFrame:
    """Build the residents frame of :func:`check_life_circle` from one assessment per facility type.

    Parameters
    ----------
    assessments : mapping
        Facility key of the standard -> :class:`coverage.assess.CoverageResult`
        of the sites of that type, all run on the same demand units.
    communities, subdistricts : GeoDataFrame, optional
        Area polygons; each unit gets the name of the polygon it lies in
        (the first one on a shared border; missing outside every polygon).
    community_name_col, subdistrict_name_col : str, optional
        Column naming each polygon (default: the first text column).

    Returns
    -------
    pandas.DataFrame
        ``demand_id``, ``group``, ``population``, ``community`` and
        ``subdistrict`` (when polygons are given), and one distance column per
        facility key (metres, inf where unreachable) and ``<key>_covered``
        (True where the assessment counted the unit covered, at its own
        threshold and the group's walking speed).
    """
    if not assessments:
        raise CoverageInputError("give at least one assessment: {facility key: CoverageResult}.")
    keys = list(assessments)
    first = assessments[keys[0]].units
    out = pd.DataFrame(
        {
            "demand_id": first["demand_id"].astype(str).to_numpy(),
            "group": first["group"].astype(str).to_numpy(),
            "population": first["population"].to_numpy(dtype=np.float64),
        }
    )
    for key in keys:
        units = assessments[key].units
        same = len(units) == len(first) and (units["demand_id"].astype(str).to_numpy() == out["demand_id"]).all()
        if not same or not (units["group"].astype(str).to_numpy() == out["group"]).all():
            raise CoverageInputError(
                f"assessment {key!r} was run on other demand units than {keys[0]!r}; "
                "run every facility type on the same demand frame."
            )
        out[key] = units["distance_m"].to_numpy(dtype=np.float64)
        out[f"{key}_covered"] = (units["status"].astype(str) == "covered").to_numpy()
    for level, polys, col in (
        ("community", communities, community_name_col),
        ("subdistrict", subdistricts, subdistrict_name_col),
    ):
        if polys is not None:
            out[level] = _area_names(first, polys, col, level)
    return out


def residents_from_services(
    result: ServicesResult,
    *,
    communities: gpd.GeoDataFrame | None = None,
    community_name_col: str | None = None,
    subdistricts: gpd.GeoDataFrame | None = None,
    subdistrict_name_col: str | None = None,
) -> pd.DataFrame:
    """Build the residents frame of :func:`check_life_circle` from a multi-service assessment.

    Name each service with the facility key of the standard (e.g. ``kindergarten``).

    Parameters
    ----------
    result : ServicesResult
        The result of :func:`coverage.services.assess_services`.
    communities, subdistricts : GeoDataFrame, optional
        Area polygons (as in :func:`residents_from_assessments`); without them,
        ``community`` / ``subdistrict`` columns already on ``result.units`` are kept.
    community_name_col, subdistrict_name_col : str, optional
        Column naming each polygon (default: the first text column).

    Returns
    -------
    pandas.DataFrame
        ``demand_id``, ``group``, ``population``, area columns, per service
        key the walking distance in metres (judge it at the standard's
        radius: ``distances={key: key}``) and ``<key>_covered`` (covered at the
        service's own threshold and each group's walking speed: pass
        ``distances={key: f"{key}_covered"}`` to use it).
    """
    units = result.units
    out = pd.DataFrame(
        {
            "demand_id": units["demand_id"].astype(str).to_numpy(),
            "group": units["group"].astype(str).to_numpy(),
            "population": units["population"].to_numpy(dtype=np.float64),
        }
    )
    for svc in result.services:
        out[svc.key] = units[f"{svc.key}_m"].to_numpy(dtype=np.float64)
        out[f"{svc.key}_covered"] = (units[f"{svc.key}_status"].astype(str) == "covered").to_numpy()
    for level, polys, col in (
        ("community", communities, community_name_col),
        ("subdistrict", subdistricts, subdistrict_name_col),
    ):
        if polys is not None:
            out[level] = _area_names(units, polys, col, level)
        elif level in units.columns:
            out[level] = units[level].to_numpy()
    return out


def _area_names(units: gpd.GeoDataFrame, polys: gpd.GeoDataFrame, name_col: str | None, level: str) -> np.ndarray:
    import geopandas as gpd

    from .tables import guess_name_column

    if polys.crs is None:
        raise CoverageInputError(f"{level} polygons have no CRS; set it with .set_crs('EPSG:4326').")
    polys = polys.to_crs(units.crs).reset_index(drop=True)
    col = name_col or guess_name_column(polys)
    if col is None or col not in polys.columns:
        raise CoverageInputError(f"{level} polygons: name the column holding their names ({level}_name_col=...).")
    points = gpd.GeoDataFrame(geometry=units.geometry.reset_index(drop=True), crs=units.crs)
    joined = gpd.sjoin(points, polys[[col, polys.geometry.name]], how="left", predicate="within")
    joined = joined[~joined.index.duplicated(keep="first")]
    return np.array([None if pd.isna(v) else str(v) for v in joined[col]], dtype=object)
