#!/usr/bin/env bash
# Build the coursehub images one after the other (they are heavy; never in parallel).
#
#   docker/build.sh [student] [hub]       default: both
#
# Env: TAG (default latest) -> coursehub/student:$TAG, coursehub/hub:$TAG
#      TORCH_INDEX_URL, EXTRA_CA_CERTS, PIP_CERT -> passed as build args when set
#      (see the comments at the top of docker/student/Dockerfile).
# The builder stages are tagged too (coursehub/<name>-builder:$TAG), so that
# `docker image prune` does not throw away the multi-GB pip layer and force a cold build.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tag="${TAG:-latest}"
[ "$#" -gt 0 ] || set -- student hub

args=()
for name in TORCH_INDEX_URL EXTRA_CA_CERTS PIP_CERT; do
    [ -z "${!name:-}" ] || args+=(--build-arg "$name")   # value taken from the environment
done

for image in "$@"; do
    case "$image" in student|hub) ;; *) echo "unknown image '$image' (student, hub)" >&2; exit 2 ;; esac
    dockerfile="$repo/docker/$image/Dockerfile"
    start=$(date +%s)
    echo "[build] coursehub/$image:$tag"
    docker build -q "${args[@]}" --target builder -t "coursehub/$image-builder:$tag" \
        -f "$dockerfile" "$repo" >/dev/null
    docker build "${args[@]}" -t "coursehub/$image:$tag" -f "$dockerfile" "$repo"
    size=$(docker image inspect -f '{{.Size}}' "coursehub/$image:$tag" | awk '{printf "%.2f GB", $1/1e9}')
    echo "[build] coursehub/$image:$tag: $size, $(( $(date +%s) - start ))s"
done
