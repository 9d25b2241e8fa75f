#!/usr/bin/env bash
# The one test command (README and CI): brings up what the tests talk to, checks the
# committed schema, then runs every test of the workspace.
#
# Needs PostgreSQL, Redis and RabbitMQ on their local ports (started if down), Python 3 for
# the MongoDB-protocol test server (SecantusDB) and the SMTP test server (aiosmtpd), both
# installed into .venv, and Node.js for the schema check.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/shop-target}"
export TEST_POSTGRES_URL="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
export TEST_REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379}"

scripts/services.sh

# Databases left behind by earlier runs (tests create one per test).
psql "$TEST_POSTGRES_URL" -Atc "SELECT datname FROM pg_database WHERE datname LIKE 'shoptest\_%'" |
  while read -r name; do psql "$TEST_POSTGRES_URL" -qc "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" >/dev/null; done

# RabbitMQ: a virtual host for this run, so the queues and exchanges the tests declare (each
# test with its own name prefix) vanish with it; hosts left by interrupted runs go first.
# Without rabbitmqctl rights the tests use the default host (their prefixes still isolate them).
amqp_vhost=""
if command -v rabbitmqctl >/dev/null && rabbitmqctl -q list_vhosts >/dev/null 2>&1; then
  for stale in $(rabbitmqctl -q list_vhosts name | grep '^shoptest-' || true); do rabbitmqctl -q delete_vhost "$stale" >/dev/null || true; done
  amqp_vhost="shoptest-$$"
  rabbitmqctl -q add_vhost "$amqp_vhost" >/dev/null
  rabbitmqctl -q set_permissions -p "$amqp_vhost" guest '.*' '.*' '.*' >/dev/null
  export TEST_AMQP_URL="amqp://guest:guest@127.0.0.1:5672/$amqp_vhost"
fi

# Python test servers, in a venv: the MongoDB-protocol server (there is no mongod here) and an
# SMTP server (aiosmtpd) that delivers into a Maildir, for the notifications' SMTP adapter.
if [ ! -x .venv/bin/secantusd-py ] || [ ! -x .venv/bin/aiosmtpd ]; then
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check secantusdb==0.7.0b3 aiosmtpd==1.4.6
fi
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
mongo_port=$(free_port)
mongo_dir=$(mktemp -d)
.venv/bin/secantusd-py --host 127.0.0.1 --port "$mongo_port" --storage-path "$mongo_dir" --log-level WARNING &
mongo_pid=$!
smtp_port=$(free_port)
smtp_dir=$(mktemp -d)
mkdir -p "$smtp_dir/maildir/tmp" "$smtp_dir/maildir/new" "$smtp_dir/maildir/cur"
.venv/bin/python -m aiosmtpd -n -l "127.0.0.1:$smtp_port" -c aiosmtpd.handlers.Mailbox "$smtp_dir/maildir" &
smtp_pid=$!
cleanup() {
  kill "$mongo_pid" "$smtp_pid" 2>/dev/null || true; wait "$mongo_pid" "$smtp_pid" 2>/dev/null || true
  rm -rf "$mongo_dir" "$smtp_dir"
  if [ -n "$amqp_vhost" ]; then rabbitmqctl -q delete_vhost "$amqp_vhost" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT
for port in "$mongo_port" "$smtp_port"; do
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
  done
done
export TEST_MONGODB_URL="mongodb://127.0.0.1:$mongo_port"
export TEST_SMTP_URL="smtp://127.0.0.1:$smtp_port"
export TEST_SMTP_MAILDIR="$smtp_dir/maildir"

# One format for the whole tree (rustfmt.toml).
cargo fmt --all --check

# The committed SDL and supergraph must match the code and compose without breaking changes.
scripts/schema.sh check

# The lint wall (workspace lints in Cargo.toml, clippy.toml), warnings as errors.
cargo clippy --locked --workspace --all-targets -- -D warnings

# Builds every binary too: the end-to-end tests start the real router binary.
cargo build --locked --workspace --bins
cargo nextest run --locked --workspace --no-fail-fast "$@"
