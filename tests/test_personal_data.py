"""Personal data in German text: kind and exact span, and no alarm on ordinary numbers."""

from __future__ import annotations

import pytest

from classifiers.personal_data import PersonalDataKind, find_personal_data

Kind = PersonalDataKind


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Überweisen Sie bitte auf DE89 3704 0044 0532 0130 00, danke!",
            [(Kind.IBAN, "DE89 3704 0044 0532 0130 00")],
        ),
        ("Meine IBAN ist DE89370400440532013000.", [(Kind.IBAN, "DE89370400440532013000")]),
        (
            "Schreibt mir an lena.hoffmann@example.de oder ruft 0171 2345678 an",
            [(Kind.EMAIL, "lena.hoffmann@example.de"), (Kind.PHONE, "0171 2345678")],
        ),
        ("Erreichbar unter +49 (0)30 1234567 ab 9 Uhr", [(Kind.PHONE, "+49 (0)30 1234567")]),
        (
            "Das Paket soll an die Lindenstraße 12, 10115 Berlin",
            [(Kind.ADDRESS, "Lindenstraße 12, 10115 Berlin")],
        ),
        ("Wohne Am Mühlweg 3a, klingeln bitte", [(Kind.ADDRESS, "Mühlweg 3a")]),
        ("Bestellnummer: 302-4471123-55 kam nie an", [(Kind.ORDER_NUMBER, "302-4471123-55")]),
        ("Sendungsnummer 00340434161234567890", [(Kind.TRACKING_NUMBER, "00340434161234567890")]),
        ("meine Kunden-Nr. 4711-0815 bitte prüfen", [(Kind.CUSTOMER_NUMBER, "4711-0815")]),
        ("Vertragsnummer 123456789 gekündigt", [(Kind.CONTRACT_NUMBER, "123456789")]),
    ],
)
def test_finds_kind_and_exact_span(text: str, expected: list[tuple[Kind, str]]) -> None:
    found = find_personal_data(text)
    assert [(data.kind, data.text) for data in found] == expected
    assert all(text[data.start : data.end] == data.text for data in found)


@pytest.mark.parametrize(
    "text",
    [
        "Am 12.03.2025 um 14:30 Uhr stand der ICE 1234 in Fulda.",
        "Das kostet jetzt 10000 Euro mehr, 2024 war es billiger.",
        "Ihr Vorgang 123456 ist angelegt, Ticket 2024 gilt weiter.",
        "Gleis 7, Wagen 12, Platz 45",
    ],
)
def test_ordinary_numbers_are_not_personal_data(text: str) -> None:
    assert find_personal_data(text) == []


def test_a_labelled_number_is_not_also_a_phone_number() -> None:
    [data] = find_personal_data("Kundennummer 0301234567")
    assert data.kind is Kind.CUSTOMER_NUMBER
