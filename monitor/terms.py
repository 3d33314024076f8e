"""The syntax of a configured term: `{…}` for one exact spelling, `*` for any word ending.

Braces follow Brandwatch's Boolean syntax: `{DB}` matches only "DB", never "db" or "dB";
a plain term is case-insensitive and umlaut-tolerant. Braces enclose a whole term. Settings
validate every term with `parse_term` so a mistake names its key; the matcher compiles the
parsed terms, and platform searches send `Term.text` (searches know no braces).
"""

from __future__ import annotations

from dataclasses import dataclass

import regex

_HAS_WORD_CHAR = regex.compile(r"\w")


@dataclass(frozen=True)
class Term:
    configured: str
    """As written in the config, braces included: what a match reports."""
    text: str
    """Without braces."""
    case_sensitive: bool

    @property
    def words(self) -> list[str]:
        return self.text.split()


def parse_term(term: str) -> Term:
    """The term's parts; raises ValueError naming the term when it cannot be matched."""
    stripped = term.strip()
    case_sensitive = stripped.startswith("{") and stripped.endswith("}")
    text = stripped[1:-1] if case_sensitive else stripped
    if "{" in text or "}" in text:
        problem = "unbalanced braces" if text.count("{") != text.count("}") else "misplaced braces"
        raise ValueError(f"invalid term {term!r}: {problem}; braces enclose a whole term: {{DB}}")
    if not _HAS_WORD_CHAR.search(text):
        raise ValueError(f"invalid term {term!r}: it contains no letters or digits")
    for word in text.split():
        stem = word.removesuffix("*")
        if "*" in stem:
            raise ValueError(f"invalid term {term!r}: '*' is only allowed at the end of a word")
        if stem != word and not _HAS_WORD_CHAR.search(stem):
            raise ValueError(f"invalid term {term!r}: '*' needs letters before it")
    return Term(term, text, case_sensitive)


def validate_terms(terms: list[str]) -> list[str]:
    """A pydantic validator body: every term parses, the list is returned unchanged."""
    for term in terms:
        parse_term(term)
    return terms
