"""Promotional spam and phishing that use a brand's name: recognised so they stay out of the
queue, where they would bury the customers who need an answer.

The sentiment model cannot tell them apart: "Ihre Sendung konnte nicht zugestellt werden,
bitte bestätigen Sie …" reads like a complaint. What gives spam away is the combination of
advertising or phishing phrasing with automated behaviour (a link or a "DM me", and an account
posting dozens of times a day or only days old). Either alone is common among real customers
("Ist diese Zollgebühr-SMS von DHL echt?"), so a post needs both.
"""

from __future__ import annotations

import re

from classifiers.troll import AuthorSignals, fold

# Folded text (see `troll.fold`: lower case, umlauts and ß spelled out).
PROMOTION = re.compile(
    r"\b(gratis|gewinnspiel|gewinne[n]?|verschenkt|rabatt|bonus|gutschein|jetzt sichern|nur heute"
    r"|hier klicken|link in (der )?bio|dm fuer infos|verdiene|pro woche|krypto|memecoin"
    r"|teilen und gewinnen|jetzt bezahlen|bestaetigen sie|zollgebuehr|nur ueber diesen link)\b"
)
CALL_TO_ACTION = re.compile(
    r"https?://|\blink in (der )?bio\b|\bdm fuer infos\b|\bin meiner gruppe\b"
)
BULK_POSTS_PER_DAY = 50
NEW_ACCOUNT_DAYS = 30


def spam_reasons(text: str, author: AuthorSignals) -> list[str]:
    """German reasons why the post looks like spam; empty when it does not."""
    folded = fold(text)
    promotion = PROMOTION.search(folded)
    if promotion is None or CALL_TO_ACTION.search(folded) is None:
        return []
    automated = []
    if author.posts_last_24h is not None and author.posts_last_24h >= BULK_POSTS_PER_DAY:
        automated.append(f"{author.posts_last_24h} Beiträge in 24 Stunden")
    if author.account_age_days is not None and author.account_age_days < NEW_ACCOUNT_DAYS:
        automated.append(f"Konto erst {author.account_age_days} Tage alt")
    if not automated:
        return []
    phrase = promotion.group(0)
    return [f"Werbe- oder Phishing-Text („{phrase}“) mit Link oder Kontaktaufforderung", *automated]
