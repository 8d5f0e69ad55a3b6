"""The ``coverage-planner batch`` command (see :func:`coverage.batch.run_batch`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

HELP = "many scenario files at once, on a local Dask cluster or --scheduler; one summary table and index page"


def add_batch_parser(sub: Any) -> None:
    """Add the ``batch`` subcommand to the command line's subparsers."""
    p = sub.add_parser("batch", help=HELP, description=HELP)
    p.add_argument("scenarios", type=Path, nargs="+", metavar="SCENARIO", help="scenario files (distinct file names)")
    p.add_argument("--out", type=Path, required=True, help="output folder: batch_summary.csv, index.html, one folder "
                   "per scenario")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="a running Dask scheduler, e.g. tcp://10.0.0.5:8786 (default: a local cluster on 127.0.0.1)")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="worker processes of the local cluster (default: one per scenario, at most one per core)")
    p.add_argument("--overwrite", action="store_true", help="write into an output folder that already has files")
    p.add_argument("--data-dir", type=Path, default=None,
                   help="folder that {data} in the scenarios' paths stands for (default: $COVERAGE_PLANNER_DATA, "
                   "else ../shared/data)")
    p.add_argument("--lang", choices=("zh", "en"), default=None, help="map labels (default: each scenario's)")
    p.add_argument("--partition-by", type=Path, default=None, metavar="POLYGONS",
                   help="assess each scenario's coverage district by district over these polygons (GeoJSON, "
                   "GeoPackage), spread over the workers; same result, no service areas or plan")
    p.add_argument("--partition-name-col", default=None, metavar="COLUMN", help="column naming each polygon")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    p.add_argument("--verbose", action="store_true", help="log what each step does")


def run_batch_command(args: argparse.Namespace) -> int:
    """Run ``coverage-planner batch``; 0 if every scenario ran, 1 if any failed (its row says why)."""
    from .batch import run_batch

    result = run_batch(
        args.scenarios,
        out=args.out,
        scheduler=args.scheduler,
        workers=args.workers,
        data_dir=args.data_dir,
        overwrite=args.overwrite,
        lang=args.lang,
        partition_by=args.partition_by,
        partition_name_col=args.partition_name_col,
    )
    if not args.quiet:
        print(result.headline())
        print(f"\nFiles:\n  {result.out / 'batch_summary.csv'}\n  {result.out / 'index.html'}")
    return 1 if result.failed else 0
