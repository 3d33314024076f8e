"""An encoder branch (a task's own fine-tuned top layers) served from the shared e5 pass:
what it was trained on is what it serves, the sentiment and offensive judgements do not move,
and no post costs a second encoder pass."""

from __future__ import annotations

import numpy as np
import pytest

from classifiers.e5.branch import BranchSpec
from classifiers.e5.classifier import MultiTaskModel
from classifiers.registry import BUNDLED_DIR
from classifiers.training.train_branch import BranchHyper, BranchStates, FittedBranch

LABELLED = [
    ("Paket seit zwei Wochen nicht da, Sendungsverfolgung zeigt nichts.", "complaint"),
    ("Dritte Rechnung mit falschem Betrag, niemand ruft zurück.", "complaint"),
    ("Zug wieder ausgefallen, Anschluss verpasst, Erstattung abgelehnt.", "complaint"),
    ("Router blinkt rot seit gestern, kein Internet in der Wohnung.", "complaint"),
    ("Danke für die schnelle Hilfe am Schalter, sehr freundlich!", "praise"),
    ("Super Service heute, Problem in fünf Minuten gelöst.", "praise"),
    ("Tolles Team in der Filiale, gerne wieder.", "praise"),
    ("Die neue App ist richtig gut geworden, Kompliment!", "praise"),
]
UNSEEN = [
    "Großartig, Paket zum dritten Mal nicht zugestellt 👏 Danke DHL",
    "Hat mein Problem in 10 Minuten gelöst, nicht schlecht!",
]


@pytest.fixture(scope="module")
def model() -> MultiTaskModel:
    """Its own copy of the bundled model: a branch added here must not reach other tests."""
    return MultiTaskModel.load(BUNDLED_DIR / "e5-multitask")


@pytest.fixture(scope="module")
def fitted(model: MultiTaskModel) -> tuple[BranchStates, FittedBranch]:
    texts, labels = zip(*LABELLED, strict=True)
    states = BranchStates(model, [*texts, *UNSEEN], BranchSpec(start=10, rank=4, alpha=8))
    branch = states.fit(np.arange(len(texts)), list(labels), BranchHyper(epochs=2))
    return states, branch


def test_a_served_branch_sees_what_it_was_trained_to_see(
    model: MultiTaskModel, fitted: tuple[BranchStates, FittedBranch]
) -> None:
    states, branch = fitted
    sentiment_before = model.probabilities(UNSEEN, "sentiment")
    passes = model.encoder_passes
    model.ensure_branch("category", branch.spec, branch.adapter)
    served = model.pooled(UNSEEN, "category").numpy()
    np.testing.assert_allclose(served, states.embed(branch, UNSEEN), atol=1e-5)
    assert not np.allclose(served, model.pooled(UNSEEN).numpy(), atol=1e-3)
    assert model.encoder_passes == passes + 1  # the branch needed its states once, not twice
    np.testing.assert_allclose(
        model.probabilities(UNSEEN, "sentiment"), sentiment_before, atol=1e-6
    )


def test_new_posts_get_the_shared_embedding_and_the_branch_from_one_pass(
    model: MultiTaskModel, fitted: tuple[BranchStates, FittedBranch]
) -> None:
    _, branch = fitted
    model.ensure_branch("category", branch.spec, branch.adapter)
    posts = ["Hotline seit einer Stunde in der Warteschleife, was soll das?"]
    passes = model.encoder_passes
    model.probabilities(posts, "sentiment")
    model.pooled(posts, "category")
    model.probabilities(posts, "offensive")
    assert model.encoder_passes == passes + 1


def test_asking_for_a_branch_the_model_does_not_have_names_it(model: MultiTaskModel) -> None:
    with pytest.raises(KeyError, match="no branch 'ironie'"):
        model.pooled(UNSEEN, "ironie")
