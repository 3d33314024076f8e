"""Tune, evaluate and bundle `ensemble-sentiment` and `ensemble-offensive`.

    python -m classifiers.training.tune_ensemble [--data-dir PATH]

Each ensemble blends a bundled n-gram model (fast) with a bundled e5 head (strong); see
`classifiers.ensemble`. The blend is tuned on the e5 model's tuning rows, which neither
member may have seen: the e5 model never trained on them, and the n-gram model is refitted
here without them, with its bundled setting. (The bundled n-gram model trained on all of
the dev file, so its probabilities on those rows would be too good to tune on.) The bundle
is then measured once on every eval file, as the product loads it.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import expit, softmax
from sklearn.metrics import f1_score, recall_score
from tqdm import tqdm

from classifiers.base import CONFIG_FILE, TASK_LABELS, read_config
from classifiers.ensemble import FORMAT, BlendRule
from classifiers.evaluation import evaluate, read_labelled_tsv
from classifiers.ngram import CARD_FILE, Featuriser
from classifiers.registry import BUNDLED_DIR, load_classifier
from classifiers.training import speed
from classifiers.training.train_e5 import (
    PUBLISHED,
    TaskData,
    eval_paths,
    load_data,
)
from classifiers.training.train_ngram import (
    CHAR_WORD,
    FLAG_LABEL,
    INTENDED_USE,
    Candidate,
    CountCache,
    eval_section,
    fit_candidate,
    flag_figures,
)

DEFAULT_DATA_DIR = speed.DEFAULT_DATA_DIR
VERSION = "1.1"
MEMBERS = {
    "sentiment": {"fast": "ngram-sentiment", "strong": "e5-sentiment"},
    "offensive": {"fast": "ngram-offensive", "strong": "e5-offensive"},
}
FAST_WEIGHTS = tuple(round(float(w), 2) for w in np.arange(0.0, 0.61, 0.1))
CONFIDENT = (*(round(float(c), 2) for c in np.arange(0.6, 0.96, 0.05)), 1.01)
STEPS = tuple(round(float(o), 1) + 0.0 for o in np.arange(-1.0, 1.01, 0.1))  # no "-0.0"
OFFSETS = {
    "sentiment": tuple((neg, 0.0, pos) for neg, pos in product(STEPS, STEPS)),
    "offensive": tuple((0.0, o) for o in STEPS),
}
# Figures within this of the best count as equal (the tuning rows are ~1,200 posts):
# among equals the rule with the larger fast share wins, because it is faster.
TOLERANCE = 0.005


@dataclass(frozen=True)
class Tried:
    """A blend rule and its figures on the tuning rows."""

    rule: BlendRule
    figures: dict[str, float]
    fast_share: float


def honest_fast_probabilities(task: str, data: TaskData) -> np.ndarray:
    """The bundled n-gram setting refitted without the tuning rows, on the tuning rows."""
    config = read_config(BUNDLED_DIR / MEMBERS[task]["fast"])
    hyper = config["hyperparameters"]
    files = tuple(
        (name, float(spec["sample_weight"]))
        for name, spec in config["training"].items()
        if name in data.train
    )
    candidate = Candidate(files, CHAR_WORD, float(hyper["C"]), hyper["class_weight"])
    model = fit_candidate(TASK_LABELS[task], candidate, data.train, CountCache())
    logits = model.logits(Featuriser(CHAR_WORD).counts(data.tune.texts))
    logits = logits + np.array(list(hyper["decision_offsets"].values()))
    if logits.shape[1] == 1:
        positive = expit(logits[:, 0])
        return np.column_stack([1 - positive, positive])
    return softmax(logits, axis=1)


def figures(task: str, probs: np.ndarray, gold: np.ndarray) -> dict[str, float]:
    """Micro- and macro-F1 of the argmax labels (and, for sentiment, negative recall)."""
    predicted = probs.argmax(axis=1)
    out = {
        "micro_f1": round(float(f1_score(gold, predicted, average="micro")), 4),
        "macro_f1": round(float(f1_score(gold, predicted, average="macro")), 4),
    }
    if task == "sentiment":
        negative = TASK_LABELS[task].index("negative")
        recall = recall_score(gold == negative, predicted == negative)
        out["negative_recall"] = round(float(recall), 4)
    return out


def blended(rule: BlendRule, fast: np.ndarray, strong: np.ndarray) -> np.ndarray:
    """What `EnsembleClassifier` outputs, given both members' probabilities for every row."""
    return np.where(rule.sure(fast)[:, None], fast, rule.blend(fast, strong))


def try_rules(task: str, fast: np.ndarray, strong: np.ndarray, gold: np.ndarray) -> list[Tried]:
    """Every blend rule of the grid with its tuning-row figures."""
    grid = list(product(FAST_WEIGHTS, CONFIDENT, OFFSETS[task]))
    tried = []
    for weight, confident, offsets in tqdm(grid, desc=f"tuning {task}", unit="rule"):
        rule = BlendRule(weight, confident, offsets)
        result = figures(task, blended(rule, fast, strong), gold)
        tried.append(Tried(rule, result, round(float(rule.sure(fast).mean()), 4)))
    return tried


def choose(task: str, tried: list[Tried]) -> Tried:
    """The task's metric first (GermEval 2017: micro-F1 then macro-F1; 2018/2021: macro-F1),
    then speed among rules within `TOLERANCE` of the best."""
    if task == "sentiment":
        best_micro = max(t.figures["micro_f1"] for t in tried)
        tried = [t for t in tried if t.figures["micro_f1"] >= best_micro - TOLERANCE]
    best_macro = max(t.figures["macro_f1"] for t in tried)
    equal = [t for t in tried if t.figures["macro_f1"] >= best_macro - TOLERANCE]
    return max(equal, key=lambda t: (t.fast_share, t.figures["macro_f1"]))


def tune_task(task: str, data: TaskData) -> dict[str, Any]:
    """The chosen rule with tuning-row figures of each member alone and of the blend."""
    gold = np.array([TASK_LABELS[task].index(label) for label in data.tune.labels])
    fast = honest_fast_probabilities(task, data)
    strong = load_classifier(MEMBERS[task]["strong"], task).predict_proba(data.tune.texts)
    tried = try_rules(task, fast, strong, gold)
    chosen = choose(task, tried)
    probs = blended(chosen.rule, fast, strong)
    return {
        "rule": chosen.rule,
        "tuning": {
            "rows": len(gold),
            "rules_tried": len(tried),
            "fast_alone": figures(task, fast, gold),
            "strong_alone": figures(task, strong, gold),
            "ensemble": chosen.figures | {"fast_share": chosen.fast_share},
            "flag_thresholds": flag_figures(task, np.log(probs + 1e-9), data.tune.labels),
        },
    }


def member_versions(task: str) -> dict[str, dict[str, str]]:
    return {
        role: {"spec": spec, "model_version": load_classifier(spec, task).model_version}
        for role, spec in MEMBERS[task].items()
    }


def bundle(task: str, tuned: dict[str, Any], out_dir: Path, data_dir: Path) -> dict[str, Any]:
    """Write the config, measure the saved bundle on every eval file, then the card."""
    rule: BlendRule = tuned["rule"]
    name = f"ensemble-{task}"
    config: dict[str, Any] = {
        "format": FORMAT,
        "name": name,
        "task": task,
        "labels": list(TASK_LABELS[task]),
        "model_version": f"{name}-{VERSION}",
        "members": member_versions(task),
        "fast_weight": rule.fast_weight,
        "confident": rule.confident,
        "decision_offsets": list(rule.offsets),
        "tuning": tuned["tuning"],
    }
    write_config(out_dir, config)
    classifier = load_classifier(str(out_dir), task)
    config["eval"] = {
        path.name: evaluate(classifier, *read_labelled_tsv(path, task))
        for path in eval_paths(data_dir, task)
    }
    write_config(out_dir, config)
    return config


def write_config(out_dir: Path, config: dict[str, Any]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    text = json.dumps(config, indent=2, ensure_ascii=False, default=list) + "\n"
    (out_dir / CONFIG_FILE).write_text(text, encoding="utf-8")


def model_card(config: dict[str, Any]) -> str:
    task, tuning = config["task"], config["tuning"]
    fast, strong = config["members"]["fast"], config["members"]["strong"]
    rows = [
        ("fast member alone", tuning["fast_alone"]),
        ("strong member alone", tuning["strong_alone"]),
        ("ensemble (chosen rule)", tuning["ensemble"]),
    ]
    return "\n".join(
        [
            f"# {config['name']} ({config['model_version']})",
            "",
            f"The default {task} model: `{fast['spec']}` ({fast['model_version']}) decides the "
            f"posts it is sure of (top probability ≥ {config['confident']}); every other post "
            f"gets a blend of it and `{strong['spec']}` ({strong['model_version']}): weighted "
            f"mean of log-probabilities ({config['fast_weight']} fast, "
            f"{round(1 - config['fast_weight'], 2)} strong) plus decision offsets "
            f"{dict(zip(config['labels'], config['decision_offsets'], strict=True))}, "
            "renormalised. Both members' cards describe their training data and licences; "
            "this bundle adds no trained weights, only the rule.",
            "",
            "## Tuning",
            "",
            f"On the strong member's {tuning['rows']} tuning rows (see its card), which it never "
            "trained on; the fast member was refitted without them (same setting as bundled) so "
            f"that its probabilities there are honest. {tuning['rules_tried']} rules tried: fast "
            f"weight {FAST_WEIGHTS}, confidence bar {CONFIDENT} (1.01: the strong member sees "
            f"every post), offsets in steps of 0.1 from −1 to 1. Chosen: the best "
            + ("micro-F1, then macro-F1" if task == "sentiment" else "macro-F1")
            + f"; among rules within {TOLERANCE} of the best, the one whose fast member alone "
            "decides the most posts (speed).",
            "",
            "| model on the tuning rows | figures |",
            "|---|---|",
            *(f"| {label} | {_line(f)} |" for label, f in rows),
            "",
            f"Flagging by P({FLAG_LABEL[task]}) ≥ threshold on the tuning rows (the product "
            "flags by thresholds):",
            "",
            "| threshold | precision | recall |",
            "|---|---|---|",
            *(
                f"| {f['threshold']} | {f['precision']} | {f['recall']} |"
                for f in tuning["flag_thresholds"]
            ),
            "",
            "## Evaluation (held-out eval files, measured once on the saved bundle)",
            "",
            "Output of `classifiers.evaluation.evaluate` (what `rufwacht eval` prints), the "
            "model loaded as the product loads it; posts/s is this task alone. For sentiment "
            "also our own held-out check set (see the e5 card).",
            "",
            *(
                line
                for name, result in config["eval"].items()
                for line in eval_section(name, result)
            ),
            "Published figures on the same eval sets, for comparison:",
            "",
            *(f"- {line}" for line in PUBLISHED),
            "",
            "## Speed and memory",
            "",
            "`ensemble-sentiment` then `ensemble-offensive` on the same call batches of "
            f"{config['speed']['2']['call_batch']} posts ({config['speed']['2']['posts']} posts "
            "from the GermEval 2017/2018 test files), in a fresh process; peak RSS of that "
            "process; the 1-minute load average at the end (above ~1: another process "
            "competed for the 2 cores).",
            "",
            *speed.table(config["speed"]),
            "",
            *INTENDED_USE,
            "- Inherits both members' limits (see their cards); probabilities are not calibrated.",
            "- The rule is tuned for the members' exact versions: loading it with another "
            "version of a member fails with a message asking to re-run the tuning.",
            "",
            f"Tuning took {config['tune_seconds']} s. Reproduce: "
            "`python -m classifiers.training.tune_ensemble`.",
            "",
        ]
    )


def _line(figures: dict[str, float]) -> str:
    return ", ".join(f"{k} {v}" for k, v in figures.items())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--out-dir", type=Path, default=BUNDLED_DIR, help="bundles go here")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    tasks, _ = load_data(args.data_dir)
    tuned = {task: tune_task(task, tasks[task]) for task in MEMBERS}
    seconds = round(time.perf_counter() - began, 1)
    out = {task: args.out_dir / f"ensemble-{task}" for task in MEMBERS}
    configs = {task: bundle(task, tuned[task], out[task], args.data_dir) for task in MEMBERS}
    pair = (str(out["sentiment"]), str(out["offensive"]))
    measured = {str(n): speed.measure(*pair, args.data_dir, n) for n in (2, 1)}
    for task, config in configs.items():
        config |= {"speed": measured, "tune_seconds": seconds}
        write_config(out[task], config)
        (out[task] / CARD_FILE).write_text(model_card(config), encoding="utf-8")
    summary = {
        task: {name: (r["micro_f1"], r["macro_f1"]) for name, r in config["eval"].items()}
        for task, config in configs.items()
    }
    print(json.dumps({"eval": summary, "speed": measured}, indent=2))


if __name__ == "__main__":
    main()
