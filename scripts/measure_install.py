"""Install time and size of coderm's base install against the former one, side by side, in fresh venvs.

`base` installs this checkout's wheel with its declared dependencies (what `pip install .` gives: numpy,
pyyaml, tqdm, pyflakes); `datasets+ml` installs it with the `datasets` and `ml` extras, which is what
`pip install .` installed before they became extras. In each fresh venv it times the install (pip's
cache off, so both fetch alike), measures what the install added (the venv after, less the empty venv)
and runs the README's first command (`coderm score` on the bundled example, then `coderm eval`) from a
scratch directory, so the installed copy runs. Prints both and the ratios datasets+ml / base.

    python scripts/measure_install.py
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "coderm" / "examples" / "example.problems.jsonl"
EXTRAS = {"base": "", "datasets+ml": "[datasets,ml]"}  # row name -> the extras its install adds


def tree_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def build_wheel(work: Path) -> Path:
    """The checkout's wheel, built from a copy (a build leaves build/ and *.egg-info where it runs)."""
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".git", "build", "*.egg-info", "__pycache__",
                                                                 ".coderm-cache", ".pytest_cache"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(work / "wheel"),
                    str(source)], check=True)
    return next((work / "wheel").glob("coderm-*.whl"))


def measure(name: str, wheel: Path, work: Path) -> dict:
    """One fresh venv: install seconds, bytes added, and whether the README's first command ran."""
    env_dir = work / name
    venv.EnvBuilder(with_pip=True).create(env_dir)
    empty = tree_bytes(env_dir)
    pip = [str(env_dir / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-cache-dir"]
    start = time.perf_counter()
    subprocess.run([*pip, f"coderm{EXTRAS[name]} @ {wheel.as_uri()}"], check=True)
    seconds = time.perf_counter() - start
    scratch = work / f"{name}-run"
    scratch.mkdir()
    coderm = str(env_dir / "bin" / "coderm")
    start = time.perf_counter()
    score = subprocess.run([coderm, "score", "--problems", str(EXAMPLE), "--out", "scores.jsonl", "--quiet"],
                           cwd=scratch, capture_output=True, text=True)
    evaluated = subprocess.run([coderm, "eval", "--problems", str(EXAMPLE), "--scores", "scores.jsonl"],
                               cwd=scratch, capture_output=True, text=True) if score.returncode == 0 else score
    first_command = time.perf_counter() - start
    ok = evaluated.returncode == 0
    why = "" if ok else (evaluated.stderr.strip().splitlines() or ["no output"])[-1]
    return {"name": name, "install_seconds": seconds, "added_mb": (tree_bytes(env_dir) - empty) / 1e6,
            "first_command_ok": ok, "first_command_seconds": first_command, "why": why}


def main() -> int:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        wheel = build_wheel(work)
        rows = [measure(name, wheel, work) for name in EXTRAS]
    for r in rows:
        status = "ok" if r["first_command_ok"] else f"FAILED: {r['why']}"
        print(f"{r['name']:>11}: install {r['install_seconds']:6.1f} s, {r['added_mb']:7.1f} MB added; "
              f"README first command {status} ({r['first_command_seconds']:.1f} s)")
    base, full = rows
    print(f"datasets+ml / base: install time {full['install_seconds'] / base['install_seconds']:.1f}x, "
          f"size {full['added_mb'] / base['added_mb']:.1f}x")
    return 0 if all(r["first_command_ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
