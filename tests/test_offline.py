"""Tests for coverage._offline: self-contained, deterministic Folium HTML."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import folium
import pytest
from branca.element import MacroElement
from folium import plugins
from jinja2 import Template

from coverage._errors import CoverageInputError, CoverageWarning
from coverage._offline import offline_html, save_html
from tests._browser import LEAFLET_SUMMARY_JS, render_in_chromium

HALLS = [
    ("福田区行政服务大厅", 22.5410, 114.0560),
    ("莲花街道党群服务中心", 22.5490, 114.0650),
]
OVERLAY_HALLS = "服务大厅 Service halls"
OVERLAY_AREAS = "500 m 服务区 Service areas"
LEGEND_HTML = """
<div id="coverage-legend" style="position: fixed; bottom: 40px; right: 12px; z-index: 1000;
     background: white; padding: 8px 12px; border: 1px solid #777; border-radius: 4px;
     font: 14px sans-serif; line-height: 1.5;">
  <b>图例 Legend</b><br>
  <span style="display:inline-block;width:12px;height:12px;border-radius:6px;
        background:#d62728;"></span> 服务大厅 hall<br>
  <span style="display:inline-block;width:12px;height:12px;background:#1f77b4;
        opacity:0.5;"></span> 500 m 步行服务区
</div>
"""
SERVICE_AREA = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"hall": HALLS[0][0]},
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [
                        [114.0515, 22.5375],
                        [114.0605, 22.5372],
                        [114.0612, 22.5448],
                        [114.0530, 22.5452],
                        [114.0515, 22.5375],
                    ]
                ],
            },
        }
    ],
}

REMOTE_TAG = re.compile(
    r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//", re.IGNORECASE
)


def build_map(*, tiles: str | None = None, popups: bool = False) -> folium.Map:
    m = folium.Map(location=[22.5430, 114.0590], zoom_start=15, tiles=tiles, control_scale=True)
    areas = folium.FeatureGroup(name=OVERLAY_AREAS).add_to(m)
    folium.GeoJson(
        SERVICE_AREA,
        style_function=lambda _: {"color": "#1f77b4", "weight": 2, "fillOpacity": 0.35},
        tooltip=folium.GeoJsonTooltip(fields=["hall"]),
    ).add_to(areas)
    halls = folium.FeatureGroup(name=OVERLAY_HALLS).add_to(m)
    for name, lat, lon in HALLS:
        folium.CircleMarker(
            [lat, lon],
            radius=8,
            color="#d62728",
            fill=True,
            fill_opacity=0.9,
            tooltip=name,
            popup=folium.Popup(name) if popups else None,
        ).add_to(halls)
    folium.LayerControl(collapsed=False).add_to(m)
    m.get_root().html.add_child(folium.Element(LEGEND_HTML))
    return m


# ---------------------------------------------------------------------------
# HTML-level tests (no browser)
# ---------------------------------------------------------------------------


def test_no_remote_assets_and_leaflet_inlined() -> None:
    html = offline_html(build_map())
    assert REMOTE_TAG.search(html) is None
    for cdn in ("cdn.jsdelivr.net", "code.jquery.com", "cdnjs.cloudflare.com", "bootstrapcdn"):
        assert cdn not in html
    assert "Leaflet 1.9.3" in html
    assert "images/marker-icon.png" not in html
    assert "images/layers.png" not in html
    assert "sourceMappingURL" not in html
    # The legend, in Chinese, is there verbatim, and declared as UTF-8.
    assert "图例 Legend" in html
    assert '<meta charset="utf-8" />' in html
    assert html.index('<meta charset="utf-8" />') < 200
    assert "http-equiv" not in html


def test_renders_are_byte_identical() -> None:
    first = offline_html(build_map(popups=True))
    second = offline_html(build_map(popups=True))  # new elements, new random ids
    assert first == second
    same_map = build_map()
    assert offline_html(same_map) == offline_html(same_map)
    assert re.search(r"[0-9a-f]{32}", first) is None
    assert "var map_0001 = L.map(" in first


def test_map_rendered_by_folium_first_exports_like_a_fresh_one() -> None:
    # Folium's render leaves an extra `addTo` script with a new random id per
    # layer each time (a notebook display, m.save(), ...); the export must not.
    shown = build_map(popups=True)
    shown.get_root().render()
    shown._repr_html_()
    assert offline_html(shown) == offline_html(build_map(popups=True))


def test_macro_element_with_own_template_is_kept() -> None:
    # The usual recipe for a title or legend box: a MacroElement whose template
    # is set on the instance.
    def with_title() -> folium.Map:
        m = build_map()
        title = MacroElement()
        title._template = Template(
            "{% macro html(this, kwargs) %}<div id='map-title'>福田区 500 m 覆盖</div>{% endmacro %}"
        )
        m.get_root().add_child(title)
        return m

    m = with_title()
    first = offline_html(m)
    assert first.count("<div id='map-title'>福田区 500 m 覆盖</div>") == 1
    assert offline_html(m) == first
    assert offline_html(with_title()) == first


def test_jquery_stand_in_only_when_folium_needs_it() -> None:
    assert "window.$ = window.jQuery" not in offline_html(build_map())
    with_popups = offline_html(build_map(popups=True))
    assert "window.$ = window.jQuery" in with_popups
    assert with_popups.index("window.$ = window.jQuery") < with_popups.index("<body>")


def test_font_icon_classes_warn() -> None:
    m = build_map()
    m.get_root().html.add_child(folium.Element('<i class="fa fa-home"></i>'))
    with pytest.warns(CoverageWarning, match=r"Font Awesome"):
        offline_html(m)


def test_ids_numbered_in_order_of_appearance() -> None:
    html = offline_html(build_map())
    names = re.findall(r"\bvar ([a-z_]+_\d{4})\b", html)
    numbers = [int(n[-4:]) for n in names]
    assert names[0] == "map_0001"
    assert numbers == sorted(numbers)
    assert len(set(names)) == len(names)


def test_map_is_not_modified() -> None:
    m = build_map(tiles="OpenStreetMap")
    figure = m.get_root()
    children_before = list(m._children)
    ids_before = {k: c._id for k, c in m._children.items()}
    sections_before = [list(s._children) for s in (figure.header, figure.html, figure.script)]
    with pytest.warns(CoverageWarning, match=r"tile layer"):
        offline_html(m)
    assert list(m._children) == children_before
    assert {k: c._id for k, c in m._children.items()} == ids_before
    sections_after = [list(s._children) for s in (figure.header, figure.html, figure.script)]
    assert sections_after == sections_before
    # Folium's own rendering still includes the tiles afterwards.
    assert "tile.openstreetmap.org" in m.get_root().render()


def test_tile_layers_are_dropped_with_a_warning() -> None:
    m = build_map(tiles="OpenStreetMap")
    folium.TileLayer("https://tiles.example.org/{z}/{x}/{y}.png", attr="Example tiles", name="Light").add_to(
        m
    )
    with pytest.warns(CoverageWarning, match=r"dropped 2 tile layer\(s\).*tiles=None"):
        html = offline_html(m)
    assert "L.tileLayer" not in html
    assert "openstreetmap" not in html.lower()
    assert "tiles.example.org" not in html
    # The layer control no longer offers the dropped base layers.
    assert '"Light"' not in html


def test_no_warning_without_tiles() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        offline_html(build_map())


def test_plugin_with_external_script_is_refused() -> None:
    m = build_map()
    plugins.MiniMap().add_to(m)
    with pytest.raises(CoverageInputError, match=r"cannot include https://\S+Control.MiniMap"):
        offline_html(m)


def test_remote_image_overlay_is_refused() -> None:
    m = build_map()
    folium.raster_layers.ImageOverlay(
        "https://example.org/plan.png", bounds=[[22.53, 114.05], [22.55, 114.07]]
    ).add_to(m)
    with pytest.raises(CoverageInputError, match=r"https://example.org/plan.png"):
        offline_html(m)


def test_remote_image_in_html_is_refused() -> None:
    m = build_map()
    m.get_root().html.add_child(folium.Element('<img src="https://example.org/logo.png">'))
    with pytest.raises(CoverageInputError, match=r"https://example.org/logo.png"):
        offline_html(m)


def test_awesome_marker_icon_is_refused() -> None:
    m = build_map()
    folium.Marker([22.54, 114.06], icon=folium.Icon(icon="home")).add_to(m)
    with pytest.raises(CoverageInputError, match=r"folium.Icon.*CircleMarker"):
        offline_html(m)


def test_jquery_beyond_folium_templates_is_refused() -> None:
    # folium.GeoJson(url, embed=False) renders `$.ajax(url, ...)`; building one
    # fetches the URL, so the same call is written by hand here.
    m = build_map()
    m.get_root().script.add_child(
        folium.Element("$.ajax('areas.geojson', {dataType: 'json', async: false});")
    )
    with pytest.raises(CoverageInputError, match=r"jQuery.*\$\.ajax.*embed=True"):
        offline_html(m)


def test_not_a_map_is_refused() -> None:
    with pytest.raises(CoverageInputError, match=r"expected a folium.Map, got dict"):
        offline_html({"type": "FeatureCollection"})  # type: ignore[arg-type]


def test_save_html_writes_utf8(tmp_path: Path) -> None:
    out = save_html(build_map(), tmp_path / "nested" / "map.html")
    data = out.read_bytes()
    assert data == offline_html(build_map()).encode("utf-8")
    assert "图例".encode() in data
    online = save_html(build_map(tiles="OpenStreetMap"), tmp_path / "online.html", offline=False)
    text = online.read_text(encoding="utf-8")
    assert "cdn.jsdelivr.net" in text
    assert '<meta charset="utf-8" />' in text
    assert "var map_0001 = L.map(" in text
    with pytest.raises(CoverageInputError, match=r"is a folder"):
        save_html(build_map(), tmp_path)


def test_warnings_point_at_the_caller(tmp_path: Path) -> None:
    with pytest.warns(CoverageWarning) as direct:
        offline_html(build_map(tiles="OpenStreetMap"))
    with pytest.warns(CoverageWarning) as saved:
        save_html(build_map(tiles="OpenStreetMap"), tmp_path / "m.html")
    assert [Path(w.filename).name for w in [*direct, *saved]] == ["test_offline.py"] * 2


# ---------------------------------------------------------------------------
# In Chromium, with the network blocked
# ---------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.browser
def test_offline_map_renders_in_chromium(output_dir: Path) -> None:
    html_path = save_html(build_map(), output_dir / "offline_map.html")
    result = render_in_chromium(
        html_path,
        output_dir / "offline_map.png",
        evaluate={
            "summary": LEAFLET_SUMMARY_JS,
            "legend": "() => document.getElementById('coverage-legend').innerText",
            "charset": "() => document.characterSet",
        },
    )
    assert result.console_errors == []
    assert result.page_errors == []
    assert result.blocked_requests == []
    assert result.failed_requests == []
    assert all(url.startswith(("file://", "data:")) for url in result.requests), result.requests
    summary = result.values["summary"]
    assert summary["maps"] == 1
    assert summary["mapName"] == "map_0001"
    assert summary["circleMarkers"] == 2
    assert summary["polygons"] == 1
    assert summary["tileLayers"] == 0
    assert summary["interactivePaths"] == 3  # two circles and the service area
    assert summary["overlayNames"] == [OVERLAY_AREAS, OVERLAY_HALLS]
    assert summary["scaleText"]
    assert summary["scaleText"][0].endswith("m")
    assert summary["brokenImages"] == []
    assert "图例" in result.values["legend"]
    assert result.values["charset"] == "UTF-8"
    assert result.screenshot_path is not None
    assert result.screenshot_path.stat().st_size > 5_000


@pytest.mark.slow
@pytest.mark.browser
def test_popups_and_default_markers_work_offline(output_dir: Path) -> None:
    m = build_map(popups=True)
    folium.Marker([22.5445, 114.0575], tooltip="default Leaflet marker").add_to(m)
    html_path = save_html(m, output_dir / "offline_popups.html")
    open_popup = """
    () => {
      const map = window.map_0001;
      let marker = null;
      map.eachLayer((l) => { if (l instanceof L.CircleMarker && l.getPopup()) marker = l; });
      marker.openPopup();
      return document.querySelector('.leaflet-popup-content').innerText;
    }
    """
    icons = """
    () => Array.from(
      document.querySelectorAll('img.leaflet-marker-icon, img.leaflet-marker-shadow')
    ).map((img) => [img.src.slice(0, 22), img.complete && img.naturalWidth > 0])
    """
    result = render_in_chromium(
        html_path,
        output_dir / "offline_popups.png",
        evaluate={"popup": open_popup, "icons": icons},
    )
    assert result.clean, result
    assert result.values["popup"] in {name for name, _, _ in HALLS}
    assert result.values["icons"] == [
        ["data:image/png;base64,", True],
        ["data:image/png;base64,", True],
    ]


@pytest.mark.slow
@pytest.mark.browser
def test_blocked_requests_are_recorded(tmp_path: Path, output_dir: Path) -> None:
    # The helper itself: a page that does reach for the internet is caught.
    page = tmp_path / "online.html"
    page.write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        '<script src="https://cdn.example.org/lib.js"></script></head>'
        "<body><p>x</p></body></html>",
        encoding="utf-8",
    )
    result = render_in_chromium(page, output_dir / "blocked.png", wait_for_selector=None)
    assert result.blocked_requests == ["https://cdn.example.org/lib.js"]
    assert not result.clean
