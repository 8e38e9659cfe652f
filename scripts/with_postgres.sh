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
# TLS with a throw-away CA (tests/contract/test_postgres_tls.py verifies the server as the
# functions verify Aurora: sslmode=verify-full); plain connections keep working.
ssl=""
if command -v openssl >/dev/null; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=banditkit test CA" \
    -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1\n' >"$dir/san.ext"
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
    -CAcreateserial -days 2 -extfile "$dir/san.ext" -out "$dir/server.pem" 2>/dev/null
  chmod 600 "$dir/server.key"
  if [ "$(id -u)" = 0 ]; then chown postgres "$dir/server.key" "$dir/server.pem"; fi
  ssl="-c ssl=on -c ssl_cert_file=$dir/server.pem -c ssl_key_file=$dir/server.key"
  export BANDIT_TEST_PG_CA="$dir/ca.pem"
fi
if ! "${runas[@]}" "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
  -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c fsync=off -c max_connections=200 $ssl" start >/dev/null; then
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
