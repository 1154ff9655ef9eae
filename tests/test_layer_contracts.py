"""The import-linter contracts cover every package and are the ones the architecture names.

`lint-imports` itself runs in `make contracts`; these tests keep its configuration honest:
a package missing from the root packages would be checked by no contract at all.
"""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOT_SHIPPED = {"tests", "bench", "scripts", "docs", "static", "templates"}


def importlinter_config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]


def project_packages() -> set[str]:
    return {
        path.parent.name
        for path in ROOT.glob("*/__init__.py")
        if path.parent.name not in NOT_SHIPPED and not path.parent.name.startswith(".")
    }


def test_every_project_package_is_a_root_package_of_the_contracts():
    assert project_packages() <= set(importlinter_config()["root_packages"])


def test_every_contract_is_listed_in_the_architecture_document():
    architecture = (ROOT / "docs" / "architecture.md").read_text()
    section = architecture.split("## Layers, enforced", 1)[1].split("\n## ", 1)[0]
    missing = [
        contract["id"]
        for contract in importlinter_config()["contracts"]
        if f"`{contract['id']}`" not in section
    ]
    assert missing == []
