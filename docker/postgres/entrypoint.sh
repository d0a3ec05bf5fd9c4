#!/bin/sh
# Start coursehub's Postgres: make the cluster in the volume on first start, set the
# `coursehub` role's password from COURSEHUB_DB_PASSWORD at every start (so changing it in
# .env takes effect), make the hub's database, then run the server.
#
# The server listens on the container's own interfaces only: loopback and compose's
# internal database network (no published port). Remote logins: the `coursehub` role with
# its password (scram-sha-256) from a directly attached subnet; nobody else, no superuser.
set -eu

say() { echo "coursehub-db: $*"; }
as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; }

if [ -z "${COURSEHUB_DB_PASSWORD:-}" ]; then
    say "COURSEHUB_DB_PASSWORD is empty: set it in .env (the hub uses the same value)" >&2
    exit 1
fi

mkdir -p "$PGDATA" /run/postgresql
chown postgres:postgres "$(dirname "$PGDATA")" "$PGDATA" /run/postgresql
chmod 0700 "$PGDATA"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    say "first start: creating the cluster in $PGDATA"
    as_postgres initdb -D "$PGDATA" --username=postgres --encoding=UTF8 --locale=C.UTF-8 \
        --auth-local=peer --auth-host=reject >/dev/null
fi

# Rewritten at every start: what an older image or a hand edit left is not kept.
cat >"$PGDATA/pg_hba.conf" <<'HBA'
# Written by coursehub's entrypoint at every start.
local   all   postgres                    peer
host    all   coursehub   samenet         scram-sha-256
HBA
chown postgres:postgres "$PGDATA/pg_hba.conf"

# Set-up on the Unix socket only: nothing can connect before the password is set.
as_postgres pg_ctl -D "$PGDATA" -w -s -o "-c listen_addresses=''" start
as_postgres psql -q -v ON_ERROR_STOP=1 --no-psqlrc -U postgres -d postgres <<'SQL'
\getenv pw COURSEHUB_DB_PASSWORD
SELECT 'CREATE ROLE coursehub' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'coursehub')\gexec
-- CREATEDB: the hub makes one gradebook database per course when it starts.
ALTER ROLE coursehub WITH LOGIN CREATEDB NOSUPERUSER PASSWORD :'pw';
SELECT 'CREATE DATABASE jupyterhub OWNER coursehub' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'jupyterhub')\gexec
SQL
as_postgres pg_ctl -D "$PGDATA" -w -s -m fast stop

say "ready: the hub database and gradebooks are in $PGDATA"
exec setpriv --reuid=postgres --regid=postgres --init-groups -- \
    postgres -D "$PGDATA" -c listen_addresses='*' -c password_encryption=scram-sha-256
