"""The walking network: load, clean, project and hold it as arrays.

Data flow. OSM XML, PBF and Overpass JSON take the array path: the highway
ways are read into arrays (:mod:`coverage.osm._arrays`), the ways a
pedestrian may not use are left out (:func:`exclusion_reason`), and the
topology is simplified with numpy exactly as ``osmnx.simplify_graph`` would
on the walking graph (:mod:`coverage._simplify`). GraphML files and graphs
from an online osmnx query take the networkx path: an osmnx-style
``MultiDiGraph`` whose edges are filtered with the same rules
(:func:`network_from_graph`). Both end in :mod:`coverage._prepare`: made
undirected with parallel edges collapsed to the shortest, projected to the
local UTM zone, cut to the connected components, and stored as a
:class:`WalkNetwork` (node and edge arrays plus a symmetric CSR matrix for
the numerical core). :func:`load_network` caches prepared networks on disk
(:mod:`coverage._netcache`).

Ways are filtered *before* the topology is simplified, so that a footway
continuing into a motorway, or a junction only with a cycleway, does not
decide the walking network's edges (the earlier order, simplify then
filter, dropped the walkable part of such merged edges).
"""
from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, cast

import networkx as nx
import numpy as np
import pyproj
import shapely

from ._errors import CoverageInputError, warn
from ._netcache import default_cache_dir, load_cached, network_key
from ._prepare import EdgeTable, assemble_network
from ._simplify import edges_from_ways
from ._walknet import NetworkReport, WalkNetwork

__all__ = [
    "EXCLUDED_HIGHWAY",
    "NetworkReport",
    "WalkNetwork",
    "default_cache_dir",
    "exclusion_reason",
    "load_network",
    "network_from_graph",
    "network_from_place",
    "network_from_polygon",
]

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------
# Pedestrian filter (the rules of osmnx's "walk" network type, applied to the
# tags of an already-built graph so that every source is filtered alike).
# --------------------------------------------------------------------------

#: ``highway`` values no pedestrian may use.
EXCLUDED_HIGHWAY = frozenset(
    {
        "abandoned",
        "bus_guideway",
        "construction",
        "cycleway",
        "motorway",
        "motorway_link",
        "no",
        "planned",
        "platform",
        "proposed",
        "raceway",
        "razed",
        "busway",
        "corridor",
        "elevator",
    }
)
_FOOT_OK = frozenset({"yes", "designated", "permissive", "official"})
_NO_ACCESS = frozenset({"private", "no"})


def _tag_values(value: object) -> list[str]:
    """Return a tag value as a list of strings (osmnx merges values into lists)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    if isinstance(value, (list, tuple, set)):
        return [str(v) for v in value]
    text = str(value)
    if text.startswith("[") and text.endswith("]"):
        return [v.strip(" '\"") for v in text[1:-1].split(",") if v.strip(" '\"")]
    return [text]


def exclusion_reason(data: Mapping[str, object]) -> str | None:
    """Say why a pedestrian may not use an edge, or return None if walkable.

    Parameters
    ----------
    data : dict
        The edge's attributes (OSM tags as osmnx stores them).

    Returns
    -------
    str or None
        A short reason such as ``"highway=motorway"`` or ``"foot=no"``.

    Examples
    --------
    >>> exclusion_reason({"highway": "motorway"})
    'highway=motorway'
    >>> exclusion_reason({"highway": "residential", "access": "private"})
    'access=private'
    >>> exclusion_reason({"highway": "footway"}) is None
    True
    """
    highways = _tag_values(data.get("highway"))
    if not highways:
        return "no highway tag"
    for value in highways:
        if value in EXCLUDED_HIGHWAY:
            return f"highway={value}"
    foot = _tag_values(data.get("foot"))
    if "no" in foot:
        return "foot=no"
    if any(v in ("yes", "true", "1") for v in _tag_values(data.get("area"))):
        return "area=yes"
    foot_ok = any(v in _FOOT_OK for v in foot)
    for value in _tag_values(data.get("access")):
        if value in _NO_ACCESS and not foot_ok:
            return f"access={value}"
    if "private" in _tag_values(data.get("service")) and not foot_ok:
        return "service=private"
    return None


# --------------------------------------------------------------------------
# Graph -> WalkNetwork
# --------------------------------------------------------------------------


def network_from_graph(
    G: nx.MultiDiGraph | nx.MultiGraph | nx.DiGraph | nx.Graph,
    *,
    largest_only: bool = True,
    crs: str | pyproj.CRS | None = None,
    source: str | None = None,
) -> WalkNetwork:
    """Prepare an osmnx-style graph for walking analysis.

    Keeps the edges a pedestrian may use (:func:`exclusion_reason`), treats the
    graph as undirected (walking ignores one-way tags), collapses parallel
    edges to the shortest one (never summing them), projects to the local UTM
    zone (or ``crs``), and drops disconnected islands when ``largest_only``.
    Everything removed is counted in :attr:`WalkNetwork.report`.

    Parameters
    ----------
    G : networkx graph
        An osmnx-style graph: node attributes ``x``, ``y``; edge attribute
        ``length`` in metres; ``G.graph["crs"]`` set. Edge ``geometry`` is
        optional (straight lines are used where it is missing).
    largest_only : bool, default True
        Keep only the largest connected component; smaller ones are reported.
        With False every component is kept and halls on small components are
        flagged when they are snapped.
    crs : str or pyproj.CRS, optional
        Projected CRS to use. By default the UTM zone of the network's centre,
        or the graph's own CRS if it is already projected.
    source : str, optional
        A description of where the graph came from, for the report.

    Returns
    -------
    WalkNetwork

    Raises
    ------
    CoverageInputError
        If the graph has no CRS, an edge without ``length``, or no walkable edge.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.MultiDiGraph(crs="EPSG:32650")
    >>> G.add_node(1, x=0.0, y=0.0); G.add_node(2, x=100.0, y=0.0)
    >>> _ = G.add_edge(1, 2, length=100.0, highway="footway")
    >>> network_from_graph(G).n_edges
    1
    """
    graph_crs = G.graph.get("crs")
    desc = source or str(G.graph.get("source", "graph"))
    if graph_crs is None:
        raise CoverageInputError(
            f"{desc}: the graph has no CRS (G.graph['crs'] is missing). Set it, for example "
            "G.graph['crs'] = 'EPSG:4326' for an unprojected osmnx graph."
        )
    in_crs = pyproj.CRS.from_user_input(graph_crs)
    raw_nodes = G.number_of_nodes()
    raw_edges = G.number_of_edges()
    if raw_nodes == 0 or raw_edges == 0:
        raise CoverageInputError(f"{desc}: the graph has no edges; check the source file.")

    nodes = list(G.nodes)
    index = {n: i for i, n in enumerate(nodes)}
    try:
        xs = np.array([G.nodes[n]["x"] for n in nodes], dtype=np.float64)
        ys = np.array([G.nodes[n]["y"] for n in nodes], dtype=np.float64)
    except KeyError as exc:
        raise CoverageInputError(
            f"{desc}: a node has no 'x'/'y' coordinate ({exc}); the graph must be osmnx-style."
        ) from exc
    except (TypeError, ValueError) as exc:
        raise CoverageInputError(
            f"{desc}: a node has an 'x'/'y' coordinate that is not a number ({exc}); fix the graph's nodes."
        ) from exc
    not_finite = ~(np.isfinite(xs) & np.isfinite(ys))
    if not_finite.any():
        at = int(np.flatnonzero(not_finite)[0])
        raise CoverageInputError(
            f"{desc}: node {nodes[at]} has coordinates x={xs[at]}, y={ys[at]}, which are not "
            f"finite ({int(not_finite.sum()):,} such nodes). Fix or remove them in the graph."
        )

    removed: dict[str, int] = {}
    us: list[int] = []
    vs: list[int] = []
    lengths: list[float] = []
    geoms: list[object] = []
    highways: list[str] = []
    edge_iter = G.edges(keys=True, data=True) if G.is_multigraph() else ((u, v, 0, d) for u, v, d in G.edges(data=True))
    for u, v, _key, data in edge_iter:
        reason = exclusion_reason(data)
        if reason is not None:
            removed[reason] = removed.get(reason, 0) + 1
            continue
        length = data.get("length")
        if length is None or not np.isfinite(float(length)):
            raise CoverageInputError(
                f"{desc}: edge ({u}, {v}) has no 'length'. Add lengths in metres first, for "
                "example with osmnx.distance.add_edge_lengths(G)."
            )
        us.append(index[u])
        vs.append(index[v])
        lengths.append(float(length))
        geoms.append(data.get("geometry"))
        highways.append(_tag_values(data.get("highway"))[0])
    for reason, count in sorted(removed.items()):
        logger.info("%s: removed %d edges (%s)", desc, count, reason)
    geometry = np.empty(len(geoms), dtype=object)
    geometry[:] = geoms
    table = EdgeTable(
        node_id=np.asarray([_as_int_id(node) for node in nodes], dtype=np.int64),
        node_x=xs,
        node_y=ys,
        crs=in_crs,
        u=np.asarray(us, dtype=np.int64),
        v=np.asarray(vs, dtype=np.int64),
        length_m=np.asarray(lengths, dtype=np.float64),
        highway=np.asarray(highways, dtype=object),
        geometry=geometry,
        raw_nodes=raw_nodes,
        raw_edges=raw_edges,
        removed_edges=removed,
        removed_ways=dict(G.graph.get("filtered_ways") or {}),
    )
    out_crs = pyproj.CRS.from_user_input(crs) if crs is not None else None
    return assemble_network(table, largest_only=largest_only, crs=out_crs, source=desc)


def _as_int_id(node: object) -> int:
    try:
        return int(node)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return abs(hash(node)) % (2**62)


# --------------------------------------------------------------------------
# Loading, with an on-disk cache keyed by the source's content
# --------------------------------------------------------------------------


def load_network(
    source: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    largest_only: bool = True,
    crs: str | pyproj.CRS | None = None,
    cache: bool = True,
    cache_dir: str | os.PathLike[str] | None = None,
    engine: Literal["auto", "arrays", "networkx"] = "auto",
) -> WalkNetwork:
    """Load a walking network from a file and prepare it for analysis.

    Parameters
    ----------
    source : path or sequence of paths
        GraphML (``.graphml``), OSM XML (``.osm``, ``.osm.bz2``), OSM PBF
        (``.pbf``), or raw Overpass JSON (``.json``; several files, or a
        folder of them, are merged without duplicates).
    largest_only : bool, default True
        Keep only the largest connected component (islands are reported).
    crs : str or pyproj.CRS, optional
        Projected CRS; by default the local UTM zone.
    cache : bool, default True
        Reuse a prepared network stored on disk. It is keyed by the content of
        the source, these options, the package and osmnx versions and the code
        that prepares networks, so any change prepares it afresh. Entries are
        plain arrays and JSON (never pickles); a cache folder or file that is
        not safe (writable by others, owned by another user, a symlink) or
        cannot be written is reported in one warning and not used.
    cache_dir : path, optional
        Where prepared networks are stored (:func:`default_cache_dir`).
    engine : {"auto", "arrays", "networkx"}, default "auto"
        How OSM XML, PBF and Overpass sources are prepared. ``"arrays"``
        reads the ways straight into arrays and simplifies the topology with
        numpy (:mod:`coverage._simplify`; fast and lean at city scale);
        ``"networkx"`` builds an osmnx graph of the walkable ways and calls
        ``osmnx.simplify_graph``. Both give the same network (the networkx
        path is the oracle in the tests). ``"auto"`` uses arrays for OSM and
        Overpass sources and networkx for GraphML, which is already a graph.

    Returns
    -------
    WalkNetwork

    Raises
    ------
    CoverageInputError
        If the source cannot be read as a street network (see
        :func:`coverage.osm.graph_from_file`) or has no walkable edge.

    Warns
    -----
    CoverageWarning
        Once, when the cache cannot be used (the network is prepared without
        it), and for the problems in the source that the readers report.

    Examples
    --------
    >>> net = load_network("../shared/data/shenzhen/futian_walk.graphml")  # doctest: +SKIP
    >>> net.crs.to_epsg()  # doctest: +SKIP
    32650
    """
    from coverage import osm

    out_crs = pyproj.CRS.from_user_input(crs) if crs is not None else None
    if engine not in ("auto", "arrays", "networkx"):
        msg = f"engine={engine!r}: give 'auto', 'arrays' or 'networkx'."
        raise CoverageInputError(msg)
    kind = osm.source_kind(source)
    if engine == "auto":
        engine = "networkx" if kind == "graphml" else "arrays"
    if engine == "arrays" and kind == "graphml":
        msg = f"{_describe(source)}: a GraphML file is already a graph; load it with engine='networkx' or 'auto'."
        raise CoverageInputError(msg)

    def build() -> WalkNetwork:
        if engine == "arrays":
            return _network_from_ways(source, largest_only=largest_only, crs=out_crs)
        G = osm.graph_from_file(source, way_filter=exclusion_reason)
        return network_from_graph(G, largest_only=largest_only, crs=out_crs, source=_describe(source))

    if not cache:
        return build()
    key = network_key(osm.file_digest(source), largest_only=largest_only, crs=out_crs, engine=engine)
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    return load_cached(build, key=key, folder=folder)


def _network_from_ways(
    source: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    largest_only: bool,
    crs: pyproj.CRS | None,
) -> WalkNetwork:
    """Prepare an OSM XML, PBF or Overpass source with the array path."""
    from coverage.osm import _arrays, _sources

    resolved = _sources._resolve(source)
    start = time.perf_counter()
    ways = _arrays.ways_from_file(list(resolved.paths), kind=resolved.kind, description=resolved.description)
    table, notes = edges_from_ways(ways, exclude=exclusion_reason)
    for note in notes:
        warn(note, stacklevel=4)
    net = assemble_network(table, largest_only=largest_only, crs=crs, source=_describe(source))
    logger.info("prepared %s with arrays in %.1f s: %r", resolved.description, time.perf_counter() - start, net)
    return net


def _describe(source: object) -> str:
    if isinstance(source, (str, os.PathLike)):
        return Path(source).name
    items = [Path(s).name for s in source]  # type: ignore[attr-defined]
    return f"{len(items)} files ({', '.join(items[:3])}{', ...' if len(items) > 3 else ''})"


def _download(fetch: Callable[[], nx.MultiDiGraph]) -> nx.MultiDiGraph:
    """Run an osmnx download, turning a missing connection into a clear error."""
    import requests

    try:
        return fetch()
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
        raise CoverageInputError(
            "downloading the network from OpenStreetMap needs internet, and the Overpass API "
            f"could not be reached ({type(exc).__name__}). Work offline from a file instead: "
            "save the area once from a connected machine (osmnx.save_graphml) or export an OSM "
            "PBF/XML, then load_network(path)."
        ) from exc


def network_from_place(query: str | dict[str, str] | list[str], *, largest_only: bool = True) -> WalkNetwork:
    """Download a walking network for a place name with osmnx (needs internet).

    A thin wrapper over :func:`osmnx.graph_from_place` with
    ``network_type="walk"``, then :func:`network_from_graph`.
    """
    import osmnx as ox

    G = _download(lambda: ox.graph_from_place(cast(Any, query), network_type="walk", simplify=True, retain_all=True))
    return network_from_graph(G, largest_only=largest_only, source=f"OSM place {query!r}")


def network_from_polygon(polygon: shapely.Polygon | shapely.MultiPolygon, *, largest_only: bool = True) -> WalkNetwork:
    """Download a walking network inside a lon/lat polygon with osmnx (needs internet)."""
    import osmnx as ox

    G = _download(lambda: ox.graph_from_polygon(polygon, network_type="walk", simplify=True, retain_all=True))
    return network_from_graph(G, largest_only=largest_only, source="OSM polygon")
