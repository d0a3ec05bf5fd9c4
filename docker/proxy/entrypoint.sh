#!/bin/sh
# Check the settings of COURSEHUB_TLS's mode, then run Caddy as the unprivileged `caddy` user.
# A setting that cannot work is reported in one line, once; the container then idles, marked
# unhealthy, since under `restart: unless-stopped` exiting would repeat the line forever.
set -eu

conf=/etc/coursehub-proxy
run=/run/coursehub-proxy

refuse() {
    echo "coursehub-proxy: ERROR: $*" >&2
    : >/run/coursehub-proxy-refused
    trap 'exit 1' INT TERM
    while :; do
        sleep 3600 &
        wait $! || true
    done
}

# $1: mounted file, $2: variable naming its host path, $3: PEM label expected in it.
check_pem() {
    host_path=$(printenv "$2" || true)
    [ -n "$host_path" ] || refuse "COURSEHUB_TLS=own needs $2 (host path of the PEM file)"
    [ ! -d "$1" ] || refuse "$2=$host_path does not exist on the host" \
        "(Docker then leaves an empty folder at that path: remove it)"
    [ -s "$1" ] || refuse "$2=$host_path is empty or unreadable"
    grep -q -- "-----BEGIN .*$3-----" "$1" || refuse "$2=$host_path holds no PEM $3"
}

# A restarted container keeps its files: forget an earlier refusal.
rm -f /run/coursehub-proxy-refused
mode="${COURSEHUB_TLS:-off}"
case "$mode" in
off | own | acme) ;;
*) refuse "COURSEHUB_TLS=$mode: expected off, own or acme" ;;
esac
export COURSEHUB_TLS="$mode"
: "${COURSEHUB_UPSTREAM:?}"

if [ "$mode" = off ]; then
    echo "coursehub-proxy: COURSEHUB_TLS=off: plain HTTP, passwords in clear:" \
        "publish it on loopback only (COURSEHUB_BIND=127.0.0.1)" >&2
else
    port="${COURSEHUB_HTTPS_PORT:-}"
    case "$port" in
    '' | *[!0-9]*) refuse "COURSEHUB_TLS=$mode needs COURSEHUB_HTTPS_PORT," \
        "the public HTTPS port (normally 443), got '$port'" ;;
    esac
    COURSEHUB_REDIRECT_PORT=":$port"
    [ "$port" != 443 ] || COURSEHUB_REDIRECT_PORT=""
    export COURSEHUB_REDIRECT_PORT
fi

if [ "$mode" = own ]; then
    check_pem "$conf/tls/cert.pem" COURSEHUB_TLS_CERT CERTIFICATE
    check_pem "$conf/tls/key.pem" COURSEHUB_TLS_KEY "PRIVATE KEY"
    # Copies that `caddy` can read: the host's key is usually readable by root only.
    install -o caddy -g caddy -m 0600 "$conf/tls/cert.pem" "$conf/tls/key.pem" "$run/"
fi

if [ "$mode" = acme ]; then
    case "${COURSEHUB_DOMAIN:-}" in
    '' | *[!A-Za-z0-9.-]* | .* | *.) refuse "COURSEHUB_TLS=acme needs COURSEHUB_DOMAIN," \
        "the host name students use (e.g. hub.example.org), got '${COURSEHUB_DOMAIN:-}'" ;;
    esac
    case "${COURSEHUB_ACME_EMAIL:-}" in
    *@*.*) ;;
    *) refuse "COURSEHUB_TLS=acme needs COURSEHUB_ACME_EMAIL, Let's Encrypt's contact" \
        "for this host, got '${COURSEHUB_ACME_EMAIL:-}'" ;;
    esac
fi

# A named volume made by an older image, or by hand, may belong to root.
chown -R caddy:caddy /data
export HOME=/var/lib/caddy XDG_CONFIG_HOME=$run/config XDG_DATA_HOME=/data
as_caddy="setpriv --reuid=caddy --regid=caddy --init-groups --no-new-privs"

# Caddy's own complaints (a key that does not match its certificate, ...) are JSON log
# records; keep the one line that says what is wrong.
if ! out=$($as_caddy caddy validate --config "$conf/Caddyfile" --adapter caddyfile 2>&1); then
    reason=$(printf '%s\n' "$out" | grep '^Error:' | tail -n 1)
    refuse "COURSEHUB_TLS=$mode: Caddy refuses the configuration: ${reason:-$out}"
fi
echo "coursehub-proxy: COURSEHUB_TLS=$mode, proxying to $COURSEHUB_UPSTREAM" >&2
exec $as_caddy caddy run --config "$conf/Caddyfile" --adapter caddyfile
