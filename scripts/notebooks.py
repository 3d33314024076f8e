"""Run the notebooks headless, and keep them clean in git.

    python -m scripts.notebooks run notebooks/retrain_sentiment.ipynb -p SAMPLE 200 --out DIR
    python -m scripts.notebooks check        # fails when a notebook in notebooks/ has outputs
    python -m scripts.notebooks strip        # removes outputs and execution counts in place

`run` works as papermill does, with nbclient alone: the cell tagged `parameters` keeps its
defaults, a cell tagged `injected-parameters` after it sets the values given with `-p NAME
VALUE` (VALUE read as JSON where it parses, else as a string), and the executed notebook is
written to `--out`. The kernel runs in the repository root (so `../shared/data` is the shared
data) with the repository on its import path.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
PARAMETERS_TAG = "parameters"
INJECTED_TAG = "injected-parameters"


def parameter_value(text: str) -> Any:
    """`-p` values: JSON where they parse (200, null, true, "x"), else the plain string."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def inject(notebook: nbformat.NotebookNode, parameters: Mapping[str, Any]) -> None:
    """Put a cell setting `parameters` right after the `parameters` cell (replacing an earlier
    injected one). A notebook without a `parameters` cell is refused: its values would be
    silently ignored."""
    cells = [c for c in notebook.cells if INJECTED_TAG not in c.get("metadata", {}).get("tags", [])]
    tagged = [
        i for i, c in enumerate(cells) if PARAMETERS_TAG in c.get("metadata", {}).get("tags", [])
    ]
    if not tagged:
        raise SystemExit("the notebook has no cell tagged 'parameters'")
    source = "# Parameters\n" + "".join(f"{k} = {v!r}\n" for k, v in parameters.items())
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": [INJECTED_TAG]})
    cells.insert(tagged[0] + 1, cell)
    notebook.cells = cells


def execute(
    path: Path, out: Path, parameters: Mapping[str, Any], timeout: int | None = None
) -> nbformat.NotebookNode:
    """Run the notebook with `parameters`, write the executed copy to `out` (also when a cell
    fails, so the error can be read there); raises the cell's error."""
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    inject(notebook, parameters)
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p
    )
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(ROOT)}},
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        client.execute()
    finally:
        nbformat.write(notebook, out)
    return notebook


def dirty(notebook: nbformat.NotebookNode) -> list[str]:
    """What a committed notebook must not hold: outputs and execution counts, by cell."""
    problems = []
    for number, cell in enumerate(notebook.cells, start=1):
        if cell.cell_type != "code":
            continue
        if cell.get("outputs"):
            problems.append(f"cell {number} has outputs")
        if cell.get("execution_count") is not None:
            problems.append(f"cell {number} has an execution count")
    return problems


def clean(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            cell.metadata.pop("execution", None)
    return notebook


def notebooks(paths: Sequence[Path]) -> list[Path]:
    return list(paths) or sorted(NOTEBOOKS.glob("*.ipynb"))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="execute a notebook with parameters")
    run.add_argument("notebook", type=Path)
    run.add_argument("-p", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"))
    run.add_argument("--out", type=Path, help="executed copy (default: scratch/NAME)")
    run.add_argument("--timeout", type=int, default=None, help="seconds per cell")
    for name in ("check", "strip"):
        sub = commands.add_parser(name)
        sub.add_argument("paths", type=Path, nargs="*", help="default: notebooks/*.ipynb")
    args = parser.parse_args(argv)
    if args.command == "run":
        parameters = {name: parameter_value(value) for name, value in args.p}
        out = args.out or ROOT / "scratch" / args.notebook.name
        execute(args.notebook.resolve(), out, parameters, args.timeout)
        print(f"{args.notebook}: ran, executed copy in {out}")
        return 0
    failed = False
    for path in notebooks(args.paths):
        notebook = nbformat.read(path, as_version=4)
        if args.command == "strip":
            nbformat.write(clean(notebook), path)
        elif problems := dirty(notebook):
            failed = True
            print(f"{path}: {'; '.join(problems)} (python -m scripts.notebooks strip)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
