"""Settings from the environment (prefix ``PINGYI_``; the engine's standard
``TEMPORAL_ADDRESS`` / ``TEMPORAL_NAMESPACE``). Development defaults are refused
in production, the way the FastAPI template refuses its dev secrets."""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.procedure import StepDeadlines

DEV_SIGNING_KEY = "pingyi-development-signing-key-not-for-production"
DEV_SESSION_SECRET = "pingyi-development-session-secret-not-for-production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PINGYI_", env_file=".env", extra="ignore", hide_input_in_errors=True)  # errors never echo a key or secret

    environment: Literal["development", "production"] = "development"
    data_dir: Path = Path("./var")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default: SQLite file under data_dir")

    temporal_address: str | None = Field(default=None, validation_alias=AliasChoices("TEMPORAL_ADDRESS", "PINGYI_TEMPORAL_ADDRESS"))
    temporal_namespace: str = Field(default="default", validation_alias=AliasChoices("TEMPORAL_NAMESPACE", "PINGYI_TEMPORAL_NAMESPACE"))
    task_queue: str = "pingyi-reviews"
    dev_server_port: int = 7233
    dev_ui_port: int = 8233

    default_campaign: str = "2026H2"
    # the zone people read times in (tables, timelines, notifications) and in
    # which a deadline given as a date ends (23:59:59 local); storage stays UTC
    timezone: str = "Asia/Shanghai"
    supervisor_ids: list[str] = Field(default_factory=lambda: ["office"])

    investigate_days: float = 5
    solicit_opinions_days: float = 5
    review_days: float = 3
    notify_days: float = 2
    rectify_days: float = 30
    reminder_lead_hours: float = 24

    min_branch_members: int = Field(default=3, ge=1, description="the fewest full members a party branch may have before the plan names it as a gap (party rules: 3)")

    signing_key: str = DEV_SIGNING_KEY
    projection_poll_seconds: float = Field(default=1.0, gt=0, description="how often the service projects new events into the read models")
    checkpoint_every_seconds: float = Field(default=60, gt=0, description="how often a running worker signs a checkpoint of the event log")
    witness_dir: Path | None = Field(default=None, description="where each signed checkpoint is also kept, outside the database (append-only JSON Lines); default: data_dir/witness")
    witness_url: str | None = Field(default=None, description="a second store each signed checkpoint is POSTed to as JSON (optional)")
    log_format: Literal["console", "json"] | None = None
    log_level: str = "INFO"

    # the HTTP API (api/), sign-in and sessions
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=0, le=65535)
    allowed_origins: list[str] = Field(default_factory=list, description="origins a browser may call the API from (CORS); empty: same origin only")
    session_secret: str = DEV_SESSION_SECRET
    session_hours: float = Field(default=12, gt=0)
    session_cookie_secure: bool = Field(default=True, description="Secure flag on the session cookie; only development over plain http may turn it off")
    dev_sign_in: bool | None = Field(default=None, description="sign in as any directory person without a password; default on in development, refused in production")
    sign_in_max_failures: int = Field(default=5, ge=1, description="failed sign-ins per account, and per client address, within the window before sign-in is refused")
    sign_in_window_minutes: float = Field(default=15, gt=0)
    token_days: float = Field(default=90, gt=0, description="default lifetime of a bearer token")
    # the CLI's remote mode (cli/remote.py): a person's reviewctl acts through this API with their own token
    remote_api_url: str | None = Field(default=None, validation_alias=AliasChoices("PINGYI_API_URL"), description="the API reviewctl acts through, e.g. https://pingyi.example.org (default with a token: PINGYI_API_HOST/PORT)")
    api_token: SecretStr | None = Field(default=None, description="the bearer token reviewctl acts with (reviewctl users token issue)")

    # a worker's probes and metrics (worker.py): unset, the worker serves neither
    worker_health_bind: str | None = Field(default=None, description="host:port of the worker's /healthz, /readyz and /metrics (our Prometheus metrics)")
    worker_shutdown_seconds: float = Field(default=30, ge=0, description="on SIGTERM: how long running tasks get to finish before they are cancelled")
    worker_metrics_bind: str | None = Field(default=None, description="host:port of the Temporal SDK's Prometheus metrics")
    # how many running reviews a worker keeps in memory between their tasks
    # (a review not kept replays its history at its next task), and the share
    # of its workflow-task polls that take new tasks (a review's opening, a
    # review no worker keeps) rather than those of the reviews it keeps: the
    # SDK's defaults, 1000 and 0.2; docs/capacity.md says when to raise them
    worker_cached_workflows: int = Field(default=1000, ge=1, description="running workflows a worker keeps in memory between their tasks")
    worker_new_task_poll_ratio: float = Field(default=0.2, gt=0, le=1, description="the share of a worker's workflow-task polls that take new tasks (openings, workflows it does not keep) rather than those of workflows it keeps")

    # mail delivery (activities/delivery.py): off unless a host is set; the outbox page is then the only channel
    smtp_host: str | None = Field(default=None, description="SMTP server the workers' mail relay delivers outbox messages through; unset: no mail")
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_tls: Literal["starttls", "tls", "none"] = Field(default="starttls", description="starttls (upgrade after connecting), tls (implicit, port 465) or none")
    smtp_user: str | None = Field(default=None, description="SMTP login, if the server wants one")
    smtp_password: SecretStr | None = None
    smtp_from: str | None = Field(default=None, description="the sender address of every message (required with PINGYI_SMTP_HOST)")
    smtp_timeout_seconds: float = Field(default=30, gt=0)
    mail_poll_seconds: float = Field(default=5, gt=0, description="how often the relay looks for messages to deliver")
    mail_max_attempts: int = Field(default=8, ge=1, description="attempts per message before it is recorded as failed")
    mail_retry_seconds: float = Field(default=60, gt=0, description="wait after the first failed attempt; doubled after each, at most an hour")

    # the payload codec (service/codec.py): on everywhere unless development opts out
    codec_enabled: bool = Field(default=True, description="seal every Temporal payload with AES-256-GCM; may be off only in development")
    codec_keys: SecretStr | None = Field(default=None, description="'id:base64key' entries, comma-separated, newest first (the first seals)")
    codec_key_file: Path | None = Field(default=None, description="a file of 'id:base64key' lines, newest first; default in development: generated under data_dir")
    codec_cors_origins: list[str] = Field(default_factory=lambda: ["http://localhost:8080", "http://127.0.0.1:8233", "http://localhost:8233"], description="Web UI origins allowed to call the codec endpoint")

    @field_validator("smtp_host", "smtp_user", "smtp_password", "smtp_from", mode="before")
    @classmethod
    def _empty_is_unset(cls, value):
        """Compose passes an unset optional variable as an empty string."""
        return None if value == "" else value

    @field_validator("smtp_from")
    @classmethod
    def _sender_is_a_mailbox(cls, value: str | None) -> str | None:
        from domain.org import check_email

        return None if value is None else check_email(value.strip())

    @model_validator(mode="after")
    def _mail_settings_hang_together(self) -> "Settings":
        if self.smtp_host and not self.smtp_from:
            raise ValueError("PINGYI_SMTP_FROM must be set with PINGYI_SMTP_HOST (the sender address of every message)")
        if self.smtp_password is not None and not self.smtp_user:
            raise ValueError("PINGYI_SMTP_PASSWORD needs PINGYI_SMTP_USER")
        if self.environment == "production" and self.smtp_user and self.smtp_tls == "none":
            raise ValueError("PINGYI_SMTP_TLS cannot be none in production with a login: the password would cross the network in clear")
        return self

    @property
    def mail_enabled(self) -> bool:
        return bool(self.smtp_host)

    @model_validator(mode="after")
    def _refuse_dev_defaults_in_production(self) -> "Settings":
        if self.environment == "production" and self.signing_key == DEV_SIGNING_KEY:
            raise ValueError("PINGYI_SIGNING_KEY must be set in production (the development key is public)")
        if self.environment == "production" and self.session_secret == DEV_SESSION_SECRET:
            raise ValueError("PINGYI_SESSION_SECRET must be set in production (the development secret is public)")
        if self.environment == "production" and self.dev_sign_in:
            raise ValueError("PINGYI_DEV_SIGN_IN cannot be enabled in production (it signs anyone in without a password)")
        if self.environment == "production" and not self.session_cookie_secure:
            raise ValueError("PINGYI_SESSION_COOKIE_SECURE cannot be turned off in production")
        if self.environment == "production":
            if not self.codec_enabled:
                raise ValueError("PINGYI_CODEC_ENABLED cannot be false in production: the engine's history would hold review text in clear")
            if self.codec_keys is None and self.codec_key_file is None:
                raise ValueError("set PINGYI_CODEC_KEYS or PINGYI_CODEC_KEY_FILE in production (the payload encryption keys)")
        if self.codec_keys is not None and self.codec_key_file is not None:
            raise ValueError("set one of PINGYI_CODEC_KEYS and PINGYI_CODEC_KEY_FILE, not both")
        return self

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from domain.local_time import zone

        zone(value)  # a ValueError naming the zone
        return value

    @property
    def tz(self):
        """The configured zone as a ``tzinfo``."""
        from domain.local_time import zone

        return zone(self.timezone)

    @property
    def dev_sign_in_enabled(self) -> bool:
        return self.environment == "development" and self.dev_sign_in is not False

    @property
    def api_url(self) -> str:
        """Where people reach the API. The loopback address is spelled
        ``localhost``: browsers and curl keep a Secure cookie over plain http
        for that name only."""
        host = "localhost" if self.api_host in ("127.0.0.1", "localhost") else self.api_host
        return f"http://{host}:{self.api_port}"

    @property
    def codec_key_path(self) -> Path:
        """The key file to read when PINGYI_CODEC_KEYS is unset: the one named,
        or (development) the one generated under the data directory."""
        return self.codec_key_file or self.data_dir / "codec-keys"

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'pingyi.db').resolve()}"

    @property
    def effective_witness_dir(self) -> Path:
        return self.witness_dir or self.data_dir / "witness"

    @property
    def embedded(self) -> bool:
        """No TEMPORAL_ADDRESS: we start and own a dev server."""
        return not self.temporal_address

    @property
    def address(self) -> str:
        return self.temporal_address or f"127.0.0.1:{self.dev_server_port}"

    @property
    def effective_log_format(self) -> str:
        return self.log_format or ("json" if self.environment == "production" else "console")

    def step_deadlines(self) -> StepDeadlines:
        return StepDeadlines(
            investigate=timedelta(days=self.investigate_days),
            solicit_opinions=timedelta(days=self.solicit_opinions_days),
            review=timedelta(days=self.review_days),
            notify=timedelta(days=self.notify_days),
            rectify=timedelta(days=self.rectify_days),
            reminder_lead=timedelta(hours=self.reminder_lead_hours),
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
