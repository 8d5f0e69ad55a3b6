"""Shared pieces of the OSM readers: path types, way tags, the raw data holder, osmnx settings."""

from __future__ import annotations

import importlib
import math
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    import osmnx as ox
else:

    class _Lazy:
        """Import osmnx (slow: about 2 s) only when a graph is actually built."""

        def __getattr__(self, name: str) -> Any:
            return getattr(importlib.import_module("osmnx"), name)

    ox = _Lazy()


PathLike = str | os.PathLike[str]
"""A path to one file or folder."""


Source = PathLike | Sequence[PathLike]
"""One path, or several Overpass JSON paths to merge."""


CRS_WGS84: Final = "EPSG:4326"


PEDESTRIAN_WAY_TAGS: Final[tuple[str, ...]] = (
    "highway",
    "foot",
    "access",
    "footway",
    "sidewalk",
    "service",
    "area",
    "name",
    "oneway",
)
"""OSM way tags kept on edges (on top of ``osmnx.settings.useful_tags_way``)."""


# reasons a highway way can be left out of the graph (keys of G.graph["dropped_ways"])
DROP_DEGENERATE: Final = "fewer than 2 distinct nodes"


DROP_OUTSIDE: Final = "no 2 consecutive nodes in the file"


@dataclass
class _OsmData:
    """Highway ways and the coordinates and tags of their nodes."""

    node_lonlat: dict[int, tuple[float, float]] = field(default_factory=dict)
    node_tags: dict[int, dict[str, str]] = field(default_factory=dict)
    ways: list[tuple[int, list[int], dict[str, str]]] = field(default_factory=list)


@contextmanager
def _osmnx_settings() -> Iterator[None]:
    """Extend osmnx's way tags and switch off ``all_oneway``; restore both afterwards."""
    old_tags = ox.settings.useful_tags_way
    old_all_oneway = ox.settings.all_oneway
    extra = [tag for tag in PEDESTRIAN_WAY_TAGS if tag not in old_tags]
    ox.settings.useful_tags_way = [*old_tags, *extra]
    ox.settings.all_oneway = False
    try:
        yield
    finally:
        ox.settings.useful_tags_way = old_tags
        ox.settings.all_oneway = old_all_oneway


def _bad_coordinate(lon: object, lat: object) -> str | None:
    """Say what is wrong with a lon/lat pair, or return None."""
    for name, value, limit in (("latitude", lat, 90.0), ("longitude", lon, 180.0)):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"{name} {value!r:.40} is not a number"
        if not (math.isfinite(value) and -limit <= value <= limit):
            return f"{name} {value!r} is not in [{-limit:g}, {limit:g}]"
    return None
