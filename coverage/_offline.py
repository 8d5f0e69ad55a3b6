"""Self-contained, deterministic HTML export of Folium maps.

A Folium map loads Leaflet, jQuery, Bootstrap, Font Awesome and
Leaflet.awesome-markers from CDNs, so an exported map is blank on a machine
without internet. :func:`offline_html` renders the map to one HTML string that
needs no network:

* Leaflet's JavaScript and CSS (the version Folium uses, 1.9.3) are inlined
  from the ``xstatic-leaflet`` package, with the images the CSS refers to
  (layer-control and default-marker icons) inlined as ``data:`` URIs and
  ``L.Icon.Default`` pointed at them, so nothing asks for ``images/*.png``.
* The other assets Folium adds to every map (jQuery, Bootstrap JS and CSS,
  glyphicons, Font Awesome, awesome-markers and its rotate CSS) are dropped.
  The maps this package draws use only Leaflet core: circle markers, GeoJSON,
  polygons and polylines, the layer control, the scale bar, tooltips, popups,
  and HTML boxes (title, legend, summary) styled inline. Folium's own
  templates call jQuery in exactly two places (popup content and
  ``Map.keep_in_front``); a 10-line stand-in covering those two calls is
  inlined when they occur.
* Tile layers cannot work offline. They are **dropped with a**
  :class:`~coverage._errors.CoverageWarning` rather than refused, so that a
  map made with Folium's default ``tiles="OpenStreetMap"`` still exports; draw
  the walking network as a GeoJSON layer to give officials a basemap.
* Anything else that would reach the internet makes the export fail with a
  :class:`~coverage._errors.CoverageInputError` naming the URL: a remaining
  ``<script src>`` or ``<link href>`` (plugins), ``<img>``/``<iframe>``
  sources, CSS ``url()``/``@import``, remote image or tile overlays, jQuery
  calls beyond the two above (``GeoJson(embed=False)``), and
  ``folium.Icon`` markers (awesome-markers).

The output is deterministic and rendering leaves no trace on the map (see
:mod:`coverage._offline_render`).
"""

from __future__ import annotations

import base64
import os
import re
import warnings
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final

import folium

from coverage._errors import CoverageInputError, CoverageWarning
from coverage._offline_render import CHARSET_META, check_map, render, set_charset, stable_ids

__all__ = ["offline_html", "save_html"]

# Folium's own asset names (folium.Map.default_js / default_css).
_LEAFLET_JS_NAME: Final = "leaflet"
_LEAFLET_CSS_NAME: Final = "leaflet_css"

_SCRIPT_SRC: Final = re.compile(r"<script\b[^>]*?\bsrc\s*=\s*([\"'])(?P<url>.*?)\1[^>]*>\s*</script\s*>", re.IGNORECASE)
_LINK_HREF: Final = re.compile(r"<link\b[^>]*?\bhref\s*=\s*([\"'])(?P<url>.*?)\1[^>]*?/?>", re.IGNORECASE)
_REMOTE: Final = r"(?:https?:)?//"
_TILE_WHERE: Final = "a Leaflet tile/image/video layer"
_REMOTE_PATTERNS: Final = (
    ("<script src>", _SCRIPT_SRC),
    ("<link href>", _LINK_HREF),
    (
        "an element's src",
        re.compile(
            r"<(?:img|iframe|source|video|audio|embed|track|input)\b[^>]*?\bsrc\s*=\s*"
            rf"([\"'])(?P<url>{_REMOTE}.*?)\1",
            re.IGNORECASE,
        ),
    ),
    (
        "an <object> data",
        re.compile(rf"<object\b[^>]*?\bdata\s*=\s*([\"'])(?P<url>{_REMOTE}.*?)\1", re.IGNORECASE),
    ),
    (
        "a CSS url()",
        re.compile(rf"url\(\s*([\"']?)(?P<url>{_REMOTE}[^\"')\s]*)\1\s*\)", re.IGNORECASE),
    ),
    (
        "a CSS @import",
        re.compile(rf"@import\s+(?:url\()?\s*([\"'])(?P<url>{_REMOTE}.*?)\1", re.IGNORECASE),
    ),
    (
        _TILE_WHERE,
        re.compile(
            r"L\.(?:tileLayer(?:\.wms)?|imageOverlay|videoOverlay)\(\s*"
            rf"([\"'`])(?P<url>{_REMOTE}.*?)\1"
        ),
    ),
)
_IS_REMOTE: Final = re.compile(_REMOTE, re.IGNORECASE)

# jQuery as folium's own templates use it: Popup (`$(`<div>..</div>`)[0]`) and
# Map.keep_in_front (`$(document).ready(f)`). Anything else needs real jQuery.
_JQUERY_USE: Final = re.compile(r"\$\s*[(.]|\bjQuery\b")
_JQUERY_SUPPORTED: Final = re.compile(r"\$\(`|\$\(document\)\.ready\(")
_JQUERY_SHIM: Final = """<script>
/* coverage-planner: stand-in for the two jQuery calls in folium's templates
   (popup content $(`<html>`)[0] and $(document).ready(f)); jQuery itself is
   not included in offline maps. */
window.$ = window.jQuery = function (arg) {
  if (typeof arg === "string") {
    var t = document.createElement("template");
    t.innerHTML = arg.trim();
    return Array.prototype.filter.call(t.content.childNodes, function (n) {
      return n.nodeType === 1;
    });
  }
  return {ready: function (f) {
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", f);
    } else { f(); }
  }};
};
</script>"""
_FONT_ICONS: Final = re.compile(
    r"\bclass\s*=\s*\\?[\"'][^\"']*\b(?:fa|fas|far|fab|fa-solid|fa-regular|glyphicon)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _LeafletAssets:
    version: str
    js: str
    css: str
    icon_defaults: str


@cache
def _leaflet_assets() -> _LeafletAssets:
    """Read Leaflet from xstatic-leaflet, with its images inlined as data: URIs."""
    try:
        from xstatic.pkg import leaflet as xstatic_leaflet
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise ImportError(
            "offline maps inline Leaflet from the xstatic-leaflet package; install it with "
            "`pip install xstatic-leaflet`"
        ) from exc
    base = Path(xstatic_leaflet.BASE_DIR)
    js = (base / "leaflet.js").read_text(encoding="utf-8")
    # A source-map comment would make developer tools ask for leaflet.js.map.
    js = re.sub(r"\n?//# sourceMappingURL=\S*\s*$", "\n", js)
    js = re.sub(r"</(script)", r"<\\/\1", js, flags=re.IGNORECASE)
    css = (base / "leaflet.css").read_text(encoding="utf-8")
    images: dict[str, str] = {}
    for png in sorted((base / "images").glob("*.png")):
        images[png.name] = "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode("ascii")

    def inline(match: re.Match[str]) -> str:
        name = match.group("name")
        if name not in images:
            raise CoverageInputError(  # pragma: no cover - guards an xstatic upgrade
                f"leaflet.css refers to images/{name}, which xstatic-leaflet does not ship; "
                "the offline export cannot inline it"
            )
        return f'url("{images[name]}")'

    css = re.sub(r"url\(\s*[\"']?images/(?P<name>[\w.-]+)[\"']?\s*\)", inline, css)
    icon_defaults = (
        "<script>\n/* coverage-planner: default marker images inlined as data: URIs */\n"
        'L.Icon.Default.imagePath = "";\n'
        "L.Icon.Default.mergeOptions({"
        f'iconUrl: "{images["marker-icon.png"]}", '
        f'iconRetinaUrl: "{images["marker-icon-2x.png"]}", '
        f'shadowUrl: "{images["marker-shadow.png"]}"'
        "});\n</script>"
    )
    return _LeafletAssets(version=str(xstatic_leaflet.VERSION), js=js, css=css, icon_defaults=icon_defaults)


def _folium_assets(m: folium.Map) -> tuple[dict[str, str], dict[str, str]]:
    """Return Folium's default (name -> url) JS and CSS assets for this map."""
    js = dict(folium.Map.default_js)
    js.update(dict(m.default_js))
    css = dict(folium.Map.default_css)
    css.update(dict(m.default_css))
    return js, css


def _leaflet_version_in(url: str) -> str | None:
    match = re.search(r"leaflet@(\d+(?:\.\d+)*)", url)
    return match.group(1) if match else None


def _describe(found: list[tuple[str, str]]) -> str:
    shown = "; ".join(f"{url} (in {where})" for where, url in found[:5])
    more = f" and {len(found) - 5} more" if len(found) > 5 else ""
    return shown + more


# ----------------------------------------------------------------------------
# public API
# ----------------------------------------------------------------------------


def offline_html(m: folium.Map, *, keep_tiles: bool = False) -> str:
    """Render a Folium map to a self-contained HTML page that needs no network.

    Parameters
    ----------
    m
        The map. It is rendered with its whole figure (custom HTML added with
        ``m.get_root().html.add_child(...)`` is kept) and is not modified.
    keep_tiles
        Keep tile layers (an online basemap: the page then shows tiles when it
        has internet, and still works without); everything else is inlined.

    Returns
    -------
    str
        A complete HTML document: ``<meta charset="utf-8">``, Leaflet 1.9.3
        inlined, no other external asset, element ids numbered
        deterministically (the same map gives byte-identical output).

    Raises
    ------
    CoverageInputError
        If the map needs an asset from the internet that cannot be included:
        a plugin's script or stylesheet, a remote image/tile/video overlay or
        ``<img>``, ``folium.Icon`` markers (awesome-markers), or jQuery beyond
        folium's popup template (e.g. ``GeoJson(..., embed=False)``). The
        message names the URL or the construct.

    Warns
    -----
    CoverageWarning
        If the map has tile layers: they are left out of the export (tiles
        need the internet). Create the map with ``tiles=None`` and draw the
        street network as a GeoJSON layer instead. Also if the HTML uses Font
        Awesome or glyphicon classes, whose fonts are not included.

    Examples
    --------
    >>> import folium
    >>> m = folium.Map(location=[22.54, 114.06], zoom_start=14, tiles=None)
    >>> _ = folium.CircleMarker([22.54, 114.06], radius=6).add_to(m)
    >>> html = offline_html(m)
    >>> "cdn.jsdelivr.net" in html, "var map_0001 = L.map(" in html
    (False, True)

    """
    return _offline_html(check_map(m), stacklevel=3, keep_tiles=keep_tiles)


def _offline_html(m: folium.Map, *, stacklevel: int, keep_tiles: bool = False) -> str:
    """Implement :func:`offline_html`; warnings point ``stacklevel`` frames up."""
    html, ids, dropped = render(m, drop_tiles=not keep_tiles)
    if dropped:
        warnings.warn(
            f"offline map export dropped {len(dropped)} tile layer(s) ({', '.join(dropped)}): "
            "tiles are fetched from the internet. Create the map with folium.Map(..., "
            "tiles=None) and draw the walking network as a GeoJson layer for a basemap.",
            CoverageWarning,
            stacklevel=stacklevel,
        )
    assets = _leaflet_assets()
    default_js, default_css = _folium_assets(m)
    leaflet_urls = {default_js.get(_LEAFLET_JS_NAME), default_css.get(_LEAFLET_CSS_NAME)}
    leaflet_urls.discard(None)
    other_default_urls = (set(default_js.values()) | set(default_css.values())) - leaflet_urls
    for url in leaflet_urls:
        version = _leaflet_version_in(str(url))
        if version is not None and version != assets.version:
            warnings.warn(
                f"folium asks for Leaflet {version} ({url}) but xstatic-leaflet provides "
                f"Leaflet {assets.version}, which is what the offline map inlines; install "
                f"the xstatic-leaflet release matching Leaflet {version} if the map misbehaves.",
                CoverageWarning,
                stacklevel=stacklevel,
            )

    # 1. Folium's default asset tags: Leaflet -> placeholders, the rest -> removed.
    js_marker = "\x00coverage-leaflet-js\x00"
    css_marker = "\x00coverage-leaflet-css\x00"

    def drop_defaults(match: re.Match[str], marker: str) -> str:
        url = match.group("url")
        if url in leaflet_urls:
            return marker
        if url in other_default_urls:
            return ""
        return match.group()

    html = _SCRIPT_SRC.sub(lambda mt: drop_defaults(mt, js_marker), html)
    html = _LINK_HREF.sub(
        lambda mt: drop_defaults(mt, css_marker) if "stylesheet" in mt.group().lower() else mt.group(),
        html,
    )

    # 2. Anything else that would go to the internet is an error.
    remote: list[tuple[str, str]] = []
    for where, pattern in _REMOTE_PATTERNS:
        if keep_tiles and where == _TILE_WHERE:
            continue
        for match in pattern.finditer(html):
            url = match.group("url")
            if _IS_REMOTE.match(url) and (where, url) not in remote:
                remote.append((where, url))
    if remote:
        raise CoverageInputError(
            f"the offline map export cannot include {_describe(remote)}: an element or plugin "
            "of this map loads it from the internet. Remove that element (offline maps support "
            "Leaflet core: CircleMarker, GeoJson, Polygon/PolyLine, LayerControl, tooltips, "
            "popups and HTML boxes), or use save_html(..., offline=False) for a map that may "
            "need the internet."
        )
    if "AwesomeMarkers" in html:
        raise CoverageInputError(
            "the offline map export cannot include folium.Icon markers: they need "
            "Leaflet.awesome-markers, Bootstrap and Font Awesome from the internet. Use "
            "folium.CircleMarker, folium.Marker without icon=, or folium.DivIcon instead."
        )
    uses_jquery = False
    for match in _JQUERY_USE.finditer(html):
        if _JQUERY_SUPPORTED.match(html, match.start()):
            uses_jquery = True
            continue
        snippet = html[match.start() : match.start() + 40].split("\n")[0]
        raise CoverageInputError(
            f"the offline map export cannot include jQuery, which this map calls ({snippet!r}); "
            "folium.GeoJson(..., embed=False) and some plugins need it. Embed GeoJSON data "
            "(embed=True, the default) and remove jQuery-based plugins."
        )
    if _FONT_ICONS.search(html):
        warnings.warn(
            'the map\'s HTML uses Font Awesome or glyphicon classes (class="fa ..."); their '
            "fonts are not included in the offline export, so those icons will not show. "
            "Use text or inline SVG instead.",
            CoverageWarning,
            stacklevel=stacklevel,
        )

    # 3. Deterministic ids, UTF-8 declaration, then Leaflet itself.
    html = stable_ids(html, ids)
    html = set_charset(html)
    leaflet_js = (
        f"<script>\n/* Leaflet {assets.version}, inlined from xstatic-leaflet */\n"
        f"{assets.js}</script>\n    {assets.icon_defaults}"
    )
    if uses_jquery:
        leaflet_js += "\n    " + _JQUERY_SHIM
    leaflet_css = f"<style>\n/* Leaflet {assets.version} CSS */\n{assets.css}</style>"
    for marker, block in ((js_marker, leaflet_js), (css_marker, leaflet_css)):
        if marker in html:
            head, _, tail = html.partition(marker)
            html = head + block + tail.replace(marker, "")
        else:  # pragma: no cover - folium always links Leaflet
            html = html.replace(CHARSET_META, CHARSET_META + "\n    " + block, 1)
    return html


def save_html(m: folium.Map, path: str | os.PathLike[str], *, offline: bool = True, keep_tiles: bool = False) -> Path:
    """Write a Folium map to an HTML file, by default one that works without internet.

    Parameters
    ----------
    m
        The map.
    path
        Where to write; missing parent folders are created.
    offline
        If True (default), write :func:`offline_html` (Leaflet inlined, no
        tiles, no CDN assets). If False, write Folium's usual page, which loads
        its assets and tiles from CDNs, with the same deterministic ids and
        ``<meta charset="utf-8">``.
    keep_tiles
        With ``offline``: keep tile layers instead of dropping them (see
        :func:`offline_html`).

    Returns
    -------
    pathlib.Path
        The file written, encoded as UTF-8.

    Raises
    ------
    CoverageInputError
        As :func:`offline_html`, or if ``path`` is an existing folder.

    Examples
    --------
    >>> import folium, tempfile, pathlib
    >>> m = folium.Map(location=[22.54, 114.06], zoom_start=14, tiles=None)
    >>> out = save_html(m, pathlib.Path(tempfile.mkdtemp()) / "map.html")
    >>> out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    True

    """
    m = check_map(m)
    target = Path(path)
    if target.is_dir():
        raise CoverageInputError(f"{target} is a folder; pass a file name such as {target / 'coverage_map.html'}")
    if offline:
        html = _offline_html(m, stacklevel=3, keep_tiles=keep_tiles)
    else:
        html, ids, _ = render(m, drop_tiles=False)
        html = set_charset(stable_ids(html, ids))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(html.encode("utf-8"))
    return target
