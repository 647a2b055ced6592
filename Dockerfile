# syntax=docker/dockerfile:1
# Veza API image: one image for web (gunicorn), worker and beat (celery) and migrations.
#   docker build -t veza-api .
#   docker run --env-file .env -p 8000:8000 veza-api
ARG PYTHON_IMAGE=python:3.11-slim

# --- builder: the dependencies in a virtualenv (compilers stay in this stage) ---------------
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH
WORKDIR /build
RUN python -m venv /opt/venv
# Only pyproject.toml first: the dependency layer is rebuilt when dependencies change, not on
# every source edit. The project itself is not installed: it runs from /app (BASE_DIR, where
# templates/ and manage.py live).
COPY pyproject.toml ./
RUN python -c "import tomllib; deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; open('requirements.txt', 'w').write('\n'.join(deps) + '\n')" \
 && pip install -r requirements.txt

# --- runtime ------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
ENV VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    APP_ENV=production \
    PORT=8000 \
    STATIC_ROOT=/app/var/static \
    UPLOAD_DIR=/app/media
# Chromaprint's fpcalc fingerprints uploads (re-uploads of recordings taken down for copyright
# are refused); production refuses to start without it.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends libchromaprint-tools \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 veza \
 && useradd --system --uid 10001 --gid veza --home-dir /app --no-create-home \
      --shell /usr/sbin/nologin veza
WORKDIR /app
COPY --from=builder /opt/venv /opt/venv
COPY --chown=root:root . /app
# Bytecode is compiled once here (the runtime user cannot, and need not, write .pyc files);
# static files are collected with throw-away settings: nothing secret is baked in.
RUN python -m compileall -q -j 0 /app /opt/venv \
 && APP_ENV=test DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    python manage.py collectstatic --noinput --verbosity 0 \
 && mkdir -p /app/media /app/var/mail \
 && chown -R veza:veza /app/media /app/var
USER 10001:10001
EXPOSE 8000
# Liveness through /healthz (no curl in a slim image); the Host header is one that
# ALLOWED_HOSTS accepts, so a production configuration does not answer 400.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request as u; h = os.environ.get('ALLOWED_HOSTS', '').split(',')[0].strip().lstrip('.'); h = h if h not in ('', '*') else 'localhost'; u.urlopen(u.Request('http://127.0.0.1:' + os.environ.get('PORT', '8000') + '/healthz', headers={'Host': h}), timeout=4)"]
CMD ["gunicorn", "veza.wsgi:application", "-c", "gunicorn.conf.py"]
