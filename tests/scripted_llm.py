"""A loopback OpenAI-compatible chat server whose replies a test scripts: ``reply(prompt) -> text``.
Every prompt it receives is kept in ``prompts``, so a test can count the model calls exactly."""
from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Iterator


class ScriptedServer:
    def __init__(self, reply: Callable[[str], str]) -> None:
        self.reply = reply
        self.prompts: list[str] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                prompt = body["messages"][-1]["content"]
                with server.lock:
                    server.prompts.append(prompt)
                data = json.dumps({"choices": [{"message": {"role": "assistant", "content": server.reply(prompt)},
                                                "finish_reason": "stop"}],
                                   "usage": {"completion_tokens": 1}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/v1"

    def model(self, **extra: object) -> dict:
        """The ``select.model`` settings that point at this server."""
        return {"backend": "openai", "model": "scripted", "base_url": self.url, "temperature": 0, "max_retries": 0,
                "timeout": 30, **extra}

    def asked(self, marker: str) -> list[str]:
        """The prompts received that contain ``marker``."""
        return [p for p in self.prompts if marker in p]


@contextmanager
def scripted_server(reply: Callable[[str], str]) -> Iterator[ScriptedServer]:
    server = ScriptedServer(reply)
    thread = threading.Thread(target=server.http.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.http.shutdown()
        server.http.server_close()
        thread.join()
