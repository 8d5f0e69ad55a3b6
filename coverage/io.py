"""The one writer of tables and layers: GeoPackage, CSV and Excel, with one set of names.

Every output goes through here (``CoverageResult.to_file/to_csv``,
``SitePlan.to_file``, the command line's output folder), so the same table
has the same name everywhere: ``halls``, ``service_areas``,
``service_area_union``, ``residents``, ``gaps``, ``coverage_summary``,
``coverage_by_hall``, ``coverage_by_area``, ``coverage_by_community``,
``services_summary``, ``services_met``, ``proposed_sites``,
``proposed_service_areas``, ``coverage_after``, ``coverage_curve``.

* GeoPackage: exact values, geometry in the network's CRS (for QGIS).
* CSV (UTF-8 with BOM, so Excel reads Chinese) and the workbook
  (:func:`write_xlsx`) hold the same numbers, made for people: ids as text;
  people as whole numbers, rounded so that parts still add up to their
  totals; lon/lat in WGS-84 with 7 decimals and a ``datum`` column;
  proposed sites and gap centres also in GCJ-02 (Amap, Tencent); projected
  metres with 2 decimals; text made safe for spreadsheets
  (:func:`coverage._text.sheet_frame`: no formula runs).
* The output folder of a run (:func:`check_output_dir`,
  :func:`staged_output`): checked before any heavy work, written as a new
  folder beside it and swapped in, so no file of an earlier run survives;
  symlinks are never followed; an existing folder is replaced only if an
  earlier run made it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd

from ._errors import CoverageInputError
from ._text import clean_frame, map_values, sheet_frame

if TYPE_CHECKING:
    from .assess import CoverageResult
    from .plan import SitePlan

__all__ = [
    "RUN_MARKER",
    "check_output_dir",
    "coverage_layers",
    "plan_layers",
    "round_people",
    "staged_output",
    "table_for_people",
    "write_csvs",
    "write_gpkg",
    "write_xlsx",
]

#: File that marks a folder as written by a run (so a later run may replace it).
RUN_MARKER: Final = ".coverage-planner-run"
ID_COLUMNS: Final = ("site_id", "demand_id", "candidate_id", "gap_id", "nearest_site", "source_id", "id")
PEOPLE_COLUMNS: Final = (
    "population",
    "total",
    "covered",
    "uncovered",
    "unreachable",
    "circle_covered",
    "population_served",
    "population_within",
    "marginal_population",
    "cumulative_population",
    "covered_weight",
    "new_weight",
    "upper_bound",
)
_PARTS: Final = ("covered", "uncovered", "unreachable")
_DROP: Final = ("edge", "component")
#: Layers whose points get lon/lat columns, and those that also get GCJ-02.
_POINT_LAYERS: Final = ("halls", "residents", "proposed_sites")
_GCJ_LAYERS: Final = ("proposed_sites", "gaps")


def coverage_layers(cov: CoverageResult) -> dict[str, Any]:
    """Return the layers of a coverage result, by their output names."""
    layers: dict[str, Any] = {
        "residents": cov.units,
        "gaps": cov.gaps,
        "coverage_summary": cov.summary,
        "coverage_by_hall": cov.halls,
    }
    if cov.areas is not None:
        layers["coverage_by_area"] = cov.areas
    communities = getattr(cov, "communities", None)
    if communities is not None:
        layers["coverage_by_community"] = communities
    return layers


def plan_layers(plan: SitePlan) -> dict[str, Any]:
    """Return the layers of a site plan, by their output names."""
    layers: dict[str, Any] = {"proposed_sites": plan.sites}
    if plan.areas is not None:
        layers["proposed_service_areas"] = plan.areas.areas
    layers["coverage_after"] = plan.after.summary
    if len(plan.curve):
        # Solver times vary from run to run; tables stay byte-identical without them.
        layers["coverage_curve"] = plan.curve.drop(columns=["time_s"], errors="ignore")
    return layers


def _has_geometry(frame: Any) -> bool:
    return isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame.columns


def _gpkg_ready(frame: Any) -> gpd.GeoDataFrame:
    out = clean_frame(frame)
    for col in out.columns:
        if col == getattr(out, "_geometry_column_name", None):
            continue
        if pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].replace([np.inf, -np.inf], np.nan)
        elif pd.api.types.is_object_dtype(out[col]) or isinstance(out[col].dtype, pd.CategoricalDtype):
            out[col] = map_values(out[col], str).astype("string")
    if _has_geometry(frame):
        return gpd.GeoDataFrame(out, geometry=frame.geometry.name, crs=frame.crs)
    return gpd.GeoDataFrame(out, geometry=None)


def write_gpkg(layers: Mapping[str, Any], path: str | os.PathLike[str]) -> Path:
    """Write layers to a new GeoPackage (an existing file at ``path`` is replaced, never a symlink's target).

    pyogrio reads ``a!b`` in a path as "``b`` inside the archive ``a``" (so
    ``out/x!/r.gpkg`` would be written to ``/r.gpkg``); a path with ``!``
    (e.g. a batch folder named after a scenario file) is written in a
    private temporary folder first and moved into place.
    """
    target = Path(os.path.abspath(path))
    if target.is_symlink():
        raise CoverageInputError(f"{target} is a symbolic link; write the GeoPackage to a plain path.")
    if target.exists():
        target.unlink()
    if "!" not in str(target):
        _write_layers(layers, target)
        return target
    scratch = Path(tempfile.mkdtemp(prefix="coverage-gpkg-"))
    try:
        if "!" in str(scratch):
            raise CoverageInputError(
                f"cannot write {target}: its path has a '!' and so has the temporary folder {scratch}; "
                "choose an output folder without '!'."
            )
        _write_layers(layers, scratch / "results.gpkg")
        shutil.move(scratch / "results.gpkg", target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def _write_layers(layers: Mapping[str, Any], target: Path) -> None:
    for name, frame in layers.items():
        _gpkg_ready(frame).to_file(target, layer=name, driver="GPKG")


def round_people(values: Any) -> np.ndarray:
    """Round people to whole numbers so that the rounded values add up to the rounded total.

    Largest-remainder rounding: each value is floored, then the units still
    missing from ``round(sum)`` go to the largest fractional parts (ties in
    input order). NaN stays NaN.

    Examples
    --------
    >>> round_people([0.4, 0.4, 0.4]).tolist()
    [1.0, 0.0, 0.0]
    """
    arr = np.asarray(values, dtype=np.float64)
    out = np.full(arr.shape, np.nan)
    ok = np.isfinite(arr)
    if not ok.any():
        return out
    v = arr[ok]
    floor = np.floor(v)
    missing = round(float(v.sum())) - int(floor.sum())
    order = np.argsort(-(v - floor), kind="stable")
    bump = np.zeros(v.shape)
    if missing > 0:
        bump[order[:missing]] = 1.0
    elif missing < 0:  # pragma: no cover - cannot happen with floors
        bump[order[missing:]] = -1.0
    out[ok] = floor + bump
    return out


def _round_columns(table: pd.DataFrame, layer: str) -> pd.DataFrame:
    out = table.copy()
    people = [c for c in out.columns if c in PEOPLE_COLUMNS and pd.api.types.is_numeric_dtype(out[c])]
    if layer == "residents" and "population" in out.columns:
        keys = out["group"].astype(str) if "group" in out.columns else pd.Series("", index=out.index)
        rounded = np.zeros(len(out))
        for _, idx in out.groupby(keys, sort=False).indices.items():
            rounded[idx] = round_people(out["population"].to_numpy()[idx])
        out["population"] = rounded
        people = [c for c in people if c != "population"]
    if "total" in out.columns and all(c in out.columns for c in _PARTS):
        # Each row's covered + uncovered + unreachable adds up to its total.
        parts = np.array(out[list(_PARTS)].to_numpy(dtype=float), copy=True)
        for i in range(len(out)):
            parts[i] = round_people(parts[i])
        out[list(_PARTS)] = parts
        out["total"] = parts.sum(axis=1)
        people = [c for c in people if c not in (*_PARTS, "total")]
    for col in people:
        out[col] = out[col].astype(float).round(0)
    for col in out.columns:
        if not pd.api.types.is_float_dtype(out[col]):
            continue
        values = out[col].replace([np.inf, -np.inf], np.nan)
        if col in PEOPLE_COLUMNS or col in ("population",):
            out[col] = values.astype("Int64")
        elif col.endswith("share"):
            out[col] = values.round(6)
        elif col.endswith(("_pp", "_m", "_m2")) or col in ("x", "y"):
            out[col] = values.round(2)
        elif col.endswith("_km2") or col == "area_vs_circle" or col == "gap":
            out[col] = values.round(6)
    return out


def table_for_people(frame: Any, layer: str) -> pd.DataFrame:
    """One table as people read it (CSV and workbook): see the module notes.

    Parameters
    ----------
    frame : DataFrame or GeoDataFrame
        A layer as produced by :func:`coverage_layers` / :func:`plan_layers`.
    layer : str
        Its output name (decides lon/lat and GCJ-02 columns and rounding).
    """
    from .crs import wgs84_to_gcj02

    geo = _has_geometry(frame)
    table = (
        pd.DataFrame(frame.drop(columns=[frame.geometry.name, *_DROP], errors="ignore"))
        if geo
        else (pd.DataFrame(frame).drop(columns=list(_DROP), errors="ignore"))
    )
    table = table.drop(columns=[c for c in ("lon", "lat") if c in table.columns and geo])
    for col in table.columns:
        if col in ID_COLUMNS:
            table[col] = map_values(table[col], str).fillna("").astype(object)
        elif col == "sites":  # tuples of candidate indices in the curve
            table[col] = table[col].map(lambda v: " ".join(map(str, v)) if isinstance(v, tuple | list) else str(v))
        elif isinstance(table[col].dtype, pd.CategoricalDtype):
            table[col] = table[col].astype(str)
    if geo and (layer in _POINT_LAYERS or layer in _GCJ_LAYERS) and len(frame):
        pts = frame.geometry if layer in _POINT_LAYERS else frame.geometry.representative_point()
        if frame.crs is not None and not frame.crs.is_geographic:
            table["x_m"] = np.round(pts.x.to_numpy(), 2)
            table["y_m"] = np.round(pts.y.to_numpy(), 2)
        wgs = gpd.GeoSeries(pts, crs=frame.crs).to_crs("EPSG:4326")
        lon, lat = wgs.x.to_numpy(), wgs.y.to_numpy()
        table["lon"] = np.round(lon, 7)
        table["lat"] = np.round(lat, 7)
        table["datum"] = "WGS-84"
        if layer in _GCJ_LAYERS:
            glon, glat = wgs84_to_gcj02(lon, lat)
            table["lon_gcj02"] = np.round(glon, 7)
            table["lat_gcj02"] = np.round(glat, 7)
    for col in ("centroid_x", "centroid_y"):
        if col in table.columns:
            table[col] = table[col].astype(float).round(2)
    return sheet_frame(_round_columns(table, layer))


def write_csvs(layers: Mapping[str, Any], folder: str | os.PathLike[str]) -> dict[str, Path]:
    r"""Write each layer as ``<name>.csv`` (UTF-8 with BOM, ``\\n`` line ends) into ``folder``."""
    out = Path(folder)
    if out.is_symlink():
        raise CoverageInputError(f"{out} is a symbolic link; write the tables to a plain folder.")
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, frame in layers.items():
        path = out / f"{name}.csv"
        if path.is_symlink():
            path.unlink()
        table_for_people(frame, name).to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\n")
        written[name] = path
    return written


def write_xlsx(
    layers: Mapping[str, Any],
    path: str | os.PathLike[str],
    *,
    lang: str = "zh",
    area_col: str = "area",
    max_rows: int = 50_000,
) -> Path:
    """Write one workbook: a sheet per table and a sheet per reporting area (openpyxl).

    Headers are translated in ``zh``; people show as whole numbers; ids are
    text. A table longer than ``max_rows`` (the per-resident table of a big
    district) is left to its CSV and named on the ``about`` sheet.
    """
    from ._xlsx import write_workbook

    # A table over max_rows is only named on the about sheet: count its rows, do not prepare it.
    tables = {
        name: table_for_people(frame, name) if len(frame) <= max_rows else pd.DataFrame(index=range(len(frame)))
        for name, frame in layers.items()
    }
    return write_workbook(tables, Path(path), lang=lang, area_col=area_col, max_rows=max_rows)


def check_output_dir(out: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Check before any heavy work that a run can write ``out``; return it as an absolute path.

    Raises
    ------
    CoverageInputError
        ``out`` (or a parent) is a symbolic link or a file; it has files and
        ``overwrite`` is False; it has files that no run wrote (it is never
        replaced then, even with ``overwrite``); or its parent folder cannot
        be created or written.
    """
    path = Path(os.path.abspath(out))
    if path.is_symlink():
        raise CoverageInputError(f"output folder {out} is a symbolic link; give the real folder as --out.")
    if path.exists() and not path.is_dir():
        raise CoverageInputError(f"output folder {out} is a file; choose a folder name for --out.")
    if path.exists() and any(path.iterdir()):
        if not overwrite:
            raise CoverageInputError(f"output folder {out} is not empty; pass --overwrite or choose another --out.")
        if not (path / RUN_MARKER).is_file() or (path / RUN_MARKER).is_symlink():
            raise CoverageInputError(
                f"output folder {out} has files that coverage-planner did not write (no {RUN_MARKER}); "
                "it is never replaced: choose an empty or new --out."
            )
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        probe = tempfile.mkdtemp(prefix=f".{path.name}.check-", dir=parent)
        os.rmdir(probe)
    except OSError as exc:
        raise CoverageInputError(
            f"cannot write the output folder {out} ({exc.strerror or exc}); choose a folder you can write to."
        ) from exc
    return path


@contextmanager
def staged_output(out: str | os.PathLike[str], *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a new empty folder beside ``out``; on success it replaces ``out``.

    Everything a run writes goes into the staged folder; when the block ends
    without error the old ``out`` (if a run wrote it) is moved aside, the
    new folder renamed to ``out``, and the old one removed (``shutil.rmtree``
    removes links, never their targets). On error the staged folder is
    removed and ``out`` is left as it was.
    """
    path = check_output_dir(out, overwrite=overwrite)
    stage = Path(tempfile.mkdtemp(prefix=f".{path.name}.new-", dir=path.parent))
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(stage, 0o777 & ~umask)
        (stage / RUN_MARKER).write_text("written by coverage-planner; the next run may replace this folder\n")
        yield stage
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    old = None
    if path.exists():
        check_output_dir(path, overwrite=True)
        old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old-", dir=path.parent))
        os.rmdir(old)
        os.rename(path, old)
    os.rename(stage, path)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
