#!/usr/bin/env bash
# Bring up a Docker engine on a fresh Debian bookworm CI machine (run as root).
#
# Idempotent: every step is skipped when its result is already there.
#   1. install docker.io, docker-compose and debootstrap from Debian if absent;
#   2. start dockerd in the background (log: /var/log/dockerd.log) if `docker info`
#      fails, and wait for it with a backoff loop (about 60 s at most);
#   3. make sure the base image debian:bookworm-slim exists
#      (docker/base/make-bookworm-slim.sh builds it locally only when it is missing,
#      so on a machine that can pull images nothing changes).
#
# Usage: .ci/docker-engine.sh        (env: DOCKERD_LOG, DOCKERD_WAIT_S)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
log="${DOCKERD_LOG:-/var/log/dockerd.log}"
wait_s="${DOCKERD_WAIT_S:-60}"

say() { echo "[docker-engine] $*"; }
die() { echo "[docker-engine] ERROR: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (installs packages and starts dockerd)"

# --- 1. packages -------------------------------------------------------------
missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
if [ "${#missing[@]}" -gt 0 ]; then
    say "installing ${missing[*]} (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    # A broken third-party source must not stop us; the install below tells.
    apt-get update -qq >/dev/null 2>&1 || say "apt-get update reported errors; trying the install anyway"
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
        || die "apt-get install ${missing[*]} failed"
else
    say "docker.io, docker-compose, debootstrap already installed"
fi

# --- 2. engine ---------------------------------------------------------------
if docker info >/dev/null 2>&1; then
    say "engine already running"
else
    if [ -s /var/run/docker.pid ] && kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
        say "dockerd is running but not answering yet; waiting"
    else
        say "starting dockerd (log: $log)"
        mkdir -p "$(dirname "$log")"
        # setsid: keep the engine alive after this script (and its session) ends.
        setsid nohup dockerd >>"$log" 2>&1 </dev/null &
    fi
    # Backoff: 0.25 s, 0.5 s, 1 s, 2 s, 4 s, 4 s, ... until wait_s has passed.
    delay_ms=250
    waited_ms=0
    until docker info >/dev/null 2>&1; do
        if [ "$waited_ms" -ge $((wait_s * 1000)) ]; then
            die "dockerd did not answer within ${wait_s}s (see $log)"
        fi
        sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
        waited_ms=$((waited_ms + delay_ms))
        delay_ms=$((delay_ms * 2)); [ "$delay_ms" -le 4000 ] || delay_ms=4000
    done
    say "engine up after $((waited_ms / 1000)).$(( (waited_ms % 1000) / 100 ))s"
fi

# --- 3. base image -----------------------------------------------------------
"$repo/docker/base/make-bookworm-slim.sh" || die "could not provide the debian:bookworm-slim base image"
say "ready: $(docker version --format 'server {{.Server.Version}}, client {{.Client.Version}}' 2>/dev/null || echo 'docker up')"
