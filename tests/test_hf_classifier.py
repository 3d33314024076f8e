"""Hugging Face models through the registry, offline, with a tiny BERT built on the spot.

The tiny model's judgements are random; what users rely on is that its labels land on the
right canonical labels, shapes and probabilities are right, and bad models fail clearly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import BertConfig, BertForSequenceClassification, PreTrainedTokenizerFast

from classifiers.base import ModelLoadError
from classifiers.registry import load_classifier
from classifiers.textnorm import normalise

WORDS = ["zug", "bahn", "super", "mist", "danke", "idiot", "@user", "url", "!", "."]
TEXTS = ["Zug fällt aus, Mist!", "Danke, super Bahn.", "", "Idiot " * 2_000]


def save_tiny_bert(directory: Path, id2label: dict[int, str]) -> Path:
    """A 2-layer, 16-wide BERT with a word-level tokenizer, saved like a fine-tuned model."""
    vocab = {tok: i for i, tok in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", *WORDS])}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        do_lower_case=True,
    )
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=512,
        id2label=id2label,
        label2id={v: k for k, v in id2label.items()},
    )
    BertForSequenceClassification(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def raw_probabilities(directory: Path, texts: list[str]) -> np.ndarray:
    """What the saved model itself says, in its own label order."""
    tokenizer = PreTrainedTokenizerFast.from_pretrained(directory)
    model = BertForSequenceClassification.from_pretrained(directory).eval()
    encoded = tokenizer(
        [normalise(t) for t in texts],
        truncation=True,
        max_length=256,
        padding=True,
        return_tensors="pt",
    )
    with torch.inference_mode():
        return torch.softmax(model(**encoded).logits, dim=-1).numpy()


def test_sentiment_labels_are_mapped_by_name_not_position(tmp_path: Path) -> None:
    save_tiny_bert(tmp_path, {0: "POSITIVE", 1: "Negative", 2: "neutral"})
    classifier = load_classifier(str(tmp_path), "sentiment")
    assert classifier.labels == ("negative", "neutral", "positive")
    probs = classifier.predict_proba(TEXTS)
    assert probs.shape == (len(TEXTS), 3)
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    raw = raw_probabilities(tmp_path, TEXTS)
    assert np.allclose(probs, raw[:, [1, 2, 0]], atol=1e-5)
    prediction = classifier.predict(["Danke!"])[0]
    assert set(prediction.scores) == {"negative", "neutral", "positive"}
    assert prediction.model_version.startswith("hf:") and str(tmp_path) in prediction.model_version


def test_offensive_subtypes_add_up_to_offensive(tmp_path: Path) -> None:
    save_tiny_bert(tmp_path, {0: "OTHER", 1: "INSULT", 2: "ABUSE", 3: "PROFANITY"})
    classifier = load_classifier(str(tmp_path), "offensive")
    probs = classifier.predict_proba(TEXTS)
    raw = raw_probabilities(tmp_path, TEXTS)
    assert np.allclose(probs[:, 0], raw[:, 0], atol=1e-5)
    assert np.allclose(probs[:, 1], raw[:, 1:].sum(axis=1), atol=1e-5)
    assert [p.label for p in classifier.predict(TEXTS)] == [
        ("other", "offensive")[int(row.argmax())] for row in probs
    ]


def test_more_texts_than_one_batch(tmp_path: Path) -> None:
    save_tiny_bert(tmp_path, {0: "toxic", 1: "non_toxic"})
    classifier = load_classifier(str(tmp_path), "offensive")
    texts = [f"Zug {i}" for i in range(70)]
    probs = classifier.predict_proba(texts)
    assert probs.shape == (70, 2)
    assert np.allclose(probs[65], classifier.predict_proba([texts[65]])[0], atol=1e-5)
    assert classifier.predict_proba([]).shape == (0, 2)


def test_unmappable_labels_are_named(tmp_path: Path) -> None:
    save_tiny_bert(tmp_path, {0: "LABEL_0", 1: "negative", 2: "LABEL_2"})
    with pytest.raises(ModelLoadError) as error:
        load_classifier(str(tmp_path), "sentiment")
    message = str(error.value)
    assert str(tmp_path) in message
    assert "LABEL_0" in message and "LABEL_2" in message


def test_a_model_without_a_canonical_label_is_refused(tmp_path: Path) -> None:
    save_tiny_bert(tmp_path, {0: "negative", 1: "positive"})
    with pytest.raises(ModelLoadError, match=r"no score for sentiment label\(s\) \['neutral'\]"):
        load_classifier(str(tmp_path), "sentiment")


def test_a_directory_without_a_model_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("no model here")
    with pytest.raises(ModelLoadError) as error:
        load_classifier(str(tmp_path), "sentiment")
    assert str(tmp_path) in str(error.value)


def test_an_uncached_hub_model_says_it_is_not_available(tmp_path: Path) -> None:
    spec = "rufwacht-tests/no-such-model-anywhere"
    with pytest.raises(ModelLoadError) as error:
        load_classifier(spec, "sentiment")
    message = str(error.value)
    assert spec in message
    # Offline: "...not in the local Hugging Face cache, and it cannot be downloaded";
    # with a network the hub answers that there is no such repository.
    assert "cannot be downloaded" in message or "Hugging Face hub" in message
