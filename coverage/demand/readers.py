"""Readers of demand files: points (:func:`read_demand`), H3 hexagons and population grids.

Files are read with :func:`coverage._tabular.read_table` (regular files only,
bounded size, encodings and delimiters detected) and placed with
:mod:`coverage._coords` (``crs`` including ``"gcj02"``/``"bd09"``, coordinate
columns guessed or named exactly), so residents and halls are read the same way.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from coverage._coords import LAT_NAMES, LON_NAMES, geometry_in_crs, points_from_columns
from coverage._defaults import DEFAULT_DEMAND_SPACING_M
from coverage._errors import CoverageInputError, warn
from coverage._rows import RowRef, few, resolve_column
from coverage._tabular import read_table
from coverage.network import WalkNetwork

from .polygons import _polygons_to_units
from .schema import (
    _check_group,
    _check_spacing,
    _check_totals,
    _units,
    _validate,
)

__all__ = ["read_demand", "read_h3_hexagons", "read_population_grid"]

_POPULATION_NAME_HINTS = (
    "population",
    "pop",
    "inhab",
    "resident",
    "asukk",
    "vaesto",
    "väestö",
    "einw",
    "bevolk",
    "habit",
)


def _frame_of(
    source: str | os.PathLike[str] | pd.DataFrame,
    *,
    id_col: str | None,
    lon_col: str | None,
    lat_col: str | None,
    crs: Any,
    layer: str | int | None,
    encoding: str | None,
) -> tuple[gpd.GeoDataFrame, RowRef]:
    """Read a demand source into a geometry frame with a settled CRS, and its row naming."""
    if isinstance(source, gpd.GeoDataFrame):
        label = "the demand GeoDataFrame"
    elif isinstance(source, pd.DataFrame):
        label = "the demand DataFrame"
    elif isinstance(source, str | os.PathLike):
        label = str(source)
    else:
        raise CoverageInputError(f"source must be a file path, DataFrame or GeoDataFrame, got {type(source).__name__}.")
    table = read_table(source, label=label, layer=layer, encoding=encoding, text_columns=[id_col])
    frame = table.frame
    if isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame.columns:
        for key, value in (("lon_col", lon_col), ("lat_col", lat_col)):
            if value is not None:
                raise CoverageInputError(
                    f"{label}: {key}={value!r} applies to tables with coordinate columns; this source has "
                    f"geometry, which is used. Remove {key}."
                )
        gdf = geometry_in_crs(frame, rows=table.rows, crs=crs, crs_implied=table.crs_implied)
    else:
        gdf = points_from_columns(frame, rows=table.rows, lon_col=lon_col, lat_col=lat_col, crs=crs)
    return gdf, table.rows


def read_demand(
    source: str | os.PathLike[str] | pd.DataFrame | gpd.GeoDataFrame,
    *,
    population_col: str = "population",
    id_col: str | None = None,
    lon_col: str | None = None,
    lat_col: str | None = None,
    crs: Any = None,
    group: str = "residents",
    layer: str | int | None = None,
    encoding: str | None = None,
    edges: gpd.GeoDataFrame | WalkNetwork | None = None,
    spacing_m: float = DEFAULT_DEMAND_SPACING_M,
) -> gpd.GeoDataFrame:
    """Read demand points (or polygons) from a file or frame.

    Parameters
    ----------
    source
        A CSV file (points from ``lon_col``/``lat_col``; ``,`` ``;`` or tab
        delimited; UTF-8, GBK or Latin-1), a GeoJSON, GeoPackage, FlatGeobuf
        or Shapefile, a JSON list of records, a GeoDataFrame, or a DataFrame
        with lon/lat columns. Files are read with
        :func:`coverage._tabular.read_table` (regular files only, bounded size).
    population_col
        Column with the number of people per row (exact name; a misspelt one
        is an error with a "did you mean").
    id_col
        Column with unique row ids; ``None`` numbers the rows ``"0", "1", ...``.
    lon_col, lat_col
        Coordinate columns of a table; guessed (``lon``/``lng``/``longitude``,
        ``lat``/``latitude``, ...) when not given.
    crs
        CRS of the coordinates: default WGS-84 for a table and the file's own
        for a geometry file; ``"gcj02"`` and ``"bd09"`` (Chinese map
        coordinates) are converted to WGS-84 as in :func:`coverage.sites.read_sites`;
        a GeoJSON in metres needs its CRS here.
    group
        Group of the units.
    layer
        Layer of a multi-layer file (required when there are several).
    encoding
        Force the text encoding of a CSV/JSON file (detected otherwise).
    edges, spacing_m
        Street edges: polygons in the source are spread over them
        (``method="streets"`` of :func:`demand_from_polygons`); without edges
        polygons become one unit each (``method="centroid"``).

    Returns
    -------
    geopandas.GeoDataFrame
        Demand units (see the module docstring), in the source's CRS (WGS-84
        for lon/lat and converted GCJ-02/BD-09 tables; the edges' CRS for
        spread polygons). ``estimate`` comes from an ``estimate`` column of
        the source when there is one, else False.

    Raises
    ------
    CoverageInputError
        For a missing or unreadable file, several layers without ``layer=``,
        missing or misspelt columns, missing, non-numeric or out-of-range
        coordinates (naming the rows: spreadsheet row numbers for a CSV, the
        header being row 1), or any problem :func:`validate_demand` finds.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"lon": [114.05, 114.06], "lat": [22.54, 22.55],
    ...                       "population": [120, 80]})
    >>> units = read_demand(table)
    >>> units[["demand_id", "population"]].values.tolist()
    [['0', 120.0], ['1', 80.0]]

    """
    _check_group(group)
    frame, rows = _frame_of(
        source, id_col=id_col, lon_col=lon_col, lat_col=lat_col, crs=crs, layer=layer, encoding=encoding
    )
    name = rows.label
    clean, ids, population = _validate(
        frame, population_col=population_col, id_col=id_col, group_col=None, source_name=name, rows=rows
    )
    geoms = np.asarray(clean.geometry.array, dtype=object)
    is_point = shapely.get_type_id(geoms) == 0
    estimate = (
        clean["estimate"].fillna(False).astype(bool).to_numpy()
        if "estimate" in clean.columns
        else np.zeros(len(clean), dtype=bool)
    )
    parts = []
    if is_point.any():
        parts.append(
            _units(
                demand_id=ids[is_point],
                group=group,
                population=population[is_point],
                estimate=estimate[is_point],
                source_id=ids[is_point],
                geometry=geoms[is_point],
                crs=clean.crs,
            )
        )
    if not is_point.all():
        spacing_m = _check_spacing(spacing_m)
        method: Literal["streets", "centroid"] = "streets" if edges is not None else "centroid"
        units = _polygons_to_units(
            clean.loc[~is_point],
            ids[~is_point],
            population[~is_point],
            method=method,
            edges=edges,
            spacing_m=spacing_m,
            group=group,
        )
        if parts:
            units = units.to_crs(parts[0].crs)
        parts.append(units)
    if len(parts) == 1:
        out = parts[0]
    else:
        attrs = parts[1].attrs
        out = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=parts[0].crs)
        out.attrs = dict(attrs)
    _check_totals(out, {group: float(population.sum())}, what=f"read_demand({name})")
    return out


def read_h3_hexagons(
    csv_path: str | os.PathLike[str],
    *,
    id_col: str = "id",
    population_col: str = "population",
    lon_col: str | None = None,
    lat_col: str | None = None,
    encoding: str | None = None,
) -> gpd.GeoDataFrame:
    r"""Read a CSV of H3 cells with a population into hexagon polygons.

    Parameters
    ----------
    csv_path
        CSV with an H3 cell id column and a population column (other columns
        are kept). Read with :func:`coverage._tabular.read_table`.
    id_col
        Column with H3 cell ids (hex strings such as ``"89a901291abffff"``).
    population_col
        Column with the number of people per cell.
    lon_col, lat_col
        Columns with a point per cell, used when the ids are not valid H3 and
        to check the cells; guessed (``lon``/``lat``, ...) when not given. A
        name given must exist.
    encoding
        Force the text encoding (detected otherwise).

    Returns
    -------
    geopandas.GeoDataFrame
        One polygon per cell (EPSG:4326) built with ``h3.cell_to_boundary``, all
        columns of the CSV kept, ``id_col`` as str. Feed it to
        :func:`demand_from_polygons` with ``id_col=id_col``.

    Raises
    ------
    CoverageInputError
        For a missing file or column, bad populations or duplicate ids.

    Warns
    -----
    CoverageWarning
        When some ids are not valid H3 cells: then every row becomes the point
        at its lon/lat instead of a hexagon (the warning names the bad ids);
        also when a cell's lon/lat point lies outside its own hexagon.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "cells.csv"
    >>> _ = path.write_text("id,lon,lat,population\n89a901291abffff,-51.1582,-30.0538,10\n")
    >>> read_h3_hexagons(path).geom_type.tolist()
    ['Polygon']

    """
    import h3

    path = Path(csv_path)
    table = read_table(path, encoding=encoding, text_columns=[id_col])
    name = table.label
    id_col = str(resolve_column(list(table.frame.columns), id_col, key="id_col", label=name, what="H3 id"))
    frame = table.frame
    cells = frame[id_col].fillna("").astype(str).str.strip().to_numpy(dtype=object)
    valid = np.array([bool(c) and h3.is_valid_cell(c) for c in cells], dtype=bool)
    columns = list(frame.columns)
    lon_name = resolve_column(columns, lon_col, key="lon_col", label=name, guesses=LON_NAMES, required=False)
    lat_name = resolve_column(columns, lat_col, key="lat_col", label=name, guesses=LAT_NAMES, required=False)
    if valid.all():
        rings = [[(lng, lat) for lat, lng in h3.cell_to_boundary(c)] for c in cells]
        geometry = (
            shapely.polygons(rings)
            if len({len(r) for r in rings}) == 1
            else np.array([shapely.Polygon(r) for r in rings], dtype=object)
        )
        gdf = gpd.GeoDataFrame(frame.assign(**{id_col: cells}), geometry=geometry, crs="EPSG:4326")
        if lon_name is not None and lat_name is not None:
            lon = pd.to_numeric(frame[lon_name], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
            lat = pd.to_numeric(frame[lat_name], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
            off = np.array(
                [
                    not (math.isfinite(y) and math.isfinite(x) and abs(y) <= 90 and abs(x) <= 180)
                    or h3.latlng_to_cell(y, x, h3.get_resolution(c)) != c
                    for c, x, y in zip(cells, lon, lat, strict=True)
                ],
                dtype=bool,
            )
            if off.any():
                warn(
                    f"{name}: the {lon_name}/{lat_name} point of {int(off.sum()):,} rows is not "
                    f"inside its H3 cell, ids {few(cells[off].tolist())}; the hexagons from "
                    "the ids are used. Check that the coordinates belong to the ids."
                )
    else:
        warn(
            f"{name}: {int((~valid).sum()):,} of {len(cells):,} values of {id_col!r} are not "
            f"valid H3 cells, e.g. {few(cells[~valid].tolist())} ({table.rows.describe(~valid)}); using the "
            f"{lon_name or 'lon'}/{lat_name or 'lat'} points of all rows instead of hexagons."
        )
        gdf = points_from_columns(
            frame.assign(**{id_col: cells}), rows=table.rows, lon_col=lon_name, lat_col=lat_name, crs="EPSG:4326"
        )
    out, _, _ = _validate(
        gdf, population_col=population_col, id_col=id_col, group_col=None, source_name=name, rows=table.rows
    )
    return out


def _detect_population_col(frame: pd.DataFrame, *, source_name: str) -> str:
    columns = [c for c in frame.columns if c != frame.geometry.name]
    candidates = [
        c
        for c in columns
        if any(h in str(c).lower() for h in _POPULATION_NAME_HINTS)
        and pd.api.types.is_numeric_dtype(frame[c].dtype)
        and not pd.api.types.is_bool_dtype(frame[c].dtype)
    ]
    if len(candidates) == 1:
        return str(candidates[0])
    exact = [c for c in candidates if str(c).lower() == "population"]
    if len(exact) == 1:
        return str(exact[0])
    if not candidates:
        raise CoverageInputError(
            f"no population column found in {source_name}; the columns are "
            f"{few(columns, 30)}. Pass population_col= naming the one with head counts."
        )
    raise CoverageInputError(
        f"several columns of {source_name} could be the population: {few(candidates)} "
        f"(all columns: {few(columns, 30)}). Pass population_col= to choose one."
    )


def read_population_grid(
    path: str | os.PathLike[str],
    *,
    population_col: str | None = None,
    layer: str | int | None = None,
    crs: Any = None,
    encoding: str | None = None,
) -> gpd.GeoDataFrame:
    """Read a population grid (cells with head counts) from a GeoPackage or similar.

    Parameters
    ----------
    path
        GeoPackage, GeoJSON, FlatGeobuf or Shapefile (read with
        :func:`coverage._tabular.read_table`).
    population_col
        Column with the number of people per cell. ``None`` auto-detects it: the
        one numeric column whose name looks like a population (``population``,
        ``pop...``, ``asukkaita``, ``inhabitants``, ...; an exact ``population``
        wins among several). A name given must exist exactly.
    layer
        Layer to read; required when the file holds several.
    crs
        CRS of a file that does not declare one (a GeoJSON in metres).
    encoding
        Text encoding of a Shapefile's attributes (or a GeoJSON), if not detected.

    Returns
    -------
    geopandas.GeoDataFrame
        The cells with all their columns; the population column is renamed to
        ``population`` (float64) and its original name kept in
        ``attrs["population_source_col"]``. Feed it to :func:`demand_from_polygons`.

    Raises
    ------
    CoverageInputError
        For a missing file, several layers without ``layer=``, no or several
        candidate population columns (listing the columns), a name clash with
        an existing ``population`` column, or bad values.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "grid.gpkg"
    >>> gpd.GeoDataFrame({"asukkaita": [5, 7]}, geometry=[box(0, 0, 250, 250),
    ...     box(250, 0, 500, 250)], crs="EPSG:3067").to_file(path)
    >>> read_population_grid(path)["population"].sum()
    np.float64(12.0)

    """
    table = read_table(Path(path), layer=layer, encoding=encoding)
    name = table.label
    if not (isinstance(table.frame, gpd.GeoDataFrame) and table.frame.geometry.name in table.frame.columns):
        raise CoverageInputError(
            f"{name} has no geometry; a population grid needs cell polygons (use read_demand for CSV points)."
        )
    frame = geometry_in_crs(table.frame, rows=table.rows, crs=crs, crs_implied=table.crs_implied)
    if population_col is None:
        column = _detect_population_col(frame, source_name=name)
    else:
        column = str(
            resolve_column(list(frame.columns), population_col, key="population_col", label=name, what="population")
        )
    if column != "population" and "population" in frame.columns:
        raise CoverageInputError(
            f"{name} has both {column!r} and 'population' columns; rename or drop "
            "'population' first, or pass population_col='population'."
        )
    frame = frame.rename(columns={column: "population"})
    out, _, _ = _validate(
        frame, population_col="population", id_col=None, group_col=None, source_name=name, rows=table.rows
    )
    out.attrs["population_source_col"] = column
    return out
