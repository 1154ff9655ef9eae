"""Webhook deliveries: a queue, Standard Webhooks signatures, retries with backoff.

Each (event, endpoint) pair is one delivery. It is signed at every attempt (a fresh
``webhook-timestamp``, the same ``webhook-id`` = event id, so receivers can
deduplicate) and retried on a non-2xx answer or a transport error, with exponential
backoff, up to ``max_attempts``. Sending happens outside the state lock: a receiver
that calls back into the sandbox while handling a webhook must not deadlock.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from standardwebhooks.webhooks import Webhook

from .money import iso, utcnow

logger = logging.getLogger("sandbox.webhooks")

Sender = Callable[[str, dict[str, str], bytes], int]


def http_sender(url: str, headers: dict[str, str], body: bytes) -> int:
    """Default sender: a plain POST with a 5 s timeout."""
    response = httpx.post(url, content=body, headers=headers, timeout=5.0)
    return response.status_code


def sign(secret: str, event_id: str, body: str) -> dict[str, str]:
    """Standard Webhooks headers for one attempt."""
    now = utcnow()
    return {
        "content-type": "application/json",
        "user-agent": "Licendi-Sandbox-Webhooks/1.0",
        "webhook-id": event_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(event_id, now, body),
    }


@dataclass(slots=True)
class Delivery:
    event_id: str
    event_type: str
    endpoint_id: str
    url: str
    secret: str
    body: str
    attempts: int = 0
    due: float = 0.0  # time.monotonic() of the next attempt
    in_flight: bool = False


class DeliveryQueue:
    def __init__(
        self,
        *,
        lock: threading.RLock,
        send: Sender,
        endpoint_active: Callable[[str], bool],
        max_attempts: int = 6,
        backoff: float = 1.0,
    ) -> None:
        self._lock = lock
        self._send = send
        self._endpoint_active = endpoint_active
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.duplicate_next = 0
        self.log: list[dict[str, Any]] = []
        self._queue: list[Delivery] = []
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def enqueue(self, event: dict[str, Any], endpoints: list[tuple[str, str, str]]) -> None:
        """Queue one delivery per (endpoint id, url, secret) subscribed to the event."""
        body = json.dumps(event, separators=(",", ":"))
        now = time.monotonic()
        with self._lock:
            for endpoint_id, url, secret in endpoints:
                self._queue.append(
                    Delivery(event["id"], event["type"], endpoint_id, url, secret, body, due=now)
                )
        self._wake.set()

    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    def deliver(self, *, only_due: bool) -> int:
        """Attempt queued deliveries once each; returns how many got a 2xx answer.

        ``only_due=False`` ignores the backoff schedule (tests flush synchronously).
        """
        now = time.monotonic()
        with self._lock:
            batch = [d for d in self._queue if not d.in_flight and (not only_due or d.due <= now)]
            for delivery in batch:
                delivery.in_flight = True
        delivered = 0
        for delivery in batch:
            if self._attempt(delivery):
                delivered += 1
        return delivered

    def _attempt(self, delivery: Delivery) -> bool:
        if not self._endpoint_active(delivery.endpoint_id):
            # A deleted endpoint gets nothing more, as with real providers.
            with self._lock:
                self._queue.remove(delivery)
            return False
        with self._lock:
            copies = 2 if self.duplicate_next > 0 else 1
            if copies == 2:
                self.duplicate_next -= 1
            delivery.attempts += 1
            attempt = delivery.attempts
        ok = False
        for _ in range(copies):
            status, error = None, None
            try:
                headers = sign(delivery.secret, delivery.event_id, delivery.body)
                status = self._send(delivery.url, headers, delivery.body.encode())
            except Exception as exc:  # any sender failure is a failed attempt, retried
                error = f"{type(exc).__name__}: {exc}"
            ok = status is not None and 200 <= status < 300
            self._record(delivery, attempt, status, error)
        with self._lock:
            delivery.in_flight = False
            if ok or delivery.attempts >= self.max_attempts:
                self._queue.remove(delivery)
                if not ok:
                    logger.warning(
                        "giving up on %s to %s after %d attempts",
                        delivery.event_id,
                        delivery.url,
                        delivery.attempts,
                    )
            else:
                delivery.due = time.monotonic() + self.backoff * 2 ** (delivery.attempts - 1)
        return ok

    def _record(
        self, delivery: Delivery, attempt: int, status: int | None, error: str | None
    ) -> None:
        entry = {
            "eventId": delivery.event_id,
            "eventType": delivery.event_type,
            "endpointId": delivery.endpoint_id,
            "url": delivery.url,
            "attempt": attempt,
            "status": status,
            "error": error,
            "at": iso(utcnow()),
        }
        with self._lock:
            self.log.append(entry)
        logger.info(
            "webhook %s %s -> %s attempt %d: %s",
            delivery.event_type,
            delivery.event_id,
            delivery.url,
            attempt,
            status if error is None else error,
        )

    # --- background thread ----------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="sandbox-webhooks", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self.deliver(only_due=True)
            except Exception:  # keep delivering whatever a single attempt did
                logger.exception("webhook delivery loop error")
            with self._lock:
                dues = [d.due for d in self._queue if not d.in_flight]
            wait = max(0.0, min(dues) - time.monotonic()) if dues else 1.0
            self._wake.wait(min(wait, 1.0))
