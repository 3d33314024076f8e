"""The sandboxed renderer for saved replies: plain `{name}` placeholders and nothing else.

Leads edit the templates, so a template must not reach into Python: `str.format` would allow
`{name.__class__}`, `{ticket[0]}`, `{name!r}` and `{name:>999999}`. Templates are parsed with
`string.Formatter` but filled in here, field by field, and only plain known names pass.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from string import Formatter

PLACEHOLDERS: dict[str, str] = {
    "name": "Name oder Handle der Person, der geantwortet wird",
    "ticket": "Vorgangsnummer des Teams",
    "brand": "Name der Marke",
    "agent": "Kürzel oder Vorname des antwortenden Teammitglieds",
}
"""Every placeholder a template may use, with what it stands for (German, for the leads)."""


class TemplateError(ValueError):
    """A template or its values cannot be used; the message names the placeholder."""


def placeholders(template: str) -> list[str]:
    """The placeholders of `template` in order; `TemplateError` for any field that is not a
    plain known name (attribute access, indexing, conversion, format spec, positional)."""
    names = []
    for _, field, spec, conversion in _parse(template):
        if field is None:
            continue
        if not field.isidentifier() or spec or conversion:
            shown = field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            raise TemplateError(
                f"Platzhalter {{{shown}}} ist nicht erlaubt: nur einfache Namen wie {{name}}"
            )
        if field not in PLACEHOLDERS:
            raise TemplateError(
                f"unbekannter Platzhalter {{{field}}}; bekannt: "
                + ", ".join(f"{{{known}}}" for known in PLACEHOLDERS)
            )
        names.append(field)
    return names


def render(template: str, values: Mapping[str, str]) -> str:
    """`template` with its placeholders filled from `values`; `TemplateError` names the first
    placeholder that is forbidden, unknown or has no value."""
    missing = [name for name in placeholders(template) if name not in values]
    if missing:
        raise TemplateError(f"kein Wert für Platzhalter {{{missing[0]}}}")
    return "".join(
        literal + (values[field] if field is not None else "")
        for literal, field, _, _ in _parse(template)
    )


def filled_pattern(template: str) -> re.Pattern[str]:
    """A pattern matching `template` with any short value in each placeholder and any spacing:
    a draft it fully matches is the stock text, unchanged."""
    parts = []
    for literal, field, _, _ in _parse(template):
        parts.extend(re.escape(word) for word in literal.split())
        if field is not None:
            parts.append(r"[^.!?\n]{0,60}?")
    return re.compile(r"\s*".join(parts), re.DOTALL)


def _parse(template: str) -> list[tuple[str, str | None, str | None, str | None]]:
    try:
        return list(Formatter().parse(template))
    except ValueError as exc:  # a lone "{" or "}"
        raise TemplateError(
            "einzelne geschweifte Klammer; für eine Klammer als Text {{ bzw. }} schreiben"
        ) from exc
