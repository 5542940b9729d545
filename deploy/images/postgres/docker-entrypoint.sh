#!/usr/bin/env bash
# schooner/postgres:15's entrypoint, in the spirit of the official postgres image's.
#
# As root (the default): give $PGDATA (a fresh volume is root-owned) and the
# socket directory to the postgres user, then run this script again as postgres.
# As postgres: if $PGDATA holds no cluster yet, initdb one with
#   POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE)  required
#   POSTGRES_USER                                  default postgres
#   POSTGRES_DB                                    default $POSTGRES_USER
# allow password logins (scram-sha-256) from every host, listen on *:5432, and run
# /docker-entrypoint-initdb.d/*.sh|*.sql|*.sql.gz once, against a server that
# listens on the Unix socket only. Then exec postgres in the foreground: it is
# PID 1 (or tini's child), so SIGTERM (smart shutdown: it waits for sessions to
# end), SIGINT (fast) or SIGQUIT (immediate) reach it directly.
set -Eeo pipefail
shopt -s nullglob

: "${PGDATA:=/var/lib/postgresql/data}"
export PGDATA
SOCKET_DIR=/run/postgresql

log() { printf 'docker-entrypoint: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# `docker run IMAGE -c shared_buffers=256MB` means `postgres -c shared_buffers=256MB`.
if [ "${1:0:1}" = "-" ]; then
    set -- postgres "$@"
fi
if [ "$1" != postgres ]; then
    exec "$@"
fi

if [ "$(id -u)" = 0 ]; then
    mkdir -p "$PGDATA" "$SOCKET_DIR"
    find "$PGDATA" \! -user postgres -exec chown postgres:postgres '{}' +
    chmod 700 "$PGDATA"
    chown postgres:postgres "$SOCKET_DIR"
    chmod 3777 "$SOCKET_DIR"
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

psql_as_superuser() {
    psql -v ON_ERROR_STOP=1 --no-password --no-psqlrc --username "$POSTGRES_USER" "$@"
}

init_cluster() {
    local password="${POSTGRES_PASSWORD:-}"
    if [ -z "$password" ] && [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then
        password="$(<"$POSTGRES_PASSWORD_FILE")"
    fi
    if [ -z "$password" ]; then
        die "the database in $PGDATA is not initialised and POSTGRES_PASSWORD is not set." \
            "Set POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE) to the superuser's password."
    fi
    export POSTGRES_USER="${POSTGRES_USER:-postgres}"
    export POSTGRES_DB="${POSTGRES_DB:-$POSTGRES_USER}"

    log "initialising a cluster in $PGDATA (superuser $POSTGRES_USER, database $POSTGRES_DB)"
    initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$password") \
        --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    printf '\n# schooner/postgres: password logins from every host\nhost all all all scram-sha-256\n' \
        >>"$PGDATA/pg_hba.conf"
    printf "\n# schooner/postgres\nlisten_addresses = '*'\n" >>"$PGDATA/postgresql.conf"

    # A server on the socket only: no client can connect before the scripts ran.
    pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -k $SOCKET_DIR" -w -s start
    if [ "$POSTGRES_DB" != postgres ]; then
        psql_as_superuser --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
    fi
    local f
    for f in /docker-entrypoint-initdb.d/*; do
        case "$f" in
            *.sh)
                log "running $f"
                if [ -x "$f" ]; then "$f"; else . "$f"; fi
                ;;
            *.sql)
                log "running $f"
                psql_as_superuser --dbname "$POSTGRES_DB" -f "$f"
                ;;
            *.sql.gz)
                log "running $f"
                gzip -dc "$f" | psql_as_superuser --dbname "$POSTGRES_DB"
                ;;
            *) log "ignoring $f" ;;
        esac
    done
    pg_ctl -D "$PGDATA" -m fast -w -s stop
    log "initialised; starting postgres"
}

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    init_cluster
fi
exec "$@"
