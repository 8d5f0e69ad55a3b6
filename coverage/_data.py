"""Where the real data lives: one lookup for the CLI, scenarios, notebooks, tests and benches."""

from __future__ import annotations

import os
from pathlib import Path

from ._errors import CoverageInputError

DATA_ENV = "COVERAGE_PLANNER_DATA"
"""Environment variable naming the data folder."""

_PACKAGE_DIR = Path(__file__).resolve().parent


def data_candidates(near: str | os.PathLike[str] | None = None) -> list[Path]:
    """Folders tried, in order, when no data folder is named.

    ``../shared/data`` seen from the working directory and from its parent
    (a notebook in ``notebooks/``), from the repository holding this package,
    and from the repository holding ``near`` (a scenario file).
    """
    out = [Path.cwd().parent / "shared" / "data", Path.cwd().parent.parent / "shared" / "data"]
    out.append(_PACKAGE_DIR.parent.parent / "shared" / "data")
    if near is not None:
        for parent in Path(near).resolve().parents:
            if (parent / "pyproject.toml").exists():
                out.append(parent.parent / "shared" / "data")
                break
    return list(dict.fromkeys(out))


def find_data(
    path: str | os.PathLike[str] | None = None,
    *,
    near: str | os.PathLike[str] | None = None,
    required: bool = True,
) -> Path:
    """Return the folder holding the real data (``shenzhen/``, ``porto_alegre/``, ...).

    Parameters
    ----------
    path : path, optional
        A folder the user names; it must exist.
    near : path, optional
        A file (a scenario) whose repository's ``../shared/data`` is also tried.
    required : bool, default True
        Raise if nothing is found; with False, return the first candidate.

    Returns
    -------
    pathlib.Path
        ``path`` if given, else ``$COVERAGE_PLANNER_DATA``, else the first
        existing folder of :func:`data_candidates`.

    Raises
    ------
    CoverageInputError
        If the named folder does not exist, or nothing is found and ``required``.

    Examples
    --------
    >>> from coverage import find_data
    >>> data = find_data()  # doctest: +SKIP
    >>> (data / "shenzhen" / "futian_walk.graphml").exists()  # doctest: +SKIP
    True
    """
    if path is not None:
        folder = Path(path)
        if not folder.is_dir():
            raise CoverageInputError(f"data folder {folder} does not exist or is not a folder; name the folder "
                                     "that holds shenzhen/, porto_alegre/, ...")
        return folder
    env = os.environ.get(DATA_ENV)
    if env:
        folder = Path(env)
        if not folder.is_dir():
            raise CoverageInputError(f"${DATA_ENV}={env!r} is not a folder; point it at the folder that holds "
                                     "shenzhen/, porto_alegre/, ... (or unset it).")
        return folder
    candidates = data_candidates(near)
    for folder in candidates:
        if folder.is_dir():
            return folder
    if required:
        tried = ", ".join(str(c) for c in candidates)
        raise CoverageInputError(
            f"no data folder found (tried {tried}); set ${DATA_ENV} or pass the folder (--data-dir on the "
            "command line)."
        )
    return candidates[0]
