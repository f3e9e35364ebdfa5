"""The `siaga112` command: helpful exits for configuration mistakes, and each subcommand."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from bot import __version__
from bot.cli import main
from bot.simulator import TelegramSimulator
from tests.test_container import make

ROOT = Path(__file__).parent.parent
SETTING_NAMES = (
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_API_BASE_URL",
    "DATABASE_PATH",
    "TIMEZONE",
    "DEFAULT_LANGUAGE",
    "ADMIN_USER_IDS",
    "LOG_LEVEL",
)


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)


def run_cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path
) -> subprocess.CompletedProcess[str]:
    """The installed command as an operator runs it, in a fresh process."""
    clean = {k: v for k, v in os.environ.items() if k not in SETTING_NAMES}
    clean.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        env=clean,
        cwd=cwd,
        timeout=60,
        check=False,
    )


def test_run_without_token_exits_2_with_botfather_advice(tmp_path: Path) -> None:
    result = run_cli("run", cwd=tmp_path)
    assert result.returncode == 2
    assert "@BotFather" in result.stderr
    assert "make demo" in result.stderr
    assert "Traceback" not in result.stderr


def test_malformed_token_exits_2_without_echoing_it(tmp_path: Path) -> None:
    result = run_cli("run", env={"TELEGRAM_BOT_TOKEN": "12345:short-and-wrong"}, cwd=tmp_path)
    assert result.returncode == 2
    assert "TELEGRAM_BOT_TOKEN" in result.stderr
    assert "short-and-wrong" not in result.stderr
    assert "Traceback" not in result.stderr


def test_invalid_setting_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    os.environ["TIMEZONE"] = "Nowhere/Land"
    try:
        assert main(["migrate"]) == 2
    finally:
        del os.environ["TIMEZONE"]
    err = capsys.readouterr().err
    assert "TIMEZONE" in err
    assert "Traceback" not in err


def test_unwritable_database_path_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "blocker").write_text("a file, not a directory")
    os.environ["DATABASE_PATH"] = str(tmp_path / "blocker" / "db.sqlite")
    try:
        assert main(["migrate"]) == 2
    finally:
        del os.environ["DATABASE_PATH"]
    assert "DATABASE_PATH" in capsys.readouterr().err


def test_migrate_creates_then_reports_up_to_date(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    os.environ["DATABASE_PATH"] = str(tmp_path / "data" / "x.db")
    try:
        assert main(["migrate"]) == 0
        assert "0001_initial.sql" in capsys.readouterr().out
        assert main(["migrate"]) == 0
        assert "up to date" in capsys.readouterr().out
    finally:
        del os.environ["DATABASE_PATH"]


def test_version(tmp_path: Path) -> None:
    result = run_cli("--version", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == f"siaga112 {__version__}"


async def test_check_against_the_simulator(tmp_path: Path) -> None:
    async with TelegramSimulator() as sim:
        env = {
            "TELEGRAM_BOT_TOKEN": sim.token,
            "TELEGRAM_API_BASE_URL": sim.base_url,
            "DATABASE_PATH": str(tmp_path / "check.db"),
        }
        unmigrated = await asyncio.to_thread(run_cli, "check", env=env, cwd=tmp_path)
        assert unmigrated.returncode == 1
        assert "siaga112 migrate" in unmigrated.stdout
        migrated = await asyncio.to_thread(run_cli, "migrate", env=env, cwd=tmp_path)
        assert migrated.returncode == 0
        result = await asyncio.to_thread(run_cli, "check", env=env, cwd=tmp_path)
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"@{sim.bot_username}" in result.stdout
        assert any(call.method == "getMe" for call in sim.calls)


async def test_check_with_a_rejected_token_exits_2(tmp_path: Path) -> None:
    async with TelegramSimulator() as sim:
        env = {
            "TELEGRAM_BOT_TOKEN": "999999999:AAE" + "z" * 32,
            "TELEGRAM_API_BASE_URL": sim.base_url,
            "DATABASE_PATH": str(tmp_path / "check.db"),
        }
        result = await asyncio.to_thread(run_cli, "check", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert "rejected" in result.stderr
    assert "Traceback" not in result.stderr


async def test_check_reports_a_missing_database_and_creates_nothing(tmp_path: Path) -> None:
    async with TelegramSimulator() as sim:
        env = {
            "TELEGRAM_BOT_TOKEN": sim.token,
            "TELEGRAM_API_BASE_URL": sim.base_url,
            "DATABASE_PATH": str(tmp_path / "data" / "siaga112.db"),
        }
        result = await asyncio.to_thread(run_cli, "check", env=env, cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert (
        f"database: missing: there is no database at {tmp_path / 'data' / 'siaga112.db'}; "
        "run `siaga112 migrate` to create it"
    ) in result.stdout
    assert f"@{sim.bot_username}" in result.stdout, "the other checks still run"
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data").exists(), "neither the file nor its directory is created"


async def test_check_refuses_a_database_path_that_is_a_directory(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    async with TelegramSimulator() as sim:
        env = {
            "TELEGRAM_BOT_TOKEN": sim.token,
            "TELEGRAM_API_BASE_URL": sim.base_url,
            "DATABASE_PATH": str(tmp_path / "data"),
        }
        result = await asyncio.to_thread(run_cli, "check", env=env, cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"database: FAILED: {tmp_path / 'data'} is not a file" in result.stdout
    assert list((tmp_path / "data").iterdir()) == []


def test_make_check_migrates_before_it_checks() -> None:
    # The README promises that `make check` opens and migrates the database.
    result = make("-n", "--always-make", "check")
    assert result.returncode == 0, result.stderr
    commands = [line.split("/")[-1] for line in result.stdout.splitlines()]
    assert commands[-2:] == ["siaga112 migrate", "siaga112 check"]


# --- an .env the command cannot read (issue 13) ---


def _latin1_env(path: Path) -> None:
    path.write_bytes(b"TIMEZONE=Asia/Jakarta\nCAP_SENDER=siaga@caf\xe9.id\n")


@pytest.mark.parametrize("command", ["run", "migrate", "check", "outbox"])
@pytest.mark.parametrize(
    ("make_env", "reason"),
    [
        (Path.mkdir, "it is a directory, not a file"),
        (_latin1_env, "it is not UTF-8 text (byte 0xe9 on line 2)"),
    ],
    ids=["directory", "latin1"],
)
def test_an_unreadable_env_ends_any_command_with_one_paragraph(
    tmp_path: Path, command: str, make_env: Callable[[Path], object], reason: str
) -> None:
    make_env(tmp_path / ".env")
    result = run_cli(command, env={"DATABASE_PATH": str(tmp_path / "x.db")}, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith(f"siaga112: Cannot read {tmp_path / '.env'}: {reason}")
    assert result.stderr.count("\n") == 1, "one paragraph"
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert not (tmp_path / "x.db").exists()


def test_an_env_the_services_user_may_not_read() -> None:
    """The case of issue 13: .env is root's (0600) and the service runs as another user."""
    as_root = os.geteuid() == 0
    # As root, a file mode stops no one: run the command as nobody (65534) instead.
    as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if as_root else []
    if as_root and shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv to become another user")
    workdir = Path(tempfile.mkdtemp(prefix="siaga112-env-"))  # pytest's tmp_path is root's alone
    try:
        workdir.chmod(0o755)
        env = workdir / ".env"
        env.write_text("TIMEZONE=Asia/Jakarta\n")
        env.chmod(0o600 if as_root else 0o000)
        probe = [*as_nobody, sys.executable, "-c", "import bot.cli"]
        if subprocess.run(probe, cwd=workdir, capture_output=True, check=False).returncode != 0:
            pytest.skip("another user cannot run this checkout's Python")
        result = subprocess.run(
            [*as_nobody, sys.executable, "-m", "bot", "migrate"],
            capture_output=True,
            text=True,
            cwd=workdir,
            env={k: v for k, v in os.environ.items() if k not in SETTING_NAMES},
            timeout=60,
            check=False,
        )
    finally:
        shutil.rmtree(workdir)
    assert result.returncode == 2
    assert result.stderr.startswith(f"siaga112: Cannot read {env}: permission denied.")
    assert "give that user read access" in result.stderr
    assert f"`chmod 640 {env}`" in result.stderr
    assert result.stderr.count("\n") == 1, "one paragraph"
    assert "Traceback" not in result.stderr


def test_demo_runs_to_the_end(tmp_path: Path) -> None:
    result = run_cli("demo", "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Halo, Sari!" in result.stdout
    assert "Hello, John!" in result.stdout
    assert "The demo ended by itself" in result.stdout


async def test_demo_board_keeps_the_city_running_until_ctrl_c(tmp_path: Path) -> None:
    """`siaga112 demo --board`: after the scenes, the board's address and a sign-in link that
    works; Ctrl+C ends it cleanly."""
    import re
    import signal

    import aiohttp

    clean = {k: v for k, v in os.environ.items() if k not in SETTING_NAMES}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "demo", "--quiet", "--board",
        cwd=tmp_path, env=clean, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        lines: list[str] = []
        async with asyncio.timeout(120):
            while not lines or "Ctrl+C" not in lines[-1]:
                line = (await process.stdout.readline()).decode()
                assert line, "the demo ended before printing the board's address"
                lines.append(line)
        found = re.search(r"sign in \(once\):\s+(\S+)", "".join(lines))
        assert found is not None
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as session:
            async with session.get(found.group(1)) as response:
                assert response.status == 200 and response.url.path == "/board"
            board = found.group(1).split("/masuk")[0]
            async with session.get(f"{board}/board/data/open") as response:
                assert response.status == 200
                assert (await response.json())["total"] >= 1  # the demo's open incidents
    finally:
        process.send_signal(signal.SIGINT)
        async with asyncio.timeout(30):
            await process.wait()
    assert process.returncode == 0


def test_wheel_carries_migrations_and_catalogs(tmp_path: Path) -> None:
    """A non-editable install finds the SQL files and translations."""
    import zipfile

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    [wheel] = list(tmp_path.glob("siaga112-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "migrations/0001_initial.sql" in names
    assert "migrations/0002_agencies.sql" in names
    assert "bot/locales/id/LC_MESSAGES/core.po" in names
    assert "bot/locales/en/LC_MESSAGES/core.po" in names
    assert "bot/simulator/server.py" in names
    assert "bot/web/static/board.js" in names
    assert "bot/web/static/vendor/leaflet/leaflet.js" in names
    assert "bot/web/static/vendor/leaflet/LICENSE" in names
    assert "bot/web/static/vendor/leaflet/images/marker-icon.png" in names
    assert "bot/playground/static/play.js" in names
    assert "bot/playground/static/sample.png" in names


def test_api_keys_and_subscriptions_are_managed_from_the_command_line(tmp_path: Path) -> None:
    env = {"DATABASE_PATH": str(tmp_path / "siaga112.db")}
    assert run_cli("migrate", env=env, cwd=tmp_path).returncode == 0
    created = run_cli("apikey", "create", "callcenter", "--scope", "write", env=env, cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]  # the key is the last line
    assert key.startswith("s112_") and len(key) > 40
    again = run_cli("apikey", "create", "callcenter", env=env, cwd=tmp_path)
    assert again.returncode == 1 and "already named" in again.stderr
    bad = run_cli("apikey", "create", "call center!", env=env, cwd=tmp_path)
    assert bad.returncode == 2 and "letters, digits" in bad.stderr
    listed = run_cli("apikey", "list", env=env, cwd=tmp_path)
    assert "callcenter  write" in listed.stdout and key not in listed.stdout
    revoked = run_cli("apikey", "revoke", "callcenter", env=env, cwd=tmp_path)
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    assert "revoked" in run_cli("apikey", "list", env=env, cwd=tmp_path).stdout
    assert run_cli("apikey", "revoke", "callcenter", env=env, cwd=tmp_path).returncode == 1
    url = "https://sirine.example.org/siaga112"
    args = ["subscription", "add", url, "--events", "created,resolved", "--secret", "s" * 20]
    added = run_cli(*args, env=env, cwd=tmp_path)
    assert added.returncode == 0 and "Subscription 1: created,resolved" in added.stdout
    weak = run_cli(*args[:-1], "short", env=env, cwd=tmp_path)
    assert weak.returncode == 2 and "16 to 256" in weak.stderr
    unknown = run_cli("subscription", "add", url, "--events", "exploded", "--secret", "s" * 20,
                      env=env, cwd=tmp_path)  # fmt: skip
    assert unknown.returncode == 2 and "expected some of" in unknown.stderr
    assert url in run_cli("subscription", "list", env=env, cwd=tmp_path).stdout
    assert run_cli("subscription", "log", env=env, cwd=tmp_path).returncode == 0
    assert run_cli("subscription", "resend", "7", env=env, cwd=tmp_path).returncode == 1
    assert run_cli("subscription", "remove", "1", env=env, cwd=tmp_path).returncode == 0
    assert "No subscriptions" in run_cli("subscription", "list", env=env, cwd=tmp_path).stdout


def test_a_likely_typo_in_env_is_named_and_other_keys_are_left_alone(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "DATABASE_PATH=x.db\nWEB_PROT=8080\nDIGEST_ENABLD=false\nMY_OWN_THING=1\nPATH_EXTRA=/x\n"
    )
    result = run_cli("migrate", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "WEB_PROT, which is no setting; did you mean WEB_PORT?" in result.stderr
    assert "did you mean DIGEST_ENABLED?" in result.stderr
    assert "MY_OWN_THING" not in result.stderr and "PATH_EXTRA" not in result.stderr
