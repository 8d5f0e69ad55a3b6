"""The prepared-network cache: arrays plus JSON, never code; unsafe folders and files refused."""

from __future__ import annotations

import os
import pickle
import stat
import warnings
from pathlib import Path

import numpy as np
import pytest
import shapely

from coverage import _netcache, network, osm
from coverage._cache import CacheCorruptError, files_digest, read_entry, write_entry
from coverage._errors import CoverageWarning
from coverage.network import WalkNetwork, load_network

# a tiny street pattern: a cross of residential streets, a footway and a motorway
NODES = {
    1: (8.5000, 47.3700),
    2: (8.5010, 47.3700),
    3: (8.5020, 47.3700),
    4: (8.5010, 47.3710),
    5: (8.5010, 47.3690),
    6: (8.5015, 47.3705),
    7: (8.5030, 47.3700),
}
WAYS = [
    (10, [1, 2, 3], {"highway": "residential"}),
    (11, [4, 2, 5], {"highway": "residential"}),
    (12, [4, 6, 3], {"highway": "footway"}),
    (13, [3, 7], {"highway": "motorway"}),
]


def _xml() -> str:
    nodes = "".join(f'<node id="{i}" lat="{lat}" lon="{lon}"/>' for i, (lon, lat) in NODES.items())
    ways = "".join(
        f'<way id="{w}">'
        + "".join(f'<nd ref="{r}"/>' for r in refs)
        + "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
        + "</way>"
        for w, refs, tags in WAYS
    )
    return f'<?xml version="1.0"?><osm version="0.6">{nodes}{ways}</osm>'


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.osm"
    path.write_text(_xml(), encoding="utf-8")
    return path


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def reference(source: Path) -> WalkNetwork:
    return load_network(source, cache=False)


def _same(a: WalkNetwork, b: WalkNetwork) -> None:
    assert a.crs == b.crs
    for name in ("node_id", "node_x", "node_y", "edge_u", "edge_v", "edge_length_m", "component"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert shapely.equals_exact(a.edge_geometry, b.edge_geometry, tolerance=0).all()
    assert a.edge_highway.tolist() == b.edge_highway.tolist()
    assert (a.graph != b.graph).nnz == 0
    assert a.report == b.report


def _no_rebuild(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("the cached network should have been used")

    monkeypatch.setattr(osm, "graph_from_file", boom)  # the networkx path
    monkeypatch.setattr(network, "_network_from_ways", boom)  # the array path


def _entry(cache: Path) -> Path:
    (path,) = cache.glob("network-*.npz")
    return path


def _load_warning(source: Path, cache: Path, match: str) -> WalkNetwork:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        net = load_network(source, cache_dir=cache)
    messages = [str(w.message) for w in caught if issubclass(w.category, CoverageWarning)]
    assert len(messages) == 1, messages
    assert match in messages[0], messages[0]
    assert "cache_dir" in messages[0]  # the fix is named
    return net


# ---------------------------------------------------------------------------
# the format


def test_round_trip_keeps_every_array(reference: WalkNetwork, tmp_path: Path) -> None:
    arrays = _netcache.network_to_arrays(reference)
    assert all(a.dtype != object for a in arrays.values())
    write_entry(tmp_path, "net", arrays, _netcache.network_meta(reference, "k"))
    stored, meta = read_entry(tmp_path, "net") or ({}, {})
    _same(_netcache.network_from_arrays(stored, meta), reference)


def test_object_arrays_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="allow_pickle"):
        write_entry(tmp_path, "bad", {"x": np.array([{"a": 1}], dtype=object)}, {})


def test_cache_is_used_and_keyed_by_content(
    source: Path, cache: Path, reference: WalkNetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = load_network(source, cache_dir=cache)
    _same(first, reference)
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert stat.S_IMODE(_entry(cache).stat().st_mode) == 0o600
    assert not [p for p in cache.iterdir() if p.suffix == ".tmp"]
    with monkeypatch.context() as patch:
        _no_rebuild(patch)
        _same(load_network(source, cache_dir=cache), reference)
        # a changed file, or other options, are prepared afresh
        with pytest.raises(AssertionError, match="cached network"):
            load_network(source, cache_dir=cache, largest_only=False)
        source.write_text(_xml().replace('lon="8.503"', 'lon="8.504"'), encoding="utf-8")
        with pytest.raises(AssertionError, match="cached network"):
            load_network(source, cache_dir=cache)


# ---------------------------------------------------------------------------
# security


class _Payload:
    """Unpickling this creates a file: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (Path.touch, (str(self.marker),))


def test_planted_pickle_never_runs(source: Path, cache: Path, reference: WalkNetwork, tmp_path: Path) -> None:
    load_network(source, cache_dir=cache)
    entry = _entry(cache)
    marker = tmp_path / "code-ran"
    entry.write_bytes(pickle.dumps(_Payload(marker)))
    pickle.loads(pickle.dumps(_Payload(tmp_path / "control")))  # the payload does run when unpickled
    assert (tmp_path / "control").exists()

    net = _load_warning(source, cache, "cannot be read")

    assert not marker.exists()
    _same(net, reference)
    # the planted file was replaced by a real entry
    assert entry.read_bytes()[:2] == b"PK"


def test_planted_npz_with_object_array_never_runs(source: Path, cache: Path, tmp_path: Path) -> None:
    load_network(source, cache_dir=cache)
    entry = _entry(cache)
    marker = tmp_path / "code-ran"
    with entry.open("wb") as handle:
        np.savez(handle, node_id=np.array([_Payload(marker)], dtype=object))
    _load_warning(source, cache, "cannot be read")
    assert not marker.exists()


def test_changed_preparation_code_invalidates(
    source: Path, cache: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    load_network(source, cache_dir=cache)
    monkeypatch.setattr(_netcache, "preparation_digest", lambda: "edited walkability rules")
    _no_rebuild(monkeypatch)
    with pytest.raises(AssertionError, match="cached network"):
        load_network(source, cache_dir=cache)
    # and the digest does follow the code: it covers the preparation modules
    files = {path.name for path in _netcache._preparation_files()}
    assert {"network.py", "_netcache.py"} <= files
    assert any(name.endswith(".py") and name.startswith(("osm", "_")) for name in files)
    module = tmp_path / "rules.py"
    module.write_text("EXCLUDED = {'motorway'}\n")
    before = files_digest([module])
    module.write_text("EXCLUDED = {'motorway', 'footway'}\n")
    assert files_digest([module]) != before


def test_unwritable_folder_warns_once(source: Path, reference: WalkNetwork, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    net = _load_warning(source, blocker / "cache", "cannot be created")
    _same(net, reference)


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_read_only_folder_warns_once(source: Path, cache: Path, reference: WalkNetwork) -> None:
    cache.mkdir(mode=0o500)
    try:
        _same(_load_warning(source, cache, "not writable"), reference)
    finally:
        cache.chmod(0o700)


@pytest.mark.parametrize("mode", [0o777, 0o770, 0o702])
def test_folder_writable_by_others_is_refused(source: Path, cache: Path, reference: WalkNetwork, mode: int) -> None:
    cache.mkdir()
    cache.chmod(mode)
    _same(_load_warning(source, cache, "writable by other users"), reference)
    assert list(cache.iterdir()) == []


def test_entry_writable_by_others_is_refused(source: Path, cache: Path, tmp_path: Path) -> None:
    load_network(source, cache_dir=cache)
    entry = _entry(cache)
    entry.chmod(0o666)
    _load_warning(source, cache, "writable by other users")
    assert stat.S_IMODE(entry.stat().st_mode) == 0o666  # left alone


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a folder to another user needs root")
def test_folder_of_another_user_is_refused(source: Path, cache: Path) -> None:
    cache.mkdir(mode=0o700)
    os.chown(cache, 4242, -1)
    _load_warning(source, cache, "owned by user id 4242")
    assert list(cache.iterdir()) == []


def test_symlinked_entry_is_not_followed(source: Path, cache: Path, reference: WalkNetwork, tmp_path: Path) -> None:
    load_network(source, cache_dir=cache)
    entry = _entry(cache)
    target = tmp_path / "precious.npz"
    entry.rename(target)  # a valid entry, but reached through a link
    entry.symlink_to(target)
    before = target.read_bytes()

    _same(_load_warning(source, cache, "symbolic link"), reference)

    assert entry.is_symlink()
    assert target.read_bytes() == before


def test_symlinked_folder_is_not_followed(source: Path, reference: WalkNetwork, tmp_path: Path) -> None:
    real = tmp_path / "elsewhere"
    real.mkdir(mode=0o700)
    link = tmp_path / "cache"
    link.symlink_to(real)
    _same(_load_warning(source, link, "symbolic link"), reference)
    assert list(real.iterdir()) == []


def test_fifo_entry_does_not_hang(source: Path, cache: Path, reference: WalkNetwork) -> None:
    load_network(source, cache_dir=cache)
    entry = _entry(cache)
    entry.unlink()
    os.mkfifo(entry, 0o600)
    _same(_load_warning(source, cache, "not a regular file"), reference)
    assert stat.S_ISFIFO(entry.lstat().st_mode)


def test_truncated_entry_is_rebuilt(
    source: Path, cache: Path, reference: WalkNetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_network(source, cache_dir=cache)
    entry = _entry(cache)
    data = entry.read_bytes()
    entry.write_bytes(data[: len(data) // 2])
    with pytest.raises(CacheCorruptError):
        read_entry(cache, entry.stem)

    _same(_load_warning(source, cache, "cannot be read"), reference)

    assert entry.read_bytes()[:2] == b"PK"  # rebuilt
    _no_rebuild(monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _same(load_network(source, cache_dir=cache), reference)
