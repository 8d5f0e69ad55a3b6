"""Sub-networks and the straight-line reach of a walk, for assessing a city in parts.

See :mod:`coverage.partition` for how they make a partitioned assessment exact.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np
import shapely
from scipy.sparse.csgraph import connected_components

from ._prepare import symmetric_csr
from ._types import FloatArray, IntArray
from .network import WalkNetwork

__all__ = ["MIN_LENGTH_RATIO", "length_ratio", "reach_function", "subnetwork", "walk_reach_m"]

#: Below this ratio of walking length to drawn length, no straight-line bound is trusted.
MIN_LENGTH_RATIO = 0.5


def walk_reach_m(net: WalkNetwork, limit_m: float) -> float:
    """How far (straight line) a walk of ``limit_m`` metres can end from its start.

    With ``f`` the smallest ratio of walking length to drawn length over the
    edges at least 1 m long, a walk of length ``L`` ends at most ``L / f + D``
    away; ``D`` adds up, over shorter edges, how much their drawing exceeds
    ``length / f`` (rounded lengths of tiny edges), and the gaps between each
    drawing's ends and its nodes. The bound holds for walks that start or end
    part-way along an edge (positions are placed proportionally along the
    drawing). Returns inf when ``f < 0.5``.

    Examples
    --------
    >>> import networkx as nx
    >>> from coverage.network import network_from_graph
    >>> G = nx.MultiDiGraph(crs="EPSG:32650")
    >>> G.add_node(1, x=0.0, y=0.0); G.add_node(2, x=100.0, y=0.0)
    >>> _ = G.add_edge(1, 2, length=100.0, highway="footway")
    >>> round(walk_reach_m(network_from_graph(G), 500.0), 3)
    500.002
    """
    f, deficit = length_ratio(net)
    if not math.isfinite(limit_m) or f < MIN_LENGTH_RATIO:
        return math.inf
    return float(limit_m) / f + deficit + 1e-6 * float(limit_m) + 1e-3


def length_ratio(net: WalkNetwork) -> tuple[float, float]:
    """Return ``(f, D)`` of :func:`walk_reach_m` (``f`` already lowered for rounding)."""
    geom = net.edge_geometry
    drawn = shapely.length(geom)
    length = net.edge_length_m
    long_enough = drawn >= 1.0
    f = 1.0
    if long_enough.any():
        f = min(1.0, float(np.min(length[long_enough] / drawn[long_enough])))
    if f < MIN_LENGTH_RATIO:
        return f, math.inf
    f *= 1.0 - 1e-9
    first = shapely.get_coordinates(shapely.get_point(geom, 0))
    last = shapely.get_coordinates(shapely.get_point(geom, -1))
    gaps = np.hypot(first[:, 0] - net.node_x[net.edge_u], first[:, 1] - net.node_y[net.edge_u]) + np.hypot(
        last[:, 0] - net.node_x[net.edge_v], last[:, 1] - net.node_y[net.edge_v]
    )
    deficit = float(np.clip(drawn - length / f, 0.0, None).sum() + gaps.sum())
    return f, deficit


def subnetwork(net: WalkNetwork, edges: IntArray, *, label: str = "part") -> WalkNetwork:
    """Return the network made of some of its edges (their order and their end nodes kept).

    Parameters
    ----------
    net : WalkNetwork
        The whole network.
    edges : numpy.ndarray
        Edge indices to keep (sorted; every edge keeps its ends).
    label : str
        Added to the source in the network's report.

    Returns
    -------
    WalkNetwork
        Nodes in their original order; components recomputed.
    """
    edges = np.unique(np.asarray(edges, dtype=np.int64))
    nodes = np.unique(np.concatenate([net.edge_u[edges], net.edge_v[edges]]))
    index = np.full(net.n_nodes, -1, dtype=np.int64)
    index[nodes] = np.arange(nodes.size)
    eu = index[net.edge_u[edges]]
    ev = index[net.edge_v[edges]]
    length = net.edge_length_m[edges]
    graph = symmetric_csr(eu, ev, length, int(nodes.size))
    _, component = connected_components(graph, directed=False)
    report = dataclasses.replace(
        net.report,
        source=f"{net.report.source} ({label})",
        nodes=int(nodes.size),
        edges=int(edges.size),
        total_length_m=float(length.sum()),
    )
    return WalkNetwork(
        crs=net.crs,
        node_id=net.node_id[nodes],
        node_x=net.node_x[nodes],
        node_y=net.node_y[nodes],
        edge_u=eu,
        edge_v=ev,
        edge_length_m=length,
        edge_geometry=net.edge_geometry[edges],
        edge_highway=net.edge_highway[edges],
        graph=graph,
        component=component.astype(np.int64),
        report=report,
    )


def reach_function(net: WalkNetwork) -> Callable[[FloatArray], FloatArray]:
    """Vectorised :func:`walk_reach_m` (inf stays inf)."""
    f, deficit = length_ratio(net)

    def reach(limit: FloatArray) -> FloatArray:
        limit = np.asarray(limit, dtype=np.float64)
        return np.asarray(limit / f + deficit + 1e-6 * limit + 1e-3, dtype=np.float64)

    return reach
