"""Run the notebooks on the synthetic default and store the output of their check cells.

nbval compares the cells marked ``# NBVAL_CHECK_OUTPUT`` with the output stored in the notebook.
Run this only on purpose (a deliberate change of the generator, of a definition, or of
constraints.txt), then read the diff: each stored line prints the kit's figure next to the
generator's own (truth.json), so a changed number says which side moved.

    python tools/refresh_notebook_checks.py [--tree DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import nbformat
import papermill

REPO = Path(__file__).resolve().parents[1]
GEMEENTE = "1938"  # as conftest.NOTEBOOK_GEMEENTE


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", help="an existing synthetic default (made when absent)")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="jeugdkit-checks-"))
    tree = Path(args.tree) if args.tree else work / "tree"
    if not (tree / "truth.json").is_file():
        import synthetic
        synthetic.generate(tree, persons=100_000)
    os.environ.update({"JEUGDKIT_DATA_ROOT": str(tree / "ra"),
                       "JEUGDKIT_CACHE_DIR": str(work / "cache"),
                       "JEUGDKIT_REPORT_DIR": str(work / "rapporten"),
                       "JEUGDKIT_GEMEENTE": GEMEENTE})
    for name in ("JEUGDKIT_PERIOD", "JEUGDKIT_CATALOG", "JEUGDKIT_SETTINGS"):
        os.environ.pop(name, None)
    for path in sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        ran = papermill.execute_notebook(str(path), str(work / path.name), cwd=str(work),
                                         progress_bar=False)
        stored = nbformat.read(path, as_version=4)
        for cell, done in zip(stored.cells, ran.cells):
            if "NBVAL_CHECK_OUTPUT" in cell.source:
                cell.outputs = [nbformat.from_dict(dict(out)) for out in done.outputs]
                print(f"{path.name}: {''.join(o.get('text', '') for o in done.outputs)}", end="")
        nbformat.write(stored, path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
