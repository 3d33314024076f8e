"""Sie or du: a brand's form of address, and where a draft uses the other one.

Only unambiguous words count. "du", "dich", "euch" are always informal; capitalised "Sie",
"Ihnen", "Ihr…" are formal only inside a sentence, because at its start they may mean "they"
or address a group informally ("Ihr habt …").
"""

from __future__ import annotations

import re
from enum import StrEnum


class Tone(StrEnum):
    SIE = "sie"
    DU = "du"


_INFORMAL = re.compile(
    r"(?<!\w)(?:du|dich|dir|dein(?:e[mnrs]?)?|euch|euer|eure[mnrs]?)(?!\w)", re.IGNORECASE
)
_FORMAL = re.compile(r"(?<!\w)(?:Sie|Ihnen|Ihre?[mnrs]?)(?!\w)")
_SENTENCE_START = re.compile(r"(?:^|[.!?:…\n])[\s\"„“»(]*$")


def other_form(text: str, tone: Tone) -> list[tuple[int, int]]:
    """Spans of `text` that address the reader in the form the brand does not use."""
    if tone is Tone.SIE:
        return [match.span() for match in _INFORMAL.finditer(text)]
    return [
        match.span()
        for match in _FORMAL.finditer(text)
        if not _SENTENCE_START.search(text, 0, match.start())
    ]
