"""Imports only go downhill: every module sits in one layer of CONTRIBUTING.md and imports none above it."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "coverage"

# The layers of CONTRIBUTING.md, bottom first. A new module must be added here.
LAYERS: dict[int, str] = {
    1: "_errors _defaults _types _validate _data _chinacrs crs _text _format _rows _textfile",
    2: "osm osm._arrays osm._common osm._graph osm._graphml osm._osmfile osm._overpass osm._sources "
    "osm.buildings _simplify _prepare _walknet _cache _netcache network _tabular _coords demand "
    "demand._spread demand.buildings demand.groups demand.polygons demand.readers demand.schema "
    "demand.streets _street_names standards",
    3: "_augment _search _snap _reach _matrix _raster _geometry _pairs _subnet optimize optimize._blocks "
    "optimize._capacity optimize._checks optimize._curve optimize._engine optimize._greedy optimize._highs "
    "optimize._lp optimize._milp optimize._reduce optimize.backup optimize.capacitated optimize.combined "
    "optimize.costs optimize.fewest optimize.maximum optimize.maxmin optimize.result",
    4: "sites io _xlsx snapped service_areas assess tables gaps _frames candidates plan _plan_models services "
    "pairs capacity backup accessibility fairness life_circle life_circle_inputs _life_parts partition "
    "_partparts",
    5: "maps _map_geo _map_layers _map_page _map_residents _map_sites _offline _offline_render static_map "
    "_static_parts",
    6: "scenario_schema scenario life_circle_options loaders pipeline life_circle_run report report_doc "
    "_report_tables report_files _life_report",
    7: "batch _batch_cli _batch_exec _batch_outputs cli __init__",
}
LAYER = {name: level for level, names in LAYERS.items() for name in names.split()}


@functools.cache
def parsed(path: Path) -> ast.Module:
    """One parse per module per session."""
    return ast.parse(path.read_text(encoding="utf-8"))


def modules() -> dict[str, Path]:
    """Dotted module names under coverage/ (packages by their folder name)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def imported(name: str, path: Path) -> set[str]:
    """Project modules imported by one module (relative and absolute, TYPE_CHECKING included)."""
    out: set[str] = set()
    package = name.split(".") if path.name == "__init__.py" and name != "__init__" else name.split(".")[:-1]
    for node in ast.walk(parsed(path)):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            base = package[: len(package) - node.level + 1] if node.level > 1 else package
            target = ".".join([*base, node.module] if node.module else base)
        elif node.module and (node.module == "coverage" or node.module.startswith("coverage.")):
            target = node.module.removeprefix("coverage").removeprefix(".")
        else:
            continue
        for alias in node.names:
            full = f"{target}.{alias.name}" if target else alias.name
            out.add(full if full in LAYER else target)
    return {m for m in out if m in LAYER}


def test_every_module_has_a_layer() -> None:
    assert sorted(set(modules()) - set(LAYER)) == [], "add new modules to LAYERS (and CONTRIBUTING.md)"
    assert sorted(set(LAYER) - set(modules())) == [], "remove deleted modules from LAYERS"


def test_imports_go_downhill() -> None:
    uphill = [
        f"{name} (layer {LAYER[name]}) imports {other} (layer {LAYER[other]})"
        for name, path in modules().items()
        if name != "__init__"
        for other in imported(name, path)
        if LAYER[other] > LAYER[name]
    ]
    assert uphill == []


def test_the_check_sees_an_uphill_import(tmp_path: Path) -> None:
    bad = tmp_path / "x.py"
    bad.write_text("from .cli import main\nfrom coverage.pipeline import run_scenario\n", encoding="utf-8")
    assert imported("_errors", bad) == {"cli", "pipeline"}


def test_contributing_lists_every_module_with_its_docstring() -> None:
    import re

    text = (PACKAGE.parent / "CONTRIBUTING.md").read_text(encoding="utf-8")
    for name, path in modules().items():
        doc = ast.get_docstring(parsed(path)) or ""
        first = " ".join(doc.strip().split("\n\n")[0].split())
        first = re.sub(r":(?:func|class|mod|meth):`~?([^`]+)`", r"`\1`", first)
        line = f"- `{path.relative_to(PACKAGE).as_posix()}`: {first}"
        assert line in text, f"CONTRIBUTING.md: update the line of {name}: {line}"
