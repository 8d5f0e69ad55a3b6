"""A disk cache of arrays that cannot run code.

Each entry is one ``.npz`` file (``numpy.savez``, read back with
``allow_pickle=False``) holding plain numeric or fixed-width unicode arrays and
one JSON document (stored as a ``uint8`` array under :data:`META_KEY`). Nothing
in it is ever unpickled, so a file planted in the cache folder can at worst be
refused, never executed.

The folder and its files are trusted only when they are what this module
would have made:

* the folder is created with mode ``0700``; an existing folder (or entry file)
  that is group- or world-writable, owned by another user, a symlink, or not
  a folder (a regular file) is refused;
* files are opened with ``O_NOFOLLOW`` relative to the opened folder
  (``dir_fd``), so neither a symlinked folder nor a symlinked entry is
  followed, and FIFOs or devices are refused without blocking;
* writes go to a temporary file in the same folder created with ``O_EXCL``
  and mode ``0600``, then ``os.replace`` it over the entry (an existing entry
  that is not a regular file of ours is left alone and the write refused).

:class:`CacheUnusableError` says why the folder or an entry cannot be used; the
caller warns once and works without the cache. :class:`CacheCorruptError` says an
entry of ours could not be read (truncated, foreign format, wrong key); the
caller rebuilds it.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import secrets
import stat
import zipfile
from collections.abc import Iterable, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, Final

import numpy as np

__all__ = [
    "META_KEY",
    "CacheCorruptError",
    "CacheUnusableError",
    "cache_key",
    "files_digest",
    "read_entry",
    "write_entry",
]

META_KEY: Final = "__meta__"
"""Name of the array holding the entry's JSON metadata (UTF-8 bytes)."""

_UNSAFE_MODE: Final = stat.S_IWGRP | stat.S_IWOTH
_NOFOLLOW: Final = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY: Final = getattr(os, "O_DIRECTORY", 0)
_NONBLOCK: Final = getattr(os, "O_NONBLOCK", 0)


class CacheUnusableError(Exception):
    """The cache folder or an entry is not safe or not usable; work without it."""


class CacheCorruptError(Exception):
    """An entry of ours could not be read back; rebuild it."""


def cache_key(parts: Mapping[str, object]) -> str:
    """Return a stable hex key for a mapping of JSON-serialisable parts.

    Examples
    --------
    >>> cache_key({"b": 1, "a": "x"}) == cache_key({"a": "x", "b": 1})
    True
    >>> len(cache_key({"a": 1}))
    40
    """
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:40]


def files_digest(paths: Iterable[Path]) -> str:
    """Return the SHA-256 of the names and bytes of files (in sorted order).

    Used to key prepared data by the source code that prepared it, so that
    editing a preparation module invalidates what it cached.
    """
    digest = hashlib.sha256()
    for path in sorted(Path(p) for p in paths):
        data = path.read_bytes()
        name = path.name.encode("utf-8")
        digest.update(len(name).to_bytes(8, "big") + name + len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


def _describe_mode(st: os.stat_result) -> str | None:
    """Return why a stat result is not trusted, or None."""
    if st.st_uid != os.geteuid():
        return f"it is owned by user id {st.st_uid}, not by you ({os.geteuid()})"
    if st.st_mode & _UNSAFE_MODE:
        return f"it is writable by other users (mode {stat.filemode(st.st_mode)})"
    return None


@contextmanager
def _opened_folder(folder: Path, *, create: bool) -> Any:
    """Yield a file descriptor of the cache folder after checking it."""
    folder = Path(os.path.abspath(os.path.expanduser(folder)))
    if create:
        try:
            if not folder.parent.is_dir():
                folder.parent.mkdir(parents=True)
            if not os.path.lexists(folder):
                os.mkdir(folder, 0o700)
        except OSError as exc:
            msg = f"the cache folder {folder} cannot be created ({exc.strerror or exc})"
            raise CacheUnusableError(msg) from exc
    try:
        fd = os.open(folder, os.O_RDONLY | _DIRECTORY | _NOFOLLOW)
    except OSError as exc:
        if exc.errno == errno.ELOOP or os.path.islink(folder):
            why = "it is a symbolic link (not followed)"
        elif exc.errno == errno.ENOTDIR:
            why = "it is not a folder"
        else:
            why = f"it cannot be opened ({exc.strerror or exc})"
        raise CacheUnusableError(f"the cache folder {folder} is not used: {why}") from exc
    try:
        why_not = _describe_mode(os.fstat(fd))
        if why_not is not None:
            raise CacheUnusableError(f"the cache folder {folder} is not used: {why_not}")
        yield fd
    finally:
        os.close(fd)


def _entry_name(name: str) -> str:
    if not name or "/" in name or name.startswith("."):
        msg = f"bad cache entry name {name!r}"
        raise ValueError(msg)
    return f"{name}.npz"


def read_entry(folder: Path, name: str) -> tuple[dict[str, np.ndarray], dict[str, Any]] | None:
    """Read an entry's arrays and metadata, or return None if there is none.

    Parameters
    ----------
    folder : Path
        The cache folder (created with mode 0700 if missing).
    name : str
        The entry's name (a file ``<name>.npz`` in ``folder``).

    Returns
    -------
    (dict, dict) or None
        The arrays (metadata removed) and the metadata.

    Raises
    ------
    CacheUnusableError
        The folder or the entry is not trusted (see the module notes).
    CacheCorruptError
        The entry is one of ours but cannot be read (truncated, not an
        ``.npz`` of plain arrays, pickled data, no metadata).
    """
    filename = _entry_name(name)
    with _opened_folder(folder, create=True) as dir_fd:
        try:
            fd = os.open(filename, os.O_RDONLY | _NOFOLLOW | _NONBLOCK, dir_fd=dir_fd)
        except FileNotFoundError:
            return None
        except OSError as exc:
            why = "it is a symbolic link (not followed)" if exc.errno == errno.ELOOP else str(exc.strerror or exc)
            raise CacheUnusableError(f"the cache file {folder / filename} is not used: {why}") from exc
        with os.fdopen(fd, "rb") as handle:
            st = os.fstat(handle.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise CacheUnusableError(f"the cache file {folder / filename} is not used: it is not a regular file")
            why_not = _describe_mode(st)
            if why_not is not None:
                raise CacheUnusableError(f"the cache file {folder / filename} is not used: {why_not}")
            try:
                with np.load(handle, allow_pickle=False) as npz:
                    arrays = {key: npz[key] for key in npz.files}
                meta = json.loads(bytes(arrays.pop(META_KEY)).decode("utf-8"))
            except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, AttributeError, TypeError) as exc:
                msg = f"the cache file {folder / filename} cannot be read ({type(exc).__name__}: {exc})"
                raise CacheCorruptError(msg) from exc
    if not isinstance(meta, dict):
        raise CacheCorruptError(f"the cache file {folder / filename} has no metadata")
    return arrays, meta


def write_entry(folder: Path, name: str, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> Path:
    """Write an entry atomically; return its path.

    The arrays must be plain (numeric, bool or fixed-width unicode): object
    arrays are refused by ``numpy.savez(..., allow_pickle=False)``.

    Raises
    ------
    CacheUnusableError
        The folder is not trusted or not writable, or an existing entry of that
        name is not a regular file of ours (it is left alone).
    """
    filename = _entry_name(name)
    payload = dict(arrays)
    payload[META_KEY] = np.frombuffer(json.dumps(meta, sort_keys=True).encode("utf-8"), dtype=np.uint8)
    with _opened_folder(folder, create=True) as dir_fd:
        try:
            st = os.stat(filename, dir_fd=dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            pass
        else:
            why_not = "it is not a regular file" if not stat.S_ISREG(st.st_mode) else _describe_mode(st)
            if why_not is not None:
                raise CacheUnusableError(f"the cache file {folder / filename} is not replaced: {why_not}")
        tmp = f".{filename}.{os.getpid()}.{secrets.token_hex(8)}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600, dir_fd=dir_fd)
        except OSError as exc:
            msg = f"the cache folder {folder} is not writable ({exc.strerror or exc})"
            raise CacheUnusableError(msg) from exc
        try:
            with os.fdopen(fd, "wb") as handle:
                np.savez(handle, allow_pickle=False, **payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, filename, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        except BaseException as exc:
            with suppress(OSError):
                os.unlink(tmp, dir_fd=dir_fd)
            if isinstance(exc, OSError):
                msg = f"the cache file {folder / filename} cannot be written ({exc.strerror or exc})"
                raise CacheUnusableError(msg) from exc
            raise
    return folder / filename
