"""The one settings object: a TOML file, validated by pydantic, read once at start-up.

Environment variables `RUFWACHT_<SECTION>__<KEY>` override the file (e.g.
`RUFWACHT_STORAGE__URL`). Secrets never live in the file: sources name the environment
variable that holds each credential.
"""

from __future__ import annotations

import os
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from connectors import SOURCE_TYPES

CONFIG_ENV = "RUFWACHT_CONFIG"
DEFAULT_CONFIG_NAME = "rufwacht.toml"


class ConfigError(Exception):
    """The configuration cannot be used; the message names the file, key and problem."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StorageSettings(_Section):
    url: str = "sqlite:///rufwacht.db"


class BrandSettings(_Section):
    name: str = Field(min_length=1)
    aliases: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)

    @field_validator("aliases", "exclude")
    @classmethod
    def _no_blank_terms(cls, terms: list[str]) -> list[str]:
        if any(not term.strip() for term in terms):
            raise ValueError("terms must not be empty")
        return terms


class KeywordSettings(_Section):
    negative: list[str] = Field(default_factory=list)


class ClassifierSettings(_Section):
    """Which model serves each task: a bundled name, a local directory or a hub id."""

    sentiment: str = "e5-sentiment"
    offensive: str = "e5-offensive"
    batch_size: int = Field(default=256, ge=1, le=4096)


class FlaggingSettings(_Section):
    negative_threshold: float = Field(default=0.4, ge=0, le=1)
    troll_threshold: float = Field(default=0.6, ge=0, le=1)
    sla_hours: float = Field(default=24, gt=0)


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
        env_prefix="RUFWACHT_", env_nested_delimiter="__", extra="forbid"
    )

    storage: StorageSettings = Field(default_factory=StorageSettings)
    brands: list[BrandSettings] = Field(default_factory=list)
    keywords: KeywordSettings = Field(default_factory=KeywordSettings)
    sources: SourcesSettings = Field(default_factory=SourcesSettings)
    classifiers: ClassifierSettings = Field(default_factory=ClassifierSettings)
    flagging: FlaggingSettings = Field(default_factory=FlaggingSettings)

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


def default_settings() -> Settings:
    """The embedded defaults: what `make run` uses on a fresh machine."""
    return _validate(tomllib.loads(example_config_text()), "<embedded default config>")


def load_settings(path: Path | None = None) -> Settings:
    """Read and validate the config; without a file, use the embedded defaults."""
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
    return _validate(data, str(config_path))


def _validate(data: dict[str, Any], origin: str) -> Settings:
    try:
        return Settings(**data)
    except ValidationError as exc:
        problems = "\n".join(
            f"  {'.'.join(str(part) for part in err['loc']) or '(top level)'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(f"{origin}: invalid configuration\n{problems}") from exc
