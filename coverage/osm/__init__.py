"""Read offline OpenStreetMap sources: street graphs and building tables.

First stage of the pipeline: a file on disk becomes a networkx ``MultiDiGraph``
in the form osmnx builds (unprojected EPSG:4326, node attributes ``x``/``y``,
edge attributes ``osmid``, ``highway``, ``length`` in metres, optional
``geometry`` and the OSM way tags a pedestrian filter needs). Nothing is
filtered for pedestrians here unless a ``way_filter`` is passed (as
:mod:`coverage.network` does, with its pedestrian rules). The array path of
the loader reads the same sources without a graph (:mod:`._arrays`).

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

The package, one module per step:

* :mod:`._sources`: resolve a source (file, folder, list) and check it is
  made of regular files; :func:`file_digest`;
* :mod:`._graphml`: OSMnx GraphML;
* :mod:`._osmfile`: OSM XML and PBF with pyosmium;
* :mod:`._overpass`: Overpass JSON, merged without duplicates;
* :mod:`._graph`: the raw osmnx-style graph (:func:`graph_from_file`);
* :mod:`._arrays`: highway ways straight into arrays (the array path);
* :mod:`.buildings`: building footprints as a plain table
  (:func:`buildings_from_file`), for building-based demand.
"""

from __future__ import annotations

from ._common import CRS_WGS84, DROP_DEGENERATE, DROP_OUTSIDE, PEDESTRIAN_WAY_TAGS, PathLike, Source
from ._graph import graph_from_file
from ._sources import SUPPORTED_SUFFIXES, file_digest, source_kind
from .buildings import BUILDING_COLUMNS, buildings_from_file

__all__ = [
    "BUILDING_COLUMNS",
    "CRS_WGS84",
    "DROP_DEGENERATE",
    "DROP_OUTSIDE",
    "PEDESTRIAN_WAY_TAGS",
    "SUPPORTED_SUFFIXES",
    "PathLike",
    "Source",
    "buildings_from_file",
    "file_digest",
    "graph_from_file",
    "source_kind",
]
