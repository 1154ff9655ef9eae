"""Injected failures: what an unreliable supplier and network do to a client.

A fault matches a method and a path (exact, or a prefix ending in ``*``; a path with a
``?`` is matched with the query string as sent, e.g. ``/api/products?page=2&*``) and fires
``times`` times (``None``: until cleared). Kinds:

``status``        answer ``status`` (default 500) with a JSON error body, unprocessed.
``rate_limit``    answer 429 ``rate_limited`` with ``Retry-After: retry_after``.
``latency``       sleep ``seconds``, then serve normally. With ``when="during"`` the
                  sleep happens *inside* processing: for POST /api/orders after the
                  Idempotency-Key is claimed, which is how a test holds a request
                  open to provoke 409 ``request_in_progress``.
``drop``          the connection is dropped before processing (in-process:
                  ``httpx.RemoteProtocolError``).
``timeout``       no answer before processing (in-process: ``httpx.ReadTimeout``; on a
                  socket the server waits ``seconds`` (default 30) then closes).
``timeout_after`` the request IS processed, then the client gets no answer
                  (in-process: ``httpx.ReadTimeout``; on a socket the connection is
                  closed without a response).
"""

from __future__ import annotations

import contextlib
import itertools
import random
import socket
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any

KINDS = ("status", "rate_limit", "latency", "drop", "timeout", "timeout_after")
WHEN = ("before", "during")


class ConnectionDropped(ConnectionAbortedError):
    """Raised by the app to end a request without a response.

    It subclasses ``ConnectionError`` because werkzeug's server treats that as a
    dropped connection (no 500 page is written); the in-process transport turns it
    into the matching httpx exception. ``kind`` is ``"drop"`` or ``"timeout"``.
    """

    def __init__(self, kind: str) -> None:
        super().__init__(f"sandbox fault: {kind}")
        self.kind = kind


@dataclass(slots=True)
class Fault:
    id: int
    method: str
    path: str
    kind: str
    status: int = 500
    retry_after: int = 1
    seconds: float = 0.0
    times: int | None = 1
    when: str = "before"
    hits: int = 0

    def matches(self, method: str, path: str, query: str = "") -> bool:
        if self.method not in ("*", method):
            return False
        # A fault naming a query ("/api/products?page=2&*") is matched against the query
        # string as sent, so that one page of a listing can be made to fail.
        target = (f"{path}?{query}" if query else path) if "?" in self.path else path
        if self.path.endswith("*"):
            return target.startswith(self.path[:-1])
        return target == self.path

    def to_api(self) -> dict[str, Any]:
        body = asdict(self)
        body["retryAfter"] = body.pop("retry_after")
        return body


class Faults:
    """The active faults, plus optional random faults for soak runs and demos."""

    def __init__(
        self,
        *,
        latency: float = 0.0,
        fail_rate: float = 0.0,
        rate_limit_rate: float = 0.0,
        seed: int = 0,
    ) -> None:
        self.latency = latency
        self.fail_rate = fail_rate
        self.rate_limit_rate = rate_limit_rate
        self._random = random.Random(seed)
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def inject(
        self,
        *,
        method: str = "*",
        path: str,
        kind: str,
        status: int = 500,
        retry_after: int = 1,
        seconds: float | None = None,
        times: int | None = 1,
        when: str = "before",
    ) -> Fault:
        """Add a fault; returns it (its ``hits`` counts how often it fired)."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}")
        if when not in WHEN:
            raise ValueError(f"when must be one of {', '.join(WHEN)}")
        if when == "during" and kind != "latency":
            raise ValueError('when="during" is only meaningful for kind="latency"')
        if not path.startswith("/"):
            raise ValueError("path must start with /")
        if kind == "status" and not 400 <= status <= 599:
            raise ValueError("status must be an HTTP error status (400-599)")
        if times is not None and times < 1:
            raise ValueError("times must be a positive integer or None")
        if retry_after < 0:
            raise ValueError("retry_after must not be negative")
        if seconds is None:
            seconds = 30.0 if kind == "timeout" else 1.0 if kind == "latency" else 0.0
        if seconds < 0:
            raise ValueError("seconds must not be negative")
        fault = Fault(
            id=next(self._ids),
            method=method.upper(),
            path=path,
            kind=kind,
            status=status,
            retry_after=retry_after,
            seconds=seconds,
            times=times,
            when=when,
        )
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def active(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def take(
        self, method: str, path: str, *, when: str = "before", query: str = ""
    ) -> Fault | None:
        """The first matching fault for this stage, consumed once."""
        with self._lock:
            for fault in self._faults:
                if fault.when == when and fault.matches(method, path, query):
                    fault.hits += 1
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times == 0:
                            self._faults.remove(fault)
                    return fault
        return None

    def pace(self) -> None:
        """The base latency every /api call pays (``--latency-ms``), outside every lock."""
        if self.latency:
            time.sleep(self.latency)

    def take_random(self) -> Fault | None:
        """Background noise configured on the command line (``--fail-rate`` etc.)."""
        if not (self.fail_rate or self.rate_limit_rate):
            return None
        with self._lock:
            draw = self._random.random()
            status = self._random.choice((500, 502, 503))
        if draw < self.rate_limit_rate:
            return Fault(id=0, method="*", path="*", kind="rate_limit", retry_after=1)
        if draw < self.rate_limit_rate + self.fail_rate:
            return Fault(id=0, method="*", path="*", kind="status", status=status)
        return None

    def hold(self, method: str, path: str) -> None:
        """Apply a ``when="during"`` latency fault, if one matches."""
        fault = self.take(method, path, when="during")
        if fault is not None:
            time.sleep(fault.seconds)


def abort_connection(environ: dict[str, Any], kind: str, seconds: float = 0.0) -> None:
    """End the request without a response (see :class:`ConnectionDropped`).

    On a real socket (werkzeug exposes it as ``werkzeug.socket``) the socket is shut
    down so the client sees a closed connection; a ``timeout`` first waits
    ``seconds`` so that a client with a shorter timeout times out.
    """
    sock = environ.get("werkzeug.socket")
    if sock is not None:
        if kind == "timeout" and seconds:
            time.sleep(seconds)
        # The client may already have gone.
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    raise ConnectionDropped(kind)
