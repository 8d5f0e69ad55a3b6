"""Read OSMnx GraphML files into unprojected osmnx-style graphs."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Final

import networkx as nx
import pyproj

from coverage._errors import CoverageInputError

from ._common import (
    CRS_WGS84,
    _bad_coordinate,
    ox,
)

_GRAPHML_ERRORS: Final = (
    SyntaxError,
    nx.NetworkXError,
    ValueError,
    KeyError,
    TypeError,
    AttributeError,
)


def _read_graphml(path: Path, *, notes: list[str]) -> nx.MultiDiGraph:
    """Load an OSMnx GraphML file and check it is an unprojected street graph."""
    try:
        graph = ox.load_graphml(path)
    except _GRAPHML_ERRORS as exc:
        msg = (
            f"{path}: cannot read it as an OSMnx GraphML file ({type(exc).__name__}: {exc}). "
            "The file is damaged or was not written by `osmnx.save_graphml`; save the graph "
            "again, or pass the OSM data itself (.osm.pbf, .osm or Overpass .json)."
        )
        raise CoverageInputError(msg) from exc
    if len(graph) == 0 or graph.number_of_edges() == 0:
        msg = f"{path}: the graph has no edges. Save a street network with edges, or pass OSM data."
        raise CoverageInputError(msg)
    no_xy = [node for node, data in graph.nodes(data=True) if "x" not in data or "y" not in data]
    if no_xy:
        msg = (
            f"{path}: {len(no_xy):,} nodes have no 'x'/'y' coordinates (first: {no_xy[:3]}); "
            "this is not an OSMnx street graph. Save it with `osmnx.save_graphml`."
        )
        raise CoverageInputError(msg)
    if not any("highway" in data for _, _, data in graph.edges(data=True)):
        msg = (
            f"{path}: no edge has a 'highway' attribute, so this is not an OSM street "
            "network. Save a graph built by osmnx from OSM highways."
        )
        raise CoverageInputError(msg)

    for node, x, y in ((n, d["x"], d["y"]) for n, d in graph.nodes(data=True)):
        if not (isinstance(x, int | float) and isinstance(y, int | float) and math.isfinite(x) and math.isfinite(y)):
            msg = (
                f"{path}: node {node} has coordinates x={x!r}, y={y!r}, which are not finite "
                "numbers. Fix or remove the node, or save the graph again with `osmnx.save_graphml`."
            )
            raise CoverageInputError(msg)
    graph = _graphml_to_wgs84(graph, path=path, notes=notes)
    for node, data in graph.nodes(data=True):
        problem = _bad_coordinate(data["x"], data["y"])
        if problem is not None:
            msg = (
                f"{path}: node {node} has a {problem} in longitude/latitude. Fix the node, "
                "or set the graph's 'crs' to the one its coordinates are in."
            )
            raise CoverageInputError(msg)

    no_length = [(u, v, k) for u, v, k, data in graph.edges(keys=True, data=True) if "length" not in data]
    if no_length:
        ox.distance.add_edge_lengths(graph, edges=no_length)
        notes.append(
            f"{path}: {len(no_length):,} edges had no 'length'; computed great-circle "
            "lengths between their end nodes (curved edges come out too short). Save the "
            "graph with lengths (osmnx adds them) to avoid this."
        )
    return graph


def _graphml_to_wgs84(graph: nx.MultiDiGraph, *, path: Path, notes: list[str]) -> nx.MultiDiGraph:
    """Return the graph in EPSG:4326, projecting it back if it was saved projected."""
    crs_value = graph.graph.get("crs")
    if crs_value is None:
        xs = [float(x) for _, x in graph.nodes(data="x")]
        ys = [float(y) for _, y in graph.nodes(data="y")]
        if min(xs) < -180 or max(xs) > 180 or min(ys) < -90 or max(ys) > 90:
            msg = (
                f"{path}: the graph has no 'crs' and its coordinates are not longitude/"
                "latitude. Set G.graph['crs'] before saving it with `osmnx.save_graphml`."
            )
            raise CoverageInputError(msg)
        notes.append(
            f"{path}: the graph has no 'crs'; its coordinates look like longitude/latitude, "
            f"so {CRS_WGS84} is assumed. Set G.graph['crs'] before saving to silence this."
        )
        return graph
    try:
        crs = pyproj.CRS.from_user_input(crs_value)
    except pyproj.exceptions.CRSError as exc:
        msg = f"{path}: the graph's crs {crs_value!r} is not a valid CRS ({exc}); fix G.graph['crs']."
        raise CoverageInputError(msg) from exc
    if crs.to_epsg() == 4326:
        return graph
    graph = ox.projection.project_graph(graph, to_latlong=True)
    notes.append(
        f"{path}: the graph was saved in {crs.to_string()}; it was projected back to "
        f"{CRS_WGS84} (edge lengths kept). Save unprojected graphs to skip this step."
    )
    return graph
