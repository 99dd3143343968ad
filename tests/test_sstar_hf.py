"""S* with a model through the transformers backend: a tiny random-init Llama with a tokenizer trained
here, loaded by path. Its replies are noise, so this checks the plumbing and the call counts (one debug
call for the one failing program, two judge calls per compared pair), and that noise decides nothing."""
from __future__ import annotations

import inspect
import unittest

import pytest

import coderm

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")

CHAT_TEMPLATE = ("{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}\n{% endfor %}"
                 "{% if add_generation_prompt %}<|assistant|>\n{% endif %}")
RIGHT = ["def f(x):\n    return x * x\n", "def f(x):\n    return x ** 2\n"]
CANDIDATES = ["def f(x):\n    return x + 2\n", RIGHT[0], "def f(x):\n    return 2 * x\n", RIGHT[1],
              "def f(x):\n    return 0\n"]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    path = tmp_path_factory.mktemp("tiny-judge")
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=500, special_tokens=["<s>", "</s>", "<pad>", "<|user|>", "<|assistant|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(inspect.getsource(unittest.case).splitlines()[:400] + CANDIDATES * 10, trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>")
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.save_pretrained(path)
    config = transformers.LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64,
                                      num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=2,
                                      max_position_embeddings=4096, bos_token_id=tokenizer.bos_token_id,
                                      eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(0)
    transformers.LlamaForCausalLM(config).save_pretrained(path)
    return str(path)


def test_debug_rounds_and_swapped_judging_through_a_local_transformers_model(tiny_model):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny model is slower on several threads of a shared machine
    try:
        model = {"backend": "hf", "model": tiny_model, "max_tokens": 8, "temperature": 0, "device": "cpu",
                 "dtype": "float32"}
        r = coderm.rerank({"task_id": "square", "prompt": "def f(x):\n    \"\"\"The square of x.\"\"\"\n",
                           "entry_point": "f", "candidates": CANDIDATES, "tests": ["assert f(2) == 4"]},
                          aggregator="passrate", select={"method": "sstar", "judge": "model", "max_pairs": 2,
                                                         "debug_rounds": 1, "model": model})
    finally:
        torch.set_num_threads(threads)
    assert r.debug["llm_calls"] == {"debug": 1}  # only `return 0` fails the public test
    why = r.selection
    assert sorted(map(sorted, why["clusters"])) == [[0], [1, 3], [2]]
    assert why["llm_calls"] == {"judge": 4} and len(why["pairs"]) == 2  # two pairs, each asked A/B and B/A
    for pair in why["pairs"]:
        assert len(pair["verdicts"]) == 2
        consistent = pair["verdicts"] in (["A", "B"], ["B", "A"])
        assert (pair["winner"] is not None) == consistent  # only a consistent verdict decides a pair
    assert r.best in (0, 1, 2, 3) and r.scores[4] < min(r.scores[:4])
