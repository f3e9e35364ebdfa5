"""Settings: defaults, parsing from the environment, and the messages for mistakes."""

from __future__ import annotations

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
