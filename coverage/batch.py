"""Many scenarios at once: ``coverage-planner batch`` and :func:`run_batch`.

Each scenario file runs as one task through the same code path as
``coverage-planner run`` (:func:`coverage.pipeline.run_scenario`, then
:func:`coverage.report.write_outputs`) and writes its own folder
``OUT/<scenario file name>/``. The batch writes ``OUT/batch_summary.csv`` (one
row per scenario, in the order given) and ``OUT/index.html`` linking every
map and summary. OUT is written as a new folder and swapped in at the end
(:func:`coverage.io.staged_output`), so ``--overwrite`` never leaves a file
of an earlier batch; user text reaches the CSV and the page only through
:mod:`coverage._text`.

Tasks run on :mod:`dask.distributed`: a local cluster of worker processes
listening on 127.0.0.1 by default (closed at the end, even on errors), or an
existing cluster (``scheduler="tcp://host:8786"``). Without Dask installed the
scenarios run one by one in this process, with a warning saying so. Each
network file is prepared once before the scenarios start (one task per file),
so that the scenarios load the prepared arrays from the on-disk network cache
(:mod:`coverage._netcache`) instead of parsing the file again; on a cluster of
several machines, point ``$COVERAGE_PLANNER_CACHE`` at a shared folder.

With ``partition_by`` (a polygon file), each scenario's coverage is assessed
district by district instead (:func:`coverage.partition.assess_coverage_by_district`),
the districts spread over the workers, with the same result as one run; the
network, halls and residents are read once here, and service areas and the
site plan are not run.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
import traceback
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from . import io
from ._batch_exec import Executor, executor
from ._batch_outputs import SUMMARY_COLUMNS, write_index, write_summary
from ._errors import CoverageError, CoverageInputError, CoverageWarning
from ._text import sheet_frame

__all__ = ["SUMMARY_COLUMNS", "BatchResult", "run_batch"]

logger = logging.getLogger(__name__)

@dataclass(frozen=True, eq=False)
class BatchResult:
    """What a batch did.

    Attributes
    ----------
    summary : pandas.DataFrame
        One row per scenario, in the order given (see :data:`SUMMARY_COLUMNS`).
    out : pathlib.Path
        The output folder (``batch_summary.csv``, ``index.html``, one folder per scenario).
    mode : str
        Where the scenarios ran (local cluster, scheduler address, or one by one).
    networks : pandas.DataFrame
        Each network file prepared before the scenarios: ``source``,
        ``status`` (``cache`` if it was already prepared, ``prepared``, or
        ``error: ...``), ``nodes``, ``edges``, ``seconds``.
    """

    summary: pd.DataFrame
    out: Path
    mode: str
    networks: pd.DataFrame

    @property
    def failed(self) -> int:
        """Number of scenarios that ended in an error."""
        return int((self.summary["status"] != "ok").sum())

    def headline(self) -> str:
        """Return one line per scenario and the totals."""
        lines = [f"{len(self.summary)} scenario(s), {self.failed} failed; ran {self.mode}."]
        for row in self.summary.itertuples():
            if row.status == "ok":
                lines.append(f"  ok     {row.scenario}: {row.covered_share:.1%} of {row.residents:,.0f} covered")
            else:
                lines.append(f"  error  {row.scenario}: {row.error}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"BatchResult({self.out})\n{self.headline()}"


def run_batch(
    scenarios: Sequence[str | os.PathLike[str]],
    *,
    out: str | os.PathLike[str],
    scheduler: str | None = None,
    workers: int | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
    lang: str | None = None,
    partition_by: str | os.PathLike[str] | None = None,
    partition_name_col: str | None = None,
) -> BatchResult:
    """Run many scenario files, each into its own output folder, and summarise them.

    Parameters
    ----------
    scenarios : sequence of paths
        Scenario files (TOML); their file names (without ``.toml``) must differ.
    out : path
        Output folder: ``batch_summary.csv``, ``index.html`` and one folder per
        scenario. It is written as a new folder beside ``out`` and swapped in at
        the end, so nothing of an earlier batch survives; an existing folder is
        replaced only with ``overwrite`` and only if a run wrote it.
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``); its workers
        must see the scenario and data files at the same paths. By default a
        local cluster is started on 127.0.0.1 and closed at the end.
    workers : int, optional
        Worker processes of the local cluster (one thread each); default: the
        number of scenarios, at most the number of cores.
    data_dir : path, optional
        What ``{data}`` in the scenarios' paths stands for.
    overwrite : bool, default False
        Replace an output folder that an earlier run or batch wrote.
    lang : {"zh", "en"}, optional
        Map labels (default: each scenario's).
    partition_by : path, optional
        Polygons (e.g. districts) to split each scenario's coverage by; see
        :mod:`coverage.partition`.
    partition_name_col : str, optional
        Column naming each polygon of ``partition_by``.

    Returns
    -------
    BatchResult

    Raises
    ------
    CoverageInputError
        Before any work, if no scenario is given, two share a file name, the
        output folder is not empty (without ``overwrite``) or has files no run
        wrote, the scheduler
        cannot be reached, or ``scheduler`` is given without Dask installed.
        A scenario that fails later gets ``status = "error"`` in its row and
        the others go on.

    Examples
    --------
    >>> result = run_batch(["a.toml", "b.toml"], out="out/batch")  # doctest: +SKIP
    >>> result.summary[["scenario", "status", "covered_share"]]  # doctest: +SKIP
    """
    paths = [Path(p) for p in scenarios]
    _check_batch(paths, workers=workers)
    out_dir = io.check_output_dir(out, overwrite=overwrite)
    districts = _read_districts(partition_by) if partition_by is not None else None
    data = Path(data_dir) if data_dir is not None else None
    n_workers = workers or max(1, min(len(paths), os.cpu_count() or 1))
    # Everything is written into a new folder beside OUT that replaces it at the end, so that
    # no folder or file of an earlier batch survives --overwrite (see coverage.io.staged_output).
    with io.staged_output(out_dir, overwrite=overwrite) as stage:
        summary, networks, mode = _run_all(paths, stage, data, lang, districts, partition_name_col, scheduler,
                                           n_workers)
    return BatchResult(summary=summary, out=out_dir, mode=mode, networks=networks)


def _run_all(
    paths: list[Path], stage: Path, data: Path | None, lang: str | None, districts: Any,
    partition_name_col: str | None, scheduler: str | None, n_workers: int,
) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """Run every scenario into ``stage``; write the summary and the index there."""
    with executor(scheduler, n_workers) as ex:
        sources = _network_sources(paths, data)
        networks = _prepare_networks(ex, sources)
        failed_sources = {src: status for src, status in zip(sources, networks["status"], strict=True)
                          if status.startswith("error")}
        rows: list[dict[str, Any] | None] = [None] * len(paths)
        handles: list[tuple[int, Any]] = []
        for i, path in enumerate(paths):
            source = _source_of(path, data)
            if source in failed_sources:
                rows[i] = _error_row(path, failed_sources[source].removeprefix("error: "))
            elif districts is not None:
                rows[i] = _run_partitioned(path, stage / path.stem, data, lang, districts, partition_name_col, ex)
            else:
                handles.append((i, ex.submit(run_one, path, stage / path.stem, data, lang)))
        for i, handle in handles:
            try:
                rows[i] = ex.result(handle)
            except Exception as exc:  # a worker died or the task could not run: the row says why
                rows[i] = _error_row(paths[i], f"the task failed: {type(exc).__name__}: {exc}")
        mode = ex.mode
    summary = pd.DataFrame([r for r in rows if r is not None], columns=SUMMARY_COLUMNS)
    write_summary(summary, stage / "batch_summary.csv")
    write_index(summary, networks, stage / "index.html", mode=mode)
    return summary, networks, mode


def _check_batch(paths: list[Path], *, workers: int | None) -> None:
    if not paths:
        raise CoverageInputError("give at least one scenario file.")
    stems: dict[str, list[str]] = {}
    for p in paths:
        stems.setdefault(p.stem, []).append(str(p))
    dup = {stem: files for stem, files in stems.items() if len(files) > 1}
    if dup:
        listed = "; ".join(f"{stem}: {', '.join(files)}" for stem, files in dup.items())
        raise CoverageInputError(
            f"scenario file names must differ, since each writes the folder OUT/<file name>/ ({listed}); "
            "rename or copy the files."
        )
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise CoverageInputError(f"workers={workers!r}: give a whole number >= 1.")


def _read_districts(path: str | os.PathLike[str]) -> Any:
    import geopandas as gpd

    p = Path(path)
    if not p.is_file():
        raise CoverageInputError(f"partition polygons {p}: not found (give a GeoJSON, GeoPackage or shapefile).")
    try:
        frame = gpd.read_file(p)
    except Exception as exc:  # GDAL's errors vary by driver
        raise CoverageInputError(f"partition polygons {p}: cannot be read ({exc}).") from exc
    if frame.crs is None:
        raise CoverageInputError(f"partition polygons {p}: no CRS; save the file with one (EPSG:4326 for lon/lat).")
    return frame


# ---------------------------------------------------------------------------
# networks, prepared once


def _source_of(path: Path, data: Path | None) -> tuple[tuple[str, ...], bool] | None:
    """Return the scenario's network files and ``largest_only``, or None (online, or unreadable scenario)."""
    from .scenario import load_scenario

    try:
        sc = load_scenario(path, data_dir=data)
    except CoverageError:
        return None
    src = sc["network"]["source"]
    if src is None:
        return None
    files = tuple(str(s) for s in (src if isinstance(src, list) else [src]))
    return files, bool(sc["network"]["largest_only"])


def _network_sources(paths: list[Path], data: Path | None) -> list[tuple[tuple[str, ...], bool]]:
    seen: dict[tuple[tuple[str, ...], bool], None] = {}
    for p in paths:
        src = _source_of(p, data)
        if src is not None:
            seen.setdefault(src)
    return list(seen)


def _prepare_networks(ex: Executor, sources: list[tuple[tuple[str, ...], bool]]) -> pd.DataFrame:
    handles = [ex.submit(prepare_network, files, largest_only) for files, largest_only in sources]
    rows = []
    for (files, _), handle in zip(sources, handles, strict=True):
        try:
            rows.append(ex.result(handle))
        except Exception as exc:
            rows.append({"source": ", ".join(files), "status": f"error: {_message(exc)}", "nodes": 0, "edges": 0,
                         "seconds": float("nan")})
    return pd.DataFrame(rows, columns=["source", "status", "nodes", "edges", "seconds"])


def network_cached(files: Sequence[str], *, largest_only: bool) -> bool:
    """Say whether the network of these files is in this process's network cache already."""
    from . import osm
    from ._netcache import default_cache_dir, network_key

    source: str | list[str] = files[0] if len(files) == 1 else list(files)
    key = network_key(osm.file_digest(source), largest_only=largest_only, crs=None, engine="networkx")
    return (default_cache_dir() / f"network-{key}.npz").is_file()


def prepare_network(files: Sequence[str], largest_only: bool) -> dict[str, Any]:
    """Prepare one network into the cache (a task); return what it did."""
    from .network import load_network

    t = time.perf_counter()
    source: str | list[str] = files[0] if len(files) == 1 else list(files)
    cached = network_cached(files, largest_only=largest_only)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CoverageWarning)
        net = load_network(source, largest_only=largest_only)
    status = "cache" if cached else "prepared"
    if caught:
        status += f" ({'; '.join(str(w.message) for w in caught)})"
    return {"source": ", ".join(files), "status": status, "nodes": net.n_nodes, "edges": net.n_edges,
            "seconds": time.perf_counter() - t}


# ---------------------------------------------------------------------------
# one scenario


def run_one(path: Path, out_dir: Path, data_dir: Path | None, lang: str | None) -> dict[str, Any]:
    """Run one scenario like ``coverage-planner run`` and write its folder (a task); return its summary row.

    Errors become the row's ``error``; an unexpected one also leaves its
    traceback in ``<out_dir>/error.txt``.
    """
    from .cli import STEPS  # the steps of ``coverage-planner run``, whatever they become
    from .pipeline import run_scenario
    from .scenario import load_scenario

    start = time.perf_counter()
    try:
        sc = load_scenario(path, data_dir=data_dir)
        network_from = _network_from(sc)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CoverageWarning)  # kept in the run's summary.md
            result = run_scenario(sc, steps=STEPS["run"])
            _write(result, out_dir, lang)
        return _ok_row(path, result, network_from, start)
    except CoverageError as exc:
        return _error_row(path, _message(exc))
    except Exception as exc:  # a bug: keep the traceback next to the outputs
        _save_traceback(out_dir)
        return _error_row(path, f"{type(exc).__name__}: {exc} (traceback in {out_dir.name}/error.txt)")


def _network_from(sc: Any) -> str:
    src = sc["network"]["source"]
    if src is None:
        return "download"
    files = [str(s) for s in (src if isinstance(src, list) else [src])]
    return "cache" if network_cached(files, largest_only=bool(sc["network"]["largest_only"])) else "prepared"


def _write(result: Any, out_dir: Path, lang: str | None) -> dict[str, Path]:
    """Write the outputs as the command line does, the summary rewritten with the output step's time."""
    from .report import summary_markdown, write_outputs

    t = time.perf_counter()
    written = write_outputs(result, out_dir, lang=lang)
    result.timings["outputs"] = time.perf_counter() - t
    written["summary"].write_text(summary_markdown(result), encoding="utf-8")
    return written


def _run_partitioned(
    path: Path, out_dir: Path, data: Path | None, lang: str | None, districts: Any, name_col: str | None,
    ex: Executor,
) -> dict[str, Any]:
    """Read a scenario here, spread its coverage over the workers by district, write its folder."""
    from .loaders import load_scenario_polygons
    from .partition import assess_coverage_by_district
    from .pipeline import group_speeds, run_scenario
    from .scenario import load_scenario

    start = time.perf_counter()
    try:
        sc = load_scenario(path, data_dir=data)
        network_from = _network_from(sc)
        top = sc[""]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CoverageWarning)
            result = run_scenario(sc, steps=("network", "halls", "demand"))
            t = time.perf_counter()
            areas, area_col = load_scenario_polygons(sc, "areas")
            communities, community_col = load_scenario_polygons(sc, "communities")
            if result.network is None or result.halls is None or result.demand is None:  # pragma: no cover
                raise CoverageInputError(f"{path}: the scenario gave no network, halls or residents.")
            parted = assess_coverage_by_district(
                result.network, result.halls, result.demand, districts,
                radius_m=top["radius_m"], minutes=top["minutes"], walk_speed_kmh=top["walk_speed_kmh"],
                group_walk_speed_kmh=group_speeds(sc), max_snap_m=float(top["max_snap_m"]),
                areas=areas, area_name_col=area_col, communities=communities, community_name_col=community_col,
                district_name_col=name_col, map_fn=ex.map_fn(),
            )
            result.coverage = parted.coverage
            result.timings["coverage"] = time.perf_counter() - t
            _write(result, out_dir, lang)
        sheet_frame(parted.parts).to_csv(out_dir / "partition.csv", index=False, float_format="%.6g",
                                         lineterminator="\n", encoding="utf-8-sig")
        row = _ok_row(path, result, network_from, start)
        row["note"] = (
            f"coverage by district: {len(parted.parts)} districts, {int(parted.parts['runs'].sum())} runs, "
            f"border margin {parted.margin_m:,.0f} m (partition.csv); service areas and plan not run"
        )
        return row
    except CoverageError as exc:
        return _error_row(path, _message(exc))
    except Exception as exc:
        _save_traceback(out_dir)
        return _error_row(path, f"{type(exc).__name__}: {exc} (traceback in {out_dir.name}/error.txt)")


def _save_traceback(out_dir: Path) -> None:
    with contextlib.suppress(OSError):
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "error.txt").write_text(traceback.format_exc(), encoding="utf-8")


def _message(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _error_row(path: Path, message: str) -> dict[str, Any]:
    return {"scenario": path.stem, "file": str(path), "status": "error", "error": message}


def _ok_row(path: Path, result: Any, network_from: str, start: float) -> dict[str, Any]:
    row: dict[str, Any] = {
        "scenario": path.stem, "file": str(path), "status": "ok", "error": "", "name": result.scenario.name,
        "network": network_from,
    }
    cov = result.coverage
    if cov is not None:
        main = cov.summary.set_index("group")
        g = "residents" if "residents" in main.index else main.index[0]
        row.update(residents=float(main.loc[g, "total"]), covered=float(main.loc[g, "covered"]),
                   covered_share=float(main.loc[g, "covered_share"]), circle_share=float(main.loc[g, "circle_share"]))
    plan = result.plan
    if plan is not None:
        after = plan.after.summary.set_index("group").loc[plan.group]
        sel = plan.selection
        row.update(new_sites=len(plan.sites), covered_after=float(after["covered"]),
                   covered_share_after=float(after["covered_share"]),
                   certificate="proven optimal" if sel.optimal else f"within {sel.gap:.2%}", gap=float(sel.gap))
    for step, secs in result.timings.items():
        row[f"time_{step}_s"] = float(secs)
    row["time_total_s"] = time.perf_counter() - start
    row["map"] = "map.html" if result.network is not None else ""
    return row
