"""Rendering a Folium map without leaving a trace, with deterministic element ids.

The output is deterministic. Branca gives every element a random id
(``hexlify(os.urandom(16))``, 32 hex digits; ``folium.utilities.deep_copy``
uses ``uuid4().hex``), which ends up in JavaScript variable names such as
``map_1d89...``, ``geo_json_61c6..._onEachFeature`` and in ``_children`` keys
that templates print. After rendering, the ids of all elements reachable from
the figure are collected and every occurrence in the HTML is replaced by a
sequence number in order of first appearance (``map_0001``,
``feature_group_0002``, ...). Rendering the same map, or an identically built
one, twice therefore gives byte-identical HTML.

Rendering leaves no trace on the map. Folium's own render is not so clean
(it files CDN links in the figure's header, and every ``Layer`` adds a new
``addTo`` script with a fresh random id next to those of earlier renders), so
the export snapshots the children of every element, leaves out tile layers
and the entries earlier renders generated, renders, and restores the
snapshot. A map displayed in a notebook first therefore exports exactly like
a fresh one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

import folium
from branca.element import Element, Figure
from folium.raster_layers import TileLayer, WmsTileLayer

from coverage._errors import CoverageInputError

__all__ = ["CHARSET_META", "check_map", "render", "set_charset", "stable_ids"]

_ID_TOKEN: Final = re.compile(r"(?<![0-9A-Za-z])[0-9a-f]{32}(?![0-9A-Za-z])")
_GENERATED_KEY: Final = re.compile(r"_([0-9a-f]{32})(?![0-9a-f])")
_CHARSET_META_FOLIUM: Final = '<meta http-equiv="content-type" content="text/html; charset=UTF-8" />'
CHARSET_META: Final = '<meta charset="utf-8" />'




def check_map(m: object) -> folium.Map:
    """Return ``m`` if it is a folium.Map, else raise a clear error."""
    if not isinstance(m, folium.Map):
        raise CoverageInputError(
            f"expected a folium.Map, got {type(m).__name__}; pass the map itself "
            "(the object returned by folium.Map(...))"
        )
    return m


def _children_of(element: Element) -> Iterator[Element]:
    for value in vars(element).values():
        if isinstance(value, Element):
            yield value
        elif isinstance(value, dict):
            yield from (v for v in value.values() if isinstance(v, Element))
        elif isinstance(value, list | tuple):
            yield from (v for v in value if isinstance(v, Element))


def _tile_url(layer: Element) -> str:
    for attr in ("tiles", "url"):
        value = getattr(layer, attr, None)
        if isinstance(value, str):
            return value
    return type(layer).__name__


def _reachable(root: Element) -> list[Element]:
    """Return every element reachable from ``root`` (children, sections, parents)."""
    found: list[Element] = []
    seen: set[int] = set()
    stack = [root]
    while stack:
        element = stack.pop()
        if id(element) in seen:
            continue
        seen.add(id(element))
        found.append(element)
        stack.extend(_children_of(element))
    return found


def _element_ids(root: Element) -> set[str]:
    """Return the ``_id`` of every element reachable from ``root``."""
    return {e._id for e in _reachable(root) if isinstance(getattr(e, "_id", None), str)}


@contextmanager
def _pristine(figure: Figure) -> Iterator[None]:
    """Restore every ``_children`` mapping under ``figure`` when the block ends.

    Rendering is not free of side effects in Folium: each render adds the CDN
    links to the header, and ``Layer.render`` adds a new ``ElementAddToElement``
    (with a new random id) whose script piles up in the figure next to the
    ones of earlier renders. Snapshotting and restoring the children makes a
    render leave no trace on the map.
    """
    saved = [(e, dict(e._children)) for e in _reachable(figure) if hasattr(e, "_children")]
    try:
        yield
    finally:
        for element, children in saved:
            element._children.clear()
            element._children.update(children)


def _drop_generated_entries(figure: Figure) -> None:
    """Remove the figure entries that earlier renders generated (they are regenerated).

    ``MacroElement.render`` (and GeoJsonTooltip, Popup, ...) file a new
    ``Element`` under the rendering element's name, ``<name>_<32 hex id>``
    possibly followed by a suffix; entries the user added are filed under
    their own name or under a name without an id. Only the former are removed:
    the render files them again, in render order, and stale ones from earlier
    renders (of elements replaced since) do not reach the output.
    """
    for section in (figure.header, figure.html, figure.script):
        for key, entry in list(section._children.items()):
            match = _GENERATED_KEY.search(key)
            if match is not None and match.group(1) != getattr(entry, "_id", None):
                del section._children[key]


def _drop_tiles(m: folium.Map) -> list[str]:
    """Detach every tile layer under ``m``; return their URLs (or class names)."""
    urls: list[str] = []
    for parent in _reachable(m):
        children = getattr(parent, "_children", None)
        if not isinstance(children, dict):
            continue
        for key, child in list(children.items()):
            if isinstance(child, TileLayer | WmsTileLayer):
                urls.append(_tile_url(child))
                del children[key]
    return urls


def render(m: folium.Map, *, drop_tiles: bool) -> tuple[str, set[str], list[str]]:
    """Render the whole figure holding ``m``; return HTML, element ids, dropped tiles.

    The map and its figure are left as they were (see :func:`_pristine`).
    """
    root = m.get_root()
    temporary_figure = root is m and m._parent is None
    if temporary_figure:
        Figure().add_child(m)
        root = m.get_root()
    if not isinstance(root, Figure):
        raise CoverageInputError(
            f"the map is inside a {type(root).__name__}, not a branca Figure, so it cannot be "
            "rendered as a page; export the map on its own"
        )
    try:
        with _pristine(root):
            _drop_generated_entries(root)
            dropped = _drop_tiles(m) if drop_tiles else []
            html = root.render()
            ids = _element_ids(root)
    finally:
        if temporary_figure:
            m._parent = None  # type: ignore[assignment]  # folium annotates it as Figure
    return html, ids, dropped


def stable_ids(html: str, ids: set[str]) -> str:
    """Replace element ids by sequence numbers in order of first appearance."""
    order: dict[str, int] = {}
    for match in _ID_TOKEN.finditer(html):
        token = match.group()
        if token in ids and token not in order:
            order[token] = len(order) + 1
    width = max(4, len(str(len(order))))

    def number(match: re.Match[str]) -> str:
        token = match.group()
        return f"{order[token]:0{width}d}" if token in order else token

    return _ID_TOKEN.sub(number, html)


def set_charset(html: str) -> str:
    """Declare UTF-8 with ``<meta charset>`` (replacing folium's http-equiv form)."""
    if _CHARSET_META_FOLIUM in html:
        return html.replace(_CHARSET_META_FOLIUM, CHARSET_META, 1)
    head = re.search(r"<head\b[^>]*>", html, re.IGNORECASE)
    if head is None:
        raise CoverageInputError(  # pragma: no cover - branca always writes <head>
            "the rendered map has no <head>; cannot declare its UTF-8 encoding"
        )
    return html[: head.end()] + "\n    " + CHARSET_META + html[head.end() :]
