"""Build the raw osmnx-style graph from highway ways (the networkx path) and :func:`graph_from_file`."""

from __future__ import annotations

import logging
import math
import time
import warnings
from collections import Counter
from collections.abc import Callable, Mapping
from itertools import groupby, pairwise
from typing import Any

import networkx as nx

from coverage._errors import CoverageInputError, CoverageWarning

from ._common import (
    CRS_WGS84,
    DROP_DEGENERATE,
    DROP_OUTSIDE,
    Source,
    _OsmData,
    _osmnx_settings,
    ox,
)
from ._graphml import _read_graphml
from ._osmfile import _read_osm_file
from ._overpass import _read_overpass
from ._sources import _resolve

logger = logging.getLogger("coverage.osm")


def graph_from_file(
    source: Source, *, way_filter: Callable[[Mapping[str, str]], str | None] | None = None
) -> nx.MultiDiGraph:
    """Read an offline OSM source into a raw osmnx-style street graph.

    Parameters
    ----------
    source
        Path to a ``.graphml``, OSM XML (``.osm``, ``.xml``, ``.osm.bz2``,
        ``.osm.gz``), OSM PBF (``.osm.pbf``, ``.pbf``) or Overpass API JSON
        (``.json``) file; a folder, meaning all ``*.json`` files in it (sorted
        by name); or a sequence of Overpass JSON paths, merged in the order
        given.
    way_filter
        Optional: called with each OSM way's tags (OSM XML, PBF and Overpass
        sources); ways for which it returns a reason (a string) are left out
        before the graph is built and simplified, counted per reason in
        ``G.graph["filtered_ways"]``. :mod:`coverage.network` passes its
        pedestrian filter here, so that topology is simplified on the walking
        network. Ignored for GraphML (already built).

    Returns
    -------
    networkx.MultiDiGraph
        Unprojected (EPSG:4326) graph with node attributes ``x`` (lon) and
        ``y`` (lat), and edge attributes ``osmid``, ``highway``, ``length`` (m),
        ``oneway``, ``reversed``, optional ``geometry`` and the way tags in
        :data:`PEDESTRIAN_WAY_TAGS` and ``osmnx.settings.useful_tags_way``.
        Every way read from OSM data is added in both directions (walking
        ignores one-way tags), so ``oneway`` is ``False`` on its edges (the OSM
        ``oneway`` value is not kept, as in osmnx). A GraphML graph is returned
        with the edges it was saved with: if it was built for driving, one-way
        streets have one direction only, so treat its edges as undirected (as
        :mod:`coverage.network` does).
        ``G.graph`` holds ``crs`` (``"EPSG:4326"``), ``source`` (a readable
        description), ``source_files`` (list of paths) and ``dropped_ways``
        (reason -> number of highway ways left out, empty if none); OSM and
        Overpass sources add ``osm_elements`` ({"nodes": n, "ways": m} of the
        highway data read) and Overpass sources ``overpass_merge``
        (element counts before and after de-duplication).

    Raises
    ------
    CoverageInputError
        If a file is missing, has an unknown suffix, is damaged or of the
        wrong format, or holds no highway ways.

    Warns
    -----
    CoverageWarning
        When ways reference nodes that are not in the file (a clipped extract;
        the ways are cut at the gaps), when highway ways had to be left out,
        when Overpass files disagree about an element and nothing says which
        copy is newer, or when a GraphML graph lacked a CRS or edge lengths.

    Notes
    -----
    For the duration of the call ``osmnx.settings.useful_tags_way`` is
    extended with :data:`PEDESTRIAN_WAY_TAGS` and ``osmnx.settings.all_oneway``
    is set to ``False``; both are restored afterwards, even on error. Because
    these are global settings, do not call this from several threads at once.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> xml = '''<osm version="0.6">
    ...   <node id="1" lat="22.54" lon="114.050"/>
    ...   <node id="2" lat="22.54" lon="114.051"/>
    ...   <way id="10"><nd ref="1"/><nd ref="2"/>
    ...     <tag k="highway" v="footway"/><tag k="oneway" v="yes"/></way>
    ... </osm>'''
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "tiny.osm"
    ...     _ = path.write_text(xml)
    ...     G = graph_from_file(path)
    >>> sorted(G.edges())
    [(1, 2), (2, 1)]
    >>> round(float(G.edges[1, 2, 0]["length"]), 1)
    102.7

    """
    resolved = _resolve(source)
    notes: list[str] = []
    start = time.perf_counter()
    with _osmnx_settings():
        if resolved.kind == "graphml":
            graph = _read_graphml(resolved.paths[0], notes=notes)
        else:
            if resolved.kind == "json":
                data, merge = _read_overpass(resolved.paths, notes=notes)
            else:
                data = _read_osm_file(resolved.paths[0], file_format=resolved.osmium_format)
                merge = None
            graph = _build_graph(data, path_text=resolved.description, notes=notes, way_filter=way_filter)
            graph.graph["osm_elements"] = {"nodes": len(data.node_lonlat), "ways": len(data.ways)}
            if merge is not None:
                graph.graph["overpass_merge"] = merge
    graph.graph["crs"] = CRS_WGS84
    graph.graph["source"] = resolved.description
    graph.graph["source_files"] = [str(path) for path in resolved.paths]
    graph.graph.setdefault("dropped_ways", {})
    for note in notes:
        warnings.warn(note, CoverageWarning, stacklevel=2)
    logger.info(
        "read %s: %s nodes, %s edges in %.1f s",
        resolved.description,
        f"{len(graph):,}",
        f"{graph.number_of_edges():,}",
        time.perf_counter() - start,
    )
    return graph


def way_notes(path_text: str, *, clipped_ways: int, missing_nodes: int, dropped: Mapping[str, int]) -> list[str]:
    """Return the warnings about clipped and broken highway ways (shared with the array path)."""
    notes = []
    if missing_nodes:
        gone = dropped.get(DROP_OUTSIDE, 0)
        notes.append(
            f"{path_text}: {clipped_ways:,} highway ways reference {missing_nodes:,} nodes "
            "that are not in the data (a clipped extract); they were cut at the missing nodes"
            + (f" and {gone:,} of them, with no 2 consecutive nodes left, were dropped" if gone else "")
            + ". To keep whole ways, cut extracts with `osmium extract --strategy complete_ways` "
            "or query Overpass with `(._;>;);`."
        )
    if dropped.get(DROP_DEGENERATE, 0):
        notes.append(
            f"{path_text}: {dropped[DROP_DEGENERATE]:,} highway ways with fewer than 2 distinct "
            "nodes were dropped (broken OSM data; fix them in OSM if they matter)."
        )
    return notes


def no_street_error(path_text: str, n_ways: int, filtered: Mapping[str, int]) -> CoverageInputError:
    """Return the error for ways that give no street (shared with the array path)."""
    if filtered and sum(filtered.values()) == n_ways:
        reasons = ", ".join(f"{count:,} {reason}" for reason, count in sorted(filtered.items()))
        msg = (
            f"{path_text}: none of its {n_ways:,} highway ways may be walked ({reasons}); "
            "is this a walking or street network? Export footways, paths and streets."
        )
    else:
        msg = (
            f"{path_text}: none of its {n_ways:,} highway ways has two consecutive "
            "nodes with coordinates in the data, so no street can be built. Export the "
            "area again with complete ways and their nodes."
        )
    return CoverageInputError(msg)


def rings_only_error(path_text: str) -> CoverageInputError:
    """Return the error for ways that form only isolated rings (shared with the array path)."""
    msg = (
        f"{path_text}: the usable highway ways form only closed rings that touch no other "
        "street, and isolated rings are not part of a street network (osmnx removes them). "
        "Export a larger area, with the streets that lead to them."
    )
    return CoverageInputError(msg)


def _build_graph(
    data: _OsmData,
    *,
    path_text: str,
    notes: list[str],
    way_filter: Callable[[Mapping[str, str]], str | None] | None = None,
) -> nx.MultiDiGraph:
    """Turn highway ways into a simplified, bidirectional osmnx-style graph.

    Mirrors osmnx's ``_create_graph`` with ``bidirectional=True``: each way
    becomes edges between consecutive nodes in both directions, carrying
    ``osmid``, the useful way tags, ``oneway=False`` and ``reversed``; then
    ``length`` is added and the topology simplified with osmnx's public
    functions. Ways are cut where their nodes are missing from the data.
    Ways for which ``way_filter`` gives a reason are left out first (counted
    in ``G.graph["filtered_ways"]``).
    """
    graph = nx.MultiDiGraph(
        created_date=ox.utils.ts(),
        created_with=f"coverage-planner (OSMnx {ox.__version__} conventions)",
        crs=CRS_WGS84,
    )
    dropped: Counter[str] = Counter()
    filtered: Counter[str] = Counter()
    clipped_ways = 0
    missing_nodes: set[int] = set()
    pieces: list[tuple[list[int], dict[str, Any]]] = []
    used: dict[int, None] = {}  # ordered set
    for way_id, refs, tags in data.ways:
        if way_filter is not None and (reason := way_filter(tags)) is not None:
            filtered[reason] += 1
            continue
        nodes = [node for node, _ in groupby(refs)]
        if len(set(nodes)) < 2:
            dropped[DROP_DEGENERATE] += 1
            continue
        runs: list[list[int]] = []
        run: list[int] = []
        for node in nodes:
            if node in data.node_lonlat:
                run.append(node)
                continue
            missing_nodes.add(node)
            if len(run) >= 2:
                runs.append(run)
            run = []
        if len(run) >= 2:
            runs.append(run)
        if sum(len(r) for r in runs) < len(nodes):
            clipped_ways += 1
        if not runs:
            dropped[DROP_OUTSIDE] += 1
            continue
        attrs = {"osmid": way_id, **tags, "oneway": False}
        for run in runs:
            pieces.append((run, attrs))
            used.update(dict.fromkeys(run))

    if not pieces:
        raise no_street_error(path_text, len(data.ways), filtered)
    notes.extend(way_notes(path_text, clipped_ways=clipped_ways, missing_nodes=len(missing_nodes), dropped=dropped))

    graph.add_nodes_from(
        (
            node,
            {
                "y": data.node_lonlat[node][1],
                "x": data.node_lonlat[node][0],
                **data.node_tags.get(node, {}),
            },
        )
        for node in used
    )
    for run, attrs in pieces:
        edges = list(pairwise(run))
        graph.add_edges_from(edges, **attrs, reversed=False)
        graph.add_edges_from([(v, u) for u, v in edges], **attrs, reversed=True)
    graph = ox.distance.add_edge_lengths(graph)
    graph = ox.simplify_graph(graph)
    if graph.number_of_edges() == 0:
        raise rings_only_error(path_text)
    graph.graph["dropped_ways"] = dict(sorted(dropped.items()))
    if way_filter is not None:
        graph.graph["filtered_ways"] = dict(sorted(filtered.items()))
    _check_lengths(graph, path_text=path_text)
    return graph


def _check_lengths(graph: nx.MultiDiGraph, *, path_text: str) -> None:
    """Raise if an edge length is not a finite number (bad coordinates)."""
    for u, v, length in graph.edges(data="length"):
        if not (isinstance(length, float | int) and math.isfinite(length)):
            msg = (
                f"{path_text}: edge {u}->{v} has length {length!r}; node coordinates are "
                "invalid. Export the data again."
            )
            raise CoverageInputError(msg)
