"""GET /api/openapi serves the project's contract document."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

import sandbox.openapi

DOCUMENT = "openapi: 3.1.0\ninfo:\n  title: Licendi Reseller API\n  version: '1'\npaths: {}\n"


@pytest.fixture
def spec_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "openapi.yaml"
    monkeypatch.setattr(sandbox.openapi, "spec_path", lambda: path if path.exists() else None)
    return path


def test_missing_document_is_503(api: httpx.Client, spec_file: Path) -> None:
    response = api.get("/api/openapi")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "openapi_unavailable"


def test_document_as_yaml_and_as_json(api: httpx.Client, spec_file: Path) -> None:
    spec_file.write_text(DOCUMENT)
    response = api.get("/api/openapi")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/yaml")
    assert response.text == DOCUMENT
    as_json = api.get("/api/openapi", headers={"Accept": "application/json"})
    assert as_json.headers["content-type"].startswith("application/json")
    assert as_json.json()["openapi"] == "3.1.0"


def test_the_project_document_is_found_when_present(api: httpx.Client) -> None:
    if sandbox.openapi.spec_path() is None:
        pytest.skip("licendi/openapi.yaml is not in this checkout yet")
    body = api.get("/api/openapi", headers={"Accept": "application/json"}).json()
    assert "/api/products" in body["paths"]
