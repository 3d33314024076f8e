"""The mail sender against a real SMTP server: plain, STARTTLS, login, refusals, bad config."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest

from monitor.digest.sender import DeliveryError, FileSender, SmtpSender
from monitor.logs import redact
from monitor.runtime import Runtime
from monitor.settings import ConfigError, MailSettings, load_settings
from tests.conftest import write_toml
from tests.fakes.smtp import SmtpServer, free_port


def message(subject: str = "Rufwacht: Test") -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = subject
    mail["From"] = "rufwacht@example.org"
    mail["To"] = "presse@example.org"
    mail.set_content("Hallo Team, alles ruhig.")
    return mail


@pytest.mark.parametrize("starttls", [False, True], ids=["plain", "starttls"])
def test_a_mail_arrives_as_sent(tmp_path: Path, starttls: bool) -> None:
    with SmtpServer(tmp_path, starttls=starttls) as server:
        SmtpSender(server.mail_settings()).send(message("Rufwacht: Täglicher Überblick"))
    [received] = server.messages
    assert received["Subject"] == "Rufwacht: Täglicher Überblick"
    assert received.get_content().strip() == "Hallo Team, alles ruhig."


def test_a_server_refusing_twice_gets_the_mail_exactly_once(tmp_path: Path) -> None:
    waits: list[float] = []
    with SmtpServer(tmp_path) as server:
        server.refuse_next(2)
        settings = server.mail_settings(retry_backoff_seconds=3)
        SmtpSender(settings, sleep=waits.append).send(message())
    assert len(server.messages) == 1
    assert server.attempts == 3
    assert waits == [3, 6]  # backoff doubles


def test_a_server_that_keeps_refusing_ends_in_an_error_naming_it(tmp_path: Path) -> None:
    with SmtpServer(tmp_path) as server:
        server.refuse_next(10)
        settings = server.mail_settings(retry_attempts=3)
        with pytest.raises(DeliveryError) as raised:
            SmtpSender(settings).send(message())
    assert f"127.0.0.1:{server.port}" in str(raised.value)
    assert "451" in str(raised.value)
    assert "3 tries" in str(raised.value)
    assert server.messages == []


def test_login_reads_the_named_variables_and_a_missing_one_is_named(tmp_path: Path) -> None:
    with SmtpServer(tmp_path, starttls=True, login=("digest", "geheim-123")) as server:
        settings = server.mail_settings(smtp_user_env="SMTP_USER", smtp_password_env="SMTP_PW")
        environ = {"SMTP_USER": "digest", "SMTP_PW": "geheim-123"}
        SmtpSender(settings, environ=environ).send(message())
        with pytest.raises(DeliveryError, match="SMTP_PW not set"):
            SmtpSender(settings, environ={"SMTP_USER": "digest"}).send(message())
        with pytest.raises(DeliveryError) as wrong:
            SmtpSender(settings, environ={**environ, "SMTP_PW": "falsch"}).send(message())
    assert len(server.messages) == 1
    assert "535" in str(wrong.value)
    assert "falsch" not in str(wrong.value)
    assert server.attempts == 1  # a wrong password is not tried again


def test_starttls_against_a_server_without_it_is_a_clear_error(tmp_path: Path) -> None:
    with SmtpServer(tmp_path) as server:
        settings = server.mail_settings(smtp_security="starttls")
        with pytest.raises(DeliveryError, match="does not offer STARTTLS"):
            SmtpSender(settings).send(message())
    assert server.messages == []


def test_an_untrusted_certificate_is_refused_without_retrying(tmp_path: Path) -> None:
    with SmtpServer(tmp_path, starttls=True) as server:
        settings = server.mail_settings(smtp_ca_file=None)
        with pytest.raises(DeliveryError, match="CERTIFICATE_VERIFY_FAILED"):
            SmtpSender(settings).send(message())
    assert server.messages == []


def test_a_server_nobody_listens_on_is_named_in_the_error() -> None:
    port = free_port()
    settings = MailSettings(
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        retry_attempts=2,
        retry_backoff_seconds=0,
    )
    with pytest.raises(DeliveryError, match=rf"127\.0\.0\.1:{port} \(none\): .*refused"):
        SmtpSender(settings).send(message())


def test_a_login_over_an_unencrypted_connection_is_refused_by_the_config() -> None:
    with pytest.raises(ValueError, match="unencrypted"):
        MailSettings(smtp_security="none", smtp_user_env="SMTP_USER")


def test_the_file_sender_writes_a_readable_eml(tmp_path: Path) -> None:
    FileSender(tmp_path / "out").send(message("Rufwacht: Datei"))
    [written] = (tmp_path / "out").glob("*.eml")
    assert b"Subject: Rufwacht: Datei" in written.read_bytes()


def test_the_smtp_password_is_redacted_once_the_config_is_loaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RW_SMTP_USER", "digest")
    monkeypatch.setenv("RW_SMTP_PW", "Geheim-Passwort-42")
    mail = {"smtp_user_env": "RW_SMTP_USER", "smtp_password_env": "RW_SMTP_PW"}
    Runtime.open(write_toml(tmp_path / "rufwacht.toml", {"digest": mail})).close()
    assert redact("AUTH failed for Geheim-Passwort-42") == "AUTH failed for ***"


def test_a_digest_nobody_would_read_is_refused_at_start_up(tmp_path: Path) -> None:
    config = write_toml(tmp_path / "rufwacht.toml", {"digest": {"mails": [{"name": "bahn"}]}})
    with pytest.raises(ConfigError, match="digest 'bahn' has no recipients"):
        load_settings(config)


def test_a_digest_naming_an_unknown_brand_is_refused_at_start_up(tmp_path: Path) -> None:
    mails = [{"name": "bahn", "brands": ["Deutsche bahn"], "recipients": ["a@example.org"]}]
    data = {"brands": [{"name": "Deutsche Bahn"}], "digest": {"mails": mails}}
    with pytest.raises(ConfigError, match="unknown brand 'Deutsche bahn'"):
        load_settings(write_toml(tmp_path / "rufwacht.toml", data))
