"""The one settings object: a TOML file, validated by pydantic, read once at start-up.

Three layers, later ones winning: the example config (`default_config.toml`, minus its
example brands), the user's file deep-merged over it, and environment variables
`RUFWACHT_<SECTION>__<KEY>` (e.g. `RUFWACHT_STORAGE__URL`). The example file is thus the one
place that says what an omitted key means. Secrets never live in the file: sources name the
environment variable that holds each credential.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from datetime import time
from importlib import resources
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from connectors import SOURCE_TYPES
from monitor.storage.database import StorageError, database_url
from monitor.terms import parse_term, validate_terms

CONFIG_ENV = "RUFWACHT_CONFIG"
ENV_PREFIX = "RUFWACHT_"
DEFAULT_CONFIG_NAME = "rufwacht.toml"


class ConfigError(Exception):
    """The configuration cannot be used; the message names the file, key and problem."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StorageSettings(_Section):
    url: str = "sqlite:///rufwacht.db"

    @field_validator("url")
    @classmethod
    def _supported_database(cls, url: str) -> str:
        try:
            database_url(url)
        except StorageError as exc:
            raise ValueError(str(exc)) from exc
        return url


class BrandSettings(_Section):
    name: str = Field(min_length=1)
    aliases: list[str] = Field(default_factory=list)
    products: list[str] = Field(default_factory=list)
    """Product words that count as the brand ("BahnCard"); closed compounds match only here."""
    exclude: list[str] = Field(default_factory=list)
    inflect: bool = True
    """Also match German endings (-s, -n, -en, -es): "Telekoms", "Sparkassen"."""
    tone: Literal["sie", "du"] = "sie"
    """How replies address customers: formal "Sie" or informal "du"."""

    @field_validator("name")
    @classmethod
    def _plain_name(cls, name: str) -> str:
        if parse_term(name).case_sensitive:
            raise ValueError("the name cannot be in braces; add the exact spelling to aliases")
        return name

    _valid_terms = field_validator("aliases", "products", "exclude")(validate_terms)


class KeywordSettings(_Section):
    negative: list[str] = Field(default_factory=list)

    _valid_terms = field_validator("negative")(validate_terms)


class ClassifierSettings(_Section):
    """Which model serves each task: "champion" (the model registry's, `monitor.champions`),
    a bundled name, a local directory or a hub id."""

    sentiment: str = "champion"
    offensive: str = "champion"
    triage: str = "champion"
    """"champion", "triage" (the bundled model) or a triage model directory."""
    batch_size: int = Field(default=256, ge=1, le=4096)


class FlaggingSettings(_Section):
    negative_threshold: float = Field(default=0.4, ge=0, le=1)
    troll_threshold: float = Field(default=0.6, ge=0, le=1)
    queue_questions: bool = False

    @model_validator(mode="before")
    @classmethod
    def _sla_moved(cls, data: Any) -> Any:
        """Configs written before the SLA had priority bands name the old key."""
        if isinstance(data, dict) and "sla_hours" in data:
            raise ValueError(
                "sla_hours was replaced by the [sla] section: business hours per priority "
                "band ([sla.hours]) and at most `max_hours` on the wall clock (see `rufwacht init`)"
            )
        return data


def _known_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r} (e.g. 'Europe/Berlin')") from exc
    return name


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
GERMAN_STATES = (
    *("BB", "BE", "BW", "BY", "HB", "HE", "HH", "MV"),
    *("NI", "NW", "RP", "SH", "SL", "SN", "ST", "TH"),
)
"""The Bundesländer (`holidays.Germany.subdivisions`, not imported here: it takes 0.2 s)."""


class SlaHours(_Section):
    """Business hours to a first answer, per priority band (`monitor.queue.priority.Band`)."""

    critical: float = Field(default=1, gt=0)
    high: float = Field(default=4, gt=0)
    normal: float = Field(default=8, gt=0)
    low: float = Field(default=24, gt=0)


class SlaSettings(_Section):
    hours: SlaHours = Field(default_factory=SlaHours)
    max_hours: float = Field(default=24, gt=0)
    """Wall-clock cap: a deadline never lies further than this after the post."""
    near: float = Field(default=0.25, gt=0, lt=1)
    """An item is "near" its deadline in this last share of its window."""
    timezone: str = "Europe/Berlin"
    state: str = "BE"
    """Bundesland whose public holidays are not business days."""
    days: list[str] = Field(default_factory=lambda: list(WEEKDAYS[:5]), min_length=1)
    opens: time = time(8)
    closes: time = time(18)

    _zone_known = field_validator("timezone")(_known_zone)

    @field_validator("state")
    @classmethod
    def _known_state(cls, state: str) -> str:
        if state.upper() not in GERMAN_STATES:
            raise ValueError(f"unknown Bundesland {state!r}; one of {', '.join(GERMAN_STATES)}")
        return state.upper()

    @field_validator("days")
    @classmethod
    def _known_days(cls, days: list[str]) -> list[str]:
        if unknown := [day for day in days if day.lower() not in WEEKDAYS]:
            raise ValueError(f"unknown weekday {unknown[0]!r}; use {', '.join(WEEKDAYS)}")
        return [day.lower() for day in days]

    @model_validator(mode="after")
    def _opens_before_closing(self) -> SlaSettings:
        if self.opens >= self.closes:
            raise ValueError(f"closes ({self.closes}) must be after opens ({self.opens})")
        return self


class WorkflowSettings(_Section):
    """Automatic assignment: round-robin to the users on shift, re-offering what waits."""

    auto_assign: bool = False
    max_items_per_agent: int = Field(default=5, ge=1, le=1000)
    """Items in progress (assigned, drafting) above which someone gets no new ones."""
    reoffer_after_minutes: float = Field(default=30, gt=0, le=7 * 24 * 60)
    """An assigned item nobody started a draft on goes to someone else after this long."""


class WebSettings(_Section):
    """Where the team reaches the web UI: mails and chat messages link into it."""

    base_url: str = "http://127.0.0.1:8000"

    @field_validator("base_url")
    @classmethod
    def _absolute_http(cls, value: str) -> str:
        """A link in a mail must open from anywhere: an absolute http(s) address."""
        return str(HttpUrl(value)).rstrip("/")

    def link(self, path: str) -> str:
        """An absolute link to `path` (which starts with a slash) in the web UI."""
        return self.base_url + path


class MailSettings(_Section):
    """How Rufwacht hands mail to an SMTP server: the digest's and the alerts' sender.

    Credentials are never in the file: `smtp_user_env` and `smtp_password_env` name the
    environment variables that hold them (no user variable: no login).
    """

    sender: str = "rufwacht@localhost"
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_security: Literal["none", "starttls", "ssl"] = "starttls"
    smtp_user_env: str = ""
    smtp_password_env: str = "RUFWACHT_SMTP_PASSWORD"
    smtp_ca_file: Path | None = None
    """A CA bundle to trust besides the system's (a relay with a private certificate)."""
    smtp_timeout_seconds: float = Field(default=30, gt=0, le=600)
    retry_attempts: int = Field(default=4, ge=1, le=20)
    """Tries per mail when the server answers "try later" (4xx) or cannot be reached."""
    retry_backoff_seconds: float = Field(default=5, ge=0, le=3600)
    """The wait before the second try; it doubles before each further one."""

    @field_validator("sender")
    @classmethod
    def _an_address(cls, sender: str) -> str:
        return _mail_address(sender)

    @model_validator(mode="after")
    def _no_password_in_clear(self) -> MailSettings:
        if self.smtp_user_env and self.smtp_security == "none":
            raise ValueError(
                "smtp_user_env is set but smtp_security is 'none': the password would cross "
                "the network unencrypted; use 'starttls' or 'ssl'"
            )
        return self


def _mail_address(address: str) -> str:
    """A plausible mail address (`name@host`), so a typo fails at start-up, not at 08:00."""
    if not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+", address):
        raise ValueError(f"{address!r} is not a mail address (name@example.org)")
    return address


def _mail_addresses(addresses: list[str]) -> list[str]:
    return [_mail_address(address) for address in addresses]


TimeOfDay = time


class DigestMailSettings(_Section):
    """One digest: a name, the brands it covers (none: all) and who receives it."""

    name: str = Field(min_length=1, pattern=r"^[\w.-]+$")
    brands: list[str] = Field(default_factory=list)
    recipients: list[str] = Field(default_factory=list)
    """Empty: `[digest] recipients`."""

    _valid_recipients = field_validator("recipients")(_mail_addresses)


class DigestSettings(MailSettings):
    """The daily digest: when, for whom, and (inherited) how it is mailed."""

    time: TimeOfDay = time(8)
    """When the digest goes out each day, in `timezone`; it covers the day before."""
    timezone: str = "Europe/Berlin"
    recipients: list[str] = Field(default_factory=list)
    mails: list[DigestMailSettings] = Field(default_factory=list)
    """Several digests (e.g. one per brand); none: one digest over all brands to `recipients`."""

    _zone_known = field_validator("timezone")(_known_zone)
    _valid_recipients = field_validator("recipients")(_mail_addresses)

    @property
    def zone(self) -> ZoneInfo:
        """`timezone` as a zone: the team's local day for the digest, the queue's day filters and
        every time the web UI and alert mails show."""
        return ZoneInfo(self.timezone)

    @model_validator(mode="after")
    def _each_digest_named_and_read(self) -> DigestSettings:
        names = [mail.name for mail in self.mails]
        if duplicate := next((name for name in names if names.count(name) > 1), None):
            raise ValueError(f"two digests are named {duplicate!r}; each needs its own name")
        unread = [mail.name for mail in self.mails if not (mail.recipients or self.recipients)]
        if unread:
            raise ValueError(
                f"digest {unread[0]!r} has no recipients: give it some, or set [digest] recipients"
            )
        return self

    def digests(self) -> list[DigestMailSettings]:
        """The digests to send: those configured, else one over all brands (if it has readers)."""
        if self.mails:
            return [
                mail.model_copy(update={"recipients": mail.recipients or self.recipients})
                for mail in self.mails
            ]
        if self.recipients:
            return [DigestMailSettings(name="digest", recipients=self.recipients)]
        return []


class AlertSettings(_Section):
    """Spike and crisis alerts (`monitor.alerts`): when one opens, closes, and where it goes
    (mail through the `[digest]` SMTP settings)."""

    k: float = Field(default=2.0, gt=0, le=20)
    """Standard deviations above the 7-day daily mean a 24-hour count must lie."""
    min_count: int = Field(default=20, ge=1)
    """Fewer posts in 24 hours are never a spike, however quiet the brand usually is."""
    p_value: float = Field(default=0.001, gt=0, lt=1)
    """A count must also be this unlikely under a Poisson law with the 7-day mean."""
    recent_hours: int = Field(default=3, ge=1, le=12)
    """A spike opens and stays open only while these last hours run above the usual rate."""
    cooldown_hours: float = Field(default=6, ge=0, le=7 * 24)
    """A spike returning this soon after its alert closed reopens that alert, silently."""
    reach_threshold: int = Field(default=100_000, ge=1)
    """A queued post whose audience (followers + 10 × engagement) reaches this alerts."""
    hold_hours: float = Field(default=24, gt=0, le=7 * 24)
    """A crisis or reach alert closes when nothing was added to it for this long."""
    recipients: list[str] = Field(default_factory=list)
    """Mail recipients of every brand's alerts (no recipients: no mail)."""
    brand_recipients: dict[str, list[str]] = Field(default_factory=dict)
    """Recipients per brand name, instead of `recipients` for that brand."""
    webhook_url: str | None = None
    """A Slack/Mattermost incoming webhook; it holds a secret, so set it through the
    environment (`RUFWACHT_ALERTS__WEBHOOK_URL`); it is never logged."""
    top_posts: int = Field(default=5, ge=1, le=50)

    _valid_recipients = field_validator("recipients")(_mail_addresses)

    @field_validator("brand_recipients")
    @classmethod
    def _valid_brand_recipients(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        return {brand: _mail_addresses(addresses) for brand, addresses in value.items()}

    @field_validator("webhook_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("the webhook URL must start with http:// or https://")
        return value

    def recipients_for(self, brand: str) -> list[str]:
        return self.brand_recipients.get(brand, self.recipients)


class LabelSettings(_Section):
    """`rufwacht labels export`: authors and reviewers are exported as salted pseudonyms."""

    salt_env: str = "RUFWACHT_LABELS_SALT"
    """The environment variable holding the secret salt (`monitor.pseudonyms`)."""


class ModelSettings(_Section):
    """The model registry (`classifiers.model_registry`): versions, champions, promotion."""

    registry: str = "models"
    """Its folder; a relative path is relative to the config file's folder (the data folder)."""
    promote_tolerance: float = Field(default=0.005, ge=0, le=1)
    """How much worse than the champion a candidate may be on any held-out figure."""


# One `[sources.NAME]` table per registered source type: registering a source adds its key.
SourcesSettings: type[_Section] = create_model(
    "SourcesSettings",
    __base__=_Section,
    **{
        name: (kind.settings, Field(default_factory=kind.settings))
        for name, kind in SOURCE_TYPES.items()
    },
)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid"
    )

    storage: StorageSettings = Field(default_factory=StorageSettings)
    brands: list[BrandSettings] = Field(default_factory=list)
    keywords: KeywordSettings = Field(default_factory=KeywordSettings)
    sources: SourcesSettings = Field(default_factory=SourcesSettings)
    classifiers: ClassifierSettings = Field(default_factory=ClassifierSettings)
    flagging: FlaggingSettings = Field(default_factory=FlaggingSettings)
    sla: SlaSettings = Field(default_factory=SlaSettings)
    workflow: WorkflowSettings = Field(default_factory=WorkflowSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    digest: DigestSettings = Field(default_factory=DigestSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)

    @model_validator(mode="after")
    def _digests_name_known_brands(self) -> Settings:
        """A misspelt brand in a digest would mail a day of zeros; refuse it at start-up."""
        known = [brand.name for brand in self.brands]
        for mail in self.digest.mails:
            if unknown := [brand for brand in mail.brands if brand not in known]:
                raise ValueError(
                    f"digest {mail.name!r} names the unknown brand {unknown[0]!r} "
                    f"(configured: {', '.join(known) or 'none'})"
                )
        return self

    labels: LabelSettings = Field(default_factory=LabelSettings)
    models: ModelSettings = Field(default_factory=ModelSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The file arrives as init kwargs; the environment overrides it.
        return env_settings, init_settings


def example_config_text() -> str:
    """The commented example config that ships with the package (also the embedded default)."""
    return resources.files("monitor").joinpath("default_config.toml").read_text("utf-8")


def resolve_config_path(path: Path | None) -> Path | None:
    """`--config`, else `$RUFWACHT_CONFIG`, else `./rufwacht.toml` if present, else None."""
    if path is not None:
        return path
    if env_path := os.environ.get(CONFIG_ENV):
        return Path(env_path)
    local = Path(DEFAULT_CONFIG_NAME)
    return local if local.exists() else None


def example_config() -> dict[str, Any]:
    """The parsed example config: its values are the documented defaults."""
    return tomllib.loads(example_config_text())


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """`override` over `base`: tables merged key by key, lists and scalars replaced."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def default_settings() -> Settings:
    """The embedded defaults: what `make run` uses on a fresh machine (database in ./)."""
    return _validate(example_config(), "<embedded default config>", Path.cwd())


def load_settings(path: Path | None = None) -> Settings:
    """Read the config over the example's defaults and validate it; no file: the embedded one.

    The example's brands are only an example: a file without `[[brands]]` has none.
    """
    config_path = resolve_config_path(path)
    if config_path is None:
        return default_settings()
    try:
        text = config_path.read_text("utf-8")
    except OSError as exc:
        raise ConfigError(f"{config_path}: cannot read config file: {exc.strerror}") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{config_path}: not valid TOML: {exc}") from exc
    defaults = {key: value for key, value in example_config().items() if key != "brands"}
    return _validate(deep_merge(defaults, data), str(config_path), config_path.absolute().parent)


def sqlite_path_in(url: str, folder: Path) -> str:
    """A relative SQLite file lies in `folder` (the config file's), not in whatever the cwd is."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return url  # validation names the problem
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return url
    if database.startswith("file:") or Path(database).is_absolute():
        return url
    return parsed.set(database=str(folder / database)).render_as_string(hide_password=False)


def _validate(data: dict[str, Any], origin: str, folder: Path) -> Settings:
    storage = data.get("storage")
    if isinstance(storage, dict) and isinstance(storage.get("url"), str):
        data = {**data, "storage": {**storage, "url": sqlite_path_in(storage["url"], folder)}}
    try:
        settings = Settings(**data)
    except SettingsError as exc:  # an environment value that is not valid JSON
        raise ConfigError(_unparsable_environment(exc)) from exc
    except ValidationError as exc:
        raise ConfigError("\n".join(_problem(err, origin) for err in exc.errors())) from exc
    # after validation, so that a registry named by an environment variable is placed alike
    settings.models.registry = str(folder / Path(settings.models.registry).expanduser())
    return settings


def _problem(err: ErrorDetails, origin: str) -> str:
    """`FILE: key.path: problem`, or `RUFWACHT_KEY__PATH: problem` where the environment set it."""
    loc = [str(part) for part in err["loc"]]
    where = _environment_variable(loc) or f"{origin}: {'.'.join(loc) or '(top level)'}"
    return f"{where}: {err['msg'].removeprefix('Value error, ')}"


def _environment_variables() -> dict[str, str]:
    """The `RUFWACHT_*` variables by upper-case name (pydantic-settings ignores case)."""
    return {
        name.upper(): value
        for name, value in os.environ.items()
        if name.upper().startswith(ENV_PREFIX)
    }


def _environment_variable(loc: list[str]) -> str | None:
    """The variable that set the value at `loc` (or a table above it), if one did."""
    names = _environment_variables()
    for end in range(len(loc), 0, -1):
        if (name := ENV_PREFIX + "__".join(loc[:end]).upper()) in names:
            return name
    return None


def _unparsable_environment(exc: SettingsError) -> str:
    """Name the variables of the section pydantic-settings could not parse as JSON."""
    section = re.search(r'field "(\w+)"', str(exc))
    prefix = ENV_PREFIX + (section.group(1).upper() if section else "")
    bad = [
        name
        for name, value in _environment_variables().items()
        if name.startswith(prefix) and not _is_json(value)
    ]
    hint = 'lists and tables are written as JSON, e.g. ["a", "b"]'
    return "; ".join(f"{name}: not valid JSON ({hint})" for name in bad) or str(exc)


def _is_json(value: str) -> bool:
    try:
        json.loads(value)
    except ValueError:
        return False
    return True
