"""The domain errors raised by the orders services.

Kept apart so every service module, the views and the tasks can catch them without
importing any action. The message of an OrdersError is shown to staff as is.
"""

from __future__ import annotations


class OrdersError(Exception):
    """A request the current state does not allow; the message is shown to staff."""


class KeyEmailNotSent(OrdersError):
    """The mail backend did not take the e-mail of keys (recorded in the audit log)."""


class PurchaseOrderNotFound(OrdersError):
    pass


class InvalidState(OrdersError):
    pass


class FourEyesViolation(OrdersError):
    pass


class UnknownCombination(OrdersError):
    pass


class SubmissionOutcomeUnknown(OrdersError):
    """The order may or may not exist upstream; retry later with the same key."""
