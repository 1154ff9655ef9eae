"""Mail configured from the environment only; a failed send is a message and an audit row."""

import os
import subprocess
import sys
from email import message_from_bytes
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.core import mail
from django.test import Client
from django.urls import reverse

from backoffice import crypto
from backoffice.models import AuditEvent
from backoffice.settings import base
from orders.models import LicenceKey
from tests.orders.factories import CustomerFactory, DraftFactory

KEY = "MAILK-EYSAA-BBBBB-CCCCC-DDDDD"
EMAIL_VARIABLES = (
    "EMAIL_URL",
    "EMAIL_BACKEND",
    "EMAIL_HOST",
    "EMAIL_PORT",
    "EMAIL_HOST_USER",
    "EMAIL_HOST_PASSWORD",
    "EMAIL_USE_TLS",
    "EMAIL_USE_SSL",
    "EMAIL_FILE_PATH",
    "EMAIL_TIMEOUT",
)


@pytest.fixture
def environment(monkeypatch):
    """Set mail variables for one test; nothing else of the environment leaks in."""
    for name in EMAIL_VARIABLES:
        monkeypatch.delenv(name, raising=False)

    def _set(**values: str):
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    return _set


def _settings_in_a_fresh_process(settings_module: str, **variables: str) -> dict[str, str]:
    """Load the settings module in a new interpreter with only these mail variables."""
    env = {k: v for k, v in os.environ.items() if k not in EMAIL_VARIABLES}
    env.update(variables, DJANGO_SETTINGS_MODULE=settings_module)
    code = (
        "from django.conf import settings\n"
        "for n in ('EMAIL_BACKEND','EMAIL_HOST','EMAIL_PORT','EMAIL_HOST_USER',"
        "'EMAIL_HOST_PASSWORD','EMAIL_USE_TLS','EMAIL_USE_SSL','EMAIL_FILE_PATH'):\n"
        "    print(n, getattr(settings, n))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return dict(line.split(" ", 1) for line in result.stdout.splitlines())


def test_email_url_configures_smtp_and_individual_variables_win():
    loaded = _settings_in_a_fresh_process(
        "backoffice.settings.dev",
        EMAIL_URL="smtp+tls://mailer:p%40ss%2Fword@smtp.example.com:587",
        EMAIL_PORT="2525",
    )

    assert loaded["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert loaded["EMAIL_HOST"] == "smtp.example.com"
    assert loaded["EMAIL_PORT"] == "2525"
    assert loaded["EMAIL_HOST_USER"] == "mailer"
    assert loaded["EMAIL_HOST_PASSWORD"] == "p@ss/word"
    assert loaded["EMAIL_USE_TLS"] == "True"


def test_the_demo_writes_mail_to_files_under_var_and_never_to_the_console():
    loaded = _settings_in_a_fresh_process("backoffice.settings.dev")

    assert loaded["EMAIL_BACKEND"] == "django.core.mail.backends.filebased.EmailBackend"
    assert loaded["EMAIL_FILE_PATH"].endswith("/var/mail")


def test_production_refuses_the_console_backend_that_would_log_keys(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in EMAIL_VARIABLES}
    env.update(
        DJANGO_SETTINGS_MODULE="backoffice.settings.production",
        SECRET_KEY="x" * 60,
        FIELD_ENCRYPTION_KEYS="k",
        KEY_HASH_SECRET="k",
        LICENDI_API_KEY="k",
        ALLOWED_HOSTS="h",
        DATABASE_URL="postgres://u@127.0.0.1/x",
        REDIS_URL="redis://127.0.0.1:6379/0",
        EMAIL_URL="consolemail://",
    )
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "console backend, which writes licence keys into the logs" in result.stderr


def test_tls_and_ssl_together_are_refused(environment):
    from django.core.exceptions import ImproperlyConfigured

    environment(EMAIL_URL="smtp+ssl://h:465", EMAIL_USE_TLS="true")
    with pytest.raises(ImproperlyConfigured, match="exclude each other"):
        base.email_config("memorymail://")


# ------------------------------------------------- sending the keys of a customer


@pytest.fixture
def customer_with_key(db):
    customer = CustomerFactory()
    LicenceKey.objects.create(
        purchase_order=DraftFactory(),
        order_sku="13200::0-0",
        name="Office",
        **crypto.key_columns(KEY),
        customer=customer,
        source=LicenceKey.Source.IMPORT,
    )
    return customer


@pytest.fixture
def custodian(client_for) -> Client:
    return client_for("Key custodian")


def _use_environment_mail(settings, environment, **variables: str) -> None:
    """Apply what the settings module would read from these variables, and only that."""
    environment(**variables)
    for name, value in base.email_config("memorymail://").items():
        setattr(settings, name, value)


def _email_keys(custodian: Client, customer) -> str:
    response = custodian.post(
        reverse("orders:customer_keys_email", args=[customer.pk]), follow=True
    )
    assert response.status_code == 200
    return response.content.decode()


def test_keys_go_out_through_the_file_backend_set_by_environment(
    settings, environment, customer_with_key, custodian, tmp_path
):
    _use_environment_mail(settings, environment, EMAIL_URL=f"filemail:///{tmp_path}/outbox")

    page = _email_keys(custodian, customer_with_key)

    assert "1 key(s) emailed" in page
    files = list(Path(tmp_path, "outbox").iterdir())
    assert len(files) == 1
    assert KEY in files[0].read_text()
    assert LicenceKey.objects.get().emailed_at is not None


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server():
    import socket

    with socket.socket() as probe:  # aiosmtpd's Controller needs a concrete port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield controller, inbox
    finally:
        controller.stop()


def test_keys_go_out_through_smtp_set_by_environment(
    settings, environment, customer_with_key, custodian, smtp_server
):
    controller, inbox = smtp_server
    port = controller.port
    _use_environment_mail(settings, environment, EMAIL_URL=f"smtp://127.0.0.1:{port}")

    page = _email_keys(custodian, customer_with_key)

    assert "1 key(s) emailed" in page
    ((sender, recipients, content),) = inbox.messages
    assert recipients == [customer_with_key.email]
    assert sender == settings.DEFAULT_FROM_EMAIL
    assert KEY in message_from_bytes(content).get_payload()


@pytest.mark.parametrize(
    "variables",
    [
        {"EMAIL_URL": "smtp://127.0.0.1:1"},  # nothing listens: connection refused
        {
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": "/dev/null/not-a-dir",
        },
    ],
    ids=["smtp-refused", "file-path-unusable"],
)
def test_a_failed_send_is_shown_recorded_on_the_customer_and_audited_never_a_500(
    settings, environment, customer_with_key, custodian, variables
):
    _use_environment_mail(settings, environment, **variables)

    page = _email_keys(custodian, customer_with_key)

    assert "was not sent" in page
    assert 'id="key-email-failures"' in page
    event = AuditEvent.objects.get(action=AuditEvent.Action.KEY_EMAIL_FAILED)
    assert event.target_id == str(customer_with_key.pk)
    assert event.details["error"]
    assert KEY not in f"{event.summary} {event.details}"
    assert KEY not in page
    assert LicenceKey.objects.get().emailed_at is None
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.KEY_EMAIL).exists()
    customer_page = custodian.get(customer_with_key.get_absolute_url()).content.decode()
    assert event.details["error"][:20] in customer_page


def test_the_locmem_backend_of_the_tests_is_untouched(settings):
    assert settings.EMAIL_BACKEND == "django.core.mail.backends.locmem.EmailBackend"
    assert mail.outbox == []


def test_the_mail_password_and_keys_never_reach_a_log_line_or_a_failure_reason(settings):
    from backoffice.logging import redact
    from backoffice.mail import MailNotSent, mail_send

    settings.EMAIL_HOST_PASSWORD = "smtp-app-password-123"
    assert "smtp-app-password-123" not in redact("login failed for smtp-app-password-123")

    class Echoing(mail.EmailMessage):
        def send(self, fail_silently: bool = False) -> int:
            raise OSError(f"550 rejected: {self.body} (auth smtp-app-password-123)")

    with pytest.raises(MailNotSent) as refused:
        mail_send(Echoing(body=f"your key {KEY}", to=["a@example.com"]), hide=[KEY])
    assert KEY not in refused.value.reason
    assert "smtp-app-password-123" not in refused.value.reason
    assert refused.value.reason.startswith("OSError: 550 rejected")
