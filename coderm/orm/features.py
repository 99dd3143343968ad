"""Candidate features for the scikit-learn ORM: token n-grams, AST statistics, lint signals, and
agreement with the rest of the pool (a candidate that many others resemble is more often right)."""
from __future__ import annotations

import ast
import io
import re
import tokenize

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import HashingVectorizer

from coderm.prune.analysis import lint, normalized_key, parse

N_HASH = 2 ** 14
_WORD = re.compile(r"[A-Za-z_]\w*|\d+|\S")
DENSE_NAMES = (
    "compiles", "lines", "log_nodes", "depth", "returns", "loops", "whiles", "calls", "ifs", "comprehensions",
    "imports", "functions", "undefined_names", "missing_entry_point", "no_return", "lint_warnings",
    "prints", "inputs", "exact_share", "ast_share", "similarity", "similarity_rank", "length_rank",
)


def _tokens(code: str) -> list[str]:
    """Code tokens without comments and docstring text, so n-grams see the implementation."""
    try:
        toks = [t.string for t in tokenize.generate_tokens(io.StringIO(code).readline)
                if t.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
                                  tokenize.DEDENT, tokenize.STRING, tokenize.ENDMARKER)]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        toks = _WORD.findall(code)
    return toks


_VECTORIZER = HashingVectorizer(n_features=N_HASH, analyzer=lambda toks: [
    " ".join(toks[i:i + n]) for n in (1, 2, 3) for i in range(len(toks) - n + 1)], alternate_sign=False,
    norm="l2")


def _ast_stats(tree: ast.Module | None, code: str, entry_point: str | None) -> list[float]:
    if tree is None:
        return [0.0, float(code.count("\n")), 0.0, 0.0] + [0.0] * 12 + [0.0, 0.0]
    counts = {k: 0 for k in ("returns", "loops", "whiles", "calls", "ifs", "comprehensions", "imports", "functions")}
    nodes = 0
    for node in ast.walk(tree):
        nodes += 1
        if isinstance(node, ast.Return):
            counts["returns"] += 1
        elif isinstance(node, ast.For):
            counts["loops"] += 1
        elif isinstance(node, ast.While):
            counts["whiles"] += 1
        elif isinstance(node, ast.Call):
            counts["calls"] += 1
        elif isinstance(node, ast.If):
            counts["ifs"] += 1
        elif isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            counts["comprehensions"] += 1
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            counts["imports"] += 1
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            counts["functions"] += 1

    def depth(node: ast.AST) -> int:
        return 1 + max((depth(c) for c in ast.iter_child_nodes(node)), default=0)

    found = lint(tree, entry_point)
    return [1.0, float(code.count("\n")), float(np.log1p(nodes)), float(depth(tree)), *map(float, counts.values()),
            float(len(found.undefined_names)), float(found.missing_entry_point), float(found.no_return),
            float(found.warnings), float(code.count("print(")), float(code.count("input("))]


def _ranks(values: np.ndarray) -> np.ndarray:
    """Rank within the pool scaled to [0, 1] (pool-size independent)."""
    if len(values) < 2:
        return np.ones(len(values))
    return values.argsort().argsort() / (len(values) - 1)


def problem_features(problem: dict, indices: list[int] | None = None) -> sparse.csr_matrix:
    """Feature rows for ``problem['candidates'][indices]``; pool features use the whole pool."""
    cands = problem["candidates"]
    entry = problem.get("entry_point")
    trees = [parse(c) for c in cands]
    toks = [_tokens(c) for c in cands]
    grams = _VECTORIZER.transform(toks)
    exact = {}
    for c in cands:
        exact[c] = exact.get(c, 0) + 1
    keys = [normalized_key(t) if t is not None else c for t, c in zip(trees, cands)]
    by_key: dict[str, int] = {}
    for k in keys:
        by_key[k] = by_key.get(k, 0) + 1
    n = len(cands)
    sim = (grams @ grams.T).toarray()
    np.fill_diagonal(sim, 0.0)
    mean_sim = sim.sum(axis=1) / max(n - 1, 1)
    lengths = np.array([len(t) for t in toks], dtype=np.float64)
    sim_rank, len_rank = _ranks(mean_sim), _ranks(lengths)
    rows = range(n) if indices is None else indices
    dense = np.array([
        _ast_stats(trees[i], cands[i], entry) + [exact[cands[i]] / n, by_key[keys[i]] / n, mean_sim[i], sim_rank[i],
                                                  len_rank[i]]
        for i in rows], dtype=np.float64).reshape(len(rows), len(DENSE_NAMES))
    return sparse.hstack([sparse.csr_matrix(dense), grams[list(rows)]], format="csr")
