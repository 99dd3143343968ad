"""Generation throughput of the hf backend: one prompt per generate call (baseline) vs batched (ours).

Builds a tiny random Llama and a tokenizer trained on the fly (no downloads), runs the same prompts
through HFBackend with batch_size=1 and batch_size=B, and prints prompts/s, tokens/s and the ratio.
Usage: python scripts/bench_generate.py [--prompts 16] [--batch 8] [--n 4] [--max-tokens 32] [--model PATH]
"""
from __future__ import annotations

import argparse
import inspect
import tempfile
import time
import unittest


def tiny_model(path: str) -> str:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(inspect.getsource(unittest.case).splitlines(),
                            trainers.BpeTrainer(vocab_size=600, special_tokens=["<s>", "</s>", "<pad>"],
                                                initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>")
    fast.chat_template = "{% for m in messages %}{{ m['content'] }}{% endfor %}"
    fast.save_pretrained(path)
    config = LlamaConfig(vocab_size=len(fast), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=2048,
                         eos_token_id=fast.eos_token_id, pad_token_id=fast.pad_token_id)
    LlamaForCausalLM(config).save_pretrained(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=16)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--n", type=int, default=4)
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--model", help="a local model directory (default: a tiny random Llama)")
    args = parser.parse_args()

    from coderm.generate import GeneratorConfig, build_request
    from coderm.generate.hf_backend import HFBackend

    with tempfile.TemporaryDirectory() as tmp:
        model = args.model or tiny_model(tmp)
        problems = [{"task_id": f"p{i}", "prompt": f"def f{i}(x):\n    \"\"\"Return x plus {i}.\"\"\"\n",
                     "entry_point": f"f{i}", "candidates": [f"def f{i}(x):\n    return x + {i}\n"]}
                    for i in range(args.prompts)]
        rates = {}
        for label, batch in (("baseline batch=1", 1), (f"ours batch={args.batch}", args.batch)):
            config = GeneratorConfig.from_dict({"backend": "hf", "model": model, "n": args.n,
                                                "max_tokens": args.max_tokens, "batch_size": batch})
            backend = HFBackend(config)
            requests = [build_request(p, config) for p in problems]
            start = time.perf_counter()
            results = backend.generate(requests)
            seconds = time.perf_counter() - start
            tokens = sum(c.n_tokens for r in results for c in r.completions)
            rates[label] = len(requests) / seconds
            print(f"{label:>20}: {len(requests) / seconds:7.2f} prompts/s  {tokens / seconds:9.1f} tokens/s  ({seconds:.2f}s)")
        base, ours = rates.values()
        print(f"ratio (ours / baseline, prompts/s): {ours / base:.2f}x")


if __name__ == "__main__":
    main()
