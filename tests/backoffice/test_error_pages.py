"""Error pages show the request id and nothing about the failure."""

import pytest

from backoffice.logging import JsonFormatter

from .urls_with_failures import SECRET_IN_ERROR

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.backoffice.urls_with_failures")]

REQUEST_ID = "err-req-0123456789"


@pytest.mark.parametrize(
    ("path", "status", "title"),
    [
        ("/__boom__/", 500, "Server error"),
        ("/__forbidden__/", 403, "Forbidden"),
        ("/__suspicious__/", 400, "Bad request"),
        ("/no-such-page/", 404, "Page not found"),
    ],
)
def test_error_page_shows_the_request_id_only(client_for, path, status, title):
    client = client_for("Admin")
    client.raise_request_exception = False

    response = client.get(path, HTTP_X_REQUEST_ID=REQUEST_ID)

    assert response.status_code == status
    body = response.content.decode()
    assert title in body
    assert REQUEST_ID in body
    assert SECRET_IN_ERROR not in body
    assert "ABCDE-FGHIJ-KLMNO-PQRST" not in body
    assert "Traceback" not in body
    assert "no-such-page" not in body
    assert "<script>" not in body


def test_the_500_page_needs_no_database(client_for, monkeypatch):
    """Rendered without context processors: the navigation and banner query the database."""
    from backoffice import errors

    client = client_for("Admin")
    client.raise_request_exception = False

    def no_queries(*args, **kwargs):
        raise AssertionError("the 500 page touched the database")

    from django.db import connection

    response = None
    with connection.execute_wrapper(lambda *a: no_queries()):
        response = errors.server_error(type("R", (), {"request_id": REQUEST_ID})())
    assert response.status_code == 500
    assert REQUEST_ID in response.content.decode()


def test_the_failure_is_logged_with_the_request_id_and_redacted(client_for, caplog):
    client = client_for("Admin")
    client.raise_request_exception = False
    client.get("/__boom__/", HTTP_X_REQUEST_ID=REQUEST_ID)
    records = [r for r in caplog.records if r.name == "django.request"]
    assert records
    assert records[-1].request_id == REQUEST_ID
    line = JsonFormatter().format(records[-1])
    assert "RuntimeError" in line
    assert SECRET_IN_ERROR not in line
    assert "ABCDE-FGHIJ-KLMNO-PQRST" not in line
