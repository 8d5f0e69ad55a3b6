"""Reading what a scenario names: the network, halls, residents, areas and services.

Each function takes a validated :class:`coverage.scenario.Scenario` and
returns what the pipeline's steps work on; filters (``column = value``) and
clipping are applied here, so the steps themselves stay free of the TOML schema.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import demand as dm
from ._errors import CoverageInputError
from ._life_parts import capacity_values
from .network import WalkNetwork, load_network, network_from_place, network_from_polygon
from .scenario import Scenario
from .services import Service
from .sites import read_sites

__all__ = [
    "filtered_rows",
    "load_scenario_demand",
    "load_scenario_halls",
    "load_scenario_network",
    "load_scenario_polygons",
    "load_scenario_services",
]


def load_scenario_network(sc: Scenario) -> WalkNetwork:
    """Load the scenario's network (file, or online download)."""
    net_cfg = sc["network"]
    if net_cfg["source"] is not None:
        return load_network(net_cfg["source"], largest_only=net_cfg["largest_only"])
    if net_cfg["place"]:
        return network_from_place(net_cfg["place"], largest_only=net_cfg["largest_only"])
    polys = filtered_rows(gpd.read_file(net_cfg["polygon_file"]), net_cfg["polygon_filter"], "network")
    return network_from_polygon(polys.to_crs("EPSG:4326").union_all(), largest_only=net_cfg["largest_only"])


def filtered_rows(frame: pd.DataFrame, rule: dict[str, Any] | None, section: str) -> Any:
    """Return the rows of ``frame`` that a scenario ``filter`` table keeps.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table read from the file (a GeoDataFrame stays one).
    rule : dict or None
        Column = value (or a list of values, or a comparison such as ``">0"``);
        all must hold. Empty or None keeps every row.
    section : str
        The scenario section, named in the error messages.

    Returns
    -------
    pandas.DataFrame
        The kept rows, with their original index.

    Raises
    ------
    CoverageInputError
        For a column the file lacks, a comparison with a non-number, or a
        filter that keeps no row.
    """
    if not rule:
        return frame
    mask = np.ones(len(frame), dtype=bool)
    for col, wanted in rule.items():
        if col not in frame.columns:
            raise CoverageInputError(f"[{section}] filter: no column {col!r}; columns are {list(frame.columns)}.")
        mask &= _matches(frame[col], wanted, f"[{section}] filter {col}")
    if not mask.any():
        raise CoverageInputError(f"[{section}] filter {rule} keeps no row; check the values.")
    return frame[mask]


_OPS = {">=": np.greater_equal, "<=": np.less_equal, "!=": np.not_equal, ">": np.greater, "<": np.less}


def _matches(column: pd.Series, wanted: Any, where: str) -> Any:
    """Rows equal to a value (or one of a list), or compared with ">0", "<=5", "!=x"."""
    if isinstance(wanted, str):
        for op, func in _OPS.items():
            if wanted.startswith(op):
                rhs = wanted[len(op) :].strip()
                try:
                    value = float(rhs)
                except ValueError as exc:
                    raise CoverageInputError(f"{where} = {wanted!r}: compare with a number, e.g. '>0'.") from exc
                numbers = pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64)
                return func(numbers, value) & np.isfinite(numbers)
    values = wanted if isinstance(wanted, list) else [wanted]
    return column.astype(str).isin([str(v) for v in values]).to_numpy()


def load_scenario_halls(sc: Scenario, net: WalkNetwork) -> tuple[gpd.GeoDataFrame, str]:
    """Read, filter and (optionally) clip the halls to the network area."""
    cfg = sc["halls"]
    if cfg["file"] is None:
        empty = gpd.GeoDataFrame(
            {"site_id": pd.Series([], dtype=str), "name": pd.Series([], dtype=str)},
            geometry=gpd.GeoSeries([], crs="EPSG:4326"),
        )
        return empty, "no existing halls: the question is where halls should go."
    sites = _read_site_file(cfg, "halls")
    note = f"{len(sites)} {cfg['label']}"
    if cfg["clip_to_network"]:
        hull = shapely.convex_hull(shapely.multilinestrings(list(net.edge_geometry)))
        reach = shapely.buffer(hull, float(sc[""]["max_snap_m"]))
        inside = sites.to_crs(net.crs).within(reach).to_numpy()
        note = (
            f"{int(inside.sum())} of {len(sites)} {cfg['label']} lie in the network's area "
            f"(within {sc['']['max_snap_m']:g} m of its outline); the other {int((~inside).sum())} are "
            "outside the study area and left out."
        )
        sites = sites[inside].reset_index(drop=True)
    return sites, note


def load_scenario_demand(sc: Scenario, net: WalkNetwork) -> gpd.GeoDataFrame:
    """Build the demand units the scenario asks for."""
    cfg = sc["demand"]
    kind = cfg["kind"]
    if kind == "estimate":
        density = float(cfg["population"]) / float(cfg["area_km2"])
        area = None
        if cfg["area_file"] is not None:
            polys = filtered_rows(gpd.read_file(cfg["area_file"]), cfg["area_filter"], "demand").to_crs(net.crs)
            hull = shapely.convex_hull(shapely.multilinestrings(list(net.edge_geometry)))
            area = shapely.intersection(polys.union_all(), hull)
        units = dm.demand_from_streets(net, density_per_km2=density, area=area, spacing_m=cfg["spacing_m"])
        if cfg["source_note"]:
            units.attrs["estimate_note"] = (
                f"{units.attrs.get('estimate_note', '')} Source: {cfg['source_note']}".strip()
            )
    elif kind == "hexagons":
        polys = dm.read_h3_hexagons(
            cfg["file"],
            id_col=cfg["id_col"] or "id",
            population_col=cfg["population_col"] or "population",
            lon_col=cfg["lon_col"],
            lat_col=cfg["lat_col"],
            encoding=cfg["encoding"],
        )
        units = _from_polygons(polys, cfg, net, population_col=cfg["population_col"] or "population")
    elif kind in ("grid", "polygons"):
        # read_population_grid names the population column 'population' (its source in attrs).
        polys = dm.read_population_grid(
            cfg["file"],
            population_col=cfg["population_col"],
            layer=cfg["layer"],
            crs=cfg["crs"],
            encoding=cfg["encoding"],
        )
        units = _from_polygons(polys, cfg, net, population_col="population")
    elif kind == "buildings":
        units = dm.demand_from_buildings(cfg["file"], float(cfg["population"]))
    else:  # points
        units = dm.read_demand(
            cfg["file"],
            population_col=cfg["population_col"] or "population",
            id_col=cfg["id_col"],
            lon_col=cfg["lon_col"],
            lat_col=cfg["lat_col"],
            crs=cfg["crs"],
            layer=cfg["layer"],
            encoding=cfg["encoding"],
        )
    if cfg["elderly_share"]:
        elderly = dm.demand_share(units, float(cfg["elderly_share"]), group="elderly")
        attrs = dict(units.attrs)
        units = dm.combine_demand(units, elderly)
        units.attrs.update(attrs)
    return units


def _from_polygons(
    polys: gpd.GeoDataFrame, cfg: dict[str, Any], net: WalkNetwork, *, population_col: str
) -> gpd.GeoDataFrame:
    id_col = cfg["id_col"] or ("id" if "id" in polys.columns else None)
    return dm.demand_from_polygons(
        polys,
        population_col=population_col,
        id_col=id_col,
        method=cfg["method"],
        edges=net if cfg["method"] == "streets" else None,
        spacing_m=cfg["spacing_m"],
    )


def load_scenario_polygons(sc: Scenario, section: str) -> tuple[gpd.GeoDataFrame | None, str | None]:
    """Return the polygons of ``[areas]`` or ``[communities]`` and their name column (None if not given)."""
    cfg = sc[section]
    if cfg["file"] is None:
        return None, None
    polys = gpd.read_file(cfg["file"])
    if polys.crs is None:
        raise CoverageInputError(f"[{section}] file {cfg['file']}: no CRS; save it with one (EPSG:4326 for lon/lat).")
    return polys, cfg["name_col"]


def load_scenario_services(sc: Scenario) -> list[Service]:
    """Read each ``[[services]]`` entry's sites into a :class:`coverage.services.Service`."""
    out = []
    for i, cfg in enumerate(sc.services, start=1):
        sites = _read_site_file(cfg, f"[services]] #{i}")
        out.append(Service(cfg["key"], sites, name=cfg["name"], radius_m=cfg["radius_m"], minutes=cfg["minutes"]))
    return out


def _read_site_file(cfg: dict[str, Any], section: str) -> gpd.GeoDataFrame:
    """Read a sites file with the reading keys of ``[halls]`` or a ``[[services]]`` entry, then filter it."""
    sites = read_sites(
        cfg["file"],
        id_col=cfg["id_col"],
        name_col=cfg["name_col"],
        lon_col=cfg["lon_col"],
        lat_col=cfg["lat_col"],
        crs=cfg["crs"],
        layer=cfg["layer"],
        encoding=cfg["encoding"],
    )
    sites = filtered_rows(sites, cfg["filter"], section).reset_index(drop=True)
    if cfg.get("capacity_col") is not None:  # checked now, not after the heavy steps
        capacity_values(sites, cfg["capacity_col"], f"[{section}] {Path(cfg['file']).name}")
    return sites
