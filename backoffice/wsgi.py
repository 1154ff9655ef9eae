"""WSGI entry point for gunicorn: `gunicorn backoffice.wsgi`."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings.dev")
application = get_wsgi_application()
