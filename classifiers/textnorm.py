"""One social-media normaliser applied before every model featurises a text.

Training data and live posts come from different platforms (Twitter, Facebook, forums) that
escape, link and mention differently; mapping those surface forms onto one spelling lets a
model learn from the words instead of from where a post was scraped. Emoji, punctuation and
case stay: they carry sentiment, and featurisers can lowercase themselves.
"""

from __future__ import annotations

import html
import re

URL_TOKEN = "URL"
USER_TOKEN = "@user"

# Full links, bare hosts, and the truncated "http…" / "~http" stubs some corpora contain.
_URL = re.compile(r"(?:https?:/*|www\.)[^\s]*|\bhttps?\b…?", re.IGNORECASE)
_MENTION = re.compile(r"(?<!\w)@\w+")
_RUN = re.compile(r"(.)\1{3,}")
_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Unescape HTML, replace links and @mentions by placeholders, shorten runs, tidy spaces.

    Runs of four or more equal characters become three ("soooooo" → "sooo"), so emphasis
    is still visible but every length of it looks the same to the model.
    """
    text = html.unescape(text)
    text = _URL.sub(URL_TOKEN, text)
    text = _MENTION.sub(USER_TOKEN, text)
    text = _RUN.sub(r"\1\1\1", text)
    return _SPACE.sub(" ", text).strip()
