"""Command line: ``coverage-planner run SCENARIO.toml --out DIR`` and single steps."""

from __future__ import annotations

import argparse
import logging
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

from ._errors import CoverageInputError, CoverageWarning

STEPS = {
    "run": ("network", "halls", "service_areas", "demand", "coverage", "services", "life_circle", "plan"),
    "areas": ("network", "halls", "service_areas"),
    "coverage": ("network", "halls", "service_areas", "demand", "coverage", "services", "life_circle"),
    "plan": ("network", "halls", "service_areas", "demand", "coverage", "services", "life_circle", "plan"),
}

HELP = {
    "run": "the whole pipeline: network, halls, service areas, residents, coverage, new sites, map, report",
    "areas": "network service areas of the halls only (GeoPackage, CSV and map)",
    "coverage": "service areas and resident coverage, with gaps (no optimizer)",
    "plan": "coverage and the site optimizer (same outputs as run)",
}


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser (also used to render --help)."""
    parser = argparse.ArgumentParser(
        prog="coverage-planner",
        description=(
            "Who lives within a walk of a public service hall, on the real street network, and where "
            "new sites would close the gaps. Each command reads a scenario file (TOML; examples in "
            "data/scenarios/) and writes map.html, map.png/.pdf, report.html/.docx, tables.xlsx, "
            "results.gpkg, tables/*.csv and summary.md."
        ),
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, text in HELP.items():
        p = sub.add_parser(name, help=text, description=text)
        p.add_argument("scenario", type=Path, help="scenario file, e.g. data/scenarios/futian.toml")
        p.add_argument("--out", type=Path, default=None, help="output folder (default: out/<scenario file name>)")
        p.add_argument("--overwrite", action="store_true", help="replace an output folder that an earlier run wrote")
        p.add_argument(
            "--data-dir",
            type=Path,
            default=None,
            help="folder that {data} in the scenario's paths stands for "
            "(default: $COVERAGE_PLANNER_DATA, else ../shared/data)",
        )
        p.add_argument("--lang", choices=("zh", "en"), default=None, help="map labels (default: the scenario's)")
        p.add_argument("--quiet", action="store_true", help="no progress bar or summary on the terminal")
        p.add_argument("--verbose", action="store_true", help="log what each step does")
    from ._batch_cli import add_batch_parser

    add_batch_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``coverage-planner`` command."""
    args = build_parser().parse_args(argv)
    warnings.showwarning = _one_line_warning
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    try:
        if args.command == "batch":
            from ._batch_cli import run_batch_command

            return run_batch_command(args)
        return _run(args)
    except CoverageInputError as exc:
        from ._text import display

        print(f"coverage-planner: error: {display(exc, 2000)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # pragma: no cover
        print("coverage-planner: interrupted", file=sys.stderr)
        return 130


def _one_line_warning(message: Warning | str, category: type[Warning], *_args: object, **_kw: object) -> None:
    from ._text import display

    print(f"coverage-planner: {category.__name__}: {display(message, 2000)}", file=sys.stderr)


def _run(args: argparse.Namespace) -> int:
    from .scenario import load_scenario

    start = time.perf_counter()
    sc = load_scenario(args.scenario, data_dir=args.data_dir)  # validated before any heavy work
    out = args.out if args.out is not None else Path("out") / args.scenario.stem
    from .io import check_output_dir, staged_output

    check_output_dir(out, overwrite=args.overwrite)  # writable, not a symlink, ours to replace

    from tqdm.auto import tqdm

    from .pipeline import run_scenario
    from .report import write_outputs

    steps = STEPS[args.command]
    bar = tqdm(total=len(steps) + 1, disable=args.quiet, unit="step", leave=False)

    def progress(name: str) -> None:
        bar.set_description(name)
        if name != steps[0]:
            bar.update(1)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore" if args.quiet else "default", CoverageWarning)
        result = run_scenario(sc, steps=steps, progress=progress)
        progress("outputs")
        t = time.perf_counter()
        with staged_output(out, overwrite=args.overwrite) as stage:
            written = write_outputs(result, stage, lang=args.lang)
        written = {key: out / path.relative_to(stage) for key, path in written.items()}
        result.timings["outputs"] = time.perf_counter() - t
    bar.update(1)
    bar.close()
    if not args.quiet:
        from ._text import display

        print(f"\n{display(sc.name, 300)}")
        if result.coverage is not None:
            print(result.coverage.headline())
        if result.plan is not None:
            print(result.plan.headline())
        print("\nFiles:")
        for key in ("map", "report", "docx", "map_pdf", "map_png", "xlsx", "gpkg", "summary"):
            if key in written:
                path = written[key]
                print(f"  {path}  ({path.stat().st_size / 1e6:,.2f} MB)")
        print(f"  {out / 'tables'}/*.csv")
        print("\nStep times (s):")
        for name, secs in result.timings.items():
            print(f"  {name:<14} {secs:7.2f}")
        print(f"  {'total':<14} {time.perf_counter() - start:7.2f}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
