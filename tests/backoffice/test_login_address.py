"""Django's default login address leads to the login page, keeping where to go next."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_accounts_login_redirects_to_the_login_page_with_next():
    response = Client().get("/accounts/login/?next=/wallet/")
    assert response.status_code == 301
    assert response["Location"] == "/login/?next=/wallet/"


def test_accounts_login_ends_on_the_login_form():
    response = Client().get("/accounts/login/", follow=True)
    assert response.status_code == 200
    assert 'name="username"' in response.content.decode()
