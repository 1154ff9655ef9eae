"""Models of the wallet app."""

from django.db import models  # noqa: F401
