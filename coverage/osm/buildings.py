"""Read the building footprints of an OSM file into a plain table.

The OSM side of building-based demand: pyosmium assembles every area tagged
``building=*`` (closed ways and multipolygon relations), and each becomes one
row with its id, the tags that say how many people it may hold, an interior
point and its footprint area. Sharing people over the rows is the demand
layer's job (:func:`coverage.demand.demand_from_buildings`).
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any, Final

import numpy as np
import osmium
import osmium.filter
import pandas as pd
import pyproj
import shapely

from coverage._errors import CoverageInputError, warn
from coverage._validate import as_crs
from coverage.crs import utm_crs_for

from ._sources import _classify, _existing

__all__ = ["BUILDING_COLUMNS", "buildings_from_file"]

BUILDING_COLUMNS: Final = ("building_id", "building", "building_levels", "lon", "lat", "footprint_m2")
"""Columns of :func:`buildings_from_file`, in order."""

SKIP_NODE: Final = "no footprint (node)"
SKIP_OPEN_WAY: Final = "not closed (way)"
SKIP_BROKEN: Final = "broken geometry"


def buildings_from_file(path: str | os.PathLike[str], *, area_crs: Any = None) -> pd.DataFrame:
    """Read every building area of an OSM PBF or XML file.

    Parameters
    ----------
    path
        OSM PBF (``.osm.pbf``, ``.pbf``) or XML (``.osm``, ``.xml``,
        ``.osm.bz2``, ``.osm.gz``) file; a regular file.
    area_crs
        Metric CRS in which footprint areas are measured; ``None`` uses the
        UTM zone of the centre of all buildings read.

    Returns
    -------
    pandas.DataFrame
        One row per building area, in file order, with the columns
        :data:`BUILDING_COLUMNS`: ``building_id`` (``"w<way id>"`` or
        ``"r<relation id>"``), ``building`` (the tag's value, e.g. ``"yes"``,
        ``"house"``, ``"no"``), ``building_levels`` (the raw
        ``building:levels`` tag, ``None`` where missing), ``lon``/``lat``
        (WGS-84 interior point: the centroid if it lies inside the footprint,
        else a point on its surface) and ``footprint_m2``. ``attrs`` hold
        ``"area_crs"`` (the CRS as a string), ``"skipped"`` (reason -> count
        of ``building=*`` objects without a footprint: nodes, ways that are
        not closed, broken geometry) and ``"source"`` (the path).

    Raises
    ------
    CoverageInputError
        If the file is missing, not a regular file, not OSM XML/PBF, cannot
        be read, or holds no building area; or ``area_crs`` is not metric.

    Warns
    -----
    CoverageWarning
        When buildings have broken geometry (they are skipped and counted).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> corners = [(9.5, 47.1), (9.5002, 47.1), (9.5002, 47.1002), (9.5, 47.1002)]
    >>> nodes = "".join(f'<node id="{i}" lat="{y}" lon="{x}"/>' for i, (x, y) in enumerate(corners, 1))
    >>> way = '<way id="7"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="1"/>'
    >>> xml = f'<osm version="0.6">{nodes}{way}<tag k="building" v="house"/></way></osm>'
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "house.osm"
    ...     _ = path.write_text(xml)
    ...     frame = buildings_from_file(path)
    >>> frame[["building_id", "building"]].values.tolist()
    [['w7', 'house']]
    >>> round(float(frame["footprint_m2"].iloc[0]))
    337
    """
    source = _existing(path)
    if source.is_dir():
        msg = f"{source}: a folder; pass one OSM PBF or XML file with the buildings."
        raise CoverageInputError(msg)
    kind, file_format = _classify(source)
    if kind not in ("osm", "pbf"):
        msg = f"{source}: buildings are read from OSM PBF or XML files (.osm.pbf, .osm), not from this file type."
        raise CoverageInputError(msg)
    crs = as_crs(area_crs, name="area_crs", projected=True) if area_crs is not None else None

    ids, kinds, levels, wkbs, skipped, broken = _read_areas(source, file_format)
    if broken:
        shown = ", ".join(broken[:10]) + (", ..." if len(broken) > 10 else "")
        warn(f"{source}: {len(broken):,} buildings have broken geometry ({shown}); they are left out.", stacklevel=2)
    if not wkbs:
        msg = (
            f"{source} holds no building areas (ways or relations tagged building=*). "
            "Export an extract that includes buildings."
        )
        raise CoverageInputError(msg)

    geoms = shapely.from_wkb(wkbs)
    if crs is None:
        west, south, east, north = shapely.total_bounds(geoms)
        crs = utm_crs_for((west + east) / 2, (south + north) / 2)
    transformer = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    projected = shapely.transform(geoms, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))
    points = _interior_points(geoms)
    frame = pd.DataFrame(
        {
            "building_id": pd.Series(ids, dtype=object),
            "building": pd.Series(kinds, dtype=object),
            "building_levels": pd.Series(levels, dtype=object),
            "lon": shapely.get_x(points),
            "lat": shapely.get_y(points),
            "footprint_m2": shapely.area(projected),
        },
        columns=list(BUILDING_COLUMNS),
    )
    frame.attrs["area_crs"] = crs.to_string()
    frame.attrs["skipped"] = dict(skipped)
    frame.attrs["source"] = str(source)
    return frame


def _read_areas(
    path: Path, file_format: str
) -> tuple[list[str], list[str], list[str | None], list[bytes], Counter[str], list[str]]:
    """Return ids, building tags, level tags and WKB footprints; skipped counts; broken ids."""
    factory = osmium.geom.WKBFactory()
    ids: list[str] = []
    kinds: list[str] = []
    levels: list[str | None] = []
    wkbs: list[bytes] = []
    skipped: Counter[str] = Counter()
    broken: list[str] = []
    try:
        processor = (
            osmium.FileProcessor(osmium.io.File(str(path), file_format))
            .with_areas(osmium.filter.KeyFilter("building"))
            .with_filter(osmium.filter.KeyFilter("building"))
        )
        for obj in processor:
            if isinstance(obj, osmium.osm.Area):
                osm_id = ("w" if obj.from_way() else "r") + str(obj.orig_id())
                try:
                    wkb = factory.create_multipolygon(obj)
                except RuntimeError:
                    broken.append(osm_id)
                    continue
                ids.append(osm_id)
                wkbs.append(bytes.fromhex(wkb) if isinstance(wkb, str) else wkb)
                kinds.append(str(obj.tags.get("building", "yes")))
                levels.append(obj.tags.get("building:levels"))
            elif isinstance(obj, osmium.osm.Node):
                skipped[SKIP_NODE] += 1
            elif isinstance(obj, osmium.osm.Way) and not obj.is_closed():
                skipped[SKIP_OPEN_WAY] += 1
    except osmium.InvalidLocationError as exc:
        msg = f"{path}: a node has an invalid coordinate ({exc}); fix or remove it, or export the data again."
        raise CoverageInputError(msg) from exc
    except RuntimeError as exc:
        msg = f"cannot read {path} as OSM data ({exc}); export the file again or check it with `osmium fileinfo`."
        raise CoverageInputError(msg) from exc
    if broken:
        skipped[SKIP_BROKEN] = len(broken)
    return ids, kinds, levels, wkbs, skipped, broken


def _interior_points(geoms: np.ndarray) -> np.ndarray:
    """Return the centroid where it lies strictly inside a polygon, else a point on its surface."""
    centroids = shapely.centroid(geoms)
    inside = shapely.contains_properly(geoms, centroids)
    out = np.asarray(shapely.point_on_surface(geoms), dtype=object)
    out[inside] = centroids[inside]
    return out
