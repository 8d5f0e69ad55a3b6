"""Read offline OpenStreetMap sources into raw osmnx-style graphs.

First stage of the pipeline: a file on disk becomes a networkx ``MultiDiGraph``
in the form osmnx builds (unprojected EPSG:4326, node attributes ``x``/``y``,
edge attributes ``osmid``, ``highway``, ``length`` in metres, optional
``geometry`` and the OSM way tags a pedestrian filter needs). Nothing is
filtered for pedestrians here; :mod:`coverage.network` does that.

Supported sources, chosen by file suffix:

* ``.graphml``: a graph saved by ``osmnx.save_graphml`` (OSMnx 1.x or 2.x).
* ``.osm``, ``.xml``, ``.osm.bz2``, ``.osm.gz``: OSM XML.
* ``.osm.pbf``, ``.pbf``: OSM PBF.
* ``.json``: raw Overpass API JSON (``{"elements": [...]}``); several files, or a
  folder of them, are merged without duplicates.

OSM XML, PBF and Overpass JSON are read with pyosmium (or :mod:`json`), keep
every way with a ``highway`` tag and the nodes it references, and are turned
into a graph exactly as ``osmnx.graph_from_xml(..., bidirectional=True,
simplify=True, retain_all=True)`` would: one edge per pair of consecutive way
nodes in both directions, great-circle ``length`` from
``osmnx.distance.add_edge_lengths``, then ``osmnx.simplify_graph``. Unlike
``graph_from_xml``, ways that run out of a clipped extract are cut at the
missing nodes (with a warning) instead of failing, non-highway ways
(buildings, land use) never become edges, and nodes that no highway way uses
are left out instead of becoming isolated graph nodes.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import importlib
import json
import logging
import math
import os
import re
import stat
import time
import warnings
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import groupby, pairwise
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final, cast

import networkx as nx
import osmium
import osmium.filter
import pyproj

from coverage._errors import CoverageInputError, CoverageWarning

if TYPE_CHECKING:
    import osmnx as ox
else:

    class _Lazy:
        """Import osmnx (slow: about 2 s) only when a graph is actually built."""

        def __getattr__(self, name: str) -> Any:
            return getattr(importlib.import_module("osmnx"), name)

    ox = _Lazy()

__all__ = ["PEDESTRIAN_WAY_TAGS", "SUPPORTED_SUFFIXES", "file_digest", "graph_from_file"]

logger = logging.getLogger(__name__)

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

# suffix -> (kind, pyosmium file format); longer suffixes are checked first
_SUFFIXES: Final[dict[str, tuple[str, str]]] = {
    ".osm.pbf": ("pbf", "pbf"),
    ".osm.bz2": ("osm", "osm.bz2"),
    ".osm.gz": ("osm", "osm.gz"),
    ".graphml": ("graphml", ""),
    ".pbf": ("pbf", "pbf"),
    ".osm": ("osm", "osm"),
    ".xml": ("osm", "osm"),
    ".json": ("json", ""),
}

SUPPORTED_SUFFIXES: Final[tuple[str, ...]] = tuple(_SUFFIXES)
"""File suffixes :func:`graph_from_file` understands (case-insensitive)."""

_KIND_LABELS: Final[dict[str, str]] = {
    "graphml": "OSMnx GraphML file",
    "osm": "OSM XML file",
    "pbf": "OSM PBF file",
    "json": "Overpass JSON file",
}

_SUPPORTED_TEXT: Final = (
    ".graphml (OSMnx GraphML), .osm / .xml / .osm.bz2 / .osm.gz (OSM XML), "
    ".osm.pbf / .pbf (OSM PBF), .json (Overpass API JSON), or a folder of .json files"
)

# reasons a highway way can be left out of the graph (keys of G.graph["dropped_ways"])
DROP_DEGENERATE: Final = "fewer than 2 distinct nodes"
DROP_OUTSIDE: Final = "no 2 consecutive nodes in the file"

_HASH_CHUNK_BYTES: Final = 1 << 20


@dataclass
class _OsmData:
    """Highway ways and the coordinates and tags of their nodes."""

    node_lonlat: dict[int, tuple[float, float]] = field(default_factory=dict)
    node_tags: dict[int, dict[str, str]] = field(default_factory=dict)
    ways: list[tuple[int, list[int], dict[str, str]]] = field(default_factory=list)


@dataclass(frozen=True)
class _Resolved:
    """A source resolved to its kind and existing file paths."""

    kind: str
    paths: tuple[Path, ...]
    is_folder: bool
    description: str

    @property
    def osmium_format(self) -> str:
        return _classify(self.paths[0])[1]


def graph_from_file(source: Source) -> nx.MultiDiGraph:
    """Read an offline OSM source into a raw osmnx-style street graph.

    Parameters
    ----------
    source
        Path to a ``.graphml``, OSM XML (``.osm``, ``.xml``, ``.osm.bz2``,
        ``.osm.gz``), OSM PBF (``.osm.pbf``, ``.pbf``) or Overpass API JSON
        (``.json``) file; a folder, meaning all ``*.json`` files in it (sorted
        by name); or a sequence of Overpass JSON paths, merged in the order
        given.

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
            graph = _build_graph(data, path_text=resolved.description, notes=notes)
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


def file_digest(source: Source) -> str:
    """Return a SHA-256 hex digest of the contents of a source's file(s).

    Parameters
    ----------
    source
        Anything :func:`graph_from_file` accepts.

    Returns
    -------
    str
        For a single file, the SHA-256 of its bytes (the same as ``sha256sum``).
        For a folder (its ``*.json`` files, sorted by name) or a sequence of
        files (in the order given), the SHA-256 of each file's name, size and
        bytes in turn, so renaming, reordering, adding or removing a file
        changes the digest.

    Raises
    ------
    CoverageInputError
        If a file is missing or the source is not one :func:`graph_from_file`
        can read.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "empty.osm"
    ...     _ = path.write_bytes(b"")
    ...     file_digest(path)[:16]
    'e3b0c44298fc1c14'

    """
    resolved = _resolve(source)
    digest = hashlib.sha256()
    several = resolved.is_folder or len(resolved.paths) > 1
    for path in resolved.paths:
        if several:
            name = path.name.encode("utf-8")
            size = path.stat().st_size
            digest.update(len(name).to_bytes(8, "big") + name + size.to_bytes(8, "big"))
        try:
            with path.open("rb") as handle:
                while chunk := handle.read(_HASH_CHUNK_BYTES):
                    digest.update(chunk)
        except OSError as exc:
            msg = f"{path}: cannot read the file ({exc}); check that it exists and is readable."
            raise CoverageInputError(msg) from exc
    return digest.hexdigest()


# ---------------------------------------------------------------------------
# resolving the source


def _classify(path: Path) -> tuple[str, str]:
    """Return ``(kind, osmium format)`` of a path from its suffix."""
    name = path.name.lower()
    for suffix, kind in _SUFFIXES.items():
        if name.endswith(suffix):
            return kind
    suffix = "".join(path.suffixes[-2:]) or "(none)"
    msg = (
        f"{path}: unknown file type {suffix!r}. Supported: {_SUPPORTED_TEXT}. "
        "Rename the file if its suffix is wrong, or convert it (for example with "
        "`osmium cat in.o5m -o out.osm.pbf`)."
    )
    raise CoverageInputError(msg)


_FILE_TYPES: Final = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _regular_file(path: Path) -> Path:
    """Raise unless ``path`` is a regular file (after symlinks); never opens it."""
    mode = path.stat().st_mode
    if stat.S_ISREG(mode):
        return path
    what = next((label for test, label in _FILE_TYPES if test(mode)), "not a regular file")
    via = f" (reached through the symbolic link {path})" if path.is_symlink() else ""
    msg = (
        f"{path}: this is {what}{via}, not a regular file, so it is not read (it could "
        "block or never end). A network source must be a regular file, or a folder of "
        "Overpass .json files; save the data to a file and pass that."
    )
    raise CoverageInputError(msg)


def _existing(path_like: PathLike) -> Path:
    path = Path(os.fspath(path_like)).expanduser().absolute()
    if not path.exists():
        msg = (
            f"{path}: no such file or folder. Check the path (relative paths are "
            f"resolved from {Path.cwd()}) or set the data folder."
        )
        raise CoverageInputError(msg)
    return path if path.is_dir() else _regular_file(path)


def _resolve(source: Source) -> _Resolved:
    """Check a source and list its files."""
    if isinstance(source, str | os.PathLike):
        path = _existing(source)
        if path.is_dir():
            paths = tuple(sorted(_regular_file(p) for p in path.glob("*.json")))
            if not paths:
                msg = (
                    f"{path}: the folder holds no *.json files. Pass a folder of raw "
                    f"Overpass API JSON responses, or one file of type {_SUPPORTED_TEXT}."
                )
                raise CoverageInputError(msg)
            text = f"{len(paths)} Overpass JSON file{'s' if len(paths) > 1 else ''} in {path}"
            return _Resolved("json", paths, is_folder=True, description=text)
        kind = _classify(path)[0]
        return _Resolved(kind, (path,), is_folder=False, description=f"{_KIND_LABELS[kind]} {path}")

    items = list(source)
    if not items:
        msg = "graph_from_file: the list of sources is empty; pass at least one file."
        raise CoverageInputError(msg)
    if len(items) == 1:
        return _resolve(items[0])
    paths = tuple(_existing(item) for item in items)
    for path in paths:
        if path.is_dir():
            msg = (
                f"{path}: a folder cannot be one of several sources. Pass the folder "
                "alone (all its *.json files are read), or list the files."
            )
            raise CoverageInputError(msg)
        kind = _classify(path)[0]
        if kind != "json":
            msg = (
                f"{path}: only Overpass API JSON files (.json) can be merged, but this is "
                f"an {_KIND_LABELS[kind]}. Pass it on its own, or merge OSM files first "
                "(for example `osmium merge a.osm.pbf b.osm.pbf -o merged.osm.pbf`)."
            )
            raise CoverageInputError(msg)
    names = ", ".join(str(path) for path in paths)
    return _Resolved("json", paths, is_folder=False, description=f"{len(paths)} Overpass JSON files: {names}")


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


# ---------------------------------------------------------------------------
# GraphML


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


# ---------------------------------------------------------------------------
# OSM XML and PBF (pyosmium)


def _read_osm_file(path: Path, *, file_format: str) -> _OsmData:
    """Read highway ways, their node coordinates and useful node tags with pyosmium."""
    node_keys = list(ox.settings.useful_tags_node)
    way_keys = list(ox.settings.useful_tags_way)
    data = _OsmData()
    no_location: set[int] = set()
    label = "OSM PBF" if file_format == "pbf" else "OSM XML"
    try:
        processor = (
            osmium.FileProcessor(osmium.io.File(str(path), file_format), osmium.osm.NODE | osmium.osm.WAY)
            .with_locations()
            .with_filter(osmium.filter.KeyFilter("highway", *node_keys))
        )
        for obj in processor:
            tags = obj.tags
            if isinstance(obj, osmium.osm.Node):
                data.node_tags[obj.id] = {k: v for k in node_keys if (v := tags.get(k)) is not None}
            elif isinstance(obj, osmium.osm.Way) and "highway" in tags:
                refs = []
                for node_ref in obj.nodes:
                    refs.append(node_ref.ref)
                    location = node_ref.location
                    if location.valid():
                        data.node_lonlat[node_ref.ref] = (location.lon, location.lat)
                    else:
                        no_location.add(node_ref.ref)
                way_tags = {k: v for k in way_keys if (v := tags.get(k)) is not None}
                data.ways.append((obj.id, refs, way_tags))
        no_location.difference_update(data.node_lonlat)
        if no_location:
            # nodes after the ways (unsorted file) or outside a clipped extract: look them up
            nodes = osmium.FileProcessor(osmium.io.File(str(path), file_format), osmium.osm.NODE)
            for node in nodes.with_filter(osmium.filter.IdFilter(no_location)):
                if isinstance(node, osmium.osm.Node) and node.location.valid():
                    data.node_lonlat[node.id] = (node.location.lon, node.location.lat)
    except osmium.InvalidLocationError as exc:
        where = _find_bad_xml_node(path, str(exc)) if file_format != "pbf" else None
        msg = (
            f"{path}: {where or 'a node'} has an invalid coordinate ({exc}). OSM latitudes "
            "must be numbers in [-90, 90] and longitudes in [-180, 180]; fix or remove the "
            "node, or export the data again."
        )
        raise CoverageInputError(msg) from exc
    except RuntimeError as exc:
        msg = (
            f"{path}: cannot read it as {label} ({exc}). The file is damaged, truncated or "
            f"not {label}; download or export it again, or check it with `osmium fileinfo`."
        )
        raise CoverageInputError(msg) from exc
    if not data.ways:
        msg = (
            f"{path}: the {label} file holds no ways with a 'highway' tag, so there is no "
            "street network in it. Export an area with streets and paths (highway=*)."
        )
        raise CoverageInputError(msg)
    return data


_NODE_TAG: Final = re.compile(rb"<node\b[^>]*>")
_ATTRIBUTE: Final = re.compile(rb'\b(id|lat|lon)\s*=\s*["\']([^"\']*)["\']')


def _open_binary(path: Path) -> IO[bytes]:
    """Open an OSM XML file for reading bytes, decompressing ``.bz2`` and ``.gz``."""
    suffix = path.suffix.lower()
    if suffix == ".bz2":
        return bz2.open(path, "rb")
    if suffix == ".gz":
        return cast(IO[bytes], gzip.open(path, "rb"))
    return path.open("rb")


def _find_bad_xml_node(path: Path, error: str) -> str | None:
    """Return ``"node <id>"`` for the first XML node whose lat/lon is the bad value, if found."""
    match = re.search(r"'([^']*)'", error)
    if match is None:
        return None
    bad = match.group(1).encode("utf-8", "replace")
    try:
        with _open_binary(path) as handle:
            for line in handle:
                for node in _NODE_TAG.findall(line):
                    attrs = dict(_ATTRIBUTE.findall(node))
                    if bad in (attrs.get(b"lat"), attrs.get(b"lon")):
                        return f"node {attrs.get(b'id', b'?').decode('utf-8', 'replace')}"
    except (OSError, EOFError, ValueError):
        return None
    return None


# ---------------------------------------------------------------------------
# Overpass JSON


def _load_overpass_json(path: Path) -> tuple[list[dict[str, Any]], str | None, str | None]:
    """Return a file's elements, its ``osm3s.timestamp_osm_base`` and its ``remark``."""
    try:
        payload = json.loads(path.read_bytes())
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        msg = (
            f"{path}: not valid JSON ({exc}). The download was probably cut off or is an "
            "error page; run the Overpass query again and save the raw [out:json] response."
        )
        raise CoverageInputError(msg) from exc
    except RecursionError as exc:
        msg = (
            f"{path}: the JSON is nested too deeply to be an Overpass response (elements "
            "are at most three levels deep). Save the raw response of an Overpass query "
            "with [out:json]."
        )
        raise CoverageInputError(msg) from exc
    if isinstance(payload, dict) and (payload.get("type") in _GEOJSON_TYPES or "features" in payload):
        msg = (
            f"{path}: this is GeoJSON ({payload.get('type') or 'features'}), not an Overpass "
            "API response, so it has no OSM ways and node ids to build a network from. Pass "
            "the raw Overpass [out:json] response, an OSM .osm.pbf/.osm extract, or an OSMnx "
            ".graphml of the streets."
        )
        raise CoverageInputError(msg)
    if not isinstance(payload, dict) or not isinstance(payload.get("elements"), list):
        msg = (
            f"{path}: not an Overpass API JSON response (no 'elements' list at the top). "
            "Save the raw response of an Overpass query with [out:json], not GeoJSON or "
            "another export."
        )
        raise CoverageInputError(msg)
    elements: list[dict[str, Any]] = payload["elements"]
    for index, element in enumerate(elements):
        if not (
            isinstance(element, dict) and isinstance(element.get("type"), str) and isinstance(element.get("id"), int)
        ):
            msg = (
                f"{path}: element {index} has no valid 'type' and integer 'id' "
                f"({str(element)[:80]}). The file is not a raw Overpass response; download "
                "it again."
            )
            raise CoverageInputError(msg)
        _check_element_coordinates(element, path=path)
    osm3s = payload.get("osm3s")
    base = osm3s.get("timestamp_osm_base") if isinstance(osm3s, dict) else None
    remark = payload.get("remark")
    return (
        elements,
        base if isinstance(base, str) else None,
        remark if isinstance(remark, str) else None,
    )


_GEOJSON_TYPES: Final = frozenset(
    {"FeatureCollection", "Feature", "LineString", "MultiLineString", "Point", "Polygon", "GeometryCollection"}
)


def _bad_coordinate(lon: object, lat: object) -> str | None:
    """Say what is wrong with a lon/lat pair, or return None."""
    for name, value, limit in (("latitude", lat, 90.0), ("longitude", lon, 180.0)):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"{name} {value!r:.40} is not a number"
        if not (math.isfinite(value) and -limit <= value <= limit):
            return f"{name} {value!r} is not in [{-limit:g}, {limit:g}]"
    return None


def _check_element_coordinates(element: dict[str, Any], *, path: Path) -> None:
    """Raise if an Overpass node (or a way's ``out geom`` point) has a bad coordinate."""
    points: list[tuple[object, object]] = []
    if element["type"] == "node" and ("lat" in element or "lon" in element):
        points.append((element.get("lon"), element.get("lat")))
    geometry = element.get("geometry") if element["type"] == "way" else None
    if isinstance(geometry, list):
        points.extend((p.get("lon"), p.get("lat")) for p in geometry if isinstance(p, dict))
    for lon, lat in points:
        problem = _bad_coordinate(lon, lat)
        if problem is not None:
            msg = (
                f"{path}: {element['type']} {element['id']} has a {problem}. Fix or remove "
                "it in the file, or download the data again from Overpass."
            )
            raise CoverageInputError(msg)


def _newer(new: dict[str, Any], new_base: str | None, old: dict[str, Any], old_base: str | None) -> bool | None:
    """Say whether ``new`` is a newer copy than ``old`` (``None``: cannot tell).

    Element ``version`` first, then element ``timestamp``, then the
    ``timestamp_osm_base`` of the files the copies come from.
    """
    for new_value, old_value in (
        (new.get("version"), old.get("version")),
        (new.get("timestamp"), old.get("timestamp")),
        (new_base, old_base),
    ):
        if new_value is not None and old_value is not None and new_value != old_value:
            try:
                return bool(new_value > old_value)
            except TypeError:
                continue
    return None


def _merge_overpass(paths: Sequence[Path], *, notes: list[str]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Merge Overpass responses into one element list without duplicate (type, id).

    When two copies of an element differ, the newer one is kept (see
    :func:`_newer`), else the first one read, so the result depends only on the
    order of ``paths``.
    """
    merged: dict[tuple[str, int], tuple[dict[str, Any], str | None]] = {}
    read = identical = newer_kept = first_kept = 0
    undecided: list[str] = []
    for path in paths:
        elements, base, remark = _load_overpass_json(path)
        if remark:
            notes.append(
                f"{path}: the Overpass server added the remark {remark!r}; the response may "
                "be incomplete. Run the query again (a smaller area or a longer [timeout:])."
            )
        read += len(elements)
        for element in elements:
            key = (element["type"], element["id"])
            kept = merged.get(key)
            if kept is None:
                merged[key] = (element, base)
            elif kept[0] == element:
                identical += 1
            else:
                is_newer = _newer(element, base, kept[0], kept[1])
                if is_newer is None:
                    first_kept += 1
                    if len(undecided) < 3:
                        undecided.append(f"{key[0]} {key[1]}")
                else:
                    newer_kept += 1
                    if is_newer:
                        merged[key] = (element, base)
    if first_kept:
        notes.append(
            f"{first_kept:,} OSM elements differ between the Overpass files with no version "
            f"or timestamp to tell which is newer (e.g. {', '.join(undecided)}); the copy in the "
            "first file was kept. Download the files again at one time, or query with "
            "`out meta;` so elements carry versions."
        )
    stats = {
        "files": len(paths),
        "elements_read": read,
        "elements_merged": len(merged),
        "duplicates_identical": identical,
        "duplicates_newer_kept": newer_kept,
        "duplicates_first_kept": first_kept,
    }
    return [element for element, _ in merged.values()], stats


def _read_overpass(paths: Sequence[Path], *, notes: list[str]) -> tuple[_OsmData, dict[str, int]]:
    """Read and merge Overpass JSON files into highway ways and their nodes."""
    elements, stats = _merge_overpass(paths, notes=notes)
    node_keys = list(ox.settings.useful_tags_node)
    way_keys = list(ox.settings.useful_tags_way)
    data = _OsmData()
    lonlat: dict[int, tuple[float, float]] = {}
    where = paths[0] if len(paths) == 1 else paths[0].parent
    for element in elements:
        kind = element["type"]
        tags = element.get("tags") or {}
        if kind == "node":
            lat, lon = element.get("lat"), element.get("lon")
            if isinstance(lat, int | float) and isinstance(lon, int | float):
                lonlat[element["id"]] = (float(lon), float(lat))
            if tags:
                data.node_tags[element["id"]] = {k: str(tags[k]) for k in node_keys if k in tags}
        elif kind == "way" and "highway" in tags:
            refs = element.get("nodes")
            if not isinstance(refs, list) or not all(isinstance(ref, int) for ref in refs):
                msg = (
                    f"{where}: way {element['id']} has no list of node ids ('nodes'). Query "
                    "Overpass with `out body;` or `out geom;`, not `out ids;` or `out tags;`."
                )
                raise CoverageInputError(msg)
            geometry = element.get("geometry")
            if isinstance(geometry, list) and len(geometry) == len(refs):
                # `out geom;` responses carry the node coordinates on the way
                for ref, point in zip(refs, geometry, strict=True):
                    if isinstance(point, dict) and "lat" in point and "lon" in point:
                        lonlat.setdefault(ref, (float(point["lon"]), float(point["lat"])))
            data.ways.append((element["id"], refs, {k: str(tags[k]) for k in way_keys if k in tags}))
    if not data.ways:
        msg = (
            f"{where}: the Overpass JSON holds no ways with a 'highway' tag. Query streets "
            "and paths, e.g. `[out:json]; way[highway](bbox); (._;>;); out body;`."
        )
        raise CoverageInputError(msg)
    used = {ref for _, refs, _ in data.ways for ref in refs}
    data.node_lonlat = {node: xy for node, xy in lonlat.items() if node in used}
    return data, stats


# ---------------------------------------------------------------------------
# building the graph


def _build_graph(data: _OsmData, *, path_text: str, notes: list[str]) -> nx.MultiDiGraph:
    """Turn highway ways into a simplified, bidirectional osmnx-style graph.

    Mirrors osmnx's ``_create_graph`` with ``bidirectional=True``: each way
    becomes edges between consecutive nodes in both directions, carrying
    ``osmid``, the useful way tags, ``oneway=False`` and ``reversed``; then
    ``length`` is added and the topology simplified with osmnx's public
    functions. Ways are cut where their nodes are missing from the data.
    """
    graph = nx.MultiDiGraph(
        created_date=ox.utils.ts(),
        created_with=f"coverage-planner (OSMnx {ox.__version__} conventions)",
        crs=CRS_WGS84,
    )
    dropped: Counter[str] = Counter()
    clipped_ways = 0
    missing_nodes: set[int] = set()
    pieces: list[tuple[list[int], dict[str, Any]]] = []
    used: dict[int, None] = {}  # ordered set
    for way_id, refs, tags in data.ways:
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
        msg = (
            f"{path_text}: none of its {len(data.ways):,} highway ways has two consecutive "
            "nodes with coordinates in the data, so no street can be built. Export the "
            "area again with complete ways and their nodes."
        )
        raise CoverageInputError(msg)
    if missing_nodes:
        gone = dropped[DROP_OUTSIDE]
        notes.append(
            f"{path_text}: {clipped_ways:,} highway ways reference {len(missing_nodes):,} nodes "
            "that are not in the data (a clipped extract); they were cut at the missing nodes"
            + (f" and {gone:,} of them, with no 2 consecutive nodes left, were dropped" if gone else "")
            + ". To keep whole ways, cut extracts with `osmium extract --strategy complete_ways` "
            "or query Overpass with `(._;>;);`."
        )
    if dropped[DROP_DEGENERATE]:
        notes.append(
            f"{path_text}: {dropped[DROP_DEGENERATE]:,} highway ways with fewer than 2 distinct "
            "nodes were dropped (broken OSM data; fix them in OSM if they matter)."
        )

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
    graph.graph["dropped_ways"] = dict(sorted(dropped.items()))
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
