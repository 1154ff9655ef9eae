"""Production settings refuse to start without their secrets and pass `check --deploy`."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = {
    "SECRET_KEY": "prod-test-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP",
    "FIELD_ENCRYPTION_KEYS": "Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyMDA=",
    "KEY_HASH_SECRET": "prod-test-hash-secret",
    "LICENDI_API_KEY": "prod-test-api-key",
    "ALLOWED_HOSTS": "backoffice.example",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/backoffice",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    # The test process's own switches (e.g. DJANGO_ALLOW_ASYNC_UNSAFE, set while a browser
    # test runs) are not part of a production start.
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in REQUIRED and not k.startswith(("DJANGO_", "PYTEST_"))
    }
    base["DJANGO_SETTINGS_MODULE"] = "backoffice.settings.production"
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=base | env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_without_any_secret_it_refuses_naming_every_missing_variable(tmp_path):
    # An empty .env would not matter: OS variables are what is checked.
    result = _manage("check", env={})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    for name in REQUIRED:
        assert name in result.stderr


@pytest.mark.parametrize(
    "missing", ["SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "LICENDI_API_KEY", "ALLOWED_HOSTS"]
)
def test_one_missing_secret_is_named_alone(missing):
    env = {k: v for k, v in REQUIRED.items() if k != missing}
    result = _manage("check", env=env)
    assert result.returncode != 0
    message = result.stderr.strip().splitlines()[-1]
    assert message.endswith(f"environment variables: {missing}")


def test_with_the_secrets_set_the_deploy_checks_pass_at_warning_level():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=REQUIRED)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_debug_is_off_and_cookies_are_secure_whatever_the_environment_says():
    code = (
        "from django.conf import settings as s;"
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE,"
        " s.SECURE_HSTS_SECONDS >= 31536000, s.SECURE_SSL_REDIRECT, s.SECURE_PROXY_SSL_HEADER)"
    )
    result = _manage("shell", "-c", code, env=REQUIRED | {"DEBUG": "true"})
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout.strip().splitlines()[-1]
        == "False True True True True ('HTTP_X_FORWARDED_PROTO', 'https')"
    )


def test_ssl_redirect_and_proxy_header_are_configurable_for_the_proxy_in_front():
    code = (
        "from django.conf import settings as s;"
        "print(s.SECURE_SSL_REDIRECT, s.SECURE_PROXY_SSL_HEADER)"
    )
    env = REQUIRED | {"SECURE_SSL_REDIRECT": "false", "SECURE_PROXY_SSL_HEADER": ""}
    result = _manage("shell", "-c", code, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False None"
