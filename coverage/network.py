"""The walking network: load, clean, project and hold it as arrays.

Data flow: a source (GraphML, OSM XML, PBF, Overpass JSON, or an online
osmnx query) becomes an osmnx-style ``MultiDiGraph`` (see :mod:`coverage.osm`),
which is filtered to what a pedestrian may use, made undirected with parallel
edges collapsed to the shortest, projected to the local UTM zone, cut to the
connected components, and stored as a :class:`WalkNetwork`: node and edge
arrays plus a symmetric CSR matrix for the numerical core.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, cast

import networkx as nx
import numpy as np
import numpy.typing as npt
import pyproj
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components

from ._errors import CoverageInputError
from ._netcache import default_cache_dir, load_cached, network_key
from ._walknet import NetworkReport, WalkNetwork
from .crs import utm_crs_for

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


def exclusion_reason(data: dict[str, object]) -> str | None:
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
    self_loops = 0
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
        if u == v:
            self_loops += 1
            continue
        us.append(index[u])
        vs.append(index[v])
        lengths.append(float(length))
        geoms.append(data.get("geometry"))
        highways.append(_tag_values(data.get("highway"))[0])
    if not us:
        raise CoverageInputError(
            f"{desc}: no walkable edge is left after removing {removed}; is this a walking or street network?"
        )

    u_arr = np.asarray(us, dtype=np.int64)
    v_arr = np.asarray(vs, dtype=np.int64)
    len_arr = np.asarray(lengths, dtype=np.float64)
    if np.any(len_arr < 0):
        bad = int(np.flatnonzero(len_arr < 0)[0])
        raise CoverageInputError(f"{desc}: edge ({nodes[u_arr[bad]]}, {nodes[v_arr[bad]]}) has a negative length.")

    # Undirected, parallel edges collapsed to the shortest: sort by pair, then length.
    lo = np.minimum(u_arr, v_arr)
    hi = np.maximum(u_arr, v_arr)
    order = np.lexsort((np.arange(len_arr.size), len_arr, hi, lo))
    lo_s, hi_s = lo[order], hi[order]
    first = np.ones(order.size, dtype=bool)
    first[1:] = (lo_s[1:] != lo_s[:-1]) | (hi_s[1:] != hi_s[:-1])
    # Count genuinely parallel edges: distinct lengths (to the millimetre) per pair beyond one.
    pair_len = np.round(len_arr[order], 3)
    distinct = np.ones(order.size, dtype=bool)
    distinct[1:] = first[1:] | (pair_len[1:] != pair_len[:-1])
    parallel = int(distinct.sum() - first.sum())
    keep = order[first]

    # Projection.
    if crs is not None:
        out_crs = pyproj.CRS.from_user_input(crs)
    elif in_crs.is_projected:
        out_crs = in_crs
    else:
        out_crs = utm_crs_for(float(np.median(xs)), float(np.median(ys)))
    if out_crs.is_geographic:
        raise CoverageInputError(f"crs={out_crs.to_string()} is geographic; give a projected CRS.")
    transformer = pyproj.Transformer.from_crs(in_crs, out_crs, always_xy=True)
    px, py = transformer.transform(xs, ys)
    px = np.asarray(px, dtype=np.float64)
    py = np.asarray(py, dtype=np.float64)

    eu = u_arr[keep]
    ev = v_arr[keep]
    elen = len_arr[keep]
    raw_geoms = [geoms[i] for i in keep]
    geometry = _edge_geometries(raw_geoms, eu, ev, xs, ys, transformer, px, py)

    # Connected components.
    n = len(nodes)
    adj = sp.coo_matrix((np.ones(eu.size), (eu, ev)), shape=(n, n)).tocsr()
    n_comp, labels = connected_components(adj, directed=False)
    used = np.zeros(n, dtype=bool)
    used[eu] = True
    used[ev] = True
    sizes = np.bincount(labels[used], minlength=n_comp)
    islands_removed = 0
    island_nodes = 0
    keep_node = used.copy()
    if largest_only and n_comp > 1:
        main = int(np.argmax(sizes))
        small = (sizes > 0) & (np.arange(n_comp) != main)
        islands_removed = int(small.sum())
        island_nodes = int(sizes[small].sum())
        keep_node &= labels == main
    edge_keep = keep_node[eu] & keep_node[ev]

    # Renumber nodes.
    new_index = np.full(n, -1, dtype=np.int64)
    kept_nodes = np.flatnonzero(keep_node)
    new_index[kept_nodes] = np.arange(kept_nodes.size)
    eu = new_index[eu[edge_keep]]
    ev = new_index[ev[edge_keep]]
    elen = elen[edge_keep]
    geometry = geometry[edge_keep]
    hw = np.asarray([highways[i] for i in keep], dtype=object)[edge_keep]
    comp_labels = labels[kept_nodes]
    _, comp_labels = np.unique(comp_labels, return_inverse=True)
    node_ids = np.asarray([_as_int_id(nodes[i]) for i in kept_nodes], dtype=np.int64)

    csr = _symmetric_csr(eu, ev, elen, kept_nodes.size)
    report = NetworkReport(
        source=desc,
        raw_nodes=raw_nodes,
        raw_edges=raw_edges,
        removed_edges=removed,
        parallel_edges_collapsed=parallel,
        self_loops_removed=self_loops,
        islands_removed=islands_removed,
        island_nodes_removed=island_nodes,
        nodes=int(kept_nodes.size),
        edges=int(eu.size),
        total_length_m=float(elen.sum()),
    )
    for reason, count in sorted(removed.items()):
        logger.info("%s: removed %d edges (%s)", desc, count, reason)
    return WalkNetwork(
        crs=out_crs,
        node_id=node_ids,
        node_x=px[kept_nodes],
        node_y=py[kept_nodes],
        edge_u=eu,
        edge_v=ev,
        edge_length_m=elen,
        edge_geometry=geometry,
        edge_highway=hw,
        graph=csr,
        component=comp_labels.astype(np.int64),
        report=report,
    )


def _as_int_id(node: object) -> int:
    try:
        return int(node)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return abs(hash(node)) % (2**62)


def _symmetric_csr(
    u: npt.NDArray[np.int64], v: npt.NDArray[np.int64], length: npt.NDArray[np.float64], n: int
) -> sp.csr_matrix:
    """Symmetric CSR of edge lengths; explicit zeros are kept (they are edges)."""
    rows = np.concatenate([u, v])
    cols = np.concatenate([v, u])
    data = np.concatenate([length, length])
    return sp.csr_matrix((data, (rows, cols)), shape=(n, n))


def _edge_geometries(
    raw: list[object],
    eu: npt.NDArray[np.int64],
    ev: npt.NDArray[np.int64],
    xs: npt.NDArray[np.float64],
    ys: npt.NDArray[np.float64],
    transformer: pyproj.Transformer,
    px: npt.NDArray[np.float64],
    py: npt.NDArray[np.float64],
) -> npt.NDArray[np.object_]:
    """Projected LineStrings oriented from u to v (straight where missing)."""
    out = np.empty(len(raw), dtype=object)
    has = np.array([isinstance(g, shapely.LineString) for g in raw], dtype=bool)
    # Straight lines where the graph has no geometry.
    idx = np.flatnonzero(~has)
    if idx.size:
        coords = np.stack(
            [
                np.column_stack([px[eu[idx]], py[eu[idx]]]),
                np.column_stack([px[ev[idx]], py[ev[idx]]]),
            ],
            axis=1,
        )
        out[idx] = shapely.linestrings(coords)
    idx = np.flatnonzero(has)
    if idx.size:
        lines = np.asarray([raw[i] for i in idx], dtype=object)
        projected = shapely.transform(lines, lambda c: np.column_stack(transformer.transform(c[:, 0], c[:, 1])))
        # Orient each from u to v: compare the first vertex with node u.
        first = shapely.get_point(projected, 0)
        fx, fy = shapely.get_x(first), shapely.get_y(first)
        last = shapely.get_point(projected, -1)
        lx, ly = shapely.get_x(last), shapely.get_y(last)
        du = np.hypot(fx - px[eu[idx]], fy - py[eu[idx]])
        dv = np.hypot(lx - px[eu[idx]], ly - py[eu[idx]])
        flip = dv < du
        if flip.any():
            projected[flip] = shapely.reverse(projected[flip])
        out[idx] = projected
    return out


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

    def build() -> WalkNetwork:
        G = osm.graph_from_file(source)
        return network_from_graph(G, largest_only=largest_only, crs=out_crs, source=_describe(source))

    if not cache:
        return build()
    key = network_key(osm.file_digest(source), largest_only=largest_only, crs=out_crs, engine="networkx")
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    return load_cached(build, key=key, folder=folder)


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
