#!/usr/bin/env bash
# Makes sure Docker answers and the given infrastructure images exist, for the container test setup
# (packages/test-kit/src/infra) and compose.sh:
#   bash infra/docker/infra-images.sh postgres:15 redis:7 apache/kafka:4.1.1 andrewgaul/s3proxy:s3proxy-4.1.0
# Missing images are pulled; when a pull fails (no registry reachable), or with MPB_IMAGES=offline,
# images-offline.sh builds its stand-ins under the pinned names. Exits non-zero, naming the image,
# when one is still missing.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/../local/lib.sh"
source "$HERE/ensure-docker.sh"

log() { printf '[images] %s\n' "$*" >&2; }
present() { docker image inspect "$1" >/dev/null 2>&1; }

ensure_docker_engine
missing=()
for img in "$@"; do present "$img" || missing+=("$img"); done
offline=0
if [[ ${MPB_IMAGES:-auto} == offline ]]; then
  offline=1
elif ((${#missing[@]})); then
  log "pulling ${missing[*]}"
  for img in "${missing[@]}"; do
    if ! timeout 300 docker pull -q "$img" >/dev/null 2>&1; then
      log "cannot pull $img: no registry reachable, building the offline images (npm run images:offline)"
      offline=1
      break
    fi
  done
fi
if ((offline)); then bash "$HERE/images-offline.sh" infra; fi
for img in "$@"; do
  present "$img" || die "image $img is missing: no registry gave it and images-offline.sh builds only the pinned names"
done
