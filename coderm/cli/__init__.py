"""The `coderm` command line. Each subcommand lives in its own module of this package and
defines ``register(subparsers)``; modules are discovered, so adding a command touches one file."""
from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import pkgutil
import signal
import sys
import threading
from pathlib import Path

EPILOG = """examples:
  coderm score --problems problems.jsonl --out scores.jsonl
  coderm eval --problems problems.jsonl --scores scores.jsonl
  coderm execute --problems problems.jsonl --out matrices.jsonl
"""

# Exit codes: 0 ok, 1 runtime failure, 2 bad input or usage (a missing extra included), 130 interrupted.
EXIT_OK, EXIT_FAILURE, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130

# The extra of pyproject.toml that installs each optional module; the base install has none of them.
EXTRA_OF = {"datasets": "datasets", "huggingface_hub": "datasets", "pandas": "datasets", "pyarrow": "datasets",
            "sklearn": "ml", "scipy": "ml", "torch": "hf", "transformers": "hf", "vllm": "vllm", "ray": "ray",
            "starlette": "serve", "uvicorn": "serve", "httpx": "serve", "matplotlib": "plot"}


def add_limit(parser: argparse.ArgumentParser) -> None:
    """``--limit N``: only the first N problems of the input, for a quick try of a big file."""
    parser.add_argument("--limit", type=_positive, metavar="N", help="only the first N problems of the input")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def _version() -> str:
    try:
        return importlib.metadata.version("coderm")
    except importlib.metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "(not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="coderm", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
                                     description="Turn unit tests (given, mined or generated) into reward scores for "
                                                 "code candidates.")
    parser.add_argument("--version", action="version", version=f"coderm {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_BAD_INPUT
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _interrupt) if in_main else None  # what schedulers send
    try:
        return int(args.handler(args) or EXIT_OK)
    except KeyboardInterrupt:
        partial = Path(f"{args.out}.partial") if isinstance(getattr(args, "out", None), str) else None
        kept = (f": finished lines are kept in {partial}; run the same command again to continue"
                if partial is not None and partial.exists() else "")
        print(f"interrupted{kept}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except ModuleNotFoundError as e:
        extra = EXTRA_OF.get((e.name or "").split(".")[0])
        if extra is None:
            raise
        print(f"error: coderm {args.command} needs {e.name}, from the '{extra}' extra: pip install 'coderm[{extra}]'",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM stops a command the way Ctrl-C does: finished work kept, exit 130."""
    raise KeyboardInterrupt
