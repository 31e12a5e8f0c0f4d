# shellcheck shell=bash
# Sourced: starts one single-node KRaft Kafka broker from the Maven Central jars. The caller sets
# KAFKA_VERSION, KAFKA_PORT, KAFKA_CONTROLLER_PORT, KAFKA_DIR, KAFKA_LIBS, KAFKA_PID, LOG_DIR, JAVA
# (infra.sh for the machine's broker, kafka-node.sh for an extra one) and sources lib.sh first.

# Maven output goes to a log (stdout of `up` is kept for the env lines), shown on failure.
mvn_quiet() {
  mkdir -p "$LOG_DIR"
  mvn -B -q -Dstyle.color=never "$@" >"$LOG_DIR/maven.log" 2>&1 && return 0
  tail -n 30 "$LOG_DIR/maven.log" >&2
  info "maven failed (mvn $*), full output in $LOG_DIR/maven.log"
  return 1
}

kafka_fetch() {
  [[ -f $KAFKA_LIBS/kafka_2.13-$KAFKA_VERSION.jar ]] && return 0
  info "kafka: fetching $KAFKA_VERSION jars from Maven Central into $KAFKA_LIBS"
  mkdir -p "$(dirname "$KAFKA_LIBS")"
  local tmp
  tmp=$(mktemp -d "$KAFKA_LIBS.tmp.XXXXXX") && chmod 755 "$tmp"
  # Copy into a temp dir and rename, so an interrupted download never looks complete.
  mvn_quiet -f "$REPO_ROOT/infra/local/kafka/pom.xml" package \
    -Dkafka.version="$KAFKA_VERSION" -DoutputDirectory="$tmp" ||
    { rm -rf "$tmp"; die "could not fetch kafka"; }
  rm -rf "$KAFKA_LIBS"
  mv "$tmp" "$KAFKA_LIBS"
}

kafka_config() {
  mkdir -p "$KAFKA_DIR/data"
  cat >"$KAFKA_DIR/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$KAFKA_DIR/data
num.partitions=3
auto.create.topics.enable=true
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
EOF
  cat >"$KAFKA_DIR/log4j2.properties" <<'EOF'
status = warn
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = OUT
EOF
}

# Raw Metadata v4 request (all topics) over /dev/tcp: ready once the broker answers our
# correlation id and lists at least one broker. Needs neither kcat nor a JVM.
kafka_metadata_ok() {
  local -a b
  read -ra b <<<"$(
    exec 2>/dev/null 3<>"/dev/tcp/127.0.0.1/$KAFKA_PORT" || exit 0
    printf '\x00\x00\x00\x12\x00\x03\x00\x04\x00\x00\x00\x07\x00\x03mpb\xff\xff\xff\xff\x00' >&3
    timeout 3 head -c 16 <&3 | od -An -v -tx1 | tr '\n' ' '
  )"
  [[ ${#b[@]} -eq 16 && ${b[*]:4:4} == "00 00 00 07" && ${b[*]:12:4} != "00 00 00 00" ]]
}

kafka_running() { pid_alive "$KAFKA_PID" && port_open 127.0.0.1 "$KAFKA_PORT"; }

kafka_up() {
  if kafka_running; then
    info "kafka: already running (pid $(cat "$KAFKA_PID"))"
    return 0
  fi
  pid_alive "$KAFKA_PID" || ! port_open 127.0.0.1 "$KAFKA_PORT" ||
    die "port $KAFKA_PORT is in use by a process this script did not start"
  kafka_fetch
  kafka_config
  mkdir -p "$LOG_DIR"
  local log=$LOG_DIR/kafka.log
  if [[ ! -f $KAFKA_DIR/data/meta.properties ]]; then
    # 16 random bytes, base64url without padding: the format Kafka expects for a cluster id. One that
    # starts with '-' is taken by StorageTool's argument parser for an option (1 run in 64 failed),
    # so draw again until it does not.
    while [[ ! -s $KAFKA_DIR/cluster.id || $(head -c 1 "$KAFKA_DIR/cluster.id") == - ]]; do
      head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' >"$KAFKA_DIR/cluster.id"
    done
    info "kafka: formatting storage (cluster id $(cat "$KAFKA_DIR/cluster.id"))"
    "$JAVA" -Dlog4j2.configurationFile="$KAFKA_DIR/log4j2.properties" -cp "$KAFKA_LIBS/*" \
      kafka.tools.StorageTool format -t "$(cat "$KAFKA_DIR/cluster.id")" \
      -c "$KAFKA_DIR/server.properties" --ignore-formatted >"$LOG_DIR/kafka-format.log" 2>&1 ||
      die "kafka storage format failed, see $LOG_DIR/kafka-format.log"
  fi
  if ! pid_alive "$KAFKA_PID"; then
    [[ -f $log ]] && mv "$log" "$log.1"
    info "kafka: starting on 127.0.0.1:$KAFKA_PORT (log $log)"
    start_detached "$KAFKA_PID" "$log" \
      "$JAVA" ${KAFKA_HEAP_OPTS:--Xms256m -Xmx768m} -Djava.awt.headless=true \
      -Dlog4j2.configurationFile="$KAFKA_DIR/log4j2.properties" -cp "$KAFKA_LIBS/*" \
      kafka.Kafka "$KAFKA_DIR/server.properties"
  fi
  local deadline=$((SECONDS + 90))
  until grep -q 'Kafka Server started' "$log" 2>/dev/null && kafka_metadata_ok; do
    pid_alive "$KAFKA_PID" || die "kafka exited during startup, see $log"
    ((SECONDS < deadline)) || die "kafka not ready after 90 s, see $log"
    sleep 0.3
  done
  info "kafka: ready"
}
