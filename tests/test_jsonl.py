import gzip
import json
import os

import pytest

from coderm.jsonl import ResumableOutput, ResumeError, dumps, read_json_lines, read_problems, write_atomic
from coderm.model import ValidationError


def problem(task_id: str) -> dict:
    return {"task_id": task_id, "prompt": "", "entry_point": "f", "candidates": ["def f(): return 1"]}


def write_lines(path, lines: list[bytes]) -> None:
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(b"\n".join(lines) + b"\n")


@pytest.mark.parametrize("name", ["p.jsonl", "p.jsonl.gz"])
def test_reads_plain_and_gzip_alike(tmp_path, name):
    path = tmp_path / name
    write_lines(path, [json.dumps(problem("a")).encode(), b"", b"  ", json.dumps(problem("b")).encode()])
    got = [(n, p.task_id) for n, p in read_problems(path)]
    assert got == [(1, "a"), (4, "b")]


def test_streams_lines_before_a_later_broken_one(tmp_path):
    path = tmp_path / "p.jsonl"
    write_lines(path, [json.dumps(problem("a")).encode(), b"{broken", json.dumps(problem("c")).encode()])
    lines = read_json_lines(path)
    assert next(lines)[0] == 1  # the first line arrives without the file being parsed to the end
    with pytest.raises(ValidationError) as info:
        next(lines)
    assert (info.value.path, info.value.line) == (str(path), 2)
    assert "malformed JSON" in str(info.value) and f"{path}:2:" in str(info.value)


def test_on_error_reports_and_goes_on(tmp_path):
    path = tmp_path / "p.jsonl"
    write_lines(path, [json.dumps(problem("a")).encode(), b"\xff\xfe not utf-8", b"[1, 2",
                       json.dumps({"task_id": "x"}).encode(), json.dumps(problem("a")).encode(),
                       json.dumps(problem("b")).encode()])
    errors: list[ValidationError] = []
    got = [p.task_id for _, p in read_problems(path, errors.append)]
    assert got == ["a", "b"]
    assert [e.line for e in errors] == [2, 3, 4, 5]
    assert "not valid UTF-8" in errors[0].message
    assert errors[2].field == "prompt"
    assert "duplicate task_id" in errors[3].message


def test_missing_and_corrupt_files(tmp_path):
    with pytest.raises(ValidationError, match="no such file"):
        list(read_json_lines(tmp_path / "nope.jsonl"))
    bad = tmp_path / "bad.jsonl.gz"
    bad.write_bytes(gzip.compress(b'{"a": 1}\n' * 100)[:-30])
    with pytest.raises(ValidationError, match="cannot read file"):
        list(read_json_lines(bad))


@pytest.mark.parametrize("name", ["out.jsonl", "out.jsonl.gz"])
def test_write_atomic_replaces_whole_or_not_at_all(tmp_path, name):
    path = tmp_path / name
    assert write_atomic(path, [dumps({"i": i}) for i in range(3)]) == 3
    assert [v for _, v in read_json_lines(path)] == [{"i": 0}, {"i": 1}, {"i": 2}]

    def failing():
        yield dumps({"i": 9})
        raise RuntimeError("killed mid-write")

    with pytest.raises(RuntimeError):
        write_atomic(path, failing())
    assert [v for _, v in read_json_lines(path)] == [{"i": 0}, {"i": 1}, {"i": 2}]
    assert sorted(os.listdir(tmp_path)) == [name]  # no temp file left behind
    plain = tmp_path / "plain.txt"
    plain.write_text("")
    assert path.stat().st_mode == plain.stat().st_mode  # same permissions as a file made with open()


def test_resumable_output_continues_after_a_kill(tmp_path):
    out_path = tmp_path / "scores.jsonl"
    out = ResumableOutput(out_path, "cfg-1")
    out.write("a", {"task_id": "a", "v": 1})
    out.write("b", {"task_id": "b", "v": 2})
    out.close()  # killed here, with half a line in flight:
    with open(out.partial, "ab") as f:
        f.write(b'{"task_id": "c", "v"')
    assert not out_path.exists()

    again = ResumableOutput(out_path, "cfg-1")
    assert again.done == {"a", "b"}
    again.write("c", {"task_id": "c", "v": 3})
    again.finish(["a", "b", "c"])
    assert [v for _, v in read_json_lines(out_path)] == [{"task_id": t, "v": v} for t, v in zip("abc", (1, 2, 3))]
    assert sorted(os.listdir(tmp_path)) == ["scores.jsonl"]


def test_resumable_output_restores_input_order_and_compresses(tmp_path):
    out_path = tmp_path / "scores.jsonl.gz"
    out = ResumableOutput(out_path, "cfg")
    for t in ("b", "zombie", "a"):
        out.write(t, {"task_id": t})
    out.finish(["a", "b"])
    assert [v["task_id"] for _, v in read_json_lines(out_path)] == ["a", "b"]
    assert sorted(os.listdir(tmp_path)) == ["scores.jsonl.gz"]


def test_resumable_output_refuses_other_configuration(tmp_path):
    out = ResumableOutput(tmp_path / "s.jsonl", "cfg-1")
    out.write("a", {"task_id": "a"})
    out.close()
    with pytest.raises(ResumeError, match="different configuration"):
        ResumableOutput(tmp_path / "s.jsonl", "cfg-2")
    unfinished = ResumableOutput(tmp_path / "s.jsonl", "cfg-1")
    with pytest.raises(RuntimeError, match="no output line"):
        unfinished.finish(["a", "b"])
