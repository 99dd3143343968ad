"""Unit-test generation: prompts, backends (vLLM, transformers, OpenAI-compatible HTTP), extraction.

    from coderm.generate import generate_tests
    tests = generate_tests(problems, {"backend": "hf", "model": "path/to/model", "n": 10})
    tests["HumanEval/0"]          # extracted, validated, deduplicated test code strings
    tests.report.summary()        # prompts/s, tokens/s, extraction yield, drops by reason
"""
from coderm.generate.config import GeneratorConfig, GeneratorError
from coderm.generate.extract import Extraction, extract_tests
from coderm.generate.prompts import PromptRequest, build_request, choose_candidate
from coderm.generate.run import GeneratedTests, GenerationReport, Provenance, generate_tests

__all__ = [
    "Extraction", "GeneratedTests", "GenerationReport", "GeneratorConfig", "GeneratorError", "PromptRequest",
    "Provenance", "build_request", "choose_candidate", "extract_tests", "generate_tests",
]
