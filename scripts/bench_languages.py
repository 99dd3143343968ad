"""C++ stdio throughput: coderm's executor against a SandboxFusion-style baseline, in one run.

Cells are (program, hidden test) pairs of CodeContests stdin problems from MapCoder's file
(``stdio/codecontests31_problems.jsonl.gz``), for a correct and a wrong C++ program per problem
written here.

- baseline: what a request to SandboxFusion does, per cell: write the source to a fresh directory,
  compile it with g++ (coderm's flags), run the binary in a fresh process with the test's input and
  a ``--timeout``, judge its stdout. ``--workers`` cells at a time. It is slow, so it runs a seeded
  random sample of ``--baseline-cells`` cells. It has no sandbox at all, so it is a generous baseline.
- coderm: ``executor.Executor`` (its default config, ``--workers`` workers, no cache), one Job per
  problem with ``language="cpp"``: each program is compiled once in the sandbox and its tests run in
  the sandbox, every hidden test of every problem.

Prints cells/s of each, the ratio, and how often both agree on PASS vs not-PASS on the shared cells.

    nice python scripts/bench_languages.py                     # 3 problems, 60 baseline cells
    nice python scripts/bench_languages.py --baseline-cells 20 --workers 2
"""
from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from coderm.loaders.stdio import stdio  # noqa: E402
from executor import Executor, ExecutorConfig, Job, Status  # noqa: E402
from executor.compare import text_matches  # noqa: E402
from executor.languages import find  # noqa: E402
from executor.specs import EXACT  # noqa: E402
from scripts.shared_data import DATA, require  # noqa: E402

# problem id prefix -> (correct, wrong) C++ programs
PROGRAMS = {
    "1582_A": ("#include <cstdio>\nint main(){int t;scanf(\"%d\",&t);while(t--){long long a,b,c;"
               "scanf(\"%lld%lld%lld\",&a,&b,&c);printf(\"%lld\\n\",(a+c)&1);}}\n",
               "#include <cstdio>\nint main(){int t;scanf(\"%d\",&t);while(t--){long long a,b,c;"
               "scanf(\"%lld%lld%lld\",&a,&b,&c);printf(\"%lld\\n\",(a+b+c)&1);}}\n"),
    "1619_A": ("#include <iostream>\n#include <string>\nint main(){int t;std::cin>>t;while(t--){std::string s;std::cin>>s;"
               "auto h=s.size()/2;std::cout<<(s.size()%2==0&&s.compare(0,h,s,h,h)==0?\"YES\\n\":\"NO\\n\");}}\n",
               "#include <iostream>\n#include <string>\nint main(){int t;std::cin>>t;while(t--){std::string s;std::cin>>s;"
               "auto h=s.size()/2;std::cout<<(s.compare(0,h,s,h,h)==0?\"YES\\n\":\"NO\\n\");}}\n"),
    "1620_A": ("#include <iostream>\n#include <string>\n#include <algorithm>\nint main(){int t;std::cin>>t;while(t--){"
               "std::string s;std::cin>>s;std::cout<<(std::count(s.begin(),s.end(),'N')==1?\"NO\\n\":\"YES\\n\");}}\n",
               "#include <iostream>\n#include <string>\nint main(){int t;std::cin>>t;while(t--){"
               "std::string s;std::cin>>s;std::cout<<(s.find('N')==std::string::npos?\"YES\\n\":\"NO\\n\");}}\n"),
}


def baseline_cell(compiler: tuple[str, ...], source: str, test: dict, timeout: float) -> bool:
    """One cell the SandboxFusion way: a fresh directory, compile, run in a fresh process, judge."""
    work = tempfile.mkdtemp(prefix="bench-sf-")
    try:
        Path(work, "main.cpp").write_text(source)
        built = subprocess.run([*compiler, "main.cpp"], cwd=work, capture_output=True, timeout=60)
        if built.returncode != 0:
            return False
        try:
            ran = subprocess.run(["./main"], cwd=work, input=test["input"].encode(), capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        out = ran.stdout.decode("utf-8", "replace")
        return ran.returncode == 0 and any(text_matches(out, want, EXACT)
                                            for want in (test["output"], *test.get("alternatives", [])))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA / "stdio" / "codecontests31_problems.jsonl.gz")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=2.0, help="seconds per test (coderm: the calibrated ceiling)")
    parser.add_argument("--baseline-cells", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    require(args.data)
    toolchain = find("cpp")
    if toolchain is None:
        print("error: no g++ on this host", file=sys.stderr)
        return 2
    problems = {p["task_id"].split(".")[0]: p for p in stdio(str(args.data)) if p["task_id"].split(".")[0] in PROGRAMS}
    cells = [(name, k, j) for name in PROGRAMS for k in range(2) for j in range(len(problems[name]["tests"]))]
    print(f"{len(problems)} problems, {len(cells)} cells (2 C++ programs x hidden tests); {toolchain.version}")

    start = time.perf_counter()
    with Executor(ExecutorConfig(workers=args.workers, timeout=args.timeout, cache_path=None)) as ex:
        jobs = [Job(name, list(PROGRAMS[name]), problems[name]["tests"], language="cpp") for name in PROGRAMS]
        ours = {name: matrix for name, matrix in ex.run_many(jobs)}
    ours_seconds = time.perf_counter() - start
    ours_rate = len(cells) / ours_seconds
    print(f"coderm:   {len(cells)} cells in {ours_seconds:.1f}s = {ours_rate:.1f} cells/s "
          f"({sum(int(m.passed.sum()) for m in ours.values())} PASS)")

    sample = random.Random(args.seed).sample(cells, min(args.baseline_cells, len(cells)))
    compiler = (toolchain.compile[0], *(a for a in toolchain.compile[1:] if a != "{src}"))
    start = time.perf_counter()
    with ThreadPoolExecutor(args.workers) as pool:
        verdicts = list(pool.map(lambda c: baseline_cell(compiler, PROGRAMS[c[0]][c[1]], problems[c[0]]["tests"][c[2]],
                                                         args.timeout), sample))
    base_seconds = time.perf_counter() - start
    base_rate = len(sample) / base_seconds
    print(f"baseline: {len(sample)} cells in {base_seconds:.1f}s = {base_rate:.2f} cells/s (compile + run per cell)")

    agree = sum(v == (ours[name].statuses[k, j] == Status.PASS) for v, (name, k, j) in zip(verdicts, sample))
    print(f"agreement on PASS vs not-PASS: {agree}/{len(sample)}")
    print(f"ratio coderm / baseline: {ours_rate / base_rate:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
