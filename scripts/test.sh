#!/usr/bin/env bash
# Install and run the whole test suite. Without DATABASE_URL it runs on SQLite; with
# DATABASE_URL=postgres://... (and REDIS_URL, CELERY_BROKER_URL) on the real services.
source "$(dirname "$0")/bootstrap.sh"
export APP_ENV=test
exec .venv/bin/python -m pytest "$@"
