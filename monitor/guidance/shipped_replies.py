"""The saved replies Rufwacht ships: German starting points per category, in Sie and du.

`rufwacht init` (or `rufwacht replies seed`) stores them in a database that has no saved
replies yet; from then on they belong to the team's leads, who edit them. They are short of
detail on purpose: the checker warns when a complaint is answered with one unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.guidance.playbooks import Category
from monitor.guidance.tone import Tone


@dataclass(frozen=True)
class ShippedReply:
    category: Category
    tone: Tone
    title: str
    body: str


SHIPPED_REPLIES: tuple[ShippedReply, ...] = (
    ShippedReply(
        Category.COMPLAINT,
        Tone.SIE,
        "Erste Antwort",
        "Hallo {name}, danke für Ihre Nachricht, und es tut uns leid, dass es nicht geklappt "
        "hat. Wir sehen uns das an. Schicken Sie uns dafür bitte eine Direktnachricht, dann "
        "klären wir die Details dort. Viele Grüße, {agent}",
    ),
    ShippedReply(
        Category.COMPLAINT,
        Tone.DU,
        "Erste Antwort",
        "Hallo {name}, danke für deine Nachricht, und es tut uns leid, dass es nicht geklappt "
        "hat. Wir sehen uns das an. Schick uns dafür bitte eine Direktnachricht, dann klären "
        "wir die Details dort. Viele Grüße, {agent}",
    ),
    ShippedReply(
        Category.COMPLAINT,
        Tone.SIE,
        "Zwischenstand",
        "Hallo {name}, ein kurzer Zwischenstand zu Vorgang {ticket}: Die Kollegen sind noch "
        "dran. Wir melden uns wieder, sobald es Neues gibt. Danke für Ihre Geduld! {agent}",
    ),
    ShippedReply(
        Category.COMPLAINT,
        Tone.DU,
        "Zwischenstand",
        "Hallo {name}, ein kurzer Zwischenstand zu Vorgang {ticket}: Die Kollegen sind noch "
        "dran. Wir melden uns wieder, sobald es Neues gibt. Danke für deine Geduld! {agent}",
    ),
    ShippedReply(
        Category.QUESTION,
        Tone.SIE,
        "Antwort mit Hilfeseite",
        "Hallo {name}, danke für Ihre Frage. Kurz gesagt: … Ausführlich steht es auf der "
        "Hilfeseite von {brand}. Viele Grüße, {agent}",
    ),
    ShippedReply(
        Category.QUESTION,
        Tone.DU,
        "Antwort mit Hilfeseite",
        "Hallo {name}, danke für deine Frage. Kurz gesagt: … Ausführlich steht es auf der "
        "Hilfeseite von {brand}. Viele Grüße, {agent}",
    ),
    ShippedReply(
        Category.TROLL,
        Tone.SIE,
        "Sachliche Richtigstellung",
        "Hallo {name}, zur Sache: … Die Belege dazu finden Sie auf den offiziellen Seiten von "
        "{brand}. {agent}",
    ),
    ShippedReply(
        Category.TROLL,
        Tone.DU,
        "Sachliche Richtigstellung",
        "Hallo {name}, zur Sache: … Die Belege dazu findest du auf den offiziellen Seiten von "
        "{brand}. {agent}",
    ),
    ShippedReply(
        Category.THREAT,
        Tone.SIE,
        "Ruhige Antwort",
        "Hallo {name}, wenn es ein Problem mit {brand} gibt, klären wir es gern mit Ihnen per "
        "Direktnachricht. Auf Drohungen gehen wir nicht ein. {agent}",
    ),
    ShippedReply(
        Category.THREAT,
        Tone.DU,
        "Ruhige Antwort",
        "Hallo {name}, wenn es ein Problem mit {brand} gibt, klären wir es gern mit dir per "
        "Direktnachricht. Auf Drohungen gehen wir nicht ein. {agent}",
    ),
    ShippedReply(
        Category.CRISIS,
        Tone.SIE,
        "Vorfall bekannt",
        "Hallo {name}, danke für den Hinweis. Die Störung ist uns bekannt, die Kollegen "
        "arbeiten daran. Neue Informationen posten wir hier, sobald wir sie haben. {agent}",
    ),
    ShippedReply(
        Category.CRISIS,
        Tone.DU,
        "Vorfall bekannt",
        "Hallo {name}, danke dir für den Hinweis. Die Störung ist uns bekannt, die Kollegen "
        "arbeiten daran. Neue Informationen posten wir hier, sobald wir sie haben. {agent}",
    ),
    ShippedReply(
        Category.PRAISE,
        Tone.SIE,
        "Danke",
        "Hallo {name}, vielen Dank für Ihr Lob! Wir geben es gern an das Team weiter. "
        "Viele Grüße, {agent}",
    ),
    ShippedReply(
        Category.PRAISE,
        Tone.DU,
        "Danke",
        "Hallo {name}, vielen Dank für dein Lob! Wir geben es gern an das Team weiter. "
        "Viele Grüße, {agent}",
    ),
)
