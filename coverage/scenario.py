"""Scenario files: one TOML file describes a whole planning run.

Every path may start with ``{data}``, the folder holding the real data: the
``--data-dir`` option, else ``$COVERAGE_PLANNER_DATA``, else the first of
``./../shared/data`` and ``<repo>/../shared/data`` that exists. Other
relative paths are relative to the scenario file.

The file is validated completely before any heavy work: an unknown key, a
missing key, a wrong type or a path that does not exist gets a one-line
message naming the key and the fix.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._errors import CoverageInputError

_Spec = dict[str, tuple[Any, bool, Any, str]]  # key -> (types, required, default, help)

NUMBER = (int, float)

SCHEMA: dict[str, _Spec] = {
    "": {
        "name": (str, True, None, "title shown on the map and in the report"),
        "description": (str, False, "", "one paragraph for the report"),
        "radius_m": ((*NUMBER, list), False, 500.0, "walking radius in metres (or a list for rings)"),
        "walk_speed_kmh": (NUMBER, False, 4.8, "walking speed, for minutes in the report"),
        "max_snap_m": (NUMBER, False, 300.0, "largest walk from a point to its street"),
    },
    "network": {
        "source": ((str, list), False, None, "GraphML, OSM XML, PBF or Overpass JSON file(s)"),
        "place": (str, False, None, "place name for an online osmnx download"),
        "polygon_file": (str, False, None, "polygon file for an online osmnx download"),
        "polygon_filter": (dict, False, None, "column = value selecting the polygon"),
        "largest_only": (bool, False, True, "keep only the largest connected part"),
    },
    "halls": {
        "file": (str, False, None, "halls file (CSV, GeoJSON, GeoPackage, JSON records)"),
        "crs": (str, False, "EPSG:4326", "CRS of the coordinates: EPSG code, 'gcj02' or 'bd09'"),
        "id_col": (str, False, None, "unique id column"),
        "name_col": (str, False, None, "display name column"),
        "lon_col": (str, False, None, "longitude column of a table"),
        "lat_col": (str, False, None, "latitude column of a table"),
        "filter": (dict, False, None, "column = value (or list of values) keeping some rows"),
        "clip_to_network": (bool, False, False, "keep only halls near the network, reporting the rest"),
        "label": (str, False, "Halls", "what the halls are, for the map legend and report"),
    },
    "demand": {
        "kind": (str, True, None, "estimate | hexagons | grid | points | polygons | buildings"),
        "file": (str, False, None, "demand file (not for kind = estimate)"),
        "population_col": (str, False, "population", "population column"),
        "id_col": (str, False, None, "id column"),
        "method": (str, False, "streets", "polygons: 'streets' (spread) or 'centroid'"),
        "spacing_m": (NUMBER, False, 50.0, "spacing of points spread along streets"),
        "population": (NUMBER, False, None, "estimate/buildings: population of the district"),
        "area_km2": (NUMBER, False, None, "estimate: area of the district in km2"),
        "area_file": (str, False, None, "estimate: polygon of the district"),
        "area_filter": (dict, False, None, "estimate: column = value selecting the district"),
        "source_note": (str, False, "", "where the population figures come from"),
        "elderly_share": (NUMBER, False, None, "also report an 'elderly' group of this share"),
    },
    "areas": {
        "file": (str, False, None, "polygons to tabulate coverage by (districts, communities)"),
        "name_col": (str, False, None, "column naming each area"),
    },
    "service_areas": {
        "buffer_m": (NUMBER, False, 25.0, "half-width of the walkable band drawn around streets"),
        "resolution_m": (NUMBER, False, None, "outline grid cell (0 = exact GEOS union)"),
    },
    "plan": {
        "enabled": (bool, False, True, "run the site optimizer"),
        "k": (int, False, 5, "number of new sites to propose"),
        "k_max": (int, False, 20, "largest k of the coverage curve"),
        "target_share": (NUMBER, False, 0.95, "target share for the fewest-sites question"),
        "candidates": ((str, list), False, "network", "network, gaps, file, or a list of them"),
        "candidate_file": (str, False, None, "file of possible sites"),
        "spacing_m": (NUMBER, False, 50.0, "spacing of network candidates"),
        "exclude_file": (str, False, None, "polygons where no site may go"),
        "method": (str, False, "exact", "exact (MILP, HiGHS) or greedy"),
        "time_limit_s": (NUMBER, False, 60.0, "solver time limit per model"),
    },
    "map": {
        "lang": (str, False, "zh", "labels: 'zh' or 'en'"),
        "offline": (bool, False, True, "inline Leaflet so the HTML needs no network"),
    },
}


@dataclass(frozen=True)
class Scenario:
    """A validated scenario: sections of plain values, paths resolved."""

    path: Path
    values: dict[str, dict[str, Any]]

    def __getitem__(self, section: str) -> dict[str, Any]:
        return self.values[section]

    @property
    def name(self) -> str:
        """The scenario's title."""
        return str(self.values[""]["name"])


def default_data_dir(scenario_path: Path | None = None) -> Path:
    """Where ``{data}`` points when neither the option nor the variable is set."""
    env = os.environ.get("COVERAGE_PLANNER_DATA")
    if env:
        return Path(env)
    candidates = [Path.cwd().parent / "shared" / "data"]
    if scenario_path is not None:
        for parent in scenario_path.resolve().parents:
            if (parent / "pyproject.toml").exists():
                candidates.append(parent.parent / "shared" / "data")
                break
    for c in candidates:
        if c.is_dir():
            return c
    return candidates[0]


def load_scenario(path: str | os.PathLike[str], *, data_dir: str | os.PathLike[str] | None = None) -> Scenario:
    """Read and validate a scenario file.

    Parameters
    ----------
    path : path
        The TOML file.
    data_dir : path, optional
        What ``{data}`` in paths stands for.

    Returns
    -------
    Scenario

    Raises
    ------
    CoverageInputError
        One line naming the key and the fix.
    """
    path = Path(path)
    if not path.exists():
        raise CoverageInputError(f"scenario file {path} not found; see data/scenarios/ for examples.")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CoverageInputError(f"{path}: not valid TOML ({exc}).") from exc
    data = Path(data_dir) if data_dir is not None else default_data_dir(path)
    values: dict[str, dict[str, Any]] = {}
    top = {k: v for k, v in raw.items() if not isinstance(v, dict) or k not in SCHEMA}
    for key in raw:
        if isinstance(raw[key], dict) and key not in SCHEMA:
            raise CoverageInputError(f"{path}: unknown section [{key}]{_hint(key, list(SCHEMA))}.")
    for section, spec in SCHEMA.items():
        given = top if section == "" else raw.get(section, {})
        values[section] = _check_section(path, section, given, spec)
    _check_consistency(path, values)
    _resolve_paths(path, values, data)
    return Scenario(path=path, values=values)


def _hint(key: str, options: list[str]) -> str:
    close = difflib.get_close_matches(key, [o for o in options if o], n=1)
    return f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(o for o in options if o)}"


def _check_section(path: Path, section: str, given: dict[str, Any], spec: _Spec) -> dict[str, Any]:
    where = f"[{section}] " if section else ""
    out: dict[str, Any] = {}
    for key in given:
        if key not in spec:
            raise CoverageInputError(f"{path}: unknown key {where}{key}{_hint(key, list(spec))}.")
    for key, (types, required, default, help_) in spec.items():
        if key not in given:
            if required:
                raise CoverageInputError(f"{path}: missing key {where}{key} ({help_}).")
            out[key] = default
            continue
        value = given[key]
        ok = isinstance(value, types) and not (isinstance(value, bool) and bool not in _as_tuple(types))
        if not ok:
            names = " or ".join(t.__name__ for t in _as_tuple(types))
            raise CoverageInputError(f"{path}: {where}{key} = {value!r} should be {names} ({help_}).")
        out[key] = value
    return out


def _as_tuple(types: Any) -> tuple[type, ...]:
    return types if isinstance(types, tuple) else (types,)


KINDS = ("estimate", "hexagons", "grid", "points", "polygons", "buildings")


def _check_consistency(path: Path, v: dict[str, dict[str, Any]]) -> None:
    net = v["network"]
    sources = [k for k in ("source", "place", "polygon_file") if net[k]]
    if len(sources) != 1:
        raise CoverageInputError(
            f"{path}: [network] needs exactly one of source, place or polygon_file (got {sources or 'none'})."
        )
    d = v["demand"]
    if d["kind"] not in KINDS:
        raise CoverageInputError(f"{path}: [demand] kind = {d['kind']!r} should be one of {', '.join(KINDS)}.")
    if d["kind"] == "estimate":
        if d["population"] is None or (d["area_km2"] is None):
            raise CoverageInputError(
                f"{path}: [demand] kind = 'estimate' needs population and area_km2 (the district's census figures)."
            )
    elif d["file"] is None:
        raise CoverageInputError(f"{path}: [demand] kind = {d['kind']!r} needs file = '...'.")
    if d["kind"] == "buildings" and d["population"] is None:
        raise CoverageInputError(f"{path}: [demand] kind = 'buildings' needs population (the total to share).")
    if d["method"] not in ("streets", "centroid"):
        raise CoverageInputError(f"{path}: [demand] method = {d['method']!r} should be 'streets' or 'centroid'.")
    radius = v[""]["radius_m"]
    radii = radius if isinstance(radius, list) else [radius]
    if not radii or not all(isinstance(r, NUMBER) and not isinstance(r, bool) and r > 0 for r in radii):
        raise CoverageInputError(f"{path}: radius_m = {radius!r} should be a distance > 0 m or a list of them.")
    p = v["plan"]
    if p["k"] < 0 or p["k_max"] < 0:
        raise CoverageInputError(f"{path}: [plan] k and k_max must be >= 0.")
    if not 0 < float(p["target_share"]) <= 1:
        raise CoverageInputError(f"{path}: [plan] target_share = {p['target_share']} should be in (0, 1].")
    if p["method"] not in ("exact", "greedy"):
        raise CoverageInputError(f"{path}: [plan] method = {p['method']!r} should be 'exact' or 'greedy'.")
    cands = p["candidates"] if isinstance(p["candidates"], list) else [p["candidates"]]
    for c in cands:
        if c not in ("network", "gaps", "file"):
            raise CoverageInputError(f"{path}: [plan] candidates: {c!r} should be network, gaps or file.")
    if "file" in cands and not p["candidate_file"]:
        raise CoverageInputError(f"{path}: [plan] candidates include 'file' but candidate_file is not set.")
    if v["map"]["lang"] not in ("zh", "en"):
        raise CoverageInputError(f"{path}: [map] lang = {v['map']['lang']!r} should be 'zh' or 'en'.")


_PATH_KEYS = {
    "network": ("source", "polygon_file"),
    "halls": ("file",),
    "demand": ("file", "area_file"),
    "areas": ("file",),
    "plan": ("candidate_file", "exclude_file"),
}


def _resolve_paths(path: Path, v: dict[str, dict[str, Any]], data: Path) -> None:
    for section, keys in _PATH_KEYS.items():
        for key in keys:
            value = v[section][key]
            if value is None:
                continue
            items = value if isinstance(value, list) else [value]
            resolved = []
            for item in items:
                text = str(item)
                if text.startswith("{data}"):
                    p = data / text[len("{data}") :].lstrip("/\\")
                else:
                    p = Path(text) if Path(text).is_absolute() else (path.parent / text)
                if not p.exists():
                    hint = (
                        f" ({{data}} is {data}; set --data-dir or COVERAGE_PLANNER_DATA)"
                        if text.startswith("{data}")
                        else ""
                    )
                    raise CoverageInputError(f"{path}: [{section}] {key}: {p} does not exist{hint}.")
                resolved.append(p)
            v[section][key] = resolved if isinstance(value, list) else resolved[0]
