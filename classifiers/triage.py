"""Triage: what a brand post is (category) and what the team should do with it (action).

The category comes from a multinomial logistic regression over the e5 pooled embedding (the
encoder pass the sentiment and offensive heads already made) and over interpretable signals:
the sentiment and offensive models, the troll, threat and spam rules, the author's behaviour
and history, and German cues the other models lack (questions, safety incidents, data leaks,
outages hitting many people, ultimatums, press and protest, coordinated action, personal data).
The signals are features with learned weights, not hand-set scores, because what makes a troll
(polite serial harassment) or a complaint (a sworn concrete problem) is a mix no single signal
decides.

The action follows the category: praise, irrelevant posts and spam need none, threats and
crises are escalated to a team (a second regression, restricted to the category's teams), and
for complaints, questions and trolls a third regression chooses among that category's answers.
Two rules come first because the team's policy says so, not because the data suggests it: a
post that carries personal data is answered privately, and an author who already has an
answer on the matter is watched, not answered again.

Reasons are German, for the social media team; serving needs numpy only.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from safetensors.numpy import load_file

from classifiers.base import ModelLoadError, Prediction, read_config
from classifiers.personal_data import GERMAN_NAMES, PersonalDataKind, find_personal_data
from classifiers.spam import spam_reasons
from classifiers.troll import AuthorSignals, HistorySignals, TrollResult, fold, word_alternatives

if TYPE_CHECKING:  # scipy, scikit-learn and torch load with the model, not with this module
    import scipy.sparse as sp

    from classifiers.ngram import Featuriser

FORMAT = "rufwacht-triage"
WEIGHTS_FILE = "weights.safetensors"
CARD_FILE = "MODEL_CARD.md"
BUNDLED_DIR = Path(__file__).resolve().parent / "bundled" / "triage"

CATEGORIES = ("complaint", "question", "praise", "troll", "threat", "crisis", "irrelevant", "spam")
ACTIONS = ("reply", "reply_private", "escalate", "ignore_troll", "monitor", "none")
TEAMS = ("legal", "pr", "security", "safety", "product")
CATEGORY_TEAMS = {
    "threat": ("legal", "pr", "security"),
    "crisis": ("safety", "product", "security"),
}
CATEGORY_RESPONSES = {
    "complaint": ("reply", "reply_private", "monitor"),
    "question": ("reply", "reply_private", "monitor"),
    "troll": ("ignore_troll", "reply", "monitor"),
}
NO_ACTION = {
    "praise": "Lob: kein Handlungsbedarf",
    "irrelevant": "Marke nur am Rande erwähnt: keine Antwort nötig",
    "spam": "Spam: nicht antworten, nicht verbreiten",
}
TEAM_NAMES = {
    "legal": "Rechtsabteilung",
    "pr": "Presse/PR",
    "security": "IT- und Konzernsicherheit",
    "safety": "Sicherheit vor Ort",
    "product": "Produkt/Technik",
}
ACTION_NAMES = {
    "reply": "Öffentlich antworten",
    "reply_private": "Privat antworten",
    "escalate": "Eskalieren",
    "ignore_troll": "Nicht antworten (Troll)",
    "monitor": "Beobachten",
    "none": "Keine",
}
CATEGORY_NAMES = {
    "complaint": "Beschwerde",
    "question": "Frage",
    "praise": "Lob",
    "troll": "Troll",
    "threat": "Drohung",
    "crisis": "Krise",
    "irrelevant": "Irrelevant",
    "spam": "Spam",
}
MAX_REASONS = 4
THREAT_RULES = ("intimidation", "disruption", "sues_staff")
"""Cues that make a post a threat whatever the regression says, like the troll scorer's threat
flag: a missed threat costs far more than a false alarm a person dismisses in seconds."""
THREAT_RULE_CONFIDENCE = 0.8


# --- German cues ------------------------------------------------------------------------------
# Every pattern runs on folded text (`troll.fold`: lower case, umlauts and ß spelled out).

_QUESTION_START = re.compile(
    r"(?:^|[.!?:\n]\s*|@\w+\s+)(?:wie|wann|wo|was|warum|wieso|weshalb|welche\w*|wer|woher|wohin"
    r"|kann|kannst|koennt?e?n?|darf|duerfen|muss|muessen|gibt(?: es|'s)|ist|sind|hat|habt|haben"
    r"|lohnt|geht|gilt|reicht|bekomme|bekommt|verlaengert|soll|sollte|brauche|braucht)(?!\w)"
    r"[^.!?\n]{0,200}\?"
)
CUES: dict[str, re.Pattern[str]] = {
    "ask_phrase": word_alternatives(r"""
        weiss (?:jemand|einer|wer); kennt (?:jemand|einer);
        hat (?:jemand|einer) (?:\w+ )?erfahrung\w*;
        (?:kurze|ehrlich gemeinte|echte|ernsthafte) frage; frage an; was tun; was mache? ich;
        was brauche\w*; was muss ich; wie komme ich; wie gehe ich vor; hilfe\s*[:?!]
    """),
    "safety": word_alternatives(r"""
        brennt; brand\w*; feuer\w*; rauch\w*; qualm\w*; schmor\w*; verschmort; geplatzt;
        explodiert\w*; funk(?:en|t); verletzt\w*; blutet; notarzt; rettungswagen; krankenwagen;
        eingestuerzt; gestuerzt; stromschlag; lebensgefahr\w*; gefaehrlich\w*; pruegel\w*;
        eingeklemmt; bahnsteigkante; abgerissen; kopfhoehe; tueren? [^.!?]{0,30}aufgegangen;
        panisch; bundespolizei; feuerwehr; sicherheitsrisiko
    """),
    "data_leak": word_alternatives(r"""
        datenleck\w*; \w*leak\w*; darknet; hackerforum; gehackt; datensatz; datenschutz\w*;
        kundendaten; (?:fremde|fremden) (?:\w+ )?(?:person|daten|buchungen|sendungen|leute\w*);
        wildfremde\w*; nicht meine; been pwned; uebernommen; passwort (?:\w+ )?geaendert;
        interne\w* kundenportal
    """),
    "outage_many": word_alternatives(r"""
        bundesweit; deutschlandweit; landesweit; (?:in )?ganz (?:\w+ ){0,1}\w+;
        komplett (?:down|tot|dicht|zu|weg);
        gross?stoerung\w*; \w*stoerung\w*; down; tot; dicht;
        nichts? faehrt; gar nix; nix geht; nichts geht; (?:alle|halbe|ganze) (?:\w+ )?nachbar\w*;
        tausende; allestoerungen\w*; downdetector; bei allen; (?:meine ganze )?timeline;
        stellwerk\w*; lahm\w*; ueberfuellt; ausfall\w*
    """),
    "legal_right": word_alternatives(r"""
        anwalt; anwaeltin; rechtsanwalt\w*; verbraucherzentrale\w*; bundesnetzagentur;
        schlichtung\w*; rechtsschutz\w*; mahnverfahren; (?:eine |die )?klage; verklag\w*; anzeige;
        gericht\w*; zivilklage; privatklage
    """),
    "staff": word_alternatives(r"""
        mitarbeiter(?:in|innen)?; zugbegleiter\w*; schaffner\w*; techniker; fahrer\w*; bote;
        zusteller\w*; shopleiter\w*; verkaeufer\w*; die dame; die blonde; herr \w+; frau \w+
    """),
    "personally": word_alternatives(r"""
        persoenlich; privat; jeden einzelnen; jede einzelne; (?:die |eure |ihre |alle )namen;
        gegen (?:jeden|euch)
    """),
    "ultimatum": word_alternatives(r"""
        bis (?:montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|morgen);
        bis (?:heute abend|monatsende|zum \d+\.?|ende der woche); \d+ ?(?:stunden|std|h);
        letzte chance; ultimatum;
        entweder; sonst; eure (?:wahl|entscheidung); entscheidet euch; oder ich; ueberlegt'?s euch
    """),
    "press_public": word_alternatives(r"""
        presse; lokalpresse; zeitung\w*; wdr; ndr; bild; mopo; youtube\w*; video\w*; tiktok;
        \d+k (?:abos|follower); follower; viral; medien; reportage; extra 3; plakaten?;
        ketten? (?:wir )?uns;
        kette ich mich
    """),
    "defamation": word_alternatives(r"""
        erzaehl\w* (?:\w+ ){0,2}(?:jedem|ueberall|allen);
        schreib\w* (?:\w+ ){0,3}(?:ueberall|in jede\w*);
        ob'?s stimmt; stimmt zwar nicht; juckt dann keinen; geht (?:das )?viral;
        bewertungsplattform\w*; dann bleibt
    """),
    "disruption": word_alternatives(r"""
        (?:wir )?alle (?:mal )?(?:zusammen|gleichzeitig); lahm ?leg\w*; fluten; zuspammen;
        shitstorm; trend\w*; jeder postet; vorlage; \d+ ?x (?:posten|stueck); jeder \d+ stueck;
        minutentakt; wahlwiederholung; (?:jede|alle) minute; bis (?:denen|euch) \w+ platzt
    """),
    "boycott": word_alternatives(r"""
        boykott\w*; aufruf; wer ist dabei; wechselt; kuendigt; je mehr; teilen; rt; weitersagen;
        macht mit; friedlich\w*
    """),
    "intimidation": word_alternatives(r"""
        baseballschlaeger; knallt'?s; aufs maul; unter maennern; landet \w+ auf den gleisen;
        zuend\w* (?:ich|wir); anzuenden; abfackeln; freu dich auf besuch; wir sind zu \w+t;
        warten [^.!?]{0,30}auf dich; weiss,? wo (?:du|er|sie|ihr) \w*; hund raus;
        kenne (?:ihr|sein|dein|euer) (?:auto|kennzeichen); (?:ihr|sein|dein) kennzeichen;
        schade,? wenn [^.!?]{0,40}passiert; (?:besser|gut) aufpassen,? wenn;
        fotos von (?:allen|jedem|euch); dein nachname; schoene wohnung; bot [^.!?]{0,40}jede minute
    """),
    "contempt": word_alternatives(r"""
        (?:\w+-)?(?:kunden|fahrer|mitarbeiter|leute|typen|angestellte|bahnfahrer|nutzer)
        (?:sind|koennen) (?:\w+ ){0,2}(?:alle|doch|eh|echt|einfach|die|wie|so);
        wer (?:heute )?(?:noch|freiwillig)[^.!?]{0,30}(?:kunde|ist|arbeitet|faehrt|geht);
        selbst schuld; selber schuld; \w*laden; \w*verein; lachnummer; muellhaufen; letzte dreck;
        \w*versager; abzocker\w*; peinlich\w*; nutzlos\w*; inkompetenz\w*; unfaehig\w*; boomer;
        🤡; sorry not sorry; unpopular opinion; punkt\.; faul\w*; lappen; pfeifen
    """),
    "conspiracy": word_alternatives(r"""
        ueberwach\w*; geheim\w*; logen?; regierung; verschweig\w*; vertusch\w*; heimlich\w*;
        zufall\s*\?; denkt mal; wacht auf; \w*mafia; gesundheitlich\w*; auslaendische dienste;
        absichtlich; ich glaube nicht; die wollen
    """),
    "discussion": word_alternatives(r"""
        bei euch(?: auch)?; eure erfahrung\w*; erfahrungen; wie macht ihr; wie ist es bei euch;
        kennt ihr; same hier; willkommen im club; kenn ich; bei mir auch; bei uns (?:\w+ )?auch;
        umfrage; frage an die \w+; fuer alle, die; nachtrag; wer (?:hat|aus|noch);
        zeigt eure; postet eure; ich fang an; genauso; haha; \[update\]; kurzes update
    """),
    "praise": word_alternatives(r"""
        danke\w*; super; top; klasse; toll\w*; grossartig\w*; hut ab; lob\w*; respekt;
        freundlich\w*;
        hat (?:alles )?geklappt; perfekt; empfehl\w*; gerettet; sehr nett; vorbildlich; ❤\S*; 👍;
        🙏; 💛
    """),
    "irrelevant": word_alternatives(r"""
        aktie\w*; dax; boerse\w*; dividende\w*; kursziel; opa; oma; traum\w*; witz; wie die bahn;
        film; serie; roman; song; spruch; werbespot; logo
    """),
    "account_matter": word_alternatives(r"""
        vertrag\w*; \w*konto; kundencenter; rechnung\w*; abgebucht; abbuchung\w*; lastschrift\w*;
        kuendigung\w*; gekuendigt; tarif\w*; buchung\w*; reservierung\w*; bahncard\w*; sendung\w*;
        umbuchen; umleiten; lieferadresse; rufnummer\w*; bankverbindung; mahnung\w*; gutschrift\w*;
        erstatt\w*; auftrag\w*; bestell\w*; sparpreis; umzug; sim
    """),
    "private_channel": word_alternatives(r"""
        (?:per|via|in die|eure|meine) (?:dm|pn)s?; dms? (?:sind )?offen;
        schick\w* (?:ich )?(?:\w+ )?per (?:dm|pn|mail);
        ruft? (?:mich|sie) (?:bitte )?an; meldet euch
    """),
    "concrete": word_alternatives(r"""
        seit; gestern; heute; uhr; minuten?; stunden?; tagen?; wochen?; immer noch; schon wieder;
        wieder; erneut; zum \w+ mal; ausgefallen; verspaet\w*; kaputt\w*; defekt\w*; abgebucht;
        nicht (?:da|angekommen|zugestellt|gekommen)
    """),
}
COMBINED_CUES = {
    "blackmail": (("ultimatum",), ("press_public", "defamation", "disruption")),
    "sues_staff": (("legal_right",), ("personally",)),
}
"""Cues that mean something only together (a condition plus a threat to go public is
blackmail; a lawsuit against named employees is intimidation, against the company a right):
(all of these groups, each with one cue at least)."""
COMBINED_NAMES = {
    "blackmail": "Erpressung: Bedingung und Drohung mit Öffentlichkeit",
    "sues_staff": "Klage gegen einzelne Mitarbeitende statt gegen die Firma",
}


CUE_NAMES = {
    **COMBINED_NAMES,
    "question": "Frage erkannt",
    "ask_phrase": "Bitte um Auskunft",
    "safety": "Gefahr für Menschen",
    "data_leak": "Datenleck oder fremde Daten",
    "outage_many": "Ausfall für viele",
    "legal_right": "Rechtsweg oder Verbraucherschutz angekündigt",
    "staff": "Nennt einzelne Mitarbeitende",
    "personally": "Gegen Personen persönlich",
    "ultimatum": "Ultimatum oder Bedingung",
    "press_public": "Presse, Video oder Öffentlichkeit",
    "defamation": "Droht mit Rufschädigung",
    "disruption": "Aufruf, den Kundenservice lahmzulegen",
    "boycott": "Aufruf zu Boykott oder Protest",
    "intimidation": "Gewalt oder Einschüchterung",
    "discussion": "Austausch unter Nutzern",
    "contempt": "Pauschale Verachtung ohne konkretes Anliegen",
    "conspiracy": "Unterstellung oder Verschwörungserzählung",
    "praise": "Lob",
    "irrelevant": "Marke in anderem Sinn oder nur am Rande",
    "account_matter": "Vertrag, Konto oder Bestellung betroffen",
    "private_channel": "Bietet Daten per Direktnachricht an",
    "concrete": "Konkretes Anliegen",
}


def find_cues(text: str) -> dict[str, list[str]]:
    """Cue name → the words that matched, as the post spells them (quoted in reasons); only
    cues that matched."""
    folded = fold(text)
    found = {
        name: [_as_written(m.group(0).strip(), text) for m in pattern.finditer(folded)]
        for name, pattern in CUES.items()
    }
    found["question"] = [m.group(0).strip()[:60] for m in _QUESTION_START.finditer(folded)]
    for name, groups in COMBINED_CUES.items():
        hits = [[h for cue in group for h in found[cue]] for group in groups]
        found[name] = [h for group in hits for h in group] if all(hits) else []
    return {name: hits for name, hits in found.items() if hits}


def _as_written(hit: str, text: str) -> str:
    """The folded match as the post wrote it ("anwaeltin" → "Anwältin"), where it is found."""
    pattern = re.escape(hit)
    for spelled, letter in (("ae", "ä"), ("oe", "ö"), ("ue", "ü"), ("ss", "ß")):
        pattern = pattern.replace(spelled, f"(?:{spelled}|{letter})")
    found = re.search(pattern, text, re.IGNORECASE)
    return found.group(0) if found else hit


# --- personal data ----------------------------------------------------------------------------


def personal_data(text: str) -> list[str]:
    """The kinds of personal data in the post (German names), in a fixed order: the same
    detector the draft checker uses, so a post and a reply are judged alike."""
    kinds = {found.kind for found in find_personal_data(text)}
    return [GERMAN_NAMES[kind] for kind in PersonalDataKind if kind in kinds]


# --- inputs and features ----------------------------------------------------------------------


@dataclass(frozen=True)
class TriageSignals:
    """Everything triage reads about one post besides its embedding."""

    text: str
    sentiment: Mapping[str, float]
    """Probability per sentiment label."""
    offensive: float
    troll: TrollResult
    spam: Sequence[str]
    """`spam.spam_reasons`: empty when the spam rule saw no spam."""
    author: AuthorSignals
    history: HistorySignals


def gather_signals(
    texts: Sequence[str],
    authors: Sequence[AuthorSignals],
    histories: Sequence[HistorySignals],
    sentiments: Sequence[Prediction],
    offensives: Sequence[Prediction],
    trolls: Sequence[TrollResult],
) -> list[TriageSignals]:
    """The model outputs a scorer already computed, bundled per post with the spam rule."""
    return [
        TriageSignals(text, s.scores, o.scores["offensive"], t, spam_reasons(text, a), a, h)
        for text, a, h, s, o, t in zip(
            texts, authors, histories, sentiments, offensives, trolls, strict=True
        )
    ]


SIGNAL_FEATURES = (
    "negative", "neutral", "positive", "offensive", "troll_score", "threat_rule",
    "spam_rule", "new_account", "posts_per_day", "followers", "brand_posts",
    "near_duplicates", "already_answered", "personal_data", "length",
    *CUE_NAMES,
)  # fmt: skip


def _log_scale(value: int | None, top: float) -> float:
    """0 … 1 on a log scale where `top` reaches 1; unknown counts as 0."""
    return min(1.0, math.log1p(max(value or 0, 0)) / math.log1p(top))


def signal_features(signals: TriageSignals) -> tuple[np.ndarray, dict[str, list[str]]]:
    """The interpretable features in `SIGNAL_FEATURES` order, and the cues found."""
    cues = find_cues(signals.text)
    author, history = signals.author, signals.history
    age = author.account_age_days
    values = {
        **{label: float(signals.sentiment.get(label, 0.0)) for label in SIGNAL_FEATURES[:3]},
        "offensive": signals.offensive,
        "troll_score": signals.troll.score,
        "threat_rule": float(signals.troll.threat),
        "spam_rule": float(bool(signals.spam)),
        "new_account": 0.0 if age is None else max(0.0, 1 - age / 90),
        "posts_per_day": _log_scale(author.posts_last_24h, 100),
        "followers": _log_scale(author.followers, 100_000),
        "brand_posts": _log_scale(history.recent_brand_posts, 50),
        "near_duplicates": _log_scale(history.near_duplicates, 50),
        "already_answered": float(history.already_answered),
        "personal_data": float(bool(personal_data(signals.text))),
        "length": _log_scale(len(signals.text), 1000),
        **{name: min(1.0, len(cues.get(name, [])) / 2) for name in CUE_NAMES},
    }
    return np.array([values[name] for name in SIGNAL_FEATURES], dtype=np.float32), cues


# --- the model ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinearSoftmax:
    """Standardised features → logits → softmax: a scikit-learn multinomial regression."""

    labels: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    weight: np.ndarray
    """(labels, features)"""
    bias: np.ndarray

    def proba(self, features: np.ndarray, allowed: Sequence[str] | None = None) -> np.ndarray:
        """Probabilities per label; labels outside `allowed` get 0."""
        logits = ((features - self.mean) / self.scale) @ self.weight.T + self.bias
        if allowed is not None:
            logits = np.where(np.isin(self.labels, list(allowed)), logits, -np.inf)
        return softmax(logits)

    def contributions(self, features: np.ndarray, label: str) -> np.ndarray:
        """How much each feature pushed `label` above the average label (logit units)."""
        z = (features - self.mean) / self.scale
        row = self.weight[self.labels.index(label)] - self.weight.mean(axis=0)
        return row * z


def softmax(logits: np.ndarray) -> np.ndarray:
    logits = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(logits)
    return exp / exp.sum(axis=-1, keepdims=True)


def ngram_tfidf(counts: sp.csr_matrix, buckets: np.ndarray, idf: np.ndarray) -> sp.csr_matrix:
    """Hashed n-gram counts → L2-normalised TF-IDF over the `buckets` seen in training
    (sorted ids; columns in that order). Training and serving both build their rows here, so an
    n-gram the training posts never had counts for nothing, not even in the norm."""
    import scipy.sparse as sp
    from sklearn.preprocessing import normalize

    position = np.searchsorted(buckets, counts.indices).clip(0, len(buckets) - 1)
    values = np.where(buckets[position] == counts.indices, counts.data * idf[position], 0.0)
    matrix = sp.csr_matrix(
        (values.astype(np.float32), position, counts.indptr),
        shape=(counts.shape[0], len(buckets)),
    )
    matrix.eliminate_zeros()
    return normalize(matrix)


@dataclass(frozen=True)
class NgramHead:
    """What the words say: a multinomial regression over the post's hashed character and word
    n-grams. It sees phrasings the embedding blurs ("bis Freitag, dann", "ich weiß, wo"), and
    across writers the two together generalise better than either alone."""

    labels: tuple[str, ...]
    featuriser: Featuriser
    buckets: np.ndarray
    idf: np.ndarray
    weight: np.ndarray
    """(buckets, labels)"""
    bias: np.ndarray

    def proba(self, texts: Sequence[str]) -> np.ndarray:
        return self.proba_counts(self.featuriser.counts(texts))

    def proba_counts(self, counts: sp.csr_matrix) -> np.ndarray:
        """Probabilities from counts the featuriser made (training reuses its counts)."""
        rows = ngram_tfidf(counts, self.buckets, self.idf)
        return softmax(np.asarray(rows @ self.weight) + self.bias)


@dataclass(frozen=True)
class CategoryDecision:
    label: str
    confidence: float
    reasons: list[str]
    """German: the strongest cues for this category."""


@dataclass(frozen=True)
class ActionDecision:
    label: str
    escalate_to: str | None
    """The team for `escalate` (legal, pr, security, safety, product), else None."""
    confidence: float
    reasons: list[str]


@dataclass(frozen=True)
class Triage:
    category: CategoryDecision
    action: ActionDecision
    model_version: str


Embed = Callable[[Sequence[str]], np.ndarray]


class TriageModel:
    """The bundled regressions plus the rules around them."""

    def __init__(
        self,
        heads: Mapping[str, LinearSoftmax],
        words: NgramHead,
        words_weight: float,
        embed: Embed,
        model_version: str,
    ) -> None:
        self.category = heads["category"]
        self.team = heads["team"]
        self.response = heads["response"]
        self.words = words
        self.words_weight = words_weight
        """The n-gram head's share of the category probabilities (the rest: `category`)."""
        self.embed = embed
        self.model_version = model_version

    @classmethod
    def load(cls, directory: Path = BUNDLED_DIR, embed: Embed | None = None) -> TriageModel:
        """A bundle; `embed` defaults to the pooled embedding of the encoder it names."""
        config = read_config(directory)
        if config.get("format") != FORMAT:
            raise ModelLoadError(f"{directory}: not a {FORMAT} model directory")
        if tuple(config["signal_features"]) != SIGNAL_FEATURES:
            raise ModelLoadError(f"{directory}: trained with other features; retrain it")
        try:
            arrays = load_file(directory / WEIGHTS_FILE)
        except (OSError, ValueError) as exc:
            raise ModelLoadError(f"{directory}: broken weights: {exc}") from exc
        heads = {
            name: LinearSoftmax(tuple(labels), *(arrays[f"{name}.{p}"] for p in PARAMS))
            for name, labels in config["heads"].items()
        }
        from classifiers.ngram import Featuriser, FeaturiserConfig

        words = NgramHead(
            tuple(heads["category"].labels),
            Featuriser(FeaturiserConfig(**config["words"]["featuriser"])),
            *(arrays[f"words.{p}"] for p in WORDS_PARAMS),
        )
        version = f"{config['model_version']}+{config['encoder_version']}"
        embed = embed or encoder_embedding(config["encoder"])
        return cls(heads, words, config["words"]["weight"], embed, version)

    def features(self, signals: Sequence[TriageSignals]) -> tuple[np.ndarray, list[dict]]:
        """Embedding and signal features side by side, and each post's cues."""
        embedded = np.asarray(self.embed([s.text for s in signals]), dtype=np.float32)
        pairs = [signal_features(s) for s in signals]
        rows = np.stack([f for f, _ in pairs]) if pairs else np.zeros((0, len(SIGNAL_FEATURES)))
        return np.hstack([embedded.reshape(len(signals), -1), rows]), [c for _, c in pairs]

    def triage(self, signals: Sequence[TriageSignals]) -> list[Triage]:
        """One triage per post, in input order."""
        if not signals:
            return []
        features, cues = self.features(signals)
        probs = self.category_proba(features, [s.text for s in signals])
        return [
            self._one(x, p, s, c) for x, p, s, c in zip(features, probs, signals, cues, strict=True)
        ]

    def category_proba(self, features: np.ndarray, texts: Sequence[str]) -> np.ndarray:
        """The category probabilities: the feature head and the n-gram head, mixed."""
        share = self.words_weight
        return (1 - share) * self.category.proba(features) + share * self.words.proba(texts)

    def _one(
        self,
        x: np.ndarray,
        probs: np.ndarray,
        signals: TriageSignals,
        cues: dict[str, list[str]],
    ) -> Triage:
        label = self.category.labels[int(np.argmax(probs))]
        confidence = float(probs.max())
        if label != "threat" and (signals.troll.threat or any(c in cues for c in THREAT_RULES)):
            label, confidence = "threat", THREAT_RULE_CONFIDENCE
        category = CategoryDecision(
            label, round(confidence, 4), self._category_reasons(x, label, signals, cues)
        )
        return Triage(category, self._action(x, category, signals, cues), self.model_version)

    def _category_reasons(
        self, x: np.ndarray, label: str, signals: TriageSignals, cues: dict[str, list[str]]
    ) -> list[str]:
        """Rule reasons that agree with the category first, then the strongest learned cues."""
        rule_reasons = {
            "threat": [r for r in signals.troll.reasons if signals.troll.threat][:2]
            + [_cue_reason(name, cues) for name in THREAT_RULES if name in cues],
            "spam": list(signals.spam[:2]),
            "troll": signals.troll.reasons[:2] if signals.troll.score >= 0.3 else [],
        }.get(label, [])
        offset = x.shape[0] - len(SIGNAL_FEATURES)
        pushes = self.category.contributions(x, label)
        named = sorted(
            ((float(pushes[offset + i]), name) for i, name in enumerate(SIGNAL_FEATURES)),
            reverse=True,
        )
        learned = [
            _feature_reason(name, signals, cues)
            for push, name in named
            if push > 0.3 and x[offset + SIGNAL_FEATURES.index(name)] > 0
        ]
        reasons = list(dict.fromkeys(r for r in rule_reasons + learned if r))[:MAX_REASONS]
        text_push = float(pushes[:offset].sum())
        if text_push > 1 or not reasons:
            reasons.append(f"Wortlaut ähnelt {CATEGORY_NAMES[label]}-Beiträgen (Sprachmodell)")
        return reasons

    def _action(
        self,
        x: np.ndarray,
        category: CategoryDecision,
        signals: TriageSignals,
        cues: dict[str, list[str]],
    ) -> ActionDecision:
        label = category.label
        if label in NO_ACTION:
            return ActionDecision("none", None, category.confidence, [NO_ACTION[label]])
        if label in CATEGORY_TEAMS:
            return self._escalation(x, category, cues)
        history, found = signals.history, personal_data(signals.text)
        if label != "troll" and history.already_answered:
            reason = "Bereits beantwortet: Wiederholung beobachten, nicht erneut antworten"
            return ActionDecision("monitor", None, category.confidence, [reason])
        if label != "troll" and found:
            reason = f"{', '.join(found)} im Beitrag → privater Kanal"
            return ActionDecision("reply_private", None, category.confidence, [reason])
        probs = self.response.proba(x, CATEGORY_RESPONSES[label])
        chosen = self.response.labels[int(np.argmax(probs))]
        confidence = round(category.confidence * float(probs.max()), 4)
        return ActionDecision(chosen, None, confidence, _response_reasons(chosen, signals, cues))

    def _escalation(
        self, x: np.ndarray, category: CategoryDecision, cues: dict[str, list[str]]
    ) -> ActionDecision:
        probs = self.team.proba(x, CATEGORY_TEAMS[category.label])
        team = self.team.labels[int(np.argmax(probs))]
        confidence = round(category.confidence * float(probs.max()), 4)
        reasons = [f"{CATEGORY_NAMES[category.label]} → Eskalation an {TEAM_NAMES[team]}"]
        reasons += [_cue_reason(name, cues) for name in TEAM_CUES[team] if name in cues][:2]
        return ActionDecision("escalate", team, confidence, reasons)


PARAMS = ("mean", "scale", "weight", "bias")
WORDS_PARAMS = ("buckets", "idf", "weight", "bias")
TEAM_CUES = {
    "legal": ("defamation", "sues_staff", "legal_right"),
    "pr": ("press_public", "disruption", "ultimatum"),
    "security": ("data_leak", "intimidation"),
    "safety": ("safety",),
    "product": ("outage_many",),
}


def encoder_embedding(spec: str) -> Embed:
    """The pooled embedding of a bundled e5 model, shared (and memoised) with its heads."""

    def embed(texts: Sequence[str]) -> np.ndarray:
        from classifiers.registry import load_classifier

        task = "sentiment"
        classifier = load_classifier(spec, task)
        return classifier.model.pooled(texts).numpy()  # type: ignore[attr-defined]

    return embed


def _quote(hits: Sequence[str]) -> str:
    return ", ".join(f"„{h}“" for h in list(dict.fromkeys(hits))[:2])


def _cue_reason(name: str, cues: Mapping[str, list[str]]) -> str:
    if name == "question":
        return CUE_NAMES[name]
    return f"{CUE_NAMES[name]} ({_quote(cues[name])})"


def _feature_reason(name: str, signals: TriageSignals, cues: Mapping[str, list[str]]) -> str:
    """The German reason for a signal feature that pushed the category; '' for none worth it."""
    if name in cues:
        return _cue_reason(name, cues)
    author, history = signals.author, signals.history
    if name in ("new_account", "posts_per_day") and author.account_age_days is not None:
        days, posts = author.account_age_days, author.posts_last_24h or 0
        return f"Konto seit {days} Tagen, {posts} Beiträge/Tag"
    if name in ("brand_posts", "near_duplicates"):
        return (
            f"{history.recent_brand_posts} Beiträge zur Marke, "
            f"{history.near_duplicates} davon fast gleich"
        )
    fixed = {
        "negative": f"Negativer Ton ({_percent(signals.sentiment.get('negative', 0))})",
        "positive": f"Positiver Ton ({_percent(signals.sentiment.get('positive', 0))})",
        "offensive": f"Beleidigende Sprache laut Modell ({_percent(signals.offensive)})",
        "troll_score": f"Troll-Wert {_percent(signals.troll.score)}",
        "threat_rule": "Drohung laut Regel",
        "spam_rule": "Spam laut Regel",
        "already_answered": "Bereits beantwortet",
        "personal_data": f"Persönliche Daten ({', '.join(personal_data(signals.text))})",
    }
    return fixed.get(name, "")


def _response_reasons(
    action: str, signals: TriageSignals, cues: Mapping[str, list[str]]
) -> list[str]:
    if action == "ignore_troll":
        return ["Troll: nicht füttern, nicht antworten"]
    if action == "monitor":
        shown = [_cue_reason(n, cues) for n in ("discussion", "boycott") if n in cues]
        return ["Beobachten: kein Antwortbedarf der Marke", *shown]
    if action == "reply_private":
        shown = [_cue_reason(n, cues) for n in ("account_matter", "private_channel") if n in cues]
        return ["Persönlicher Fall → privater Kanal", *shown]
    shown = [_cue_reason(n, cues) for n in ("question", "ask_phrase", "concrete") if n in cues]
    return ["Öffentlich antworten", *shown[:2]]


def _percent(p: float) -> str:
    return f"{round(p * 100)} %"
