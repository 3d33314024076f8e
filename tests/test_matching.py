"""Brand and negative-keyword matching on realistic German posts."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.matching import Matcher
from monitor.settings import BrandSettings, load_settings

SHIPPED_CONFIG = Path(__file__).resolve().parents[1] / "monitor" / "default_config.toml"


@pytest.fixture(scope="module")
def shipped() -> Matcher:
    settings = load_settings(SHIPPED_CONFIG)
    return Matcher(settings.brands, settings.keywords.negative)


def brands_in(text: str, *brands: BrandSettings) -> list[str]:
    return Matcher(brands, []).match(text).brands


def keywords_in(text: str, *keywords: str) -> list[str]:
    return Matcher([], keywords).match(text).keywords


BAHN = BrandSettings(name="Deutsche Bahn", aliases=["DB", "Bahn", "@DB_Bahn"])


@pytest.mark.parametrize(
    ("text", "brands"),
    [
        ("@DB_Bahn warum steht der ICE 578 seit 40 Minuten vor Fulda?", ["Deutsche Bahn"]),
        ("#DeutscheBahn ihr seid so eine Lachnummer", ["Deutsche Bahn"]),
        ("S-Bahn-Chaos in München, mal wieder", ["Deutsche Bahn"]),
        ("Der DB Navigator stürzt beim Ticketkauf ab", ["Deutsche Bahn"]),
        ("Auf der Autobahn überholt, weil die Bahn mal wieder ausgefallen ist", ["Deutsche Bahn"]),
        ("Seit drei Tagen kein Internet. Danke, @Telekom_hilft!", ["Telekom"]),
        ("MagentaTV hängt und die Packstation ist voll", ["Telekom", "DHL"]),
        ("DHL hat mein Paket verloren, die Telekom das Internet, DHL!!!", ["Telekom", "DHL"]),
        ("Autobahn A7 dicht, nichts geht mehr", []),
        ("Meine Laufbahn als Achterbahn-Fan begann auf der Rennbahn", []),
        ("Die Datenbank-Migration auf die neue SQL-DB läuft, der DB-Server ist neu", []),
    ],
)
def test_shipped_config_finds_the_brands_a_team_cares_about(
    shipped: Matcher, text: str, brands: list[str]
) -> None:
    assert shipped.match(text).brands == brands


@pytest.mark.parametrize(
    ("text", "keywords"),
    [
        ("Ich hasse es nicht, wenn die Bahn mal pünktlich ist 😂", ["hass*"]),
        ("Nicht schlecht, Telekom, das Netz läuft wieder!", ["schlecht*"]),
        ("Toll gemacht @DB_Bahn, nur 90 Minuten Verspätung. Weiter so 👏", ["verspät*"]),
        ("Kein Netz? Kein Problem, ich bin ja nicht sauer.", ["sauer", "kein netz"]),
        ("Sauerkraut und Bahnfahren, was will man mehr", []),
    ],
)
def test_irony_and_negation_still_match_keywords_because_the_model_judges_sentiment(
    shipped: Matcher, text: str, keywords: list[str]
) -> None:
    assert shipped.match(text).keywords == keywords


def test_keywords_come_in_config_order_and_spellings_of_one_term_count_once(
    shipped: Matcher,
) -> None:
    result = shipped.match("Scheissladen! Schon wieder Verspätung, Scheißladen, alles kaputt")
    assert result.keywords == ["kaputt*", "verspät*", "scheiß*"]


def test_handles_match_case_insensitively_and_only_whole() -> None:
    assert brands_in("Hallo @db_bahn, wo bleibt mein Zug?", BAHN) == ["Deutsche Bahn"]
    handle_only = BrandSettings(name="DB Info", aliases=["@DB_Info"])
    assert brands_in("@db_info hilft nie", handle_only) == ["DB Info"]
    assert brands_in("@DB_Infoscreen ist aus", handle_only) == []


@pytest.mark.parametrize(
    "text", ["#DeutscheBahn", "#deutschebahn", "Deutsche-Bahn", "DEUTSCHE BAHN"]
)
def test_a_brand_name_matches_as_hashtag_and_hyphenated(text: str) -> None:
    assert brands_in(f"Danke für nichts, {text}", BrandSettings(name="Deutsche Bahn")) == [
        "Deutsche Bahn"
    ]


@pytest.mark.parametrize("text", ["#DB verspätet", "DB-Kundenservice ist zu", "Typisch die DB."])
def test_a_short_alias_matches_as_hashtag_and_before_hyphen_or_punctuation(text: str) -> None:
    assert brands_in(text, BAHN) == ["Deutsche Bahn"]


@pytest.mark.parametrize(
    ("text", "matches"),
    [
        ("Stau auf der Autobahn", False),
        ("Das Bahnhofsklo ist gesperrt", False),
        ("Schlaglöcher auf der Fahrbahn", False),
        ("Bahn-Chaos am Hauptbahnhof", True),
        ("Wo ist die Bahn, verdammt?", True),
        ("bahn\nkommt nicht", True),
    ],
)
def test_brands_are_whole_words_not_parts_of_german_compounds(text: str, matches: bool) -> None:
    assert bool(brands_in(text, BAHN)) is matches


@pytest.mark.parametrize(
    ("term", "text"),
    [
        ("Müller", "Frag mal bei Mueller nach"),
        ("Mueller", "Frag mal bei MÜLLER nach"),
        ("Müller", "Frag mal bei Mu\u0308ller nach"),  # decomposed ü, as macOS writes it
        ("Straße", "Baustelle in der Strasse"),
        ("Strasse", "BAUSTELLE IN DER STRAẞE"),
    ],
)
def test_umlaut_and_sharp_s_spellings_are_equal(term: str, text: str) -> None:
    assert brands_in(text, BrandSettings(name=term)) == [term]


def test_exclusions_hide_only_the_phrase_they_name() -> None:
    server_talk = "Der DB-Server ist schon wieder down"
    assert brands_in(server_talk, BAHN) == ["Deutsche Bahn"]  # without the exclusion
    excluding = BAHN.model_copy(update={"exclude": ["DB-Server", "Datenbank"]})
    assert brands_in(server_talk, excluding) == []
    assert brands_in("Datenbank und DB-Servers: alles weg", excluding) == []
    assert brands_in("Der DB-Server hängt und die DB hat 40 Minuten Verspätung", excluding) == [
        "Deutsche Bahn"
    ]


@pytest.mark.parametrize(
    ("term", "text", "matches"),
    [
        ("verspät*", "40 Minuten Verspätung", True),
        ("verspät*", "Zug verspätet sich", True),
        ("verspät*", "ZUG VERSPAETET", True),
        ("scheiß*", "Scheißladen", True),
        ("scheiß*", "Scheissladen", True),
        ("störung*", "Großstörung", False),
        ("störung*", "Die Zerstörung des Waldes", False),
        ("hass*", "Das Chassis ist verbogen", False),
        ("sauer", "Sauerkraut mit Würstchen", False),
        ("sauer", "Ich bin so SAUER!!!", True),
        ("Frechheit", "Was für eine frechheit", True),
    ],
)
def test_wildcards_allow_any_ending_but_keywords_start_at_a_word(
    term: str, text: str, matches: bool
) -> None:
    assert (keywords_in(text, term) == [term]) is matches


@pytest.mark.parametrize(
    ("text", "matches"),
    [
        ("Das WLAN funktioniert nicht", True),
        ("Das WLAN funktioniert schon wieder nicht", True),
        ("Das WLAN funktioniert 😡 heute einfach nicht", True),
        ("funktioniert\nimmer noch nicht", True),
        ("funktioniert seit drei Tagen immer nicht", False),  # four words in between
        ("Es ist nicht so, dass es funktioniert", False),
        ("Alles funktioniert. Nicht dass ich mich beschwere", False),
        ("Funktioniert es? Nicht wirklich", False),
        ("Funktioniert! Nicht zu glauben", False),
    ],
)
def test_phrases_match_in_order_with_small_gaps_within_one_sentence(
    text: str, matches: bool
) -> None:
    assert bool(keywords_in(text, "funktioniert nicht")) is matches


def test_phrases_may_contain_wildcards() -> None:
    assert keywords_in("Das Paket wurde schon wieder verloren", "paket* verloren") == [
        "paket* verloren"
    ]
    assert keywords_in("Paketshop hat meine Sendung verloren", "paket* verloren") == [
        "paket* verloren"
    ]
    assert keywords_in("Verloren im Paketshop", "paket* verloren") == []


def test_spans_point_at_the_original_text_for_highlighting() -> None:
    text = "@DB_Bahn 🚆 DB Navigator zeigt Verspätung, STRAẞENreif, funktioniert halt nicht."
    navigator = BAHN.model_copy(update={"aliases": [*BAHN.aliases, "DB Navigator"]})
    matcher = Matcher([navigator], ["verspät*", "straßen*", "funktioniert nicht"])
    found = [(span.kind, text[span.start : span.end]) for span in matcher.match(text).spans]
    assert found == [
        ("brand", "@DB_Bahn"),
        ("brand", "DB Navigator"),
        ("keyword", "Verspätung"),
        ("keyword", "STRAẞENreif"),
        ("keyword", "funktioniert halt nicht"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\n  ",
        "🚆🚆🚆😡😡😡",
        "https://www.example.com/?q=db_bahnhof&x=Bahnsteig",
        "a" * 20_000,
        "!? " * 6_000,
    ],
)
def test_texts_without_mentions_match_nothing(shipped: Matcher, text: str) -> None:
    result = shipped.match(text)
    assert (result.brands, result.keywords, result.spans) == ([], [], [])


def test_mentions_are_found_among_emoji_links_and_line_breaks(shipped: Matcher) -> None:
    text = "Danke @DB_Bahn 🙄🚆\nhttps://t.co/xYz123\n#verspätet\nund die Klima kaputt!!!"
    result = shipped.match(text)
    assert (result.brands, result.keywords) == (["Deutsche Bahn"], ["kaputt*", "verspät*"])


def test_a_20000_character_post_is_matched_to_its_end(shipped: Matcher) -> None:
    filler = "Heute war ein ganz normaler Tag im Büro, nichts Besonderes. " * 400
    text = filler[: 20_000 - 40] + "Und dann: Telekom-Störung!"
    result = shipped.match(text)
    assert (result.brands, result.keywords) == (["Telekom"], ["störung*"])


@pytest.mark.parametrize("term", ["*", "ver*tet", "*bahn", "nicht *", "verspät**", "", "  ", "!!!"])
def test_invalid_keywords_are_refused_at_start_up_naming_the_term(term: str) -> None:
    with pytest.raises(ValueError, match=f"invalid term {term!r}".replace("*", r"\*")):
        Matcher([], ["verspät*", term])


def test_invalid_brand_terms_are_refused_at_start_up_naming_the_term() -> None:
    with pytest.raises(ValueError, match=r"'Tele\*kom'"):
        Matcher([BrandSettings(name="Telekom", aliases=["Tele*kom"])], [])
    with pytest.raises(ValueError, match=r"'#'"):
        Matcher([BrandSettings(name="Deutsche Bahn", exclude=["#"])], [])
