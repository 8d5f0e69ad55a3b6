"""Coverage tables: the headline summary, per hall, and per area.

Small functions from the per-unit table of an assessment to the tables
officials read. Every total is a sum of the same per-unit populations, so the
tables agree with each other exactly.
"""

from __future__ import annotations

import difflib

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.spatial import cKDTree

from ._errors import CoverageInputError
from ._types import BoolArray, FloatArray, IntArray

STATUSES = ("covered", "uncovered", "unreachable")
"""Every demand unit has exactly one of these statuses."""

HEADLINE_COLUMNS = [
    "group",
    "total",
    "covered",
    "covered_share",
    "circle_covered",
    "circle_share",
    "circle_overstatement_pp",
    "uncovered",
    "unreachable",
]
"""The summary columns shown as headline figures (notebook table, report)."""


def summary_table(units: pd.DataFrame) -> pd.DataFrame:
    """Headline numbers per group: totals by status, shares, the straight-line circle's claim.

    Parameters
    ----------
    units : DataFrame
        The per-unit table (``group``, ``population``, ``status``,
        ``circle_covered``, ``estimate``).

    Returns
    -------
    pandas.DataFrame
        One row per group, sorted by group.
    """
    rows = []
    for group, frame in units.groupby("group", sort=True, observed=True):
        pop = frame["population"]
        by = frame.groupby("status", observed=False)["population"].sum()
        n_by = frame["status"].value_counts()
        total = float(pop.sum())
        circle = float(pop[frame["circle_covered"].to_numpy(dtype=bool)].sum())
        covered = float(by.get("covered", 0.0))
        rows.append(
            {
                "group": group,
                "units": len(frame),
                "total": total,
                "covered": covered,
                "uncovered": float(by.get("uncovered", 0.0)),
                "unreachable": float(by.get("unreachable", 0.0)),
                "units_covered": int(n_by.get("covered", 0)),
                "units_uncovered": int(n_by.get("uncovered", 0)),
                "units_unreachable": int(n_by.get("unreachable", 0)),
                "covered_share": covered / total if total else 0.0,
                "circle_covered": circle,
                "circle_share": circle / total if total else 0.0,
                "circle_overstatement_pp": 100.0 * (circle - covered) / total if total else 0.0,
                "estimate": bool(frame["estimate"].any()),
            }
        )
    return pd.DataFrame(rows)


def circle_covered(hx: FloatArray, hy: FloatArray, ux: FloatArray, uy: FloatArray, radius: FloatArray) -> BoolArray:
    """Within the straight-line circle of any hall (snapped or not), as drawn on paper."""
    if hx.size == 0 or ux.size == 0:
        return np.zeros(ux.size, dtype=bool)
    d_line, _ = cKDTree(np.column_stack([hx, hy])).query(np.column_stack([ux, uy]), k=1)
    return np.asarray(d_line <= radius, dtype=bool)


def halls_table(
    sites: pd.DataFrame,
    units: pd.DataFrame,
    nearest: IntArray,
    pair_site: IntArray,
    pair_unit: IntArray,
) -> pd.DataFrame:
    """Per hall and group: residents served (nearest hall, counted once) and within reach.

    Parameters
    ----------
    sites : DataFrame
        The snapped halls (``site_id``, ``name``, ``snapped``, ``access_m``).
    units : DataFrame
        The per-unit table (``population``, ``group``, ``status``).
    nearest : numpy.ndarray
        Per unit, the index of its nearest hall (-1 if none).
    pair_site, pair_unit : numpy.ndarray
        Every (hall, unit) pair within the unit's threshold.

    Returns
    -------
    pandas.DataFrame
        ``population_served`` and ``population_within`` per hall, with a
        ``_<group>`` suffix for groups other than ``residents``.
    """
    table = pd.DataFrame(
        {
            "site_id": sites["site_id"].astype(str).to_numpy(),
            "name": sites["name"].astype(str).to_numpy(),
            "snapped": sites["snapped"].to_numpy(),
            "access_m": sites["access_m"].to_numpy(),
        }
    )
    pop = units["population"].to_numpy(dtype=np.float64)
    groups = units["group"].astype(str).to_numpy()
    covered = units["status"].astype(str).to_numpy() == "covered"
    for group in sorted(set(groups)):
        in_group = groups == group
        sel = covered & in_group & (nearest >= 0)
        served = np.bincount(nearest[sel], weights=pop[sel], minlength=len(sites))
        sel_pairs = in_group[pair_unit]
        within = np.bincount(pair_site[sel_pairs], weights=pop[pair_unit[sel_pairs]], minlength=len(sites))
        suffix = "" if group == "residents" else f"_{group}"
        table[f"population_served{suffix}"] = served
        table[f"population_within{suffix}"] = within
    return table


def guess_name_column(frame: pd.DataFrame) -> str | None:
    """Return the first text column of a frame (object or pandas 3 ``str`` dtype), if any.

    Examples
    --------
    >>> guess_name_column(pd.DataFrame({"n": [1], "qh": ["福田"]}))
    'qh'
    """
    geometry = getattr(frame, "_geometry_column_name", None)
    for col in frame.columns:
        if col == geometry:
            continue
        dtype = frame[col].dtype
        if pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
            return str(col)
    return None


OUTSIDE = "(outside the areas)"
"""Area name of units that lie in no area polygon."""


def area_names(
    units: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, name_col: str | None, *, what: str = "areas"
) -> npt.NDArray[np.object_]:
    """Name of the area polygon each unit lies in (the first, lowest index, on a shared border).

    Units in no area get ``"(outside the areas)"``. ``name_col`` defaults to
    the first text column of ``areas``, else ``area-0``, ``area-1`` ...
    """
    if areas.crs is None:
        raise CoverageInputError(f"{what} have no CRS; set it with .set_crs('EPSG:4326').")
    polys = areas.to_crs(units.crs).reset_index(drop=True)
    if name_col is None:
        name_col = guess_name_column(polys)
    elif name_col not in polys.columns:
        close = difflib.get_close_matches(name_col, [str(c) for c in polys.columns], n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; columns are {list(polys.columns)[:20]}."
        raise CoverageInputError(f"{what} have no column {name_col!r}{hint}")
    names = (
        polys[name_col].astype(str).to_numpy(dtype=object)
        if name_col
        else np.array([f"area-{i}" for i in range(len(polys))], dtype=object)
    )
    joined = gpd.sjoin(units[[units.geometry.name]], polys[[polys.geometry.name]], how="left", predicate="within")
    joined = joined[~joined.index.duplicated(keep="first")].reindex(units.index)
    idx = joined["index_right"].to_numpy(dtype=np.float64)
    out = np.full(len(units), OUTSIDE, dtype=object)
    has = np.isfinite(idx)
    out[has] = names[idx[has].astype(np.int64)]
    return out


def areas_table(units: pd.DataFrame, area_col: str) -> pd.DataFrame:
    """Tabulate population by status and the circle's claim per area and group.

    Parameters
    ----------
    units : DataFrame
        The per-unit table with the area name of each unit in ``area_col``.
    area_col : str
        Column naming each unit's area (see :func:`area_names`).

    Returns
    -------
    pandas.DataFrame
        ``area``, ``group``, population per status, ``total``,
        ``circle_covered``, ``covered_share``, ``circle_share``.
    """
    frame = pd.DataFrame(
        {
            "area": units[area_col].astype(str).to_numpy(),
            "group": units["group"].to_numpy(),
            "status": units["status"].astype(str).to_numpy(),
            "population": units["population"].to_numpy(),
            "circle": units["population"].to_numpy() * units["circle_covered"].to_numpy(),
        }
    )
    table = frame.pivot_table(
        index=["area", "group"], columns="status", values="population", aggfunc="sum", fill_value=0.0, observed=False
    )
    for s in STATUSES:
        if s not in table.columns:
            table[s] = 0.0
    table = table[list(STATUSES)]
    table["total"] = table.sum(axis=1)
    table["circle_covered"] = frame.groupby(["area", "group"])["circle"].sum()
    table["covered_share"] = table["covered"] / table["total"].where(table["total"] > 0)
    table["circle_share"] = table["circle_covered"] / table["total"].where(table["total"] > 0)
    table.columns.name = None
    return table.reset_index()
