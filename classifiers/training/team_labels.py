"""The team's exported reviewer decisions (`rufwacht labels export`, docs/labels.md) as
labelled rows next to the public training data, for the retraining notebooks and scripts.

Only the JSONL file is read (classifiers never touch the database). One row per post: the
reviewers' answer where they agree; posts they disagree on are left out unless asked for
(then the majority label, ties dropped).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

_WHITESPACE = re.compile(r"\s+")


def read_team_labels(path: Path, task: str, keep_disputed: bool = False) -> list[tuple[str, str]]:
    """(text, label) per post for one decision task (`sentiment`, `offensive`, `troll`,
    `category`, `false_positive`), in export order."""
    answers: dict[str, Counter[str]] = {}
    texts: dict[str, str] = {}
    disputed: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        if record["task"] != task:
            continue
        post = record["post"]["id"]
        texts[post] = record["post"]["text"]
        answers.setdefault(post, Counter())[record["label"]] += 1
        if record["disagreement"]:
            disputed.add(post)
    rows = []
    for post, counts in answers.items():
        (label, top), *rest = counts.most_common()
        if post in disputed and (not keep_disputed or (rest and rest[0][1] == top)):
            continue
        rows.append((texts[post], label))
    return rows


def write_labelled_tsv(path: Path, rows: list[tuple[str, str]]) -> None:
    """A `text`/`label` TSV as `classifiers.evaluation.read_labelled_tsv` reads it (unquoted:
    tabs and line breaks in a text become spaces)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"{_WHITESPACE.sub(' ', text).strip()}\t{label}" for text, label in rows]
    path.write_text("text\tlabel\n" + "".join(line + "\n" for line in lines), encoding="utf-8")
