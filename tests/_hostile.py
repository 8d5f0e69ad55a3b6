"""A small offline scenario whose every user-text field carries hostile text.

Writes a 6 x 6 street grid (OSM XML, ~100 m blocks near Futian) whose street
names, a halls CSV (ids, names, addresses), a residents CSV (ids), a
reporting-area GeoJSON (names) and the scenario file (name, description,
labels, in zh and en) all hold the corpus below. Used by the hostile-text
tests of the command line, the map and the report.
"""

from __future__ import annotations

import json
from pathlib import Path
from xml.sax.saxutils import quoteattr

import pandas as pd

LON0, LAT0, STEP = 114.050, 22.540, 0.001


def corpus(pwned: Path) -> list[str]:
    """The hostile strings; ``pwned`` is the file a template injection would create."""
    return [
        "{{7*7}}",
        "{% for x in range(3) %}loop{% endfor %}",
        "${alert(1)}",
        "back`tick",
        "</script><script>alert(2)</script>",
        '"><img src=x onerror=alert(3)>',
        '=HYPERLINK("http://evil.example/","click")',
        "\u202eevil.exe\u202c right-to-left",
        "nul\x00byte",
        "L" * 10_000,
        "福田区行政服务大厅",
        "🏛️ hall 😀",
        f"{{{{ cycler.__init__.__globals__.os.popen('touch {pwned}').read() }}}}",
        "{# comment #}hidden",
        "@SUM(1+1)",
        "+1-2",
        "-3+4",
        "C:\\users\\x\\u0041",
        "\ttab",
        "back\\`tick ${x} \\${y}",
    ]


def _osm_xml(names: list[str]) -> str:
    nodes = []
    ways = []
    n = 6
    for i in range(n):
        for j in range(n):
            nid = 1 + i * n + j
            nodes.append(f'<node id="{nid}" lat="{LAT0 + i * STEP:.6f}" lon="{LON0 + j * STEP:.6f}" version="1"/>')
    wid = 1000
    for i in range(n):  # east-west streets
        refs = "".join(f'<nd ref="{1 + i * n + j}"/>' for j in range(n))
        name = names[i % len(names)].replace("\x00", "")
        hw = "primary" if i == 2 else "residential"
        ways.append(
            f'<way id="{wid}" version="1">{refs}<tag k="highway" v="{hw}"/><tag k="name" v={quoteattr(name)}/></way>'
        )
        wid += 1
    for j in range(n):  # north-south streets
        refs = "".join(f'<nd ref="{1 + i * n + j}"/>' for i in range(n))
        ways.append(f'<way id="{wid}" version="1">{refs}<tag k="highway" v="residential"/></way>')
        wid += 1
    return "<?xml version='1.0' encoding='UTF-8'?>\n<osm version=\"0.6\">\n" + "\n".join(nodes + ways) + "\n</osm>\n"


def in_csv(text: str) -> str:
    """The text as written into the CSV files: without NUL (a CSV holding NUL is refused as binary)."""
    return text.replace("\x00", "")


def _toml_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def write_hostile_scenario(folder: Path, pwned: Path) -> tuple[Path, list[str]]:
    """Write the scenario and its files into ``folder``; return the scenario path and the corpus."""
    folder.mkdir(parents=True, exist_ok=True)
    texts = corpus(pwned)
    (folder / "streets.osm").write_text(_osm_xml(texts[:6]), encoding="utf-8")
    halls = []
    for k, text in enumerate(in_csv(t) for t in texts):
        i, j = divmod(k, 5)
        halls.append(
            {
                "id": text if k != 9 else f"long-{k}",
                "name": text,
                "address": f"{text} 路 {k} 号",
                "lon": LON0 + (0.5 + j) * STEP + 0.0002,
                "lat": LAT0 + (0.5 + i % 5) * STEP,
            }
        )
    # One hall 1 km from any street: drawn as off the network, with the reason.
    halls.append(
        {"id": "far ${away}", "name": "{{7*7}} far away", "address": "=1+1", "lon": LON0 + 0.02, "lat": LAT0 + 0.02}
    )
    pd.DataFrame(halls).to_csv(folder / "halls.csv", index=False)
    residents = []
    for i in range(5):
        for j in range(5):
            k = i * 5 + j
            residents.append(
                {
                    "rid": f"{in_csv(texts[k % len(texts)])[:50]}#{k}",
                    "population": 40 + 7 * k,
                    "lon": LON0 + (0.5 + j) * STEP,
                    "lat": LAT0 + (0.5 + i) * STEP + 0.0003,
                }
            )
    pd.DataFrame(residents).to_csv(folder / "residents.csv", index=False)
    west = [
        [LON0 - STEP, LAT0 - STEP],
        [LON0 + 2.5 * STEP, LAT0 - STEP],
        [LON0 + 2.5 * STEP, LAT0 + 6 * STEP],
        [LON0 - STEP, LAT0 + 6 * STEP],
        [LON0 - STEP, LAT0 - STEP],
    ]
    east = [
        [LON0 + 2.5 * STEP, LAT0 - STEP],
        [LON0 + 6 * STEP, LAT0 - STEP],
        [LON0 + 6 * STEP, LAT0 + 6 * STEP],
        [LON0 + 2.5 * STEP, LAT0 + 6 * STEP],
        [LON0 + 2.5 * STEP, LAT0 - STEP],
    ]
    areas = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": texts[0] + " 街道"},
                "geometry": {"type": "Polygon", "coordinates": [west]},
            },
            {
                "type": "Feature",
                "properties": {"name": texts[4] + " " + texts[19]},
                "geometry": {"type": "Polygon", "coordinates": [east]},
            },
        ],
    }
    (folder / "areas.geojson").write_text(json.dumps(areas, ensure_ascii=False), encoding="utf-8")
    # Scenario text is limited to 2,000 characters without NUL (a clear error otherwise, see the tests).
    short = [t for t in texts if "\x00" not in t and len(t) < 500]
    title = " | ".join(texts[:8]) + " " + texts[12]
    scenario = f"""
name = {_toml_string(title)}
name_zh = {_toml_string("中文标题 " + title)}
description = {_toml_string(" ".join(short))}
radius_m = 250

[network]
source = "streets.osm"

[halls]
file = "halls.csv"
id_col = "id"
name_col = "name"
lon_col = "lon"
lat_col = "lat"
label = {_toml_string(texts[5] + texts[2])}
label_zh = {_toml_string("替代点 " + texts[1])}
stand_in = true

[demand]
kind = "points"
file = "residents.csv"
id_col = "rid"
population_col = "population"
source_note = {_toml_string(texts[6])}

[areas]
file = "areas.geojson"
name_col = "name"

[plan]
k = 2
k_max = 3
spacing_m = 50
time_limit_s = 5
candidates = "network"
"""
    path = folder / "hostile.toml"
    path.write_text(scenario, encoding="utf-8")
    return path, texts
