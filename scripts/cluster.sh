#!/usr/bin/env bash
# A whole deployment on one machine (README "Scaling out"): HAProxy in front of two gunicorn
# replicas, two Celery workers and one beat on Redis, a PostgreSQL primary with a streaming
# replica (pg_basebackup), PgBouncer in transaction mode in front of the primary, and an
# S3-compatible store (moto's server). Each has its own port and folder under .cluster/.
#
#   ./scripts/cluster.sh up              # install what is missing, start, wait until ready
#   ./scripts/cluster.sh status          # who runs, who answers
#   ./scripts/cluster.sh restart web-a   # a rolling-deploy step: SIGTERM, wait, start again
#   ./scripts/cluster.sh down            # stop everything (add --purge to delete .cluster/)
#
# Ports (CLUSTER_PORT_BASE, default 5540): +0 HAProxy, +1 PostgreSQL primary, +2 replica,
# +3 PgBouncer, +4 Redis, +5 S3 (moto), +9 HAProxy stats, +11/+12 gunicorn web-a/web-b.
# Every app process reads .cluster/app.env; the tests read .cluster/cluster.env.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DIR=${CLUSTER_DIR:-$ROOT/.cluster}
BASE=${CLUSTER_PORT_BASE:-5540}
HAPROXY_PORT=$((BASE)) PG_PRIMARY_PORT=$((BASE + 1)) PG_REPLICA_PORT=$((BASE + 2))
PGBOUNCER_PORT=$((BASE + 3)) REDIS_PORT=$((BASE + 4)) S3_PORT=$((BASE + 5))
STATS_PORT=$((BASE + 9)) WEB_A_PORT=$((BASE + 11)) WEB_B_PORT=$((BASE + 12))
DB=veza
LOGS=$DIR/logs RUN=$DIR/run

log() { printf '== cluster: %s\n' "$*"; }
die() { printf 'cluster: %s\n' "$*" >&2; exit 1; }

# PostgreSQL and PgBouncer refuse to run as root: as root they run as the postgres user.
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

install_packages() {
  local missing=()
  command -v haproxy >/dev/null 2>&1 || missing+=(haproxy)
  command -v pgbouncer >/dev/null 2>&1 || [ -x /usr/sbin/pgbouncer ] || missing+=(pgbouncer)
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 || missing+=(postgresql)
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]} (Debian packages)"
    [ "$(id -u)" = 0 ] || die "run as root to install ${missing[*]}, or install them first"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  [ -x .venv/bin/python ] || source scripts/bootstrap.sh
}

pgbin() { ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1; }

alive() { [ -f "$RUN/$1.pid" ] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null; }

wait_until() {  # seconds, description, command...
  local seconds=$1 what=$2
  shift 2
  for _ in $(seq 1 $((seconds * 5))); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  die "$what did not come up within ${seconds}s (logs: $LOGS)"
}

write_env() {
  mkdir -p "$DIR/mail" "$DIR/beat" "$LOGS" "$RUN"
  # Throwaway secrets for a local cluster; staging: production's checks minus the real
  # provider (the sandbox settles payments through signed webhooks, as in development).
  cat >"$DIR/app.env" <<EOF
APP_ENV=staging
DEBUG=false
DJANGO_SECRET_KEY=cluster-django-secret-key-not-for-real-use-0123456789
JWT_SECRET=cluster-jwt-secret-not-for-real-use-0123456789abcdef
DATABASE_URL=postgres://postgres@127.0.0.1:$PGBOUNCER_PORT/$DB
DATABASE_REPLICA_URLS=postgres://postgres@127.0.0.1:$PG_REPLICA_PORT/$DB
DISABLE_SERVER_SIDE_CURSORS=true
REPLICA_STICKY_SECONDS=5
REPLICA_MAX_LAG_SECONDS=3
REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0
CELERY_BROKER_URL=redis://127.0.0.1:$REDIS_PORT/1
BEAT_LOCK_SECONDS=10
MEDIA_STORAGE_URL='s3://veza-media?endpoint_url=http://127.0.0.1:$S3_PORT&region=us-east-1'
AWS_ACCESS_KEY_ID=cluster
AWS_SECRET_ACCESS_KEY=cluster-secret
TRUSTED_PROXY_COUNT=1
EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend
EMAIL_FILE_PATH=$DIR/mail
WEBHOOK_ALLOW_PRIVATE_TARGETS=true
STREAM_SERVER_INTERNAL_API_KEY=cluster-stream-server-key
WEBHOOK_SWEEP_INTERVAL=5
RATE_LIMIT_LIMIT=100000000
REGISTRATION_RATE_LIMIT_PER_HOUR=1000000
PASSWORD_RESET_RATE_LIMIT_PER_HOUR=1000000
STAFF_REQUIRE_2FA=false
LOG_FORMAT=plain
LOG_LEVEL=INFO
GUNICORN_WORKERS=2
GUNICORN_THREADS=4
GUNICORN_DRAIN_SECONDS=${CLUSTER_DRAIN_SECONDS:-3}
GUNICORN_FORWARDED_ALLOW_IPS=127.0.0.1
GUNICORN_LOG_LEVEL=warning
PYTHONUNBUFFERED=1
EOF
  cat >"$DIR/cluster.env" <<EOF
CLUSTER_URL=http://127.0.0.1:$HAPROXY_PORT
CLUSTER_WEB_A=http://127.0.0.1:$WEB_A_PORT
CLUSTER_WEB_B=http://127.0.0.1:$WEB_B_PORT
CLUSTER_STATS=http://127.0.0.1:$STATS_PORT
CLUSTER_PRIMARY_DSN=postgresql://postgres@127.0.0.1:$PG_PRIMARY_PORT/$DB
CLUSTER_REPLICA_DSN=postgresql://postgres@127.0.0.1:$PG_REPLICA_PORT/$DB
CLUSTER_PGBOUNCER_DSN=postgresql://postgres@127.0.0.1:$PGBOUNCER_PORT/pgbouncer
CLUSTER_REDIS=redis://127.0.0.1:$REDIS_PORT
CLUSTER_DIR=$DIR
EOF
}

# Runs an app command with the cluster's environment (and nothing of the caller's database).
app() {
  env -u DATABASE_URL -u REDIS_URL -u CELERY_BROKER_URL -u VEZA_DRAIN_FILE \
    bash -c 'set -a; source "$0"; set +a; exec "$@"' "$DIR/app.env" "$@"
}

start_postgres() {
  local bin
  bin=$(pgbin)
  if [ ! -s "$DIR/pg-primary/PG_VERSION" ]; then
    log "PostgreSQL primary on :$PG_PRIMARY_PORT"
    mkdir -p "$DIR/pg-primary"
    [ "$(id -u)" = 0 ] && chown postgres: "$DIR/pg-primary" "$LOGS"
    as_pg "$bin/initdb" -D "$DIR/pg-primary" -U postgres --auth=trust -E UTF8 >/dev/null
    # initdb's pg_hba (auth trust) already lets local and 127.0.0.1 replicate.
    cat >>"$DIR/pg-primary/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $PG_PRIMARY_PORT
unix_socket_directories = '$DIR/pg-primary'
wal_level = replica
max_wal_senders = 5
hot_standby = on
timezone = 'UTC'
max_connections = 200
# A throwaway cluster on a shared CI machine: durability is not what is tested here.
fsync = off
synchronous_commit = off
EOF
  fi
  if ! as_pg "$bin/pg_ctl" -D "$DIR/pg-primary" status >/dev/null 2>&1; then
    as_pg "$bin/pg_ctl" -D "$DIR/pg-primary" -l "$LOGS/pg-primary.log" -w -t 60 start >/dev/null
  fi
  as_pg "$bin/psql" -h 127.0.0.1 -p "$PG_PRIMARY_PORT" -U postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1 ||
    as_pg "$bin/createdb" -h 127.0.0.1 -p "$PG_PRIMARY_PORT" -U postgres "$DB"

  if [ ! -s "$DIR/pg-replica/PG_VERSION" ]; then
    log "PostgreSQL streaming replica on :$PG_REPLICA_PORT (pg_basebackup)"
    mkdir -p "$DIR/pg-replica"
    [ "$(id -u)" = 0 ] && chown postgres: "$DIR/pg-replica"
    chmod 700 "$DIR/pg-replica"
    as_pg "$bin/pg_basebackup" -h 127.0.0.1 -p "$PG_PRIMARY_PORT" -U postgres \
      -D "$DIR/pg-replica" -R -X stream -c fast
    cat >>"$DIR/pg-replica/postgresql.conf" <<EOF
port = $PG_REPLICA_PORT
unix_socket_directories = '$DIR/pg-replica'
EOF
  fi
  if ! as_pg "$bin/pg_ctl" -D "$DIR/pg-replica" status >/dev/null 2>&1; then
    as_pg "$bin/pg_ctl" -D "$DIR/pg-replica" -l "$LOGS/pg-replica.log" -w -t 60 start >/dev/null
  fi
}

start_pgbouncer() {
  alive pgbouncer && return
  log "PgBouncer (transaction pooling) on :$PGBOUNCER_PORT -> primary"
  mkdir -p "$DIR/pgbouncer"
  echo '"postgres" ""' >"$DIR/pgbouncer/userlist.txt"
  cat >"$DIR/pgbouncer/pgbouncer.ini" <<EOF
[databases]
$DB = host=127.0.0.1 port=$PG_PRIMARY_PORT dbname=$DB
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PGBOUNCER_PORT
unix_socket_dir =
auth_type = trust
auth_file = $DIR/pgbouncer/userlist.txt
admin_users = postgres
stats_users = postgres
pool_mode = transaction
max_client_conn = 1000
default_pool_size = 40
ignore_startup_parameters = extra_float_digits,options
logfile = $LOGS/pgbouncer.log
pidfile = $RUN/pgbouncer.pid
EOF
  [ "$(id -u)" = 0 ] && chown -R postgres: "$DIR/pgbouncer" && touch "$LOGS/pgbouncer.log" &&
    chown postgres: "$LOGS/pgbouncer.log" "$RUN"
  as_pg "$(command -v pgbouncer || echo /usr/sbin/pgbouncer)" -d "$DIR/pgbouncer/pgbouncer.ini"
  wait_until 20 pgbouncer .venv/bin/python -c "import psycopg; psycopg.connect('postgresql://postgres@127.0.0.1:$PGBOUNCER_PORT/$DB', connect_timeout=2).close()"
}

start_redis() {
  alive redis && return
  log "Redis on :$REDIS_PORT"
  mkdir -p "$DIR/redis"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$DIR/redis" --daemonize yes \
    --pidfile "$RUN/redis.pid" --logfile "$LOGS/redis.log" --save "" --appendonly no
  wait_until 10 redis redis-cli -p "$REDIS_PORT" ping
}

start_s3() {
  alive s3 && return
  log "S3 (moto server; objects in memory) on :$S3_PORT"
  mkdir -p "$DIR/s3"
  setsid "$ROOT/.venv/bin/moto_server" -H 127.0.0.1 -p "$S3_PORT" </dev/null >"$LOGS/s3.log" 2>&1 &
  echo $! >"$RUN/s3.pid"
  wait_until 30 "the S3 server" curl -fs "http://127.0.0.1:$S3_PORT/"
  app .venv/bin/python - <<'PY'
import os, boto3
from urllib.parse import parse_qs, urlsplit
url = urlsplit(os.environ["MEDIA_STORAGE_URL"])
endpoint = parse_qs(url.query)["endpoint_url"][0]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
if url.hostname not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
    s3.create_bucket(Bucket=url.hostname)
PY
}

migrate() {
  log "migrations (straight to the primary, not through PgBouncer)"
  DATABASE_URL_MIGRATE="postgres://postgres@127.0.0.1:$PG_PRIMARY_PORT/$DB" \
    app bash -c 'DATABASE_URL=$DATABASE_URL_MIGRATE exec .venv/bin/python manage.py migrate --noinput -v 0'
}

start_web() {  # web-a | web-b
  local name=$1 port
  port=$([ "$name" = web-a ] && echo "$WEB_A_PORT" || echo "$WEB_B_PORT")
  alive "$name" && return
  log "gunicorn $name on :$port"
  GUNICORN_BIND=127.0.0.1:$port app setsid .venv/bin/gunicorn veza.wsgi:application \
    -c gunicorn.conf.py -p "$RUN/$name.pid" >>"$LOGS/$name.log" 2>&1 &
  wait_until 60 "$name" curl -fs "http://127.0.0.1:$port/readyz"
}

start_worker() {  # worker-1 | worker-2
  local name=$1
  alive "$name" && return
  log "celery $name"
  app setsid .venv/bin/celery -A veza worker -n "$name@%h" --concurrency=2 --loglevel=INFO \
    --pidfile "$RUN/$name.pid" >>"$LOGS/$name.log" 2>&1 &
  wait_until 60 "$name" grep -q "ready." "$LOGS/$name.log"
}

start_beat() {
  alive beat && return
  log "celery beat (leader lock in Redis: a second beat would stand by)"
  app setsid .venv/bin/celery -A veza beat --loglevel=INFO \
    --schedule "$DIR/beat/celerybeat-schedule" --pidfile "$RUN/beat.pid" >>"$LOGS/beat.log" 2>&1 &
  wait_until 30 beat test -s "$RUN/beat.pid"
}

start_haproxy() {
  alive haproxy && return
  log "HAProxy on :$HAPROXY_PORT (stats :$STATS_PORT) -> web-a, web-b"
  HAPROXY_BIND=127.0.0.1:$HAPROXY_PORT HAPROXY_STATS_BIND=127.0.0.1:$STATS_PORT \
    WEB_A_ADDR=127.0.0.1:$WEB_A_PORT WEB_B_ADDR=127.0.0.1:$WEB_B_PORT \
    setsid haproxy -db -f deploy/haproxy.cfg >>"$LOGS/haproxy.log" 2>&1 &
  echo $! >"$RUN/haproxy.pid"
  wait_until 30 "HAProxy with both replicas up" both_up
}

both_up() {
  local csv
  csv=$(curl -fs "http://127.0.0.1:$STATS_PORT/;csv") || return 1
  [ "$(grep -cE '^web,web-[ab],.*,UP' <<<"$csv")" = 2 ]
}

stop_pid() {  # name [seconds]
  local name=$1 seconds=${2:-40} pid
  [ -f "$RUN/$name.pid" ] || return 0
  pid=$(cat "$RUN/$name.pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 $((seconds * 5))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$RUN/$name.pid"
}

up() {
  install_packages
  write_env
  start_postgres
  start_redis
  start_s3
  start_pgbouncer
  migrate
  start_web web-a
  start_web web-b
  start_worker worker-1
  start_worker worker-2
  start_beat
  start_haproxy
  log "up: http://127.0.0.1:$HAPROXY_PORT (stats http://127.0.0.1:$STATS_PORT/, logs $LOGS)"
}

down() {
  [ -d "$DIR" ] || { log "nothing to stop"; return; }
  log "stopping"
  stop_pid haproxy 10
  stop_pid web-a
  stop_pid web-b
  stop_pid beat 15
  stop_pid worker-1 30
  stop_pid worker-2 30
  stop_pid pgbouncer 10
  stop_pid s3 10
  stop_pid redis 10
  local bin
  bin=$(pgbin 2>/dev/null) || true
  for data in pg-replica pg-primary; do
    if [ -n "$bin" ] && [ -s "$DIR/$data/PG_VERSION" ]; then
      as_pg "$bin/pg_ctl" -D "$DIR/$data" -m fast -w stop >/dev/null 2>&1 || true
    fi
  done
  if [ "${1:-}" = --purge ]; then
    rm -rf "$DIR"
    log "deleted $DIR"
  fi
}

status() {
  for name in haproxy web-a web-b worker-1 worker-2 beat pgbouncer s3 redis; do
    printf '%-10s %s\n' "$name" "$(alive "$name" && echo "running (pid $(cat "$RUN/$name.pid"))" || echo stopped)"
  done
  curl -fs "http://127.0.0.1:$STATS_PORT/;csv" 2>/dev/null | awk -F, '$1=="web"{print "haproxy:", $2, $18}' || true
  curl -fs "http://127.0.0.1:$HAPROXY_PORT/readyz" 2>/dev/null && echo || true
}

restart() {  # a rolling-deploy step for one process
  local name=${1:?name a process: web-a, web-b, worker-1, worker-2, beat}
  write_env >/dev/null
  log "restarting $name"
  stop_pid "$name"
  case "$name" in
    web-*) start_web "$name" ;;
    worker-*) start_worker "$name" ;;
    beat) start_beat ;;
    *) die "unknown process $name" ;;
  esac
}

case "${1:-}" in
  up) up ;;
  down) down "${2:-}" ;;
  status) status ;;
  restart) restart "${2:-}" ;;
  *) echo "usage: $0 up | down [--purge] | status | restart <web-a|web-b|worker-1|worker-2|beat>" >&2; exit 2 ;;
esac
