#!/usr/bin/env bash
# One more single-node KRaft Kafka broker, apart from the machine's (infra.sh, port 9092): same jars,
# its own ports and data directory (under .local/, so its pid file is trusted). The fault tests use it
# to stop and restart a broker without disturbing anyone else.
#   bash infra/local/kafka-node.sh start <port> <controller-port> <dir>   # formats <dir> on first use
#   bash infra/local/kafka-node.sh stop <dir>                             # SIGTERM, SIGKILL after 20 s
#   bash infra/local/kafka-node.sh kill <dir>                             # SIGKILL at once
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The one version infra.sh pins, so both brokers run the same jars.
KAFKA_VERSION=$(sed -n 's/^KAFKA_VERSION=//p' "$REPO_ROOT/infra/local/infra.sh")
KAFKA_LIBS=$MPB_CACHE_DIR/kafka-$KAFKA_VERSION/libs
JAVA=${JAVA:-java}
KAFKA_HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xms128m -Xmx512m}
source "$(dirname "${BASH_SOURCE[0]}")/kafka-lib.sh"

node_dir() {
  [[ -n ${1:-} ]] || die "usage: $0 start <port> <controller-port> <dir> | stop <dir> | kill <dir>"
  local dir
  dir=$(realpath -m "$1")
  [[ $dir == "$MPB_LOCAL_DIR"/* ]] || die "$dir is not under $MPB_LOCAL_DIR"
  KAFKA_DIR=$dir
  KAFKA_PID=$dir/kafka.pid
  LOG_DIR=$dir/logs
}

case ${1:-} in
  start)
    [[ ${2:-} =~ ^[0-9]+$ && ${3:-} =~ ^[0-9]+$ ]] || die "usage: $0 start <port> <controller-port> <dir>"
    KAFKA_PORT=$2
    KAFKA_CONTROLLER_PORT=$3
    node_dir "${4:-}"
    kafka_up
    ;;
  stop)
    node_dir "${2:-}"
    stop_pidfile kafka "$KAFKA_PID"
    ;;
  kill)
    node_dir "${2:-}"
    if pid_alive "$KAFKA_PID"; then
      pid=$(cat "$KAFKA_PID")
      kill -KILL "$pid" 2>/dev/null || true
      for _ in {1..50}; do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$KAFKA_PID"
    ;;
  *) die "usage: $0 start <port> <controller-port> <dir> | stop <dir> | kill <dir>" ;;
esac
