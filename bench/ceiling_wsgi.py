"""The benchmark's ceiling: a bare Django JSON view under the project's own settings.

Same settings module, same middleware stack, same gunicorn.conf.py; only the URLconf differs,
so the gap between this and an API endpoint is what the endpoint itself costs.

    gunicorn bench.ceiling_wsgi:application -c gunicorn.conf.py
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "veza.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402

settings.ROOT_URLCONF = "bench.ceiling_urls"
application = get_wsgi_application()
