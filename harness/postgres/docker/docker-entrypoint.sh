#!/usr/bin/env bash
# docker-entrypoint.sh - entrypoint of the locally built postgres:15 image
# (see build-postgres-image.sh, which copies this file to
# /usr/local/bin/docker-entrypoint.sh in the image).
#
# It mimics the official postgres image's entrypoint for the parts that
# Testcontainers' PostgreSqlContainer and our harness rely on:
#   POSTGRES_USER            superuser name                  (default: postgres)
#   POSTGRES_PASSWORD        its password (required unless POSTGRES_HOST_AUTH_METHOD=trust)
#   POSTGRES_DB              database created on first start (default: $POSTGRES_USER)
#   PGDATA                   data directory                  (default: /var/lib/postgresql/data)
#   POSTGRES_INITDB_WALDIR   passed to initdb as --waldir
#   POSTGRES_INITDB_ARGS     extra initdb arguments (word-split, like the official image)
#   POSTGRES_HOST_AUTH_METHOD  pg_hba method for remote hosts (default: scram-sha-256)
#   /docker-entrypoint-initdb.d/*.sh|*.sql  run once, after the first initdb
#
# Behaviour:
#   * first start (no $PGDATA/PG_VERSION): initdb as the postgres user, allow
#     password logins from any host, create $POSTGRES_DB, then start;
#   * later starts of the same container (e.g. `docker start` after
#     `docker kill -s KILL`): skip init and just start; PostgreSQL then runs
#     crash recovery by itself;
#   * `postgres ...` (or a first argument starting with `-`) execs the server
#     as the postgres user so it is PID 1 and receives docker's signals; any
#     other command is exec'ed as given (e.g. `bash`).
set -Eeuo pipefail

log() { printf 'docker-entrypoint: %s\n' "$*" >&2; }
die() { printf 'docker-entrypoint: ERROR: %s\n' "$*" >&2; exit 1; }

# `docker run image -c max_connections=200` => `postgres -c max_connections=200`
if [ "$#" -eq 0 ] || [ "${1:0:1}" = '-' ]; then
  set -- postgres "$@"
fi

# Anything other than the server (bash, psql, pg_dump, ...) runs untouched.
if [ "$1" != 'postgres' ]; then
  exec "$@"
fi
shift # the remaining "$@" are the server's own arguments

export PGDATA="${PGDATA:-/var/lib/postgresql/data}"
POSTGRES_USER="${POSTGRES_USER:-postgres}"
POSTGRES_DB="${POSTGRES_DB:-$POSTGRES_USER}"
POSTGRES_PASSWORD="${POSTGRES_PASSWORD:-}"
POSTGRES_HOST_AUTH_METHOD="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"
POSTGRES_INITDB_WALDIR="${POSTGRES_INITDB_WALDIR:-}"
POSTGRES_INITDB_ARGS="${POSTGRES_INITDB_ARGS:-}"
# Debian's minbase has no locales package, but glibc has a built-in C.UTF-8.
# Without a UTF-8 locale initdb would pick SQL_ASCII; the official image's
# databases are UTF8, so default to that (POSTGRES_INITDB_ARGS can override).
export LANG="${LANG:-C.UTF-8}"

# Drop privileges to the postgres user. The minbase rootfs has util-linux's
# setpriv (no gosu, which the official image uses); unlike `su` it execs the
# command directly, so the server stays PID 1 and gets docker's signals.
if [ "$(id -u)" = '0' ]; then
  as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; }
else
  # Started with `--user`: we are whoever we were told to be.
  as_postgres() { "$@"; }
fi

# --- Directories ------------------------------------------------------------
# The unix socket directory is compiled into Debian's build as
# /var/run/postgresql. /var/run is /run, and a fresh container's /run is
# empty, so create it every time (a restart keeps the container's filesystem,
# but do not rely on it). psql/pg_isready inside the container use it.
if [ "$(id -u)" = '0' ]; then
  mkdir -p /var/run/postgresql "$PGDATA"
  chown postgres:postgres /var/run/postgresql
  chmod 2775 /var/run/postgresql
  # Only fix ownership of the top directory when it is not ours already, e.g.
  # a fresh bind mount or volume; never chown -R a large existing cluster.
  if [ "$(stat -c %U "$PGDATA")" != 'postgres' ]; then
    chown postgres:postgres "$PGDATA"
  fi
  chmod 0700 "$PGDATA"
else
  mkdir -p "$PGDATA"
  chmod 0700 "$PGDATA" 2>/dev/null || true
fi

# --- First start: initialise the cluster -----------------------------------
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != 'trust' ]; then
    die "the database is uninitialized and POSTGRES_PASSWORD is not set. Set it (e.g. -e POSTGRES_PASSWORD=secret), or use -e POSTGRES_HOST_AUTH_METHOD=trust to allow all connections without a password (NOT recommended)."
  fi

  initdb_args=(--username="$POSTGRES_USER" --auth-local=trust --auth-host="$POSTGRES_HOST_AUTH_METHOD")

  if [ -n "$POSTGRES_INITDB_WALDIR" ]; then
    # Its parent is typically a tmpfs mounted with mode=1777 (sticky and
    # world-writable), so create it as the postgres user: initdb needs to own
    # it. Fall back to root + chown for parents only root may write to.
    if ! as_postgres mkdir -p "$POSTGRES_INITDB_WALDIR" 2>/dev/null; then
      mkdir -p "$POSTGRES_INITDB_WALDIR"
      if [ "$(id -u)" = '0' ]; then chown postgres:postgres "$POSTGRES_INITDB_WALDIR"; fi
    fi
    chmod 0700 "$POSTGRES_INITDB_WALDIR" 2>/dev/null || true
    initdb_args+=(--waldir="$POSTGRES_INITDB_WALDIR")
  fi

  pwfile=''
  if [ -n "$POSTGRES_PASSWORD" ]; then
    # Pass the password in a file readable only by postgres, not on a command
    # line where `ps` would show it.
    pwfile="$(mktemp /tmp/pgpass.XXXXXX)"
    printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
    if [ "$(id -u)" = '0' ]; then chown postgres:postgres "$pwfile"; fi
    chmod 0600 "$pwfile"
    initdb_args+=(--pwfile="$pwfile")
  fi

  log "initialising database cluster in $PGDATA (user $POSTGRES_USER)."
  # POSTGRES_INITDB_ARGS is deliberately word-split (as in the official
  # image); it comes after our defaults so it can override them.
  # shellcheck disable=SC2086
  as_postgres initdb "${initdb_args[@]}" $POSTGRES_INITDB_ARGS
  [ -z "$pwfile" ] || rm -f "$pwfile"

  # Password logins from anywhere (containers are reached via docker's
  # network); local socket connections stay trusted, as in the official image.
  printf '\n# added by docker-entrypoint.sh: password logins from any host\nhost all all all %s\n' \
    "$POSTGRES_HOST_AUTH_METHOD" >>"$PGDATA/pg_hba.conf"

  # Temporary server on the unix socket only, so that nothing outside the
  # container (and no TCP health check such as `pg_isready --host localhost`)
  # sees the database before it is fully set up.
  as_postgres pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p 5432" -w -t 60 start >/dev/null

  psql_cmd=(psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --no-password)
  if [ "$POSTGRES_DB" != 'postgres' ]; then
    log "creating database $POSTGRES_DB."
    # :"db" makes psql quote the name as an identifier. It has to come via
    # stdin: psql does not interpolate variables in -c strings.
    as_postgres "${psql_cmd[@]}" --dbname postgres --set db="$POSTGRES_DB" >/dev/null <<'EOSQL'
CREATE DATABASE :"db";
EOSQL
  fi

  # Same hook as the official image, for tests that copy files there.
  if [ -d /docker-entrypoint-initdb.d ]; then
    for f in /docker-entrypoint-initdb.d/*; do
      [ -e "$f" ] || continue
      case "$f" in
        *.sh)  log "running $f"; as_postgres bash "$f" ;;
        *.sql) log "running $f"; as_postgres "${psql_cmd[@]}" --dbname "$POSTGRES_DB" -f "$f" >/dev/null ;;
        *)     log "ignoring $f" ;;
      esac
    done
  fi

  as_postgres pg_ctl -D "$PGDATA" -m fast -w -t 60 stop >/dev/null
  log "PostgreSQL init process complete; ready for start up."
else
  log "PostgreSQL database directory $PGDATA already initialised; skipping initialisation."
fi

# --- Run the server -----------------------------------------------------------
# exec: postgres replaces this shell and becomes PID 1. Extra arguments from
# the container command (e.g. `-c max_wal_size=64MB`) come after ours, so they
# take precedence.
exec_args=(postgres -D "$PGDATA" -c "listen_addresses=*" "$@")
if [ "$(id -u)" = '0' ]; then
  exec setpriv --reuid=postgres --regid=postgres --init-groups -- "${exec_args[@]}"
fi
exec "${exec_args[@]}"
