"""The scenario schema: every key, its kind, default and help text, declared once.

Kinds check and convert a TOML value with the validators of
:mod:`coverage._validate`, so a scenario key and the matching function
argument get the same message.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from . import _defaults as defaults
from ._errors import CoverageInputError
from ._validate import as_count, as_distance, as_share, as_speed, as_time_limit


@dataclass(frozen=True)
class Key:
    """One scenario key.

    Attributes
    ----------
    kind : str
        How the value is checked: ``str``, ``text`` (free text shown to
        readers), ``bool``, ``distance`` (m, > 0), ``distance0`` (m, >= 0),
        ``spacing`` (m, >= 1), ``resolution`` (0 or >= 0.5 m), ``minutes``,
        ``distances`` / ``minutes_list`` (lists, no repeats), ``speed``
        (km/h), ``share``, ``count``, ``seconds``, ``population`` (> 0),
        ``area_km2`` (> 0), ``path``, ``paths`` (one or a list), ``filter``
        (a table of column = value), ``speeds`` (a table of group = km/h),
        ``token`` (an access key: letters and digits),
        ``choice`` / ``choices`` (one or a list of ``choices``), ``rate`` (a
        number > 0 per resident), ``names`` (a list of texts, no repeats),
        ``name_table`` (a table of name = text), ``distance_table`` (a table
        of name = metres).
    required : bool
    default : Any
    help : str
    choices : tuple of str
    """

    kind: str
    required: bool = False
    default: Any = None
    help: str = ""
    choices: tuple[str, ...] = ()


#: Keys of a file of sites, shared by ``[halls]`` and each ``[[services]]`` entry.
_SITE_FILE_KEYS: dict[str, Key] = {
    "crs": Key("str", False, None, "CRS of the coordinates: EPSG code, 'gcj02' or 'bd09' (default: the file's "
               "own, lon/lat for a table)"),
    "id_col": Key("str", False, None, "unique id column"),
    "name_col": Key("str", False, None, "display name column"),
    "lon_col": Key("str", False, None, "longitude column of a table"),
    "lat_col": Key("str", False, None, "latitude column of a table"),
    "layer": Key("str", False, None, "layer of a GeoPackage with several"),
    "encoding": Key("str", False, None, "text encoding of a CSV/JSON file (detected when not given)"),
    "filter": Key("filter", False, None, "column = value (or list of values) keeping some rows"),
}


SCHEMA: dict[str, dict[str, Key]] = {
    "": {
        "name": Key("text", True, None, "title shown on the map and in the report"),
        "name_zh": Key("text", False, "", "Chinese title (map and report with lang = 'zh'; default: name)"),
        "name_en": Key("text", False, "", "English title (lang = 'en'; default: name)"),
        "description": Key("text", False, "", "one paragraph for the report"),
        "description_zh": Key("text", False, "", "Chinese description (default: description)"),
        "description_en": Key("text", False, "", "English description (default: description)"),
        "radius_m": Key("distance", False, None, f"walking distance in metres that counts as covered "
                        f"(default {defaults.DEFAULT_RADIUS_M:g})"),
        "minutes": Key("minutes", False, None, "walking time that counts as covered (instead of radius_m)"),
        "walk_speed_kmh": Key(
            "speed", False, defaults.DEFAULT_WALK_SPEED_KMH, "walking speed turning minutes into metres"
        ),
        "max_snap_m": Key("distance", False, defaults.DEFAULT_MAX_SNAP_M, "largest walk from a point to its street"),
    },
    "network": {
        "source": Key("paths", False, None, "GraphML, OSM XML, PBF or Overpass JSON file(s)"),
        "place": Key("str", False, None, "place name for an online osmnx download"),
        "polygon_file": Key("path", False, None, "polygon file for an online osmnx download"),
        "polygon_filter": Key("filter", False, None, "column = value selecting the polygon"),
        "largest_only": Key("bool", False, True, "keep only the largest connected part"),
    },
    "halls": {
        "file": Key("path", False, None, "halls file (CSV, GeoJSON, GeoPackage, JSON records)"),
        **_SITE_FILE_KEYS,
        "clip_to_network": Key("bool", False, False, "keep only halls near the network, reporting the rest"),
        "label": Key("text", False, "Halls", "what the halls are, for the map legend and report"),
        "capacity_col": Key("str", False, None, "column of residents each hall can serve (or visits a day with "
                            "visits_per_resident); used by the life-circle step"),
        "visits_per_resident": Key("rate", False, None, "units of capacity_col one resident uses, e.g. visits a "
                                   "day per resident, or 0.00025 when capacity_col counts facilities of 4,000"),
        "label_zh": Key("text", False, "", "Chinese label (default: label)"),
        "label_en": Key("text", False, "", "English label (default: label)"),
        "stand_in": Key("bool", False, False, "the halls are stand-ins, not the real halls (said on every output)"),
    },
    "demand": {
        "kind": Key("choice", True, None, "kind of population data", ("estimate", "hexagons", "grid", "points",
                                                                    "polygons", "buildings")),
        "file": Key("path", False, None, "demand file (not for kind = estimate)"),
        "population_col": Key("str", False, None, "population column ('population'; detected for grid and "
                              "polygons)"),
        "id_col": Key("str", False, None, "id column"),
        "crs": Key("str", False, None, "points/grid/polygons: CRS of the coordinates: EPSG code, 'gcj02' or 'bd09'"),
        "lon_col": Key("str", False, None, "points/hexagons: longitude column of a table"),
        "lat_col": Key("str", False, None, "points/hexagons: latitude column of a table"),
        "layer": Key("str", False, None, "points/grid/polygons: layer of a GeoPackage with several"),
        "encoding": Key("str", False, None, "text encoding of the file (detected when not given)"),
        "method": Key("choice", False, "streets", "polygons: spread over their streets or one unit at the "
                      "centre", ("streets", "centroid")),
        "spacing_m": Key("spacing", False, defaults.DEFAULT_DEMAND_SPACING_M, "spacing of points spread along streets"),
        "population": Key("population", False, None, "estimate/buildings: population of the district"),
        "area_km2": Key("area_km2", False, None, "estimate: area of the district in km2"),
        "area_file": Key("path", False, None, "estimate: polygon of the district"),
        "area_filter": Key("filter", False, None, "estimate: column = value selecting the district"),
        "source_note": Key("text", False, "", "where the population figures come from"),
        "source_note_zh": Key("text", False, "", "Chinese source note (default: source_note)"),
        "source_note_en": Key("text", False, "", "English source note (default: source_note)"),
        "elderly_share": Key("share", False, None, "also report an 'elderly' group of this share"),
        "elderly_walk_speed_kmh": Key("speed", False, None, "walking speed of the elderly (default "
                                      f"{defaults.GROUP_WALK_SPEED_KMH['elderly']:g} km/h; matters with minutes)"),
    },
    "areas": {
        "file": Key("path", False, None, "polygons to tabulate coverage by (districts, sub-districts)"),
        "name_col": Key("str", False, None, "column naming each area"),
    },
    "service_areas": {
        "buffer_m": Key(
            "distance", False, defaults.DEFAULT_BUFFER_M, "half-width of the walkable band drawn around streets"
        ),
        "resolution_m": Key("resolution", False, None, "outline grid cell (0 = exact GEOS union)"),
        "rings_m": Key("distances", False, None, "more radii to draw, in metres (e.g. [300, 1000])"),
        "rings_min": Key("minutes_list", False, None, "more walking times to draw (e.g. [5, 15])"),
    },
    "plan": {
        "enabled": Key("bool", False, True, "run the site optimizer"),
        "k": Key("count", False, defaults.DEFAULT_K, "number of new sites to propose"),
        "k_max": Key("count", False, None, "largest k of the coverage curve (default max(k, 20))"),
        "target_share": Key(
            "share", False, defaults.DEFAULT_TARGET_SHARE, "target share for the fewest-sites question"
        ),
        "candidates": Key("choices", False, ["network"], "where sites may go", ("network", "gaps", "file")),
        "candidate_file": Key("path", False, None, "file of possible sites"),
        "spacing_m": Key("spacing", False, defaults.DEFAULT_CANDIDATE_SPACING_M, "spacing of network candidates"),
        "exclude_file": Key("path", False, None, "polygons where no site may go"),
        "method": Key("choice", False, "exact", "exact (MILP, HiGHS) or greedy", ("exact", "greedy")),
        "time_limit_s": Key(
            "seconds", False, defaults.DEFAULT_TIME_LIMIT_S, "safety net for the optimizer (a stopped result says so)"
        ),
        "max_nodes": Key(
            "count", False, defaults.DEFAULT_MAX_NODES, "MILP nodes per solve: a work limit, the same plan anywhere"
        ),
        "objective": Key("choice", False, "coverage", "what the k new sites maximise: coverage; capacitated "
                         "(residents served within capacity: [halls] capacity_col and new_site_capacity); backup "
                         "(coverage, then residents within reach of two sites); maxmin (the worst community's "
                         "covered share, then coverage)", ("coverage", "capacitated", "backup", "maxmin")),
        "new_site_capacity": Key("population", False, None, "objective = 'capacitated': residents each new site "
                                 "can serve (residents, not visits)"),
    },
    "communities": {
        "file": Key("path", False, None, "community polygons (社区), the finer level of the tables"),
        "name_col": Key("str", False, None, "column naming each community"),
    },
    "life_circle": {
        "enabled": Key("bool", False, None, "run the life-circle step (default: when this section or a "
                       "capacity_col is given)"),
        "standard": Key("str", False, "GB 50180-2018", "code of a shipped standard: 'GB 50180-2018' or "
                        "'TD/T 1062-2021'"),
        "standard_file": Key("path", False, None, "a local standard (TOML shaped like coverage/standards/"
                             "gb50180_2018.toml), instead of standard"),
        "tiers": Key("names", False, None, "tier keys to check, e.g. ['15min', '10min', '5min'] (default: all)"),
        "target_share": Key("share", False, 1.0, "share of an area's residents that must reach a facility type "
                            "for it to pass (1.0: everyone, as the standards state radii as maxima)"),
        "include_optional": Key("bool", False, False, "also require the optional (宜配建 / 品质提升类) types"),
        "facilities": Key("name_table", False, None, "service key = facility key of the standard, where they "
                          "differ (use 'halls' for the [halls])"),
        "thresholds_m": Key("distance_table", False, None, "facility key = walking metres, overriding the "
                            "standard's service radius"),
        "judge": Key("choice", False, "standard", "judge walks at the standard's radii, or at each service's own "
                     "radius_m/minutes (minutes at each group's walking speed)", ("standard", "services")),
        "backup_min_sites": Key("count", False, 2, "sites within reach that make a resident backed up"),
    },
    "map": {
        "lang": Key("choice", False, "zh", "labels", ("zh", "en")),
        "offline": Key("bool", False, True, "inline Leaflet so the HTML needs no network"),
        "basemap": Key("choice", False, "offline", "map background: streets from the network (offline), none, "
                       "OpenStreetMap, Tianditu (needs a key) or Amap", ("offline", "none", "osm", "tianditu", "amap")),
        "tianditu_key": Key("token", False, "", "Tianditu key for basemap = 'tianditu' (or $TIANDITU_KEY)"),
        "paper": Key("choice", False, "A3", "sheet size of map.pdf (landscape)", ("A4", "A3")),
    },
}

SERVICE_SCHEMA: dict[str, Key] = {
    "key": Key("str", True, None, "short ASCII name used in column names, e.g. 'health'"),
    "name": Key("text", False, "", "display name, e.g. 社区健康服务中心"),
    "file": Key("path", True, None, "file of the service's sites (CSV, GeoJSON, GeoPackage, JSON records)"),
    **_SITE_FILE_KEYS,
    "radius_m": Key("distance", False, None, "walking distance in metres that counts as within reach"),
    "minutes": Key("minutes", False, None, "walking time that counts as within reach (instead of radius_m)"),
    "capacity_col": Key("str", False, None, "column of residents each site can serve (or visits a day with "
                        "visits_per_resident); used by the life-circle step"),
    "visits_per_resident": Key("rate", False, None, "units of capacity_col one resident uses, e.g. visits a day per "
                               "resident, or 0.00025 when capacity_col counts facilities of 4,000"),
}
"""Keys of each ``[[services]]`` entry: one kind of facility with its own sites and threshold."""

MAX_SERVICES = 30

_MAX_TEXT = 2_000
_MAX_LIST = 50


def check_value(key: Key, value: Any, label: str) -> Any:
    """Check one value against its key; return it converted to a plain Python value.

    ``label`` names the key in messages, e.g. ``"[plan] k"``.
    """
    try:
        return _convert(key, value, label)
    except CoverageInputError:
        raise
    except (TypeError, ValueError, OverflowError) as exc:
        raise CoverageInputError(f"{label} = {value!r:.60}: {exc} ({key.help}).") from exc


def _positive(value: Any, label: str, *, maximum: float, unit: str, example: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise CoverageInputError(f"{label} = {value!r:.60}: give a number > 0 ({unit}), e.g. {label} = {example}.")
    if value > maximum:
        raise CoverageInputError(f"{label} = {value!r}: more than {maximum:g} {unit}; is the unit right?")
    return float(value)


def _convert(key: Key, value: Any, label: str) -> Any:
    kind = key.kind
    if kind in ("str", "text"):
        if not isinstance(value, str):
            raise CoverageInputError(f"{label} = {value!r:.60} should be text in quotes ({key.help}).")
        limit = _MAX_TEXT if kind == "text" else 300
        if len(value) > limit or "\x00" in value:
            raise CoverageInputError(f"{label}: text longer than {limit} characters or with a NUL byte.")
        return value
    if kind == "token":  # an access key that ends up in a URL: letters and digits only
        ok = isinstance(value, str) and (not value or (value.isascii() and value.isalnum() and 8 <= len(value) <= 64))
        if not ok:
            raise CoverageInputError(f"{label} should be the 8-64 letters and digits of your key ({key.help}).")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise CoverageInputError(f"{label} = {value!r:.60} should be true or false ({key.help}).")
        return value
    if kind == "distance":
        return as_distance(value, name=label)
    if kind == "spacing":
        return as_distance(value, name=label, minimum=defaults.MIN_SPACING_M, maximum=10_000.0, example="50")
    if kind == "resolution":
        return as_distance(value, name=label, allow_zero=True, minimum=defaults.MIN_RESOLUTION_M, example="6.25")
    if kind == "minutes":
        return _positive(value, label, maximum=600.0, unit="minutes", example="10")
    if kind in ("distances", "minutes_list"):
        if not isinstance(value, list) or not value or len(value) > _MAX_LIST:
            raise CoverageInputError(f"{label} = {value!r:.60} should be a list of 1 to {_MAX_LIST} numbers.")
        if kind == "distances":
            items = [as_distance(v, name=label) for v in value]
        else:
            items = [_positive(v, label, maximum=600.0, unit="minutes", example="[5, 15]") for v in value]
        if len(set(items)) != len(items):
            raise CoverageInputError(f"{label} = {value!r}: a value is listed twice; list each ring once.")
        return sorted(items)
    if kind == "speed":
        return as_speed(value, name=label)
    if kind == "share":
        return as_share(value, name=label)
    if kind == "count":
        return as_count(value, name=label, maximum=100_000)
    if kind == "seconds":
        return as_time_limit(value, name=label)
    if kind == "population":
        return _positive(value, label, maximum=2e9, unit="people", example="1553225")
    if kind == "area_km2":
        return _positive(value, label, maximum=1e7, unit="km2", example="78.7")
    if kind == "path":
        if not isinstance(value, str) or not value or "\x00" in value:
            raise CoverageInputError(f"{label} = {value!r:.60} should be a file path in quotes ({key.help}).")
        return value
    if kind == "paths":
        items = value if isinstance(value, list) else [value]
        if not items or len(items) > 1000 or not all(isinstance(v, str) and v and "\x00" not in v for v in items):
            raise CoverageInputError(f"{label} = {value!r:.60} should be a path or a list of paths ({key.help}).")
        return value
    if kind == "filter":
        return _check_filter(value, label)
    if kind == "rate":
        return _positive(value, label, maximum=1_000.0, unit="per resident", example="0.02")
    if kind == "names":
        if not isinstance(value, list) or not value or len(value) > _MAX_LIST:
            raise CoverageInputError(f"{label} = {value!r:.60} should be a list of 1 to {_MAX_LIST} names in quotes.")
        names = [_convert(Key("str"), v, label) for v in value]
        if len(set(names)) != len(names):
            raise CoverageInputError(f"{label} = {value!r:.60}: a name is listed twice.")
        return names
    if kind in ("name_table", "distance_table"):
        return _check_table(key, value, label)
    if kind == "choice":
        if value not in key.choices:
            raise CoverageInputError(f"{label} = {value!r:.60} should be one of {', '.join(key.choices)}.")
        return value
    if kind == "choices":
        items = value if isinstance(value, list) else [value]
        bad = [v for v in items if v not in key.choices]
        if not items or bad:
            raise CoverageInputError(f"{label}: {bad or value!r:.60} should be among {', '.join(key.choices)}.")
        return list(dict.fromkeys(items))
    raise AssertionError(f"unknown key kind {kind!r}")  # pragma: no cover - schema bug


def _check_table(key: Key, value: Any, label: str) -> dict[str, Any]:
    """Check a table of name = text (``name_table``) or name = metres (``distance_table``)."""
    example = '{ halls = "community_service_station" }' if key.kind == "name_table" else "{ kindergarten = 300 }"
    if not isinstance(value, dict) or not value or len(value) > _MAX_LIST:
        raise CoverageInputError(f"{label} should be a table such as {example} ({key.help}).")
    out: dict[str, Any] = {}
    for name, item in value.items():
        where = f"{label}.{name}"
        _convert(Key("str"), name, where)
        out[name] = _convert(Key("str"), item, where) if key.kind == "name_table" else as_distance(item, name=where)
    return out


def _check_filter(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict) or not value:
        raise CoverageInputError(f"{where} should be a table such as {{ qh = \"福田\" }} (column = value).")
    for col, wanted in value.items():
        items = wanted if isinstance(wanted, list) else [wanted]
        if not items or not all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in items):
            raise CoverageInputError(
                f"{where}: {col} = {wanted!r:.60} should be a value, a list of values or a comparison such as '>0'."
            )
    return dict(value)
