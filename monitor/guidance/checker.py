"""The draft checker, the second pair of eyes: the playbook rules applied to a reply draft.

It never replaces the colleague who reads every reply (`four_eyes`); it points that colleague
at what breaks a rule, with the span it is about. `block` means the draft must not go out as
it is; `warn` means a person should look again.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from enum import StrEnum

from classifiers.base import TextClassifier
from classifiers.personal_data import GERMAN_NAMES, find_personal_data
from monitor.guidance.playbooks import RULES, Category, ReplyPolicy, playbook_for
from monitor.guidance.templates import filled_pattern
from monitor.guidance.tone import Tone, other_form

OFFENSIVE_THRESHOLD = 0.5
MAX_EXCERPT = 40


class Severity(StrEnum):
    BLOCK = "block"
    WARN = "warn"


@dataclass(frozen=True)
class Finding:
    severity: Severity
    rule: str
    """The id of the playbook rule it enforces (`monitor.guidance.playbooks.RULES`)."""
    message: str
    """German, for the team."""
    start: int
    end: int
    """Character offsets into the draft; the whole draft where no part is to blame."""

    def __post_init__(self) -> None:
        if self.rule not in RULES:
            raise ValueError(f"finding for unknown rule {self.rule!r}")

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class ReplyContext:
    """What the checker knows about the reply besides its text."""

    category: Category
    tone: Tone
    platform: str
    length_limit: int | None
    """The platform's limit in characters; None: no limit."""
    post_text: str = ""
    """The post being answered."""
    template: str | None = None
    """The saved reply the draft started from, with its placeholders."""
    public: bool = True
    """False for a direct message, the place where personal data belongs."""


def check_reply(draft: str, context: ReplyContext, offensive: TextClassifier) -> list[Finding]:
    """Every finding on `draft`, in the order of the draft's text; blocking ones first at equal
    positions. `offensive` is the configured offensive-language model."""
    findings = [finding for check in _CHECKS for finding in check(draft, context)]
    findings += _offensive_model(draft, offensive)
    return sorted(findings, key=lambda f: (f.start, f.severity is not Severity.BLOCK, f.end))


def blocks(findings: list[Finding]) -> bool:
    """Whether the draft must not go out as it is."""
    return any(finding.severity is Severity.BLOCK for finding in findings)


def _words(alternatives: str) -> re.Pattern[str]:
    r"""Whole-word alternatives separated by ';' (`\w*` allows endings; a line break and its
    indentation are dropped), case-insensitive; ä, ö, ü and ß also match ae, oe, ue and ss."""
    spelled = {"ä": "(?:ä|ae)", "ö": "(?:ö|oe)", "ü": "(?:ü|ue)", "ß": "(?:ß|ss)"}
    parts = (re.sub(r"\s*\n\s*", "", part).strip() for part in alternatives.split(";"))
    pattern = "|".join(part for part in parts if part)
    for letter, both in spelled.items():
        pattern = pattern.replace(letter, both)
    return re.compile(rf"(?<!\w)(?:{pattern})(?!\w)", re.IGNORECASE)


def _excerpt(draft: str, start: int, end: int) -> str:
    text = draft[start:end]
    return text if len(text) <= MAX_EXCERPT else text[: MAX_EXCERPT - 1] + "…"


Check = Callable[[str, ReplyContext], list[Finding]]


def _matches(
    pattern: re.Pattern[str],
    severity: Severity,
    rule: str,
    message: Callable[[str], str],
    applies: Callable[[ReplyContext], bool] = lambda context: True,
) -> Check:
    """A check reporting every match of `pattern` (where it `applies`), the message built from
    the matched text."""

    def check(draft: str, context: ReplyContext) -> list[Finding]:
        if not applies(context):
            return []
        return [
            Finding(severity, rule, message(_excerpt(draft, *match.span())), *match.span())
            for match in pattern.finditer(draft)
        ]

    return check


# --- stay_factual: insults and sarcasm aimed at the customer ---------------------------------

_insults = _matches(
    _words(r"""
        (?:voll)?idiot\w*; depp(?:en)?; trottel\w*; vollpfosten; schwachkopf\w*; dummkopf\w*;
        arschl(?:ö|o)ch\w*; spinner\w*; nörgler\w*; querulant\w*; heulsuse\w*; jammerlappen\w*;
        wichtigtuer\w*; besserwisser\w*; penner;
        (?:sie|du) (?:sind|bist) (?:\w+ ){0,2}(?:zu )?(?:dumm|blöd\w*|unfähig|bescheuert
            |lächerlich|peinlich|unverschämt|frech);
        halt (?:die|deine|ihre) (?:klappe|fresse); (?:hören sie|hör) auf zu (?:heulen|jammern)
    """),
    Severity.BLOCK,
    "stay_factual",
    lambda text: f"„{text}“ greift die Person an. Beim Problem bleiben, nie persönlich werden.",
)
_sarcasm = _matches(
    _words(r"""
        danke für nichts; (?:herzlichen )?glückwunsch; na toll; na super; lesen bildet;
        wer lesen kann,? ist klar im vorteil; (?:selbst|selber) schuld; nicht unser problem;
        (?:sie|du) schon wieder; \*seufz\*; \U0001f644;
        wie (?:bereits|schon) (?:mehrfach|x-mal|zigmal) (?:gesagt|erklärt|geschrieben);
        schon mal (?:was )?von \w+ gehört
    """),
    Severity.WARN,
    "stay_factual",
    lambda text: f"„{text}“ klingt sarkastisch oder genervt. Sachlich formulieren.",
)


def _offensive_model(draft: str, offensive: TextClassifier) -> list[Finding]:
    if not draft.strip():
        return []
    probability = offensive.predict([draft])[0].scores.get("offensive", 0.0)
    if probability < OFFENSIVE_THRESHOLD:
        return []
    message = (
        f"Das Modell für beleidigende Sprache schlägt an ({probability:.0%}). "
        "Den Ton prüfen: sachlich, nie persönlich."
    )
    return [Finding(Severity.WARN, "stay_factual", message, 0, len(draft))]


# --- private_channel ------------------------------------------------------------------------


def _personal_data(draft: str, context: ReplyContext) -> list[Finding]:
    if not context.public:
        return []
    return [
        Finding(
            Severity.WARN,
            "private_channel",
            f"{GERMAN_NAMES[data.kind]} in einer öffentlichen Antwort. Persönliche Daten nur "
            "im privaten Kanal austauschen (Direktnachricht, E-Mail).",
            data.start,
            data.end,
        )
        for data in find_personal_data(draft)
    ]


# --- no_blackmail ---------------------------------------------------------------------------

_CONCESSION = _words(r"""
    gutschein\w*; gutschrift\w*; rabatt\w*; kostenlos\w*; gratis; geschenk\w*; entschädigung\w*;
    erstatt\w*; freimonat\w*; kulanz\w*; prämie\w*; \d+(?:[.,]\d+)? ?(?:€|euro|eur); € ?\d+;
    (?:wenn|sobald|falls) (?:sie|du|ihr) [^.!?]{0,60}?(?:lösch|entfern|zurückzieh|offline nehm
        |nicht (?:veröffentlich|post|teil))\w*;
    im gegenzug; dafür (?:löschen|entfernen) (?:sie|du)
""")


_blackmail = _matches(
    _CONCESSION,
    Severity.BLOCK,
    "no_blackmail",
    lambda text: (
        f"„{text}“ kommt einer Erpressung entgegen. Keine Gegenleistung anbieten; ein "
        "berechtigter Anspruch wird davon getrennt im privaten Kanal geklärt."
    ),
    applies=lambda context: context.category is Category.THREAT,
)


# --- truthful: promises the team cannot check ------------------------------------------------

_WEEKDAYS = "montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag"
_PROMISES = _words(rf"""
    garantier\w*; garantie\w*; versprech\w*; versproch\w*; 100 ?%; hundertprozentig; ganz sicher;
    sofort (?:erstatt|überwies|zurück)\w*; (?:wird|kommt) (?:so )?nie wieder vor\w*;
    wird nie wieder passieren; (?:noch )?heute noch;
    (?<!guten )(?:bis )?(?:spätestens )?(?:über)?morgen;
    (?:bis|am) (?:spätestens )?(?:{_WEEKDAYS}|ende der woche|zum \d{{1,2}}\.(?:\d{{1,2}}\.)?);
    \d{{1,2}}\.\d{{1,2}}\.(?:\d{{2,4}})?;
    (?:innerhalb von|in) \d+ (?:stunden|tagen|werktagen|wochen)
""")


_promises = _matches(
    _PROMISES,
    Severity.WARN,
    "truthful",
    lambda text: f"„{text}“ sagt etwas zu. Nur zusagen, was das Team selbst einhalten kann.",
)


# --- house rules: tone and length ------------------------------------------------------------


def _tone(draft: str, context: ReplyContext) -> list[Finding]:
    expected = "siezt" if context.tone is Tone.SIE else "duzt"
    return [
        Finding(
            Severity.WARN,
            "brand_tone",
            f"„{draft[start:end]}“ passt nicht zur Anrede: die Marke {expected}.",
            start,
            end,
        )
        for start, end in other_form(draft, context.tone)
    ]


def _length(draft: str, context: ReplyContext) -> list[Finding]:
    limit = context.length_limit
    if limit is None or len(draft) <= limit:
        return []
    message = (
        f"{len(draft)} Zeichen, {context.platform} erlaubt {limit}. Kürzen oder die Details im "
        "privaten Kanal klären."
    )
    return [Finding(Severity.WARN, "length_limit", message, limit, len(draft))]


# --- complaints: individual content, thanks or apology ----------------------------------------

_THANKS_OR_APOLOGY = _words(r"""
    dank\w*; entschuldig\w*; tut (?:mir|uns) (?:sehr |wirklich )?leid; bedauer\w*; sorry
""")


def _stock_template(draft: str, context: ReplyContext) -> list[Finding]:
    if context.category is not Category.COMPLAINT or context.template is None:
        return []
    if not filled_pattern(context.template).fullmatch(draft.strip()):
        return []
    message = (
        "Der Textbaustein ist unverändert. Auf den Fall eingehen und eine Lösung für genau "
        "dieses Anliegen anbieten."
    )
    return [Finding(Severity.WARN, "individual_solution", message, 0, len(draft))]


def _thanks(draft: str, context: ReplyContext) -> list[Finding]:
    if context.category is not Category.COMPLAINT or _THANKS_OR_APOLOGY.search(draft):
        return []
    message = "Weder Dank noch Entschuldigung: für die Beschwerde danken oder den Ärger bedauern."
    return [Finding(Severity.WARN, "thank_and_take_seriously", message, 0, len(draft))]


# --- dont_feed_trolls -----------------------------------------------------------------------


def _troll(draft: str, context: ReplyContext) -> list[Finding]:
    if playbook_for(context.category).reply is not ReplyPolicy.FACTS_ONCE:
        return []
    if "?" in context.post_text:
        message = (
            "Antwort an einen Troll: nur die sachliche Frage einmal mit Fakten beantworten, "
            "auf die Provokation nicht eingehen."
        )
    else:
        message = "Der Beitrag stellt keine Frage: nicht antworten, Trolle nicht füttern."
    return [Finding(Severity.WARN, "dont_feed_trolls", message, 0, len(draft))]


_CHECKS: tuple[Check, ...] = (
    _insults,
    _sarcasm,
    _personal_data,
    _blackmail,
    _promises,
    _tone,
    _length,
    _stock_template,
    _thanks,
    _troll,
)
