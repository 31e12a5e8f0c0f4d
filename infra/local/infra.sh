#!/usr/bin/env bash
# Local infrastructure without Docker: PostgreSQL + Redis (machine services, started if down),
# Kafka (KRaft, single node) and s3proxy (S3 API on the filesystem) run from Maven Central jars.
#   bash infra/local/infra.sh up|down|status|reset|env
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DATABASES=(mpb_auth mpb_posts mpb_comments mpb_attachments mpb_metrics)
DATABASES+=("${DATABASES[@]/%/_test}" "${DATABASES[@]/%/_e2e}")

KAFKA_VERSION=4.1.1
S3PROXY_VERSION=4.1.0

KAFKA_PORT=${KAFKA_PORT:-9092}
KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-9093}
S3_PORT=${S3_PORT:-9000}
S3_BUCKET=${S3_BUCKET:-mpb-attachments}
# Local-only development credentials.
S3_ACCESS_KEY_ID=${S3_ACCESS_KEY_ID:-mpb-local}
S3_SECRET_ACCESS_KEY=${S3_SECRET_ACCESS_KEY:-mpb-local-secret}
S3_REGION=${S3_REGION:-us-east-1}

JAVA=${JAVA:-java}
LOG_DIR=$MPB_LOCAL_DIR/logs
KAFKA_DIR=$MPB_LOCAL_DIR/kafka
KAFKA_LIBS=$MPB_CACHE_DIR/kafka-$KAFKA_VERSION/libs
KAFKA_PID=$KAFKA_DIR/kafka.pid
S3_DIR=$MPB_LOCAL_DIR/s3proxy
S3_JAR=$MPB_CACHE_DIR/s3proxy-$S3PROXY_VERSION/s3proxy-$S3PROXY_VERSION-jar-with-dependencies.jar
S3_PID=$S3_DIR/s3proxy.pid

# ---------------------------------------------------------------- PostgreSQL / Redis

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432; }

postgres_up() {
  if ! pg_up; then
    info "postgres: starting"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
    for _ in {1..60}; do pg_up && break; sleep 0.5; done
    pg_up || die "postgres did not come up on 127.0.0.1:5432"
  fi
  local existing db
  existing=$(psql -h 127.0.0.1 -U postgres -d postgres -tAc 'SELECT datname FROM pg_database')
  for db in "${DATABASES[@]}"; do
    if ! grep -qx "$db" <<<"$existing"; then
      info "postgres: creating database $db"
      psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE \"$db\"" >/dev/null
    fi
  done
}

redis_up_p() { [[ $(redis-cli -h 127.0.0.1 ping 2>/dev/null) == PONG ]]; }

redis_up() {
  redis_up_p && return 0
  info "redis: starting"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in {1..50}; do redis_up_p && return 0; sleep 0.2; done
  die "redis did not answer PING on 127.0.0.1:6379"
}

# ---------------------------------------------------------------- Kafka

source "$(dirname "${BASH_SOURCE[0]}")/kafka-lib.sh"

# ---------------------------------------------------------------- s3proxy

s3_fetch() {
  [[ -f $S3_JAR ]] && return 0
  info "s3proxy: fetching $S3PROXY_VERSION from Maven Central"
  local dir tmp
  dir=$(dirname "$S3_JAR")
  mkdir -p "$dir"
  tmp=$(mktemp -d "$dir/tmp.XXXXXX")
  # Fully qualified goal, run outside any project: a pom.xml in the caller's cwd must not matter.
  (cd "$dir" && mvn_quiet org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
    -Dartifact="org.gaul:s3proxy:$S3PROXY_VERSION:jar:jar-with-dependencies" \
    -DoutputDirectory="$tmp") || { rm -rf "$tmp"; die "could not fetch s3proxy"; }
  mv "$tmp/$(basename "$S3_JAR")" "$S3_JAR"
  rm -rf "$tmp"
}

s3_http_ok() {
  local code
  code=$(curl -s -o /dev/null -m 3 -w '%{http_code}' "http://127.0.0.1:$S3_PORT/") || true
  [[ $code =~ ^[1-5][0-9][0-9]$ ]]
}

s3_running() { pid_alive "$S3_PID" && port_open 127.0.0.1 "$S3_PORT"; }

s3_up() {
  # With the filesystem provider a bucket is a directory under the basedir.
  mkdir -p "$S3_DIR/data/$S3_BUCKET"
  if s3_running; then
    info "s3proxy: already running (pid $(cat "$S3_PID"))"
    return 0
  fi
  pid_alive "$S3_PID" || ! port_open 127.0.0.1 "$S3_PORT" ||
    die "port $S3_PORT is in use by a process this script did not start"
  s3_fetch
  local log=$LOG_DIR/s3proxy.log
  mkdir -p "$LOG_DIR"
  if ! pid_alive "$S3_PID"; then
    cat >"$S3_DIR/s3proxy.conf" <<EOF
s3proxy.endpoint=http://127.0.0.1:$S3_PORT
s3proxy.authorization=aws-v2-or-v4
s3proxy.identity=$S3_ACCESS_KEY_ID
s3proxy.credential=$S3_SECRET_ACCESS_KEY
jclouds.provider=filesystem-nio2
jclouds.filesystem.basedir=$S3_DIR/data
EOF
    [[ -f $log ]] && mv "$log" "$log.1"
    info "s3proxy: starting on 127.0.0.1:$S3_PORT (log $log)"
    # NopStatusListener: hides logback's own start-up chatter.
    start_detached "$S3_PID" "$log" \
      "$JAVA" -Xmx512m -Dlogback.statusListenerClass=ch.qos.logback.core.status.NopStatusListener \
      -jar "$S3_JAR" --properties "$S3_DIR/s3proxy.conf"
  fi
  local deadline=$((SECONDS + 60))
  until port_open 127.0.0.1 "$S3_PORT" && s3_http_ok; do
    pid_alive "$S3_PID" || die "s3proxy exited during startup, see $log"
    ((SECONDS < deadline)) || die "s3proxy not ready after 60 s, see $log"
    sleep 0.3
  done
  info "s3proxy: ready"
}

# ---------------------------------------------------------------- commands

print_env() {
  cat <<EOF
export KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT
export S3_ENDPOINT=http://127.0.0.1:$S3_PORT
export S3_BUCKET=$S3_BUCKET
export S3_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID
export S3_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY
export S3_REGION=$S3_REGION
EOF
}

down() {
  stop_pidfile kafka "$KAFKA_PID"
  stop_pidfile s3proxy "$S3_PID"
}

status() {
  local rc=0
  if pg_up; then echo "postgres  up    127.0.0.1:5432"; else echo "postgres  down"; rc=1; fi
  if redis_up_p; then echo "redis     up    127.0.0.1:6379"; else echo "redis     down"; rc=1; fi
  if kafka_running && kafka_metadata_ok; then
    echo "kafka     up    127.0.0.1:$KAFKA_PORT (pid $(cat "$KAFKA_PID"))"
  else echo "kafka     down"; rc=1; fi
  if s3_running && s3_http_ok; then
    echo "s3        up    http://127.0.0.1:$S3_PORT bucket $S3_BUCKET (pid $(cat "$S3_PID"))"
  else echo "s3        down"; rc=1; fi
  return $rc
}

case ${1:-} in
  up)
    command -v "$JAVA" >/dev/null || die "java not found (set JAVA=...)"
    postgres_up
    redis_up
    kafka_up
    s3_up
    print_env
    ;;
  down) down ;;
  status) status ;;
  reset)
    down
    info "removing $KAFKA_DIR and $S3_DIR"
    rm -rf "$KAFKA_DIR" "$S3_DIR"
    ;;
  env) print_env ;;
  *) die "usage: $0 up|down|status|reset|env" ;;
esac
