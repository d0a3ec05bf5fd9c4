#!/bin/sh
# Trust the PEM certificate(s) in $EXTRA_CA_CERTS (e.g. a TLS-intercepting proxy's CA) before
# apt, pip or npm first reach a server. Run at the start of every stage of both images.
# The certificates are also left in /usr/local/share/ca-certificates, so the stage's later
# update-ca-certificates keeps them in the bundle it rebuilds.
set -eu
[ -n "${EXTRA_CA_CERTS:-}" ] || exit 0
dir=/usr/local/share/ca-certificates
mkdir -p "$dir" /etc/ssl/certs
printf '%s\n' "$EXTRA_CA_CERTS" | awk -v dir="$dir" '
    /-----BEGIN CERTIFICATE-----/ { n++; f = sprintf("%s/coursehub-extra-%02d.crt", dir, n) }
    f { print > f }
    /-----END CERTIFICATE-----/ { close(f); f = "" }'
ls "$dir"/coursehub-extra-*.crt >/dev/null 2>&1 || {
    echo "EXTRA_CA_CERTS holds no PEM certificate" >&2
    exit 1
}
cat "$dir"/coursehub-extra-*.crt >>/etc/ssl/certs/ca-certificates.crt
