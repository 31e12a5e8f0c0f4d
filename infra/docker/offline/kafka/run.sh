#!/bin/bash
# KAFKA_FOO_BAR=v becomes foo.bar=v (`__` → `_`, `___` → `-`), as in the official image; the
# storage is formatted with CLUSTER_ID unless it already is.
set -euo pipefail
conf=/opt/kafka/config/server.properties
: >"$conf"
while IFS='=' read -r name value; do
  [[ $name == KAFKA_* ]] || continue
  case $name in KAFKA_HEAP_OPTS | KAFKA_OPTS | KAFKA_JVM_PERFORMANCE_OPTS) continue ;; esac
  key=${name#KAFKA_}
  key=${key,,}
  key=${key//___/-}
  key=${key//__/@}
  key=${key//_/.}
  key=${key//@/_}
  printf '%s=%s\n' "$key" "$value" >>"$conf"
done < <(env)
grep -q '^log.dirs=' "$conf" || echo 'log.dirs=/tmp/kraft-combined-logs' >>"$conf"
cat >/opt/kafka/config/log4j2.properties <<'L4J'
status = warn
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = OUT
logger.kafka.name = kafka
logger.kafka.level = WARN
logger.apache.name = org.apache.kafka
logger.apache.level = WARN
L4J
java_opts=(-Dlog4j2.configurationFile=/opt/kafka/config/log4j2.properties -Djava.awt.headless=true)
java -cp '/opt/kafka/libs/*' "${java_opts[@]}" kafka.tools.StorageTool format \
  -t "${CLUSTER_ID:-5L6g3nShT-eMCtK--X86sw}" -c "$conf" --ignore-formatted >/dev/null
# shellcheck disable=SC2086 # heap options are words
exec java ${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m} "${java_opts[@]}" -cp '/opt/kafka/libs/*' kafka.Kafka "$conf"
