"""Sending mail that may carry licence keys: a failure is a reason, never a crash.

The mail server is another system: it may refuse the sender, be down, time out, or be
misconfigured. `mail_send` turns each of those into MailNotSent with a reason that is
safe to show to staff and to store in the audit log (secrets redacted, no key).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.core.mail import EmailMessage

from .logging import redact

logger = logging.getLogger(__name__)


class MailNotSent(Exception):
    """The message was not accepted by the configured mail backend; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _reason(exc: BaseException, hide: Iterable[str]) -> str:
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    for value in hide:
        if value:
            text = text.replace(value, "[redacted]")
    return redact(text)[:500]


def mail_send(message: EmailMessage, *, hide: Iterable[str] = ()) -> None:
    """Send one message; raise MailNotSent on any failure of the backend.

    `hide`: values (the licence keys in the body) that must not appear in the reason even
    if a server echoes the message back in its error.
    """
    try:
        sent = message.send(fail_silently=False)
    except Exception as exc:
        # Deliberately broad: SMTP errors, OSError (refused, timeout, TLS), a misconfigured
        # backend (ImproperlyConfigured, TypeError, ValueError) are all "not sent".
        reason = _reason(exc, list(hide))
        logger.warning("mail to %d recipient(s) not sent: %s", len(message.recipients()), reason)
        raise MailNotSent(reason) from None
    if not sent:
        raise MailNotSent("the mail backend accepted no message")
