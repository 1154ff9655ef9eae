"""The one error type the sandbox raises for a refused request.

State and catalog code raise :class:`ApiError`; the HTTP layer turns it into the
contract's ``{"error": {"code", "message"}}`` body, and the Python interface lets it
propagate so tests can assert on ``.status`` and ``.code``.
"""

from __future__ import annotations


class ApiError(Exception):
    """A refusal with an HTTP status and a stable machine-readable code."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def body(self) -> dict[str, dict[str, str]]:
        return {"error": {"code": self.code, "message": self.message}}
