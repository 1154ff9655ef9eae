"""Fixtures for the Licendi client tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.licendi.fakes import ClientFactory


@pytest.fixture
def make_client() -> Iterator[ClientFactory]:
    factory = ClientFactory()
    yield factory
    for client in factory.clients:
        client.close()
