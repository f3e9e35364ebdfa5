"""Settings: defaults, parsing from the environment, and the messages for mistakes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.settings import OFFICIAL_API_BASE_URL, ConfigError, load_settings

TOKEN = "123456789:AAE" + "x" * 32


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No stray .env or variables from the machine."""
    monkeypatch.chdir(tmp_path)
    for name in (
        "TELEGRAM_BOT_TOKEN",
        "TELEGRAM_API_BASE_URL",
        "DATABASE_PATH",
        "TIMEZONE",
        "DEFAULT_LANGUAGE",
        "ADMIN_USER_IDS",
        "LOG_LEVEL",
    ):
        monkeypatch.delenv(name, raising=False)


def test_defaults() -> None:
    settings = load_settings()
    assert settings.telegram_bot_token is None
    assert settings.telegram_api_base_url == OFFICIAL_API_BASE_URL
    assert settings.bot_api_url == "https://api.telegram.org/bot"
    assert settings.bot_file_url == "https://api.telegram.org/file/bot"
    assert settings.database_path == Path("data/siaga112.db")
    assert settings.timezone == "Asia/Jakarta"
    assert settings.default_language == "id"
    assert settings.admin_user_ids == ()
    assert settings.log_level == "INFO"


def test_environment_and_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        f"TELEGRAM_BOT_TOKEN={TOKEN}\nADMIN_USER_IDS=11, 22,33\nTIMEZONE=Asia/Makassar\n"
    )
    monkeypatch.setenv("TIMEZONE", "Asia/Jakarta")  # the environment wins over .env
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", "http://127.0.0.1:8081/")
    settings = load_settings()
    assert settings.require_token() == TOKEN
    assert settings.admin_user_ids == (11, 22, 33)
    assert settings.timezone == "Asia/Jakarta"
    assert settings.bot_api_url == "http://127.0.0.1:8081/bot"


def test_token_is_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    settings = load_settings()
    assert TOKEN not in repr(settings)
    assert TOKEN not in str(settings.model_dump())


def test_missing_token_explains_botfather_and_demo() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings().require_token()
    message = str(caught.value)
    assert "@BotFather" in message
    assert "make demo" in message
    assert "\n" not in message, "one paragraph"


@pytest.mark.parametrize(
    ("name", "value", "mentions"),
    [
        ("TELEGRAM_BOT_TOKEN", "not-a-token", "TELEGRAM_BOT_TOKEN"),
        ("TIMEZONE", "Mars/Olympus", "TIMEZONE"),
        ("TIMEZONE", "Asia", "TIMEZONE"),  # a directory of the zone database, not a zone
        ("DEFAULT_LANGUAGE", "fr", "DEFAULT_LANGUAGE"),
        ("ADMIN_USER_IDS", "12,abc", "ADMIN_USER_IDS"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL"),
        ("TELEGRAM_API_BASE_URL", "api.telegram.org", "TELEGRAM_API_BASE_URL"),
        ("CAP_SENDER", "Siaga 112, Palangka Raya", "CAP_SENDER"),
        ("BROADCAST_RESEND_MINUTES", "0", "BROADCAST_RESEND_MINUTES"),
    ],
)
def test_invalid_setting_names_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, mentions: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert mentions in message
    assert ".env.example" in message
    if name == "TELEGRAM_BOT_TOKEN":
        assert value not in message


def test_blank_token_counts_as_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "   ")
    assert load_settings().telegram_bot_token is None


def test_env_example_lists_every_setting() -> None:
    from bot.settings import Settings

    example = (Path(__file__).parent.parent / ".env.example").read_text()
    for field in Settings.model_fields:
        assert f"\n{field.upper()}=" in example, f"{field.upper()} missing from .env.example"


def test_readme_documents_every_setting() -> None:
    from bot.settings import Settings

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    for field in Settings.model_fields:
        assert f"`{field.upper()}`" in readme, f"{field.upper()} missing from the README table"


# --- an .env that cannot be read (issue 13) ---


def unreadable_env_message(**overrides: object) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(**overrides)
    message = str(caught.value)
    assert "\n" not in message, "one paragraph"
    return message


def test_an_env_that_is_a_directory_is_named_not_skipped(tmp_path: Path) -> None:
    # pydantic-settings alone would skip it and start with defaults as if there were no .env.
    (tmp_path / ".env").mkdir()
    message = unreadable_env_message()
    assert f"Cannot read {tmp_path / '.env'}: it is a directory" in message
    assert "environment" in message


def test_an_env_that_is_not_utf8_names_the_byte_and_the_line(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"TIMEZONE=Asia/Jakarta\nCAP_SENDER=siaga@caf\xe9.id\n")
    message = unreadable_env_message()
    assert f"Cannot read {tmp_path / '.env'}: it is not UTF-8 text" in message
    assert "0xe9 on line 2" in message
    assert "Save it as UTF-8" in message


def test_an_env_the_user_may_not_read_says_who_needs_access(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import grp
    import pwd

    env = tmp_path / ".env"
    env.write_text(f"TELEGRAM_BOT_TOKEN={TOKEN}\n")
    real_open = Path.open

    def refuse_env(self: Path, *args: object, **kwargs: object) -> object:
        # As root a chmod 000 file is still readable, so the refusal is simulated.
        if self.name == ".env":
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(Path, "open", refuse_env)
    message = unreadable_env_message()
    user = pwd.getpwuid(os.geteuid()).pw_name
    group = grp.getgrgid(os.getegid()).gr_name
    assert message.startswith(f"Cannot read {env}: permission denied.")
    assert f"runs as user {user};" in message
    assert f"`chgrp {group} {env}` and `chmod 640 {env}`" in message
    assert "set the settings in the environment instead" in message
    assert TOKEN not in message


def test_an_env_linking_to_nothing_says_where_it_points(tmp_path: Path) -> None:
    (tmp_path / ".env").symlink_to(tmp_path / "secrets" / "siaga112.env")
    message = unreadable_env_message()
    assert f"it is a link to {tmp_path / 'secrets' / 'siaga112.env'}, which does not exist" in (
        message
    )


def test_the_env_file_named_by_the_caller_is_the_one_checked(tmp_path: Path) -> None:
    (tmp_path / ".env").mkdir()
    assert load_settings(_env_file=None).timezone == "Asia/Jakarta"  # no file is read at all
    other = tmp_path / "other.env"
    other.write_bytes(b"TIMEZONE=\xff\n")
    assert f"Cannot read {other}" in unreadable_env_message(_env_file=other)
