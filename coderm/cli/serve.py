"""`coderm serve`: the reward server for RL trainers (OpenRLHF --remote_rm_url, or any HTTP client)."""
from __future__ import annotations

import argparse
import sys

from coderm.cli import EXIT_BAD_INPUT, EXIT_OK
from coderm.config import ConfigError, load_config
from coderm.extract import BLOCK_CHOICES, JOIN_CHOICES
from coderm.rl.reward import RewardFunction

EXAMPLES = """examples:
  coderm serve --port 5000 --workers 8 --timeout 1
  # OpenRLHF: --remote_rm_url http://HOST:5000/get_reward --label_key tests
  curl -s localhost:5000/reward -d '{"completions": ["def f(x):\\n    return x"], "tests": [["assert f(1) == 1"]]}'
  curl -s localhost:5000/health ; curl -s localhost:5000/metrics
"""


def register(subparsers) -> None:
    p = subparsers.add_parser("serve", epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
                              help="serve rewards over HTTP (POST /reward, /get_reward; GET /health, /metrics)",
                              description="Run the coderm reward server: completions + tests in, one reward per "
                                          "completion out.")
    p.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1; 0.0.0.0 for a cluster)")
    p.add_argument("--port", type=int, default=5000)
    p.add_argument("--config", default="reward",
                   help="preset name or YAML file (default: %(default)s, passrate in [0, 1]); flags override it")
    p.add_argument("--workers", type=int, help="sandbox worker processes (config: executor.workers)")
    p.add_argument("--timeout", type=float, help="seconds per test (config: executor.timeout)")
    p.add_argument("--timeout-policy", choices=("fixed", "calibrated"),
                   help="fixed: --timeout per test; calibrated: from the peers' times (config: executor.timeout_policy)")
    p.add_argument("--memory-mb", type=int, help="memory limit per sandboxed program (config: executor.memory_mb)")
    p.add_argument("--aggregator", help="passrate (the preset's: fraction of tests passed) or a vote across the "
                                        "completions of one problem in a request (codet, coderm, ...)")
    p.add_argument("--block", choices=BLOCK_CHOICES, help="which fenced code block of a completion to run "
                                                         "(config: extract.block)")
    p.add_argument("--join-prompt", choices=JOIN_CHOICES,
                   help="prepend the prompt to the extracted code (config: extract.join_prompt)")
    p.add_argument("--max-body-mb", type=float, default=32.0, help="largest accepted request body")
    p.add_argument("--max-concurrency", type=int, default=8, help="requests admitted at once; more get 503")
    p.add_argument("--graceful-seconds", type=float, default=60.0,
                   help="on SIGTERM/SIGINT, how long in-flight batches may take to finish")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from coderm.rl.server import create_app
    except ImportError as e:
        print(f"coderm serve needs the 'serve' extra (pip install 'coderm[serve]'): {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        config = load_config(args.config).with_overrides(
            workers=args.workers, timeout=args.timeout, timeout_policy=args.timeout_policy, memory_mb=args.memory_mb, aggregator=args.aggregator,
            block=args.block, join_prompt=args.join_prompt)
        reward_fn = RewardFunction(config)
        reward_fn.pipeline  # validates the prune stages, generator and budget before serving
    except ConfigError as e:
        print(f"coderm serve: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.max_concurrency < 1 or args.max_body_mb <= 0:
        print("coderm serve: --max-concurrency must be >= 1 and --max-body-mb > 0", file=sys.stderr)
        return EXIT_BAD_INPUT
    app = create_app(reward_fn, max_body_bytes=int(args.max_body_mb * (1 << 20)), max_concurrency=args.max_concurrency)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info",
                timeout_graceful_shutdown=args.graceful_seconds)
    return EXIT_OK
