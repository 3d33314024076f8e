"""Train, tune, evaluate and bundle the n-gram models `ngram-sentiment` and `ngram-offensive`.

    python -m classifiers.training.train_ngram --task sentiment|offensive|all [--data-dir PATH]

The data rule (shared/data/README.md): hyper-parameters and decision biases are chosen on
the task's dev file only, with the dev file held out of training; the chosen setting is then
refitted on every chosen training file including dev, and only that final model is measured,
once, on every eval file. Training texts that also occur in any eval file are dropped.
Scikit-learn fits the logistic regression; its coefficients become the torch module the
product runs, and the figures are measured on the saved files as the product loads them.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch
from scipy.special import expit, softmax
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, precision_score, recall_score
from sklearn.preprocessing import normalize
from tqdm import tqdm

from classifiers.base import TASK_LABELS
from classifiers.evaluation import evaluate, read_labelled_tsv
from classifiers.ngram import CARD_FILE, Featuriser, FeaturiserConfig, HashedLinear, NgramClassifier

SEED = 20170
DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data"
BUNDLED_DIR = Path(__file__).resolve().parents[1] / "bundled"
MAX_ITER = 2000


@dataclass(frozen=True)
class Corpus:
    """One TSV file's texts and canonical labels."""

    name: str
    texts: list[str]
    labels: list[str]


@dataclass(frozen=True)
class Candidate:
    """One hyper-parameter setting: which training files (and how much each row counts),
    which features, how regularised."""

    files: tuple[tuple[str, float], ...]
    featuriser: FeaturiserConfig
    c: float
    class_weight: str | None


@dataclass(frozen=True)
class TaskPlan:
    """What to train for a task, what to tune on, and what to measure on."""

    task: str
    name: str
    version: str
    dev_file: str
    eval_files: tuple[str, ...]
    candidates: tuple[Candidate, ...]
    # Logit offsets added to the bias: the decision rules tried for every candidate.
    offsets: tuple[tuple[float, ...], ...]
    criterion: str


@dataclass(frozen=True)
class DevResult:
    """A candidate and decision offsets with their dev figures."""

    candidate: Candidate
    offsets: tuple[float, ...]
    micro_f1: float
    macro_f1: float
    negative_recall: float | None
    score: float


def key(text: str) -> str:
    """The form in which two texts count as the same: case-folded, whitespace-collapsed."""
    return " ".join(text.casefold().split())


def _grid(
    files: Iterable[tuple[tuple[str, float], ...]],
    featurisers: Iterable[FeaturiserConfig],
    cs: Iterable[float],
    class_weights: Iterable[str | None],
) -> tuple[Candidate, ...]:
    return tuple(Candidate(*values) for values in product(files, featurisers, cs, class_weights))


def _weighted(
    full: Iterable[str], extra: Iterable[str], weight: float
) -> tuple[tuple[str, float], ...]:
    """In-domain files at full weight, the others at `weight` (left out at 0)."""
    return (*((f, 1.0) for f in full), *((f, float(weight)) for f in extra if weight > 0))


# What tuning maximises on dev: GermEval 2017's metric is micro-F1, GermEval 2018/2021's macro-F1.
CRITERIA = {"micro_f1": lambda micro, macro: micro, "macro_f1": lambda micro, macro: macro}
# The label whose probability the product thresholds to flag a post, and thresholds to report.
FLAG_LABEL = {"sentiment": "negative", "offensive": "offensive"}
FLAG_THRESHOLDS = (0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7)
CHAR_WORD = FeaturiserConfig()
# Offsets only ever favour negative or positive over neutral: tuning for micro-F1 must not
# buy accuracy by ignoring complaints (P(negative) flags them) or the rare praise.
SENTIMENT_OFFSETS = tuple(
    (float(neg), 0.0, float(pos))
    for neg in np.arange(0, 1.01, 0.25)
    for pos in np.arange(0, 1.51, 0.25)
)
BINARY_OFFSETS = tuple((float(o),) for o in np.arange(-1.5, 1.51, 0.125))
GERMEVAL_OFFENSIVE = ("germeval2018_train.tsv", "germeval2019_train.tsv", "germeval2021_train.tsv")
TWEETS = ("sb10k.tsv", "dai_tweets_agree2.tsv")

# The opening of every model card's last section.
INTENDED_USE = (
    "## Intended use and limitations",
    "",
    "- For triaging German social-media posts for a human team, not for automated decisions "
    "about people.",
)

PLANS = {
    "sentiment": TaskPlan(
        task="sentiment",
        name="ngram-sentiment",
        version="ngram-sentiment-1.0",
        dev_file="germeval2017_dev.tsv",
        eval_files=("germeval2017_test.tsv", "germeval2017_test_dia.tsv"),
        candidates=_grid(
            files=[
                _weighted(["germeval2017_train_twitter.tsv"], TWEETS, w)
                for w in (1, 0.5, 0.25, 0.1)
            ],
            featurisers=[CHAR_WORD],
            cs=[3.0, 5.0],
            class_weights=[None],
        ),
        offsets=SENTIMENT_OFFSETS,
        criterion="micro_f1",
    ),
    "offensive": TaskPlan(
        task="offensive",
        name="ngram-offensive",
        version="ngram-offensive-1.0",
        dev_file="germeval2021_dev.tsv",
        eval_files=("germeval2018_test.tsv", "germeval2021_test.tsv"),
        candidates=_grid(
            files=[_weighted(GERMEVAL_OFFENSIVE, ["cophi_hs_extra.tsv"], w) for w in (0, 0.3, 1)],
            featurisers=[CHAR_WORD],
            cs=[3.0, 10.0, 30.0],
            class_weights=[None, "balanced"],
        ),
        offsets=BINARY_OFFSETS,
        criterion="macro_f1",
    ),
}


def plan_for(
    plan: TaskPlan, version: str, extra_files: Iterable[str] = (), smoke: bool = False
) -> TaskPlan:
    """`plan` under another `model_version`, every candidate also trained on `extra_files`
    (the team's labels) at full weight; a `smoke` run (a notebook's `SAMPLE`) tunes only the
    decision offsets of the first candidate."""
    extra = tuple((name, 1.0) for name in extra_files)
    candidates = tuple(replace(c, files=(*c.files, *extra)) for c in plan.candidates)
    return replace(plan, version=version, candidates=candidates[:1] if smoke else candidates)


def read_split(data_dir: Path, task: str, split: str) -> dict[str, Corpus]:
    """Every TSV file of one task's split, by file name."""
    files = sorted((data_dir / task / split).glob("*.tsv"))
    if not files:
        raise FileNotFoundError(f"no TSV files in {data_dir / task / split}")
    return {f.name: Corpus(f.name, *read_labelled_tsv(f, task)) for f in files}


def eval_keys(data_dir: Path) -> set[str]:
    """Keys of every text in every eval file of every task: none of them may be trained on."""
    return {
        key(text)
        for task in TASK_LABELS
        if (data_dir / task / "eval").is_dir()
        for corpus in read_split(data_dir, task, "eval").values()
        for text in corpus.texts
    }


def without(corpus: Corpus, keys: set[str]) -> Corpus:
    """The corpus minus the rows whose text key is in `keys`."""
    keep = [i for i, t in enumerate(corpus.texts) if key(t) not in keys]
    return Corpus(corpus.name, [corpus.texts[i] for i in keep], [corpus.labels[i] for i in keep])


class TfidfLogReg:
    """Counts → idf (fitted on the training rows) → L2 → logistic regression, as in the module."""

    def __init__(self, labels: tuple[str, ...], c: float, class_weight: str | None) -> None:
        self.labels = labels
        self.model = LogisticRegression(
            C=c, class_weight=class_weight, max_iter=MAX_ITER, random_state=SEED
        )
        self.idf = np.ones(0, dtype=np.float32)

    def fit(
        self, counts: sp.csr_matrix, labels: list[str], sample_weight: np.ndarray
    ) -> TfidfLogReg:
        """Smooth idf as scikit-learn's TfidfTransformer computes it, then the regression."""
        df = np.bincount(counts.indices, minlength=counts.shape[1])
        self.idf = (np.log((1 + counts.shape[0]) / (1 + df)) + 1).astype(np.float32)
        y = np.array([self.labels.index(label) for label in labels])
        self.model.fit(self._tfidf(counts), y, sample_weight=sample_weight)
        return self

    def logits(self, counts: sp.csr_matrix) -> np.ndarray:
        """Decision values, one column per label (one column for two labels)."""
        scores = self.model.decision_function(self._tfidf(counts))
        return scores[:, None] if scores.ndim == 1 else scores

    def _tfidf(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        return normalize(counts @ sp.diags(self.idf), norm="l2", copy=False)

    def to_module(self, offsets: tuple[float, ...]) -> HashedLinear:
        """The fitted weights as the torch module the product runs, offsets in the bias."""
        coef = self.model.coef_
        module = HashedLinear(coef.shape[1], coef.shape[0])
        with torch.no_grad():
            module.idf.copy_(torch.from_numpy(self.idf))
            module.linear.weight.copy_(torch.from_numpy(coef.T.astype(np.float32)))
            module.bias.copy_(torch.tensor(self.model.intercept_ + np.array(offsets)))
        return module


def decide(logits: np.ndarray, offsets: tuple[float, ...]) -> np.ndarray:
    """Label indices from logits shifted by the decision offsets."""
    shifted = logits + np.array(offsets)
    if shifted.shape[1] == 1:
        return (shifted[:, 0] > 0).astype(int)
    return shifted.argmax(axis=1)


def dev_figures(
    plan: TaskPlan, candidate: Candidate, logits: np.ndarray, gold: np.ndarray
) -> list[DevResult]:
    """Dev figures of one fitted candidate under every decision offset of the plan."""
    labels = TASK_LABELS[plan.task]
    negative = labels.index("negative") if "negative" in labels else None
    results = []
    for offsets in plan.offsets:
        predicted = decide(logits, offsets)
        figures = {
            "micro_f1": f1_score(gold, predicted, average="micro"),
            "macro_f1": f1_score(gold, predicted, average="macro"),
        }
        neg_recall = (
            recall_score(gold, predicted, labels=[negative], average="macro")
            if negative is not None
            else None
        )
        results.append(
            DevResult(
                candidate,
                offsets,
                round(figures["micro_f1"], 4),
                round(figures["macro_f1"], 4),
                None if neg_recall is None else round(float(neg_recall), 4),
                CRITERIA[plan.criterion](figures["micro_f1"], figures["macro_f1"]),
            )
        )
    return results


class CountCache:
    """Hashed counts per (featuriser, corpus), computed once and shared by all candidates."""

    def __init__(self) -> None:
        self._cache: dict[tuple[FeaturiserConfig, str], sp.csr_matrix] = {}

    def get(self, config: FeaturiserConfig, corpus: Corpus) -> sp.csr_matrix:
        cache_key = (config, corpus.name)
        if cache_key not in self._cache:
            self._cache[cache_key] = Featuriser(config).counts(corpus.texts)
        return self._cache[cache_key]

    def stack(self, config: FeaturiserConfig, corpora: list[Corpus]) -> sp.csr_matrix:
        return sp.vstack([self.get(config, c) for c in corpora], format="csr")


def fit_candidate(
    labels: tuple[str, ...], candidate: Candidate, corpora: dict[str, Corpus], cache: CountCache
) -> TfidfLogReg:
    """Fit one setting on its files, each row weighted by its file's weight."""
    parts = [(corpora[name], weight) for name, weight in candidate.files]
    counts = cache.stack(candidate.featuriser, [corpus for corpus, _ in parts])
    targets = [label for corpus, _ in parts for label in corpus.labels]
    weights = np.concatenate([np.full(len(corpus.texts), weight) for corpus, weight in parts])
    model = TfidfLogReg(labels, candidate.c, candidate.class_weight)
    return model.fit(counts, targets, weights)


def tune(
    plan: TaskPlan, train: dict[str, Corpus], cache: CountCache
) -> tuple[list[DevResult], dict[Candidate, np.ndarray]]:
    """Fit every candidate without the dev file and score it on dev.

    Returns the results best first and each candidate's dev logits.
    """
    dev = train[plan.dev_file]
    dev_keys = {key(t) for t in dev.texts}
    # Renamed so that the count cache keeps them apart from the full files.
    pool = {
        name: replace(without(corpus, dev_keys), name=f"{name} without dev")
        for name, corpus in train.items()
    }
    labels = TASK_LABELS[plan.task]
    gold = np.array([labels.index(label) for label in dev.labels])
    results: list[DevResult] = []
    dev_logits: dict[Candidate, np.ndarray] = {}
    for candidate in tqdm(plan.candidates, desc=f"{plan.task}: tuning on {plan.dev_file}"):
        model = fit_candidate(labels, candidate, pool, cache)
        dev_logits[candidate] = model.logits(cache.get(candidate.featuriser, dev))
        results += dev_figures(plan, candidate, dev_logits[candidate], gold)
    # Stable sort: among equal scores the earlier (simpler, grid-order) setting wins.
    return sorted(results, key=lambda r: -r.score), dev_logits


def flag_figures(task: str, logits: np.ndarray, gold: list[str]) -> list[dict[str, float]]:
    """Precision and recall on dev of flagging posts whose P(label) reaches a threshold.

    The product flags by thresholds on P(negative) and P(offensive), not by the argmax
    label, so the card tells operators what each threshold catches.
    """
    label = FLAG_LABEL[task]
    if logits.shape[1] == 1:
        score = expit(logits[:, 0])
    else:
        score = softmax(logits, axis=1)[:, TASK_LABELS[task].index(label)]
    truth = np.array(gold) == label
    return [
        {
            "threshold": threshold,
            "precision": round(
                float(precision_score(truth, score >= threshold, zero_division=0)), 4
            ),
            "recall": round(float(recall_score(truth, score >= threshold)), 4),
        }
        for threshold in FLAG_THRESHOLDS
    ]


def train_task(plan: TaskPlan, data_dir: Path, out_dir: Path) -> dict[str, Any]:
    """Tune, refit on all chosen files plus dev, save, evaluate the saved model; its config."""
    np.random.seed(SEED)
    torch.manual_seed(SEED)
    began = time.perf_counter()
    excluded = eval_keys(data_dir)
    raw = read_split(data_dir, plan.task, "train")
    train = {name: without(corpus, excluded) for name, corpus in raw.items()}
    cache = CountCache()
    ranking, dev_logits = tune(plan, train, cache)
    best = ranking[0]
    chosen = replace(best.candidate, files=(*best.candidate.files, (plan.dev_file, 1.0)))
    labels = TASK_LABELS[plan.task]
    final = fit_candidate(labels, chosen, train, cache)
    featuriser = Featuriser(best.candidate.featuriser)
    NgramClassifier(plan.task, plan.version, featuriser, final.to_module(best.offsets)).save(
        out_dir, {}
    )
    train_seconds = time.perf_counter() - began
    saved = NgramClassifier.load(out_dir, plan.task)
    figures = {
        name: evaluate(saved, corpus.texts, corpus.labels)
        for name, corpus in read_split(data_dir, plan.task, "eval").items()
        if name in plan.eval_files
    }
    config = {
        "name": plan.name,
        "seed": SEED,
        "training": {
            name: {
                "rows_in_file": len(raw[name].texts),
                "dropped_as_in_eval": len(raw[name].texts) - len(train[name].texts),
                "rows_used": len(train[name].texts),
                "sample_weight": weight,
            }
            for name, weight in chosen.files
        },
        "not_used": sorted(set(raw) - {name for name, _ in chosen.files}),
        "hyperparameters": {
            "C": best.candidate.c,
            "class_weight": best.candidate.class_weight,
            "decision_offsets": dict(zip(labels[-len(best.offsets) :], best.offsets, strict=True)),
            "solver": "lbfgs",
            "max_iter": MAX_ITER,
        },
        "tuning": {
            "dev_file": plan.dev_file,
            "criterion": plan.criterion,
            "candidates": len(plan.candidates),
            "decision_offsets_tried": len(plan.offsets),
            "best": _dev_summary(best),
            "best_without_offsets": _dev_summary(_best_plain(ranking, best.candidate)),
            "per_candidate": [_dev_summary(_best_for(ranking, c)) for c in plan.candidates],
            "flag_thresholds": flag_figures(
                plan.task,
                dev_logits[best.candidate] + np.array(best.offsets),
                train[plan.dev_file].labels,
            ),
        },
        "train_seconds": round(train_seconds, 1),
        "eval": figures,
    }
    saved.save(out_dir, config)
    saved_config = json.loads((out_dir / "config.json").read_text(encoding="utf-8"))
    (out_dir / CARD_FILE).write_text(model_card(saved_config), encoding="utf-8")
    return config


def _best_for(ranking: list[DevResult], candidate: Candidate) -> DevResult:
    return next(r for r in ranking if r.candidate == candidate)


def _best_plain(ranking: list[DevResult], candidate: Candidate) -> DevResult:
    return next(r for r in ranking if r.candidate == candidate and not any(r.offsets))


def _dev_summary(result: DevResult) -> dict[str, Any]:
    candidate = result.candidate
    return {
        "files": {name: weight for name, weight in candidate.files},
        "features": "char+word" if candidate.featuriser.use_words else "char",
        "C": candidate.c,
        "class_weight": candidate.class_weight,
        "decision_offsets": list(result.offsets),
        "micro_f1": result.micro_f1,
        "macro_f1": result.macro_f1,
        **({} if result.negative_recall is None else {"negative_recall": result.negative_recall}),
    }


SOURCES = {
    "germeval2017_train_twitter.tsv": "GermEval 2017 (Deutsche Bahn customer feedback), the "
    "Twitter part of the official train set; Wojatzki et al. 2017, published for research, "
    "no licence stated",
    "germeval2017_dev.tsv": "GermEval 2017 official dev set (Twitter, Facebook, forums, news); "
    "Wojatzki et al. 2017, published for research, no licence stated",
    "sb10k.tsv": "SB-10k German tweets (the still retrievable 7095 of 9939); Cieliebak et al. "
    "2017, public tweets published for research, no licence stated",
    "dai_tweets_agree2.tsv": "DAI-Labor German tweets, rows where 2 of 3 annotators agreed; "
    "Narr et al. 2012, public tweets published for research, no licence stated",
    "germeval2018_train.tsv": "GermEval 2018 offensive language, official train; CC BY 4.0 "
    "(Wiegand, Siegel & Ruppenhofer 2018)",
    "germeval2019_train.tsv": "GermEval 2019 task 2, official train; Struß et al. 2019, "
    "published for research, no licence stated",
    "germeval2021_train.tsv": "GermEval 2021 toxic comments (Facebook), train part of the "
    "official train set; Risch et al. 2021, published for research, no licence stated",
    "germeval2021_dev.tsv": "GermEval 2021, dev part of the official train set; Risch et al. "
    "2021, published for research, no licence stated",
    "cophi_hs_extra.tsv": "Würzburg German hate speech corpus, parts not overlapping "
    "GermEval/HASOC; labels offensive far more sparingly than GermEval; no licence stated",
}

PURPOSE = {
    "sentiment": "Scores German social-media posts about brands as negative, neutral or "
    "positive. Rufwacht uses P(negative) to flag complaints for the social media team.",
    "offensive": "Scores German posts as offensive (insult, abuse, profanity, toxic) or "
    "other. Rufwacht's troll scorer uses P(offensive) as one of its signals.",
}

PUBLISHED = {
    "sentiment": [
        "`oliverguhr/german-sentiment-bert` (a BERT model) reports 0.7536 micro-F1 and "
        "0.5139 macro-F1 on GermEval 2017 (its model card).",
        "The best GermEval 2017 subtask B participants reached about 0.75 micro-F1 "
        "(synchronic and diachronic); the majority class alone gives about 0.65.",
    ],
    "offensive": [
        "GermEval 2018 binary macro-F1: `deepset/gbert-base` 0.7817, `deepset/gbert-large` "
        "0.8008 (their model cards).",
        "GermEval 2021 subtask 1 (toxic) macro-F1: best system 0.718.",
    ],
}


LIMITATIONS = {
    "sentiment": [
        "Trained mostly on tweets (2012–2017) and GermEval 2017's Deutsche Bahn posts; "
        "newer slang and other brands' topics score worse (compare the synchronic and the "
        "later diachronic GermEval 2017 figures).",
        "Misses about half of the negative posts on GermEval 2017 (see negative recall): use "
        "P(negative) with a threshold below 0.5 and the keyword rules to flag complaints.",
        "Positive posts are rare in the training data and often missed.",
    ],
    "offensive": [
        "Trained on political tweets (GermEval 2018/2019) and Facebook comments (GermEval "
        "2021); toxic comments without swear words (GermEval 2021) are mostly missed.",
    ],
}

# Dev-only explorations run by hand before the grids were fixed (same protocol, dev held out).
NOTES = {
    "sentiment": [
        "Explored by hand on the same dev split before this grid was fixed (C = 3, no "
        "offsets, dev micro-F1): class_weight balanced 0.719 (macro 0.584) vs 0.761 "
        "unweighted; GermEval 2017 train alone 0.751 (with offsets) — the extra tweets help, "
        "down-weighted; with SB-10k/DAI ×0.5: raw instead of 1 + log tf 0.759 vs 0.764, "
        "char 1–6-grams 0.769, word 1–3-grams 0.767, char-only features (2^20 buckets, "
        "×1) 0.763 vs 0.761. Differences below 0.01 are within dev noise (2538 posts), so "
        "the cheaper default features stayed.",
        "",
    ],
    "offensive": [
        "cophi_hs_extra.tsv, which labels offensive far more sparingly than GermEval, lowered "
        "dev macro-F1 at both weights and every C (best 0.647 at ×0.3, 0.633 at ×1, against "
        "0.658 without it), so the final model leaves it out.",
        "",
    ],
}


def _files(files: dict[str, float]) -> str:
    return ", ".join(f"{name} ×{weight}" for name, weight in files.items())


def eval_section(heading: str, figures: dict[str, Any]) -> list[str]:
    """A model card's lines for one eval file: headline figures, then per class."""
    return [
        f"### {heading}",
        "",
        f"n = {figures['n']}, micro-F1 {figures['micro_f1']}, macro-F1 "
        f"{figures['macro_f1']}, {figures['posts_per_s']} posts/s.",
        "",
        "| label | precision | recall | F1 | support |",
        "|---|---|---|---|---|",
        *(
            f"| {label} | {c['precision']} | {c['recall']} | {c['f1']} | {c['support']} |"
            for label, c in figures["per_class"].items()
        ),
        "",
    ]


def model_card(config: dict[str, Any]) -> str:
    """MODEL_CARD.md from the saved config, so the card shows exactly the measured figures."""
    task, tuning, hyper = config["task"], config["tuning"], config["hyperparameters"]
    feat = config["featuriser"]
    lines = [
        f"# {config['name']} ({config['model_version']})",
        "",
        PURPOSE[task],
        "",
        f"Labels: {', '.join(config['labels'])}.",
        "",
        "## Training data",
        "",
        "| file | rows | dropped (text also in an eval file) | used | sample weight "
        "| source and terms |",
        "|---|---|---|---|---|---|",
        *(
            f"| {name} | {t['rows_in_file']} | {t['dropped_as_in_eval']} | {t['rows_used']} "
            f"| {t['sample_weight']} | {SOURCES.get(name, 'see shared/data/README.md')} |"
            for name, t in config["training"].items()
        ),
        "",
        f"Not used: {', '.join(config['not_used']) or 'none'} (see tuning below).",
        "Texts are compared case-folded and whitespace-collapsed; every training text that",
        "also occurs in any eval file of any task was dropped. No eval text was trained or",
        "tuned on.",
        "",
        "## Method",
        "",
        "Texts are normalised (`classifiers/textnorm.py`: HTML entities unescaped, links →",
        "`URL`, @mentions → `@user`, runs of 4+ equal characters shortened to 3, whitespace",
        "collapsed). Features: lowercased word-boundary-aware character n-grams "
        f"{feat['char_min_n']}–{feat['char_max_n']} hashed into 2^{feat['char_bits']} buckets"
        + (
            f", plus word {feat['word_min_n']}–{feat['word_max_n']}-grams (punctuation and "
            f"emoji count as words) in 2^{feat['word_bits']} buckets"
            if feat["use_words"]
            else ""
        )
        + " (scikit-learn `HashingVectorizer`, murmurhash); "
        + ("1 + log" if feat["sublinear_tf"] else "raw")
        + " term frequency × smooth idf from the training rows, L2-normalised; logistic "
        "regression (scikit-learn, lbfgs) exported into a torch `EmbeddingBag` "
        "module, weights stored in fp16 safetensors.",
        "",
        "## Hyper-parameters and how they were chosen",
        "",
        f"Chosen: C = {hyper['C']}, class_weight = {hyper['class_weight']}, decision offsets "
        f"added to the logits {hyper['decision_offsets']}, max_iter {hyper['max_iter']}, "
        f"seed {config['seed']}.",
        "",
        f"Tuned only on `{tuning['dev_file']}` with that file held out of training (and "
        "training texts that also occur in it dropped): "
        f"{tuning['candidates']} settings (training files and their sample weights × C × "
        f"class weight) × "
        f"{tuning['decision_offsets_tried']} decision offsets, criterion dev "
        f"{tuning['criterion']}. The chosen setting was then refitted on its training files "
        "plus the dev file.",
        "",
        "| files | C | class weight | offsets | dev micro-F1 | dev macro-F1 |"
        + (" dev neg. recall |" if task == "sentiment" else ""),
        "|---|---|---|---|---|---|" + ("---|" if task == "sentiment" else ""),
        *(
            f"| {_files(r['files'])} | {r['C']} | {r['class_weight']} | {r['decision_offsets']}"
            f" | {r['micro_f1']} | {r['macro_f1']} |"
            + (f" {r['negative_recall']} |" if task == "sentiment" else "")
            for r in tuning["per_candidate"]
        ),
        "",
        *NOTES[task],
        f"Best without decision offsets: dev micro-F1 {tuning['best_without_offsets']['micro_f1']},"
        f" macro-F1 {tuning['best_without_offsets']['macro_f1']}.",
        "",
        f"Flagging by P({FLAG_LABEL[task]}) ≥ threshold, measured on dev with the chosen "
        "setting fitted without dev (the product flags by such thresholds, not by the label):",
        "",
        "| threshold | precision | recall |",
        "|---|---|---|",
        *(
            f"| {row['threshold']} | {row['precision']} | {row['recall']} |"
            for row in tuning["flag_thresholds"]
        ),
        "",
        "## Evaluation (held-out eval files, measured once on the saved model)",
        "",
        "Figures are the output of `classifiers.evaluation.evaluate` on the files in",
        "`shared/data/*/eval/` (the same function `rufwacht eval` prints). Speed: wall-clock",
        "classification time only (normalising, featurising, the torch module), batches of "
        "256, one torch thread, one process on a 2-core machine shared with other work.",
        "",
    ]
    for name, figures in config["eval"].items():
        lines += eval_section(name, figures)
    lines += [
        "Published figures on the same eval sets, for comparison:",
        "",
        *(f"- {line}" for line in PUBLISHED[task]),
        "",
        *INTENDED_USE,
        "- A bag of n-grams: it misses irony, negation across the sentence and context "
        "(quoted insults, replies); it judges words, so topics common in offensive training "
        "posts (migration, politics) can raise scores of harmless posts.",
        *(f"- {line}" for line in LIMITATIONS[task]),
        "- Probabilities include the decision offsets above and are not calibrated.",
        "- Hashing relies on scikit-learn's murmurhash `HashingVectorizer` being stable "
        "across versions, as it has been for years; retrain if that ever changes.",
        "",
        f"Training took {config['train_seconds']} s (tuning included) with one torch thread.",
        f"Reproduce: `python -m classifiers.training.train_ngram --task {task}`.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", choices=[*PLANS, "all"], required=True)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--out-dir", type=Path, default=BUNDLED_DIR, help="parent of model dirs")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    tasks = list(PLANS) if args.task == "all" else [args.task]
    for task in tasks:
        plan = PLANS[task]
        config = train_task(plan, args.data_dir, args.out_dir / plan.name)
        summary = {field: config[field] for field in ("train_seconds", "eval")}
        print(
            json.dumps({"model": plan.name, "dev": config["tuning"]["best"], **summary}, indent=2)
        )


if __name__ == "__main__":
    main()
