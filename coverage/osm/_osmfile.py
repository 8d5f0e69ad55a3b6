"""Read OSM XML and PBF files with pyosmium into highway ways and their nodes."""

from __future__ import annotations

import bz2
import gzip
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Final, cast

import osmium
import osmium.filter

from coverage._errors import CoverageInputError

from ._common import (
    _OsmData,
    ox,
)


def _file_label(file_format: str) -> str:
    """Return what a pyosmium ``file_format`` is called in messages."""
    return "OSM PBF" if file_format == "pbf" else "OSM XML"


@contextmanager
def _osmium_errors(path: Path, file_format: str) -> Iterator[None]:
    """Turn pyosmium's errors while reading ``path`` into :class:`CoverageInputError` saying what to fix."""
    label = _file_label(file_format)
    try:
        yield
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


def _no_highways(path: Path, file_format: str) -> CoverageInputError:
    """Return the error for an OSM file with no highway ways in it."""
    return CoverageInputError(
        f"{path}: the {_file_label(file_format)} file holds no ways with a 'highway' tag, so there is no "
        "street network in it. Export an area with streets and paths (highway=*)."
    )


def _read_osm_file(path: Path, *, file_format: str) -> _OsmData:
    """Read highway ways, their node coordinates and useful node tags with pyosmium."""
    node_keys = list(ox.settings.useful_tags_node)
    way_keys = list(ox.settings.useful_tags_way)
    data = _OsmData()
    no_location: set[int] = set()
    with _osmium_errors(path, file_format):
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
    if not data.ways:
        raise _no_highways(path, file_format)
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
