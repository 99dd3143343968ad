"""Offline vLLM: one ``LLM.generate`` call for all prompts of a run, so the engine schedules them together."""
from __future__ import annotations

from coderm.generate.backends import Completion, PromptResult, encode_fitting
from coderm.generate.config import GeneratorConfig, GeneratorError
from coderm.generate.prompts import PromptRequest

MISSING = ("backend 'vllm' needs the vllm package on a CUDA machine: pip install 'coderm[vllm]' "
           "(or use backend: hf for local transformers, backend: openai for a served model)")


def engine_kwargs(config: GeneratorConfig) -> dict:
    """Arguments of ``vllm.LLM``; optional limits are passed only when set, so vLLM's defaults apply."""
    kwargs = {"model": config.model, "tensor_parallel_size": config.tensor_parallel_size,
              "enable_prefix_caching": config.enable_prefix_caching, "seed": config.seed, "dtype": config.dtype}
    if config.gpu_memory_utilization is not None:
        kwargs["gpu_memory_utilization"] = config.gpu_memory_utilization
    if config.max_model_len is not None:
        kwargs["max_model_len"] = config.max_model_len
    return kwargs


class VLLMBackend:
    def __init__(self, config: GeneratorConfig):
        try:
            import vllm
        except ImportError as err:
            raise GeneratorError(MISSING) from err
        self.vllm, self.config = vllm, config
        try:
            self.llm = vllm.LLM(**engine_kwargs(config))
        except (OSError, ValueError) as err:
            raise GeneratorError(f"vLLM cannot load model {config.model!r}: {err}") from err
        self.tokenizer = self.llm.get_tokenizer()

    def max_model_len(self) -> int | None:
        try:
            return int(self.llm.llm_engine.model_config.max_model_len)
        except (AttributeError, TypeError):
            return self.config.max_model_len

    def generate(self, requests: list[PromptRequest]) -> list[PromptResult]:
        results, todo = encode_fitting(requests, self.tokenizer, self.max_model_len())
        if todo:
            params = self.vllm.SamplingParams(**self.config.sampling())
            outputs = self.llm.generate([{"prompt_token_ids": ids} for _, ids in todo], params, use_tqdm=False)
            for (i, _), output in zip(todo, outputs):
                results[i] = PromptResult([Completion(o.text, len(o.token_ids), o.finish_reason or "stop")
                                           for o in output.outputs])
        return results  # type: ignore[return-value]
