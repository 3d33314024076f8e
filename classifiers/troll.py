"""Troll score: offensive language, text cues and author behaviour, with German reasons.

A troll is judged by what a post does, not by how angry it is: a customer who swears about a
cancelled train has a concrete issue and deserves an answer; an account created last week that
posts the same polite insinuation forty times a day does not. So the score combines

- text signals (offensive-language model, insults, provocation/insinuation patterns), damped
  when the post names a concrete issue (numbers, times, products, refunds, "schon wieder" …);
- behaviour signals (account age, posting rate, followers, near-duplicate posts, hostile share
  of the author's recent brand posts), which count only in proportion to how hostile or
  provocative the text itself is: a busy new account posting harmless offers is a spammer or a
  fan, not a troll.

Threats and blackmail are a separate flag with their own reasons; announcing legal action
("ich zeige euch an") is a customer's right and no threat.

Every pattern runs on folded text (`classifiers.folding`: casefolded, ä/ö/ü/ß → ae/oe/ue/ss),
so "Betrüger", "Betrueger" and "BETRÜGER" are one word.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from classifiers.base import TextClassifier
from classifiers.folding import fold

SCORER_VERSION = "troll-rules-1.0"

CONCRETE_DAMPING = 0.7
"""A post with a clear concrete issue keeps only 30% of its text signals."""
FULL_BEHAVIOUR_AT = 0.3
"""Text score from which behaviour signals count fully; below it they count proportionally."""
OFFENSIVE_FLOOR = 0.5
"""The offensive model's probabilities below this are noise on ordinary complaints."""
MIN_REASON = 0.05
"""Signals that moved the score less than this are not worth the team's attention."""


@dataclass(frozen=True)
class AuthorSignals:
    """What the platform says about the account; `None` where it says nothing."""

    account_age_days: int | None
    followers: int | None
    posts_last_24h: int | None


@dataclass(frozen=True)
class HistorySignals:
    """What the same author posted recently, as the monitor's storage knows it."""

    recent_brand_posts: int = 0
    negative_or_offensive_share: float = 0.0
    near_duplicates: int = 0
    """Recent posts by this author that are nearly identical to this one."""
    already_answered: bool = False
    """The team already answered this author on the matter (triage: a repeat complaint is
    watched, not answered again); the troll score ignores it."""


@dataclass(frozen=True)
class TrollResult:
    score: float
    """0–1; at or above the threshold the post counts as trolling."""
    is_troll: bool
    threat: bool
    """Threat of violence, intimidation or public-shaming blackmail; independent of `score`."""
    reasons: list[str]
    """German, for the social media team: threats first, then signals by weight, then whether
    a concrete issue softened the text signals."""
    model_version: str


def word_alternatives(alternatives: str) -> re.Pattern[str]:
    r"""Whole-word alternatives, separated by ';', over folded text (`\w*` allows endings).

    A line break inside an alternative reads as one space, so long alternatives can wrap."""
    parts = [" ".join(part.split()) for part in alternatives.split(";") if part.strip()]
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)")


# --- text cues --------------------------------------------------------------------------

_INSULT = word_alternatives(r"""
    (?:voll)?idiot\w*; vollpfosten; versager\w*; penner; wichser\w*; arschloe?ch\w*;
    hurensoe?hne?; missgeburt\w*; spast\w*; mongo\w*; trottel\w*; depp(?:en)?; schwachmat\w*;
    hohlbirne\w*; hirntot\w*; hirnlos\w*; loser; clowns?; witzfigur\w*; abschaum; gesindel;
    drecks\w+; saftladen; verbrecher\w*; betrueger\w*; abzocker\w*; luegner\w*; schmarotzer\w*;
    pisser\w*; bastard\w*; bescheuert\w*; erbaermlich\w*; fickt euch; fick dich; verpisst euch;
    verpiss dich
""")
_CLOWN_EMOJI = re.compile("\U0001f921")

# Every match adds to the provocation signal: one cue 0.7, two or more 1.
_PROVOCATION = (
    word_alternatives(r"""
        wer'?s glaubt; angeblich\w*; zufall\s*\?; nur mal so; frage fuer einen freund;
        ich stelle? (?:ja )?nur fragen; ich sag(?:e)? ja nur; nur so ein gedanke; man darf ja;
        selbst nachdenken; eigene meinung bilden; hinterfragt; alles gelogen; selbst schuld;
        fanboys?; zensur; bezahlte trolle; gekauft\w*; schlafschaf\w*; wacht auf;
        luegen(?:presse|konzern\w*); systemmedien; boykott\w*; teilen\s*!
    """),
    word_alternatives(
        r"(?:interessant|komisch|seltsam|spannend|merkwuerdig|auffaellig),? (?:dass|wie)"
    ),
    word_alternatives(r"(?:verschweig|vertusch|verheimlich|schoenred)\w*"),
    word_alternatives(r"""
        denkt? (?:mal )?(?:drueber|darueber) nach; wie ?viel (?:zahlt|bezahlt|kriegt);
        faellt (?:das )?(?:eigentlich )?(?:keinem|niemandem)
    """),
    re.compile("\U0001f914"),  # thinking face: the insinuator's favourite
)

# A concrete issue: each kind found counts once. Specifics (numbers, times, places, refund
# requests, "schon wieder") weigh 1; topic words (a product, "Ausfall") weigh half, because an
# insinuation names products too. A weight of 2 makes the issue clear.
_CONCRETE: dict[str, tuple[float, re.Pattern[str]]] = {
    "Zahlen": (1.0, re.compile(r"\d")),
    "Zeitangabe": (
        1.0,
        word_alternatives(r"""
        seit; gestern; heute; vorgestern; morgens?; abends?; montag; dienstag; mittwoch;
        donnerstag; freitag; samstag; sonntag; uhr; minuten?; stunden?; tagen?; wochen?
    """),
    ),
    "Wiederholung": (
        1.0,
        word_alternatives(r"""
        (?<!nie )wieder; erneut; immer noch; noch immer; zum \w+ mal; \w+ mal in folge
    """),
    ),
    "Vorgangsnummer": (1.0, word_alternatives(r"\w*nummer\w*; nr\.?; ticket \d+; auftrag\w*")),
    "Ort": (
        1.0,
        word_alternatives(r"""
        hbf; hauptbahnhof; bahnhof; bahnsteig; gleis; filiale; depot; haustuer; briefkasten;
        nachbar\w*; wagen
    """),
    ),
    "Forderung/Erstattung": (
        1.0,
        word_alternatives(r"""
        erstatt\w*; entschaedigung\w*; fahrgastrechte\w*; geld zurueck; gutschrift; ersatz;
        reklamation\w*; wer zahlt; wann kommt; wie lange
    """),
    ),
    "Produkt/Leistung": (
        0.5,
        word_alternatives(r"""
        zug; zuege; ice; ic; re ?\d*; rb ?\d*; s-?bahn; bus; ersatzbus; anschluss; tickets?;
        fahrkarte\w*; reservierung\w*; sitzplatz\w*; klimaanlage; toilette\w*; pakete?;
        sendung\w*; lieferung\w*; packstation; router; leitung; internet; wlan; netz; empfang;
        festnetz; glasfaser\w*; techniker\w*; hotline; rechnung\w*; abbuchung\w*; vertrag\w*;
        tarif\w*; kuendigung\w*; app; update; navigator; magentatv
    """),
    ),
    "Störung": (
        0.5,
        word_alternatives(r"""
        ausgefallen; faellt aus; ausfall\w*; verspaet\w*; kaputt\w*; defekt\w*; stoerung\w*;
        stuerzt\w*; abgestuerzt; kein (?:netz|internet|empfang); nicht (?:da|angekommen|zugestellt)
    """),
    ),
}

# --- threats -------------------------------------------------------------------------------

_CONDITION = word_alternatives(r"""
    (?:wenn|falls|solange) (?:ihr|du|sie); sonst; entweder; oder ich; letzte warnung;
    ihr habt (?:noch )?(?:zeit )?bis; gebe? euch (?:noch )?(?:zeit )?bis; tick tack
""")
_PUBLISH = re.compile(
    r"(?<!\w)(?:poste|veroeffentliche|verbreite|leake|lade|teile)(?!\w)[^.!?]{0,80}?"
    r"(?<!\w)(?:ueberall|oeffentlich\w*|viral|netz|online|screenshots?|video\w*|chat\w*"
    r"|aufnahme\w*|namen?|adresse\w*|\w*nummer\w*|hoch)(?!\w)"
    r"|(?<!\w)(?:presse|zeitung\w*|medien|tiktok|youtube|instagram|shitstorm|fake-?bewertung\w*"
    r"|publik)(?!\w)"
)
_DOXXING = re.compile(
    r"(?<!\w)(?:poste|veroeffentliche|verbreite|leake)(?!\w)[^.!?]{0,80}?"
    r"(?<!\w)(?:adresse|(?:handy|telefon)nummer|wohnort|privatadresse)(?!\w)"
)
_VIOLENCE = word_alternatives(r"""
    umbringen; abstechen; abknallen; erschiessen; erschlagen; totschlagen; abfackeln;
    fackelt [^.!?]{0,40} ab; anzuenden; in die luft (?:jagen|sprengen); kalt ?machen;
    verpruegel\w*; aufs maul; auf die fresse; fresse polier\w*; polier\w* (?:\w+ ){0,2}fresse;
    abschlachten; messer; waffe
""")
_SHOW_UP = re.compile(
    r"(?<!\w)(?:stehe|stehen|komme|kommen|tauche|tauchen)(?!\w)[^.!?]{0,60}?"
    r"(?<!\w)(?:leuten|jungs|kumpels|freunden|maennern)(?!\w)"
)
_INTIMIDATION = word_alternatives(r"""
    weiss,? wo [^.!?]{0,40}wohn\w*;
    passt (?:\w+ ){0,2}auf[^.!?]{0,60}(?:nachts|dunkel\w*|nach hause|allein\w*|feierabend);
    soll sich (?:bei mir )?(?:besser |lieber )?nicht (?:mehr )?blicken lassen;
    ihr werdet (?:es|das) bereuen
""")

_THREATS: tuple[tuple[str, tuple[re.Pattern[str], ...]], ...] = (
    ("Erpressung: droht mit Veröffentlichung", (_CONDITION, _PUBLISH)),
    ("Drohung: persönliche Daten veröffentlichen", (_DOXXING,)),
    ("Drohung mit Gewalt", (_VIOLENCE,)),
    ("Drohung: will mit mehreren Personen vor Ort auftauchen", (_SHOW_UP,)),
    ("Einschüchterung: droht Mitarbeitenden persönlich", (_INTIMIDATION,)),
)


# --- signals ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Post:
    """One post as the signals see it."""

    folded: str
    offensive: float
    author: AuthorSignals
    history: HistorySignals
    issue_cues: tuple[str, ...]

    @property
    def concrete(self) -> float:
        """0 no concrete issue … 1 a clear one."""
        return min(1.0, sum(_CONCRETE[kind][0] for kind in self.issue_cues) / 2)


Signal = tuple[float, str | None]
"""Strength 0–1, and the German reason shown if the signal moved the score noticeably."""


def _offensive_language(post: _Post) -> Signal:
    strength = max(0.0, (post.offensive - OFFENSIVE_FLOOR) / (1 - OFFENSIVE_FLOOR))
    return strength, f"Beleidigende Sprache laut Modell ({_percent(post.offensive)})"


def _insult(post: _Post) -> Signal:
    if not (_INSULT.search(post.folded) or _CLOWN_EMOJI.search(post.folded)):
        return 0.0, None
    if post.concrete >= 0.5:
        return 1.0, "Beleidigung"
    return 1.0, "Beleidigung ohne konkretes Anliegen"


def _provocation(post: _Post) -> Signal:
    hits = sum(len(pattern.findall(post.folded)) for pattern in _PROVOCATION)
    return min(1.0, 0.35 * (hits + 1)) if hits else 0.0, "Unterstellung oder Provokation"


def _new_account(post: _Post) -> Signal:
    age = post.author.account_age_days
    if age is None:
        return 0.0, None
    strength = 1.0 if age <= 7 else 0.6 if age <= 30 else 0.25 if age <= 90 else 0.0
    return strength, f"Konto ist erst {_days(age)} alt"


def _posting_rate(post: _Post) -> Signal:
    count = post.author.posts_last_24h
    if count is None:
        return 0.0, None
    strength = 1.0 if count >= 50 else 0.6 if count >= 25 else 0.3 if count >= 15 else 0.0
    return strength, f"{count} Beiträge in 24 Stunden"


def _few_followers(post: _Post) -> Signal:
    followers = post.author.followers
    if followers is None or followers > 10:
        return 0.0, None
    return 1.0, f"Nur {followers} Follower" if followers else "Keine Follower"


def _near_duplicates(post: _Post) -> Signal:
    count = post.history.near_duplicates
    if count < 2:
        return 0.0, None  # saying something twice is how customers get heard
    return min(1.0, (count - 1) / 4), f"{count} nahezu gleiche Beiträge in den letzten Tagen"


def _hostile_history(post: _Post) -> Signal:
    total, share = post.history.recent_brand_posts, post.history.negative_or_offensive_share
    if total < 3 or share < 0.5:
        return 0.0, None
    hostile = round(share * total)
    return (
        share * min(1.0, total / 10),
        f"{hostile} von {total} letzten Beiträgen zur Marke negativ oder beleidigend",
    )


SignalFn = Callable[[_Post], Signal]

# (weight, signal): a weight is how far that signal alone, at full strength, takes the score
# towards 1; signals combine as independent evidence (noisy-OR).
TEXT_SIGNALS: tuple[tuple[float, SignalFn], ...] = (
    (0.35, _offensive_language),
    (0.55, _insult),
    (0.45, _provocation),
)
BEHAVIOUR_SIGNALS: tuple[tuple[float, SignalFn], ...] = (
    (0.35, _new_account),
    (0.35, _posting_rate),
    (0.10, _few_followers),
    (0.50, _near_duplicates),
    (0.30, _hostile_history),
)


def _percent(p: float) -> str:
    return f"{round(p * 100)} %"


def _days(days: int) -> str:
    return "1 Tag" if days == 1 else f"{days} Tage"


def _noisy_or(contributions: Sequence[float]) -> float:
    """Independent pieces of evidence: each closes part of the remaining gap to 1."""
    return 1 - math.prod(1 - c for c in contributions)


def _evaluate(signals: Sequence[tuple[float, SignalFn]], post: _Post) -> list[tuple[float, str]]:
    """(weighted contribution, reason) of every signal that fired."""
    fired = []
    for weight, signal in signals:
        strength, reason = signal(post)
        if strength > 0 and reason:
            fired.append((weight * strength, reason))
    return fired


def _threat_reasons(folded: str) -> list[str]:
    return [
        reason
        for reason, patterns in _THREATS
        if all(pattern.search(folded) for pattern in patterns)
    ]


class TrollScorer:
    """Scores posts for trolling and threats; pure, so it runs anywhere the model runs."""

    def __init__(self, offensive: TextClassifier, threshold: float = 0.6) -> None:
        if "offensive" not in offensive.labels:
            raise ValueError(
                f"the troll scorer needs an offensive-language model; {offensive.model_version!r}"
                f" has labels {offensive.labels}"
            )
        if not 0 < threshold <= 1:
            raise ValueError(f"troll threshold must be in (0, 1], got {threshold}")
        self.offensive = offensive
        self.threshold = threshold
        self.model_version = f"{SCORER_VERSION}+{offensive.model_version}"
        self._offensive_column = offensive.labels.index("offensive")

    def score(
        self,
        texts: Sequence[str],
        authors: Sequence[AuthorSignals],
        histories: Sequence[HistorySignals],
        offensive_probs: Sequence[float] | None = None,
    ) -> list[TrollResult]:
        """One result per text. Pass `offensive_probs` when the model already ran on them."""
        if not len(texts) == len(authors) == len(histories):
            raise ValueError(
                f"texts, authors and histories differ in length: "
                f"{len(texts)}, {len(authors)}, {len(histories)}"
            )
        if offensive_probs is None:
            probs = self.offensive.predict_proba(texts)[:, self._offensive_column] if texts else []
            offensive_probs = [float(p) for p in probs]
        elif len(offensive_probs) != len(texts):
            raise ValueError(
                f"got {len(offensive_probs)} offensive probabilities for {len(texts)} texts"
            )
        return [
            self._score_one(*args)
            for args in zip(texts, authors, histories, offensive_probs, strict=True)
        ]

    def _score_one(
        self, text: str, author: AuthorSignals, history: HistorySignals, offensive: float
    ) -> TrollResult:
        if not 0 <= offensive <= 1:
            raise ValueError(f"offensive probability must be in [0, 1], got {offensive}")
        folded = fold(text)
        cues = tuple(kind for kind, (_, pattern) in _CONCRETE.items() if pattern.search(folded))
        post = _Post(folded, offensive, author, history, cues)

        text_fired = _evaluate(TEXT_SIGNALS, post)
        raw_text = _noisy_or([c for c, _ in text_fired])
        text_score = raw_text * (1 - CONCRETE_DAMPING * post.concrete)
        threats = _threat_reasons(folded)
        # A threat is hostile text too: it lets the author's behaviour count in full.
        gate = 1.0 if threats else min(1.0, text_score / FULL_BEHAVIOUR_AT)
        behaviour_fired = _evaluate(BEHAVIOUR_SIGNALS, post)
        behaviour = _noisy_or([c for c, _ in behaviour_fired]) * gate
        score = round(_noisy_or([text_score, behaviour]), 4)

        counted = text_fired + [(c * gate, reason) for c, reason in behaviour_fired]
        reasons = [reason for c, reason in sorted(counted, key=lambda x: -x[0]) if c >= MIN_REASON]
        if post.concrete and raw_text >= 0.2:
            reasons.append(f"Konkretes Anliegen ({', '.join(cues)}): harte Worte zählen weniger")
        return TrollResult(
            score=score,
            is_troll=score >= self.threshold,
            threat=bool(threats),
            reasons=threats + reasons,
            model_version=self.model_version,
        )
