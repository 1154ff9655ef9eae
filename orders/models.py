"""Models of the orders app."""

from django.db import models  # noqa: F401
