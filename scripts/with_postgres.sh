#!/usr/bin/env bash
# Runs "$@" with a throw-away PostgreSQL server on 127.0.0.1 and BANDIT_TEST_PG_URL
# pointing at it. initdb refuses root, so the cluster is owned by the postgres user.
# With BANDIT_TEST_PG_URL already set, the command runs against that server instead.
set -euo pipefail
if [ -n "${BANDIT_TEST_PG_URL:-}" ]; then exec "$@"; fi

pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$pgbin" ]; then
  echo "with_postgres: no PostgreSQL server (apt-get install postgresql)" >&2
  exit 1
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
dir=$(mktemp -d /tmp/banditkit-pg.XXXXXX)
runas=()
if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; runas=(runuser -u postgres --); fi
"${runas[@]}" "$pgbin/initdb" -D "$dir/data" -U postgres -A trust --no-sync >/dev/null
# Members of banditkit_password log in with a password over TCP (the secret rotation tests);
# every other role is trusted.
"${runas[@]}" sed -i '1i host all +banditkit_password 127.0.0.1/32 scram-sha-256' "$dir/data/pg_hba.conf"
cleanup() {
  "${runas[@]}" "$pgbin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
if ! "${runas[@]}" "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
  -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c fsync=off -c max_connections=200" start >/dev/null; then
  echo "with_postgres: the server did not start; its log:" >&2
  cat "$dir/log" >&2 || true
  exit 1
fi
"${runas[@]}" "$pgbin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -q \
  -c "CREATE ROLE banditkit_password NOLOGIN" >/dev/null
export BANDIT_TEST_PG_URL="postgresql://postgres@127.0.0.1:$port/postgres"
# The fault tests restart the server with pg_ctl (as the postgres user when root).
export BANDIT_TEST_PG_DATADIR="$dir/data" BANDIT_TEST_PG_BIN="$pgbin"
"$@"
