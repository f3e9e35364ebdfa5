"""Configuration from the environment and `.env`, validated once at start-up."""

from __future__ import annotations

import getpass
import os
import re
from collections.abc import Sequence
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from rapidfuzz import fuzz, process

from models.duplicates import DuplicatePolicy
from models.incidents import Severity
from models.reminders import ReminderPolicy

OFFICIAL_API_BASE_URL = "https://api.telegram.org"
TOKEN_PATTERN = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{30,}$")
WEBHOOK_SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # what setWebhook accepts
WEBHOOK_PORTS = frozenset({80, 88, 443, 8443})  # the only ports Telegram delivers webhooks to
Language = Literal["id", "en"]
LANGUAGES: tuple[Language, ...] = ("id", "en")


class ConfigError(Exception):
    """A setting is missing or wrong; the message tells the operator what to do."""


class Settings(BaseSettings):
    """Every setting of the bot. Field names map to upper-case environment variables."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
    )

    telegram_bot_token: SecretStr | None = Field(
        default=None, description="Bot token from @BotFather."
    )
    telegram_api_base_url: str = Field(
        default=OFFICIAL_API_BASE_URL,
        description="Bot API server: the official one, a self-hosted one, or the simulator.",
    )
    database_path: Path = Field(
        default=Path("data/siaga112.db"), description="SQLite database file."
    )
    timezone: str = Field(default="Asia/Jakarta", description="Time zone for displayed times.")
    default_language: Language = Field(
        default="id", description="Language for users whose Telegram language is not supported."
    )
    admin_user_ids: Annotated[tuple[int, ...], NoDecode] = Field(
        default=(), description="Telegram user ids of admins, comma-separated."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        default="INFO", description="Logging level."
    )
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="Log lines as text, or as one JSON object per line (for a log collector).",
    )
    outbox_retention_days: int = Field(
        default=7,
        ge=1,
        le=3650,
        description="Days after which the copies of sent messages about closed incidents are "
        "reduced to their message reference.",
    )
    personal_data_retention_days: int = Field(
        default=365,
        ge=30,
        le=3650,
        description="Days after an incident was closed before its reporter's personal data is "
        "erased (UU No. 27 Tahun 2022 tentang Pelindungan Data Pribadi).",
    )
    outbox_max_backoff_seconds: float = Field(
        default=60.0, gt=0, le=3600, description="Longest wait between retries of a failed send."
    )
    outbox_pacing: bool = Field(
        default=True, description="Pace sends under Telegram's limits (off only for benchmarks)."
    )
    outbox_chat_per_second: float = Field(
        default=1.0, gt=0, le=30, description="Messages per second to one chat."
    )
    outbox_chat_burst: int = Field(
        default=3, ge=1, le=30, description="Messages one chat may get in a quick burst."
    )
    outbox_group_per_minute: int = Field(
        default=20, ge=1, le=600, description="Messages per minute to one group."
    )
    outbox_global_per_second: int = Field(
        default=30, ge=1, le=1000, description="Messages per second to all chats together."
    )
    outbox_concurrency: int = Field(
        default=8, ge=1, le=64, description="Sends in flight at once (never two to one chat)."
    )
    outbox_poll_seconds: float = Field(
        default=1.0,
        gt=0,
        le=60,
        description="How often the outbox sender looks for due messages when not woken.",
    )

    service_area_latitude: float = Field(
        default=-2.2136, ge=-90, le=90, description="Centre of the service area (latitude)."
    )
    service_area_longitude: float = Field(
        default=113.9108, ge=-180, le=180, description="Centre of the service area (longitude)."
    )
    service_area_radius_km: float = Field(
        default=60.0,
        gt=0,
        le=2000,
        description="Reports farther than this from the centre ask the reporter to confirm.",
    )
    report_draft_expiry_minutes: int = Field(
        default=60, ge=5, le=24 * 60, description="An untouched report draft expires after this."
    )
    question_unanswered_minutes: int = Field(
        default=10,
        ge=1,
        le=24 * 60,
        description="A question to a reporter unanswered this long is marked so on the card.",
    )
    alert_ring_below_high: bool = Field(
        default=True,
        description="On-duty members' private alerts of medium and low severity ring too "
        "(critical and high always do); false sends them silently.",
    )
    card_mentions_on_duty: bool = Field(
        default=False,
        description="The card in an agency's group mentions its on-duty members, so they are "
        "notified even where the group is muted.",
    )
    report_limit_count: int = Field(
        default=3, ge=1, le=100, description="Reports one person may submit per window."
    )
    report_limit_window_minutes: int = Field(
        default=10, ge=1, le=24 * 60, description="The window of REPORT_LIMIT_COUNT, in minutes."
    )

    ack_timeout_critical_seconds: int = Field(
        default=120, ge=10, le=3600, description="Reminder to a silent agency: critical calls."
    )
    ack_timeout_high_seconds: int = Field(
        default=180, ge=10, le=3600, description="Reminder to a silent agency: high severity."
    )
    ack_timeout_medium_seconds: int = Field(
        default=300, ge=10, le=3600, description="Reminder to a silent agency: medium severity."
    )
    ack_timeout_low_seconds: int = Field(
        default=600, ge=10, le=7200, description="Reminder to a silent agency: low severity."
    )
    duplicate_window_minutes: int = Field(
        default=60,
        ge=0,
        le=1440,
        description="Duplicate reports: compare with open incidents reported this long before "
        "(0: off).",
    )
    duplicate_distance_meters: int = Field(
        default=500, ge=10, le=10000, description="Duplicate reports: two pins at most this far."
    )
    duplicate_text_threshold: int = Field(
        default=82,
        ge=1,
        le=100,
        description="Duplicate reports: how alike (0-100) two typed places must be.",
    )
    unmoved_timeout_critical_minutes: int = Field(
        default=3, ge=1, le=240, description="Acknowledged but nobody moving: critical calls."
    )
    unmoved_timeout_high_minutes: int = Field(
        default=5, ge=1, le=240, description="Acknowledged but nobody moving: high severity."
    )
    unmoved_timeout_medium_minutes: int = Field(
        default=10, ge=1, le=480, description="Acknowledged but nobody moving: medium severity."
    )
    unmoved_timeout_low_minutes: int = Field(
        default=30, ge=1, le=1440, description="Acknowledged but nobody moving: low severity."
    )
    group_reminders: int = Field(
        default=2, ge=0, le=10, description="Reminders in the agency's chat before escalation."
    )
    escalation_repeat_seconds: int = Field(
        default=300, ge=30, le=3600, description="Escalations to coordinators repeat this often."
    )
    escalation_max_repeats: int = Field(
        default=0, ge=0, le=1000, description="Stop escalating after this many (0: never stop)."
    )
    followup_not_accepted_seconds: int = Field(
        default=300, ge=30, le=86400, description="Assigned but not accepted: re-offer after."
    )
    followup_not_en_route_seconds: int = Field(
        default=600, ge=30, le=86400, description="Accepted but not en route: ask after."
    )
    followup_not_on_scene_seconds: int = Field(
        default=1800, ge=30, le=86400, description="En route but not on scene: ask after."
    )
    open_too_long_seconds: int = Field(
        default=7200, ge=60, le=7 * 86400, description="Open this long: tell dispatchers."
    )
    reminder_sweep_seconds: int = Field(
        default=30, ge=1, le=300, description="How often the scheduler's safety sweep runs."
    )

    broadcast_resend_minutes: int = Field(
        default=10,
        ge=1,
        le=24 * 60,
        description="An emergency broadcast a chat has not confirmed is sent there again after.",
    )

    cap_sender: str = Field(
        default="siaga112@palangkaraya.go.id",
        pattern=r"^[^\s,<&]+$",
        description="CAP 1.2 exports: the sender (no spaces, commas, '<' or '&').",
    )

    digest_time: time = Field(
        default=time(7, 0), description="When coordinators get yesterday's digest (HH:MM, local)."
    )
    digest_enabled: bool = Field(default=True, description="Send the daily digest.")
    membership_check_at_start: bool = Field(
        default=True,
        description="At start-up, ask Telegram whether each agency member is still in the "
        "agency's group; those who left while the bot was down leave the agency.",
    )

    web_enabled: bool = Field(
        default=True, description="Run the bot's web server (/healthz) in its process."
    )
    web_host: str = Field(default="127.0.0.1", description="Address the web server listens on.")
    web_port: int = Field(
        default=8112, ge=0, le=65535, description="Its port; 0 picks a free one (tests, demo)."
    )
    web_public_url: str | None = Field(
        default=None,
        description="The address people reach the web server at, for links "
        "(default http://WEB_HOST:WEB_PORT).",
    )
    api_rate_per_minute: int = Field(
        default=120,
        ge=1,
        le=100_000,
        description="Requests one API key may make per minute; more get 429 with Retry-After.",
    )
    cap_feed_public: bool = Field(
        default=False,
        description="Serve /cap/feed.atom to anyone (false: an API key is asked for).",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="When set, /metrics asks for Authorization: Bearer <this token>.",
    )
    map_tile_url: str = Field(
        default="https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        description="Map tiles for the web board (empty: no tiles, pins on a plain grid).",
    )
    map_tile_attribution: str = Field(
        default="© OpenStreetMap contributors",
        description="The credit the tiles' provider asks for, shown on the map.",
    )
    webhook_url: str | None = Field(
        default=None,
        description="Webhook mode: the public https URL Telegram posts updates to.",
    )
    webhook_listen: str | None = Field(
        default=None,
        min_length=1,
        description="Deprecated: webhook mode answers on the web server (WEB_HOST). Set, it "
        "keeps a separate webhook server on this address for one more release.",
    )
    webhook_port: int | None = Field(
        default=None,
        ge=0,
        le=65535,
        description="Deprecated: webhook mode answers on the web server (WEB_PORT). Set, it "
        "keeps a separate webhook server on this port for one more release (0: any free port).",
    )
    webhook_path: str = Field(
        default="/telegram", description="Webhook mode: path the bot's HTTP server answers on."
    )
    webhook_secret_token: SecretStr | None = Field(
        default=None,
        description="Webhook mode: the secret Telegram sends in X-Telegram-Bot-Api-Secret-Token.",
    )

    @field_validator("telegram_bot_token", mode="before")
    @classmethod
    def _blank_token_is_missing(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("telegram_bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not TOKEN_PATTERN.match(value.get_secret_value().strip()):
            # Never echo the token itself back into logs or error output.
            raise ValueError(
                "does not look like a bot token (expected digits, a colon, then 35 characters)"
            )
        return value

    @field_validator("telegram_api_base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must be an http:// or https:// URL such as https://api.telegram.org")
        return value.removesuffix("/bot")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
            # OSError: a region such as "Asia" names a directory of the time zone database.
            raise ValueError(f"unknown time zone {value!r}; use a name like Asia/Jakarta") from exc
        return value

    @field_validator("admin_user_ids", mode="before")
    @classmethod
    def _comma_separated_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [part.strip() for part in value.replace(";", ",").split(",")]
            return tuple(part for part in parts if part)
        return value

    @property
    def web_url(self) -> str:
        """Where people reach the web server (links point there)."""
        if self.web_public_url:
            return self.web_public_url.rstrip("/")
        return f"http://{self.web_host}:{self.web_port}"

    @property
    def separate_webhook_server(self) -> bool:
        """Webhook mode on its own server, as before the web server (deprecated): when
        WEBHOOK_LISTEN or WEBHOOK_PORT is set, or the web server is off."""
        set_apart = self.webhook_listen is not None or self.webhook_port is not None
        return set_apart or not self.web_enabled

    @field_validator(
        "webhook_url",
        "webhook_secret_token",
        "web_public_url",
        "webhook_listen",
        "webhook_port",
        mode="before",
    )
    @classmethod
    def _blank_webhook_setting_is_missing(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value.strip() if isinstance(value, str) else value

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme != "https" or not parts.hostname:
            raise ValueError(
                "must be an https:// URL such as https://siaga112.example.org/telegram"
            )
        if parts.query or parts.fragment:
            raise ValueError("must not have a query (?…) or fragment (#…)")
        try:
            port = parts.port or 443
        except ValueError as exc:
            raise ValueError(f"has an invalid port: {exc}") from None
        if port not in WEBHOOK_PORTS:
            raise ValueError("may only use port 443, 80, 88 or 8443; Telegram calls no other")
        return value

    @field_validator("webhook_path")
    @classmethod
    def _webhook_path(cls, value: str) -> str:
        value = value.strip()
        if not re.match(r"^/[A-Za-z0-9._~/-]*$", value):
            raise ValueError("must be a URL path starting with / such as /telegram")
        return value

    @field_validator("webhook_secret_token")
    @classmethod
    def _webhook_secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not WEBHOOK_SECRET_PATTERN.match(value.get_secret_value()):
            # Like the bot token, the secret is never echoed back into error output.
            raise ValueError("must be 1 to 256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def bot_api_url(self) -> str:
        """Base URL in the form PTB expects (the token is appended to it)."""
        return f"{self.telegram_api_base_url}/bot"

    @property
    def bot_file_url(self) -> str:
        return f"{self.telegram_api_base_url}/file/bot"

    def duplicate_policy(self) -> DuplicatePolicy:
        return DuplicatePolicy(
            window=timedelta(minutes=self.duplicate_window_minutes),
            distance_m=float(self.duplicate_distance_meters),
            text_threshold=float(self.duplicate_text_threshold),
        )

    def reminder_policy(self) -> ReminderPolicy:
        return ReminderPolicy(
            ack_timeouts={
                Severity.CRITICAL: timedelta(seconds=self.ack_timeout_critical_seconds),
                Severity.HIGH: timedelta(seconds=self.ack_timeout_high_seconds),
                Severity.MEDIUM: timedelta(seconds=self.ack_timeout_medium_seconds),
                Severity.LOW: timedelta(seconds=self.ack_timeout_low_seconds),
            },
            unmoved_timeouts={
                Severity.CRITICAL: timedelta(minutes=self.unmoved_timeout_critical_minutes),
                Severity.HIGH: timedelta(minutes=self.unmoved_timeout_high_minutes),
                Severity.MEDIUM: timedelta(minutes=self.unmoved_timeout_medium_minutes),
                Severity.LOW: timedelta(minutes=self.unmoved_timeout_low_minutes),
            },
            group_reminders=self.group_reminders,
            escalation_every=timedelta(seconds=self.escalation_repeat_seconds),
            escalation_max=self.escalation_max_repeats,
            offered_after=timedelta(seconds=self.followup_not_accepted_seconds),
            accepted_after=timedelta(seconds=self.followup_not_en_route_seconds),
            en_route_after=timedelta(seconds=self.followup_not_on_scene_seconds),
            open_after=timedelta(seconds=self.open_too_long_seconds),
        )

    def require_token(self) -> str:
        """The token, or a ConfigError telling the operator how to get one."""
        if self.telegram_bot_token is None:
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN is not set. Talk to @BotFather in Telegram, send /newbot, "
                "and put the token it gives you in the .env file as "
                "TELEGRAM_BOT_TOKEN=123456789:AA... (see .env.example). To try the bot without "
                "a token, run `make demo`, which uses the built-in Telegram simulator."
            )
        return self.telegram_bot_token.get_secret_value().strip()

    def require_webhook(self) -> tuple[str, str]:
        """The webhook URL and secret token, or a ConfigError saying which is missing."""
        missing = [
            name
            for name, value in (
                ("WEBHOOK_URL", self.webhook_url),
                ("WEBHOOK_SECRET_TOKEN", self.webhook_secret_token),
            )
            if value is None
        ]
        if self.webhook_url is None or self.webhook_secret_token is None:
            raise ConfigError(
                f"Webhook mode needs {' and '.join(missing)}. Set WEBHOOK_URL to the public "
                "https address Telegram should post updates to (e.g. "
                "https://siaga112.example.org/telegram, served by your reverse proxy) and "
                "WEBHOOK_SECRET_TOKEN to a random string of letters, digits, _ and - (e.g. the "
                "output of `python -c 'import secrets; print(secrets.token_urlsafe(32))'`) in "
                "the .env file (see .env.example), or run without --webhook to use long polling."
            )
        return self.webhook_url, self.webhook_secret_token.get_secret_value()


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment and `.env`; turn validation errors into ConfigError.

    An `.env` that cannot be read (no permission, a directory, not UTF-8) is a ConfigError
    naming the file too, rather than a traceback from deep inside pydantic-settings.
    """
    encoding = overrides.get("_env_file_encoding", Settings.model_config.get("env_file_encoding"))
    for env_file in _env_files(overrides.get("_env_file", Settings.model_config.get("env_file"))):
        check_env_file(Path(env_file), str(encoding or "utf-8"))
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc)) from None


TYPO_SIMILARITY = 85.0  # how close an unknown .env key must be to a setting's name to be a typo


def likely_typos(env_file: Path | None = Path(".env")) -> list[tuple[str, str]]:
    """Keys of the `.env` file that are no setting but nearly one (`WEB_PROT` for `WEB_PORT`):
    (key, the setting it resembles). Other keys are the operator's business and are left
    alone; pydantic-settings ignores them."""
    if env_file is None or not env_file.is_file():
        return []
    names = [name.upper() for name in Settings.model_fields]
    found = []
    for key in dotenv_values(env_file):
        upper = key.upper()
        if upper in names:
            continue
        best = process.extractOne(upper, names, scorer=fuzz.ratio)
        if best is not None and best[1] >= TYPO_SIMILARITY:
            found.append((key, best[0]))
    return found


def _env_files(setting: object) -> list[str | os.PathLike[str]]:
    """The `.env` files pydantic-settings will read: one path, several, or none."""
    if setting is None:
        return []
    if isinstance(setting, (str, os.PathLike)):
        return [setting]
    if isinstance(setting, Sequence):
        return [item for item in setting if isinstance(item, (str, os.PathLike))]
    return []


def describe_validation_error(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        name = ".".join(str(part) for part in error["loc"]).upper() or "settings"
        message = error["msg"].removeprefix("Value error, ")
        problems.append(f"{name}: {message}")
    return (
        "The configuration is not valid. "
        + "; ".join(problems)
        + ". Fix these in the environment or in the .env file (see .env.example for every "
        "setting and its meaning), then start again."
    )


def check_env_file(path: Path, encoding: str = "utf-8") -> None:
    """Read `path` as pydantic-settings is about to, and raise ConfigError if that would fail.

    pydantic-settings lets the error of `open()` or of decoding escape as a traceback, and skips
    an `.env` that is a directory as if there were none: both are mistakes worth one paragraph.
    A missing file is fine (the environment alone configures the bot), and a named pipe is left
    alone, since reading it here would consume what a secret manager writes into it.
    """
    try:
        if path.is_fifo() or not (path.exists() or path.is_symlink()):
            return
        with path.open(encoding=encoding) as handle:
            handle.read()
    except (OSError, UnicodeError) as exc:
        raise ConfigError(describe_unreadable_env_file(path, exc, encoding)) from None


def describe_unreadable_env_file(path: Path, exc: OSError | UnicodeError, encoding: str) -> str:
    """One paragraph: which file, why it cannot be read, and what to do about it."""
    where = os.path.abspath(path)
    instead = "or set the settings in the environment instead."
    if isinstance(exc, PermissionError):
        user, group = _current_user()
        return (
            f"Cannot read {where}: permission denied. siaga112 runs as user {user}; give that "
            f"user read access (for example `chgrp {group} {where}` and `chmod 640 {where}`) "
            + instead
        )
    if isinstance(exc, IsADirectoryError) or path.is_dir():
        return (
            f"Cannot read {where}: it is a directory, not a file. Put the settings in a file of "
            "that name (start from .env.example) " + instead
        )
    if isinstance(exc, UnicodeDecodeError):
        byte, line = exc.object[exc.start], exc.object[: exc.start].count(b"\n") + 1
        return (
            f"Cannot read {where}: it is not {encoding.upper()} text (byte 0x{byte:02x} on line "
            f"{line}). Save it as UTF-8 (for example with `iconv -f latin1 -t utf-8`), " + instead
        )
    if isinstance(exc, FileNotFoundError) and path.is_symlink():
        return (
            f"Cannot read {where}: it is a link to {os.readlink(path)}, which does not exist. "
            "Point the link at the settings file, remove it, " + instead
        )
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return f"Cannot read {where}: {reason}. Make it a readable text file " + instead


def _current_user() -> tuple[str, str]:
    """The user and group this process runs as, for advice about file permissions."""
    try:
        import grp  # POSIX only
        import pwd

        uid, gid = os.geteuid(), os.getegid()
    except (ImportError, AttributeError):
        return getpass.getuser(), "its group"
    try:
        user = pwd.getpwuid(uid).pw_name
    except KeyError:  # an id without a name, as in some containers
        user = str(uid)
    try:
        group = grp.getgrgid(gid).gr_name
    except KeyError:
        group = str(gid)
    return user, group
