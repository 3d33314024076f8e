"""The German messages an alert sends: a multipart mail (plain text and HTML from Jinja2
templates, the HTML autoescaped) and a chat message for Slack/Mattermost incoming webhooks.

Post texts are written by strangers: in HTML they are escaped, in chat markdown their link,
emphasis and mention syntax is neutralised, so a post can neither inject markup nor ping a
channel."""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any
from urllib.parse import urlencode

import jinja2

from connectors.capabilities import PLATFORM_NAMES
from monitor.alerts.queries import kind_name, title
from monitor.alerts.records import MEASURE_NAMES, AlertKind
from monitor.settings import Settings
from monitor.storage.models import AlertRecord

_environment = jinja2.Environment(
    loader=jinja2.PackageLoader("monitor.alerts", "templates"),
    autoescape=jinja2.select_autoescape(["html"], default_for_string=True),
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
)


def view(alert: AlertRecord, settings: Settings) -> dict[str, Any]:
    """What every message shows, links made absolute with `[web] base_url`."""
    details = alert.details or {}
    web = settings.web
    posts = [
        {**post, "link": web.link(f"/items/{post['item_id']}")} for post in details.get("posts", [])
    ]
    tests = details.get("tests", {})
    return {
        "platform_names": PLATFORM_NAMES,
        "alert": alert,
        "title": title(alert),
        "kind": kind_name(alert.kind),
        "spike": alert.kind == AlertKind.SPIKE,
        "measures": [MEASURE_NAMES[m] for m in details.get("measures", []) if m in MEASURE_NAMES],
        "tests": {MEASURE_NAMES[m]: t for m, t in tests.items() if m in MEASURE_NAMES},
        "opened": alert.opened_at.astimezone(settings.digest.zone).strftime("%d.%m.%Y %H:%M"),
        "posts": posts,
        "terms": details.get("terms", []),
        "queue_link": web.link("/?" + urlencode({"brand": alert.brand})),
        "alerts_link": web.link("/alerts"),
    }


def decimal(value: float) -> str:
    """One decimal, with the German decimal comma."""
    return f"{value:.1f}".replace(".", ",")


def alert_mail(
    alert: AlertRecord, settings: Settings, sender: str, recipients: list[str]
) -> EmailMessage:
    """The alert as a mail: plain text first, HTML as the alternative."""
    context = view(alert, settings)
    message = EmailMessage()
    message["Subject"] = f"Rufwacht-Alarm: {context['title']}"
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Message-ID"] = make_msgid(domain="rufwacht")
    message.set_content(_environment.get_template("alert_mail.txt").render(context))
    message.add_alternative(
        _environment.get_template("alert_mail.html").render(context), subtype="html"
    )
    return message


_MARKDOWN = re.compile(r"([\\`*_\[\]()#|~>!])")
_MENTION = re.compile(r"([@#])(?=\w)")


def markdown_text(text: str) -> str:
    """Stranger's text safe inside chat markdown: one line, entities for &, < and >,
    markdown punctuation escaped, @mentions (and @channel) broken by a zero-width space."""
    flat = " ".join(text.split())
    flat = flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    flat = _MARKDOWN.sub(r"\\\1", flat)
    return _MENTION.sub("\\1\u200b", flat)


def chat_message(alert: AlertRecord, settings: Settings) -> dict[str, str]:
    """The payload of a Slack/Mattermost incoming webhook: `{"text": markdown}`."""
    context = view(alert, settings)
    lines = [f"**Rufwacht-Alarm ({context['kind']}):** {markdown_text(context['title'])}"]
    for measure, test in context["tests"].items():
        if test.get("spike"):
            lines.append(
                f"{measure}: {test['count']} in 24 h, Mittel der Vorwoche "
                f"{decimal(test['baseline'])}, Schwelle {decimal(test['threshold'])}"
            )
    if context["terms"]:
        terms = ", ".join(f"{markdown_text(t['term'])} ({t['count']})" for t in context["terms"])
        lines.append(f"Begriffe: {terms}")
    for post in context["posts"]:
        author = f" – {markdown_text('@' + post['author'])}" if post.get("author") else ""
        text = markdown_text(post["text"])
        lines.append(f"- [Eintrag {post['item_id']}]({post['link']}): {text}{author}")
    queue, every = context["queue_link"], context["alerts_link"]
    lines.append(f"[Warteschlange {markdown_text(alert.brand)}]({queue}) · [Alle Alarme]({every})")
    return {"text": "\n".join(lines)}
