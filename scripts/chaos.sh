#!/usr/bin/env bash
# The chaos suite: the real binaries as separate processes against real PostgreSQL, Redis and
# a RabbitMQ node of the suite's own, a stream of checkouts through the router, and while it
# runs kill -9 of orders, inventory and payments, broker restarts, PostgreSQL connection cuts
# and a payment-provider outage. Afterwards it checks that nothing was lost or charged twice
# (examples/chaos.rs prints each invariant and `N passed, N failed`) and exits non-zero when
# an invariant breaks.
#
#   bash scripts/chaos.sh [orders, default 1000] [kills per service, default 2]
#
# CI runs the short version: `bash scripts/chaos.sh 200 1`. It uses ports 4000-4006 (the
# stack), 4090/4091 (the provider and its proxy), 55432 (the PostgreSQL proxy) and 5680/25680
# (its RabbitMQ node `chaos1@localhost`): stop a `cargo run` first. It needs a local RabbitMQ
# installation (`rabbitmq-server`, `rabbitmqctl`) and root, to hand the node's folder to the
# rabbitmq user; one chaos run at a time per machine.
set -euo pipefail
cd "$(dirname "$0")/.."
orders=${1:-1000}
kills=${2:-2}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/shop-target}"
bin="$CARGO_TARGET_DIR/debug"

scripts/services.sh
cargo build --locked --workspace --bins --example chaos

work=$(mktemp -d /tmp/shop-chaos.XXXXXX)
# The broker runs as the rabbitmq user: it must pass through to its folder inside.
chmod 711 "$work"
node=chaos1@localhost
pg_admin=${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
dbs=(inventory orders payments)
provider_pid=""
cleanup() {
  status=$?
  [ -n "$provider_pid" ] && { kill "$provider_pid" 2>/dev/null || true; }
  rabbitmqctl -q -n "$node" stop >/dev/null 2>&1 || true
  for name in "${dbs[@]}"; do
    psql "$pg_admin" -qc "DROP DATABASE IF EXISTS chaos_${name}_$$ WITH (FORCE)" >/dev/null 2>&1 || true
  done
  redis-cli --scan --pattern "chaos$$:*" 2>/dev/null | xargs -r redis-cli del >/dev/null 2>&1 || true
  if [ "$status" -ne 0 ]; then
    # Keep the processes' logs of a failed run: they are what explains it.
    echo "logs of this run: $work" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

# A RabbitMQ node of the suite's own, so restarting it leaves the machine's broker alone. A
# node left running by an interrupted run is stopped first (it holds the ports).
rabbitmqctl -q -n "$node" stop >/dev/null 2>&1 || true
mkdir -p "$work/rabbit/mnesia" "$work/rabbit/log"
echo '[].' > "$work/rabbit/enabled_plugins"
# A config file of its own: the machine's names the shared broker's listener, which would clash.
echo 'listeners.tcp.local = 127.0.0.1:5680' > "$work/rabbit/rabbitmq.conf"
chown -R rabbitmq:rabbitmq "$work/rabbit"
RABBITMQ_NODENAME=$node RABBITMQ_NODE_PORT=5680 RABBITMQ_DIST_PORT=25680 RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
  RABBITMQ_MNESIA_BASE="$work/rabbit/mnesia" RABBITMQ_LOG_BASE="$work/rabbit/log" \
  RABBITMQ_ENABLED_PLUGINS_FILE="$work/rabbit/enabled_plugins" RABBITMQ_CONFIG_FILE="$work/rabbit/rabbitmq.conf" \
  rabbitmq-server -detached

for name in "${dbs[@]}"; do psql "$pg_admin" -qc "CREATE DATABASE chaos_${name}_$$"; done
pg_server=${pg_admin%/*}           # postgres://user@host:port
export CHAOS_PG_UPSTREAM=${pg_server##*@}
direct() { echo "$pg_server/chaos_${1}_$$"; }
# The services reach PostgreSQL through the driver's proxy, which cuts their connections.
proxied() { echo "${pg_server%@*}@127.0.0.1:55432/chaos_${1}_$$"; }

PROVIDER_LISTEN=127.0.0.1:4090 PROVIDER_SLOW_MS=500 PROVIDER_LATE_MS=3000 \
  "$bin/simulated-provider" > "$work/provider.log" 2>&1 &
provider_pid=$!

for _ in $(seq 1 120); do
  (exec 3<>/dev/tcp/127.0.0.1/5680) 2>/dev/null && break
  sleep 1
done
(exec 3<>/dev/tcp/127.0.0.1/5680) 2>/dev/null || { echo "error: the suite's RabbitMQ node did not start" >&2; exit 1; }

amqp="amqp://guest:guest@127.0.0.1:5680/%2f"
export RUST_LOG=info
export USERS__DATABASE_URL="sqlite://$work/users.db?mode=rwc" USERS__SIGNING_KEY_FILE="$work/key.pem" USERS__AMQP_URL="$amqp"
export CATALOG__DATABASE_URL="sqlite://$work/catalog.db?mode=rwc"
export CART__REDIS_URL=redis://127.0.0.1:6379 CART__KEY_PREFIX="chaos$$:cart:" CART__AMQP_URL="$amqp"
export INVENTORY__AMQP_URL="$amqp" ORDERS__AMQP_URL="$amqp" PAYMENTS__AMQP_URL="$amqp"
# Deadlines short enough that compensations happen inside the run; the hold outlives the
# payment deadline twice over (start-up refuses less).
export ORDERS__PAYMENT_TIMEOUT_SECS=20 ORDERS__SWEEP_INTERVAL_SECS=2
export INVENTORY__RESERVATION_TTL_SECS=60 INVENTORY__SWEEP_INTERVAL_SECS=2
export PAYMENTS__PROVIDER__URL=http://127.0.0.1:4091
# Demo data straight into the stores, before the proxy exists.
INVENTORY__DATABASE_URL="$(direct inventory)" ORDERS__DATABASE_URL="$(direct orders)" \
  PAYMENTS__DATABASE_URL="$(direct payments)" "$bin/shop" seed > "$work/seed.log" 2>&1
export INVENTORY__DATABASE_URL="$(proxied inventory)" ORDERS__DATABASE_URL="$(proxied orders)"
export PAYMENTS__DATABASE_URL="$(proxied payments)"

sed -e 's/requests_per_second: 50/requests_per_second: 1000000/' -e 's/burst: 100/burst: 1000000/' \
    -e 's#path: ../schema/supergraph.graphql#path: '"$PWD"'/schema/supergraph.graphql#' \
    -e 's/level: info/level: warn/' router/router.yaml > "$work/router.yaml"
export ROUTER_CONFIG_FILE_PATH="$work/router.yaml"

CHAOS_ORDERS=$orders CHAOS_KILLS=$kills CHAOS_BROKER_RESTARTS=$kills CHAOS_DATABASE_CUTS=$kills \
  CHAOS_BIN="$bin" CHAOS_LOGS="$work" CHAOS_RABBIT_NODE=$node \
  CHAOS_ORDERS_DB="$(direct orders)" CHAOS_INVENTORY_DB="$(direct inventory)" CHAOS_PAYMENTS_DB="$(direct payments)" \
  "$bin/examples/chaos"
