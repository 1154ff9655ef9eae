"""The client address behind trusted proxies: read X-Forwarded-For from the right."""

import pytest
from django.test import RequestFactory

from backoffice.audit import client_ip


def _ip(settings, trusted, remote, forwarded=None):
    settings.TRUSTED_PROXIES = trusted
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_ip(RequestFactory().get("/", **meta))


@pytest.mark.parametrize(
    ("trusted", "remote", "forwarded", "expected"),
    [
        # No proxy configured: the TCP peer, whatever the header claims.
        ([], "203.0.113.5", "10.0.0.9", "203.0.113.5"),
        # One trusted proxy: the address it appended.
        (["10.0.0.1"], "10.0.0.1", "192.0.2.44", "192.0.2.44"),
        # The client's own forged entries sit left of the proxy's and are ignored.
        (["10.0.0.1"], "10.0.0.1", "1.1.1.1, 6.6.6.6, 192.0.2.44", "192.0.2.44"),
        # Two proxies in a trusted network: skip both.
        (["10.0.0.0/8"], "10.0.0.1", "192.0.2.44, 10.2.3.4", "192.0.2.44"),
        # A peer outside the trusted list is the client even if it sends the header.
        (["10.0.0.1"], "198.51.100.3", "192.0.2.44", "198.51.100.3"),
        # Garbage in the header stops the walk at the last trusted hop.
        (["10.0.0.1"], "10.0.0.1", "not-an-ip", "10.0.0.1"),
        (["10.0.0.1"], "10.0.0.1", "192.0.2.44, \x00bad", "10.0.0.1"),
        # Trusted proxy but no header: the proxy itself.
        (["10.0.0.1"], "10.0.0.1", None, "10.0.0.1"),
        # IPv6 and IPv4-mapped IPv6.
        (["::1"], "::1", "2001:db8::7", "2001:db8::7"),
        (["10.0.0.1"], "::ffff:10.0.0.1", "192.0.2.44", "192.0.2.44"),
    ],
)
def test_client_ip_believes_only_trusted_hops(settings, trusted, remote, forwarded, expected):
    assert _ip(settings, trusted, remote, forwarded) == expected


def test_no_remote_address_is_no_client_address(settings):
    assert _ip(settings, ["10.0.0.1"], "", "192.0.2.44") is None


def test_a_huge_forwarded_header_is_read_only_as_far_as_it_matters(settings):
    forwarded = ", ".join(["10.0.0.1"] * 10_000)
    assert _ip(settings, ["10.0.0.0/8"], "10.0.0.1", forwarded) == "10.0.0.1"


def test_a_trusted_proxies_entry_that_is_not_a_network_stops_the_start(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "TRUSTED_PROXIES": "10.0.0.0/8,proxy.example"}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={**env, "DJANGO_SETTINGS_MODULE": "backoffice.settings.test"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "TRUSTED_PROXIES holds 'proxy.example'" in result.stderr
