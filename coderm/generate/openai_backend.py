"""Any OpenAI-compatible server (``vllm serve``, SGLang, hosted APIs) over plain HTTP.

Requests run ``concurrency`` at a time; connection errors, timeouts, 429 and 5xx are retried
with exponential backoff; other 4xx fail that prompt only (a context overflow is named as such).
Once a prompt gives up on an unreachable server, the prompts still waiting fail at once.
"""
from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from coderm.generate.backends import Completion, PromptResult
from coderm.generate.config import GeneratorConfig
from coderm.generate.prompts import PromptRequest

OVERFLOW_HINTS = ("context length", "context_length", "maximum context", "too long", "too many tokens")


def request_body(request: PromptRequest, config: GeneratorConfig) -> tuple[str, dict]:
    """Endpoint path and JSON body: chat prompts go to /chat/completions, raw text to /completions."""
    body = {"model": config.model, **config.sampling()}
    if request.chat:
        return "/chat/completions", {**body, "messages": request.messages()}
    return "/completions", {**body, "prompt": request.text}


def parse_response(data: dict) -> list[Completion]:
    """Completions of a (chat) completions response; usage tokens are spread over the choices."""
    choices = data["choices"]
    total = int((data.get("usage") or {}).get("completion_tokens") or 0)
    out = []
    for k, choice in enumerate(choices):
        text = choice["message"].get("content") if "message" in choice else choice.get("text")
        share = total // len(choices) + (1 if k < total % len(choices) else 0)
        out.append(Completion(text or "", share, choice.get("finish_reason") or "stop"))
    return out


class OpenAIBackend:
    def __init__(self, config: GeneratorConfig):
        self.config = config
        self.base_url = config.base_url.rstrip("/")
        self.api_key = os.environ.get(config.api_key_env, "")
        self.down: str | None = None  # set once a request gave up on an unreachable server

    def generate(self, requests: list[PromptRequest]) -> list[PromptResult]:
        with ThreadPoolExecutor(max_workers=self.config.concurrency) as pool:
            return list(pool.map(self._one, requests))

    def _one(self, request: PromptRequest) -> PromptResult:
        if self.down:  # do not spend retries and backoff on every prompt of a dead server
            return PromptResult(error=f"{self.down} (not retried: the server was unreachable for an earlier prompt)")
        path, body = request_body(request, self.config)
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        data = json.dumps(body).encode()
        error = ""
        for attempt in range(self.config.max_retries + 1):
            if attempt:
                time.sleep(self.config.backoff * 2 ** (attempt - 1))
            http = urllib.request.Request(self.base_url + path, data=data, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(http, timeout=self.config.timeout) as response:
                    raw = response.read()
            except urllib.error.HTTPError as err:
                detail = err.read().decode(errors="replace")[:300]
                if err.code == 429 or err.code >= 500:
                    error = f"http_{err.code}: {detail}"
                    continue
                kind = "context_overflow" if any(h in detail.lower() for h in OVERFLOW_HINTS) else "bad_request"
                return PromptResult(error=f"{kind}: HTTP {err.code} from {self.base_url + path}: {detail}")
            except (urllib.error.URLError, OSError) as err:  # refused, unreachable, timed out
                reason = getattr(err, "reason", err)
                kind = "timeout" if isinstance(reason, TimeoutError) or "timed out" in str(reason) else "unreachable"
                error = f"{kind}: {self.base_url + path}: {reason}"
                continue
            try:
                return PromptResult(parse_response(json.loads(raw)))
            except (KeyError, TypeError, ValueError, ZeroDivisionError) as err:
                return PromptResult(error=f"bad_response: {self.base_url + path}: {err!r}")
        if error.startswith("unreachable"):
            self.down = error
        return PromptResult(error=f"{error} (after {self.config.max_retries + 1} attempts)")
