"""Promotional spam and phishing that use a brand's name: recognised so they stay out of the
queue, where they would bury the customers who need an answer.

The sentiment model cannot tell them apart: "Ihre Sendung konnte nicht zugestellt werden,
bitte bestätigen Sie …" reads like a complaint. A social media team recognises spam by what it
wants from the reader, so the rule weighs evidence the way they do:

- a lure (a payment or data demand, a prize, a referral code, easy money, crypto, a
  reseller's pitch, a "support" account asking for a DM) — at least one is required;
- a way out of the platform (a link, "Link in Bio", a QR code, DMs, WhatsApp, Telegram, or
  "share and follow" for a giveaway) — also required;
- a link whose address dresses up as the brand (dhl-paket-zoll.info, dhl.de-sendung.net);
- an automated author: dozens of posts a day or an account only days old.

Each counts one point (two phrases of one kind of lure, or a look-alike address, two; a short
link one more); three points make spam, four where the lure is a single phrase. So an
unambiguous text is spam even from an old account, while one promotional phrase with a link
("nur heute im Angebot: lidl.de") needs a bot-like author.
Customers quote the same wording when they ask "Ist diese SMS echt?" or warn others, so a post
that talks about phishing, fakes or fraud is never spam.
"""

from __future__ import annotations

import re

from classifiers.folding import fold
from classifiers.troll import AuthorSignals, word_alternatives

SPAM_RULES_VERSION = "spam-rules-2.0"

SPAM_POINTS = 3
"""Points from which a post counts as spam (see the module docstring)."""
ONE_PHRASE_EXTRA = 1
"""A single lure phrase is what customers write too ("nur heute im Angebot"): it needs more."""
BULK_POSTS_PER_DAY = 50
NEW_ACCOUNT_DAYS = 30

# Every pattern runs on folded text (`classifiers.folding`: lower case, umlauts and ß spelled out).
LURES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "Zahlungs- oder Datenaufforderung",
        word_alternatives(r"""
            (?:bestaetigen|aktualisieren|verifizieren|legitimieren|entsperren|begleichen)(?: sie)?;
            (?:jetzt|sofort|hier|online|bitte) (?:\S+ ){0,3}?(?:be)?zahlen;
            (?:jetzt|sofort|hier|bitte) (?:\w+ ){0,2}?(?:einloesen|stornieren|erweitern|anfordern);
            (?:jetzt|sofort|hier|bitte) (?:\w+ ){0,2}?eingeben;
            (?:zahlen|bezahlen|scannen|antworten) sie; zahlungslink; nachporto;
            \w*(?:gebuehr|kosten)\w* (?:i\.h\.v\. |von )?[\d,.]+ ?€;
            ihre? (?:\w+-)?(?:paket|sendung|konto|anschluss|mitgliedschaft|rechnung|postfach);
            ihre? (?:zahlung|rueckerstattung|sim-karte|nummer|daten|zahlungsmethode);
            (?:wird|werden) (?:\w+ ){0,3}?(?:deaktiviert|gesperrt|eingeschraenkt|abgewiesen);
            sperrung; andernfalls; sonst geht; innerhalb (?:von )?(?:24|48|72) ?(?:std|stunden|h);
            bis heute \d; gilt nur bis;
            nur noch \d+ tage; kartendaten; iban; zugangsdaten; kennwort; passwort;
            geburtsdatum; personalausweis; sehr geehrte[r]? kunde
        """),
    ),
    (
        "Gewinnspiel",
        word_alternatives(r"""
            verlos\w*; verschenk\w*; gewinnspiel\w*; gewinner\w*; gewinnen?; zu gewinnen;
            abzugeben; ausgewaehlt; herzlichen glueckwunsch; mystery-?box; nur versand zahlen;
            teilnahme\w*; teilnehmer\w*; so nimmst du teil
        """),
    ),
    (
        "Empfehlungslink oder -code",
        word_alternatives(r"""
            mein(?:en|em|e)? (?:\w+ )?(?:werbe|empfehlungs|partner|einladungs)?(?:link|code);
            \w*(?:empfehlungs|werbe|partner)(?:link|code)\w*; freunde[- ]?werben; freundewerben;
            ref=\w*; und ich auch; und ich \d+ ?€
        """),
    ),
    (
        "Geldverdienen-Versprechen",
        word_alternatives(r"""
            verdiene; verdienen; verdienst; nebenjob\w*; nebenverdienst; passives einkommen;
            von (?:zu ?hause|der couch); keine (?:erfahrung|bewerbung|vorkenntnisse) noetig;
            [\d.,–-]+ ?€ ?(?:/ ?(?:std|h)|pro (?:stunde|tag|woche)|am tag|die stunde);
            [\d.,]+ ?€ (?:in|pro|am|die) (?:einer |1 )?(?:stunde|tag|woche|monat);
            [\d.,]+ ?€ (?:netto|gemacht|verdient); (?:suche|suchen) (?:\w+ ){0,3}?leute;
            wer interesse hat; kassieren; geld \+ produkt zurueck
        """),
    ),
    (
        "Krypto- oder Trading-Werbung",
        word_alternatives(r"""
            krypto\w*; crypto; bitcoin\w*; token; memecoin\w*; \$[a-z]{3,6}; presale; airdrop;
            wallets?; usdt; apy; web3; blockchain\w*; \w*trading\w*; trade[nt]?; tradet;
            \d+x seit; 100x; financial advice; coingecko; uniswap
        """),
    ),
    (
        "Verkaufsangebot",
        word_alternatives(r"""
            nur (?:heute|diese woche|solange); solange der vorrat; hammer ?deals?; #deals?;
            #angebot; \d+ ?% (?:unter|guenstiger|rabatt); rabatt\w*; spare\w* bis zu;
            sofortbonus; startguthaben; wechselbonus; 0 ?€ zuzahlung; wechsle jetzt;
            jetzt (?:sichern|wechseln|bestellen|zuschlagen);
            unser(?:em|en)? (?:\w+-)?(?:shop|partner\w*|tarif\w*|wallet); partnershop; shop:;
            bestell\w* (?:unter|bei|jetzt); lagerraeumung; restposten; outlet; refurbished;
            fuer nur [\d,.]+ ?€; nur ueber (?:diesen|unseren|den) link; iptv; wir buchen dir;
            verfuegbarkeit (?:\w+ )?pruefen; \d+ monate gratis; gratis test\w*; test gratis;
            \d+ ?€ (?:\w+-)?(?:praemie|bonus|gutschrift|startguthaben|vorteil|cashback)
        """),
    ),
    (
        "Angeblicher Kundenservice",
        word_alternatives(r"""
            (?:schick|schreib|sende|kontaktier|dm|pn)\w* (?:\w+ )?uns\w*;
            (?:dein|euer|ihr|unser)(?:em|en)? (?:\w+ ){0,2}?(?:team|support|kundenservice);
            offizielle \w* ?support; helfe nebenbei; techniker bei; \w*-?mitarbeiter hier;
            wir bedauern; wir sehen dein; \^\w+;
            hier (?:ist|das) (?:der|das|dein|ihr|euer) (?:\S+ ){0,2}?(?:support|team|kundenservice);
            (?:deine|ihre) (?:kundennummer|buchungsnummer|sendungsnummer|handynummer|e-mail-adresse)
        """),
    ),
)
CONTACT = word_alternatives(r"""
    link (?:in|im) (?:der )?(?:bio|profil); (?:in|im) (?:meiner|meinem) (?:bio|profil);
    in meinem profil; ersten kommentar; dms?; pn; direktnachricht; privatnachricht; whatsapp;
    telegram\w*; qr-?code; 0x[0-9a-f]{8,}; \+49 ?\d+; 01[5-7]\d[\d ]{6,};
    schreib(?:t)? (?:mir|ihr); (?:in|ueber) (?:meine[rn]?|unsere[rn]?) (?:gruppe|community|kanal);
    antworten sie mit; kommentier\w*; folg(?:t|en); folge (?:mir|uns); follow; retweet\w*; rt;
    teil(?:en|t); lik(?:e|en|ed|t); markier\w*
""")
URL = re.compile(r"(?:https?://)?((?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,})(?:/\S*)?")
DISGUISED_TLD = re.compile(r"\.(?:de|com)[.-]\w")
"""A host like dhl.de-sendung.net: the real domain comes after the ".de" the reader sees."""
SHORT_LINK_HOSTS = frozenset(
    {"bit.ly", "tinyurl.com", "amzn.to", "goo.gl", "ow.ly", "is.gd", "cutt.ly", "rb.gy"}
    | {"shorturl.at", "t.ly", "linktr.ee", "t.me", "wa.me", "chat.whatsapp.com"}
)
"""Short links hide where they lead; messenger links move the talk where no one moderates."""
GENERIC_HOST_PARTS = frozenset(
    {"de", "at", "ch", "eu", "com", "net", "org", "online", "info", "app"}
)
CUSTOMER_VOICE = word_alternatives(r"""
    phishing\w*; (?<!kein )(?:fake|scam)\w*; (?<!vor )betrug\w*; betrueger\w*; abzock\w*; masche;
    gefaelscht\w*; nicht (?:klicken|anklicken|aufrufen|oeffnen|antworten|eingeben); vorsicht;
    warnt; warnen; blocken; (?:hab|habe|haben)\w* (?:\w+ ){0,3}?gemeldet;
    (?:echt|serioes|offiziell)(?:,? oder)? ?\?; echt oder; kennt (?:das|jemand);
    ist (?:das|die|der|sowas) (?:\w+ ){0,3}?(?:echt|serioes|offiziell);
    (?:hat|weiss) (?:jemand|wer); wer weiss; hab(?:e)? (?:\w+ )?nicht geklickt;
    (?:sms|mail|e-mail|nachricht|anruf|brief)\w* (?:\w+ ){0,3}?(?:bekommen|erhalten|gekriegt);
    (?:bekomme|bekam|kriege|krieg) (?:\w+ ){0,3}?(?:sms|mails?|e-mails?|anrufe?|nachrichten?);
    muss (?:ich|sie|man) (?:\w+ ){0,2}?(?:zahlen|bezahlen|tun|machen)
""")
"""A customer asking whether a message is real, reporting one or warning others."""


Evidence = list[tuple[int, str]]
"""(points, German reason) for every sign the rule found."""


def spam_reasons(text: str, author: AuthorSignals) -> list[str]:
    """German reasons why the post looks like spam; empty when it does not."""
    folded = fold(text)
    if CUSTOMER_VOICE.search(folded):
        return []
    lures, look_alike, routes = _lures(folded), _look_alike(folded), _routes(folded)
    if not (lures or look_alike):
        return []
    if not (routes or look_alike) and _points(lures) < SPAM_POINTS:
        return []  # an offer with no way to act on it is usually a customer talking
    found = lures + look_alike + routes + _automated(author)
    needed = SPAM_POINTS + (ONE_PHRASE_EXTRA if _points(lures + look_alike) < 2 else 0)
    return [reason for _, reason in found] if _points(found) >= needed else []


def _points(evidence: Evidence) -> int:
    return sum(points for points, _ in evidence)


def _quoted(matches: list[str]) -> str:
    return ", ".join(f"„{m}“" for m in dict.fromkeys(matches))


def _lures(folded: str) -> Evidence:
    """One entry per kind of lure; two different phrases of a kind count double."""
    found = []
    for name, pattern in LURES:
        hits = list(dict.fromkeys(m.group(0).strip() for m in pattern.finditer(folded)))
        if hits:
            found.append((min(2, len(hits)), f"{name} ({_quoted(hits[:3])})"))
    return found


def _routes(folded: str) -> Evidence:
    """Ways off the platform: one point, one more where a short link hides the target."""
    hits = [m.group(0) for m in CONTACT.finditer(folded)]
    hosts = _hosts(folded)
    found = [(1, f"Link oder Kontaktweg ({_quoted((hits + hosts)[:3])})")] if hits + hosts else []
    short = [host for host in hosts if host in SHORT_LINK_HOSTS]
    if short:
        found.append((1, f"Kurzlink oder Messenger-Link ({_quoted(short)})"))
    return found


def _look_alike(folded: str) -> Evidence:
    """Made-up hosts with a name the post itself uses (the brand it claims) in them; a host
    under a domain the post names (hilfe.telekom.de beside "Telekom") is that site's own."""
    outside = URL.sub(" ", folded)
    words = set(re.findall(r"\w+", outside))
    hosts = []
    for host in _hosts(folded):
        labels = host.removeprefix("www.").split(".")[:-1]
        if re.search(rf"(?<!\w){re.escape(labels[-1])}(?!\w)", outside):
            continue
        parts = {part for label in labels for part in label.split("-") if len(part) > 1}
        made_up = len(labels) > 1 or "-" in labels[-1]
        if DISGUISED_TLD.search(host) or (made_up and (parts - GENERIC_HOST_PARTS) & words):
            hosts.append(host)
    return [(2, f"Adresse gibt sich als Marke aus ({_quoted(hosts)})")] if hosts else []


def _hosts(folded: str) -> list[str]:
    """Hosts of links; a one-letter name is an abbreviation ("e.on", "o.ä."), not a link."""
    hosts = (match.group(1) for match in URL.finditer(folded))
    return [h for h in hosts if h in SHORT_LINK_HOSTS or len(h.rsplit(".", 1)[0]) > 1]


def _automated(author: AuthorSignals) -> Evidence:
    found = []
    if author.posts_last_24h is not None and author.posts_last_24h >= BULK_POSTS_PER_DAY:
        found.append((1, f"{author.posts_last_24h} Beiträge in 24 Stunden"))
    if author.account_age_days is not None and author.account_age_days < NEW_ACCOUNT_DAYS:
        days = author.account_age_days
        found.append((1, f"Konto erst {days} {'Tag' if days == 1 else 'Tage'} alt"))
    return found
