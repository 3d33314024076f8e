"""Train, cross-validate and bundle the triage model (`classifiers/bundled/triage/`).

    python -m classifiers.training.train_triage [--check tests/data/triage_check.jsonl ...]

Everything is chosen on `classifiers/training/data/triage_train.jsonl` alone, by
leave-one-writer-out cross-validation: each writer's posts are predicted by a model trained on
the other writers' posts, because a model has to carry to people who write differently, not
to more posts by the same writer. Chosen: the regularisation, the weight of the embedding
against the signal features, the threat sample weight, the n-gram head's regularisation and
its share of the category. The chosen settings are refitted on every training row. The
held-out check sets are measured once, on the saved bundle as the product loads it, only to
report their figures in the model card; nothing is chosen on them.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from safetensors.numpy import save_file
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score

from classifiers.evaluation import TriageCase, evaluate_triage, read_triage_cases
from classifiers.ngram import Featuriser, FeaturiserConfig
from classifiers.registry import load_classifier
from classifiers.triage import (
    BUNDLED_DIR,
    CARD_FILE,
    CATEGORY_RESPONSES,
    CATEGORY_TEAMS,
    FORMAT,
    SIGNAL_FEATURES,
    THREAT_RULE_CONFIDENCE,
    WEIGHTS_FILE,
    WORDS_PARAMS,
    LinearSoftmax,
    NgramHead,
    Triage,
    TriageModel,
    TriageSignals,
    gather_signals,
    ngram_tfidf,
    signal_features,
)
from classifiers.troll import TrollScorer

SEED = 20240
VERSION = "triage-2.0"
ENCODER = "e5-sentiment"
"""The bundled e5 model whose pooled embedding (shared by its sentiment and offensive heads)
the triage model reads; the signals come from the configured models, by default these heads."""
ROOT = Path(__file__).resolve().parents[2]
TRAIN_FILE = ROOT / "classifiers" / "training" / "data" / "triage_train.jsonl"
CS = (0.03, 0.1, 0.3, 1.0, 3.0)
EMBEDDING_WEIGHTS = (0.0, 0.5, 1.0, 2.0)
"""How much a standardised embedding dimension counts against a signal feature (0: signals
only). Folded into the exported scale, so serving does not know about it."""
THREAT_WEIGHTS = (1.0, 2.0)
HEADS = ("category", "team", "response")
WORDS_FEATURISER = FeaturiserConfig(char_min_n=3, char_max_n=5, char_bits=18, word_bits=17)
WORDS_CS = (3.0, 10.0, 30.0, 100.0)
WORDS_WEIGHTS = (0.0, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9)
"""The n-gram head's share of the category probabilities (0: the feature head alone)."""


@dataclass(frozen=True)
class Grid:
    """The settings tried out of writer; the defaults made the bundle."""

    cs: tuple[float, ...] = CS
    embedding_weights: tuple[float, ...] = EMBEDDING_WEIGHTS
    threat_weights: tuple[float, ...] = THREAT_WEIGHTS
    words_cs: tuple[float, ...] = WORDS_CS
    words_weights: tuple[float, ...] = WORDS_WEIGHTS


SMOKE_GRID = Grid((0.3, 1.0), (0.5, 1.0), (2.0,), (10.0,), (0.0, 0.5))
"""A notebook's smoke run (`SAMPLE=200`): every stage once, in seconds instead of minutes."""


@dataclass(frozen=True)
class Setting:
    c: float
    embedding_weight: float
    threat_weight: float = 1.0
    """Sample weight of threats in the category head: a missed threat costs more than a
    false alarm, which a person dismisses in seconds."""


@dataclass(frozen=True)
class WordsSetting:
    c: float
    weight: float


@dataclass(frozen=True)
class Inputs:
    """The training rows as the model sees them."""

    cases: list[TriageCase]
    signals: list[TriageSignals]
    embeddings: np.ndarray
    features: np.ndarray
    """Embedding and signal features side by side, as `TriageModel.features` builds them."""
    counts: sp.csr_matrix
    """Hashed n-gram counts of the texts, as the n-gram head's featuriser makes them."""
    writers: np.ndarray
    """Who wrote each row (`triage-a-0001`: a); the cross-validation groups."""

    def folds(self) -> list[tuple[np.ndarray, np.ndarray]]:
        return writer_folds(self.writers)


def writer_folds(writers: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Leave one writer out: (rows of the others, rows of the writer), per writer."""
    return [
        (np.flatnonzero(writers != w), np.flatnonzero(writers == w)) for w in sorted(set(writers))
    ]


def build_inputs(cases: Sequence[TriageCase], writers: Sequence[str]) -> Inputs:
    """Signals, embeddings and n-gram counts of the training rows."""
    texts = [c.text for c in cases]
    signals = case_signals(cases)
    embeddings = load_classifier(ENCODER, "sentiment").model.pooled(texts).numpy()  # type: ignore[attr-defined]
    rows = np.stack([signal_features(s)[0] for s in signals])
    counts = Featuriser(WORDS_FEATURISER).counts(texts)
    features = np.hstack([embeddings, rows])
    return Inputs(list(cases), signals, embeddings, features, counts, np.array(writers))


def case_signals(cases: Sequence[TriageCase]) -> list[TriageSignals]:
    """Runs the default sentiment and offensive models, the troll and spam rules."""
    texts = [c.text for c in cases]
    sentiment = load_classifier(ENCODER, "sentiment")
    offensive = load_classifier("e5-offensive", "offensive")
    authors, histories = [c.author for c in cases], [c.history for c in cases]
    offensives = offensive.predict(texts)
    trolls = TrollScorer(offensive).score(
        texts, authors, histories, [p.scores["offensive"] for p in offensives]
    )
    return gather_signals(texts, authors, histories, sentiment.predict(texts), offensives, trolls)


def targets(cases: Sequence[TriageCase], head: str) -> tuple[np.ndarray, list[str]]:
    """Row indices a head learns from and their labels."""
    if head == "category":
        pairs = [(i, c.category) for i, c in enumerate(cases)]
    elif head == "team":
        teams = enumerate(cases)
        # Team labels from the queue name a category only: no team to learn from.
        pairs = [
            (i, str(c.escalate_to))
            for i, c in teams
            if c.category in CATEGORY_TEAMS and c.escalate_to is not None
        ]
    else:
        pairs = [
            (i, c.action)
            for i, c in enumerate(cases)
            if c.action in CATEGORY_RESPONSES.get(c.category, ())
        ]
    return np.array([i for i, _ in pairs]), [label for _, label in pairs]


def fit_head(features: np.ndarray, labels: Sequence[str], setting: Setting) -> LinearSoftmax:
    """Standardise, weight the embedding, fit a multinomial regression; export for numpy."""
    n_embedding = features.shape[1] - len(SIGNAL_FEATURES)
    mean = features.mean(axis=0)
    scale = features.std(axis=0) + 1e-6
    scale[:n_embedding] /= max(setting.embedding_weight, 1e-6)
    z = (features - mean) / scale
    if setting.embedding_weight == 0:
        z[:, :n_embedding] = 0
    weights = {"threat": setting.threat_weight} if "threat" in labels else None
    model = LogisticRegression(
        C=setting.c, max_iter=5000, random_state=SEED, class_weight=weights
    ).fit(z, labels)
    weight, bias = model.coef_, model.intercept_
    if len(model.classes_) == 2:  # scikit-learn keeps one row for two classes
        weight, bias = np.vstack([-weight / 2, weight / 2]), np.array([-bias[0] / 2, bias[0] / 2])
    if setting.embedding_weight == 0:
        weight[:, :n_embedding] = 0
    return LinearSoftmax(
        tuple(str(c) for c in model.classes_),
        *(a.astype(np.float32) for a in (mean, scale, weight, bias)),
    )


def fit_words(counts: sp.csr_matrix, labels: Sequence[str], c: float) -> NgramHead:
    """The n-gram head: idf over the buckets these rows use, then a multinomial regression."""
    buckets = np.unique(counts.indices)
    document_frequency = np.bincount(
        np.searchsorted(buckets, counts.indices), minlength=len(buckets)
    )
    idf = np.log((1 + counts.shape[0]) / (1 + document_frequency)) + 1
    tfidf = ngram_tfidf(counts, buckets, idf)
    model = LogisticRegression(C=c, max_iter=5000, random_state=SEED).fit(tfidf, labels)
    return NgramHead(
        tuple(str(c) for c in model.classes_),
        Featuriser(WORDS_FEATURISER),
        buckets.astype(np.int64),
        idf.astype(np.float32),
        np.ascontiguousarray(model.coef_.T, dtype=np.float32),
        model.intercept_.astype(np.float32),
    )


def fit_model(
    inputs: Inputs,
    rows: np.ndarray,
    settings: dict[str, Setting],
    words: WordsSetting,
    version: str = VERSION,
) -> TriageModel:
    """All heads on the given rows; embeddings are looked up, not recomputed."""
    heads = {}
    for head in HEADS:
        index, labels = targets([inputs.cases[i] for i in rows], head)
        heads[head] = fit_head(inputs.features[rows][index], labels, settings[head])
    categories = [inputs.cases[i].category for i in rows]
    words_head = fit_words(inputs.counts[rows], categories, words.c)
    lookup = {s.text: e for s, e in zip(inputs.signals, inputs.embeddings, strict=True)}
    embed = lambda texts: np.stack([lookup[t] for t in texts])  # noqa: E731
    return TriageModel(heads, words_head, words.weight, embed, version)


def out_of_writer(
    inputs: Inputs, settings: dict[str, Setting], words: WordsSetting
) -> dict[str, Any]:
    """Every training row triaged by a model that never saw its writer, measured like the
    check set, in all and per writer."""
    triages: list[Any] = [None] * len(inputs.cases)
    for train, test in inputs.folds():
        model = fit_model(inputs, train, settings, words)
        for i, t in zip(test, model.triage([inputs.signals[i] for i in test]), strict=True):
            triages[i] = t
    figures = {"all": evaluate_triage(inputs.cases, triages)}
    for writer in sorted(set(inputs.writers)):
        rows = np.flatnonzero(inputs.writers == writer)
        picked = [inputs.cases[i] for i in rows], [triages[i] for i in rows]
        figures[writer] = evaluate_triage(*picked)
    return figures


def choose(
    inputs: Inputs, head: str, grid: Grid | None = None
) -> tuple[Setting, list[dict[str, Any]]]:
    """The setting with the best out-of-writer score for one head (macro-F1, or accuracy)."""
    index, labels = targets(inputs.cases, head)
    x, y = inputs.features[index], np.array(labels)
    table = []
    grid = grid or Grid()
    threat_weights = grid.threat_weights if head == "category" else (1.0,)
    for c, w, t in product(grid.cs, grid.embedding_weights, threat_weights):
        setting = Setting(c, w, t)
        said = np.empty(len(y), dtype=object)
        for train, test in writer_folds(inputs.writers[index]):
            head_model = fit_head(x[train], y[train], setting)
            said[test] = np.array(head_model.labels)[head_model.proba(x[test]).argmax(axis=1)]
        table.append({**vars(setting), "score": _score(head, y, said)})
    best = max(table, key=lambda row: row["score"])
    return Setting(best["c"], best["embedding_weight"], best["threat_weight"]), table


def choose_words(
    inputs: Inputs, category: Setting, grid: Grid | None = None
) -> tuple[WordsSetting, list[dict[str, Any]]]:
    """The n-gram head's regularisation and share, by out-of-writer category macro-F1 of the
    mixed probabilities (the feature head fixed at its chosen setting)."""
    y = np.array([c.category for c in inputs.cases])
    features_proba = np.zeros((len(y), len(set(y))))
    for train, test in inputs.folds():
        head = fit_head(inputs.features[train], y[train], category)
        features_proba[test] = head.proba(inputs.features[test])
    labels = np.array(head.labels)
    table = []
    grid = grid or Grid()
    for c in grid.words_cs:
        words_proba = np.zeros_like(features_proba)
        for train, test in inputs.folds():
            words_proba[test] = fit_words(inputs.counts[train], y[train], c).proba_counts(
                inputs.counts[test]
            )
        for weight in grid.words_weights:
            mixed = (1 - weight) * features_proba + weight * words_proba
            said = labels[mixed.argmax(axis=1)]
            table.append({"c": c, "weight": weight, "score": _score("category", y, said)})
    best = max(table, key=lambda row: row["score"])
    return WordsSetting(best["c"], best["weight"]), table


def _score(head: str, truth: np.ndarray, said: np.ndarray) -> float:
    if head == "category":
        return round(float(f1_score(truth, said, average="macro")), 4)
    return round(float(accuracy_score(truth, said)), 4)


def save_bundle(model: TriageModel, directory: Path, config: dict[str, Any]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    heads = {"category": model.category, "team": model.team, "response": model.response}
    arrays = {
        f"{name}.{param}": np.ascontiguousarray(getattr(head, param), dtype=np.float32)
        for name, head in heads.items()
        for param in ("mean", "scale", "weight", "bias")
    }
    arrays |= {f"words.{p}": np.ascontiguousarray(getattr(model.words, p)) for p in WORDS_PARAMS}
    save_file(arrays, str(directory / WEIGHTS_FILE))
    config["heads"] = {name: list(head.labels) for name, head in heads.items()}
    (directory / "config.json").write_text(json.dumps(config, indent=2) + "\n", "utf-8")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=BUNDLED_DIR)
    parser.add_argument(
        "--check",
        type=Path,
        action="append",
        default=[],
        help="a held-out check set, measured once for the model card (repeatable)",
    )
    args = parser.parse_args(argv)
    config = train(args.out, args.check)
    print(json.dumps(config["eval"], indent=1))


def training_rows(path: Path = TRAIN_FILE) -> tuple[list[TriageCase], list[str]]:
    """The labelled posts and who wrote each (`triage-a-0001`: writer a)."""
    lines = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]
    return read_triage_cases(path), [str(row["id"]).split("-")[1] for row in lines]


def train(
    out: Path,
    checks: Sequence[Path] = (),
    rows: tuple[Sequence[TriageCase], Sequence[str]] | None = None,
    version: str = VERSION,
    check_limit: int | None = None,
    grid: Grid | None = None,
) -> dict[str, Any]:
    """Choose every setting out of writer, refit on all rows, save the bundle in `out`,
    measure it once on each check set (its first `check_limit` posts), write the card;
    the config. `rows`: cases and writers (default `training_rows()`); a notebook adds
    the team's labelled posts as one more writer."""
    began = time.perf_counter()
    cases, writers = rows if rows is not None else training_rows()
    inputs = build_inputs(cases, writers)
    chosen, tables = {}, {}
    for head in HEADS:
        chosen[head], tables[head] = choose(inputs, head, grid)
        print(f"{head}: {chosen[head]}", flush=True)
    words, tables["words"] = choose_words(inputs, chosen["category"], grid)
    print(f"words: {words}", flush=True)
    held_out = out_of_writer(inputs, chosen, words)
    model = fit_model(inputs, np.arange(len(inputs.cases)), chosen, words, version)
    config = {
        "format": FORMAT,
        "model_version": version,
        "encoder": ENCODER,
        "encoder_version": load_classifier(ENCODER, "sentiment").model_version,
        "signal_features": list(SIGNAL_FEATURES),
        "words": {"featuriser": asdict(WORDS_FEATURISER), "weight": words.weight},
        "seed": SEED,
        "settings": {**{h: vars(s) for h, s in chosen.items()}, "words": vars(words)},
        "eval": {"out_of_writer": headline(held_out["all"])},
    }
    save_bundle(model, out, config)
    measured = {path: measure_check(out, path, check_limit) for path in checks}
    for path, figures in measured.items():
        config["eval"][f"check {path.name}"] = headline(figures)
    save_bundle(model, out, config)
    card = model_card(config, tables, held_out, measured, time.perf_counter() - began)
    (out / CARD_FILE).write_text(card, "utf-8")
    return config


def headline(figures: dict[str, Any]) -> dict[str, Any]:
    """The acceptance figures, for config.json and `rufwacht models list`."""
    per = figures["per_category"]
    return {
        "n": figures["n"],
        "category_accuracy": figures["category_accuracy"],
        "category_macro_f1": figures["category_macro_f1"],
        "action_accuracy": figures["action_accuracy"],
        "troll_f1": per["troll"]["f1"],
        "threat_recall": per["threat"]["recall"],
    }


def measure_check(directory: Path, path: Path, limit: int | None = None) -> dict[str, Any]:
    """The saved bundle on the check set (its first `limit` posts)."""
    cases = read_triage_cases(path)[:limit]
    return evaluate_triage(cases, triage_cases(directory, cases))


def triage_cases(directory: Path, cases: Sequence[TriageCase]) -> list[Triage]:
    """The saved bundle's triage of labelled posts, with signals computed as the product
    does."""
    return TriageModel.load(directory).triage(case_signals(cases))


def model_card(
    config: dict[str, Any],
    tables: dict[str, list[dict[str, Any]]],
    held_out: dict[str, dict[str, Any]],
    checks: dict[Path, dict[str, Any]],
    seconds: float,
) -> str:
    """MODEL_CARD.md: data, method, how settings were chosen, figures, limits."""
    settings = config["settings"]
    writers = [w for w in held_out if w != "all"]
    lines = [
        f"# triage ({config['model_version']})",
        "",
        "Sorts German brand posts into complaint, question, praise, troll, threat, crisis, "
        "irrelevant or spam, and proposes the next action (reply, reply_private, escalate with "
        "a team, ignore_troll, monitor, none), each with German reasons and a confidence. "
        "Code: `classifiers/triage.py`.",
        "",
        "## Training data",
        "",
        f"`classifiers/training/data/triage_train.jsonl`: {held_out['all']['n']} German posts "
        f"(X and Reddit, about twenty brands) written and labelled by {len(writers)} of our "
        f"writers (ids {', '.join(f'`triage-{w}-*`' for w in writers)}), each given only the "
        "label definitions. Every setting was chosen on these rows alone.",
        "",
        "## Method",
        "",
        f"- Inputs: the {config['encoder']} encoder's mean-pooled 384-d embedding (the pass "
        "the sentiment and offensive heads already make), the configured sentiment and "
        "offensive models, the troll score and threat flag, the spam rule, author signals "
        "(account age, posts per day, followers), history (brand posts, near-duplicates, "
        "already answered) and German cues (questions, safety, data leaks, outages of many, "
        "ultimatums, press, defamation, disruption, boycott, contempt, insinuation, personal "
        "data such as order, tracking, customer, contract and IBAN numbers, phone, e-mail, "
        f"address): {len(SIGNAL_FEATURES)} signal features.",
        "- Three multinomial logistic regressions (scikit-learn, lbfgs) over the standardised "
        "features, exported to numpy: category; team for threats and crises (restricted to "
        "legal/pr/security and safety/product/security); response for complaints, questions "
        "and trolls (reply/reply_private/monitor, or ignore_troll/reply/monitor).",
        "- An n-gram head for the category: hashed character (3–5) and word (1–2) n-grams, "
        "TF-IDF over the buckets the training posts use, a multinomial regression; its "
        f"probabilities are mixed into the category's with weight {settings['words']['weight']}.",
        "- Rules the team's policy sets: a troll-scorer threat, intimidation, a call to "
        "paralyse the service or a lawsuit against staff personally makes a threat; personal "
        "data in a complaint or question means reply_private; an author who already has an "
        "answer is monitored; praise, irrelevant posts and spam need no action.",
        "",
        "## Settings and how they were chosen",
        "",
        "Leave-one-writer-out cross-validation on the training rows: each writer's posts are "
        "predicted by heads trained on the other writers', since the model must carry to "
        "people who write differently. Category by macro-F1, team and response by accuracy. "
        "Grid: C × embedding weight (how much a standardised embedding dimension counts "
        "against a signal feature) × threat sample weight (category only); then the n-gram "
        "head's C × its share of the category.",
        "",
        "| head | C | embedding weight | threat weight | out-of-writer score |",
        "|---|---|---|---|---|",
    ]
    for head in HEADS:
        best, chosen = max(tables[head], key=lambda row: row["score"]), settings[head]
        lines.append(
            f"| {head} | {chosen['c']} | {chosen['embedding_weight']} | "
            f"{chosen['threat_weight']} | {best['score']} |"
        )
    words = settings["words"]
    alone = max((r for r in tables["words"] if r["weight"] == 0), key=lambda r: r["score"])
    best_words = max(tables["words"], key=lambda row: row["score"])
    lines += [
        "",
        f"n-gram head: C {words['c']}, share {words['weight']}: category macro-F1 "
        f"{best_words['score']} out of writer, against {alone['score']} for the feature head "
        "alone.",
        "",
        "## Figures",
        "",
        "Measured by `classifiers.evaluation.evaluate_triage`, the function `rufwacht eval "
        "--task triage` prints.",
        "",
        "### Every training post, predicted without its writer",
        "",
        *_figures(held_out["all"]),
    ]
    for writer in writers:
        lines += [f"### Trained on the other writers, measured on writer {writer}", ""]
        lines += _figures(held_out[writer])
    for path, figures in checks.items():
        lines += [
            f"### Held-out check set `{path.name}` (measured once)",
            "",
            "Written apart from the training rows by a writer who saw only the label "
            "definitions; never trained or tuned on.",
            "",
            *_figures(figures),
        ]
    lines += [
        "## Intended use and limitations",
        "",
        "- For triaging German social-media posts for a human team, not for automated "
        "decisions about people.",
        "- The writers wrote from the same label definitions; real posts are messier. The "
        "threat and personal-data rules were written while reading the first writers' "
        "posts, so their figures on those writers are optimistic.",
        "- The signals come from the configured sentiment and offensive models; the model "
        f"was trained with the defaults (`{config['encoder']}`, `e5-offensive`) and other "
        "models shift its inputs.",
        "- `already_answered` must come from the caller; the monitor's own history does not "
        "yet record whether the team answered.",
        "- Confidence is the mixed probability (for an action, times the category's); a "
        f"rule-made threat reports {THREAT_RULE_CONFIDENCE}. Probabilities are not calibrated.",
        "",
        f"Training took {seconds:.0f} s on the CPU. Reproduce: `python -m "
        "classifiers.training.train_triage --check tests/data/triage_check.jsonl "
        "--check tests/data/triage_check_2.jsonl`.",
        "",
    ]
    return "\n".join(lines)


def _figures(figures: dict[str, Any]) -> list[str]:
    per = figures["per_category"]
    lines = [
        f"n = {figures['n']}: category accuracy {figures['category_accuracy']}, macro-F1 "
        f"{figures['category_macro_f1']}; action accuracy {figures['action_accuracy']}, "
        f"escalation team accuracy {figures['escalation_team_accuracy']}.",
        "",
        "| category | precision | recall | F1 | support |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {c} | {p['precision']} | {p['recall']} | {p['f1']} | {p['support']} |"
        for c, p in per.items()
    ]
    matrix = figures["confusion_matrix"]
    lines += ["", "Confusion (rows: truth, columns: prediction):", ""]
    lines += ["| | " + " | ".join(matrix["labels"]) + " |"]
    lines += ["|---" * (len(matrix["labels"]) + 1) + "|"]
    lines += [
        f"| {label} | " + " | ".join(map(str, row)) + " |"
        for label, row in zip(matrix["labels"], matrix["rows"], strict=True)
    ]
    return [*lines, ""]


if __name__ == "__main__":
    main()
