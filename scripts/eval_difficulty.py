"""Best-of-N accuracy against test budget for equal, greedy-λ, separation and adaptive allocation (CodeRM Fig. 6 shape).

One executed pass matrix per problem is reused: every repeat draws a random order of each
problem's tests, an allocator decides how many (k) each problem gets, the first k columns of
that order are kept and the CodeT rule picks the best candidate (ties: expected accuracy over
the tied set). λ is predicted with k-fold cross-validation: a problem's λ̂ never comes from a
model trained on it. The first test of every problem (the first round, part of the budget)
feeds the execution signals of the LLM-free estimator. The sequential ``adaptive`` allocator is
simulated in rounds over the same matrix (it only ever reads the cells it chose to run); the table
also gives the cells each allocator executed against the B x problems x candidates budget, and
the runs per problem (rounds a problem took part in: each loads its candidates once more).

    python scripts/eval_difficulty.py --matrix codet_passed.npz --out-dir results/
    python scripts/eval_difficulty.py --cache /tmp/coderm-cache.sqlite --write-matrix m.npz --out-dir results/
"""
from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from coderm.aggregate import aggregate  # noqa: E402
from difficulty import (GainCurves, allocate_adaptive, allocate_curves, allocate_equal,  # noqa: E402
                        allocate_greedy, allocate_separation, make_estimator, pass_rates_from_labels)
from executor import Executor, ExecutorConfig, Job  # noqa: E402
from scripts.shared_data import DATA, require  # noqa: E402

DEFAULT_PROBLEMS = DATA / "codet" / "humaneval_codegen16b.problems.jsonl.gz"
BUDGETS = (1, 2, 4, 8, 16, 32)
PASS = 0  # executor.Status.PASS


def read_problems(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as f:
        return [json.loads(line) for line in f if line.strip()]


def matrix_key(task_id: str) -> str:
    return task_id.replace("/", "_") + "__statuses"


def load_matrix(path: Path, problems: list[dict]) -> list[np.ndarray]:
    """Passed matrices from an npz holding ``<task_id, '/'->'_'>__statuses`` (uint8 Status codes,
    candidates x tests in input order) for every problem."""
    data = np.load(path)
    out = []
    for p in problems:
        key = matrix_key(p["task_id"])
        if key not in data:
            raise SystemExit(f"{path}: no matrix {key!r} for {p['task_id']}")
        st = data[key]
        if st.shape != (len(p["candidates"]), len(p["tests"])):
            raise SystemExit(f"{path}: {key} has shape {st.shape}, problem has "
                             f"{len(p['candidates'])} candidates x {len(p['tests'])} tests")
        out.append(st == PASS)
    return out


def build_matrix(problems: list[dict], cache: str | None, workers: int, timeout: float) -> dict[str, np.ndarray]:
    """Run every candidate on every test of every problem through the sandboxed executor."""
    jobs = (Job(p["task_id"], p["candidates"], p["tests"], entry_point=p.get("entry_point")) for p in problems)
    out = {}
    with Executor(ExecutorConfig(workers=workers, timeout=timeout, cache_path=cache)) as ex:
        for key, m in ex.run_many(jobs):
            out[matrix_key(key)] = m.statuses
            print(f"executed {key} {m.shape}", file=sys.stderr, flush=True)
    return out


def codet_scores(passed: np.ndarray) -> np.ndarray:
    """The CodeT rule's candidate scores, the aggregator the adaptive allocator steers by."""
    return aggregate("codet", passed)


def codet_accuracy(passed: np.ndarray, labels: np.ndarray) -> float:
    """Expected best-of-N accuracy of the CodeT rule (coderm.aggregate "codet": group candidates
    by passed-set, score sqrt(group size) x tests passed), picking uniformly among the top."""
    scores = aggregate("codet", passed)
    return float(labels[scores == scores.max()].mean())


def accuracy_curves(passed, labels, max_k: int, orders: int = 5) -> list[np.ndarray]:
    """Mean accuracy with the first k tests kept (k = 0 .. min(tests, max_k)) over random orders."""
    out = []
    for m, y in zip(passed, labels):
        top = min(m.shape[1], max_k)
        c = np.zeros(top + 1)
        for r in range(orders):
            o = np.random.default_rng(10_000 + r).permutation(m.shape[1])[:top]
            c += [codet_accuracy(m[:, o[:k]], y) for k in range(top + 1)]
        out.append(c / orders)
    return out


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.stats import spearmanr

    return float(spearmanr(a, b).statistic)


def auc_hard(lam_hat: np.ndarray, lam: np.ndarray, thresh: float = 0.1) -> float:
    """AUC of −λ̂ for telling problems with λ < thresh from the rest."""
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(lam < thresh, -lam_hat))


def fit_predict(problems, lam, first, tr, te) -> np.ndarray:
    """λ̂ for problems ``te`` from the LLM-free estimator fitted on problems ``tr`` only."""
    est = make_estimator("features").fit([problems[i] for i in tr], lam[tr], passed=[first[i] for i in tr])
    return est.predict([problems[i] for i in te], passed=[first[i] for i in te])


def cv_predict(problems, lam, first, curves, folds: int, seed: int, max_k: int) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold λ̂ and predicted gain curves. The curves of a held-out problem come from
    GainCurves fitted on the other folds against *their* λ̂ (inner cross-validation), so the
    curve model learns what a given λ̂ is worth, estimation noise included."""
    fold = np.random.default_rng(seed).permutation(len(problems)) % folds
    lam_hat = np.zeros(len(problems))
    gains = np.zeros((len(problems), max_k + 1))
    for f in range(folds):
        tr, te = np.flatnonzero(fold != f), np.flatnonzero(fold == f)
        lam_hat[te] = fit_predict(problems, lam, first, tr, te)
        inner = np.random.default_rng(seed + 1).permutation(len(tr)) % folds
        lam_in = np.zeros(len(tr))
        for g in range(folds):
            lam_in[inner == g] = fit_predict(problems, lam, first, tr[inner != g], tr[inner == g])
        model = GainCurves(max_k=max_k).fit(lam_in, [curves[i] for i in tr])
        gains[te] = model.predict(lam_hat[te])
    return lam_hat, gains


def oracle_curves(lam: np.ndarray, curves, folds: int, max_k: int) -> np.ndarray:
    """Gain curves at the true λ, fitted on the other folds (the upper bound of the curve allocator)."""
    fold = np.random.default_rng(12345).permutation(len(lam)) % folds
    gains = np.zeros((len(lam), max_k + 1))
    for f in range(folds):
        tr, te = np.flatnonzero(fold != f), np.flatnonzero(fold == f)
        gains[te] = GainCurves(max_k=max_k).fit(lam[tr], [curves[i] for i in tr]).predict(lam[te])
    return gains


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--problems", type=Path, default=DEFAULT_PROBLEMS)
    ap.add_argument("--matrix", type=Path, help="npz of executed statuses (else run the executor)")
    ap.add_argument("--cache", help="executor result cache path when building the matrix")
    ap.add_argument("--write-matrix", type=Path, help="save the built statuses as npz for --matrix")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=2.0)
    ap.add_argument("--repeats", type=int, default=20, help="random test orders per budget point")
    ap.add_argument("--first-order", type=int, default=0,
                    help="index of the first test order (fresh orders check a choice made on others)")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--budgets", type=lambda s: [int(x) for x in s.split(",")], default=list(BUDGETS))
    ap.add_argument("--out-dir", type=Path, default=Path("difficulty_eval"))
    args = ap.parse_args(argv)
    require(args.problems, *([args.matrix] if args.matrix else []))

    problems = read_problems(args.problems)
    if args.matrix:
        passed = load_matrix(args.matrix, problems)
    else:
        built = build_matrix(problems, args.cache, args.workers, args.timeout)
        if args.write_matrix:
            np.savez_compressed(args.write_matrix, **built)
        passed = [built[matrix_key(p["task_id"])] == PASS for p in problems]
    labels = [np.asarray(p["labels"], dtype=bool) for p in problems]
    lam = pass_rates_from_labels(problems)
    n = len(problems)
    n_tests = np.array([m.shape[1] for m in passed])
    t0 = time.time()

    max_k = max(args.budgets) * 2
    curves = accuracy_curves(passed, labels, max_k)
    print(f"training curves ready ({time.time() - t0:.0f}s)", file=sys.stderr, flush=True)
    methods = ("equal", "greedy-λ̂", "greedy-λ (oracle)", "separation", "curves-λ̂", "curves-λ̂ hedged",
               "curves-λ (oracle)", "adaptive", "adaptive, λ̂ prior")
    best_curves = oracle_curves(lam, curves, args.folds, max_k)
    acc = {m: np.zeros((args.repeats, len(args.budgets))) for m in methods}
    cells = {m: np.zeros((args.repeats, len(args.budgets))) for m in methods}
    joined = {m: np.ones((args.repeats, len(args.budgets))) for m in methods}  # one-shot: each problem runs once
    n_cand = np.array([m.shape[0] for m in passed])
    texts = [p["tests"] for p in problems]
    quality = []
    for r in range(args.repeats):
        seed = args.first_order + r
        rng = np.random.default_rng(1000 + seed)
        orders = [rng.permutation(t) for t in n_tests]
        cols = [m[:, o] for m, o in zip(passed, orders)]  # tests in this repeat's random order
        first = [c[:, :1] for c in cols]
        lam_hat, hat_curves = cv_predict(problems, lam, first, curves, args.folds, seed, max_k)
        quality.append((spearman(lam_hat, lam), auc_hard(lam_hat, lam)))

        def reveal(req):
            return {i: cols[i][:, :k] for i, k in req.items()}

        def run(req):
            return {i: passed[i][:, idx] for i, idx in req.items()}

        for b_idx, b in enumerate(args.budgets):
            total = b * n
            ks = {
                "equal": allocate_equal(n, total, 1, n_tests, seed=seed),
                "greedy-λ̂": allocate_greedy(lam_hat, total, 1, n_tests),
                "greedy-λ (oracle)": allocate_greedy(lam, total, 1, n_tests),
                "separation": allocate_separation(reveal, n, total, 1, n_tests),
                "curves-λ̂": allocate_curves(hat_curves, total, 1, n_tests),
                # hedged: every problem keeps half the equal share; the curves place the rest
                "curves-λ̂ hedged": allocate_curves(hat_curves, total, max(1, b // 2), n_tests),
                "curves-λ (oracle)": allocate_curves(best_curves, total, 1, n_tests),
            }
            for m, k in ks.items():
                acc[m][r, b_idx] = np.mean([codet_accuracy(cols[i][:, :k[i]], labels[i]) for i in range(n)])
                cells[m][r, b_idx] = float((np.asarray(k) * n_cand).sum())
            for m, prior in (("adaptive", None), ("adaptive, λ̂ prior", lam_hat)):
                ad = allocate_adaptive(run, texts, n_cand, total, codet_scores, order=orders, lam=prior)
                acc[m][r, b_idx] = np.mean([codet_accuracy(ad.passed[i], labels[i]) for i in range(n)])
                cells[m][r, b_idx] = float(sum(c.size for c in ad.passed))
                joined[m][r, b_idx] = float(np.mean(ad.joined))
        print(f"repeat {r + 1}/{args.repeats} done ({time.time() - t0:.0f}s)", file=sys.stderr, flush=True)

    args.out_dir.mkdir(parents=True, exist_ok=True)
    table = write_table(args.out_dir / "difficulty_eval.md", acc, cells, joined, args.budgets, quality, args,
                        int(n_cand.sum()))
    plot(args.out_dir / "difficulty_eval.png", acc, args.budgets)
    print(table)
    return 0


def write_table(path: Path, acc, cells, joined, budgets, quality, args, all_cands: int) -> str:
    head = "| allocator | " + " | ".join(f"B={b}" for b in budgets) + " |"
    lines = [f"Best-of-N accuracy (%, CodeT rule) vs average tests per problem; mean ± sd over {args.repeats} "
             f"random test orders; λ̂ by {args.folds}-fold CV.", "", head, "|" + "---|" * (len(budgets) + 1)]
    for m, a in acc.items():
        mean, sd = 100 * a.mean(0), 100 * a.std(0, ddof=1) if len(a) > 1 else 0 * a.mean(0)
        lines.append(f"| {m} | " + " | ".join(f"{x:.2f} ± {s:.2f}" for x, s in zip(mean, sd)) + " |")
    base = acc["equal"]
    lines += ["", "Difference to equal (pt, paired over repeats):", "", head, "|" + "---|" * (len(budgets) + 1)]
    for m, a in acc.items():
        if m != "equal":
            d = 100 * (a - base)
            lines.append(f"| {m} | " + " | ".join(f"{x:+.2f} ± {s:.2f}" for x, s in zip(d.mean(0), d.std(0, ddof=1)))
                         + " |")
    lines += ["", "Cells executed (mean over repeats) / budget B x problems x candidates:", "", head,
              "|" + "---|" * (len(budgets) + 1)]
    for m, c in cells.items():
        lines.append(f"| {m} | " + " | ".join(f"{x:,.0f} / {b * all_cands:,}" for x, b in zip(c.mean(0), budgets))
                     + " |")
    lines += ["", "Runs per problem (mean; each run loads every candidate once, what throughput pays for):", "",
              head, "|" + "---|" * (len(budgets) + 1)]
    for m, j in joined.items():
        lines.append(f"| {m} | " + " | ".join(f"{x:.2f}" for x in j.mean(0)) + " |")
    q = np.asarray(quality)
    lines += ["", "LLM-free estimator (prompt text + candidate self-consistency + first-round signals), "
              f"out-of-fold: Spearman with true λ {q[:, 0].mean():.3f}, AUC for λ < 0.1 {q[:, 1].mean():.3f}"]
    text = "\n".join(lines) + "\n"
    path.write_text(text)
    return text


def plot(path: Path, acc, budgets) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for m, a in acc.items():
        ax.plot(budgets, 100 * a.mean(0), marker="o", label=m, linestyle="--" if "oracle" in m else "-")
    ax.set_xscale("log", base=2)
    ax.set_xticks(budgets, [str(b) for b in budgets])
    ax.set_xlabel("average tests per problem")
    ax.set_ylabel("best-of-N accuracy (%)")
    ax.set_title("Test-budget allocation, CodeT HumanEval (CodeGen-16B)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=150)


if __name__ == "__main__":
    raise SystemExit(main())
