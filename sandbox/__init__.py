"""A stateful stand-in for the Licendi Reseller API (the project's own stripe-mock).

``Sandbox`` is usable in-process (``sb.transport()`` for httpx) and on a port
(``python -m sandbox``). It is an independent peer of the ``licendi`` client: it
shares the contract (``licendi/openapi.yaml``, served at ``/api/openapi``), not code.
"""

from .core import Sandbox
from .errors import ApiError
from .faults import Fault

__all__ = ["ApiError", "Fault", "Sandbox"]
