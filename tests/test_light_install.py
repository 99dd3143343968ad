"""The base install (numpy, pyyaml, tqdm, pyflakes) runs the README's first command; a command that needs
an extra says which one, with exit 2. Proved without a fresh venv: every Python process of these runs
starts with a `sitecustomize` whose import finder refuses the modules only the extras install."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from cli import EXAMPLE, ROOT
from coderm.cli import EXTRA_OF

REFUSED = ("sklearn", "scipy", "datasets", "huggingface_hub", "pandas", "pyarrow", "torch", "transformers")
REFUSING_FINDER = f"""import sys

class RefuseExtras:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {REFUSED!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)

sys.meta_path.insert(0, RefuseExtras())
"""


@pytest.fixture
def base_only(tmp_path):
    """Run `python ARGS` in a scratch directory as if only the base dependencies were installed."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(REFUSING_FINDER)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, *args], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=240)

    return run


def test_the_finder_refuses_the_extras(base_only):
    r = base_only("-c", "import scipy")
    assert r.returncode == 1 and "No module named 'scipy'" in r.stderr


def test_the_readme_first_command_and_the_library_run_on_the_base_install(base_only):
    r = base_only("-c", "import coderm, coderm.cli, executor, difficulty; "
                        "print(coderm.rerank('', ['def f(): return 1', 'def f(): return 2'], ['assert f() == 1'], "
                        "entry_point='f').ranking)")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[0, 1]"
    r = base_only("-m", "coderm", "score", "--problems", str(EXAMPLE), "--out", "scores.jsonl", "--no-cache", "--quiet")
    assert r.returncode == 0, r.stderr
    r = base_only("-m", "coderm", "eval", "--problems", str(EXAMPLE), "--scores", "scores.jsonl")
    assert r.returncode == 0, r.stderr
    assert re.search(r"best-of-N \(scores\) % +100.00\n", r.stdout) and re.search(r"problems scored +5\n", r.stdout)


@pytest.mark.parametrize("command, extra", [
    (["orm", "train", "--problems", str(EXAMPLE), "--out", "orm.pkl", "--folds", "2"], "ml"),
    (["difficulty", "train", "--problems", str(EXAMPLE), "--out", "difficulty.pkl"], "ml"),
    (["convert", "--from", "humaneval", "--input", "openai/openai_humaneval", "--out", "he.jsonl"], "datasets"),
])
def test_a_command_that_needs_an_extra_names_it_in_one_line(base_only, command, extra):
    r = base_only("-m", "coderm", *command)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines()[-1].endswith(f"from the '{extra}' extra: pip install 'coderm[{extra}]'")


def test_the_extras_named_are_declared_and_the_test_extra_has_them():
    tomllib = pytest.importorskip("tomllib")  # the standard library from Python 3.11
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    assert set(EXTRA_OF.values()) <= extras.keys()
    assert set(extras["datasets"] + extras["ml"]) <= set(extras["test"])
    assert not set(project["dependencies"]) & set(extras["datasets"] + extras["ml"])
