"""`coderm serve`: the reward server for RL trainers (OpenRLHF --remote_rm_url, or any HTTP client)."""
from __future__ import annotations

import argparse
import dataclasses
import sys

from coderm.cli import EXIT_BAD_INPUT, EXIT_OK

EXAMPLES = """examples:
  coderm serve --port 5000 --workers 8 --timeout 1
  # OpenRLHF: --remote_rm_url http://HOST:5000/get_reward --label_key tests
  curl -s localhost:5000/reward -d '{"completions": ["def f(x):\\n    return x"], "tests": [["assert f(1) == 1"]]}'
  curl -s localhost:5000/health ; curl -s localhost:5000/metrics
"""


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "serve",
        help="serve rewards over HTTP (POST /reward, /get_reward; GET /health, /metrics)",
        description="Run the coderm reward server: completions + tests in, one reward per completion out.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1; 0.0.0.0 for a cluster)")
    p.add_argument("--port", type=int, default=5000)
    p.add_argument("--workers", type=int, default=None, help="sandbox worker processes (default: CPU count)")
    p.add_argument("--timeout", type=float, default=1.0, help="seconds per test")
    p.add_argument("--memory-mb", type=int, default=None, help="memory limit per sandboxed program")
    p.add_argument("--aggregator", default="passrate",
                   help="coderm.aggregate name: passrate (default, fraction of tests passed) or a vote across "
                        "the completions of one problem in a request (codet, coderm, ...)")
    p.add_argument("--block", default="last", choices=("last", "first", "longest", "all"),
                   help="which fenced code block of a completion to run")
    p.add_argument("--join-prompt", default="auto", choices=("auto", "always", "never"),
                   help="prepend the prompt to the extracted code (completion-style models)")
    p.add_argument("--max-body-mb", type=float, default=32.0, help="largest accepted request body")
    p.add_argument("--max-concurrency", type=int, default=8, help="requests admitted at once; more get 503")
    p.add_argument("--graceful-seconds", type=float, default=60.0,
                   help="on SIGTERM/SIGINT, how long in-flight batches may take to finish")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from coderm.rl import ExtractConfig, RewardConfig, RewardFunction
        from coderm.rl.reward import DEFAULT_EXECUTOR
        from coderm.rl.server import create_app
    except ImportError as e:
        print(f"coderm serve needs the 'serve' extra (pip install 'coderm[serve]'): {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    overrides = {"timeout": args.timeout}
    if args.workers is not None:
        overrides["workers"] = args.workers
    if args.memory_mb is not None:
        overrides["memory_mb"] = args.memory_mb
    try:
        config = RewardConfig(aggregator=args.aggregator, executor=dataclasses.replace(DEFAULT_EXECUTOR, **overrides),
                              extract=ExtractConfig(block=args.block, join_prompt=args.join_prompt))
    except ValueError as e:
        print(f"coderm serve: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.max_concurrency < 1 or args.max_body_mb <= 0:
        print("coderm serve: --max-concurrency must be >= 1 and --max-body-mb > 0", file=sys.stderr)
        return EXIT_BAD_INPUT
    app = create_app(RewardFunction(config), max_body_bytes=int(args.max_body_mb * (1 << 20)),
                     max_concurrency=args.max_concurrency)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info",
                timeout_graceful_shutdown=args.graceful_seconds)
    return EXIT_OK
