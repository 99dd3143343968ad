"""Candidates in other languages: C++, C, Java, JavaScript (and Rust, slow) solutions of CodeContests
stdin problems, correct and wrong, judged on the problems' hidden tests.

A wrong program's verdicts are checked against its Python twin (the same algorithm, run through the
Python path every other test covers): per hidden test, the same PASS or not.
"""
from __future__ import annotations

import dataclasses
import json

import pytest

from cli import coderm
from coderm.config import load_config
from coderm.loaders.stdio import stdio
from coderm.model import Problem, ValidationError
from coderm.rl import GroundTruthError, RewardFunction
from coderm.rl.adapters import TrlReward
from executor import Executor, ExecutorConfig, Job, Status
from executor.languages import LANGUAGES, canonical, find

CONFIG = ExecutorConfig(workers=2, timeout=10.0, timeout_policy="fixed", cache_path=None)
FEW = 24  # hidden tests for programs that start slowly (a JVM, node): enough to fail the wrong ones

# name prefix -> language -> (correct, wrong); and the Python twins
SQUARE, LUNTIK, EQUAL = "1619_A", "1582_A", "1620_A"
PYTHON = {
    SQUARE: ("for _ in range(int(input())):\n    s = input().strip()\n    h = len(s) // 2\n"
             "    print('YES' if len(s) % 2 == 0 and s[:h] == s[h:] else 'NO')\n",
             "for _ in range(int(input())):\n    s = input().strip()\n    print('YES' if s == s[::-1] else 'NO')\n"),
    LUNTIK: ("for _ in range(int(input())):\n    a, b, c = map(int, input().split())\n    print((a + c) % 2)\n",
             "for _ in range(int(input())):\n    a, b, c = map(int, input().split())\n    print((a + b + c) % 2)\n"),
    EQUAL: ("for _ in range(int(input())):\n    print('NO' if input().strip().count('N') == 1 else 'YES')\n",
            "for _ in range(int(input())):\n    print('NO' if input().strip().count('N') % 2 == 1 else 'YES')\n"),
}
CPP = {
    SQUARE: ("#include <bits/stdc++.h>\nusing namespace std;\nint main(){int t;cin>>t;while(t--){string s;cin>>s;"
             "size_t h=s.size()/2;cout<<(s.size()%2==0&&s.substr(0,h)==s.substr(h)?\"YES\":\"NO\")<<\"\\n\";}}\n",
             "#include <bits/stdc++.h>\nusing namespace std;\nint main(){int t;cin>>t;while(t--){string s;cin>>s;"
             "string r(s.rbegin(),s.rend());cout<<(s==r?\"YES\":\"NO\")<<\"\\n\";}}\n"),
    LUNTIK: ("#include <bits/stdc++.h>\nint main(){int t;std::cin>>t;while(t--){long long a,b,c;std::cin>>a>>b>>c;"
             "std::cout<<(a+c)%2<<\"\\n\";}}\n",
             "#include <bits/stdc++.h>\nint main(){int t;std::cin>>t;while(t--){long long a,b,c;std::cin>>a>>b>>c;"
             "std::cout<<(a+b+c)%2<<\"\\n\";}}\n"),
    EQUAL: ("#include <bits/stdc++.h>\nusing namespace std;\nint main(){int t;cin>>t;while(t--){string s;cin>>s;"
            "cout<<(count(s.begin(),s.end(),'N')==1?\"NO\":\"YES\")<<\"\\n\";}}\n",
            "#include <bits/stdc++.h>\nusing namespace std;\nint main(){int t;cin>>t;while(t--){string s;cin>>s;"
            "cout<<(count(s.begin(),s.end(),'N')%2==1?\"NO\":\"YES\")<<\"\\n\";}}\n"),
}
_JS_LINES = "const lines = require('fs').readFileSync(0, 'utf8').split('\\n');\nconst t = parseInt(lines[0]);\nconst out = [];\n"
JAVASCRIPT = {
    SQUARE: (_JS_LINES + "for (let i = 1; i <= t; i++) { const s = lines[i].trim(); const h = s.length / 2;\n"
             "  out.push(s.length % 2 === 0 && s.slice(0, h) === s.slice(h) ? 'YES' : 'NO'); }\nconsole.log(out.join('\\n'));\n",
             _JS_LINES + "for (let i = 1; i <= t; i++) { const s = lines[i].trim();\n"
             "  out.push(s === s.split('').reverse().join('') ? 'YES' : 'NO'); }\nconsole.log(out.join('\\n'));\n"),
    LUNTIK: (_JS_LINES + "for (let i = 1; i <= t; i++) { const [a, b, c] = lines[i].split(' ').map(Number);\n"
             "  out.push((a + c) % 2); }\nconsole.log(out.join('\\n'));\n",
             _JS_LINES + "for (let i = 1; i <= t; i++) { const [a, b, c] = lines[i].split(' ').map(Number);\n"
             "  out.push((a + b + c) % 2); }\nconsole.log(out.join('\\n'));\n"),
    EQUAL: (_JS_LINES + "for (let i = 1; i <= t; i++) { const n = lines[i].trim().split('N').length - 1;\n"
            "  out.push(n === 1 ? 'NO' : 'YES'); }\nconsole.log(out.join('\\n'));\n",
            _JS_LINES + "for (let i = 1; i <= t; i++) { const n = lines[i].trim().split('N').length - 1;\n"
            "  out.push(n % 2 === 1 ? 'NO' : 'YES'); }\nconsole.log(out.join('\\n'));\n"),
}
_JAVA = ("import java.io.*;\nimport java.util.*;\n\npublic class {name} {{\n"
         "    public static void main(String[] args) throws IOException {{\n"
         "        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));\n"
         "        int t = Integer.parseInt(in.readLine().trim());\n        StringBuilder out = new StringBuilder();\n"
         "        while (t-- > 0) {{\n            StringTokenizer st = new StringTokenizer(in.readLine());\n"
         "            long a = Long.parseLong(st.nextToken()), b = Long.parseLong(st.nextToken()), "
         "c = Long.parseLong(st.nextToken());\n            out.append({answer}).append('\\n');\n        }}\n"
         "        System.out.print(out);\n    }}\n}}\n")
JAVA = {LUNTIK: (_JAVA.format(name="Main", answer="(a + c) % 2"), _JAVA.format(name="Concerts", answer="(a + b + c) % 2"))}
C = {LUNTIK: ("#include <stdio.h>\nint main(void){int t;scanf(\"%d\",&t);while(t--){long long a,b,c;"
              "scanf(\"%lld %lld %lld\",&a,&b,&c);printf(\"%lld\\n\",(a+c)%2);}return 0;}\n",
              "#include <stdio.h>\nint main(void){int t;scanf(\"%d\",&t);while(t--){long long a,b,c;"
              "scanf(\"%lld %lld %lld\",&a,&b,&c);printf(\"%lld\\n\",(a+b+c)%2);}return 0;}\n")}
RUST = {LUNTIK: tuple(
    "use std::io::*;\nfn main() { let mut s = String::new(); stdin().read_to_string(&mut s).unwrap();\n"
    "  let v: Vec<i64> = s.split_whitespace().map(|x| x.parse().unwrap()).collect();\n"
    "  let mut out = String::new();\n  for i in 0..v[0] as usize { let (a, b, c) = (v[1 + 3 * i], v[2 + 3 * i], v[3 + 3 * i]);\n"
    f"    let _ = b; out += &format!(\"{{}}\\n\", {answer}); }}\n  print!(\"{{}}\", out);\n}}\n"
    for answer in ("(a + c) % 2", "(a + b + c) % 2"))}


def needs(language: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(find(language) is None, reason=f"no {language} toolchain on this host")


@pytest.fixture(scope="module")
def problems(shared_data) -> dict[str, dict]:
    path = shared_data / "stdio" / "codecontests31_problems.jsonl.gz"
    return {p["task_id"].split(".")[0]: p for p in stdio(str(path)) if p["task_id"].startswith((SQUARE, LUNTIK, EQUAL))}


@pytest.fixture(scope="module")
def ex():
    with Executor(CONFIG) as executor:
        yield executor


def _check(ex: Executor, problems: dict[str, dict], language: str, programs: dict[str, tuple[str, str]],
           n_tests: int | None = None) -> None:
    """Each correct program passes every hidden test; each wrong one fails some, on exactly the tests
    its Python twin fails."""
    jobs, twins = [], []
    for name, pair in programs.items():
        tests = problems[name]["tests"][:n_tests]
        jobs.append(Job((language, name), list(pair), tests, language=language))
        twins.append(Job(("python", name), list(PYTHON[name]), tests))
    got = dict(ex.run_many(jobs + twins))
    for name in programs:
        m, twin = got[(language, name)], got[("python", name)]
        assert m.passed[0].all(), f"{language} {name}: {m.status_names()[0]} {m.details}"
        assert twin.passed[0].all() and not twin.passed[1].all()
        assert (m.passed[1] == twin.passed[1]).all(), f"{language} {name}: {m.status_names()[1]} vs {twin.status_names()[1]}"
        assert set(m.statuses[1][~m.passed[1]]) == {Status.FAIL}, m.details


@needs("cpp")
def test_cpp_verdicts_match_the_hidden_tests(ex, problems):
    _check(ex, problems, "cpp", CPP)


@needs("javascript")
def test_javascript_verdicts_match_the_hidden_tests(ex, problems):
    _check(ex, problems, "javascript", JAVASCRIPT, FEW)


@needs("java")
def test_java_verdicts_match_the_hidden_tests(ex, problems):
    """The wrong program's public class is not Main: the file is named after it."""
    _check(ex, problems, "java", JAVA, FEW)


@needs("c")
def test_c_verdicts_match_the_hidden_tests(ex, problems):
    _check(ex, problems, "c", C, FEW)


@pytest.mark.slow
@needs("rust")
def test_rust_verdicts_match_the_hidden_tests(ex, problems):
    _check(ex, problems, "rust", RUST)


@pytest.mark.slow
@needs("java")
@needs("javascript")
def test_java_and_javascript_on_every_hidden_test(ex, problems):
    _check(ex, problems, "java", JAVA)
    _check(ex, problems, "javascript", JAVASCRIPT)


@pytest.mark.slow
@needs("java")
def test_java_without_a_public_class_runs_its_first_class(ex, problems):
    program = JAVA[LUNTIK][0].replace("public class Main", "class Solver")
    m = ex.run([program], problems[LUNTIK]["tests"][:FEW], language="java")
    assert m.passed.all(), m.details


# SandboxFusion's "12_B. Correct Solution?": is m the smallest shuffle of n's digits without leading zeros?
# The wrong program compares numbers, not strings, so it misses m's leading zeros.
SF_CORRECT = "12_B. Correct Solution?"
SF_CPP = tuple("#include <bits/stdc++.h>\nusing namespace std;\nint main(){string n,m;cin>>n>>m;string s=n;"
               "sort(s.begin(),s.end());size_t i=s.find_first_not_of('0');if(i!=string::npos&&i>0)swap(s[0],s[i]);"
               f"cout<<({compare}?\"OK\":\"WRONG_ANSWER\")<<\"\\n\";}}\n" for compare in ("s==m", "stoll(s)==stoll(m)"))


def _smallest(n: str) -> str:
    digits = sorted(n)
    first = next((i for i, d in enumerate(digits) if d != "0"), 0)
    digits[0], digits[first] = digits[first], digits[0]
    return "".join(digits)


@needs("cpp")
def test_sandboxfusion_contest_problem_in_cpp(ex, shared_data):
    """A SandboxFusion contest sample loaded as C++ (its file names no language: the loader's option
    does): the correct program passes all its hidden tests, the wrong one fails exactly where the
    expected output says its answer is wrong."""
    path = shared_data / "stdio" / "code_eval_code_contests.jsonl"
    record = next(p for p in stdio(str(path), language="c++") if p["meta"]["labels"]["name"] == SF_CORRECT)
    problem = Problem.from_json({**record, "candidates": list(SF_CPP)})
    assert problem.language == "cpp" and len(problem.tests) == 132
    m = ex.run(problem.candidates, problem.tests, None, language=problem.language)
    assert m.passed[0].all(), m.details
    wrong_is_right = []
    for test in problem.tests:
        n, answer = test["input"].split()
        wrong_is_right.append(("OK\n" if int(_smallest(n)) == int(answer) else "WRONG_ANSWER\n") == test["output"])
    assert m.passed[1].tolist() == wrong_is_right and not all(wrong_is_right)


def test_names_and_aliases():
    assert [canonical(n) for n in ("C++", "cxx", "JS", "node", "py", "golang", "rs", "Java")] == \
        ["cpp", "cpp", "javascript", "javascript", "python", "go", "rust", "java"]
    with pytest.raises(ValueError, match="unknown language 'cobol'"):
        canonical("cobol")
    with pytest.raises(ValueError, match="unknown language"):
        Job(None, ["x"], [], language="cobol").languages()
    problem = Problem.from_json({"task_id": "t", "prompt": "", "candidates": ["a", "b"], "language": ["C++", "JS"]})
    assert problem.languages() == ["cpp", "javascript"] and problem.to_json()["language"] == ["cpp", "javascript"]
    assert "language" not in Problem.from_json({"task_id": "t", "prompt": "", "candidates": ["a"]}).to_json()


def test_languages_lists_the_toolchains_found(ex):
    found = ex.languages()
    assert set(found) == set(LANGUAGES)
    assert found["python"].startswith("Python 3.")
    for language, version in found.items():
        if language != "python":
            assert version == ("missing" if find(language) is None else find(language).version)
            assert version != ""


@needs("cpp")
def test_compile_errors_and_python_tests(ex):
    """A compiler failure is an ERROR that quotes the compiler; a Python test cannot judge a C++
    candidate (INVALID, saying so); Python and C++ candidates share a problem (a language each)."""
    tests = [{"type": "stdio", "input": "2 3\n", "output": "5\n"}, "assert add(2, 3) == 5"]
    cpp = "#include <cstdio>\nint main(){int a,b;scanf(\"%d %d\",&a,&b);printf(\"%d\\n\",a+b);}\n"
    python = "def add(a, b):\n    return a + b\n\nif __name__ == '__main__':\n    print(add(*map(int, input().split())))\n"
    broken = "int main() { return undefined_name; }\n"
    m = ex.run([cpp, python, broken], tests, language=["c++", "python", "cpp"])
    assert m.status_names() == [["PASS", "INVALID"], ["PASS", "PASS"], ["ERROR", "INVALID"]], m.details
    assert "stdio tests only" in m.details[(0, 1)]
    assert m.details[(2, 0)].startswith("compilation failed") and "undefined_name" in m.details[(2, 0)]


@needs("cpp")
def test_same_source_in_two_languages_runs_twice(ex):
    """Dedupe is by source and language: a program that is valid C and C++ gets a row each."""
    program = "#include <stdio.h>\nint main(void){printf(\"%d\\n\", (int)sizeof('a'));return 0;}\n"
    m = ex.run([program, program], [{"type": "stdio", "input": "", "output": "1\n"}], language=["cpp", "c"])
    assert m.status_names() == [["PASS"], ["FAIL"]]  # a char literal is a char in C++, an int in C


def test_a_missing_toolchain_is_an_error_per_candidate(monkeypatch, tmp_path):
    """With no toolchain on PATH a candidate's cells are ERROR naming it, never cached (not even as the
    same text in Python), and the run goes on."""
    tests = [{"type": "stdio", "input": "", "output": "1\n"}]
    with Executor(dataclasses.replace(CONFIG, workers=1, cache_path=str(tmp_path / "cells.sqlite"))) as ex:
        assert ex.run(["print(1)"], tests).passed.all()  # cached as Python
        monkeypatch.setenv("PATH", str(tmp_path))
        find.cache_clear()
        try:
            m = ex.run(["print(1)", "print(1)"], tests, language=["cpp", "python"])
        finally:
            find.cache_clear()
        assert m.status_names() == [["ERROR"], ["PASS"]]
        assert "no cpp toolchain on this host" in m.details[(0, 0)]
        assert ex.stats == {"executed_cells": 1, "cached_cells": 1}


@needs("cpp")
def test_cached_verdicts_depend_on_the_toolchain(tmp_path):
    """The cell cache keys a compiled candidate by its toolchain's version and flags too."""
    config = dataclasses.replace(CONFIG, cache_path=str(tmp_path / "cells.sqlite"))
    program = "#include <cstdio>\nint main(){puts(\"7\");}\n"
    tests = [{"type": "stdio", "input": "", "output": "7\n"}]
    with Executor(config) as ex:
        assert ex.run([program], tests, language="cpp").passed.all()
        assert ex.run([program], tests, language="cpp").passed.all()
        assert ex.stats == {"executed_cells": 1, "cached_cells": 1}
        ex.run([program], tests, language="c")  # same text, another toolchain: not the cached cell
        assert ex.stats == {"executed_cells": 2, "cached_cells": 1}


# -- every surface reads the language from the data ---------------------------------------------------


def _problem_line(problems: dict[str, dict], task_id: str, candidates: list[str], language, n_tests: int) -> str:
    return json.dumps({"task_id": task_id, "prompt": "", "entry_point": None, "candidates": candidates,
                       "tests": problems[LUNTIK]["tests"][:n_tests], "language": language})


@needs("cpp")
def test_score_and_execute_read_the_language_from_the_problems(problems, tmp_path):
    """`coderm score`/`execute` take a problem-level name (an alias too) or one per candidate."""
    path = tmp_path / "problems.jsonl"
    path.write_text(_problem_line(problems, "one", list(CPP[LUNTIK]), "C++", 6) + "\n"
                    + _problem_line(problems, "each", [PYTHON[LUNTIK][1], CPP[LUNTIK][0]], ["python", "cpp"], 6) + "\n")
    r = coderm("score", "--problems", path, "--out", "scores.jsonl", "--aggregator", "passrate", "--workers", "2",
               "--no-cache", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    one, each = [json.loads(line) for line in (tmp_path / "scores.jsonl").read_text().splitlines()]
    assert one["scores"][0] == 1.0 > one["scores"][1] and one["best"] == 0
    assert each["scores"][1] == 1.0 > each["scores"][0] and each["best"] == 1
    r = coderm("execute", "--problems", path, "--out", "matrix.jsonl", "--workers", "2", "--no-cache", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    rows = [json.loads(line)["statuses"] for line in (tmp_path / "matrix.jsonl").read_text().splitlines()]
    assert rows[0][0] == ["PASS"] * 6 and rows[1][1] == ["PASS"] * 6 and "FAIL" in rows[1][0]


def test_an_unknown_language_is_bad_input(problems, tmp_path):
    path = tmp_path / "problems.jsonl"
    path.write_text(_problem_line(problems, "bad", ["int main(){}"], "cobol", 1) + "\n")
    r = coderm("score", "--problems", path, "--out", "scores.jsonl", "--no-cache", cwd=tmp_path)
    assert r.returncode == 2 and "unknown language 'cobol'" in r.stderr
    assert not (tmp_path / "scores.jsonl").exists()
    with pytest.raises(ValidationError, match="has 2 entries for 1 candidates"):
        Problem.from_json({"task_id": "t", "prompt": "", "candidates": ["x"], "language": ["cpp", "c"]})


@needs("cpp")
def test_rewards_read_the_language_from_the_ground_truth(problems):
    """RL ground truth carries a `language` key; a fenced ```cpp block is the code; TRL's column overrides."""
    truth = {"tests": problems[LUNTIK]["tests"][:6], "language": "cpp"}
    right, wrong = (f"Reasoning first.\n```cpp\n{code}```\n" for code in CPP[LUNTIK])
    rf = RewardFunction(load_config("reward").with_overrides(workers=2, cache=None))
    assert rf([right, wrong], tests=[truth, truth]) == [1.0, 0.0]
    python_truth = {"tests": truth["tests"]}
    trl = TrlReward(rf)
    assert trl(completions=[right, f"```python\n{PYTHON[LUNTIK][0]}```"], tests=[python_truth] * 2,
               language=["c++", None]) == [1.0, 1.0]
    with pytest.raises(GroundTruthError, match="unknown language"):
        rf([right], tests=[{**truth, "language": "cobol"}])
