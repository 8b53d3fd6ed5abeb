"""Typed settings of the SLO service, read from `SLOAPI_*` environment variables.

One `Settings` class for the whole service (API, engine, storage and the monthly reports).
`get_settings()` caches one instance; tests build their own `Settings(...)` and pass it in
(or use `app.dependency_overrides[get_settings]`).
"""

from __future__ import annotations

import socket
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from sloapi.prometheus.access import Access

#: Steps of one SLO over the longest window (memory of one request grows with it).
MAX_STEPS_PER_WINDOW = 1_000_000


def _read_secret_file(path: Path | None, setting: str) -> str | None:
    if path is None:
        return None
    try:
        value = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ValueError(f"{setting}: cannot read {path}: {exc.strerror}") from None
    return value or None


class Settings(BaseSettings):
    """All settings; each field is also the environment variable `SLOAPI_<FIELD>`."""

    model_config = SettingsConfigDict(env_prefix="SLOAPI_", extra="ignore")

    # Service
    slos_dir: Path = Path("slos")
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 8000
    api_token: SecretStr | None = None
    api_token_file: Path | None = None
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    # Prometheus
    prometheus_url: str = "http://127.0.0.1:9090"
    prometheus_timeout_seconds: Annotated[float, Field(gt=0)] = 30.0
    prometheus_max_concurrency: Annotated[int, Field(ge=1, le=64)] = 8
    max_points_per_query: Annotated[int, Field(ge=10, le=11_000)] = 11_000
    # Prometheus-compatible backends (Thanos, Mimir, VictoriaMetrics cluster): the URL may carry a
    # path prefix; JSON headers, e.g. {"X-Scope-OrgID": "tenant-1"}; secrets only from files
    prometheus_headers: dict[str, str] = Field(default_factory=dict)
    prometheus_basic_auth_user: str | None = None
    prometheus_basic_auth_password_file: Path | None = None
    prometheus_bearer_token_file: Path | None = None
    prometheus_ca_file: Path | None = None
    prometheus_max_query_range: str | None = None

    # Bounds of one request
    request_deadline_seconds: Annotated[float, Field(gt=0, le=600)] = 30.0
    max_window: str = "400d"

    # Engine
    default_window: str = "30d"
    raw_step_seconds: Annotated[int, Field(ge=1)] = 60
    missing_data: Literal["ignore", "bad"] = "ignore"
    recording_rules: Literal["auto", "always", "never"] = "auto"
    rules_interval_seconds: Annotated[int, Field(ge=1)] = 30
    metrics_cache_seconds: Annotated[float, Field(ge=0)] = 30.0

    # Storage
    database_url: str = "sqlite:///sloapi.db"

    # Reports and mail
    smtp_host: str = "127.0.0.1"
    smtp_port: Annotated[int, Field(ge=1, le=65535)] = 25
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_password_file: Path | None = None
    smtp_timeout_seconds: Annotated[float, Field(gt=0)] = 30.0
    mail_from: str = "nines@localhost"
    report_recipients: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # JSON, e.g. {"payments": ["pay-oncall@example.com"]}: an SLO labelled team=payments also goes there
    team_recipients: dict[str, list[str]] = Field(default_factory=dict)
    report_timezone: str = "UTC"
    report_grace_seconds: Annotated[int, Field(ge=0)] = 3600
    report_cron: str = "0 6 1 * *"
    report_incident_burn_rate: Annotated[float, Field(gt=0)] = 10.0
    report_incident_merge_gap_seconds: Annotated[int, Field(ge=0)] = 300
    report_retry_seconds: Annotated[float, Field(gt=0)] = 300.0
    report_claim_lease_seconds: Annotated[float, Field(ge=4)] = 300.0
    report_unconfirmed_copies: Annotated[int, Field(ge=1)] = 2
    report_unconfirmed_retry_seconds: Annotated[float, Field(gt=0)] = 3600.0
    report_scheduler_lease_seconds: Annotated[float, Field(ge=3)] = 30.0
    # this instance's name in delivery claims and the scheduler lease (the process id is appended)
    instance_name: Annotated[str, Field(min_length=1, max_length=200)] = Field(
        default_factory=socket.gethostname
    )

    # Site (the HTML pages) and alert links
    alertmanager_url: str | None = None  # firing alerts on SLO pages when set (v2 API)
    alertmanager_timeout_seconds: Annotated[float, Field(gt=0, le=30)] = 3.0
    # where docs/runbooks.md is served: alerts' runbook_url become `<base>#<anchor>`
    runbook_base_url: str = "docs/runbooks.md"
    site_refresh_seconds: Annotated[int, Field(ge=0)] = 60

    @field_validator("report_recipients", mode="before")
    @classmethod
    def _split_recipients(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("report_timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {value!r}") from None
        return value

    @field_validator("prometheus_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("alertmanager_url")
    @classmethod
    def _check_optional_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        return cls._check_url(value)

    @field_validator("runbook_base_url")
    @classmethod
    def _check_runbook_base(cls, value: str) -> str:
        from sloapi.rules.runbooks import check_base

        return check_base(value)

    @field_validator("default_window", "max_window", "prometheus_max_query_range")
    @classmethod
    def _check_duration(cls, value: str | None, info: ValidationInfo) -> str | None:
        from sloapi.engine.durations import parse_duration
        from sloapi.errors import WindowError

        if value is None or (value == "" and info.field_name == "prometheus_max_query_range"):
            return None  # an empty optional limit is no limit
        try:
            parse_duration(value)
        except WindowError as exc:  # a ValueError names the setting in pydantic's message
            raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _check_bounds(self) -> Settings:
        from sloapi.engine.durations import parse_duration

        steps = parse_duration(self.max_window) // self.raw_step_seconds
        if steps > MAX_STEPS_PER_WINDOW:
            raise ValueError(
                f"SLOAPI_MAX_WINDOW {self.max_window} at SLOAPI_RAW_STEP_SECONDS {self.raw_step_seconds} "
                f"allows {steps} steps per query, more than {MAX_STEPS_PER_WINDOW}"
            )
        if self.prometheus_bearer_token_file and self.prometheus_basic_auth_user:
            raise ValueError(
                "set SLOAPI_PROMETHEUS_BEARER_TOKEN_FILE or SLOAPI_PROMETHEUS_BASIC_AUTH_USER, not both"
            )
        return self

    def max_window_seconds(self) -> int:
        """The longest window a request may ask for, in seconds."""
        from sloapi.engine.durations import parse_duration

        return parse_duration(self.max_window)

    def max_query_range_seconds(self) -> int | None:
        """The longest range of one Prometheus range request, or None (no limit)."""
        from sloapi.engine.durations import parse_duration

        return parse_duration(self.prometheus_max_query_range) if self.prometheus_max_query_range else None

    def prometheus_access(self) -> Access:
        """Headers, credentials (read from their files now) and CA of the Prometheus API.

        Raises:
            ValueError: a file cannot be read, or a password file lacks its user (named).
        """
        basic = None
        if self.prometheus_basic_auth_user:
            password = _read_secret_file(
                self.prometheus_basic_auth_password_file, "SLOAPI_PROMETHEUS_BASIC_AUTH_PASSWORD_FILE"
            )
            basic = (self.prometheus_basic_auth_user, password or "")
        elif self.prometheus_basic_auth_password_file:
            raise ValueError(
                "SLOAPI_PROMETHEUS_BASIC_AUTH_PASSWORD_FILE needs SLOAPI_PROMETHEUS_BASIC_AUTH_USER"
            )
        token = _read_secret_file(self.prometheus_bearer_token_file, "SLOAPI_PROMETHEUS_BEARER_TOKEN_FILE")
        if self.prometheus_ca_file is not None and not self.prometheus_ca_file.is_file():
            raise ValueError(f"SLOAPI_PROMETHEUS_CA_FILE: {self.prometheus_ca_file} is not a file")
        return Access(
            headers=dict(self.prometheus_headers),
            basic_auth=basic,
            bearer_token=token,
            ca_file=self.prometheus_ca_file,
        )

    def token(self) -> str | None:
        """The API token for mutating endpoints (from `api_token` or `api_token_file`), or None."""
        if self.api_token is not None and self.api_token.get_secret_value():
            return self.api_token.get_secret_value()
        return _read_secret_file(self.api_token_file, "SLOAPI_API_TOKEN_FILE")

    def smtp_secret(self) -> str | None:
        """The SMTP password (from `smtp_password` or `smtp_password_file`), or None."""
        if self.smtp_password is not None and self.smtp_password.get_secret_value():
            return self.smtp_password.get_secret_value()
        return _read_secret_file(self.smtp_password_file, "SLOAPI_SMTP_PASSWORD_FILE")


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read once from the environment."""
    return Settings()
