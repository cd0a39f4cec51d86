"""Production settings pass Django's deployment checklist, and secrets come only from the
environment or a file named by NAME_FILE.

Each test starts `manage.py` in a subprocess with a production-like environment built from
scratch (no DEBUG, no .env leakage from this process), because settings are read once
per process. No database needed: the SQLite file in tmp_path is never created.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
LONG_SECRET = "production-like-" + "k3y" * 20  # > 50 characters, > 5 distinct ones


def production_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
        "SECRET_KEY": LONG_SECRET,
        "ALLOWED_HOSTS": "tracker.example.org",
        "CSRF_TRUSTED_ORIGINS": "https://tracker.example.org",
        "SITE_URL": "https://tracker.example.org",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "VAR_DIR": str(tmp_path / "var"),
    }
    env.update(overrides)
    return {name: value for name, value in env.items() if value is not None}


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
        [sys.executable, str(REPO / "manage.py"), *args],
        cwd=env["HOME"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def setting_value(env: dict[str, str], name: str) -> str:
    """What `settings.<name>` is in a process started with `env` (the last line printed:
    `shell` may announce its automatic imports first)."""
    result = manage(env, "shell", "-c", f"from django.conf import settings; print(settings.{name})")
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_production_settings_pass_the_deploy_check_at_warning_level(tmp_path):
    result = manage(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_deploy_check_flags_a_production_without_https_redirect(tmp_path):
    # Guards the test above: the check really runs on these settings and fails on warnings.
    env = production_env(tmp_path, SECURE_SSL_REDIRECT="false")
    result = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    assert "security.W008" in result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = production_env(tmp_path)
    del env["SECRET_KEY"]
    result = manage(env, "check")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_the_secret_key_may_come_from_a_file(tmp_path):
    key_file = tmp_path / "secret_key"
    key_file.write_text(LONG_SECRET + "-from-file\n")
    env = production_env(tmp_path, SECRET_KEY_FILE=str(key_file))
    del env["SECRET_KEY"]
    assert setting_value(env, "SECRET_KEY") == LONG_SECRET + "-from-file"


def test_an_empty_secret_key_file_is_refused_in_production(tmp_path):
    key_file = tmp_path / "secret_key"
    key_file.write_text("\n")
    env = production_env(tmp_path, SECRET_KEY_FILE=str(key_file))
    del env["SECRET_KEY"]
    result = manage(env, "check")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_a_secret_set_both_directly_and_as_a_file_is_refused(tmp_path):
    key_file = tmp_path / "secret_key"
    key_file.write_text(LONG_SECRET)
    result = manage(production_env(tmp_path, SECRET_KEY_FILE=str(key_file)), "check")
    assert result.returncode != 0
    assert "Set SECRET_KEY or SECRET_KEY_FILE, not both" in result.stderr


def test_an_unreadable_secret_file_is_refused_with_its_name(tmp_path):
    missing = tmp_path / "nowhere"
    env = production_env(tmp_path, SECRET_KEY_FILE=str(missing))
    del env["SECRET_KEY"]
    result = manage(env, "check")
    assert result.returncode != 0
    assert f"SECRET_KEY_FILE={missing} cannot be read" in result.stderr


@pytest.mark.parametrize(
    ("variable", "content", "setting", "expected"),
    [
        (
            "DATABASE_URL",
            "sqlite:///{tmp}/file.sqlite3",
            "DATABASES['default']['NAME']",
            "{tmp}/file.sqlite3",
        ),
        (
            "EMAIL_URL",
            "smtp://mailer:s3cret@smtp.example.org:587/",
            "EMAIL_HOST_PASSWORD",
            "s3cret",
        ),
        (
            "CELERY_BROKER_URL",
            "redis://:s3cret@redis.example.org/0",
            "CELERY_BROKER_URL",
            "redis://:s3cret@redis.example.org/0",
        ),
    ],
)
def test_service_urls_with_passwords_may_come_from_files(
    tmp_path, variable, content, setting, expected
):
    secret_file = tmp_path / variable.lower()
    secret_file.write_text(content.format(tmp=tmp_path) + "\n")
    env = production_env(tmp_path, **{f"{variable}_FILE": str(secret_file)})
    env.pop(variable, None)
    assert setting_value(env, setting) == expected.format(tmp=tmp_path)
