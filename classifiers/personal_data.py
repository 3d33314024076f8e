"""Finding personal data in German text: IBANs, e-mail, phone, postal addresses, reference numbers.

Pure and offset-exact, so callers can point at the span: the draft checker warns before such
data goes out in a public reply, and triage sends a post that carries it to a private channel.
Reference numbers count only with their label ("Kundennummer 4711-0815"): a bare number could be
anything, while a labelled one identifies a customer's order, parcel, account or contract.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class PersonalDataKind(StrEnum):
    IBAN = "iban"
    EMAIL = "email"
    PHONE = "phone"
    ADDRESS = "address"
    ORDER_NUMBER = "order_number"
    TRACKING_NUMBER = "tracking_number"
    CUSTOMER_NUMBER = "customer_number"
    CONTRACT_NUMBER = "contract_number"


GERMAN_NAMES: dict[PersonalDataKind, str] = {
    PersonalDataKind.IBAN: "IBAN",
    PersonalDataKind.EMAIL: "E-Mail-Adresse",
    PersonalDataKind.PHONE: "Telefonnummer",
    PersonalDataKind.ADDRESS: "Postanschrift",
    PersonalDataKind.ORDER_NUMBER: "Bestellnummer",
    PersonalDataKind.TRACKING_NUMBER: "Sendungsnummer",
    PersonalDataKind.CUSTOMER_NUMBER: "Kundennummer",
    PersonalDataKind.CONTRACT_NUMBER: "Vertragsnummer",
}
"""How the social media team calls each kind."""


@dataclass(frozen=True)
class PersonalData:
    """One piece of personal data: its kind and where it stands (`text[start:end]`)."""

    kind: PersonalDataKind
    start: int
    end: int
    text: str


def _labelled(stems: str) -> re.Pattern[str]:
    """A reference number after its label; the match's `value` group is the number itself."""
    return re.compile(
        rf"(?<!\w)(?:{stems})(?:nummer|-?nr\.?|-?id)?(?:\s*(?:nr\.?|nummer|#|:))*\s*"
        # the number starts after a space, sign or label ending, never inside a word
        # ("PaketFix24" is a shop, not a parcel)
        r"(?<=[\s#:.rd-])(?P<value>(?=[a-z0-9-]*\d)[a-z0-9][a-z0-9-]{3,}(?<!-))(?!\w)",
        re.IGNORECASE,
    )


_MIN_PHONE_DIGITS, _MAX_PHONE_DIGITS = 7, 15
_SERVICE_PREFIXES = ("0800", "0180", "0900", "0137", "0138", "49800", "49180", "0049800")

# Earlier patterns win where spans overlap: a labelled contract number is not also a phone.
_PATTERNS: tuple[tuple[PersonalDataKind, re.Pattern[str]], ...] = (
    (
        PersonalDataKind.IBAN,
        re.compile(
            r"(?<![A-Za-z0-9])(?P<value>[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){3,7}(?: ?[A-Z0-9]{1,3})?)"
            r"(?![A-Za-z0-9])"
        ),
    ),
    (
        PersonalDataKind.EMAIL,
        re.compile(r"(?P<value>[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,})(?!\w)", re.IGNORECASE),
    ),
    (
        PersonalDataKind.ORDER_NUMBER,
        _labelled(r"bestell(?:ung)?|auftrags?|order|buchungs?|reservierungs?"),
    ),
    (
        PersonalDataKind.TRACKING_NUMBER,
        _labelled(r"sendungs?(?:verfolgungs)?|tracking|paket|lieferungs?"),
    ),
    (
        # DHL's formats identify a parcel without any label
        PersonalDataKind.TRACKING_NUMBER,
        re.compile(r"(?<![A-Za-z0-9])(?P<value>JJD\d{10,}|00340\d{10,17})(?!\d)"),
    ),
    (PersonalDataKind.CUSTOMER_NUMBER, _labelled(r"kunden|kd\.?-?")),
    (PersonalDataKind.CONTRACT_NUMBER, _labelled(r"vertrags?(?:konto)?")),
    (
        PersonalDataKind.PHONE,
        re.compile(r"(?<![\w+])(?P<value>(?:\+|00|0)\d[\d /()-]{4,}\d)(?!\w)"),
    ),
    (
        PersonalDataKind.ADDRESS,
        re.compile(
            r"(?P<value>(?<!\w)[A-ZÄÖÜ][\wäöüß-]*(?:straße|strasse|str\.|weg|gasse|allee|platz"
            r"|ring|damm|ufer|chaussee)\s+\d{1,4}\s?[a-z]?(?!\w)(?:,?\s+\d{5}\s+[A-ZÄÖÜ][\wäöüß-]+)?"
            r"|(?<!\w)Postfach\s+\d[\d ]{2,}\d"
            r"|(?<!\w)(?:Am|An der|Im|In der|Auf der|Zum|Zur) [A-ZÄÖÜ][\wäöüß-]+ \d{1,4}[a-z]?"
            r",? \d{5}(?!\d))"
        ),
    ),
)


def find_personal_data(text: str) -> list[PersonalData]:
    """Every piece of personal data in `text`, in order of position, without overlaps."""
    found: list[PersonalData] = []
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            start, end = match.span("value")
            if kind is PersonalDataKind.PHONE and not _personal_phone(match["value"]):
                continue
            if not any(start < other.end and other.start < end for other in found):
                found.append(PersonalData(kind, start, end, text[start:end]))
    return sorted(found, key=lambda data: data.start)


def _personal_phone(candidate: str) -> bool:
    """Phone numbers have 7 to 15 digits (fewer is a year or a price, more an account); a
    company's service line (0800, 0180x, 0900, 0137/0138) is nobody's personal number."""
    digits = "".join(ch for ch in candidate if ch.isdigit())
    if digits.startswith(_SERVICE_PREFIXES):
        return False
    return _MIN_PHONE_DIGITS <= len(digits) <= _MAX_PHONE_DIGITS
