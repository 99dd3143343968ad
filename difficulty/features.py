"""Cheap difficulty features: prompt text statistics and signals from a first small round of tests.

Both are plain functions over plain data so the estimator, the evaluation script and the
pipeline compute them the same way. Execution signals take a pass matrix the caller already has.
"""
from __future__ import annotations

import ast
import math
import re
import warnings
from collections import Counter

import numpy as np

from executor import astparse

TEXT_FEATURES = (
    "log_chars", "log_lines", "log_doc_words", "n_examples", "n_args", "has_return_type",
    "n_imports", "n_defs", "kw_list", "kw_string", "kw_sort", "kw_math", "kw_loop_words", "kw_edge",
)
CANDIDATE_FEATURES = ("log_mean_len", "len_spread", "unique_frac", "top_cluster_frac", "syntax_error_frac")
EXEC_FEATURES = ("frac_all_pass", "frac_none_pass", "mean_cell_pass", "top_group_frac", "set_entropy", "n_groups_frac")

_KEYWORDS = {
    "kw_list": r"\b(list|array|elements?|numbers)\b",
    "kw_string": r"\b(string|str|characters?|words?|letters?|vowels?)\b",
    "kw_sort": r"\b(sort(ed)?|order(ed)?|largest|smallest|maximum|minimum)\b",
    "kw_math": r"\b(prime|digits?|sum|product|factor|divisible|fibonacci|modulo|integer)\b",
    "kw_loop_words": r"\b(each|every|all|until|repeat|times|consecutive)\b",
    "kw_edge": r"\b(empty|none|negative|zero|otherwise|if there is no)\b",
}


def text_features(prompt: str) -> np.ndarray:
    """Length, structure and keyword counts of a problem statement, in ``TEXT_FEATURES`` order."""
    lower = prompt.lower()
    doc = " ".join(a or b for a, b in re.findall(r'"""(.*?)"""|\'\'\'(.*?)\'\'\'', prompt, flags=re.S))
    sig = re.findall(r"def\s+\w+\s*\((.*?)\)\s*(->)?", prompt, flags=re.S)
    last_sig = sig[-1] if sig else ("", "")
    n_args = len([a for a in last_sig[0].split(",") if a.strip()]) if last_sig[0] else 0
    values = [
        math.log1p(len(prompt)),
        math.log1p(prompt.count("\n")),
        math.log1p(len(doc.split())),
        float(prompt.count(">>>") + len(re.findall(r"\bfor example\b|\bexample\b|==>|->\s*\S", lower))),
        float(n_args),
        float(bool(last_sig[1])),
        float(len(re.findall(r"^\s*(import|from)\s", prompt, flags=re.M))),
        float(len(sig)),
    ]
    values += [float(len(re.findall(p, lower))) for p in _KEYWORDS.values()]
    return np.asarray(values, dtype=float)


def _normalised(code: str) -> str | None:
    try:
        with warnings.catch_warnings():  # candidates are full of invalid escape sequences
            warnings.simplefilter("ignore")
            return ast.dump(astparse.parse(code))  # parse only: formatting and comments do not split clusters
    except (SyntaxError, ValueError):
        return None


def candidate_features(candidates: list[str]) -> np.ndarray:
    """Self-consistency of the candidates without running them, in ``CANDIDATE_FEATURES`` order:
    long, diverse or unparsable candidates mean a model that does not know the answer."""
    if not candidates:
        return np.asarray([0.0, 0.0, 1.0, 0.0, 1.0])
    lengths = np.array([len(c) for c in candidates], dtype=float)
    trees = [_normalised(c) for c in candidates]
    counts = Counter(t for t in trees if t is not None)
    n = len(candidates)
    return np.asarray([
        math.log1p(lengths.mean()),
        float(lengths.std() / (1.0 + lengths.mean())),
        len(counts) / n,
        (max(counts.values()) / n) if counts else 0.0,
        sum(t is None for t in trees) / n,
    ])


def exec_signals(passed: np.ndarray) -> np.ndarray:
    """Signals of a first round (candidates x tests, bool), in ``EXEC_FEATURES`` order.

    Fraction of candidates passing every / no test, mean cell pass rate, the share of the
    largest group of candidates with identical passed-sets (agreement), the normalised entropy
    of the passed-set distribution and the number of distinct passed-sets per candidate.
    """
    passed = np.asarray(passed, dtype=bool)
    if passed.ndim != 2 or passed.shape[0] == 0:
        raise ValueError(f"execution signals need a (candidates, tests) matrix, got shape {passed.shape}")
    n, k = passed.shape
    if k == 0:
        return np.asarray([1.0, 1.0, 0.0, 1.0, 0.0, 1.0 / n])
    _, counts = np.unique(passed, axis=0, return_counts=True)
    p = counts / n
    entropy = float(-(p * np.log(p)).sum() / math.log(n)) if n > 1 else 0.0
    return np.asarray([
        float(passed.all(axis=1).mean()),
        float((~passed).all(axis=1).mean()),
        float(passed.mean()),
        float(counts.max() / n),
        entropy,
        len(counts) / n,
    ])
