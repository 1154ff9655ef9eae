"""Typed errors for every way a Licendi call can end badly.

The distinction that matters to callers is *definite refusal* versus *unknown
outcome*: an order may only be marked failed on a definite refusal (402/422);
after a timeout or a 5xx the order may exist upstream and must be retried with
the same Idempotency-Key or looked up. Messages never contain the API key.
"""

from __future__ import annotations

from typing import Any


class LicendiError(Exception):
    """Base class. `status`/`code` are None when no HTTP answer was received."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.method = method
        self.path = path
        # Set by the client: an earlier attempt of the same call may have been
        # processed upstream (it timed out or got a 5xx) before this error came.
        self.earlier_attempt_uncertain = False

    def __str__(self) -> str:
        where = f"{self.method} {self.path}: " if self.method and self.path else ""
        status = f"{self.status} " if self.status is not None else ""
        code = f"{self.code}: " if self.code else ""
        return f"{where}{status}{code}{self.message}"


class AuthenticationFailed(LicendiError):
    """401: the API key was refused. Retrying cannot help."""


class InsufficientBalance(LicendiError):
    """402: the wallet does not cover the order. Nothing was charged."""


class NotFound(LicendiError):
    """404: unknown product, order or webhook endpoint."""


class RequestInProgress(LicendiError):
    """409: an order with the same Idempotency-Key is still being processed."""


class Unprocessable(LicendiError):
    """422: upstream understood the request and refused it."""


class UnknownSku(Unprocessable):
    pass


class OutOfStock(Unprocessable):
    pass


class InvalidQuantity(Unprocessable):
    pass


class IdempotencyKeyReused(Unprocessable):
    """422: the Idempotency-Key was already used with a *different* body.

    An order under that key therefore exists upstream: this is not a refusal
    of the order, it is a sign our stored request changed (see is_definite_refusal).
    """


class _WithRetryAfter(LicendiError):
    """An answer that may carry a Retry-After hint (429, 503): `retry_after` in seconds."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        method: str | None = None,
        path: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status=status, code=code, method=method, path=path)
        self.retry_after = retry_after


class RateLimited(_WithRetryAfter):
    """429: slow down; `retry_after` is the server's hint in seconds, if given."""


class ServerError(_WithRetryAfter):
    """5xx: supplier fault. The outcome of a write is unknown."""


class TransportError(LicendiError):
    """No usable HTTP answer: timeout, refused/dropped connection.

    The outcome is UNKNOWN: a POST may have been processed upstream.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        method: str | None = None,
        path: str | None = None,
        timeout: bool = False,
        retryable: bool = True,
        request_sent: bool = True,
    ) -> None:
        super().__init__(message, status=status, code=code, method=method, path=path)
        self.timeout = timeout
        # False for failures no retry can fix (e.g. an unsupported URL scheme).
        self.retryable = retryable
        # False only when the request certainly never left (connect failed), which
        # makes even a non-idempotent call safe to repeat.
        self.request_sent = request_sent


class ContractError(LicendiError):
    """The answer is not in the shape this client relies on.

    `field` names the offending JSON field (dotted path) when there is one.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        method: str | None = None,
        path: str | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message, status=status, code=code, method=method, path=path)
        self.field = field
        # The decoded answer, secrets redacted, when the client had one (for quarantine).
        self.raw: Any = None


class UnreadableOrderAnswer(ContractError):
    """A 2xx answer to an order that names no order id the client can read.

    The order was accepted (and charged): it is never an unknown outcome. `raw` holds
    the answer as received (it may hold keys: store it encrypted, never log it).
    """

    def __init__(self, message: str, *, raw: bytes, status: int | None = None) -> None:
        super().__init__(message, status=status, method="POST", path="/api/orders")
        self.raw = raw


_BY_422_CODE: dict[str, type[Unprocessable]] = {
    "unknown_sku": UnknownSku,
    "out_of_stock": OutOfStock,
    "invalid_quantity": InvalidQuantity,
    "idempotency_key_reused": IdempotencyKeyReused,
}

_BY_STATUS: dict[int, type[LicendiError]] = {
    401: AuthenticationFailed,
    402: InsufficientBalance,
    404: NotFound,
    409: RequestInProgress,
    422: Unprocessable,
    429: RateLimited,
}


def error_for_status(
    status: int,
    *,
    code: str | None,
    message: str | None,
    method: str | None = None,
    path: str | None = None,
    retry_after: float | None = None,
) -> LicendiError:
    """Map an HTTP error answer to its exception.

    The status decides the family (so a non-JSON body still maps); within 422
    the error code picks the precise subclass.
    """
    text = message or f"HTTP {status}"
    if status == 429:
        return RateLimited(
            text, status=status, code=code, method=method, path=path, retry_after=retry_after
        )
    if status >= 500:
        return ServerError(
            text, status=status, code=code, method=method, path=path, retry_after=retry_after
        )
    cls: type[LicendiError] = _BY_STATUS.get(status, LicendiError)
    if status == 422 and code is not None:
        cls = _BY_422_CODE.get(code, Unprocessable)
    return cls(text, status=status, code=code, method=method, path=path)


def is_definite_refusal(exc: BaseException) -> bool:
    """True only when upstream certainly did NOT create (or charge) the order.

    402 and 422 qualify, except 422 idempotency_key_reused: that answer says an
    order under this key already exists upstream, so failing ours locally could
    lead to buying twice.
    """
    if isinstance(exc, IdempotencyKeyReused):
        return False
    return isinstance(exc, InsufficientBalance | Unprocessable)


def is_transient(exc: BaseException) -> bool:
    """True when the same request may succeed later (worth a retry with backoff)."""
    return isinstance(exc, TransportError | RateLimited | ServerError | RequestInProgress)
