"""Scenario files: one TOML file describes a whole planning run.

Every path may start with ``{data}``, the folder holding the real data: the
``--data-dir`` option, else ``$COVERAGE_PLANNER_DATA``, else ``../shared/data``
(see :func:`coverage.find_data`). Other relative paths are relative to the
scenario file.

The file is validated completely before any heavy work. Every key is either
used or rejected: an unknown key, a missing key, a value of the wrong kind or
out of range, or a path that does not exist gets a one-line message naming
the ``[section] key`` and the fix. The keys, their kinds, defaults and help
texts are declared once, in :data:`SCHEMA`.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import _defaults as defaults
from ._data import find_data
from ._errors import CoverageInputError
from ._validate import Radii, as_radii
from .life_circle_options import check_life_circle_options, check_plan_objective
from .scenario_schema import MAX_SERVICES, SCHEMA, SERVICE_SCHEMA, Key, check_value

__all__ = ["SCHEMA", "Key", "Scenario", "default_data_dir", "load_scenario", "load_scenario_text"]

_MAX_BYTES = 1_000_000


@dataclass(frozen=True)
class Scenario:
    """A validated scenario: sections of plain values, paths resolved.

    ``scenario[section][key]`` gives a value (``""`` is the top level);
    every key of :data:`SCHEMA` is present, with its default when not given.
    """

    path: Path
    values: dict[str, dict[str, Any]]
    services: tuple[dict[str, Any], ...] = ()

    def __getitem__(self, section: str) -> dict[str, Any]:
        return self.values[section]

    @property
    def name(self) -> str:
        """The scenario's title."""
        return str(self.values[""]["name"])

    @property
    def radius(self) -> Radii:
        """The coverage threshold: ``radius_m``, or ``minutes`` at ``walk_speed_kmh``."""
        top = self.values[""]
        if top["minutes"] is not None:
            return as_radii(minutes=top["minutes"], walk_speed_kmh=top["walk_speed_kmh"])
        return as_radii(top["radius_m"], walk_speed_kmh=top["walk_speed_kmh"])

    @property
    def rings(self) -> Radii:
        """Radii of the service areas drawn: the coverage radius plus ``[service_areas]`` rings."""
        top = self.values[""]
        sa = self.values["service_areas"]
        speed = top["walk_speed_kmh"]
        if sa["rings_min"] is not None:
            mins = sorted({*sa["rings_min"], *(self.radius.label_minutes.tolist())})
            return as_radii(minutes=mins, walk_speed_kmh=speed)
        metres = sorted({*(sa["rings_m"] or []), float(self.radius.metres[0])})
        return as_radii(metres, walk_speed_kmh=speed)


def default_data_dir(scenario_path: Path | None = None) -> Path:
    """Where ``{data}`` points when neither the option nor the variable is set."""
    return find_data(near=scenario_path, required=False)


def load_scenario(path: str | os.PathLike[str], *, data_dir: str | os.PathLike[str] | None = None) -> Scenario:
    """Read and validate a scenario file.

    Parameters
    ----------
    path : path
        The TOML file (UTF-8, with or without a byte-order mark).
    data_dir : path, optional
        What ``{data}`` in paths stands for.

    Returns
    -------
    Scenario

    Raises
    ------
    CoverageInputError
        One line naming the file, the key and the fix.
    """
    path = Path(path)
    if not path.exists():
        raise CoverageInputError(f"scenario file {path} not found; see data/scenarios/ for examples.")
    if path.is_dir():
        raise CoverageInputError(f"{path} is a folder; give the scenario file itself, e.g. {path}/futian.toml.")
    if not path.is_file():
        raise CoverageInputError(f"{path} is not a regular file; give a TOML scenario file.")
    if path.stat().st_size > _MAX_BYTES:
        raise CoverageInputError(f"{path} is larger than {_MAX_BYTES:,} bytes; a scenario file is a few lines of TOML.")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CoverageInputError(
            f"{path}: not UTF-8 text (byte {exc.start} cannot be read); save the file as UTF-8 "
            "(in Notepad: Save As, Encoding UTF-8)."
        ) from exc
    return load_scenario_text(text, path=path, data_dir=data_dir)


def load_scenario_text(
    text: str, *, path: str | os.PathLike[str] = "<scenario>", data_dir: str | os.PathLike[str] | None = None
) -> Scenario:
    """Validate a scenario given as TOML text (relative paths are relative to ``path``'s folder)."""
    path = Path(path)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CoverageInputError(f"{path}: not valid TOML ({exc}).") from exc
    except RecursionError as exc:
        raise CoverageInputError(f"{path}: nested too deeply to be a scenario file.") from exc
    return validate(raw, path=path, data_dir=data_dir)


def validate(raw: dict[str, Any], *, path: Path, data_dir: str | os.PathLike[str] | None = None) -> Scenario:
    """Validate a scenario given as a dictionary (the parsed TOML)."""
    if not isinstance(raw, dict):
        raise CoverageInputError(f"{path}: a scenario is a table of keys and sections.")
    raw = dict(raw)
    services = _check_services(path, raw.pop("services", None))
    for key, value in raw.items():
        if isinstance(value, dict) and key not in SCHEMA:
            raise CoverageInputError(f"{path}: unknown section [{key}]{_hint(key, list(SCHEMA))}.")
        if not isinstance(value, dict) and key in SCHEMA and key:
            raise CoverageInputError(f"{path}: {key} should be a section [{key}], not a single value.")
    values: dict[str, dict[str, Any]] = {}
    for section, spec in SCHEMA.items():
        given = {k: v for k, v in raw.items() if k not in SCHEMA} if section == "" else raw.get(section, {})
        values[section] = _check_section(path, section, given, spec)
    _check_consistency(path, values)
    data = Path(data_dir) if data_dir is not None else None
    _resolve_paths(path, values, data)
    for i, svc in enumerate(services, start=1):
        _resolve_paths(path, {f"[services]] #{i}": svc}, data, {f"[services]] #{i}": ("file",)})
    check_plan_objective(path, values["plan"], values["halls"], values["communities"], values["areas"])
    check_life_circle_options(
        path, values["life_circle"], values["halls"], services, section_given="life_circle" in raw,
        default_standard=SCHEMA["life_circle"]["standard"].default,
        plan_uses_capacity=values["plan"]["enabled"] and values["plan"]["objective"] == "capacitated",
    )
    return Scenario(path=path, values=values, services=tuple(services))


def _check_services(path: Path, value: Any) -> list[dict[str, Any]]:
    """Validate the ``[[services]]`` entries (each a table with the keys of ``SERVICE_SCHEMA``)."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise CoverageInputError(f"{path}: services should be [[services]] tables, one per kind of facility.")
    if len(value) > MAX_SERVICES:
        raise CoverageInputError(f"{path}: {len(value)} services; at most {MAX_SERVICES} in one scenario.")
    out = []
    for i, entry in enumerate(value, start=1):
        svc = _check_section(path, "services", entry, SERVICE_SCHEMA, where=f"[[services]] #{i} ")
        if svc["radius_m"] is not None and svc["minutes"] is not None:
            raise CoverageInputError(f"{path}: [[services]] #{i}: give radius_m or minutes, not both.")
        out.append(svc)
    keys = [s["key"] for s in out]
    dup = sorted({k for k in keys if keys.count(k) > 1})
    if dup:
        raise CoverageInputError(f"{path}: [[services]] keys must be unique; {dup} appear twice.")
    return out


def _hint(key: str, options: list[str]) -> str:
    close = difflib.get_close_matches(key, [o for o in options if o], n=1)
    return f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(o for o in options if o)}"


def _check_section(
    path: Path, section: str, given: dict[str, Any], spec: dict[str, Key], where: str = ""
) -> dict[str, Any]:
    where = where or (f"[{section}] " if section else "")
    for key in given:
        if key not in spec:
            raise CoverageInputError(f"{path}: unknown key {where}{key}{_hint(key, list(spec))}.")
    out: dict[str, Any] = {}
    for key, k in spec.items():
        if key not in given:
            if k.required:
                raise CoverageInputError(f"{path}: missing key {where}{key} ({k.help}).")
            out[key] = k.default
            continue
        try:
            out[key] = check_value(k, given[key], f"{where}{key}")
        except CoverageInputError as exc:
            raise CoverageInputError(f"{path}: {exc}") from exc
    return out


KINDS = ("estimate", "hexagons", "grid", "points", "polygons", "buildings")


def _check_consistency(path: Path, v: dict[str, dict[str, Any]]) -> None:
    top = v[""]
    if top["radius_m"] is not None and top["minutes"] is not None:
        raise CoverageInputError(f"{path}: give radius_m (metres) or minutes (walking time), not both.")
    if top["radius_m"] is None and top["minutes"] is None:
        top["radius_m"] = defaults.DEFAULT_RADIUS_M
    net = v["network"]
    sources = [k for k in ("source", "place", "polygon_file") if net[k]]
    if len(sources) != 1:
        raise CoverageInputError(
            f"{path}: [network] needs exactly one of source, place or polygon_file (got {sources or 'none'})."
        )
    if net["polygon_filter"] and not net["polygon_file"]:
        raise CoverageInputError(f"{path}: [network] polygon_filter needs polygon_file.")
    d = v["demand"]
    kind = d["kind"]
    if kind == "estimate":
        if d["population"] is None or d["area_km2"] is None:
            raise CoverageInputError(
                f"{path}: [demand] kind = 'estimate' needs population and area_km2 (the district's census figures)."
            )
        if d["file"] is not None:
            raise CoverageInputError(
                f"{path}: [demand] kind = 'estimate' takes no file (use area_file for its polygon)."
            )
    elif d["file"] is None:
        raise CoverageInputError(f"{path}: [demand] kind = {kind!r} needs file = '...'.")
    if kind == "buildings" and d["population"] is None:
        raise CoverageInputError(f"{path}: [demand] kind = 'buildings' needs population (the total to share).")
    unused = {
        "area_km2": kind != "estimate",
        "area_file": kind != "estimate",
        "area_filter": kind != "estimate" or d["area_file"] is None,
        "population": kind not in ("estimate", "buildings"),
        "method": kind not in ("hexagons", "grid", "polygons"),
        "crs": kind not in ("points", "grid", "polygons"),
        "lon_col": kind not in ("points", "hexagons"),
        "lat_col": kind not in ("points", "hexagons"),
        "layer": kind not in ("points", "grid", "polygons"),
        "encoding": kind not in ("points", "hexagons", "grid", "polygons"),
    }
    for key, is_unused in unused.items():
        if is_unused and d[key] is not None and d[key] != SCHEMA["demand"][key].default:
            raise CoverageInputError(f"{path}: [demand] {key} has no effect with kind = {kind!r}; remove it.")
    if d["elderly_walk_speed_kmh"] is not None and d["elderly_share"] is None:
        raise CoverageInputError(f"{path}: [demand] elderly_walk_speed_kmh needs elderly_share (the elderly group).")
    halls = v["halls"]
    if halls["file"] is None:
        for key in ("id_col", "name_col", "lon_col", "lat_col", "filter", "crs", "layer", "encoding"):
            if halls[key] is not None:
                raise CoverageInputError(f"{path}: [halls] {key} needs file = '...' (there is no halls file).")
    sa = v["service_areas"]
    if sa["rings_m"] is not None and sa["rings_min"] is not None:
        raise CoverageInputError(f"{path}: [service_areas] give rings_m or rings_min, not both.")
    if sa["resolution_m"] not in (None, 0.0) and sa["resolution_m"] > sa["buffer_m"] / 1.5:
        raise CoverageInputError(
            f"{path}: [service_areas] resolution_m = {sa['resolution_m']:g} should be 0 (exact) or between "
            f"{defaults.MIN_RESOLUTION_M:g} and buffer_m / 1.5 = {sa['buffer_m'] / 1.5:g} m."
        )
    p = v["plan"]
    if p["k_max"] is None:
        p["k_max"] = max(p["k"], 20)
    if p["k_max"] < p["k"]:
        raise CoverageInputError(
            f"{path}: [plan] k_max = {p['k_max']} is below k = {p['k']}; the coverage curve runs from 0 to k_max "
            "and must include k. Raise k_max (or remove it)."
        )
    cands = p["candidates"]
    if "file" in cands and not p["candidate_file"]:
        raise CoverageInputError(f"{path}: [plan] candidates include 'file' but candidate_file is not set.")
    if p["candidate_file"] and "file" not in cands:
        raise CoverageInputError(f"{path}: [plan] candidate_file is set but candidates do not include 'file'.")
    if "network" not in cands and p["spacing_m"] != SCHEMA["plan"]["spacing_m"].default:
        raise CoverageInputError(f"{path}: [plan] spacing_m is for 'network' candidates, which are not used.")
    m = v["map"]
    if m["basemap"] == "tianditu" and not m["tianditu_key"] and not os.environ.get("TIANDITU_KEY"):
        raise CoverageInputError(
            f"{path}: [map] basemap = 'tianditu' needs tianditu_key = '...' (or $TIANDITU_KEY); "
            "or use basemap = 'offline'."
        )


_PATH_KEYS = {
    "network": ("source", "polygon_file"),
    "halls": ("file",),
    "demand": ("file", "area_file"),
    "areas": ("file",),
    "communities": ("file",),
    "plan": ("candidate_file", "exclude_file"),
    "life_circle": ("standard_file",),
}


def _resolve_paths(
    path: Path, v: dict[str, dict[str, Any]], data: Path | None, path_keys: dict[str, tuple[str, ...]] | None = None
) -> None:
    for section, keys in (path_keys or _PATH_KEYS).items():
        for key in keys:
            value = v[section][key]
            if value is None:
                continue
            items = value if isinstance(value, list) else [value]
            resolved = []
            for item in items:
                text = str(item)
                if text.startswith("{data}"):
                    if data is None:
                        data = find_data(near=path, required=False)
                    p = data / text[len("{data}") :].lstrip("/\\")
                else:
                    p = Path(text) if Path(text).is_absolute() else (path.parent / text)
                if not p.exists():
                    hint = (
                        f" ({{data}} is {data}; set --data-dir or $COVERAGE_PLANNER_DATA)"
                        if text.startswith("{data}")
                        else ""
                    )
                    raise CoverageInputError(f"{path}: [{section}] {key}: {p} does not exist{hint}.")
                resolved.append(p)
            v[section][key] = resolved if isinstance(value, list) else resolved[0]
