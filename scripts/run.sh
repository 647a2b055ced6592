#!/usr/bin/env bash
# Install, migrate, seed demo data and serve on http://127.0.0.1:8000 (SQLite, no Redis,
# tasks run eagerly in-process). Re-running is safe: migrations and the seed are idempotent.
source "$(dirname "$0")/bootstrap.sh"
export APP_ENV=${APP_ENV:-development}
.venv/bin/python manage.py migrate --noinput
.venv/bin/python manage.py seed
exec .venv/bin/python manage.py runserver "${BIND:-127.0.0.1:8000}"
