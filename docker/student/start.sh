#!/usr/bin/env bash
# Entrypoint of the coursehub student image (runs under tini: ENTRYPOINT tini -g -- start.sh).
#
# Started as root (the hub does this), it makes the `jovyan` account take the student's
# stable uid/gid, fixes the ownership of the home volume where needed, drops privileges
# with setpriv and execs the command as that user. Root is never kept.
# Started as any other user, it execs the command directly.
#
#   NB_UID   uid to run as (default 1000). 0 is refused.
#   NB_GID   primary gid (default 100, group "users", as in the Jupyter docker-stacks).
#            0 is refused. An existing group with that gid is reused, otherwise one is made.
#   NB_USER  login name (default jovyan). Falls back to jovyan, with a warning, when the
#            name is taken by a system account or not accepted by useradd.
# The home directory stays /home/jovyan whatever the name (the spawner mounts the volume there).
#
# nbgrader's exchange identifies students by file ownership, so the uid must be the same
# for a student every time; the hub picks it, this script only applies it.
set -euo pipefail

HOME_DIR=/home/jovyan
DEFAULT_USER=jovyan

say() { echo "[start.sh] $*" >&2; }
die() { echo "[start.sh] ERROR: $*" >&2; exit 1; }

[ "$#" -gt 0 ] || set -- jupyterhub-singleuser

# --- second pass: we re-exec ourselves through setpriv and check the result -------------
if [ "${COURSEHUB_START_DROPPED:-}" = 1 ]; then
    unset COURSEHUB_START_DROPPED
    if [ "$(id -u)" -eq 0 ] || [ "$(id -ru)" -eq 0 ] || [ "$(id -g)" -eq 0 ] || [ "$(id -rg)" -eq 0 ]; then
        die "still running as root after dropping privileges; refusing to start"
    fi
    for g in $(id -G); do
        [ "$g" -ne 0 ] || die "still in group root after dropping privileges; refusing to start"
    done
    exec "$@"
fi

# --- not root: nothing to switch ----------------------------------------------------------
if [ "$(id -u)" -ne 0 ]; then
    exec "$@"
fi

# --- root: become the student -------------------------------------------------------------
nb_uid="${NB_UID:-1000}"
nb_gid="${NB_GID:-100}"
nb_user="${NB_USER:-$DEFAULT_USER}"
[ -n "${NB_UID:-}" ] || say "started as root without NB_UID; running as $DEFAULT_USER (uid 1000)"

[[ "$nb_uid" =~ ^[0-9]+$ ]] || die "NB_UID must be a number, got '$nb_uid'"
[[ "$nb_gid" =~ ^[0-9]+$ ]] || die "NB_GID must be a number, got '$nb_gid'"
nb_uid=$((10#$nb_uid)); nb_gid=$((10#$nb_gid))
[ "$nb_uid" -ne 0 ] || die "NB_UID=0 would run the notebook as root; refusing"
[ "$nb_gid" -ne 0 ] || die "NB_GID=0 would run the notebook in group root; refusing"

# The uid may only belong to jovyan (or to nobody yet).
owner="$(getent passwd "$nb_uid" | cut -d: -f1 || true)"
if [ -n "$owner" ] && [ "$owner" != "$DEFAULT_USER" ]; then
    die "NB_UID=$nb_uid belongs to the image's system account '$owner'; use a uid >= 1000"
fi

# Group: reuse the one with that gid, or create one.
if ! getent group "$nb_gid" >/dev/null; then
    gname="$nb_user"
    getent group "$gname" >/dev/null && gname="coursehub$nb_gid"
    groupadd --gid "$nb_gid" "$gname" 2>/dev/null || groupadd --gid "$nb_gid" "coursehub$nb_gid" \
        || die "could not create a group with gid $nb_gid"
fi

# Login name: NB_USER unless a system account already has it.
if [ "$nb_user" != "$DEFAULT_USER" ] && getent passwd "$nb_user" >/dev/null; then
    say "WARNING: NB_USER '$nb_user' is an existing account in the image; using '$DEFAULT_USER'"
    nb_user="$DEFAULT_USER"
fi

current="$(getent passwd "$DEFAULT_USER" || true)"
wanted_uid_gid="$nb_uid:$nb_gid"
if [ "$nb_user" != "$DEFAULT_USER" ] || [ "$(echo "$current" | cut -d: -f3,4)" != "$wanted_uid_gid" ]; then
    # Re-create the account instead of `usermod -u`: usermod would walk the whole home
    # volume on every container start. /etc/passwd is per container, so this is cheap.
    [ -z "$current" ] || userdel "$DEFAULT_USER" 2>/dev/null || die "could not update the $DEFAULT_USER account"
    add() { useradd --no-log-init --no-create-home --home-dir "$HOME_DIR" --shell /bin/bash \
                    --uid "$nb_uid" --gid "$nb_gid" "$1"; }
    if ! add "$nb_user" 2>/dev/null; then
        [ "$nb_user" != "$DEFAULT_USER" ] && say "WARNING: useradd refused the name '$nb_user'; using '$DEFAULT_USER'"
        nb_user="$DEFAULT_USER"
        add "$nb_user" || die "could not create the account $nb_user ($wanted_uid_gid)"
    fi
fi

# Home: a named volume. Fix ownership only when its top directory is not the student's
# (first start on a fresh volume, or a changed uid/gid); never descend into other mounts.
mkdir -p "$HOME_DIR"
if [ "$(stat -c %u:%g "$HOME_DIR")" != "$wanted_uid_gid" ]; then
    say "giving $HOME_DIR to $nb_user ($wanted_uid_gid)"
    prune=()
    while read -r _ _ _ _ mnt _; do
        mnt="$(printf '%b' "$mnt")"   # mountinfo escapes spaces as \040
        case "$mnt" in "$HOME_DIR"/*) prune+=(-path "$mnt" -prune -o) ;; esac
    done </proc/self/mountinfo
    find "$HOME_DIR" -xdev "${prune[@]}" \( ! -uid "$nb_uid" -o ! -gid "$nb_gid" \) \
        -exec chown -h "$wanted_uid_gid" {} + \
        || say "WARNING: some files under $HOME_DIR could not be given to $nb_user"
fi

export HOME="$HOME_DIR" USER="$nb_user" LOGNAME="$nb_user" SHELL=/bin/bash
export COURSEHUB_START_DROPPED=1
exec setpriv --reuid="$nb_uid" --regid="$nb_gid" --init-groups -- "$0" "$@"
