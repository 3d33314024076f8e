"""What the retraining notebooks (`notebooks/retrain_*.ipynb`) call, so that their cells hold
parameters, calls and pictures, and everything that decides something is tested code here.

The data rule (shared/data/README.md) is kept by staging: a notebook trains from a scratch data
folder whose `*/eval/` holds links to every public eval file plus the held-out slice of the
team's labels, so the training code's own rule (drop every training text that occurs in any
eval file) keeps that slice out of training too. A smoke run (`SAMPLE=200`) stages a sample of
each training file; eval files are never sampled here, only measured on fewer rows.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from classifiers.base import TASK_LABELS, TextClassifier
from classifiers.evaluation import TriageCase, read_labelled_tsv
from classifiers.model_registry import Registry
from classifiers.training.team_labels import read_team_labels, write_labelled_tsv
from classifiers.training.train_ngram import key
from classifiers.troll import AuthorSignals, HistorySignals

if TYPE_CHECKING:
    from matplotlib.figure import Figure

TEAM_TRAIN_FILE = "team_labels.tsv"
"""The team's labelled posts in a staged train folder (trained on)."""
TEAM_HELDOUT_FILE = "team_heldout.tsv"
"""The held-out slice of the team's labels in a staged eval folder (measured, never trained)."""
TEAM_HELDOUT_SET = "team_heldout"
"""The card's name for that slice."""
HELDOUT_SHARE = 0.25
NOTEBOOK_RUNNER = "python -m scripts.notebooks"


REPOSITORY = Path(__file__).resolve().parents[2]


def repo_path(path: Path | str) -> Path:
    """A relative path from the repository root, wherever the kernel runs (Jupyter starts it
    in `notebooks/`, `scripts/notebooks.py` in the root): `../shared/data` is the shared data."""
    path = Path(path).expanduser()
    return path if path.is_absolute() else REPOSITORY / path


@dataclass
class Staged:
    """A scratch data folder for one training run and what went into it."""

    data_dir: Path
    team_train: dict[str, int] = field(default_factory=dict)
    """Rows of the team's labels trained on, per task."""
    team_heldout: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    """The held-out slice of the team's labels, per task."""
    sample: int | None = None


def split_team(
    rows: Sequence[tuple[str, str]], share: float = HELDOUT_SHARE, seed: int = 0
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(train, held out): a seeded `share` of the posts is held out (at least one of two or
    more); a training row whose text also is in the held-out slice is dropped."""
    order = np.random.default_rng(seed).permutation(len(rows))
    held = round(len(rows) * share) if len(rows) < 2 else max(1, round(len(rows) * share))
    heldout = [rows[i] for i in sorted(order[:held])]
    held_keys = {key(text) for text, _ in heldout}
    train = [rows[i] for i in sorted(order[held:]) if key(rows[i][0]) not in held_keys]
    return train, heldout


def sample_rows(
    texts: Sequence[str], labels: Sequence[str], limit: int | None, seed: int = 0
) -> tuple[list[str], list[str]]:
    """At most `limit` rows, a seeded random choice kept in file order; None: all."""
    if limit is None or len(texts) <= limit:
        return list(texts), list(labels)
    keep = sorted(np.random.default_rng(seed).choice(len(texts), size=limit, replace=False))
    return [texts[i] for i in keep], [labels[i] for i in keep]


def stage_data(
    data_dir: Path,
    out: Path,
    team: Mapping[str, Sequence[tuple[str, str]]] | None = None,
    sample: int | None = None,
    seed: int = 0,
) -> Staged:
    """A data folder in `out` like `data_dir` (`TASK/train/*.tsv`, `TASK/eval/*.tsv`):
    training files sampled to `sample` rows each (or linked whole), every eval file linked,
    and per task in `team` the team's rows split into `TEAM_TRAIN_FILE` and the held-out
    `TEAM_HELDOUT_FILE`."""
    data_dir, out = Path(data_dir).resolve(), Path(out)
    staged = Staged(out, sample=sample)
    for task in TASK_LABELS:
        for path in sorted((data_dir / task / "train").glob("*.tsv")):
            target = out / task / "train" / path.name
            if sample is None:
                _link(path, target)
            else:
                rows = sample_rows(*read_labelled_tsv(path, task), sample, seed)
                write_labelled_tsv(target, list(zip(*rows, strict=True)))
        for path in sorted((data_dir / task / "eval").glob("*.tsv")):
            _link(path, out / task / "eval" / path.name)
    for task, rows in (team or {}).items():
        train, heldout = split_team(rows, seed=seed)
        if train:
            write_labelled_tsv(out / task / "train" / TEAM_TRAIN_FILE, train)
        if heldout:
            write_labelled_tsv(out / task / "eval" / TEAM_HELDOUT_FILE, heldout)
        staged.team_train[task], staged.team_heldout[task] = len(train), heldout
    return staged


def _link(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)
    target.symlink_to(source)


def team_rows(labels: Path | str | None, tasks: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
    """The exported labels (`rufwacht labels export`) as (text, label) rows per task; no
    file: none. Posts the reviewers disagree on are left out."""
    if labels is None:
        return {}
    return {task: read_team_labels(Path(labels), task) for task in tasks}


def team_triage_cases(
    labels: Path | str | None, exclude: Set[str] = frozenset(), seed: int = 0
) -> tuple[list[TriageCase], list[TriageCase]]:
    """(train, held out) triage cases from the team's category decisions. A decision names
    the category only: no action or team (the triage trainer learns those heads from
    rows that have them), no author signals. Texts whose key is in `exclude` (the check
    sets, the public eval files) are dropped."""
    rows = team_rows(labels, ["category"]).get("category", [])
    rows = [(text, label) for text, label in rows if key(text) not in exclude]
    train, heldout = split_team(rows, seed=seed)
    return [team_case(*row) for row in train], [team_case(*row) for row in heldout]


def team_trolls(
    labels: Path | str | None, exclude: Set[str] = frozenset()
) -> list[tuple[str, str]]:
    """The team's troll yes/no decisions (`troll`/`not_troll`), texts in `exclude` dropped;
    measured only (the troll score is a rule, triage learns trolls from categories)."""
    rows = team_rows(labels, ["troll"]).get("troll", [])
    return [(text, label) for text, label in rows if key(text) not in exclude]


def team_case(text: str, category: str) -> TriageCase:
    return TriageCase(
        text=text,
        author=AuthorSignals(None, None, None),
        history=HistorySignals(),
        category=category,
        action="",
        escalate_to=None,
    )


def jsonl_keys(*paths: Path) -> set[str]:
    """The text keys of labelled JSON-lines files (triage check sets: one `text` per line)."""
    return {
        key(json.loads(line)["text"])
        for path in paths
        for line in Path(path).read_text("utf-8").splitlines()
        if line.strip()
    }


def next_version(registry: Registry | Path | str, stem: str, suffix: str = "") -> str:
    """The next free `STEM-MAJOR.MINOR` after the registry's highest one (`e5-multitask-1.1`
    → `e5-multitask-1.2`), with `suffix` (a smoke run's `-sample200`)."""
    registry = registry if isinstance(registry, Registry) else Registry(registry)
    names = set(registry.versions())
    pattern = re.compile(rf"^{re.escape(stem)}-(\d+)\.(\d+)")
    found = [tuple(map(int, m.groups())) for n in names if (m := pattern.match(n))]
    major, minor = max(found, default=(1, -1))
    while True:
        minor += 1
        name = f"{stem}-{major}.{minor}{suffix}"
        if name not in names:
            return name


def sample_suffix(sample: int | None) -> str:
    return "" if sample is None else f"-sample{sample}"


def training_command(notebook: str, parameters: Mapping[str, Any]) -> str:
    """The command that reruns a notebook with these parameters (`scripts/notebooks.py`)."""
    options = " ".join(
        f"-p {name} {shlex.quote(json.dumps(value))}" for name, value in parameters.items()
    )
    return f"{NOTEBOOK_RUNNER} run {notebook} {options}".strip()


def registry_card(
    metrics: Mapping[str, Mapping[str, Mapping[str, Any]]],
    data: Mapping[str, Any],
    command: str,
    sample: int | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The card `register_version` stores: held-out figures per task and set (the same set
    names as the bundled champion's card, so promotion can compare), the data trained on,
    the command; a smoke run says so."""
    card = {
        "metrics": {
            task: {name: dict(f) for name, f in sets.items()} for task, sets in metrics.items()
        },
        "data": dict(data),
        "training_command": command,
        **extra,
    }
    if sample is not None:
        card["sample"] = sample
        card["note"] = f"smoke run on {sample} rows per training file: not for promotion"
    return card


# --- looking at a model's answers


@dataclass(frozen=True)
class Answers:
    """A classifier's answers on labelled texts."""

    labels: tuple[str, ...]
    texts: list[str]
    gold: list[str]
    predicted: list[str]
    probabilities: np.ndarray
    """One row per text, one column per label (in `labels` order)."""


def answers(classifier: TextClassifier, texts: Sequence[str], gold: Sequence[str]) -> Answers:
    labels = tuple(classifier.labels)
    said = classifier.predict(list(texts))
    probabilities = np.array([[p.scores[label] for label in labels] for p in said])
    return Answers(labels, list(texts), list(gold), [p.label for p in said], probabilities)


def confusion(result: Answers) -> np.ndarray:
    """Counts, rows: truth, columns: prediction, in label order."""
    index = {label: i for i, label in enumerate(result.labels)}
    matrix = np.zeros((len(index), len(index)), dtype=int)
    for truth, said in zip(result.gold, result.predicted, strict=True):
        matrix[index[truth], index[said]] += 1
    return matrix


def reliability(result: Answers, bins: int = 10) -> dict[str, Any]:
    """Calibration of the top answer: per confidence bin its mean confidence, accuracy and
    size, and the expected calibration error (bin-size-weighted |accuracy − confidence|)."""
    confidence = result.probabilities.max(axis=1)
    correct = np.array(result.gold) == np.array(result.predicted)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    rows = []
    for b in range(bins):
        members = which == b
        if members.any():
            rows.append(
                {
                    "low": round(float(edges[b]), 2),
                    "high": round(float(edges[b + 1]), 2),
                    "confidence": round(float(confidence[members].mean()), 4),
                    "accuracy": round(float(correct[members].mean()), 4),
                    "n": int(members.sum()),
                }
            )
    n = max(len(confidence), 1)
    ece = sum(r["n"] / n * abs(r["accuracy"] - r["confidence"]) for r in rows)
    return {"bins": rows, "ece": round(float(ece), 4)}


def errors(result: Answers, n: int = 10, width: int = 160) -> list[dict[str, Any]]:
    """The `n` most confident mistakes, text shortened to `width` characters."""
    confidence = result.probabilities.max(axis=1)
    wrong = [
        i for i, (g, p) in enumerate(zip(result.gold, result.predicted, strict=True)) if g != p
    ]
    wrong.sort(key=lambda i: -confidence[i])
    return [
        {
            "text": _shorten(result.texts[i], width),
            "truth": result.gold[i],
            "said": result.predicted[i],
            "confidence": round(float(confidence[i]), 3),
        }
        for i in wrong[:n]
    ]


def _shorten(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def confusion_figure(result: Answers, title: str) -> Figure:
    """The confusion matrix as a picture, counts in the cells."""
    from matplotlib.figure import Figure

    matrix = confusion(result)
    figure = Figure(figsize=(1.2 * len(result.labels) + 2, 1.1 * len(result.labels) + 1.5))
    axes = figure.subplots()
    axes.imshow(matrix, cmap="Blues")
    ticks = range(len(result.labels))
    axes.set_xticks(ticks, result.labels, rotation=30, ha="right")
    axes.set_yticks(ticks, result.labels)
    axes.set_xlabel("predicted")
    axes.set_ylabel("truth")
    for (row, column), count in np.ndenumerate(matrix):
        colour = "white" if count > matrix.max() / 2 else "black"
        axes.text(column, row, str(count), ha="center", va="center", color=colour)
    axes.set_title(title)
    figure.tight_layout()
    return figure


def reliability_figure(result: Answers, title: str, bins: int = 10) -> Figure:
    """The reliability plot: accuracy against confidence per bin, the diagonal is calibrated."""
    from matplotlib.figure import Figure

    table = reliability(result, bins)
    figure = Figure(figsize=(4.5, 4.5))
    axes = figure.subplots()
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", label="calibrated")
    points = table["bins"]
    axes.plot(
        [b["confidence"] for b in points],
        [b["accuracy"] for b in points],
        marker="o",
        label=f"model (ECE {table['ece']})",
    )
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)
    axes.set_xlabel("confidence of the top label")
    axes.set_ylabel("accuracy")
    axes.set_title(title)
    axes.legend(loc="upper left")
    figure.tight_layout()
    return figure


def save_figure(figure: Figure, folder: Path | str | None, name: str) -> Figure:
    """Write the figure as `name`.png into `folder` (when given); returns it for display."""
    if folder is not None:
        Path(folder).mkdir(parents=True, exist_ok=True)
        figure.savefig(Path(folder) / f"{name}.png", dpi=90)
    return figure


# --- smoke runs, held-out sets, tables


SMOKE_STEPS_PER_ROW = 1 / 20
"""A smoke run trains SAMPLE/20 steps (10 for SAMPLE=200): enough to see every stage work."""


def run_settings(
    sample: int | None, epochs: int | None, max_steps: int | None, eval_limit: int | None
) -> tuple[int, int | None, int | None]:
    """(epochs, step cap, rows per held-out file): what is not set explicitly is the full
    run's (2 epochs, no cap, every row), or for a smoke run (`sample`) one epoch, SAMPLE/20
    steps and SAMPLE/2 rows."""
    if sample is None:
        return epochs or 2, max_steps, eval_limit
    return (
        epochs or 1,
        max_steps or max(1, round(sample * SMOKE_STEPS_PER_ROW)),
        eval_limit or max(1, sample // 2),
    )


def heldout_sets(
    paths: Sequence[Path], task: str, staged: Staged, limit: int | None = None
) -> dict[str, tuple[list[str], list[str]]]:
    """Texts and labels of every held-out file (first `limit` rows) and of the team's
    held-out slice for `task`, by the card's set name."""
    sets = {}
    for path in paths:
        texts, labels = read_labelled_tsv(path, task)
        sets[path.name] = (texts[:limit], labels[:limit])
    if rows := staged.team_heldout.get(task):
        sets[TEAM_HELDOUT_SET] = ([t for t, _ in rows], [label for _, label in rows])
    return sets


def team_metrics(
    classifier: TextClassifier, staged: Staged, task: str
) -> dict[str, dict[str, Any]]:
    """`evaluate` on the team's held-out slice for `task` ({} without one)."""
    from classifiers.evaluation import evaluate

    rows = staged.team_heldout.get(task)
    if not rows:
        return {}
    return {TEAM_HELDOUT_SET: evaluate(classifier, *map(list, zip(*rows, strict=True)))}


HEADLINE = (
    "n",
    "micro_f1",
    "macro_f1",
    "category_accuracy",
    "category_macro_f1",
    "action_accuracy",
    "troll_f1",
    "threat_recall",
)


def metrics_table(metrics: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> str:
    """Markdown: one row per task and held-out set, the headline figures as columns."""
    present = [
        f for f in HEADLINE if any(f in s for sets in metrics.values() for s in sets.values())
    ]
    lines = ["| task | held-out set | " + " | ".join(present) + " |"]
    lines.append("|---|---|" + "---|" * len(present))
    for task, sets in metrics.items():
        for name, figures in sets.items():
            cells = " | ".join(str(figures.get(f, "")) for f in present)
            lines.append(f"| {task} | {name} | {cells} |")
    return "\n".join(lines)


def errors_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """Markdown table of error examples (`errors`)."""
    lines = ["| truth | said | confidence | text |", "|---|---|---|---|"]
    for row in rows:
        text = str(row["text"]).replace("|", "\\|")
        lines.append(f"| {row['truth']} | {row['said']} | {row['confidence']} | {text} |")
    return "\n".join(lines) if rows else "No errors."


def sample_cases(
    cases: Sequence[TriageCase], writers: Sequence[str], sample: int | None, seed: int = 0
) -> tuple[list[TriageCase], list[str]]:
    """About `sample` cases, the same share of every writer's every category and at least
    one of each, so leave-one-writer-out still sees every category; None: all."""
    if sample is None or sample >= len(cases):
        return list(cases), list(writers)
    share = sample / len(cases)
    cells: dict[tuple[str, str], list[int]] = {}
    for i, (case, writer) in enumerate(zip(cases, writers, strict=True)):
        cells.setdefault((writer, case.category), []).append(i)
    rng = np.random.default_rng(seed)
    keep = sorted(
        i
        for members in cells.values()
        for i in rng.choice(members, size=max(1, round(len(members) * share)), replace=False)
    )
    return [cases[i] for i in keep], [writers[i] for i in keep]


def triage_answers(cases: Sequence[TriageCase], triages: Sequence[Any]) -> Answers:
    """Triage categories as `Answers` (the category's confidence at the chosen label), for
    the same confusion, reliability and error views as the text classifiers."""
    from classifiers.triage import CATEGORIES

    labels = tuple(CATEGORIES)
    probabilities = np.zeros((len(cases), len(labels)))
    for row, triage in enumerate(triages):
        probabilities[row, labels.index(triage.category.label)] = triage.category.confidence
    return Answers(
        labels,
        [c.text for c in cases],
        [c.category for c in cases],
        [t.category.label for t in triages],
        probabilities,
    )


def category_headline(figures: Mapping[str, Any]) -> dict[str, Any]:
    """Card figures of a set labelled with categories only (the team's decisions): no action
    accuracy, and on a small slice only what it can show: macro-F1 over the categories that
    occur in it (as truth or answer), troll F1 and threat recall only where there are some."""
    per = figures["per_category"]
    matrix = np.array(figures["confusion_matrix"]["rows"])
    labels = figures["confusion_matrix"]["labels"]
    present = [c for i, c in enumerate(labels) if matrix[i].sum() or matrix[:, i].sum()]
    out = {
        "n": figures["n"],
        "category_accuracy": figures["category_accuracy"],
        "category_macro_f1": round(float(np.mean([per[c]["f1"] for c in present])), 4),
    }
    if "troll" in present:
        out["troll_f1"] = per["troll"]["f1"]
    if per["threat"]["support"]:
        out["threat_recall"] = per["threat"]["recall"]
    return out


def troll_figures(said: Sequence[str], truth: Sequence[str]) -> dict[str, Any]:
    """Triage's troll category against the team's troll yes/no decisions."""
    from sklearn.metrics import precision_recall_fscore_support

    predicted = [label == "troll" for label in said]
    actual = [label == "troll" for label in truth]
    p, r, f, _ = precision_recall_fscore_support(
        actual, predicted, average="binary", zero_division=0
    )
    return {
        "n": len(truth),
        "troll_precision": round(float(p), 4),
        "troll_recall": round(float(r), 4),
        "troll_f1": round(float(f), 4),
    }


@dataclass(frozen=True)
class TriageHeldOut:
    """A saved triage bundle's answers on every held-out set, and the card's figures."""

    cases: dict[str, list[TriageCase]]
    triages: dict[str, list[Any]]
    metrics: dict[str, dict[str, Any]]


def triage_heldout(
    directory: Path,
    checks: Sequence[Path],
    limit: int | None,
    team_heldout: Sequence[TriageCase],
    trolls: Sequence[tuple[str, str]],
    measured: Mapping[str, Mapping[str, Any]],
) -> TriageHeldOut:
    """The bundle in `directory` on the check sets (first `limit` posts), the team's held-out
    category decisions and troll decisions; `measured`: the trainer's figures (out of
    writer, check sets), to which the team's sets are added."""
    from classifiers.evaluation import evaluate_triage, read_triage_cases
    from classifiers.training.train_triage import triage_cases

    cases = {f"check {path.name}": read_triage_cases(path)[:limit] for path in checks}
    if team_heldout:
        cases[TEAM_HELDOUT_SET] = list(team_heldout)
    triages = {name: triage_cases(directory, rows) for name, rows in cases.items()}
    metrics = {name: dict(figures) for name, figures in measured.items()}
    if team_heldout:
        figures = evaluate_triage(team_heldout, triages[TEAM_HELDOUT_SET])
        metrics[TEAM_HELDOUT_SET] = category_headline(figures)
    if trolls:
        posts = [team_case(text, "troll") for text, _ in trolls]  # the category is not read
        said = [t.category.label for t in triage_cases(directory, posts)]
        metrics["team_troll"] = troll_figures(said, [label for _, label in trolls])
    return TriageHeldOut(cases, triages, metrics)
