"""The prepared walking network as a value: :class:`WalkNetwork` and its :class:`NetworkReport`.

Kept apart from :mod:`coverage.network` (which builds them) so that the cache
(:mod:`coverage._netcache`) and the numerical core can use the types without
importing the loaders. Import them from :mod:`coverage.network` or
:mod:`coverage`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pyproj
import scipy.sparse as sp

__all__ = ["NetworkReport", "WalkNetwork"]


@dataclass(frozen=True)
class NetworkReport:
    """What loading the network kept and removed, and why."""

    source: str
    raw_nodes: int
    raw_edges: int
    removed_edges: dict[str, int] = field(default_factory=dict)
    removed_ways: dict[str, int] = field(default_factory=dict)
    parallel_edges_collapsed: int = 0
    self_loops_removed: int = 0
    islands_removed: int = 0
    island_nodes_removed: int = 0
    nodes: int = 0
    edges: int = 0
    total_length_m: float = 0.0

    def summary(self) -> str:
        """Return a one-paragraph human-readable summary."""
        removed = ", ".join(
            [f"{n:,} ways {why}" for why, n in sorted(self.removed_ways.items())]
            + [f"{n:,} edges {why}" for why, n in sorted(self.removed_edges.items())]
        )
        return (
            f"{self.source}: {self.nodes:,} nodes, {self.edges:,} undirected edges, "
            f"{self.total_length_m / 1000:,.1f} km of walkable street "
            f"(raw {self.raw_nodes:,} nodes / {self.raw_edges:,} edges; not walkable: "
            f"{removed or 'none'}; {self.parallel_edges_collapsed:,} parallel edges collapsed "
            f"to the shortest; {self.self_loops_removed:,} self-loops; "
            f"{self.islands_removed:,} islands with {self.island_nodes_removed:,} nodes)."
        )


@dataclass(frozen=True, eq=False)
class WalkNetwork:
    """An undirected, projected walking network held as arrays.

    Attributes
    ----------
    crs : pyproj.CRS
        The projected (metric) CRS of every coordinate and geometry.
    node_id : numpy.ndarray
        Original (OSM) node ids, int64, one per node index.
    node_x, node_y : numpy.ndarray
        Projected node coordinates in metres.
    edge_u, edge_v : numpy.ndarray
        Node indices (int64) of each undirected edge's ends; ``edge_u != edge_v``.
    edge_length_m : numpy.ndarray
        Walking length of each edge in metres (> 0).
    edge_geometry : numpy.ndarray
        Shapely ``LineString`` per edge in ``crs``, running from ``edge_u`` to
        ``edge_v``.
    edge_highway : numpy.ndarray
        The OSM ``highway`` tag of each edge (object array of str).
    graph : scipy.sparse.csr_matrix
        Symmetric ``n_nodes x n_nodes`` matrix of edge lengths (the shortest of
        any parallel edges).
    component : numpy.ndarray
        Connected-component label per node (all kept components).
    report : NetworkReport
        What loading kept and removed.
    """

    crs: pyproj.CRS
    node_id: npt.NDArray[np.int64]
    node_x: npt.NDArray[np.float64]
    node_y: npt.NDArray[np.float64]
    edge_u: npt.NDArray[np.int64]
    edge_v: npt.NDArray[np.int64]
    edge_length_m: npt.NDArray[np.float64]
    edge_geometry: npt.NDArray[np.object_]
    edge_highway: npt.NDArray[np.object_]
    graph: sp.csr_matrix
    component: npt.NDArray[np.int64]
    report: NetworkReport

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.node_x.shape[0])

    @property
    def n_edges(self) -> int:
        """Number of undirected edges."""
        return int(self.edge_u.shape[0])

    def edges_gdf(self) -> gpd.GeoDataFrame:
        """Return the edges as a GeoDataFrame (index = edge index)."""
        return gpd.GeoDataFrame(
            {
                "u": self.node_id[self.edge_u],
                "v": self.node_id[self.edge_v],
                "length_m": self.edge_length_m,
                "highway": self.edge_highway,
            },
            geometry=gpd.GeoSeries(self.edge_geometry, crs=self.crs),
        )

    def nodes_gdf(self) -> gpd.GeoDataFrame:
        """Return the nodes as a GeoDataFrame (index = node index)."""
        return gpd.GeoDataFrame(
            {"osmid": self.node_id, "component": self.component},
            geometry=gpd.points_from_xy(self.node_x, self.node_y, crs=self.crs),
        )

    def __repr__(self) -> str:
        return (
            f"WalkNetwork({self.n_nodes:,} nodes, {self.n_edges:,} edges, "
            f"{self.edge_length_m.sum() / 1000:,.1f} km, crs={self.crs.to_string()})"
        )
