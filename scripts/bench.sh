#!/usr/bin/env bash
# The benchmark (bench/README.md): PostgreSQL-backed gunicorn exactly as in production
# (gunicorn.conf.py, APP_ENV=production), a bare Django JSON view under the same settings as
# the ceiling, data seeded with `manage.py seed --scale`, wrk alternating ceiling and project.
#
#   ./scripts/bench.sh                 # --scale 201 (about 10 k tracks), 3 rounds of 10 s
#   ./scripts/bench.sh --scale 20001   # about 1 M tracks (seeding takes a while)
#   ./scripts/bench.sh --smoke         # well under a minute; CI runs this so it cannot rot
#   ./scripts/bench.sh --sync          # both servers on 2 sync workers (no threads) instead
#   ./scripts/bench.sh --rss 10000     # then worker RSS after 10,000 mixed requests
#   ./scripts/bench.sh --burst 1000    # then 1,000 concurrent deliveries of one webhook event
#   ./scripts/bench.sh --admin-lists   # the admin changelists at 1 M rows per table
#   ./scripts/bench.sh --refund-storm 500  # then 500 unique refund webhooks of one seller
set -euo pipefail
cd "$(dirname "$0")/.."

SCALE=201 SECONDS_EACH=10 ROUNDS=3 WARMUP=3 SMOKE=0 ONLY=() ADMIN_ROWS= RSS_REQUESTS=0 BURST=0
SYNC=0
while [ $# -gt 0 ]; do
  case "$1" in
    --scale) SCALE=$2; shift 2 ;;
    --seconds) SECONDS_EACH=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --admin-lists) ADMIN_ROWS=${2:-1000000}; [[ ${2:-} =~ ^[0-9]+$ ]] && shift; shift ;;
    --rss) RSS_REQUESTS=$2; shift 2 ;;
    --burst) BURST=$2; shift 2 ;;
    --refund-storm) REFUND_STORM=$2; shift 2 ;;
    --smoke) SMOKE=1; SCALE=1; SECONDS_EACH=1; ROUNDS=1; WARMUP=2; shift ;;
    --sync) SYNC=1; shift ;;
    --only) shift; while [ $# -gt 0 ] && [[ $1 != --* ]]; do ONLY+=("$1"); shift; done ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

BENCH_DB=${BENCH_DB:-veza_bench}
PG_ADMIN_URL=${BENCH_PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
PG_URL=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/$BENCH_DB}
REDIS=${BENCH_REDIS_URL:-redis://127.0.0.1:6379/12}
PROJECT_PORT=${BENCH_PROJECT_PORT:-8731}
CEILING_PORT=${BENCH_CEILING_PORT:-8732}
OUT=${BENCH_OUT:-bench/results/bench-$(date -u +%Y%m%dT%H%M%SZ)-scale$SCALE.json}
[ "$SMOKE" = 1 ] && OUT=${BENCH_OUT:-$(mktemp -d)/bench-smoke.json}
mkdir -p "$(dirname "$OUT")"

[ -x .venv/bin/python ] || source scripts/bootstrap.sh
if ! command -v wrk >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi

# Production settings with throwaway secrets; the provider is bench/fake_provider.py (POST
# /payments only: what placing an order calls), started below on its own port.
PROVIDER_PORT=${BENCH_PROVIDER_PORT:-$((PROJECT_PORT + 2))}
export DATABASE_URL=$PG_URL REDIS_URL=$REDIS
export APP_ENV=production DJANGO_SECRET_KEY=bench-django-secret-key-not-for-real-use-0123456789
export JWT_SECRET=bench-jwt-secret-not-for-real-use-0123456789abcdef
export HYPERSWITCH_BASE_URL=http://127.0.0.1:$PROVIDER_PORT HYPERSWITCH_API_KEY=bench
export HYPERSWITCH_WEBHOOK_SECRET=bench-webhook-secret-0123456789
export PLATFORM_LEGAL_NAME="Veza bench" PLATFORM_ADDRESS="Nowhere" PLATFORM_VAT_NUMBER=FR00000000000
export ALLOWED_HOSTS=127.0.0.1,localhost,testserver CORS_ALLOWED_ORIGINS=https://bench.invalid
# The global throttle stays in the path (Redis), with a limit the load cannot reach.
export RATE_LIMIT_LIMIT=1000000000
export MEDIA_ROOT=${MEDIA_ROOT:-$(mktemp -d)}
export GUNICORN_LOG_LEVEL=warning

if [ -n "$ADMIN_ROWS" ]; then
  # The admin changelists at ADMIN_ROWS rows per table, in-process (bench/admin_lists.py).
  BENCH_DB=${BENCH_ADMIN_DB:-veza_bench_admin}
  export DATABASE_URL=${BENCH_ADMIN_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/$BENCH_DB}
  OUT=${BENCH_OUT:-bench/results/admin-lists-$(date -u +%Y%m%dT%H%M%SZ)-rows$ADMIN_ROWS.json}
fi

echo "== bench database $BENCH_DB (scale $SCALE)"
.venv/bin/python - "$PG_ADMIN_URL" "$BENCH_DB" <<'PY'
import sys, psycopg
url, name = sys.argv[1].replace("postgres://", "postgresql://", 1), sys.argv[2]
with psycopg.connect(url, autocommit=True) as c:
    if not c.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
        c.execute(f'CREATE DATABASE "{name}"')
PY
if [ -n "$ADMIN_ROWS" ]; then
  exec .venv/bin/python -m bench.admin_lists --rows "$ADMIN_ROWS" --out "$OUT"
fi
.venv/bin/python manage.py migrate --noinput -v 0
# The seed pays its demo orders through the sandbox provider, a development-only setting.
env -u HYPERSWITCH_BASE_URL -u HYPERSWITCH_API_KEY APP_ENV=development \
  .venv/bin/python manage.py seed --scale "$SCALE" >/dev/null
# As autovacuum leaves a live database: statistics, visibility map, GIN pending lists merged.
.venv/bin/python manage.py shell -c "from django.db import connection; connection.cursor().execute('VACUUM ANALYZE')"

PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
LOG=${OUT%.json}.server.log
# The payment provider of POST /orders: before prepare, which places the checkout's orders.
.venv/bin/python -m bench.fake_provider --port "$PROVIDER_PORT" --api-key "$HYPERSWITCH_API_KEY" \
  >>"$LOG" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 50); do
  curl -fs -o /dev/null "http://127.0.0.1:$PROVIDER_PORT/health" && break
  sleep 0.1
done

PREPARED=$(mktemp)
.venv/bin/python -m bench.prepare "$PREPARED" >/dev/null 2>&1

# The issue's second harness: both servers on 2 sync workers, one request at a time each.
WORKERS="gthread (gunicorn.conf.py)"
if [ "$SYNC" = 1 ]; then
  export GUNICORN_WORKER_CLASS=sync GUNICORN_WORKERS=2 GUNICORN_THREADS=1
  WORKERS="sync x2"
fi
echo "== servers, $WORKERS workers (their logs: $LOG)"
# As deployed, with a broker: the tasks a request enqueues (an order's emails, the outbox) go
# to Redis on a queue of the bench's own, emptied at the end, instead of running inside the
# request as they do without one. No worker consumes them: the load measures the web tier.
TASK_QUEUE=bench-tasks
CELERY_BROKER_URL=$REDIS CELERY_TASK_DEFAULT_QUEUE=$TASK_QUEUE \
  GUNICORN_BIND=127.0.0.1:$PROJECT_PORT .venv/bin/gunicorn veza.wsgi:application \
  -c gunicorn.conf.py >>"$LOG" 2>&1 &
PIDS+=($!)
GUNICORN_BIND=127.0.0.1:$CEILING_PORT .venv/bin/gunicorn bench.ceiling_wsgi:application \
  -c gunicorn.conf.py >>"$LOG" 2>&1 &
PIDS+=($!)
# Ready when each answers 200 (not merely listens): the project's /healthz, the ceiling's view.
for url in "http://127.0.0.1:$PROJECT_PORT/healthz" "http://127.0.0.1:$CEILING_PORT/bench/ceiling"; do
  for attempt in $(seq 1 300); do
    curl -fs -o /dev/null -H 'X-Forwarded-Proto: https' "$url" && break
    [ "$attempt" = 300 ] && { echo "no 200 from $url after 60 s (see $LOG)" >&2; exit 1; }
    sleep 0.2
  done
done

echo "== load: $ROUNDS round(s) of ${SECONDS_EACH}s per server and scenario, ceiling and project alternating"
ONLY_ARGS=()
[ ${#ONLY[@]} -gt 0 ] && ONLY_ARGS=(--only "${ONLY[@]}")
[ "$SMOKE" = 1 ] && ONLY_ARGS=(--only "tracks anonymous" "tracks logged-in" "webhook duplicate" "orders create")
.venv/bin/python -m bench.run --prepared "$PREPARED" --out "$OUT" \
  --project "http://127.0.0.1:$PROJECT_PORT" --ceiling "http://127.0.0.1:$CEILING_PORT" \
  --seconds "$SECONDS_EACH" --rounds "$ROUNDS" --warmup "$WARMUP" --label "scale $SCALE" \
  --workers "$WORKERS" "${ONLY_ARGS[@]}"
if [ "$RSS_REQUESTS" -gt 0 ]; then
  echo "== worker memory: $RSS_REQUESTS mixed requests (bench/rss.py)"
  .venv/bin/python -m bench.rss --prepared "$PREPARED" --project "http://127.0.0.1:$PROJECT_PORT" \
    --master-pid "${PIDS[0]}" --requests "$RSS_REQUESTS" --out "${OUT%.json}.rss.json"
fi
if [ "$BURST" -gt 0 ]; then
  echo "== a storm of one signed refund event: $BURST deliveries at once (bench/burst.py)"
  .venv/bin/python -m bench.burst --project "http://127.0.0.1:$PROJECT_PORT" \
    --deliveries "$BURST" --out "${OUT%.json}.burst.json"
fi
if [ "${REFUND_STORM:-0}" -gt 0 ]; then
  # A project server of its own, as deployed with a broker: a refund's notification and
  # outbox tasks are queued (in the bench Redis, on a queue of their own that the run empties)
  # instead of running inside the request, as they do without one. Same workers and settings.
  STORM_PORT=${BENCH_STORM_PORT:-$((PROJECT_PORT + 3))}
  export CELERY_BROKER_URL=$REDIS CELERY_TASK_DEFAULT_QUEUE=bench-refund-storm
  GUNICORN_BIND=127.0.0.1:$STORM_PORT .venv/bin/gunicorn veza.wsgi:application \
    -c gunicorn.conf.py >>"$LOG" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 100); do
    curl -fs -o /dev/null -H 'X-Forwarded-Proto: https' "http://127.0.0.1:$STORM_PORT/healthz" && break
    sleep 0.2
  done
  echo "== $REFUND_STORM unique refund webhooks of one seller, 16 at a time (bench/refund_storm.py)"
  .venv/bin/python -m bench.refund_storm --project "http://127.0.0.1:$STORM_PORT" \
    --ceiling "http://127.0.0.1:$CEILING_PORT" --refunds "$REFUND_STORM" --connections 16 \
    --out "${OUT%.json}.refund-storm.json"
fi
rm -f "$PREPARED"
CELERY_BROKER_URL=$REDIS CELERY_TASK_DEFAULT_QUEUE=$TASK_QUEUE .venv/bin/python -c \
  "from veza.celery import app; app.control.purge()" >/dev/null

if [ "$SMOKE" = 1 ]; then
  # Smoke: the machinery works and every scenario answered 2xx; no timing is judged.
  .venv/bin/python - "$OUT" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
bad = {k: v for k, v in report["results"].items()
       if not 200 <= (v["status"] or 0) < 300 or v["project"]["non_2xx"] or not v["project"]["rps"]
       or v["ceiling"]["non_2xx"] or not v["ceiling"]["rps"]}
missing = {"tracks anonymous", "orders create"} - set(report["results"])
if missing:
    sys.exit(f"bench smoke failed: no result for {sorted(missing)}")
if bad:
    sys.exit(f"bench smoke failed: {bad}")
print("bench smoke ok")
PY
fi
