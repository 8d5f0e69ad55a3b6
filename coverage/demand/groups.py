"""Several groups of people in one demand frame: :func:`combine_demand` and :func:`demand_share`."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage._errors import CoverageInputError
from coverage._rows import few

from .schema import (
    _check_group,
    _check_schema,
    _check_totals,
    _crs_of,
    _str_series,
)

__all__ = ["combine_demand", "demand_share"]


def combine_demand(*frames: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Stack demand frames of different groups into one.

    Parameters
    ----------
    *frames
        Demand frames (the module's schema). Frames in another CRS than the first
        are reprojected to the first one's CRS.

    Returns
    -------
    geopandas.GeoDataFrame
        All units; ``attrs["estimate_note"]`` joins the frames' notes.

    Raises
    ------
    CoverageInputError
        For no frames, a frame outside the schema, or a (group, demand_id) pair
        that appears twice (rename a group, e.g. with :func:`demand_share`).

    Examples
    --------
    >>> import pandas as pd
    >>> from coverage.demand import read_demand
    >>> table = pd.DataFrame({"lon": [114.05], "lat": [22.54], "population": [100]})
    >>> both = combine_demand(read_demand(table), read_demand(table, group="workers"))
    >>> both.groupby("group")["population"].sum().to_dict()
    {'residents': 100.0, 'workers': 100.0}

    """
    if not frames:
        raise CoverageInputError("combine_demand needs at least one demand frame.")
    for i, frame in enumerate(frames):
        _check_schema(frame, f"frame {i}")
        _crs_of(frame, f"frame {i}")
    crs = frames[0].crs
    parts = [f if f.crs == crs else f.to_crs(crs) for f in frames]
    out = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=crs)
    keys = pd.MultiIndex.from_arrays([out["group"].astype(str), out["demand_id"].astype(str)])
    dup = keys.duplicated(keep="first")
    if dup.any():
        pairs = sorted({(str(g), str(d)) for g, d in keys[dup]})
        raise CoverageInputError(
            f"{len(pairs):,} (group, demand_id) pairs appear in more than one frame: "
            f"{few(pairs)}; give each frame its own group (group= of the reader)."
        )
    expected = {str(g): float(v) for f in frames for g, v in f.groupby("group")["population"].sum().items()}
    _check_totals(out, expected, what="combine_demand")
    notes = list(dict.fromkeys(f.attrs["estimate_note"] for f in frames if f.attrs.get("estimate_note")))
    # A share frame's note starts with its source's note: say each thing once.
    notes = [n for n in notes if not any(n != m and n in m for m in notes)]
    out.attrs = {"estimate_note": " ".join(notes)} if notes else {}
    return out


def demand_share(
    gdf: gpd.GeoDataFrame,
    share: float,
    *,
    group: str,
    from_group: str | None = None,
) -> gpd.GeoDataFrame:
    """Scale a demand frame by a demographic share, as a new group (an estimate).

    Parameters
    ----------
    gdf
        Demand units (the module's schema).
    share
        Fraction in (0, 1], e.g. 0.12 for residents aged 65 and over.
    group
        Name of the new group, e.g. ``"elderly"``.
    from_group
        Group of ``gdf`` to scale; required when ``gdf`` holds several.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy with ``population`` x ``share``, ``group`` set, ``estimate=True``
        and ``attrs["estimate_note"]`` saying the share is a flat assumption.

    Raises
    ------
    CoverageInputError
        For a share outside (0, 1], a frame outside the schema, or several groups
        without ``from_group``.

    Examples
    --------
    >>> import pandas as pd
    >>> from coverage.demand import read_demand
    >>> table = pd.DataFrame({"lon": [114.05], "lat": [22.54], "population": [100]})
    >>> elderly = demand_share(read_demand(table), 0.12, group="elderly")
    >>> elderly[["group", "population", "estimate"]].values.tolist()
    [['elderly', 12.0, True]]

    """
    _check_schema(gdf, "gdf")
    _check_group(group)
    if not (isinstance(share, int | float) and math.isfinite(share) and 0 < share <= 1):
        raise CoverageInputError(f"share must be a fraction in (0, 1], got {share!r}.")
    groups = list(dict.fromkeys(gdf["group"].astype(str)))
    if from_group is None:
        if len(groups) > 1:
            raise CoverageInputError(f"the frame holds several groups {groups}; pass from_group= to pick one.")
        source = gdf
        from_group = groups[0]
    else:
        if from_group not in groups:
            raise CoverageInputError(f"from_group {from_group!r} is not in the frame; its groups are {groups}.")
        source = gdf.loc[gdf["group"].astype(str) == from_group]
    out = source.copy().reset_index(drop=True)
    out["population"] = out["population"].to_numpy(dtype=np.float64) * float(share)
    out["group"] = _str_series(np.full(len(out), group, dtype=object))
    out["estimate"] = True
    expected = float(source["population"].sum()) * float(share)
    _check_totals(out, {group: expected}, what="demand_share")
    note = f"{group}: a flat {share:.0%} share of {from_group} in every unit (assumed, not counted)."
    previous = source.attrs.get("estimate_note")
    out.attrs = {"estimate_note": f"{previous} {note}" if previous else note}
    return out
