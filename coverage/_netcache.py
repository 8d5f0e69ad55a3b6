"""Prepared walking networks on disk: arrays plus JSON, keyed by everything that made them.

A :class:`~coverage.network.WalkNetwork` is stored as plain arrays (node ids
and coordinates, edge ends and lengths, edge geometries as one ragged
coordinate array, the ``highway`` values as fixed-width unicode categories,
the CSR matrix) and JSON metadata (the CRS as WKT, the
:class:`~coverage.network.NetworkReport`, the key). See :mod:`coverage._cache`
for why such a file cannot run code and how the folder is checked.

The key covers the package version, a digest of the source code of the
modules that prepare the network (the OSM readers and :mod:`coverage.network`),
the osmnx version, the source files' content digest and the options, so a new
release, an edited preparation rule, a changed input file or other options all
prepare the network afresh.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.metadata
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import numpy as np
import pyproj
import scipy.sparse as sp
import shapely

from ._cache import CacheCorruptError, CacheUnusableError, cache_key, files_digest, read_entry, write_entry
from ._errors import warn
from ._walknet import NetworkReport, WalkNetwork

__all__ = ["FORMAT", "default_cache_dir", "load_cached", "network_key", "preparation_digest"]

logger = logging.getLogger(__name__)

FORMAT: Final = "walknet-npz-1"
"""Version of the stored layout; part of the key."""

_PACKAGE_DIR: Final = Path(__file__).resolve().parent

_FIX: Final = (
    "Point cache_dir (or $COVERAGE_PLANNER_CACHE) at a folder that only you can write (mode 0700), or pass cache=False."
)


def default_cache_dir() -> Path:
    """Return the folder for prepared networks.

    ``$COVERAGE_PLANNER_CACHE`` if set, else ``$XDG_CACHE_HOME/coverage-planner``
    (``~/.cache/coverage-planner``).
    """
    env = os.environ.get("COVERAGE_PLANNER_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "coverage-planner"


def _preparation_files() -> list[Path]:
    """Return the source files whose code decides what a prepared network holds."""
    files = [
        _PACKAGE_DIR / name for name in ("network.py", "_netcache.py", "_walknet.py", "_prepare.py", "_simplify.py")
    ]
    osm_package = _PACKAGE_DIR / "osm"
    if osm_package.is_dir():
        files.extend(sorted(osm_package.glob("*.py")))
    else:
        files.append(_PACKAGE_DIR / "osm.py")
    return [path for path in files if path.is_file()]


@functools.cache
def preparation_digest() -> str:
    """Return the SHA-256 of the preparation modules' source code (computed once)."""
    return files_digest(_preparation_files())


def _package_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def network_key(source_digest: str, *, largest_only: bool, crs: pyproj.CRS | None, engine: str) -> str:
    """Return the cache key of a prepared network (see the module notes)."""
    from . import __version__

    return cache_key(
        {
            "format": FORMAT,
            "package": __version__,
            "preparation": preparation_digest(),
            "osmnx": _package_version("osmnx"),
            "source": source_digest,
            "largest_only": bool(largest_only),
            "crs": crs.to_wkt() if crs is not None else "",
            "engine": engine,
        }
    )


# ---------------------------------------------------------------------------
# WalkNetwork <-> arrays


def network_to_arrays(net: WalkNetwork) -> dict[str, np.ndarray]:
    """Return a network's arrays, none of them an object array."""
    _, coords, offsets = shapely.to_ragged_array(net.edge_geometry)
    highway_values, highway_codes = np.unique(np.asarray(net.edge_highway, dtype=str), return_inverse=True)
    csr = net.graph.tocsr()
    return {
        "node_id": net.node_id,
        "node_x": net.node_x,
        "node_y": net.node_y,
        "edge_u": net.edge_u,
        "edge_v": net.edge_v,
        "edge_length_m": net.edge_length_m,
        "geometry_coords": np.ascontiguousarray(coords, dtype=np.float64),
        "geometry_offsets": np.asarray(offsets[0], dtype=np.int64),
        "highway_values": highway_values.astype(str),
        "highway_codes": highway_codes.astype(np.int32),
        "component": net.component,
        "csr_data": csr.data,
        "csr_indices": csr.indices,
        "csr_indptr": csr.indptr,
    }


def network_meta(net: WalkNetwork, key: str) -> dict[str, Any]:
    """Return a network's JSON metadata."""
    return {"key": key, "format": FORMAT, "crs_wkt": net.crs.to_wkt(), "report": dataclasses.asdict(net.report)}


def network_from_arrays(arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> WalkNetwork:
    """Rebuild a network from :func:`network_to_arrays` and :func:`network_meta`.

    Raises
    ------
    CacheCorruptError
        If an array is missing or the arrays do not fit together.
    """
    try:
        n = int(arrays["node_id"].shape[0])
        m = int(arrays["edge_u"].shape[0])
        offsets = arrays["geometry_offsets"]
        if not (arrays["node_x"].shape == arrays["node_y"].shape == arrays["component"].shape == (n,)):
            raise CacheCorruptError("node arrays differ in length")
        if not (arrays["edge_v"].shape == arrays["edge_length_m"].shape == arrays["highway_codes"].shape == (m,)):
            raise CacheCorruptError("edge arrays differ in length")
        if offsets.shape != (m + 1,) or arrays["csr_indptr"].shape != (n + 1,):
            raise CacheCorruptError("geometry or matrix offsets do not fit the edges")
        for name in ("edge_u", "edge_v", "csr_indices"):
            values = arrays[name]
            if values.size and (values.min() < 0 or values.max() >= n):
                raise CacheCorruptError(f"{name} refers to nodes that do not exist")
        geometry = shapely.from_ragged_array(
            shapely.GeometryType.LINESTRING, arrays["geometry_coords"], (offsets,)
        ).astype(object)
        highway = arrays["highway_values"][arrays["highway_codes"]].astype(object)
        graph = sp.csr_matrix((arrays["csr_data"], arrays["csr_indices"], arrays["csr_indptr"]), shape=(n, n))
        report_fields = dict(meta["report"])
        for name in ("removed_edges", "removed_ways"):
            report_fields[name] = {str(k): int(v) for k, v in report_fields[name].items()}
        report = NetworkReport(**report_fields)
        crs = pyproj.CRS.from_wkt(meta["crs_wkt"])
    except CacheCorruptError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, pyproj.exceptions.CRSError) as exc:
        msg = f"the stored network does not fit together ({type(exc).__name__}: {exc})"
        raise CacheCorruptError(msg) from exc
    return WalkNetwork(
        crs=crs,
        node_id=arrays["node_id"].astype(np.int64, copy=False),
        node_x=arrays["node_x"].astype(np.float64, copy=False),
        node_y=arrays["node_y"].astype(np.float64, copy=False),
        edge_u=arrays["edge_u"].astype(np.int64, copy=False),
        edge_v=arrays["edge_v"].astype(np.int64, copy=False),
        edge_length_m=arrays["edge_length_m"].astype(np.float64, copy=False),
        edge_geometry=geometry,
        edge_highway=highway,
        graph=graph,
        component=arrays["component"].astype(np.int64, copy=False),
        report=report,
    )


# ---------------------------------------------------------------------------
# the cached load


def load_cached(build: Callable[[], WalkNetwork], *, key: str, folder: Path) -> WalkNetwork:
    """Return the network stored under ``key`` in ``folder``, or build and store it.

    Whatever goes wrong with the cache (an unsafe or unwritable folder, a
    symlink, a file of another user, a damaged or foreign file) is reported
    in **one** :class:`~coverage.CoverageWarning` and the network is built
    without it; a damaged file of ours is replaced by the rebuilt network.
    """
    name = f"network-{key}"
    problem: str | None = None
    try:
        entry = read_entry(folder, name)
    except CacheUnusableError as exc:
        warn(f"{exc}; the network is prepared without the cache. {_FIX}", stacklevel=3)
        return build()
    except CacheCorruptError as exc:
        problem = f"{exc}; the network was prepared again"
        entry = None
    if entry is not None:
        arrays, meta = entry
        if meta.get("key") != key or meta.get("format") != FORMAT:
            problem = f"the cache file {folder / name}.npz holds another network; it was prepared again"
        else:
            try:
                net = network_from_arrays(arrays, meta)
            except CacheCorruptError as exc:
                problem = f"the cache file {folder / name}.npz is damaged ({exc}); it was prepared again"
            else:
                logger.info("loaded the prepared network from the cache %s", folder / f"{name}.npz")
                return net
    net = build()
    try:
        write_entry(folder, name, network_to_arrays(net), network_meta(net, key))
    except CacheUnusableError as exc:
        problem = f"{problem + '; ' if problem else ''}{exc}; the network was prepared without the cache"
    if problem is not None:
        warn(f"{problem}. {_FIX}", stacklevel=3)
    return net
