"""docker-compose.yml and .env.example agree with config/settings.py.

No Docker engine runs in CI, so these tests read the files instead of starting containers:
the production services exist with the right commands, beat can never be scaled, every
variable the app containers set is one the settings read (a typo would be silently
ignored), and .env.example documents exactly the variables the settings read.
No database needed.
"""

import re
import shlex
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
COMPOSE_FILE = REPO / "docker-compose.yml"
SETTINGS_FILE = REPO / "config" / "settings.py"
ENV_EXAMPLE_FILE = REPO / ".env.example"

APP_SERVICES = ("web", "worker", "beat")
CRITICAL_VARIABLES = {"DATABASE_URL", "CELERY_BROKER_URL", "EMAIL_URL", "SECRET_KEY"}
MAIL_CATCHER_IMAGES = ("mailpit", "mailhog", "mailcatcher", "smtp4dev")

# env("NAME"), env.str("NAME", ...), environ.Env().bool("NAME"), os.environ.get("NAME"),
# os.getenv("NAME") and os.environ["NAME"]: the ways a settings module reads a variable.
_ENV_READ = re.compile(
    r"""(?:\benv|\benviron\.Env\(\)|\bos\.environ\.get|\bos\.getenv)(?:\.\w+)?"""
    r"""\(\s*["']([A-Z][A-Z0-9_]*)["']"""
    r"""|\bos\.environ\[\s*["']([A-Z][A-Z0-9_]*)["']\s*\]"""
)
# env_secret("NAME", ...): the settings helper that reads NAME or the file named by NAME_FILE.
_SECRET_READ = re.compile(r"""\benv_secret\(\s*["']([A-Z][A-Z0-9_]*)["']""")
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}
_COMPOSE_VARIABLE = re.compile(r"\$\{(\w+)(?:(:?[-?])([^}]*))?\}")
# "NAME=value" or "#NAME=value" (a documented variable left at its default)
_ENV_EXAMPLE_LINE = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=")


def settings_variables() -> set[str]:
    source = SETTINGS_FILE.read_text()
    secrets = _SECRET_READ.findall(source)
    return {a or b for a, b in _ENV_READ.findall(source)} | {
        variable for name in secrets for variable in (name, f"{name}_FILE")
    }


def env_example_variables() -> set[str]:
    lines = ENV_EXAMPLE_FILE.read_text().splitlines()
    return {m.group(1) for line in lines if (m := _ENV_EXAMPLE_LINE.match(line))}


def interpolate(value: str) -> str:
    """Resolve ${...} the way `docker compose` would with an empty host environment,
    using a placeholder where the file demands a value (${NAME:?message})."""

    def resolve(match: re.Match) -> str:
        name, operator, argument = match.groups()
        if operator in (":-", "-"):
            return argument
        return f"placeholder-{name.lower()}"

    return _COMPOSE_VARIABLE.sub(resolve, value)


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def environment(service: dict) -> dict[str, str]:
    """A service's environment as a dict, whether written as a mapping or a list."""
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) if "=" in item else (item, "") for item in raw)
    return {name: "" if value is None else str(value) for name, value in raw.items()}


def command_text(service: dict) -> str:
    command = service.get("command", "")
    if isinstance(command, list):
        command = shlex.join(str(part) for part in command)
    return " ".join(command.split())


def mail_catcher_name(services: dict) -> str:
    for name, service in services.items():
        image = str(service.get("image", ""))
        if name == "mailcatcher" or any(known in image for known in MAIL_CATCHER_IMAGES):
            return name
    raise AssertionError("docker-compose.yml has no mail catcher service")


def test_settings_variables_are_found_in_the_settings_source():
    # Guards the regex: if it stopped matching, the tests below would pass vacuously.
    assert settings_variables() >= CRITICAL_VARIABLES | {
        "DEBUG",
        "ALLOWED_HOSTS",
        "SECRET_KEY_FILE",
    }


def test_compose_defines_the_production_services(services):
    missing = {"web", "worker", "beat", "postgres", "redis"} - services.keys()
    assert not missing, f"services missing from docker-compose.yml: {sorted(missing)}"
    mail_catcher_name(services)


def test_postgres_is_version_15_with_a_healthcheck(services):
    assert services["postgres"]["image"].startswith("postgres:15")
    assert "healthcheck" in services["postgres"]


def test_redis_is_version_7(services):
    assert services["redis"]["image"].startswith("redis:7")


def test_beat_runs_exactly_one_replica(services):
    assert services["beat"].get("deploy", {}).get("replicas") == 1


def test_beat_runs_celery_beat_and_nothing_else_runs_a_scheduler(services):
    assert re.search(r"\bcelery\b.*\s-A config\b.*\sbeat\b", command_text(services["beat"]))
    for name in set(services) - {"beat"}:
        command = command_text(services[name])
        assert not re.search(r"\sbeat\b|\s-B\b|--beat\b", command), (
            f"{name} would start a second scheduler: {command}"
        )


def test_worker_runs_celery_worker(services):
    assert re.search(r"\bcelery\b.*\s-A config\b.*\sworker\b", command_text(services["worker"]))


def test_web_migrates_collects_static_and_runs_gunicorn(services):
    command = command_text(services["web"])
    assert "manage.py migrate --noinput" in command
    assert "manage.py collectstatic --noinput" in command
    assert re.search(r"\bgunicorn config\.wsgi\b", command)
    assert command.index("migrate") < command.index("collectstatic") < command.index("gunicorn")


def test_app_services_set_only_variables_the_settings_read(services):
    known = settings_variables()
    for name in APP_SERVICES:
        unknown = environment(services[name]).keys() - known
        assert not unknown, f"{name} sets variables config/settings.py never reads: {unknown}"


def test_app_services_set_the_settings_critical_variables(services):
    for name in APP_SERVICES:
        env = environment(services[name])
        missing = CRITICAL_VARIABLES - env.keys()
        assert not missing, f"{name} does not set {sorted(missing)}"
        assert interpolate(env["DEBUG"]).lower() in ("false", "0", "no", "off")


def test_secret_key_fails_closed_instead_of_defaulting(services):
    for name in APP_SERVICES:
        secret = environment(services[name])["SECRET_KEY"]
        assert re.fullmatch(r"\$\{SECRET_KEY:\?[^}]*\}", secret), (
            f"{name}: SECRET_KEY must be required from the host (${{SECRET_KEY:?...}}), "
            f"not {secret!r}"
        )


def test_service_urls_point_at_the_compose_services(services):
    mail = mail_catcher_name(services)
    expected = {
        "DATABASE_URL": (("postgres", "postgresql", "pgsql"), "postgres", 5432),
        "CELERY_BROKER_URL": (("redis",), "redis", 6379),
        "EMAIL_URL": (("smtp",), mail, 1025),
    }
    for name in APP_SERVICES:
        env = environment(services[name])
        for variable, (schemes, host, port) in expected.items():
            url = urlsplit(interpolate(env[variable]))
            assert url.scheme in schemes, f"{name} {variable}: scheme {url.scheme!r}"
            assert (url.hostname, url.port) == (host, port), f"{name} {variable}: {url.netloc}"


def test_app_services_wait_for_healthy_postgres_and_redis(services):
    for name in APP_SERVICES:
        depends_on = services[name].get("depends_on", {})
        for dependency in ("postgres", "redis"):
            assert depends_on.get(dependency, {}).get("condition") == "service_healthy", (
                f"{name} should wait for a healthy {dependency}"
            )


def test_every_env_example_variable_is_read_by_the_settings():
    unknown = env_example_variables() - settings_variables()
    assert not unknown, f".env.example documents variables settings.py never reads: {unknown}"


def test_every_variable_the_settings_read_is_documented_in_env_example():
    undocumented = settings_variables() - env_example_variables()
    assert not undocumented, f"add these to .env.example: {sorted(undocumented)}"
