"""A small offline scenario written to a folder: a grid of streets in Shenzhen, halls, residents, areas."""

from __future__ import annotations

import json
import math
from pathlib import Path

import networkx as nx
import numpy as np

LON0, LAT0 = 113.93, 22.78  # Guangming District
M_PER_DEG_LAT = 111_320.0
M_PER_DEG_LON = M_PER_DEG_LAT * math.cos(math.radians(LAT0))


def lonlat(x: float, y: float) -> tuple[float, float]:
    """Metres east/north of the grid's corner -> lon, lat."""
    return LON0 + x / M_PER_DEG_LON, LAT0 + y / M_PER_DEG_LAT


def grid_graphml(path: Path, *, n: int = 12, block: float = 100.0, seed: int = 1) -> Path:
    """An OSMnx-style GraphML of an ``n x n`` street grid (footways and residential streets)."""
    import osmnx as ox

    rng = np.random.default_rng(seed)
    G = nx.MultiDiGraph(crs="EPSG:4326")
    for i in range(n):
        for j in range(n):
            lon, lat = lonlat(i * block + rng.normal(0, 5), j * block + rng.normal(0, 5))
            G.add_node(i * n + j + 1, x=lon, y=lat)
    k = 0
    for i in range(n):
        for j in range(n):
            for di, dj in ((1, 0), (0, 1)):
                if i + di < n and j + dj < n:
                    u, v = i * n + j + 1, (i + di) * n + j + dj + 1
                    a, b = G.nodes[u], G.nodes[v]
                    length = math.hypot((a["x"] - b["x"]) * M_PER_DEG_LON, (a["y"] - b["y"]) * M_PER_DEG_LAT)
                    hw = "residential" if (i + j) % 3 else "footway"
                    k += 1
                    for s, t in ((u, v), (v, u)):
                        G.add_edge(s, t, osmid=k, length=length, highway=hw, oneway=False, reversed=s != u)
    ox.save_graphml(G, path)
    return path


def write_scenario(folder: Path, *, halls: list[tuple[str, str, float, float]] | None = None,
                   extra: str = "", n: int = 12) -> Path:
    """Write network, halls (id, name, x m, y m), residents, two areas and a scenario; return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    grid_graphml(folder / "net.graphml", n=n)
    size = (n - 1) * 100.0
    rng = np.random.default_rng(7)
    lines = ["id,lon,lat,population"]
    for k in range(300):
        lon, lat = lonlat(rng.uniform(0, size), rng.uniform(0, size))
        lines.append(f"r{k},{lon:.7f},{lat:.7f},{rng.integers(5, 60)}")
    (folder / "residents.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    features = []
    for name, x0, x1 in (("西区", -50.0, size / 2), ("东区", size / 2, size + 50.0)):
        ring = [lonlat(x0, -50), lonlat(x1, -50), lonlat(x1, size + 50), lonlat(x0, size + 50), lonlat(x0, -50)]
        features.append({"type": "Feature", "properties": {"name": name},
                         "geometry": {"type": "Polygon", "coordinates": [ring]}})
    (folder / "areas.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": features}),
                                          encoding="utf-8")
    hall_line = ""
    if halls is not None:
        rows = ["id,name,lon,lat"]
        for hid, name, x, y in halls:
            lon, lat = lonlat(x, y)
            rows.append(f"{hid},{name},{lon:.7f},{lat:.7f}")
        (folder / "halls.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
        hall_line = '[halls]\nfile = "halls.csv"\nid_col = "id"\nname_col = "name"\nlabel = "test halls"\n'
    text = (
        'name = "Grid test district"\nradius_m = 300\n\n[network]\nsource = "net.graphml"\n\n'
        + hall_line
        + '\n[demand]\nkind = "points"\nfile = "residents.csv"\nid_col = "id"\n\n'
        '[areas]\nfile = "areas.geojson"\nname_col = "name"\n\n'
        '[plan]\nk = 2\nk_max = 3\ntarget_share = 0.5\ntime_limit_s = 30\n\n[map]\nlang = "en"\n'
        + extra
    )
    path = folder / "scenario.toml"
    path.write_text(text, encoding="utf-8")
    return path
