#!/usr/bin/env bash
# Provide the base image `debian:bookworm-slim` on a machine that cannot pull from a registry.
#
# Does nothing when the image already exists (a pulled or previously built one).
# Otherwise: debootstrap a minbase bookworm rootfs (with ca-certificates), add this machine's
# extra CA certificates (/usr/local/share/ca-certificates/*.crt, e.g. a TLS-intercepting
# proxy's) to its trust store, trim it like the official slim image and `docker import` it.
#
# Env: DEBIAN_MIRROR (default http://deb.debian.org/debian), BASE_IMAGE (default
#      debian:bookworm-slim), HOST_CA_DIR (default /usr/local/share/ca-certificates).
# Needs root, debootstrap and a running docker engine (.ci/docker-engine.sh does both).
set -euo pipefail

image="${BASE_IMAGE:-debian:bookworm-slim}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
ca_dir="${HOST_CA_DIR:-/usr/local/share/ca-certificates}"

say() { echo "[base-image] $*"; }
die() { echo "[base-image] ERROR: $*" >&2; exit 1; }

if docker image inspect "$image" >/dev/null 2>&1; then
    say "$image already present; nothing to do"
    exit 0
fi
[ "$(id -u)" -eq 0 ] || die "must run as root (debootstrap, chroot)"
command -v debootstrap >/dev/null 2>&1 || die "debootstrap is not installed (apt-get install debootstrap)"

root="$(mktemp -d /var/tmp/bookworm-slim.XXXXXX)"
cleanup() {
    # debootstrap may leave proc/sys mounted when it fails half-way.
    for m in proc sys dev/pts dev; do umount -l "$root/$m" 2>/dev/null || true; done
    rm -rf --one-file-system "$root"
}
trap cleanup EXIT

say "debootstrap bookworm (minbase + ca-certificates) from $mirror into $root"
start=$(date +%s)
debootstrap --variant=minbase --include=ca-certificates bookworm "$root" "$mirror" \
    >"$root.debootstrap.log" 2>&1 \
    || { tail -n 5 "$root.debootstrap.log" >&2; die "debootstrap failed (full log: $root.debootstrap.log)"; }
rm -f "$root.debootstrap.log"

n_ca=0
if compgen -G "$ca_dir/*.crt" >/dev/null; then
    mkdir -p "$root/usr/local/share/ca-certificates"
    cp "$ca_dir"/*.crt "$root/usr/local/share/ca-certificates/"
    n_ca=$(ls "$ca_dir"/*.crt | wc -l)
fi
out="$(chroot "$root" update-ca-certificates 2>&1)" || { echo "$out" >&2; die "update-ca-certificates failed in the rootfs"; }
say "trust store updated ($n_ca extra certificate file(s) from $ca_dir)"

# Same layout as the official image: deb822 sources incl. updates and security.
rm -f "$root/etc/apt/sources.list"
cat >"$root/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: ${mirror}
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES

# "slim": no docs/man pages/translations now or from later apt-get installs, no apt caches.
cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<'DPKG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
DPKG
cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'APT'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT
echo 'Acquire::Languages "none";' >"$root/etc/apt/apt.conf.d/docker-no-languages"
find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
rm -rf "$root"/usr/share/{man,info,groff,lintian,linda}/* \
       "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
       "$root"/var/lib/apt/lists/* "$root"/var/log/*.log "$root"/var/cache/debconf/*-old \
       "$root"/etc/hostname "$root"/etc/resolv.conf "$root"/tmp/* 2>/dev/null || true
find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} + 2>/dev/null || true

say "importing as $image"
tar --numeric-owner -C "$root" -c . | docker import \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'CMD ["bash"]' \
    -m "debootstrap --variant=minbase bookworm (coursehub docker/base/make-bookworm-slim.sh)" \
    - "$image" >/dev/null || die "docker import failed"
docker run --rm "$image" true || die "the imported $image does not run"
say "$image created in $(( $(date +%s) - start ))s, $(docker image inspect -f '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}')"
