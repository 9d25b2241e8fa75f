#!/usr/bin/env bash
# Benchmark (not a test): concurrent checkouts through the router against release builds of
# every subgraph as separate processes, with orders, payments and inventory on real
# PostgreSQL and the saga on real RabbitMQ (users and catalog on SQLite, cart on Redis).
# Prints orders/s and p50/p99 of the checkout call and of checkout -> CONFIRMED
# (examples/checkout_load.rs), and each process's RSS after the load.
#
#   bash bench/checkout.sh [seconds, default 30] [concurrency, default 64]
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-30}
concurrency=${2:-64}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/shop-target}"
bin="$CARGO_TARGET_DIR/release"

scripts/services.sh
cargo build --release --locked --workspace --bins --example checkout_load

work=$(mktemp -d)
pids=()
pg_admin=${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
dbs=(inventory orders payments)
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for name in "${dbs[@]}"; do psql "$pg_admin" -qc "DROP DATABASE IF EXISTS shopbench_${name}_$$ WITH (FORCE)" >/dev/null 2>&1 || true; done
  rabbitmqctl -q delete_vhost "shopbench-$$" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
for name in "${dbs[@]}"; do psql "$pg_admin" -qc "CREATE DATABASE shopbench_${name}_$$"; done
pg() { echo "${pg_admin%/*}/shopbench_${1}_$$"; }

# A virtual host of its own: everything the run declares goes with it.
prefix=""
vhost="shopbench-$$"
rabbitmqctl -q add_vhost "$vhost" >/dev/null
rabbitmqctl -q set_permissions -p "$vhost" guest '.*' '.*' '.*' >/dev/null
export RUST_LOG=warn AMQP="amqp://guest:guest@127.0.0.1:5672/$vhost"
export USERS__DATABASE_URL="sqlite://$work/users.db?mode=rwc" USERS__SIGNING_KEY_FILE="$work/key.pem" USERS__AMQP_URL="$AMQP"
export CATALOG__DATABASE_URL="sqlite://$work/catalog.db?mode=rwc"
export INVENTORY__DATABASE_URL="$(pg inventory)" INVENTORY__AMQP_URL="$AMQP" INVENTORY__QUEUE_PREFIX="$prefix"
export CART__REDIS_URL=redis://127.0.0.1:6379 CART__KEY_PREFIX="bench$$:cart:" CART__AMQP_URL="$AMQP" CART__QUEUE_PREFIX="$prefix"
export ORDERS__DATABASE_URL="$(pg orders)" ORDERS__AMQP_URL="$AMQP" ORDERS__QUEUE_PREFIX="$prefix" ORDERS__MAX_CONNECTIONS=32
export PAYMENTS__DATABASE_URL="$(pg payments)" PAYMENTS__AMQP_URL="$AMQP" PAYMENTS__QUEUE_PREFIX="$prefix"
"$bin/shop" seed

sed -e 's/requests_per_second: 50/requests_per_second: 1000000/' -e 's/burst: 100/burst: 1000000/' \
    -e 's#path: ../schema/supergraph.graphql#path: '"$PWD"'/schema/supergraph.graphql#' \
    -e 's/level: info/level: warn/' router/router.yaml > "$work/router.yaml"
declare -A pid_of
for service in users catalog inventory cart orders payments; do
  "$bin/$service" > "$work/$service.log" 2>&1 &
  pids+=($!); pid_of[$service]=$!
done
ROUTER_CONFIG_FILE_PATH="$work/router.yaml" "$bin/shop-router" > "$work/router.log" 2>&1 & pids+=($!); pid_of[router]=$!
ready() {
  local name=$1 url=$2
  for _ in $(seq 1 150); do curl -sf "$url" >/dev/null && return 0; sleep 0.2; done
  echo "error: $name did not become ready; its log:" >&2
  tail -n 30 "$work/$name.log" >&2
  exit 1
}
ready router http://127.0.0.1:4000/readiness
port=4001
for service in users catalog inventory cart orders payments; do
  ready "$service" "http://127.0.0.1:$port/health/ready"
  port=$((port + 1))
done
sleep 2

ROUTER_URL=http://127.0.0.1:4000 AMQP_URL="$AMQP" QUEUE_PREFIX="$prefix" CONCURRENCY="$concurrency" DURATION_SECS="$duration" \
  "$bin/examples/checkout_load"

rss() { awk '/VmRSS/ { printf "%.0f MB", $2 / 1024 }' "/proc/$1/status"; }
line="RSS after load:"
for service in router users catalog inventory cart orders payments; do line="$line $service $(rss "${pid_of[$service]}"),"; done
echo "${line%,}"
