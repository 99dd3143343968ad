"""Reproduce the staged-verification frontier on the CodeT CodeGen-16B HumanEval file.

Trains the cross-validated scikit-learn ORM (each problem is later scored by the fold model that never
saw it), then runs `coderm pareto` with the pareto preset: full verification and the staged pipelines
run side by side on one executor, and the report prints each pipeline's speed-up over full verification.

    python scripts/pareto.py --limit 40 --out-dir /tmp/pareto
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from coderm.cli import main  # noqa: E402
from scripts.shared_data import DATA, require  # noqa: E402

DEFAULT_PROBLEMS = DATA / "codet" / "humaneval_codegen16b.problems.jsonl.gz"


def run() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--problems", default=str(DEFAULT_PROBLEMS))
    parser.add_argument("--out-dir", default="pareto-report")
    parser.add_argument("--limit", type=int, help="evaluate the first N problems (the ORM trains on all)")
    parser.add_argument("--workers", type=int)
    args = parser.parse_args()
    require(Path(args.problems))
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    orm = out / "orm.pkl"
    code = main(["orm", "train", "--problems", args.problems, "--out", str(orm)])
    if code:
        return code
    cmd = ["pareto", "--problems", args.problems, "--orm", str(orm), "--out-dir", str(out)]
    cmd += ["--limit", str(args.limit)] if args.limit else []
    cmd += ["--workers", str(args.workers)] if args.workers else []
    return main(cmd)


if __name__ == "__main__":
    sys.exit(run())
