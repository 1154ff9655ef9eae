"""The skeleton: login-protected layout, roles from the migration, settings guards."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from backoffice.permissions import ROLES

pytestmark = pytest.mark.django_db


def test_anonymous_user_is_sent_to_login():
    from django.test import Client

    response = Client().get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_login_page_renders_without_inline_script(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="username"' in body
    assert "<script>" not in body
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_roles_exist_with_their_permissions():
    for role, codenames in ROLES.items():
        group = Group.objects.get(name=role)
        assert sorted(group.permissions.values_list("codename", flat=True)) == sorted(codenames)


def test_layout_shows_navigation_for_a_viewer(client_for):
    client = client_for("Viewer")
    response = client.get(reverse("home"), follow=True)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Reseller back-office" in body
    assert "Log out" in body
