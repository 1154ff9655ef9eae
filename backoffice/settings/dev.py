"""Local demo settings: SQLite, the embedded file-system broker, the sandbox upstream.

Secrets the demo needs are generated once into var/dev-secrets.json so that no key
is written in the code and the demo still works on a fresh machine.
"""

import json
import secrets

from cryptography.fernet import Fernet

from .base import *  # noqa: F403
from .base import VAR_DIR, env

# The demo shows what staff see, the project's own error pages included; DEBUG=true gives
# Django's debug pages instead (their inline styles are refused by the CSP).
DEBUG = env.bool("DEBUG", default=False)
# Static files straight from the source folders, as runserver would serve them with DEBUG,
# so the demo needs no collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True


def _local_secrets() -> dict[str, str]:
    path = VAR_DIR / "dev-secrets.json"
    if path.exists():
        stored: dict[str, str] = json.loads(path.read_text())
        return stored
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    values = {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "KEY_HASH_SECRET": secrets.token_urlsafe(32),
        "DEMO_PASSWORD": secrets.token_urlsafe(9),
    }
    path.write_text(json.dumps(values))
    path.chmod(0o600)
    return values


_secrets = _local_secrets()
SECRET_KEY = env.str("SECRET_KEY", default=_secrets["SECRET_KEY"])
FIELD_ENCRYPTION_KEYS = env.list(
    "FIELD_ENCRYPTION_KEYS", default=[_secrets["FIELD_ENCRYPTION_KEYS"]]
)
KEY_HASH_SECRET = env.str("KEY_HASH_SECRET", default=_secrets["KEY_HASH_SECRET"])
LICENDI_API_KEY = env.str("LICENDI_API_KEY", default="sandbox-demo-key")
DEMO_PASSWORD = _secrets.get("DEMO_PASSWORD", "")

# The embedded broker's folders must exist before web, worker or beat start.
for _folder in ("celery/queue", "celery/processed", "celery/control", "cache"):
    (VAR_DIR / _folder).mkdir(parents=True, exist_ok=True)

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(VAR_DIR / "cache"),
    }
}
