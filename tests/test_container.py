"""The reproducible install and the container: the hashed lock files agree with pyproject.toml,
the Makefile installs only what a target needs, the Dockerfile passes hadolint and has what a
deployment relies on, the entrypoint migrates before it runs, and compose.yaml with its Caddy
proxy fits the bot's settings. No container engine is needed: everything is read or run here."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from bot.services.web import BOARD_PATH, LINK_PATH
from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
ENTRYPOINT = ROOT / "deploy" / "docker-entrypoint.sh"
CADDYFILE = ROOT / "deploy" / "Caddyfile"
RUNTIME_LOCK = ROOT / "requirements" / "runtime.txt"
DEV_LOCK = ROOT / "requirements" / "dev.txt"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
RUNTIME_TARGETS = ["demo", "play", "run", "migrate", "check"]
DEV_TARGETS = ["test", "lint", "format", "bench"]


# --- the lock files ---


def pins(lock: Path) -> dict[str, list[tuple[Version, list[str]]]]:
    """name -> [(pinned version, its sha256 hashes)], one entry per marker-split pin."""
    text = lock.read_text(encoding="utf-8").replace("\\\n", " ")
    found: dict[str, list[tuple[Version, list[str]]]] = {}
    for line in text.splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        match = re.match(r"^([A-Za-z0-9._-]+)==(\S+)(?:\s*;[^-]*)?((?:\s+--hash=\S+)*)\s*$", line)
        assert match, f"{lock.name}: not an exact, hashed pin: {line}"
        name, version, hashes = match.groups()
        digests = re.findall(r"--hash=sha256:([0-9a-f]{64})", hashes)
        assert digests, f"{lock.name}: {name} has no sha256 hash"
        found.setdefault(canonicalize_name(name), []).append((Version(version), digests))
    return found


def required(lines: list[str]) -> list[Requirement]:
    return [Requirement(line) for line in lines]


@pytest.mark.parametrize(
    ("lock", "requirements"),
    [
        (RUNTIME_LOCK, required(PYPROJECT["project"]["dependencies"])),
        (DEV_LOCK, required(PYPROJECT["project"]["optional-dependencies"]["dev"])),
    ],
    ids=["runtime", "dev"],
)
def test_every_dependency_of_pyproject_is_pinned_with_hashes(
    lock: Path, requirements: list[Requirement]
) -> None:
    locked = pins(lock)
    for requirement in requirements:
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{requirement.name} is missing from {lock.name}: run tools/lock.sh"
        for version, _ in locked[name]:
            assert requirement.specifier.contains(version, prereleases=True), (
                f"{lock.name} pins {name}=={version}, outside pyproject.toml's {requirement}"
            )


def test_the_runtime_lock_holds_the_build_backend_and_pip() -> None:
    # The project installs with --no-build-isolation after the hashed install: its build
    # requirements must come from the lock, not from an unchecked isolated build.
    locked = pins(RUNTIME_LOCK)
    for requirement in required([*PYPROJECT["build-system"]["requires"], "pip"]):
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{name} is missing from runtime.txt (requirements/build.in)"
        assert all(requirement.specifier.contains(version) for version, _ in locked[name])


def test_the_dev_lock_pins_what_the_runtime_lock_pins_at_the_same_versions() -> None:
    runtime, dev = pins(RUNTIME_LOCK), pins(DEV_LOCK)
    for name, versions in runtime.items():
        assert name in dev, f"{name} is in runtime.txt but not in dev.txt"
        assert {v for v, _ in versions} == {v for v, _ in dev[name]}, name


@pytest.mark.parametrize("lock", [RUNTIME_LOCK, DEV_LOCK], ids=["runtime", "dev"])
def test_each_lock_says_how_it_is_made_and_upgraded(lock: Path) -> None:
    header = lock.read_text(encoding="utf-8").split("\n\n", 1)[0][:600]
    assert "tools/lock.sh" in header
    assert "tools/lock.sh --upgrade" in header
    assert "--require-hashes" in header


def test_the_lock_script_compiles_universal_hashed_files() -> None:
    script = (ROOT / "tools" / "lock.sh").read_text(encoding="utf-8")
    for option in ("--universal", "--python-version 3.11", "--generate-hashes"):
        assert option in script
    assert os.access(ROOT / "tools" / "lock.sh", os.X_OK)


# --- the Makefile ---


def make(*args: str) -> subprocess.CompletedProcess[str]:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
        # Run from `make test`, the parent make's flags would change what this one prints.
        env={k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MAKELEVEL", "MFLAGS"}},
    )


def make_rules() -> dict[str, list[str]]:
    """Every explicit rule of the Makefile, variables expanded: target -> prerequisites."""
    database = make("--print-data-base", "--dry-run", "--question", "help").stdout
    rules = {}
    for line in database.splitlines():
        match = re.match(r"^([^\s#%:=][^:=]*?):(?![:=])\s*(.*)$", line)
        if match:
            rules[match.group(1)] = match.group(2).split()
    return rules


def test_running_the_bot_installs_only_the_runtime_lock() -> None:
    rules = make_rules()
    runtime_stamp = next(t for t, deps in rules.items() if "requirements/runtime.txt" in deps)
    dev_stamp = next(t for t, deps in rules.items() if "requirements/dev.txt" in deps)
    assert set(rules[runtime_stamp]) >= {"requirements/runtime.txt", "pyproject.toml"}
    assert runtime_stamp in rules[dev_stamp]
    for target in RUNTIME_TARGETS:
        assert runtime_stamp in rules[target], target
        assert dev_stamp not in rules[target], f"make {target} would install the dev tools"
    for target in DEV_TARGETS:
        assert dev_stamp in rules[target], target


def test_make_run_installs_from_the_runtime_lock_with_hashes_only() -> None:
    result = make("--dry-run", "--always-make", "run")
    assert result.returncode == 0, result.stderr
    assert "--require-hashes -r requirements/runtime.txt" in result.stdout
    assert "requirements/dev.txt" not in result.stdout
    assert "--no-deps --no-build-isolation -e ." in result.stdout


def test_make_help_lists_every_target() -> None:
    phony = re.search(r"^\.PHONY:(.*)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert phony is not None
    listed = make("help").stdout
    for target in set(phony.group(1).split()) - {"help"}:
        assert re.search(rf"^make {target}\b", listed, re.MULTILINE), f"make help omits {target}"


# --- the Dockerfile ---


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order; comments dropped, continued lines joined."""
    lines = [
        line
        for line in DOCKERFILE.read_text(encoding="utf-8").splitlines()
        if not line.lstrip().startswith("#")
    ]
    joined = re.sub(r"\\\n\s*", " ", "\n".join(lines))
    return [
        (keyword.upper(), rest.strip())
        for keyword, rest in (
            line.strip().split(maxsplit=1) for line in joined.splitlines() if line.strip()
        )
    ]


def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile_instructions()
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


def env_of(stage: list[tuple[str, str]]) -> dict[str, str]:
    env: dict[str, str] = {}
    for keyword, rest in stage:
        if keyword == "ENV":
            for part in shlex.split(rest):
                name, _, value = part.partition("=")
                env[name] = value
    return env


def hadolint() -> str:
    beside_python = Path(sys.executable).parent / "hadolint"
    found = str(beside_python) if beside_python.exists() else shutil.which("hadolint")
    if found is None:
        pytest.fail("hadolint is missing: it comes with the dev extra (make test installs it)")
    return found


def test_hadolint_finds_nothing_in_the_dockerfile(tmp_path: Path) -> None:
    # No configuration may quietly ignore a rule: none in the repository, and none from the
    # user's home (a clean HOME and XDG_CONFIG_HOME, no HADOLINT_* variables).
    assert not list(ROOT.glob(".hadolint.y*ml"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("HADOLINT_")}
    env.update(HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path))
    result = subprocess.run(
        [hadolint(), "--no-color", "--failure-threshold", "style", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_rule_ignored_in_the_dockerfile_says_why() -> None:
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        match = re.search(r"#\s*hadolint\s+ignore=([A-Z0-9,]+)(.*)$", line)
        if match:
            assert len(match.group(2).strip(" :-—")) > 10, f"no reason given: {line}"


def test_the_image_is_built_in_two_stages_from_a_pinned_slim_python() -> None:
    bases = [rest.split() for keyword, rest in dockerfile_instructions() if keyword == "FROM"]
    assert len(bases) >= 2
    for base in bases:
        assert re.fullmatch(r"python:3\.11[\w.-]*-slim[\w.-]*", base[0]), base[0]
    assert len({base[0] for base in bases}) == 1, "builder and final stage share one base"
    builder = bases[0][-1]
    assert [keyword for keyword, rest in final_stage() if f"--from={builder}" in rest] == ["COPY"]


def test_dependencies_install_from_the_runtime_lock_by_hash_then_the_project_alone() -> None:
    runs = [rest for keyword, rest in dockerfile_instructions() if keyword == "RUN"]
    locked = next(i for i, run in enumerate(runs) if "-r requirements/runtime.txt" in run)
    assert "--require-hashes" in runs[locked]
    project = next(i for i, run in enumerate(runs) if re.search(r"--no-deps\b.* \.(\s|$)", run))
    assert locked < project
    assert "--no-build-isolation" in runs[project]


def test_the_bot_runs_as_a_user_of_its_own_with_its_database_in_a_volume() -> None:
    stage = final_stage()
    keywords = [keyword for keyword, _ in stage]
    users = [rest for keyword, rest in stage if keyword == "USER"]
    assert users, "the final stage sets no USER: the bot would run as root"
    assert users[-1].split(":")[0] not in {"root", "0"}
    last_user = max(i for i, keyword in enumerate(keywords) if keyword == "USER")
    assert last_user < keywords.index("ENTRYPOINT")
    assert last_user < keywords.index("CMD")

    env = env_of(stage)
    # The names are the bot's settings, not guesses.
    for name in ("DATABASE_PATH", "WEB_HOST", "WEB_PORT"):
        assert name.lower() in Settings.model_fields, name
    assert env["WEB_HOST"] == "0.0.0.0"
    volumes = [PurePosixPath(rest.strip('[]" ')) for keyword, rest in stage if keyword == "VOLUME"]
    database = PurePosixPath(env["DATABASE_PATH"])
    assert any(volume in database.parents for volume in volumes), (database, volumes)
    assert ("EXPOSE", env["WEB_PORT"]) in stage
    assert ("STOPSIGNAL", "SIGTERM") in stage


def test_the_healthcheck_asks_the_bot_its_healthz_without_curl() -> None:
    (check,) = [rest for keyword, rest in final_stage() if keyword == "HEALTHCHECK"]
    assert "CMD" in check
    assert "http://127.0.0.1:" in check
    assert "/healthz" in check
    assert "urllib.request" in check
    assert "curl" not in check
    assert "wget" not in check


def test_the_container_starts_through_the_entrypoint_script() -> None:
    stage = final_stage()
    copied = [rest.split() for keyword, rest in stage if keyword == "COPY"]
    (destination,) = [c[-1] for c in copied if "deploy/docker-entrypoint.sh" in c]
    (entrypoint,) = [rest for keyword, rest in stage if keyword == "ENTRYPOINT"]
    assert PurePosixPath(destination).name in entrypoint


def test_the_build_context_lets_in_what_is_copied_and_never_the_env_file() -> None:
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert patterns[0] == "*", "an allowlist: what is not named stays out"
    allowed = {p[1:].rstrip("/") for p in patterns if p.startswith("!")}
    assert not {".env", ".git", ".venv", "data"} & allowed
    for keyword, rest in dockerfile_instructions():
        if keyword == "COPY" and "--from=" not in rest:
            for source in rest.split()[:-1]:
                parts = PurePosixPath(source.rstrip("/")).parts
                prefixes = {"/".join(parts[:n]) for n in range(1, len(parts) + 1)}
                assert prefixes & allowed, f"{source} is left out by .dockerignore"


# --- the entrypoint ---


def test_the_entrypoint_is_executable_in_git() -> None:
    listed = subprocess.run(
        ["git", "ls-files", "--stage", "--", str(ENTRYPOINT.relative_to(ROOT))],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    if listed.returncode == 0 and listed.stdout:
        assert listed.stdout.split()[0] == "100755"
    else:  # not added yet (or no git): `git add` records the file's own bit
        assert os.access(ENTRYPOINT, os.X_OK)


def start_container(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None, fail_migrate: bool = False
) -> tuple[int, list[str]]:
    """Run the entrypoint with a stand-in `siaga112` that writes down how it was called."""
    calls = tmp_path / "calls"
    stand_in = tmp_path / "bin" / "siaga112"
    stand_in.parent.mkdir()
    fail = 'if [ "$1" = migrate ]; then exit 3; fi\n' if fail_migrate else ""
    stand_in.write_text(f'#!/bin/sh\necho "$*" >> "{calls}"\n{fail}')
    stand_in.chmod(0o755)
    result = subprocess.run(
        ["/bin/sh", str(ENTRYPOINT), *args],
        env={"PATH": f"{stand_in.parent}:/usr/bin:/bin", **(env or {})},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return result.returncode, calls.read_text().splitlines() if calls.exists() else []


def test_the_container_migrates_the_database_then_becomes_the_bot(tmp_path: Path) -> None:
    assert start_container(tmp_path) == (0, ["migrate", "run"])


def test_with_a_webhook_url_the_container_runs_in_webhook_mode(tmp_path: Path) -> None:
    started = start_container(tmp_path, env={"WEBHOOK_URL": "https://siaga112.example.org/t"})
    assert started == (0, ["migrate", "run --webhook"])


def test_options_given_to_the_container_go_to_run(tmp_path: Path) -> None:
    assert start_container(tmp_path, "--webhook") == (0, ["migrate", "run --webhook"])


def test_a_failed_migration_stops_the_start(tmp_path: Path) -> None:
    assert start_container(tmp_path, fail_migrate=True) == (3, ["migrate"])


def test_another_command_runs_as_given_without_migrating(tmp_path: Path) -> None:
    assert start_container(tmp_path, "siaga112", "check") == (0, ["check"])


# --- compose.yaml and the proxy ---


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_compose_runs_the_bot_with_env_file_volume_and_restart() -> None:
    spec = compose()
    bot = spec["services"]["bot"]
    assert bot["build"] == "."
    assert bot["env_file"] in (".env", [".env"])
    assert bot["restart"] == "unless-stopped"
    assert "healthcheck" not in bot, "the Dockerfile's healthcheck applies"
    image_env = env_of(final_stage())
    volumes = dict(str(v).split(":", 1) for v in bot["volumes"])
    (name,) = [n for n, path in volumes.items() if path == str(database_dir(image_env))]
    assert name in spec["volumes"]
    # What .env says for these (a copy of .env.example: 127.0.0.1, data/…) is overridden.
    environment = bot["environment"]
    assert environment["DATABASE_PATH"] == image_env["DATABASE_PATH"]
    assert environment["WEB_HOST"] == "0.0.0.0"


def database_dir(env: dict[str, str]) -> PurePosixPath:
    return PurePosixPath(env["DATABASE_PATH"]).parent


def test_compose_has_a_caddy_proxy_for_webhook_mode() -> None:
    proxy = compose()["services"]["proxy"]
    assert str(proxy["image"]).startswith("caddy:2")
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in proxy["volumes"]
    assert any(str(port).startswith("443:443") for port in proxy["ports"])
    assert "bot" in proxy["depends_on"]
    assert {"SIAGA112_DOMAIN", "WEBHOOK_PATH"} <= set(proxy["environment"])


def test_the_caddyfile_proxies_the_webhook_and_the_board_to_the_bot() -> None:
    text = CADDYFILE.read_text(encoding="utf-8")
    port = env_of(final_stage())["WEB_PORT"]
    assert re.search(r"^\{\$SIAGA112_DOMAIN\}\s*\{", text, re.MULTILINE)
    assert f"reverse_proxy bot:{port}" in text
    default_path = Settings.model_fields["webhook_path"].default
    matcher = re.search(r"@bot path (.*)$", text, re.MULTILINE)
    assert matcher is not None
    paths = matcher.group(1).split()
    assert f"{{$WEBHOOK_PATH:{default_path}}}" in paths
    assert {LINK_PATH, f"{LINK_PATH}/*", BOARD_PATH, f"{BOARD_PATH}/*"} <= set(paths)
    assert not {"/healthz", "/metrics", "/*", "*"} & set(paths)
