"""Candidate features for the scikit-learn ORM: token n-grams, AST statistics, cheap lint signals,
and agreement with the rest of the pool (a candidate that many others resemble is more often right).

Kept cheap on purpose: the ORM stage sits in front of execution, so its cost per candidate must be a
small fraction of running the tests.
"""
from __future__ import annotations

import ast
import re

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import HashingVectorizer

from coderm.analysis import lint, parse

N_HASH = 2 ** 14
_TOKEN = re.compile(r"[A-Za-z_]\w*|\d+|[^\s\w]")
_COMMENT_OR_STRING = re.compile(r'#[^\n]*|"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'')
_COUNTED = {ast.Return: 0, ast.For: 1, ast.While: 2, ast.Call: 3, ast.If: 4, ast.ListComp: 5, ast.SetComp: 5,
            ast.DictComp: 5, ast.GeneratorExp: 5, ast.Import: 6, ast.ImportFrom: 6, ast.FunctionDef: 7,
            ast.Try: 8, ast.Raise: 9}
DENSE_NAMES = ("compiles", "lines", "log_nodes", "returns", "for", "while", "calls", "ifs", "comprehensions",
               "imports", "functions", "try", "raise", "missing_entry_point", "no_return", "prints",
               "exact_share", "similarity", "similarity_rank", "length_rank")


def _tokens(code: str) -> list[str]:
    """Code tokens without comments and docstrings, so n-grams see the implementation."""
    return _TOKEN.findall(_COMMENT_OR_STRING.sub(" ", code))


def _ngrams(toks: list[str]) -> list[str]:
    return [" ".join(toks[i:i + n]) for n in (1, 2, 3) for i in range(len(toks) - n + 1)]


VECTORIZER = HashingVectorizer(n_features=N_HASH, analyzer=_ngrams, alternate_sign=False, norm="l2")


def _ast_stats(tree: ast.Module | None, code: str, entry_point: str | None) -> list[float]:
    lines = float(code.count("\n"))
    if tree is None:
        return [0.0, lines] + [0.0] * 14
    counts = [0.0] * 10
    nodes = 0
    for node in ast.walk(tree):
        nodes += 1
        k = _COUNTED.get(type(node))
        if k is not None:
            counts[k] += 1
    found = lint(tree, entry_point, undefined_names=False)
    return [1.0, lines, float(np.log1p(nodes)), *counts, float(found.missing_entry_point), float(found.no_return),
            float(code.count("print("))]


def _ranks(values: np.ndarray) -> np.ndarray:
    """Rank within the pool scaled to [0, 1] (pool-size independent)."""
    if len(values) < 2:
        return np.ones(len(values))
    return values.argsort().argsort() / (len(values) - 1)


def problem_features(problem: dict, indices: list[int] | None = None) -> sparse.csr_matrix:
    """Feature rows for ``problem['candidates'][indices]``; pool features use the whole pool."""
    cands = problem["candidates"]
    entry = problem.get("entry_point")
    unique = list(dict.fromkeys(cands))
    where = {c: k for k, c in enumerate(unique)}
    counts = np.bincount([where[c] for c in cands], minlength=len(unique)).astype(np.float64)
    token_lists = [_tokens(c) for c in unique]
    lengths = np.array([len(tokens) for tokens in token_lists], dtype=np.float64)
    grams = VECTORIZER.transform(token_lists)
    sim = (grams @ grams.T).toarray() @ counts - 1.0  # similarity to every other candidate, duplicates counted
    mean_sim = sim / max(len(cands) - 1, 1)
    sim_rank, len_rank = _ranks(mean_sim), _ranks(lengths)
    rows = list(range(len(cands))) if indices is None else list(indices)
    dense = np.empty((len(rows), len(DENSE_NAMES)))
    for r, i in enumerate(rows):
        u = where[cands[i]]
        dense[r] = _ast_stats(parse(cands[i]), cands[i], entry) + [counts[u] / len(cands), mean_sim[u], sim_rank[u], len_rank[u]]
    return sparse.hstack([sparse.csr_matrix(dense), grams[[where[cands[i]] for i in rows]]], format="csr")
