#!/usr/bin/env bash
# Make sure a PostgreSQL server answers on 127.0.0.1:${PGPORT:-5432} and that the role the
# tests use exists (fabnet/fabnet, allowed to create databases). Installs the Debian
# package when no server is installed. Idempotent; safe to run on every `make test`.
set -euo pipefail
port="${PGPORT:-5432}"

ready() { pg_isready -q -h 127.0.0.1 -p "$port" 2>/dev/null; }

if ! command -v pg_isready >/dev/null 2>&1 || ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
  if ! ready 2>/dev/null; then
    echo "ensure-postgres: installing PostgreSQL (Debian package)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq postgresql >/dev/null
  fi
fi

if ! ready; then
  echo "ensure-postgres: starting PostgreSQL"
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do ready && break; sleep 1; done
fi
ready || { echo "ensure-postgres: PostgreSQL does not answer on 127.0.0.1:$port" >&2; exit 1; }

as_admin() {
  if psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc 'select 1' >/dev/null 2>&1; then
    psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -qtAc "$1"
  else
    su postgres -c "psql -p $port -d postgres -v ON_ERROR_STOP=1 -qtAc \"$1\""
  fi
}
if [ "$(as_admin "select 1 from pg_roles where rolname = 'fabnet'")" != "1" ]; then
  as_admin "create role fabnet login createdb password 'fabnet'"
fi
echo "ensure-postgres: ready on 127.0.0.1:$port"
