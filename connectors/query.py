"""Platform search queries from the configured terms, split to fit the platform's length limit.

Each group of terms is OR-ed and the groups are AND-ed: `(brand OR brand) (word OR word)`.
When the terms do not fit into one query, the groups are split into chunks and every
combination of chunks becomes a query of its own, so together they ask for exactly what one
unlimited query would.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence

OPERATORS = frozenset({"OR", "AND", "NOT"})


def quote(term: str, bare: re.Pattern[str]) -> str:
    """A term as the search syntax needs it: bare if `bare` allows it, else a quoted phrase."""
    cleaned = " ".join(term.replace('"', " ").split())
    if bare.fullmatch(cleaned) and cleaned not in OPERATORS:
        return cleaned
    return f'"{cleaned}"'


def unique(terms: Iterable[str]) -> list[str]:
    """Terms without blanks and case-insensitive repeats, first spelling kept.

    `lower`, not `casefold`: "scheiß" and "scheiss" are different words to a search engine.
    """
    seen: set[str] = set()
    kept: list[str] = []
    for term in terms:
        folded = term.lower()
        if term and folded not in seen:
            seen.add(folded)
            kept.append(term)
    return kept


def or_group(quoted: Sequence[str]) -> str:
    return quoted[0] if len(quoted) == 1 else "(" + " OR ".join(quoted) + ")"


def build_queries(groups: Sequence[Sequence[str]], suffix: str, max_length: int) -> list[str]:
    """Every query needed to cover `groups` (already quoted terms) within `max_length`.

    Empty groups are left out; `suffix` (operators such as `lang:de`) ends every query.
    """
    kept = [list(group) for group in groups if group]
    if not kept:
        raise ValueError("no search terms configured")
    budget = max_length - (len(suffix) + 1 if suffix else 0)
    queries = []
    for parts in _combine(kept, budget):
        queries.append(" ".join([*parts, suffix] if suffix else parts))
    return queries


def _combine(groups: list[list[str]], budget: int) -> list[list[str]]:
    if not groups:
        return [[]]
    first, rest = groups[0], groups[1:]
    # Later groups need room for at least their longest single term each.
    reserve = sum(max(len(term) for term in group) + 1 for group in rest)
    combined = []
    for chunk in _chunks(first, budget - reserve):
        rendered = or_group(chunk)
        combined += [[rendered, *tail] for tail in _combine(rest, budget - len(rendered) - 1)]
    return combined


def _chunks(terms: list[str], limit: int) -> list[list[str]]:
    """Greedy split of OR-ed terms into groups no longer than `limit` characters."""
    chunks: list[list[str]] = []
    current: list[str] = []
    for term in terms:
        if len(term) > limit:
            raise ValueError(f"search term {term} does not fit into a query of this length")
        if current and len(or_group([*current, term])) > limit:
            chunks.append(current)
            current = []
        current.append(term)
    chunks.append(current)
    return chunks


def query_key(prefix: str, query: str) -> str:
    """A short stable cursor key: a changed query starts over instead of inheriting a cursor."""
    return prefix + hashlib.sha1(query.encode("utf-8")).hexdigest()[:12]
