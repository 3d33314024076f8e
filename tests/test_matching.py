"""Brand, product and negative-keyword matching on realistic German posts, and its spans."""

from __future__ import annotations

from pathlib import Path

import pytest
import regex
import tomli_w
from hypothesis import given, settings
from hypothesis import strategies as st

from classifiers.folding import fold
from monitor.matching import Matcher
from monitor.settings import BrandSettings, ConfigError, load_settings
from monitor.sources import search_terms

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


# --- Case-sensitive terms, span-local exclusions, German endings and products --------------

DECIBEL_SAFE = BAHN.model_copy(update={"exclude": ["{dB}"]})


@pytest.mark.parametrize(
    ("text", "brands"),
    [
        ("95 dB laut", []),
        ("Der Föhn hat 95 dB, laut wie ein ICE", ["Deutsche Bahn"]),
        ("die DB streikt", ["Deutsche Bahn"]),
        ("@DB_Bahn", ["Deutsche Bahn"]),
        ("Meine BahnCard", ["Deutsche Bahn"]),
        ("Sparkassen-Berater", ["Sparkasse"]),
        ("Telekoms Hotline", ["Telekom"]),
    ],
)
def test_the_shipped_config_reads_decibels_endings_and_products_like_a_german_reader(
    text: str, brands: list[str]
) -> None:
    config = load_settings(SHIPPED_CONFIG)
    matcher = Matcher([*config.brands, BrandSettings(name="Sparkasse")], [])
    assert matcher.match(text).brands == brands


@pytest.mark.parametrize(
    ("text", "matches"),
    [("95 dB laut", False), ("die DB streikt", True), ("Hallo @DB_Bahn", True), ("db-App", True)],
)
def test_a_braced_exclusion_removes_only_that_spelling(text: str, matches: bool) -> None:
    assert bool(brands_in(text, DECIBEL_SAFE)) is matches


def test_without_the_exclusion_decibels_count_as_the_brand() -> None:
    assert brands_in("95 dB laut", BAHN) == ["Deutsche Bahn"]


def test_a_plain_exclusion_is_word_bounded_and_keeps_handles() -> None:
    plain = BAHN.model_copy(update={"exclude": ["dB"]})
    assert brands_in("95 dB laut, die DB streikt", plain) == []  # plain terms ignore case
    assert brands_in("95 dB laut, frag @DB_Bahn", plain) == ["Deutsche Bahn"]


def test_an_exclusion_drops_only_the_mention_it_covers() -> None:
    text = "95 dB im Großraumwagen, und die DB sagt nichts"
    spans = Matcher([DECIBEL_SAFE], []).match(text).spans
    assert [(span.start, span.text) for span in spans] == [(text.index("DB"), "DB")]


@pytest.mark.parametrize(
    ("term", "text", "matches"),
    [
        ("{ICE}", "ICE 578 fällt aus", True),
        ("{ICE}", "ice cream im Zug", False),
        ("{ICE}", "Ice Bucket Challenge", False),
        ("{Müller}", "Mu\u0308ller hat geliefert", True),  # decomposed ü
        ("{Müller}", "MÜLLER hat geliefert", False),
        ("{Müller}", "Mueller hat geliefert", False),
        ("ICE", "ice cream im Zug", True),
    ],
)
def test_braced_aliases_match_only_their_spelling(term: str, text: str, matches: bool) -> None:
    brand = BrandSettings(name="Zugmarke", aliases=[term])
    assert bool(brands_in(text, brand)) is matches


def test_braced_keywords_match_only_their_spelling() -> None:
    assert keywords_in("Ich bin SAUER", "{SAUER}") == ["{SAUER}"]
    assert keywords_in("Ich bin sauer", "{SAUER}") == []


@pytest.mark.parametrize(
    ("brand", "text", "span"),
    [
        ("Sparkasse", "Mein Sparkassen-Berater ist super", "Sparkassen"),
        ("Sparkasse", "Was ist mit den Sparkassen los?", "Sparkassen"),
        ("Telekom", "Die Telekoms Hotline hängt", "Telekoms"),
        ("Telekom", "Die Telekom-Hotline hängt", "Telekom"),
        ("Deutsche Bahn", "Ärger mit der Deutschen Bahn", "Deutschen Bahn"),
        ("Deutsche Bahn", "Des Deutsche-Bahn-Chefs Rede", "Deutsche-Bahn"),
    ],
)
def test_inflected_forms_and_hyphenated_compounds_match(brand: str, text: str, span: str) -> None:
    spans = Matcher([BrandSettings(name=brand)], []).match(text).spans
    assert [s.text for s in spans] == [span]


@pytest.mark.parametrize(
    "text", ["Mein Sparkassenberater ist super", "Die Sparkasseneinlage", "Sparkassentag"]
)
def test_unlisted_closed_compounds_do_not_match(text: str) -> None:
    assert brands_in(text, BrandSettings(name="Sparkasse")) == []


def test_inflection_can_be_turned_off_per_brand() -> None:
    post = BrandSettings(name="Post", inflect=False)
    assert brands_in("Die Posten sind besetzt", post) == []
    assert brands_in("Die Posts von gestern", post) == []
    assert brands_in("Die Post-Filiale hat zu", post) == ["Post"]
    assert brands_in("Die Posten sind besetzt", BrandSettings(name="Post")) == ["Post"]


def test_handles_and_hashtags_take_no_endings() -> None:
    assert brands_in("Frag @DB_Bahns Kundendienst", BAHN) == []
    assert brands_in("#DeutscheBahns", BrandSettings(name="Zug", aliases=["#DeutscheBahn"])) == []


def test_products_count_as_their_brand_and_say_so() -> None:
    bahn = BAHN.model_copy(update={"products": ["BahnCard", "Deutschlandticket", "DB Navigator"]})
    text = "Meine BahnCards und das Deutschlandticket, alles im DB Navigator"
    spans = Matcher([bahn], []).match(text).spans
    assert [(s.text, s.term, s.kind, s.brand) for s in spans] == [
        ("BahnCards", "BahnCard", "product", "Deutsche Bahn"),
        ("Deutschlandticket", "Deutschlandticket", "product", "Deutsche Bahn"),
        ("DB Navigator", "DB Navigator", "product", "Deutsche Bahn"),
    ]
    assert brands_in("Meine BahnCard", BAHN) == []  # a closed compound only where listed


def test_spans_are_offsets_into_the_original_text_after_umlauts_and_sharp_s() -> None:
    text = (
        "Größter Ärger: Straẞe gesperrt, Mu\u0308ller fährt nicht, {DB} verspätet, Telekoms Störung"
    )
    brands = [
        BrandSettings(name="Müller"),
        BrandSettings(name="Telekom"),
        BrandSettings(name="Deutsche Bahn", aliases=["{DB}"]),
    ]
    spans = Matcher(brands, ["störung*", "verspät*"]).match(text).spans
    expected = [
        ("Mu\u0308ller", "Müller", "brand", "Müller"),
        ("DB", "{DB}", "brand", "Deutsche Bahn"),
        ("verspätet", "verspät*", "keyword", None),
        ("Telekoms", "Telekom", "brand", "Telekom"),
        ("Störung", "störung*", "keyword", None),
    ]
    assert [(s.text, s.term, s.kind, s.brand) for s in spans] == expected
    for span in spans:
        assert text[span.start : span.end] == span.text
    assert [span.start for span in spans] == [
        text.index("Mu\u0308ller"),
        text.index("DB"),
        text.index("verspätet"),
        text.index("Telekoms"),
        text.index("Störung"),
    ]


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("aliases", ["{DB"], "brands.0.aliases: invalid term '{DB': unbalanced braces"),
        ("products", ["{}"], "brands.0.products: invalid term '{}': it contains no letters"),
        ("exclude", ["{dB} Pegel}"], "brands.0.exclude: invalid term '{dB} Pegel}': unbalanced"),
        (
            "exclude",
            ["{dB} Pegel {x}"],
            "brands.0.exclude: invalid term '{dB} Pegel {x}': misplaced",
        ),
        ("name", "{DB}", "brands.0.name: the name cannot be in braces"),
    ],
)
def test_bad_brace_syntax_stops_start_up_naming_the_key(
    tmp_path: Path, key: str, value: object, problem: str
) -> None:
    brand = {"name": "Deutsche Bahn", key: value}
    config = tmp_path / "rufwacht.toml"
    config.write_text(tomli_w.dumps({"brands": [brand]}), "utf-8")
    with pytest.raises(ConfigError, match=regex.escape(problem)):
        load_settings(config)


def test_bad_keyword_braces_stop_start_up_naming_the_key(tmp_path: Path) -> None:
    config = tmp_path / "rufwacht.toml"
    config.write_text(tomli_w.dumps({"keywords": {"negative": ["{verspät*"]}}), "utf-8")
    with pytest.raises(ConfigError, match=r"keywords\.negative: invalid term '\{verspät\*'"):
        load_settings(config)


def test_platform_searches_get_products_and_terms_without_braces() -> None:
    terms = search_terms(load_settings(SHIPPED_CONFIG))
    assert {"ICE", "BahnCard", "DB Navigator"} <= set(terms.brands)
    assert not [term for term in (*terms.brands, *terms.keywords) if "{" in term]


# --- Fuzz: folding and matching on arbitrary Unicode -----------------------------------------

FUZZ_BRANDS = [
    BrandSettings(
        name="Deutsche Bahn",
        aliases=["DB", "Bahn", "{ICE}", "@DB_Bahn"],
        products=["BahnCard", "DB Navigator"],
        exclude=["{dB}", "DB-Server", "Bahn-Chaos"],
    ),
    BrandSettings(name="Müller", exclude=["Müller-Thurgau", "{MÜLLER}"]),
    BrandSettings(name="Straße", inflect=False, exclude=["Straße 7"]),
]
FRAGMENTS = [
    *("DB", "dB", "db", "Bahn", "@DB_Bahn", "-Server", "-Chaos", "ICE", "ice", "BahnCard"),
    *("Navigator", "Müller", "Mu\u0308ller", "MÜLLER", "Mueller", "-Thurgau", "Straße", "STRAẞE"),
    *(" ", "-", "_", "#", "@", "s", "en", "7", "\u0308", "ß", "ẞ", "İ", "ﬁ", "\n"),
]
fuzz_text = st.lists(st.one_of(st.text(max_size=8), st.sampled_from(FRAGMENTS)), max_size=16).map(
    "".join
)


def excluded_spans(brand: BrandSettings, text: str) -> list[tuple[int, int]]:
    """Where the brand's exclusions match: the same terms, as products of a stand-in brand."""
    stand_in = brand.model_copy(
        update={"name": "Ausschlussmarke", "aliases": [], "products": brand.exclude, "exclude": []}
    )
    return [(s.start, s.end) for s in Matcher([stand_in], []).match(text).spans]


@settings(max_examples=300, deadline=None)
@given(text=fuzz_text)
def test_fuzz_fold_and_match_never_raise_and_never_match_inside_an_exclusion(text: str) -> None:
    fold(text)
    spans = Matcher(FUZZ_BRANDS, ["verspät*", "{SAUER}", "kein netz"]).match(text).spans
    assert spans == sorted(spans, key=lambda span: (span.start, span.end))
    for span in spans:
        assert 0 <= span.start < span.end <= len(text)
        assert text[span.start : span.end] == span.text
    for brand in FUZZ_BRANDS:
        excluded = excluded_spans(brand, text)
        for span in (s for s in spans if s.brand == brand.name):
            assert not [e for e in excluded if span.start < e[1] and e[0] < span.end], span


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet="abcdeosuzäöüßÄÖÜẞ -'’", max_size=30))
def test_fuzz_fold_treats_case_umlauts_and_sharp_s_as_one_spelling(text: str) -> None:
    spelled_out = text.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
    assert fold(text) == fold(text.upper()) == fold(spelled_out) == fold(text.replace("’", "'"))
