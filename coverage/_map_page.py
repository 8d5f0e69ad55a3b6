"""The page around a coverage map: tile basemaps, styles, and the script that draws the layers.

Nothing here is a Jinja2 template: the elements print their text as is, and
user text only arrives inside :func:`coverage._text.js_json` data.
"""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path
from typing import Any, cast

from branca.element import Element, Figure, MacroElement

from ._errors import CoverageInputError
from ._text import html_text, js_json

TILES: dict[str, list[tuple[str, str, str | None]]] = {
    "osm": [("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "© OpenStreetMap contributors", None)],
    "tianditu": [
        (
            "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER={layer}"
            "&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={key}",
            "© 天地图 Tianditu",
            "01234567",
        )
    ],
    "amap": [
        (
            "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
            "© 高德地图 AutoNavi",
            "1234",
        )
    ],
}
_KEY = re.compile(r"^[A-Za-z0-9]{8,64}$")
_KEY = re.compile(r"^[A-Za-z0-9]{8,64}$")


def tile_layers(basemap: str, key: str | None) -> list[Any]:
    """Return the folium tile layers of an online basemap (none for "offline" and "none")."""
    import folium

    if basemap not in TILES:
        return []
    out = []
    if basemap == "tianditu":
        key = key or os.environ.get("TIANDITU_KEY")
        if not key or not _KEY.match(key):
            raise CoverageInputError(
                "basemap='tianditu' needs a Tianditu key (8-64 letters and digits): set [map] tianditu_key "
                "or the TIANDITU_KEY environment variable, or choose basemap='offline'."
            )
        for layer in ("vec", "cva"):
            url, attr, subs = TILES["tianditu"][0]
            out.append(
                folium.TileLayer(
                    url.replace("{layer}", layer).replace("{key}", key),
                    attr=attr,
                    subdomains=subs or "abc",
                    name=f"tianditu-{layer}",
                    control=False,
                    max_zoom=18,
                )
            )
        return out
    for url, attr, subs in TILES[basemap]:
        extra: dict[str, Any] = {"subdomains": subs} if subs else {}
        out.append(folium.TileLayer(url, attr=attr, name=basemap, control=False, max_zoom=19, **extra))
    return out


@cache
def _app_js() -> str:
    return (Path(__file__).with_name("_map_app.js")).read_text(encoding="utf-8")


_CSS = """<style>
.cov-box{background:rgba(255,255,255,.94);padding:6px 10px;border-radius:6px;box-shadow:0 1px 4px rgba(0,0,0,.3);
 font:13px/1.45 "Noto Sans CJK SC","WenQuanYi Zen Hei","Microsoft YaHei","PingFang SC",sans-serif;color:#212529;
 overflow-wrap:anywhere;unicode-bidi:isolate}
.cov-title{max-width:min(46vw,560px)}.cov-title-main{font-weight:bold;font-size:16px}
.cov-title-sub{font-size:12px;color:#495057}
.cov-summary{max-width:min(40vw,420px)}.cov-legend{max-width:min(30vw,320px)}
.cov-box summary{cursor:pointer;font-weight:bold}
.cov-summary-row{margin-top:2px}.cov-summary-small{font-size:11px;color:#495057}
.cov-summary-row b{margin-left:4px}.cov-warn{color:#c92a2a;font-weight:bold}
.cov-legend-row{display:flex;align-items:center;gap:6px}
.cov-swatch{display:inline-block;width:12px;height:12px;flex:none;box-sizing:border-box}
.cov-circle{border-radius:50%}.cov-square{border-radius:2px;opacity:.8}
.cov-line,.cov-circle-line{border-top:3px solid;height:0;background:none!important}
.cov-circle-line{border:2px dashed;border-radius:50%;height:12px}
.cov-ring{border-radius:50%;border:3px dashed;background:#fff}
.cov-popup{font:13px/1.45 sans-serif;unicode-bidi:isolate;overflow-wrap:anywhere}
.cov-popup-title{font-weight:bold;margin-bottom:3px}.cov-popup-label{color:#495057;margin-right:6px}
.cov-popup-label:not(:empty)::after{content:"\\FF1A"}
html[lang=en] .cov-popup-label:not(:empty)::after{content:": "}
.cov-rank{border-radius:50%;color:#fff;font:bold 13px/26px sans-serif;text-align:center;border:2px solid #fff;
 box-shadow:0 1px 4px rgba(0,0,0,.5);cursor:pointer}
.cov-area-label{background:none;border:none;box-shadow:none;padding:0;font-weight:bold;
 text-shadow:0 0 3px #fff,0 0 3px #fff,0 0 3px #fff}
.cov-area-label::before{display:none}.cov-place-label{color:#5f3dc4;font-size:14px}
.cov-road-label{color:#495057;font-size:11px;font-weight:normal}
@media (max-width:700px){
 .cov-title{max-width:calc(100vw - 90px)}.cov-title-main{font-size:14px}.cov-title-sub{display:none}
 .cov-summary,.cov-legend{max-width:calc(50vw - 22px);font-size:12px}
 .leaflet-control-layers-expanded{max-height:60vh;overflow-y:auto}
 .leaflet-control-attribution{font-size:10px;max-width:calc(100vw - 130px)}
}
</style>"""


class RawElement(Element):
    """A branca element printed as is: its text is never compiled as a Jinja2 template."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._text = text

    def render(self, **kwargs: Any) -> str:
        """Return the text unchanged."""
        return self._text


class CoverageApp(MacroElement):
    """Adds the page title, styles and the layer script to the page; renders no template."""

    def __init__(self, data: dict[str, Any], *, title: str, lang: str) -> None:
        super().__init__()
        self._name = "CoverageApp"
        self._data = data
        self._title = title
        self._lang = lang

    def render(self, **kwargs: Any) -> str:
        """File the header and script blocks with the figure (the element itself prints nothing)."""
        figure = cast(Figure, self.get_root())
        parent = cast(Element, self._parent)
        head = f"<title>{html_text(self._title)}</title>\n" if self._title else ""
        lang = "zh-CN" if self._lang == "zh" else "en"
        head += f'<meta name="language" content="{lang}">\n' + _CSS
        head += f"<script>document.documentElement.lang = {js_json(lang)};</script>"
        figure.header.add_child(RawElement(head), name=self.get_name())
        script = f"{_app_js()}\ncoverageMapApp({parent.get_name()}, {js_json(self._data)});\n"
        figure.script.add_child(RawElement(script), name=self.get_name())
        return ""
