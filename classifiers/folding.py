"""German text folding: one spelling per word, so "Störung", "STOERUNG" and "störung" compare equal.

It sits in classifiers/, the bottom floor, because connectors/ (stream pre-filters),
classifiers/ (troll and spam rules) and monitor/ (the brand matcher's terms) all need the same
folding and none of them may import upwards.
"""

from __future__ import annotations

import unicodedata

_SPELLED_OUT = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "’": "'", "‘": "'", "´": "'", "`": "'"}
)


def fold(text: str) -> str:
    """NFKC, casefold (which spells ß and ẞ as ss), ä/ö/ü as ae/oe/ue, one kind of apostrophe.

    NFKC first, so a decomposed ü (as macOS writes it) folds like a composed one.
    """
    return unicodedata.normalize("NFKC", text).casefold().translate(_SPELLED_OUT)
