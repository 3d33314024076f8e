"""A `Digest` as a German mail: plain text and HTML (charts inline by Content-ID).

Templates are Jinja2 with autoescaping on (post texts are the public's words: `<script>` in a
tweet stays text); the plain-text template is rendered by an environment without it. The
HTML is written for mail clients: tables for layout, CSS inline, every chart also as numbers
in a table and described in its alt text, so a client that blocks images loses nothing.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from functools import cache
from secrets import token_hex
from zoneinfo import ZoneInfo

import jinja2

from connectors.capabilities import PLATFORM_NAMES
from monitor.digest import charts
from monitor.digest.build import SENTIMENT_NAMES, BrandDigest, Comparison, Digest

WEEKDAYS = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")
MONTHS = (
    *("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli"),
    *("August", "September", "Oktober", "November", "Dezember"),
)


@dataclass(frozen=True)
class Chart:
    cid: str
    """Without angle brackets: the HTML says `cid:{cid}`."""
    png: bytes
    alt: str


@dataclass(frozen=True)
class RenderedDigest:
    subject: str
    text: str
    html: str
    charts: list[Chart]

    def standalone_html(self) -> str:
        """The HTML with the charts as data URIs: one file a browser shows as the mail."""
        html = self.html
        for chart in self.charts:
            data = base64.b64encode(chart.png).decode("ascii")
            html = html.replace(f"cid:{chart.cid}", f"data:image/png;base64,{data}")
        return html


def number(value: float, decimals: int = 0) -> str:
    """German digits: 1.234 and 3,5."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def change(comparison: Comparison) -> str:
    """ "+3 zum Vortag" as a short signed figure."""
    return f"{comparison.change:+d}".replace("-", "−")


def against_mean(comparison: Comparison) -> str:
    ratio = comparison.against_mean
    if ratio is None:
        return "–" if comparison.count == 0 else "neu"
    return f"{ratio * 100:+.0f} %".replace("-", "−")


def trend_colour(comparison: Comparison) -> str:
    """Red when clearly above the week (more mentions mean more trouble here), else grey."""
    ratio = comparison.against_mean
    if ratio is not None and ratio >= 0.5 and comparison.count >= 5:
        return "#b03a2e"
    return "#555555"


def duration(value: timedelta | None) -> str:
    if value is None:
        return "–"
    minutes = round(value.total_seconds() / 60)
    if minutes < 60:
        return f"{minutes} Min."
    hours, minutes = divmod(minutes, 60)
    return f"{hours} Std. {minutes:02d} Min." if hours < 48 else f"{number(hours / 24, 1)} Tage"


def long_date(day: datetime) -> str:
    return f"{WEEKDAYS[day.weekday()]}, {day.day}. {MONTHS[day.month - 1]} {day.year}"


def share(part: int, total: int) -> str:
    return f"{round(100 * part / total)} %" if total else "–"


def _helpers(zone: str) -> dict[str, object]:
    """Formatting functions the templates call, the clock in the digest's time zone."""
    local = ZoneInfo(zone)
    return {
        "number": number,
        "change": change,
        "against_mean": against_mean,
        "trend_colour": trend_colour,
        "duration": duration,
        "long_date": long_date,
        "share": share,
        "posts": lambda count: f"{number(count)} {'Beitrag' if count == 1 else 'Beiträge'}",
        "platform": lambda key: PLATFORM_NAMES.get(key, key),
        "sentiment": lambda key: SENTIMENT_NAMES.get(key, key),
        "clock": lambda at: f"{at.astimezone(local):%H:%M}",
        "day_clock": lambda at: f"{at.astimezone(local):%d.%m. %H:%M}",
    }


@cache
def _environment(autoescape: bool) -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("monitor.digest", "templates"),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return environment


def _render(name: str, context: dict[str, object], zone: str) -> str:
    template = _environment(name.endswith(".html")).get_template(name)
    return template.render({**_helpers(zone), **context})


def subject(digest: Digest) -> str:
    mentions = sum(brand.mentions.count for brand in digest.brands)
    flagged = sum(brand.flagged.count for brand in digest.brands)
    names = ", ".join(brand.brand for brand in digest.brands[:3])
    if len(digest.brands) > 3:
        names += f" und {len(digest.brands) - 3} weitere"
    day = digest.period.day
    return (
        f"Rufwacht-Tagesüberblick {day:%d.%m.%Y} – {names or 'keine Marken'}: "
        f"{number(mentions)} Erwähnungen, {number(flagged)} markiert"
    )


def _charts(brand: BrandDigest, index: int) -> dict[str, Chart]:
    today = brand.today
    trend_alt = (
        "Stimmung je Tag, 14 Tage bis heute: "
        + "; ".join(
            f"{day.day:%d.%m.} {day.counts['negative']} negativ, {day.counts['neutral']} neutral, "
            f"{day.counts['positive']} positiv"
            for day in brand.sentiment[-3:]
        )
        + f" (heute {today.total} Erwähnungen; Zahlen in der Tabelle)"
    )
    busiest = max(brand.hourly, key=lambda hour: hour[1], default=("–", 0))
    hourly_alt = (
        f"Erwähnungen je Stunde; die meisten um {busiest[0]} Uhr ({busiest[1]}); "
        "Zahlen in der Tabelle"
    )
    return {
        "sentiment": Chart(
            f"stimmung{index}.{token_hex(6)}@rufwacht",
            charts.sentiment_trend(brand.sentiment),
            trend_alt,
        ),
        "hourly": Chart(
            f"stunden{index}.{token_hex(6)}@rufwacht",
            charts.hourly_volume(brand.hourly),
            hourly_alt,
        ),
    }


def render(digest: Digest) -> RenderedDigest:
    """Subject, plain text, HTML and the charts the HTML references."""
    brand_charts = [_charts(brand, index) for index, brand in enumerate(digest.brands)]
    title = subject(digest)
    context = {"digest": digest, "charts": brand_charts, "subject": title}
    zone = digest.period.timezone
    return RenderedDigest(
        subject=title,
        text=_render("digest.txt", context, zone),
        html=_render("digest.html", context, zone),
        charts=[chart for pair in brand_charts for chart in pair.values()],
    )


def compose(rendered: RenderedDigest, sender: str, recipients: list[str]) -> EmailMessage:
    """multipart/alternative: the text, then multipart/related with the HTML and its charts."""
    message = EmailMessage()
    message["Subject"] = rendered.subject
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = format_datetime(datetime.now().astimezone())
    message["Message-ID"] = make_msgid("digest", sender.rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"  # no out-of-office replies, please
    message.set_content(rendered.text, cte="quoted-printable")
    message.add_alternative(rendered.html, subtype="html", cte="quoted-printable")
    html_part = message.get_payload()[1]
    for chart in rendered.charts:
        html_part.add_related(
            chart.png,
            "image",
            "png",
            cid=f"<{chart.cid}>",
            filename=f"{chart.cid.split('@')[0]}.png",
            disposition="inline",
        )
    return message
