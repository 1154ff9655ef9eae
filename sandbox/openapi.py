"""Locate the project's OpenAPI document (``licendi/openapi.yaml``).

The sandbox serves the contract the client is written against, but must not import
the client package: ``find_spec`` locates an installed ``licendi`` without running
its code, and the checkout layout is the fallback.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

FILENAME = "openapi.yaml"


def spec_path() -> Path | None:
    candidates: list[Path] = []
    try:
        spec = importlib.util.find_spec("licendi")
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.submodule_search_locations:
        candidates.extend(Path(p) / FILENAME for p in spec.submodule_search_locations)
    candidates.append(Path(__file__).resolve().parent.parent / "licendi" / FILENAME)
    for path in candidates:
        if path.is_file():
            return path
    return None


def load_text() -> str | None:
    path = spec_path()
    return path.read_text(encoding="utf-8") if path is not None else None
