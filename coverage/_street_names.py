"""Street names for the edges of a network, read from its GraphML or OSM XML source.

The prepared :class:`~coverage.network.WalkNetwork` keeps no names, but an
official needs them ("the nearest named street" of a proposed site, road
labels on the offline basemap). This reads the ``name`` of each edge from
the source file again, as plain XML (``iterparse``, no entity expansion,
nothing evaluated): GraphML edges by their end nodes; OSM ways by the nodes
they pass, so an edge whose two ends lie on the same named way gets its
name. Other sources (PBF, Overpass JSON) give no names (``None``).
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.etree.ElementTree import iterparse

import numpy as np

from ._text import display

if TYPE_CHECKING:
    from .network import WalkNetwork

__all__ = ["street_names"]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _graphml_names(path: Path) -> dict[tuple[int, int], str]:
    key_id = None
    names: dict[tuple[int, int], str] = {}
    for _, elem in iterparse(path, events=("end",)):
        tag = _local(elem.tag)
        if tag == "key" and elem.get("for") == "edge" and elem.get("attr.name") == "name":
            key_id = elem.get("id")
        elif tag == "edge":
            if key_id is not None:
                for data in elem:
                    if _local(data.tag) == "data" and data.get("key") == key_id and data.text:
                        try:
                            u, v = int(elem.get("source", "")), int(elem.get("target", ""))
                        except ValueError:
                            break
                        names.setdefault((min(u, v), max(u, v)), _first_name(data.text))
                        break
            elem.clear()
        elif tag == "node":
            elem.clear()
    return names


def _first_name(text: str) -> str:
    # osmnx writes a list of names of merged ways as "['A', 'B']".
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1].split(",")[0].strip().strip("'\"")
    return display(text, 60)


def _osm_node_names(path: Path) -> dict[int, set[str]]:
    ways: dict[int, set[str]] = defaultdict(set)
    for _, elem in iterparse(path, events=("end",)):
        tag = elem.tag
        if tag == "way":
            name = next((t.get("v") for t in elem if t.tag == "tag" and t.get("k") == "name"), None)
            if name:
                clean = display(name, 60)
                for nd in elem:
                    if nd.tag == "nd" and nd.get("ref", "").lstrip("-").isdigit():
                        ways[int(nd.get("ref", "0"))].add(clean)
            elem.clear()
        elif tag in ("node", "relation"):
            elem.clear()
    return ways


def street_names(net: WalkNetwork, sources: str | os.PathLike[str] | Sequence[Any] | None) -> np.ndarray | None:
    """Return the street name of each edge of ``net`` ("" if unnamed), or None if the sources carry none.

    Parameters
    ----------
    net : WalkNetwork
        The prepared network (edges identified by their end nodes' OSM ids).
    sources : path or list of paths
        The files the network was read from (GraphML or OSM XML are read).
    """
    if sources is None:
        return None
    items: list[Any] = list(sources) if isinstance(sources, list | tuple) else [sources]
    paths = [Path(p) for p in items]
    by_pair: dict[tuple[int, int], str] = {}
    by_node: dict[int, set[str]] = defaultdict(set)
    for path in paths:
        suffix = path.name.lower()
        if not path.is_file():
            continue
        if suffix.endswith(".graphml"):
            by_pair.update(_graphml_names(path))
        elif suffix.endswith((".osm", ".xml")):
            for node, names in _osm_node_names(path).items():
                by_node[node] |= names
    if not by_pair and not by_node:
        return None
    u = net.node_id[net.edge_u]
    v = net.node_id[net.edge_v]
    out = np.full(net.n_edges, "", dtype=object)
    for i, (a, b) in enumerate(zip(u.tolist(), v.tolist(), strict=True)):
        name = by_pair.get((min(a, b), max(a, b)))
        if name is None and by_node:
            common = by_node.get(a, set()) & by_node.get(b, set())
            name = min(common) if common else ""
        out[i] = name or ""
    return out
