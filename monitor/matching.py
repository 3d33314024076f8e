"""Finding configured brands, their products and negative keywords in German posts, with spans.

Matching runs on the original text, so every span is an offset into the post as written and
there is no offset map to keep right (folding changes lengths: ß → ss). A plain term is
folded (`classifiers.folding.fold`) and compiled into a case-insensitive pattern whose
ae/oe/ue/ss accept ä/ö/ü/ß, composed or decomposed; a term in braces (`monitor.terms`) accepts
only its own spelling. Everything is compiled once, so a broken term is reported at start-up.
`regex` rather than `re`: it runs these boundary-anchored, case-insensitive patterns two to
four times faster and scopes case-sensitivity to one alternative (`(?-i:…)`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import regex

from classifiers.folding import fold
from monitor.settings import BrandSettings
from monitor.terms import Term, parse_term

Kind = Literal["brand", "product", "keyword"]

_FOLDED_SPELLINGS = regex.compile(r"ae|oe|ue|ss|'")
_SPELLINGS = {
    "ae": "(?:ae|ä|a\u0308)",
    "oe": "(?:oe|ö|o\u0308)",
    "ue": "(?:ue|ü|u\u0308)",
    "ss": "(?:ss|ß)",
    "'": "['’‘´`]",
}

# Brand words, and the parts of any hyphenated word, may be written together, apart or
# hyphenated: "Deutsche Bahn" also finds "#DeutscheBahn" and "Deutsche-Bahn".
_JOINED = r"[\s_-]*"
# Keyword phrases allow up to three other words in between, within one sentence.
_GAP = r"(?:[^\w.!?]+\w+){0,3}?[^\w.!?]+"
# German genitive and plural endings: "Telekoms", "Sparkassen", "der Deutschen Bahn".
_ENDINGS = r"(?:e?[sn])?"


@dataclass(frozen=True)
class Span:
    """Which configured term matched where, for highlighting and for explaining a match."""

    start: int
    end: int
    text: str
    """The span as written in the post: `text[start:end]`."""
    term: str
    """The alias, product, name or keyword as configured (braces included)."""
    kind: Kind
    brand: str | None
    """The brand a brand or product span counts for; None for keywords."""


@dataclass(frozen=True)
class MatchResult:
    brands: list[str]
    """Matched brand names, in config order."""
    keywords: list[str]
    """Matched keyword terms as configured, in config order."""
    spans: list[Span] = field(default_factory=list)
    """Every occurrence, in text order."""


def _letters(text: str) -> str:
    """Exact spelling, but a composed and a decomposed umlaut are one letter."""
    return "".join(
        f"(?:{regex.escape(char)}|{regex.escape(unicodedata.normalize('NFD', char))})"
        if unicodedata.normalize("NFD", char) != char
        else regex.escape(char)
        for char in unicodedata.normalize("NFC", text)
    )


def _word_pattern(word: str, case_sensitive: bool, ending: str) -> str:
    """One word of a term; a trailing `*` stands for any ending, else `ending` may follow."""
    stem = word.removesuffix("*")
    if case_sensitive:
        pattern = _letters(stem)
    else:
        pattern = _FOLDED_SPELLINGS.sub(lambda m: _SPELLINGS[m[0]], regex.escape(fold(stem)))
    return pattern.replace(r"\-", _JOINED) + (r"\w*" if stem != word else ending)


def _term_pattern(term: Term, joiner: str, inflect: bool = False) -> str:
    """A whole term whose words are joined by `joiner`, without word boundaries.

    Inflection never applies to @handles and #hashtags: "@DB_Bahns" is someone else.
    """
    ending = _ENDINGS if inflect and term.text[0] not in "@#" else ""
    body = joiner.join(_word_pattern(word, term.case_sensitive, ending) for word in term.words)
    return f"(?-i:{body})" if term.case_sensitive else body


def _bounded(alternatives: Sequence[str]) -> regex.Pattern[str]:
    return regex.compile(rf"(?<!\w)(?:{'|'.join(alternatives)})(?!\w)", regex.IGNORECASE)


@dataclass(frozen=True)
class _Brand:
    name: str
    terms: dict[str, tuple[Term, Kind]]
    """Each term by the name of its group in `pattern`."""
    pattern: regex.Pattern[str]
    exclude: regex.Pattern[str] | None

    def spans(self, text: str) -> list[Span]:
        """Matches of this brand's terms, without those that overlap an excluded span."""
        matches = list(self.pattern.finditer(text))
        if matches and self.exclude:  # most texts match nothing and skip the exclusion scan
            excluded = [m.span() for m in self.exclude.finditer(text)]
            matches = [m for m in matches if not any(_overlap(m.span(), e) for e in excluded)]
        return [self._span(m) for m in matches]

    def _span(self, m: regex.Match[str]) -> Span:
        term, kind = self.terms[str(m.lastgroup)]
        return Span(m.start(), m.end(), m[0], term.configured, kind, self.name)


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _compile_brand(brand: BrandSettings) -> _Brand:
    named: list[tuple[Term, Kind]] = [(parse_term(brand.name), "brand")]
    named += [(parse_term(alias), "brand") for alias in brand.aliases]
    named += [(parse_term(product), "product") for product in brand.products]
    patterns = {
        f"t{n}": _term_pattern(term, _JOINED, brand.inflect) for n, (term, _) in enumerate(named)
    }
    # Longer patterns first, so a span covers "DB Navigator", not "DB"; exclusions likewise.
    groups = sorted(patterns, key=lambda group: len(patterns[group]), reverse=True)
    pattern = _bounded([f"(?P<{group}>{patterns[group]})" for group in groups])
    excluded = [_term_pattern(parse_term(term), _JOINED, brand.inflect) for term in brand.exclude]
    exclude = _bounded(sorted(excluded, key=len, reverse=True)) if excluded else None
    return _Brand(brand.name, {f"t{n}": term for n, term in enumerate(named)}, pattern, exclude)


def _compile_keywords(terms: Sequence[str]) -> list[tuple[str, regex.Pattern[str]]]:
    """One pattern per keyword; spellings of one term ("scheiß*", "scheiss*") count once."""
    compiled: dict[str, tuple[str, regex.Pattern[str]]] = {}
    for term in terms:
        body = _term_pattern(parse_term(term), _GAP)
        compiled.setdefault(body, (term, _bounded([body])))
    return list(compiled.values())


class Matcher:
    """Finds the configured brands, products and negative keywords in a post's text.

    Brand terms are whole words (or @handles, #hashtags, parts of hyphenated words) with German
    endings unless a brand sets `inflect = false`: "Bahn" finds "Bahn-Chaos" but not
    "Autobahn", "Sparkasse" finds "Sparkassen-Berater". A closed compound counts only when it
    is listed, usually as a product ("BahnCard"). An exclusion removes only the span it
    matches: a brand match overlapping it is dropped, the post's other matches stay. Keywords
    only report what is there; the models judge sentiment.
    """

    def __init__(self, brands: Sequence[BrandSettings], negative_keywords: Sequence[str]) -> None:
        """Compile every term; raises ValueError naming the first invalid one."""
        self._brands = [_compile_brand(brand) for brand in brands]
        self._keywords = _compile_keywords(negative_keywords)

    def match(self, text: str) -> MatchResult:
        brands: list[str] = []
        keywords: list[str] = []
        spans: list[Span] = []
        for brand in self._brands:
            if found := brand.spans(text):
                brands.append(brand.name)
                spans += found
        for term, pattern in self._keywords:
            if found := [
                Span(m.start(), m.end(), m[0], term, "keyword", None)
                for m in pattern.finditer(text)
            ]:
                keywords.append(term)
                spans += found
        spans.sort(key=lambda span: (span.start, span.end))
        return MatchResult(list(dict.fromkeys(brands)), keywords, spans)
