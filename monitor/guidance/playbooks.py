"""The German playbooks: one per post category, built from one table of rules with stable ids.

Each rule is written once, here, and referenced by id from the playbooks that use it and from
the draft checker's findings, so the team reads the same sentence wherever a rule shows up.
Rules from the seed articles on complaint handling are marked `seed`; the two house rules
(brand tone, platform length) come from the product, not from those articles.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Category(StrEnum):
    """What a queued post is; the triage classifier will assign it."""

    COMPLAINT = "complaint"
    QUESTION = "question"
    TROLL = "troll"
    THREAT = "threat"
    CRISIS = "crisis"
    PRAISE = "praise"


class ReplyPolicy(StrEnum):
    """Whether the team answers a post of this category."""

    REQUIRED = "required"
    OPTIONAL = "optional"
    FACTS_ONCE = "facts_once"
    """Do not feed: at most one factual answer to a factual question."""
    AFTER_ESCALATION = "after_escalation"
    """Only once the escalation contact has agreed on the answer."""


REPLY_POLICY_TEXT: dict[ReplyPolicy, str] = {
    ReplyPolicy.REQUIRED: "Antwort nötig",
    ReplyPolicy.OPTIONAL: "Antwort freiwillig",
    ReplyPolicy.FACTS_ONCE: "Nur eine sachliche Frage einmal beantworten, sonst nicht antworten",
    ReplyPolicy.AFTER_ESCALATION: "Erst nach Abstimmung mit der Eskalationsstelle antworten",
}


@dataclass(frozen=True)
class Rule:
    id: str
    do: str
    dont: str | None = None
    seed: bool = True
    """From the seed articles; False for the product's house rules."""


RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        Rule(
            "fast_answer",
            "Schnell antworten, spätestens 24 Stunden nach dem Beitrag. Ist die Lösung noch "
            "offen, zuerst den Eingang bestätigen und sagen, bis wann es Neues gibt.",
            "Niemanden tagelang ohne Antwort lassen: der Ärger wächst mit jeder Stunde und "
            "sucht sich sonst andere Zuhörer.",
        ),
        Rule(
            "thank_and_take_seriously",
            "Für die Beschwerde danken und das Anliegen ernst nehmen, auch bei rauem Ton: wer "
            "sich beschwert, gibt uns die Chance, den Fehler zu beheben.",
            "Nicht darüber streiten, ob der Ärger berechtigt ist.",
        ),
        Rule(
            "truthful",
            "Die Wahrheit sagen, auch über eigene Fehler und Verzögerungen.",
            "Nichts zusagen, was das Team nicht selbst einhalten kann: keine Garantien, keine "
            "Termine, über die eine andere Abteilung entscheidet.",
        ),
        Rule(
            "individual_solution",
            "Eine Lösung für genau diesen Fall anbieten und dafür die zuständigen Kolleginnen "
            "und Kollegen einbinden.",
            "Keine Textbausteine ohne Bezug zum Fall; nicht auf eine kostenpflichtige Hotline "
            "verweisen, statt das Problem zu lösen.",
        ),
        Rule(
            "private_channel",
            "Öffentlich nur die erste Rückmeldung geben; für Kunden-, Vertrags- oder "
            "Kontodaten in einen privaten Kanal wechseln (Direktnachricht, E-Mail).",
            "Vertrauliche Daten nie öffentlich nennen oder öffentlich danach fragen.",
        ),
        Rule(
            "keep_informed",
            "Auf dem Laufenden halten, bis das Problem gelöst ist: sagen, was getan wurde und "
            "wie es weitergeht, und Verzögerungen melden, bevor der Kunde sie selbst bemerkt.",
            "Niemanden im Ungewissen lassen, nachdem der Fall weitergegeben wurde.",
        ),
        Rule(
            "stay_factual",
            "Sachlich und ruhig bleiben: es geht um das Problem, nicht um die Person.",
            "Nie beleidigend, sarkastisch oder genervt antworten, auch wenn der Kunde selbst "
            "ausfällig war: jede Antwort bleibt öffentlich auffindbar.",
        ),
        Rule(
            "dont_feed_trolls",
            "Eine sachliche Frage einmal mit Fakten beantworten.",
            "Trolle nicht füttern: auf Provokation, Pauschalvorwürfe und Beleidigungen ohne "
            "Anliegen nicht eingehen, denn jede Rechtfertigung gibt ihnen Auftrieb.",
        ),
        Rule(
            "no_blackmail",
            "Bei Drohungen mit Shitstorm, Presse oder schlechten Bewertungen ruhig und "
            "professionell bleiben.",
            "Erpressung nie nachgeben: kein Geld, keine Gutscheine, keine Gegenleistung dafür, "
            "dass ein Beitrag verschwindet. Wer Grobheit belohnt, bekommt mehr davon und "
            "benachteiligt die fairen Kunden.",
        ),
        Rule(
            "escalate_safety_legal",
            "Drohungen gegen Menschen, Sicherheitsrisiken und rechtliche Fragen sofort an die "
            "zuständige Stelle eskalieren und den Fall dokumentieren.",
            "Sicherheits- und Rechtsfragen nicht auf eigene Faust öffentlich beantworten.",
        ),
        Rule(
            "four_eyes",
            "Jede Antwort von einer zweiten Person gegenlesen lassen, bevor sie veröffentlicht "
            "wird.",
        ),
        Rule(
            "brand_tone",
            "Die Anrede der Marke einhalten (Sie oder du) und innerhalb einer Antwort nicht "
            "wechseln.",
            seed=False,
        ),
        Rule(
            "length_limit",
            "Die Längengrenze der Plattform einhalten (X: 280 Zeichen): lieber kürzen als in "
            "mehreren Teilen antworten.",
            seed=False,
        ),
    )
}

HOUSE_RULES = ("brand_tone", "length_limit")
"""Every playbook whose category gets an answer uses these."""


@dataclass(frozen=True)
class Escalation:
    when: str
    to: str


@dataclass(frozen=True)
class Playbook:
    category: Category
    title: str
    goal: str
    reply: ReplyPolicy
    steps: tuple[str, ...]
    rule_ids: tuple[str, ...]
    """The rules this playbook applies, most important first; their do/don't sentences are
    the playbook's do and don't list, ahead of `extra_do` and `extra_dont`."""
    escalation: Escalation | None
    extra_do: tuple[str, ...] = ()
    extra_dont: tuple[str, ...] = ()

    @property
    def rules(self) -> tuple[Rule, ...]:
        return tuple(RULES[rule_id] for rule_id in self.rule_ids)


PLAYBOOKS: dict[Category, Playbook] = {
    playbook.category: playbook
    for playbook in (
        Playbook(
            Category.COMPLAINT,
            "Beschwerde",
            "Das Problem lösen und den Kunden halten: von fünfzig Unzufriedenen beschwert sich "
            "oft nur einer, die anderen gehen still zur Konkurrenz.",
            ReplyPolicy.REQUIRED,
            (
                "Beitrag genau lesen: Was ist passiert, was erwartet die Person, ist es ein "
                "Hilferuf?",
                "Öffentlich antworten: danken, Verständnis zeigen, den nächsten Schritt nennen.",
                "Für Kunden- oder Vorgangsdaten in die Direktnachricht wechseln.",
                "Mit der zuständigen Fachabteilung eine Lösung für diesen Fall finden.",
                "Melden, was getan wurde, bis der Fall gelöst ist; dann den Eintrag schließen.",
            ),
            (
                "fast_answer",
                "thank_and_take_seriously",
                "individual_solution",
                "truthful",
                "private_channel",
                "keep_informed",
                "stay_factual",
                "four_eyes",
                *HOUSE_RULES,
            ),
            Escalation(
                "Die Lösung liegt außerhalb des Social-Media-Teams (Erstattung, Technik, "
                "Kulanz), oder der Fall ist nach einer Woche nicht gelöst.",
                "Zuständige Fachabteilung (Kundenservice, Technik); Kulanzfragen an die "
                "Teamleitung Social Media.",
            ),
            extra_do=("Zuhören: oft will die Person vor allem gehört werden.",),
        ),
        Playbook(
            Category.QUESTION,
            "Frage",
            "Richtig und vollständig antworten, damit niemand nachfragen muss.",
            ReplyPolicy.REQUIRED,
            (
                "Klären, was genau die Person wissen will.",
                "Die Antwort prüfen (Hilfeseiten, Fachabteilung), nicht raten.",
                "Kurz und verständlich antworten; bei Bedarf auf die passende Hilfeseite "
                "verlinken.",
                "Braucht die Antwort persönliche Daten, im privaten Kanal weitermachen.",
            ),
            (
                "fast_answer",
                "truthful",
                "private_channel",
                "stay_factual",
                "four_eyes",
                *HOUSE_RULES,
            ),
            Escalation(
                "Niemand im Team kennt die Antwort sicher.",
                "Die Fachabteilung, die das Thema verantwortet.",
            ),
            extra_dont=("Kein Fachjargon: die meisten Fragenden sind keine Fachleute.",),
        ),
        Playbook(
            Category.TROLL,
            "Troll",
            "Provokation keine Bühne geben, ohne eine sachliche Frage unbeantwortet zu lassen.",
            ReplyPolicy.FACTS_ONCE,
            (
                "Prüfen, ob hinter dem Ton ein echtes Anliegen steckt; dann gilt das Playbook "
                "Beschwerde.",
                "Ohne Anliegen nicht antworten und den Eintrag mit Begründung schließen.",
                "Steht eine sachliche Frage im Beitrag, sie einmal mit Fakten beantworten und "
                "danach nicht weiter diskutieren.",
                "Beleidigungen gegen Mitarbeitende oder Dritte nach den Regeln der Plattform "
                "melden.",
            ),
            ("dont_feed_trolls", "stay_factual", "truthful", "four_eyes", *HOUSE_RULES),
            Escalation(
                "Aus Provokation wird eine Drohung, oder viele Accounts posten dasselbe "
                "(möglicher koordinierter Angriff).",
                "Teamleitung Social Media; bei Drohungen gilt das Playbook Drohung.",
            ),
        ),
        Playbook(
            Category.THREAT,
            "Drohung oder Erpressung",
            "Menschen schützen, nicht nachgeben und den Fall lückenlos dokumentieren.",
            ReplyPolicy.AFTER_ESCALATION,
            (
                "Beitrag sichern (Screenshot mit Link und Uhrzeit), bevor er gelöscht wird.",
                "Sofort eskalieren und die Antwort mit der Eskalationsstelle abstimmen.",
                "Wenn geantwortet wird: kurz, ruhig, ohne Gegenleistung; ein echtes Anliegen im "
                "privaten Kanal klären.",
                "Öffentlich nicht über die Drohung oder rechtliche Schritte diskutieren.",
            ),
            (
                "no_blackmail",
                "escalate_safety_legal",
                "stay_factual",
                "private_channel",
                "truthful",
                "four_eyes",
                *HOUSE_RULES,
            ),
            Escalation(
                "Immer: bei Gewaltdrohung, Einschüchterung von Mitarbeitenden, Drohung mit dem "
                "Veröffentlichen persönlicher Daten und bei Erpressung.",
                "Unternehmenssicherheit (bei Gefahr für Leib und Leben sofort die Polizei, "
                "110), Rechtsabteilung und Teamleitung Social Media.",
            ),
        ),
        Playbook(
            Category.CRISIS,
            "Krise",
            "Bei vielen Beiträgen zum selben Vorfall (Ausfall, Rückruf, Shitstorm) mit einer "
            "Stimme sprechen und informieren, bis er vorbei ist.",
            ReplyPolicy.REQUIRED,
            (
                "Erkennen: viele Beiträge zum selben Thema in kurzer Zeit, Presseanfragen, "
                "Gefahr für Kunden.",
                "Sofort eskalieren; bis zur abgestimmten Stellungnahme nur bestätigen, dass das "
                "Thema bekannt ist und bearbeitet wird.",
                "Die abgestimmte Stellungnahme auf allen Kanälen gleich verwenden.",
                "Regelmäßig Zwischenstände posten, auch ohne Neuigkeiten, und das Ende melden.",
                "Einzelfälle mit persönlichen Daten im privaten Kanal lösen.",
            ),
            (
                "escalate_safety_legal",
                "fast_answer",
                "truthful",
                "keep_informed",
                "private_channel",
                "stay_factual",
                "four_eyes",
                *HOUSE_RULES,
            ),
            Escalation(
                "Sobald sich eine Krise abzeichnet, nicht erst, wenn die Presse fragt.",
                "Unternehmenskommunikation und Krisenstab; bei Sicherheitsfragen zusätzlich die "
                "Unternehmenssicherheit.",
            ),
            extra_dont=("Keine eigenen Stellungnahmen neben der abgestimmten.",),
        ),
        Playbook(
            Category.PRAISE,
            "Lob",
            "Danke sagen, wo es passt: nur etwa jeder Vierte erzählt gute Erfahrungen weiter, "
            "Lob ist also selten und wertvoll.",
            ReplyPolicy.OPTIONAL,
            (
                "Kurz und persönlich danken und auf das Gelobte eingehen.",
                "Das Lob an das betroffene Team weitergeben.",
            ),
            ("four_eyes", *HOUSE_RULES),
            None,
            extra_dont=("Kein Werbetext und kein Verkaufsangebot als Antwort auf Lob.",),
        ),
    )
}


def playbook_for(category: Category | str) -> Playbook:
    """The playbook of a category; `ValueError` naming the known categories otherwise."""
    try:
        return PLAYBOOKS[Category(category)]
    except ValueError:
        known = ", ".join(PLAYBOOKS)
        raise ValueError(f"unknown category {category!r}; known: {known}") from None
