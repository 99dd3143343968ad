"""Backend requests without a model: the vLLM request built against a stand-in ``vllm`` module (injected
only at the import boundary), the OpenAI request/response shapes, and the missing-package message."""
import gzip
import json
import sys
import types

import pytest
from test_generate_prompts import CODERM_HUMANEVAL_0, sections

from coderm.cli import main
from coderm.generate import GeneratorConfig, GeneratorError, build_request, generate_tests
from coderm.generate.openai_backend import parse_response, request_body
from coderm.generate.prompts import encode

tokenizers = pytest.importorskip("tokenizers")
transformers = pytest.importorskip("transformers")

ADD = {"task_id": "t/add", "prompt": "def add(a, b):\n    \"\"\"Return a + b.\"\"\"\n", "entry_point": "add",
       "candidates": ["def add(a, b):\n    return a + b\n"]}
MUL = {"task_id": "t/mul", "prompt": "def mul(a, b):\n    \"\"\"Return a * b.\"\"\"\n", "entry_point": "mul",
       "candidates": []}
LONG = {"task_id": "t/long", "prompt": "def add(a, b):\n    \"\"\"" + "word " * 400 + "\"\"\"\n", "entry_point": "add"}


@pytest.fixture(scope="module")
def tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator([ADD["prompt"], MUL["prompt"], "import unittest"] * 10,
                            trainers.BpeTrainer(vocab_size=300, special_tokens=["<s>", "</s>", "<|user|>"],
                                                initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    fast = transformers.PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>")
    fast.chat_template = "{% for m in messages %}<|user|>{{ m['content'] }}{% endfor %}{% if add_generation_prompt %}</s>{% endif %}"
    return fast


class FakeVLLM(types.ModuleType):
    """Stands in for the vllm package: records what our backend asks of it and answers with canned text."""

    def __init__(self, tokenizer, max_model_len):
        super().__init__("vllm")
        self.engines, self.calls = [], []
        fake = self

        class SamplingParams:
            def __init__(self, **kwargs):
                self.kwargs = kwargs

        class LLM:
            def __init__(self, **kwargs):
                fake.engines.append(kwargs)
                self.llm_engine = types.SimpleNamespace(model_config=types.SimpleNamespace(max_model_len=max_model_len))

            def get_tokenizer(self):
                return tokenizer

            def generate(self, prompts, params, use_tqdm=True):
                fake.calls.append((prompts, params))
                answer = "```python\nclass T(unittest.TestCase):\n    def test_a(self):\n        self.assertEqual(add(1, 2), 3)\n```"
                out = types.SimpleNamespace
                return [out(outputs=[out(text=answer, token_ids=[1] * 7, finish_reason="stop")] * params.kwargs["n"])
                        for _ in prompts]

        self.LLM, self.SamplingParams = LLM, SamplingParams


def test_vllm_one_generate_call_with_chat_templated_token_ids(tokenizer, monkeypatch):
    fake = FakeVLLM(tokenizer, max_model_len=1024)
    monkeypatch.setitem(sys.modules, "vllm", fake)
    config = {"backend": "vllm", "model": "KAKA22/CodeRM-8B", "n": 4, "temperature": 0.8, "top_p": 0.95,
              "max_tokens": 512, "seed": 7, "tensor_parallel_size": 2, "max_model_len": 1024}
    out = generate_tests([ADD, MUL, LONG], config)
    assert fake.engines == [{"model": "KAKA22/CodeRM-8B", "tensor_parallel_size": 2, "enable_prefix_caching": True,
                             "seed": 7, "dtype": "auto", "max_model_len": 1024}]
    assert len(fake.calls) == 1
    prompts, params = fake.calls[0]
    assert params.kwargs == {"n": 4, "temperature": 0.8, "top_p": 0.95, "max_tokens": 512, "seed": 7}
    cfg = GeneratorConfig.from_dict(config)
    expected = [encode(build_request(p, cfg), tokenizer) for p in (ADD, MUL)]
    assert prompts == [{"prompt_token_ids": ids} for ids in expected]  # LONG overflowed and was not sent
    assert tokenizer.decode(expected[0]).startswith("<|user|>") and tokenizer.decode(expected[0]).endswith("</s>")
    assert len(out["t/add"]) == 1 and out["t/mul"] == [] and out["t/long"] == []
    assert out.report.drops == {"context_overflow": 1, "no_entry_point": 4}
    assert out.report.completion_tokens == 8 * 7


def test_cli_coderm_8b_preset_sends_the_coderm_benchmark_message(tokenizer, monkeypatch, shared_data, tmp_path, capsys):
    """`coderm generate-tests --config coderm-8b` on HumanEval/0, shown the code CodeRM's benchmark shows: vLLM
    gets that benchmark's user message through the model's chat template, with the paper's sampling."""
    fake = FakeVLLM(tokenizer, max_model_len=4096)
    monkeypatch.setitem(sys.modules, "vllm", fake)
    with gzip.open(shared_data / "humaneval" / "HumanEval.jsonl.gz", "rt") as f:
        he0 = json.loads(next(f))
    problem = {**{k: he0[k] for k in ("task_id", "prompt", "entry_point")},
               "candidates": [sections(CODERM_HUMANEVAL_0)["code"]]}
    (tmp_path / "p.jsonl").write_text(json.dumps(problem) + "\n")
    assert main(["generate-tests", "--problems", str(tmp_path / "p.jsonl"), "--out", str(tmp_path / "o.jsonl"),
                 "--config", "coderm-8b", "--no-cache"]) == 0
    assert fake.engines[0]["model"] == "KAKA22/CodeRM-8B"
    (prompts, params), = fake.calls
    assert params.kwargs == {"n": 100, "temperature": 0.8, "top_p": 0.95, "max_tokens": 2048, "seed": 0}
    sent = tokenizer.decode(prompts[0]["prompt_token_ids"])
    assert sent == tokenizer.apply_chat_template([{"role": "user", "content": CODERM_HUMANEVAL_0}], tokenize=False,
                                                 add_generation_prompt=True)
    assert sections(sent.removeprefix("<|user|>").removesuffix("</s>")) == sections(CODERM_HUMANEVAL_0)
    # the stand-in answers with a test of `add`, which is not the function under test: every reply is dropped, and said so
    assert json.loads((tmp_path / "o.jsonl").read_text())["tests"] == []
    assert "replies dropped 100/100 (no_entry_point=100)" in capsys.readouterr().err


def test_vllm_missing_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", None)  # import vllm -> ImportError
    with pytest.raises(GeneratorError, match="pip install 'coderm\\[vllm\\]'"):
        generate_tests([ADD], {"backend": "vllm"})


def test_openai_request_body_and_response_parsing():
    config = GeneratorConfig.from_dict({"backend": "openai", "model": "served", "n": 5, "max_tokens": 64})
    path, body = request_body(build_request(ADD, config), config)
    assert path == "/chat/completions" and body["n"] == 5 and body["messages"][0]["role"] == "user"
    assert "### code solution" in body["messages"][0]["content"]
    codet = GeneratorConfig.from_dict({"backend": "openai", "prompt": "codet"})
    path, body = request_body(build_request(ADD, codet), codet)
    assert path == "/completions" and body["prompt"].endswith("assert")
    completions = parse_response({"choices": [{"message": {"content": "x"}, "finish_reason": "length"},
                                              {"message": {"content": None}}], "usage": {"completion_tokens": 5}})
    assert [(c.text, c.n_tokens, c.truncated) for c in completions] == [("x", 3, True), ("", 2, False)]
