"""Tiny hand-built graphs whose answers are known exactly."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import shapely

CRS = "EPSG:32650"


def line_graph(lengths: list[float], *, y: float = 0.0, start_id: int = 1) -> nx.MultiDiGraph:
    """Nodes on the x axis joined in a chain; edge i has length lengths[i]."""
    G = nx.MultiDiGraph(crs=CRS)
    x = 0.0
    G.add_node(start_id, x=x, y=y)
    for i, length in enumerate(lengths):
        x += length
        G.add_node(start_id + i + 1, x=x, y=y)
        G.add_edge(start_id + i, start_id + i + 1, length=length, highway="footway")
    return G


def points(xy: list[tuple[float, float]], *, prefix: str = "h") -> gpd.GeoDataFrame:
    """Points in the test CRS with ids h0, h1, ..."""
    return gpd.GeoDataFrame(
        {
            "site_id": [f"{prefix}{i}" for i in range(len(xy))],
            "name": [f"{prefix}{i}" for i in range(len(xy))],
        },
        geometry=[shapely.Point(x, y) for x, y in xy],
        crs=CRS,
    )
