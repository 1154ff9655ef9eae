"""The local demo's users and the login it prints (demo settings only)."""

from __future__ import annotations

from .permissions import ROLES


def demo_users() -> dict[str, list[str]]:
    """'demo' holds every role; then one user per role, named after it."""
    return {"demo": list(ROLES)} | {role.lower().replace(" ", "-"): [role] for role in ROLES}


def login_banner(*, password: str) -> str:
    single_role = ", ".join(name for name in demo_users() if name != "demo")
    return (
        "\n  Back-office: http://127.0.0.1:8000/\n"
        f"  Log in as 'demo' (every role) with password: {password}\n"
        f"  Single-role users with the same password: {single_role}\n"
        "  Sandbox (fake Licendi): http://127.0.0.1:8100/ with X-Api-Key: sandbox-demo-key\n"
    )
