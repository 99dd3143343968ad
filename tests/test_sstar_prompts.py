"""The strict readers of S*'s model replies: inputs are literals or fenced stdin text, a verdict is one
line; nothing in a reply is evaluated, however it is written."""
from __future__ import annotations

from coderm.select.prompts import MAX_INPUT_CHARS, parse_inputs, parse_verdict

CALL = {"task_id": "t", "prompt": "def f(a, b=0): ...", "entry_point": "f"}
STDIN = {"task_id": "t", "prompt": "Read n, print n squared.", "entry_point": None}


def test_call_inputs_are_literal_calls_of_the_entry_point_only(tmp_path):
    marker = tmp_path / "ran"
    reply = (f"Here you go:\n```python\nf(1, (2, 3))\nf('x', b={{'k': [None, True]}})\nf(1, (2, 3))\n"
             f"f(open({str(marker)!r}, 'w').write('x'))\ng(5)\nf(*[1])\nf(2 ** 10)\nf({{1, 2}})\n```")
    assert parse_inputs(reply, CALL, 10) == [{"type": "call", "args": [1, [2, 3]]},
                                             {"type": "call", "args": ["x"], "kwargs": {"b": {"k": [None, True]}}}]
    assert not marker.exists()  # the call that would write it was dropped, not run
    assert parse_inputs("f(1)\nf(2)\nf(3)", CALL, 2) == [{"type": "call", "args": [1]}, {"type": "call", "args": [2]}]


def test_call_inputs_survive_hostile_shapes():
    assert parse_inputs("f(" + "[" * 50_000 + "]" * 50_000 + ")", CALL, 5) == []  # too deep: no input, no crash
    assert parse_inputs("```python\nf(1\n```", CALL, 5) == []  # does not parse
    assert parse_inputs(None, CALL, 5) == [] and parse_inputs("", CALL, 5) == []


def test_stdin_inputs_are_fenced_text_blocks():
    reply = ("```input\n3\n```\nthen\n```\n4\n```\n```python\nprint(5)\n```\n```text\n" + "9" * (MAX_INPUT_CHARS + 1)
             + "\n```\n```input\n3\n```")
    assert parse_inputs(reply, STDIN, 10) == [{"type": "stdio", "input": "3\n"}, {"type": "stdio", "input": "4\n"}]
    assert parse_inputs("just 3 and 4", STDIN, 10) == []  # no fence: nothing is guessed


def test_a_verdict_is_the_last_verdict_line():
    assert parse_verdict("A looks fine but...\nVERDICT: B") == "B"
    assert parse_verdict("verdict: **a**") == "A" and parse_verdict("VERDICT: A\nwait, VERDICT: B") == "B"
    assert parse_verdict("The answer is A.") is None and parse_verdict(None) is None
    assert parse_verdict("VERDICT: AB") is None
