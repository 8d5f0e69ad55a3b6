"""Resolve a network source (file, folder, list of files) to its kind and checked paths; digest it."""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from coverage._errors import CoverageInputError

from ._common import (
    PathLike,
    Source,
)

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


_HASH_CHUNK_BYTES: Final = 1 << 20


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


def source_kind(source: Source) -> str:
    """Return the kind of a source: ``"graphml"``, ``"osm"``, ``"pbf"`` or ``"json"``.

    Raises
    ------
    CoverageInputError
        As :func:`file_digest` does, for a source that cannot be read.
    """
    return _resolve(source).kind
