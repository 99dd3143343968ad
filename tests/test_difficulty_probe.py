"""Hidden-state probe on a tiny random-init Llama with a tokenizer trained on the fly."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from difficulty import EstimatorError, load_estimator, make_estimator  # noqa: E402
from difficulty.probe import hidden_state_features  # noqa: E402

PROMPTS = [
    "def add(a, b):\n    \"\"\"Return a + b.\"\"\"\n",
    "def is_prime(n):\n    \"\"\"Return True if n is prime.\"\"\"\n",
    "def sort_words(s):\n    \"\"\"Sort the words of a string by length, then alphabetically.\"\"\"\n",
    "def fib(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n",
    "def count_vowels(s):\n    \"\"\"Count vowels in a string.\"\"\"\n",
    "def max_subarray(xs):\n    \"\"\"Largest sum of a contiguous sub-list.\"\"\"\n",
]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    path = tmp_path_factory.mktemp("tiny_llama")
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel()
    tok.train_from_iterator(PROMPTS * 4, trainers.BpeTrainer(vocab_size=200, special_tokens=["<unk>", "<s>", "</s>"]))
    fast = transformers.PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", bos_token="<s>",
                                                eos_token="</s>")
    fast.save_pretrained(path)
    torch.manual_seed(0)
    cfg = transformers.LlamaConfig(vocab_size=fast.vocab_size, hidden_size=32, intermediate_size=64,
                                   num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=4,
                                   max_position_embeddings=256)
    transformers.LlamaModel(cfg).save_pretrained(path)
    return str(path)


def problems():
    return [{"task_id": f"t/{i}", "prompt": p} for i, p in enumerate(PROMPTS)]


def test_features_layer_and_pooling(tiny_model):
    last_mean = hidden_state_features(tiny_model, PROMPTS[:2], layer=-1, pooling="mean")
    last_tok = hidden_state_features(tiny_model, PROMPTS[:2], layer=-1, pooling="last")
    emb = hidden_state_features(tiny_model, PROMPTS[:2], layer=0, pooling="mean")
    assert last_mean.shape == (2, 32)
    assert not np.allclose(last_mean, last_tok) and not np.allclose(last_mean, emb)
    with pytest.raises(EstimatorError, match="layer 7 out of range"):
        hidden_state_features(tiny_model, PROMPTS[:1], layer=7)


def test_probe_fits_soft_labels_and_round_trips(tiny_model, tmp_path):
    lam = np.array([0.9, 0.1, 0.05, 0.5, 0.8, 0.0])
    est = make_estimator("probe", model_path=tiny_model, layer=1, pooling="mean", hidden=16, epochs=400, lr=1e-2,
                         weight_decay=0.0)
    est.fit(problems(), lam)
    pred = est.predict(problems())
    assert pred.shape == (6,) and ((pred >= 0) & (pred <= 1)).all()
    assert np.abs(pred - lam).mean() < 0.1  # the MLP can fit six training points
    est.save(tmp_path / "probe.pkl")
    again = load_estimator(tmp_path / "probe.pkl")
    assert again.layer == 1 and again.pooling == "mean"
    np.testing.assert_allclose(again.predict(problems()), pred, atol=1e-6)


def test_probe_without_model_path_or_with_bad_pooling():
    with pytest.raises(EstimatorError, match="model_path"):
        make_estimator("probe").fit(problems(), [0.5] * 6)
    with pytest.raises(EstimatorError, match="pooling"):
        make_estimator("probe", model_path="x", pooling="max")
