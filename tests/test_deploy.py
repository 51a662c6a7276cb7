"""The deployment contract: production settings pass `check --deploy`, the compose file has the
production shape, and README, .env.example and .ci/run agree with what the code reads."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
APP_VARIABLES = re.compile(
    r"(?:envbool|envint|envlist|os\.environ\.get|os\.environ\[|getenv)\(?\s*\"([A-Z][A-Z0-9_]*)\""
)


def settings_variables() -> set[str]:
    return set(APP_VARIABLES.findall((ROOT / "attendnc" / "settings.py").read_text()))


def production_env(**extra) -> dict:
    """The current environment without any app setting, plus production values."""
    env = {k: v for k, v in os.environ.items() if k not in settings_variables() and k != "DJANGO_SETTINGS_MODULE"}
    env.update(
        DEBUG="0",
        SECRET_KEY="k" + os.urandom(32).hex(),
        ALLOWED_HOSTS="attendnc.example.org",
        CSRF_TRUSTED_ORIGINS="https://attendnc.example.org",
    )
    env.update(extra)
    return env


def manage(*args, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    env = production_env(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")

    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)

    assert result.returncode == 0, result.stdout + result.stderr


def test_collectstatic_succeeds_with_the_production_storage(tmp_path):
    # The Dockerfile collects static files with DEBUG=0 into hashed names; a CSS reference to a
    # missing file would break the image build, so try it here into a throwaway folder. The
    # manifest storage without WhiteNoise's compression finds the same errors in a fraction of
    # the time (compressing the API docs' JavaScript takes half a minute).
    (tmp_path / "collect_settings.py").write_text(
        "from attendnc.settings import *  # noqa\n"
        f"STATIC_ROOT = {str(tmp_path / 'static')!r}\n"
        'STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}\n'
    )
    env = production_env(DJANGO_SETTINGS_MODULE="collect_settings", PYTHONPATH=f"{tmp_path}{os.pathsep}{ROOT}")

    result = manage("collectstatic", "--noinput", env=env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "static" / "staticfiles.json").exists()


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_runs_web_worker_beat_postgres_and_redis():
    services = compose()["services"]

    assert {"web", "worker", "beat", "migrate", "postgres", "redis"} <= services.keys()
    assert "gunicorn" in services["web"]["command"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "attendnc", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "attendnc", "beat"]
    assert services["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]


def test_compose_health_checks_and_start_order():
    services = compose()["services"]

    for name in ("web", "worker", "postgres", "redis"):
        assert services[name]["healthcheck"]["test"], name
    assert "pg_isready" in str(services["postgres"]["healthcheck"]["test"])
    assert "ping" in str(services["redis"]["healthcheck"]["test"])
    assert "inspect ping" in str(services["worker"]["healthcheck"]["test"])
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("web", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        assert depends["postgres"]["condition"] == "service_healthy", name
        assert depends["redis"]["condition"] == "service_healthy", name
        assert services[name]["env_file"] == ".env", name


def test_compose_keeps_database_and_media_in_volumes():
    spec = compose()

    assert {"pgdata", "media"} <= spec["volumes"].keys()
    assert "pgdata:/var/lib/postgresql/data" in spec["services"]["postgres"]["volumes"]
    assert "media:/data/media" in spec["services"]["web"]["volumes"]


def env_example() -> dict:
    lines = (ROOT / ".env.example").read_text().splitlines()
    pairs = (line.split("=", 1) for line in lines if line.strip() and not line.startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


def test_env_example_sets_production_values():
    env = env_example()

    required = {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "EMAIL_HOST"}
    assert required <= env.keys()
    assert env["DEBUG"] == "0"
    assert env["DATABASE_URL"] == (
        f"postgres://{env['POSTGRES_USER']}:{env['POSTGRES_PASSWORD']}@postgres:5432/{env['POSTGRES_DB']}"
    )
    assert env["REDIS_URL"].startswith("redis://redis:6379/")
    assert set(env) - {"POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD"} <= settings_variables()


def docker_compose_command() -> list[str] | None:
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
        if probe.returncode == 0:
            return ["docker", "compose"]
    return None


def test_docker_compose_config_is_valid(tmp_path):
    command = docker_compose_command()
    if command is None:
        pytest.skip(
            "the docker client with the compose plugin is not installed; compose file checked structurally only"
        )
    for name in ("docker-compose.yml", "Dockerfile"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")

    result = subprocess.run([*command, "config", "-q"], cwd=tmp_path, capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stdout + result.stderr


def test_web_health_check_passes_against_a_running_server(live_server):
    env = {k: v for k, v in os.environ.items() if k != "ALLOWED_HOSTS"}

    result = subprocess.run(
        [sys.executable, "scripts/healthcheck.py", f"{live_server.url}/healthz"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert result.returncode == 0, result.stderr


def test_web_health_check_fails_when_nothing_answers():
    result = subprocess.run(
        [sys.executable, "scripts/healthcheck.py", "http://127.0.0.1:9/healthz"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert result.returncode == 1
    assert "unhealthy" in result.stderr


def readme_code_lines() -> list[str]:
    blocks = re.findall(r"```[a-z]*\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def test_ci_runs_the_readme_test_command():
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]

    assert "./scripts/test" in readme_code_lines()
    assert "./scripts/test" in ci_lines


def test_readme_documents_every_setting():
    readme = (ROOT / "README.md").read_text()

    undocumented = sorted(name for name in settings_variables() if f"`{name}`" not in readme)

    assert not undocumented, f"settings.py reads these but README.md's configuration table lacks them: {undocumented}"
