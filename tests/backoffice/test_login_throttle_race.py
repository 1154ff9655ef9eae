"""Concurrent guesses: at most the limit of passwords is ever evaluated."""

import threading

import pytest
from django.contrib.auth.signals import user_login_failed
from django.db import connection
from django.test import Client
from django.urls import reverse

from backoffice.models import LoginThrottle
from tests.conftest import make_user

GUESSES = 30


@pytest.mark.django_db(transaction=True)
def test_thirty_concurrent_guesses_evaluate_at_most_the_limit_of_passwords(settings):
    settings.LOGIN_FAILURE_LIMIT = 10
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 100
    make_user("target", "Viewer", password="the-real-password-1")
    evaluated: list[str] = []
    lock = threading.Lock()

    def count(sender, credentials, **kwargs):
        with lock:
            evaluated.append(credentials.get("username", ""))

    user_login_failed.connect(count, dispatch_uid="test-count-evaluations")
    barrier = threading.Barrier(GUESSES)
    statuses: list[int] = []

    def guess(n: int) -> None:
        try:
            barrier.wait()
            response = Client().post(
                reverse("login"),
                {"username": "target", "password": f"guess-{n}"},
                REMOTE_ADDR="198.51.100.77",
            )
            with lock:
                statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(GUESSES)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        user_login_failed.disconnect(dispatch_uid="test-count-evaluations")

    assert statuses == [200] * GUESSES
    assert len(evaluated) <= 10
    pair = LoginThrottle.objects.get(scope=LoginThrottle.Scope.PAIR, username="target")
    assert pair.failures == len(evaluated) == 10
    # The refused attempts were not counted against the address either.
    address = LoginThrottle.objects.get(scope=LoginThrottle.Scope.ADDRESS)
    assert address.failures == 10
