"""Execute the notebooks top to bottom, as a reader would, and fail on any error.

Each notebook runs in a fresh kernel started with this interpreter (a temporary
kernelspec pointing at ``sys.executable``, so the venv's packages are used
whatever kernels are installed elsewhere), with ``notebooks/`` as working
directory and the shared data passed in ``COVERAGE_PLANNER_DATA``. The executed
copies are written to ``tests/output/notebooks/`` (ignored by git) for
inspection; the committed notebooks stay without outputs.
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

from jupyter_client.kernelspec import KernelSpecManager  # noqa: E402
from jupyter_client.manager import AsyncKernelManager  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
NAMES = [
    "01_quickstart_futian.ipynb",
    "02_porto_alegre_case.ipynb",
    "03_your_own_district_guangming.ipynb",
    "04_life_circle_check.ipynb",
]
CELL_TIMEOUT_S = 600

# Kernel plumbing (zmq sockets, asyncio loops, jupyter's path migration) can warn
# inside this test process; those warnings say nothing about the notebooks.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
    pytest.mark.filterwarnings("ignore::RuntimeWarning"),
    pytest.mark.filterwarnings("ignore::UserWarning"),
]


@pytest.fixture(scope="module")
def kernel_spec_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A kernelspec folder whose ``python3`` kernel is this interpreter."""
    root = tmp_path_factory.mktemp("kernels")
    spec = root / "python3"
    spec.mkdir()
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Python 3 (coverage-planner test)",
                "language": "python",
            }
        ),
        encoding="utf-8",
    )
    return root


def _kernel_manager_class(spec_dir: Path) -> type[AsyncKernelManager]:
    """A kernel manager that finds kernels only in ``spec_dir``.

    NotebookClient creates (and afterwards shuts down and closes) its own
    kernel manager from this class, so no kernel or socket outlives a test.
    """

    class VenvKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs: object) -> None:
            kwargs.setdefault(
                "kernel_spec_manager",
                KernelSpecManager(kernel_dirs=[str(spec_dir)], ensure_native_kernel=False),
            )
            super().__init__(**kwargs)

    return VenvKernelManager


def _repo_files() -> set[Path]:
    """Files under notebooks/ and data/ (a notebook must not write into the repository)."""
    found: set[Path] = set()
    for folder in ("notebooks", "data"):
        found |= {p for p in (REPO / folder).rglob("*") if "__pycache__" not in p.parts}
    return found


def test_notebooks_are_clean() -> None:
    """Committed notebooks carry no outputs and use the python3 kernel."""
    for name in NAMES:
        nb = nbformat.read(NOTEBOOKS / name, as_version=4)
        nbformat.validate(nb)
        assert nb.metadata["kernelspec"]["name"] == "python3", name
        assert nb.cells and nb.cells[0].cell_type == "markdown", name
        assert nb.cells[0].source.startswith("# "), f"{name}: no title"
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert not cell.outputs, f"{name}: cell {cell.get('id')} has outputs; clear them"
                assert cell.execution_count is None, f"{name}: cell {cell.get('id')} has an execution count"


@pytest.mark.notebook
@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs(
    name: str,
    shared_data: Path,
    kernel_spec_dir: Path,
    output_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COVERAGE_PLANNER_DATA", str(shared_data))
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    before = _repo_files()
    client = nbclient.NotebookClient(
        nb,
        kernel_name="python3",
        kernel_manager_class=_kernel_manager_class(kernel_spec_dir),
        timeout=CELL_TIMEOUT_S,
        startup_timeout=120,
        allow_errors=False,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    t = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # kernel-client chatter in this process, not the notebook's
            client.execute()
    finally:
        executed = output_dir / "notebooks" / name
        executed.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, executed)
    elapsed = time.perf_counter() - t

    errors = [
        f"cell {cell.get('id')}: {out.get('ename')}: {out.get('evalue')}"
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.output_type == "error"
    ]
    assert not errors, errors
    assert all(cell.execution_count is not None for cell in nb.cells if cell.cell_type == "code"), (
        "some cells did not run"
    )
    new_files = sorted(str(p.relative_to(REPO)) for p in _repo_files() - before)
    assert not new_files, f"{name} wrote into the repository: {new_files}"
    print(f"{name}: {elapsed:.0f} s")
