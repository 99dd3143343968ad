"""The hf and openai backends end to end on a tiny Llama built here: a tokenizer trained on the fly,
a random-init model briefly fitted to answer the coderm-8b ``add`` prompt with a unittest class, loaded
by path (hf) and served over loopback HTTP in the OpenAI chat/completions protocol (openai)."""
import gzip
import inspect
import json
import socket
import threading
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")

from coderm.cli import main  # noqa: E402
from coderm.generate import GeneratorConfig, GeneratorError, build_request, generate_tests  # noqa: E402
from coderm.generate.prompts import CODERM_8B_CLOSING, CODERM_8B_INSTRUCTION, encode, render  # noqa: E402
from coderm.generate.run import make_backend  # noqa: E402

CHAT_TEMPLATE = ("{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}\n{% endfor %}"
                 "{% if add_generation_prompt %}<|assistant|>\n{% endif %}")
ANSWER = ("```python\nimport unittest\nfrom solution import add\n\nclass TestAdd(unittest.TestCase):\n"
          "    def test_small(self):\n        self.assertEqual(add(1, 2), 3)\n```")
ADD = {"task_id": "t/add", "prompt": "def add(a, b):\n    \"\"\"Return a + b.\"\"\"\n", "entry_point": "add",
       "candidates": ["def add(a, b):\n    return a + b\n", "def add(a, b):\n    return a - b\n"]}
MUL = {"task_id": "t/mul", "prompt": "def mul(a, b):\n    \"\"\"Return a * b.\"\"\"\n", "entry_point": "mul",
       "candidates": ["def mul(a, b):\n    return a * b\n"]}
STDIO = {"task_id": "t/io", "prompt": "Read two ints, print their sum.", "entry_point": None,
         "candidates": ["print(sum(map(int, input().split())))"]}
HUGE = {"task_id": "t/huge", "prompt": "def add(a, b):\n    \"\"\"" + "add numbers " * 1500 + "\"\"\"\n",
        "entry_point": "add", "candidates": []}
MAX_POS = 1024


def _train_tokenizer(path):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    lines = inspect.getsource(unittest.case).splitlines()[:600] + ANSWER.splitlines() * 20
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=600, special_tokens=["<s>", "</s>", "<pad>", "<|user|>", "<|assistant|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(lines, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>")
    fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(path)
    return fast


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """A tiny model is slower on several threads of a shared machine than on one."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def tiny_model(one_torch_thread, tmp_path_factory):
    """Path of a saved tiny Llama that (mostly) answers the ``add`` prompt with ANSWER."""
    path = tmp_path_factory.mktemp("tiny-llama")
    tokenizer = _train_tokenizer(path)
    config = transformers.LlamaConfig(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128,
                                      num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=4,
                                      max_position_embeddings=MAX_POS, bos_token_id=tokenizer.bos_token_id,
                                      eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(0)
    model = transformers.LlamaForCausalLM(config)
    prompt = encode(build_request(ADD, GeneratorConfig(backend="hf", prompt="coderm-8b")), tokenizer)
    answer = tokenizer(ANSWER, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    ids = torch.tensor([prompt + answer])
    labels = torch.tensor([[-100] * len(prompt) + answer])
    optim = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(100):
        loss = model(input_ids=ids, labels=labels).loss
        optim.zero_grad()
        loss.backward()
        optim.step()
    model.save_pretrained(path)
    return str(path)


def hf_config(model, **over):
    return {"backend": "hf", "model": model, "n": 3, "temperature": 0.7, "max_tokens": 80, "seed": 0, **over}


def test_hf_backend_end_to_end(tiny_model, tmp_path):
    out = generate_tests([ADD, MUL, STDIO, HUGE], hf_config(tiny_model), cache_dir=str(tmp_path / "cache"))
    report = out.report
    print(report.summary())
    assert set(out) == {"t/add", "t/mul", "t/io", "t/huge"}
    assert out["t/add"], report.summary()
    assert out["t/io"] == [] and out["t/huge"] == []
    assert report.drops["no_entry_point_problem"] == 1 and report.drops["context_overflow"] == 1
    assert report.prompts_generated == 3 and report.prompts_failed == 1 and report.completions == 6
    assert report.completions == report.completions_with_tests + sum(
        v for k, v in report.drops.items() if k in ("no_code", "syntax", "no_test", "no_entry_point"))
    assert report.completion_tokens > 0 and report.tokens_per_s > 0
    for test in out["t/add"]:
        assert "from solution" not in test and "add(" in test
        compile(test, "<t>", "exec")
    prov = out.provenance["t/add"]
    assert len(prov) == len(out["t/add"]) and prov[0].model == tiny_model and 0 <= prov[0].sample_index < 3

    again = generate_tests([ADD, MUL, STDIO, HUGE], hf_config(tiny_model), cache_dir=str(tmp_path / "cache"))
    assert again.report.prompts_cached == 2 and again.report.prompts_generated == 1  # the overflow is retried
    assert again == out


def test_hf_backend_runs_the_coderm_8b_prompt_on_humaneval(tiny_model, shared_data):
    """HumanEval/0 through the transformers backend: the model's own chat template around CodeRM's message,
    n samples, every reply either extracted or counted as dropped by reason."""
    with gzip.open(shared_data / "humaneval" / "HumanEval.jsonl.gz", "rt") as f:
        problem = {**json.loads(next(f)), "candidates": []}
    config = hf_config(tiny_model, prompt="coderm-8b", n=2, max_tokens=40)
    backend = make_backend(GeneratorConfig.from_dict(config))
    seen = render(build_request(problem, GeneratorConfig.from_dict(config)), backend.tokenizer)
    assert seen.startswith(f"<|user|>\n{CODERM_8B_INSTRUCTION}\n\n### question\nWrite a function named `has_close_elements`.")
    assert seen.endswith(f"{CODERM_8B_CLOSING}\n\n<|assistant|>\n") and "<|system|>" not in seen
    out = generate_tests([problem], config, backend=backend)
    report = out.report
    assert report.prompts_generated == 1 and report.completions == 2 and report.completion_tokens > 0
    assert report.completions_with_tests + report.replies_dropped == 2
    assert f"replies dropped {report.replies_dropped}/2" in report.summary()


def test_hf_missing_model_path_is_a_clear_error(tmp_path):
    with pytest.raises(GeneratorError, match="cannot load model"):
        generate_tests([ADD], hf_config(str(tmp_path / "no-such-model")))


class _Server:
    """An OpenAI-compatible server on loopback around the tiny model; ``fail_first`` requests get 503."""

    def __init__(self, model_path, fail_first=0):
        self.tokenizer = transformers.AutoTokenizer.from_pretrained(model_path)
        self.model = transformers.AutoModelForCausalLM.from_pretrained(model_path).eval()
        self.lock = threading.Lock()
        self.fail_first, self.requests = fail_first, []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append((self.path, body))
                status, payload = server.answer(self.path, body, len(server.requests))
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def answer(self, path, body, count):
        if count <= self.fail_first:
            return 503, {"error": {"message": "overloaded"}}
        chat = path == "/v1/chat/completions"
        if path not in ("/v1/chat/completions", "/v1/completions"):
            return 404, {"error": {"message": "not found"}}
        text = (self.tokenizer.apply_chat_template(body["messages"], tokenize=False, add_generation_prompt=True)
                if chat else body["prompt"])
        ids = self.tokenizer(text, add_special_tokens=not chat, return_tensors="pt")["input_ids"]
        if ids.shape[1] >= MAX_POS:
            return 400, {"error": {"message": f"This model's maximum context length is {MAX_POS} tokens."}}
        with self.lock, torch.no_grad():
            torch.manual_seed(body.get("seed", 0))
            out = self.model.generate(ids, do_sample=True, temperature=body["temperature"], top_p=body["top_p"],
                                      max_new_tokens=body["max_tokens"], num_return_sequences=body["n"],
                                      pad_token_id=self.tokenizer.pad_token_id)
        choices, used = [], 0
        for k, row in enumerate(out[:, ids.shape[1]:].tolist()):
            stop = row.index(self.tokenizer.eos_token_id) if self.tokenizer.eos_token_id in row else None
            tokens = row if stop is None else row[:stop]
            used += len(tokens)
            content = self.tokenizer.decode(tokens, skip_special_tokens=True)
            choices.append({"index": k, "finish_reason": "length" if stop is None else "stop",
                            **({"message": {"role": "assistant", "content": content}} if chat else {"text": content})})
        return 200, {"object": "chat.completion" if chat else "text_completion", "choices": choices,
                     "usage": {"completion_tokens": used}}

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(tiny_model):
    s = _Server(tiny_model, fail_first=1)
    yield s
    s.close()


def openai_config(base_url, **over):
    return {"backend": "openai", "model": "tiny", "base_url": base_url, "n": 3, "temperature": 0.7,
            "max_tokens": 80, "concurrency": 2, "max_retries": 2, "backoff": 0.01, "timeout": 60, **over}


def test_openai_backend_end_to_end_with_retry_and_overflow(server):
    out = generate_tests([ADD, MUL, HUGE], openai_config(server.base_url))
    report = out.report
    print(report.summary())
    assert out["t/add"], report.summary()
    assert report.completions == 6 and report.drops["context_overflow"] == 1 and report.prompts_failed == 1
    assert report.completion_tokens > 0
    assert all(path == "/v1/chat/completions" and body["n"] == 3 for path, body in server.requests)
    assert len(server.requests) == 4  # three prompts, one retried after the 503


def test_openai_codet_prompt_uses_completions_endpoint(server):
    out = generate_tests([ADD], openai_config(server.base_url, prompt="codet", split=True))
    path, body = server.requests[-1]
    assert path == "/v1/completions" and body["prompt"].endswith("# check the correctness of add\nassert")
    assert out.report.completions == 3


def test_unreachable_server_is_a_counted_drop():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = generate_tests([ADD, MUL, STDIO, HUGE], openai_config(f"http://127.0.0.1:{port}/v1", max_retries=3,
                                                                   backoff=0.5, concurrency=1))
    assert out == {"t/add": [], "t/mul": [], "t/io": [], "t/huge": []}
    assert out.report.drops["unreachable"] == 3 and out.report.prompts_failed == 3
    assert out.report.seconds < 3.5 + 1.0  # one prompt backs off 0.5+1+2 s; the others fail at once


def test_cli_writes_tests_and_reruns_from_cache(tiny_model, tmp_path, capsys):
    problems = tmp_path / "problems.jsonl"
    given = {**MUL, "task_id": "t/given", "tests": ["assert mul(2, 3) == 6"]}
    problems.write_text("".join(json.dumps(p) + "\n" for p in (ADD, given, STDIO)))
    config = tmp_path / "gen.yaml"
    config.write_text(yaml.safe_dump({"generator": hf_config(tiny_model)}))
    out = tmp_path / "out.jsonl"
    args = ["generate-tests", "--problems", str(problems), "--out", str(out), "--config", str(config),
            "--cache-dir", str(tmp_path / "cache")]
    assert main(args) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["task_id"] for r in rows] == ["t/add", "t/given", "t/io"]
    assert rows[0]["tests"] and len(rows[0]["meta"]["generated_tests"]) == len(rows[0]["tests"])
    assert rows[1]["tests"] == given["tests"] and rows[2]["tests"] == []
    assert "tokens/s" in capsys.readouterr().err

    # Rerun against a dead server: everything comes from the cache, nothing is regenerated.
    config.write_text(yaml.safe_dump({"generator": {**hf_config(tiny_model), "backend": "openai",
                                                    "base_url": "http://127.0.0.1:9/v1", "max_retries": 0}}))
    out2 = tmp_path / "out2.jsonl"
    assert main(args[:4] + [str(out2)] + args[5:]) == 0
    assert out2.read_text() == out.read_text()
    assert "1 cached" in capsys.readouterr().err


def test_cli_bad_input_exit_codes(tmp_path, capsys):
    problems = tmp_path / "p.jsonl"
    problems.write_text(json.dumps(ADD) + "\n{not json\n")
    config = tmp_path / "c.yaml"
    config.write_text("generator:\n  backend: hf\n  n: 0\n")
    base = ["generate-tests", "--problems", str(problems), "--out", str(tmp_path / "o.jsonl"), "--config", str(config)]
    assert main(base) == 2
    assert "p.jsonl:2" in capsys.readouterr().err
    problems.write_text(json.dumps(ADD) + "\n")
    assert main(base + ["--no-cache"]) == 2
    assert "generator.n" in capsys.readouterr().err
    config.write_text("generator:\n  backend: openai\n  base_url: http://127.0.0.1:9/v1\n  max_retries: 0\n")
    assert main(base + ["--no-cache"]) == 1
    assert "unreachable" in capsys.readouterr().err


def test_generated_tests_run_in_the_executor(tiny_model):
    """The path past generation: extracted tests go into the sandboxed executor and separate the candidates."""
    from executor import Executor, ExecutorConfig, Status

    out = generate_tests([ADD], hf_config(tiny_model))
    assert out["t/add"]
    with Executor(ExecutorConfig(workers=1, timeout=5.0, cache_path=None)) as ex:
        matrix = ex.run(ADD["candidates"], out["t/add"], entry_point="add")
    assert (matrix.statuses[0] == Status.PASS).all()   # a + b
    assert (matrix.statuses[1] == Status.FAIL).all()   # a - b


def test_silent_server_times_out_per_prompt_without_marking_it_down():
    with socket.socket() as s:  # accepts connections (backlog) but never answers
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        config = openai_config(f"http://127.0.0.1:{s.getsockname()[1]}/v1", max_retries=0, timeout=0.3, concurrency=2)
        out = generate_tests([ADD, MUL], config)
    assert out.report.drops == {"timeout": 2}
