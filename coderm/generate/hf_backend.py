"""Local generation with transformers: batched ``generate`` with ``n`` samples per prompt."""
from __future__ import annotations

from coderm.generate.backends import Completion, PromptResult, encode_fitting
from coderm.generate.config import GeneratorConfig, GeneratorError
from coderm.generate.prompts import PromptRequest


class HFBackend:
    def __init__(self, config: GeneratorConfig):
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as err:
            raise GeneratorError("backend 'hf' needs torch and transformers: pip install 'coderm[hf]'") from err
        self.torch, self.config = torch, config
        dtype = config.dtype if config.dtype == "auto" else getattr(torch, config.dtype, None)
        if dtype is None:
            raise GeneratorError(f"generator.dtype: unknown torch dtype {config.dtype!r}")
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(config.model)
            self.model = AutoModelForCausalLM.from_pretrained(config.model, dtype=dtype)
        except (OSError, ValueError) as err:
            raise GeneratorError(f"cannot load model {config.model!r} with transformers: {err}") from err
        self.device = config.device if config.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
        self.model.to(self.device).eval()
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        eos = self.model.generation_config.eos_token_id
        if eos is None:
            eos = self.tokenizer.eos_token_id
        self.eos = set(eos if isinstance(eos, list) else [eos])
        self.limit = getattr(self.model.config, "max_position_embeddings", None)

    def generate(self, requests: list[PromptRequest]) -> list[PromptResult]:
        self.torch.manual_seed(self.config.seed)
        results, todo = encode_fitting(requests, self.tokenizer, self.limit)
        size = self.config.batch_size
        for start in range(0, len(todo), size):
            batch = todo[start:start + size]
            try:
                outs = self._generate_batch([ids for _, ids in batch])
            except RuntimeError as err:  # e.g. out of memory: this batch fails, the others go on
                outs = [PromptResult(error=f"generation_failed: {err}") for _ in batch]
            for (i, _), out in zip(batch, outs):
                results[i] = out
        return results  # type: ignore[return-value]

    def _generate_batch(self, prompts: list[list[int]]) -> list[PromptResult]:
        config, torch = self.config, self.torch
        padded = self.tokenizer.pad({"input_ids": prompts}, return_tensors="pt").to(self.device)
        width = padded["input_ids"].shape[1]
        max_new = config.max_tokens if not self.limit else min(config.max_tokens, self.limit - width)
        sample = config.temperature > 0
        n = config.n if sample else 1  # greedy decoding gives one distinct sample
        extra = {"temperature": config.temperature, "top_p": config.top_p} if sample else {}
        with torch.no_grad():
            out = self.model.generate(**padded, do_sample=sample, max_new_tokens=max_new, num_return_sequences=n,
                                      pad_token_id=self.tokenizer.pad_token_id, **extra)
        generated = out[:, width:].tolist()
        results = []
        for p in range(len(prompts)):
            completions = []
            for row in generated[p * n:(p + 1) * n]:
                stop = next((k for k, tok in enumerate(row) if tok in self.eos), None)
                tokens = row if stop is None else row[:stop]
                completions.append(Completion(self.tokenizer.decode(tokens, skip_special_tokens=True), len(tokens),
                                              "length" if stop is None else "stop"))
            results.append(PromptResult(completions))
        return results
