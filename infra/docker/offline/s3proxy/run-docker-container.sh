#!/bin/sh
set -eu
mkdir -p "$JCLOUDS_FILESYSTEM_BASEDIR"
exec java ${S3PROXY_JAVA_OPTS:--Xmx256m} \
  -Dlogback.statusListenerClass=ch.qos.logback.core.status.NopStatusListener \
  -DLOG_LEVEL="$LOG_LEVEL" \
  -Ds3proxy.endpoint="$S3PROXY_ENDPOINT" \
  -Ds3proxy.authorization="$S3PROXY_AUTHORIZATION" \
  -Ds3proxy.identity="$S3PROXY_IDENTITY" \
  -Ds3proxy.credential="$S3PROXY_CREDENTIAL" \
  -Ds3proxy.ignore-unknown-headers="$S3PROXY_IGNORE_UNKNOWN_HEADERS" \
  -Djclouds.provider="$JCLOUDS_PROVIDER" \
  -Djclouds.filesystem.basedir="$JCLOUDS_FILESYSTEM_BASEDIR" \
  -jar /opt/s3proxy/s3proxy.jar --properties /dev/null
