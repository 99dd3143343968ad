"""hf ORM backend on a tiny random-init sequence-classification model saved to a temp dir."""
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")

from coderm.orm import OrmError, load_orm  # noqa: E402
from coderm.prune import PruneConfigError, build_stages, run_stages  # noqa: E402

CODE = ["def f(x):\n    return x + 1\n", "def f(x):\n    return x - 1\n", "def f(x):\n    pass\n",
        "import os\ndef f(x):\n    return sum(range(x))\n"]


def _tokenizer(path):
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel()
    tok.train_from_iterator(CODE * 5, trainers.BpeTrainer(vocab_size=300, special_tokens=["<unk>", "<pad>", "</s>"]))
    fast = transformers.PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>",
                                                eos_token="</s>")
    fast.save_pretrained(path)
    return fast


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("rm")
    tok = _tokenizer(path)
    config = transformers.LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                                      num_labels=1, pad_token_id=tok.pad_token_id)
    torch.manual_seed(0)
    transformers.LlamaForSequenceClassification(config).save_pretrained(path)
    return path


def test_scores_match_the_model_run_one_by_one(model_dir):
    orm = load_orm("hf", str(model_dir), batch_size=3)
    problem = {"candidates": CODE}
    batched = orm.score(problem, [0, 1, 2, 3])
    assert batched.shape == (4,) and np.isfinite(batched).all() and len(set(batched.round(6))) > 1
    single = np.array([orm.score(problem, [i])[0] for i in range(4)])
    np.testing.assert_allclose(batched, single, atol=1e-4)  # padding does not change a score
    assert orm.model.dtype == torch.float32  # CPU


def test_orm_stage_keeps_top_k_by_hf_scores(model_dir):
    problem = {"candidates": CODE, "entry_point": "f"}
    res = run_stages(problem, [{"stage": "orm", "backend": "hf", "path": str(model_dir), "top_k": 2}], None)
    scores = res.orm_scores
    assert sorted(res.survivors) == sorted(np.argsort(-scores)[:2].tolist())
    assert all(s == "orm" for s in res.pruned.values()) and len(res.pruned) == 2


def test_top_k_larger_than_pool_fails_before_work(model_dir):
    stage_cfg = [{"stage": "orm", "backend": "hf", "path": str(model_dir), "top_k": 10}]
    with pytest.raises(PruneConfigError, match="top_k=10 is larger than the pool of 4"):
        run_stages({"candidates": CODE, "task_id": "t"}, stage_cfg, None)


def test_not_a_sequence_classification_model(model_dir, tmp_path):
    config = json.loads((model_dir / "config.json").read_text())
    config["architectures"] = ["LlamaForCausalLM"]
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(OrmError, match="not a sequence-classification model"):
        load_orm("hf", str(tmp_path))
    with pytest.raises(PruneConfigError, match="not a Hugging Face model directory"):
        build_stages([{"stage": "orm", "backend": "hf", "path": str(tmp_path / "config.json"), "top_k": 1}])
