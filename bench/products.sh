#!/usr/bin/env bash
# Benchmark (not a test): the product list with stock from inventory, through the router,
# with 50 connections, against release builds of the router and the two subgraphs running as
# separate processes, inventory on real PostgreSQL, the catalog cache on real Redis (warm),
# the catalog store on the MongoDB-protocol test server (or CATALOG_DATABASE_URL).
# Prints requests/s, p50, p99 and each process's RSS idle and after the load.
#
#   bash bench/products.sh [duration, default 30s]
#   BENCH_QUERY=variants bash bench/products.sh     # stock of every variant too (see products.lua)
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-30s}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/shop-target}"
bin="$CARGO_TARGET_DIR/release"

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
scripts/services.sh
cargo build --release --locked --workspace --bins

work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

pg_admin=${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
db="shopbench_$$"
psql "$pg_admin" -qc "DROP DATABASE IF EXISTS $db" && psql "$pg_admin" -qc "CREATE DATABASE $db"

if [ -z "${CATALOG_DATABASE_URL:-}" ]; then
  [ -x .venv/bin/secantusd-py ] || { python3 -m venv .venv && .venv/bin/pip install -q secantusdb==0.7.0b3; }
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  .venv/bin/secantusd-py --host 127.0.0.1 --port "$port" --storage-path "$work/mongo" --log-level WARNING &
  pids+=($!)
  sleep 2
  CATALOG_DATABASE_URL="mongodb://127.0.0.1:$port"
fi

export CATALOG__DATABASE_URL="$CATALOG_DATABASE_URL" CATALOG__MONGO_DATABASE="bench$$" \
  CATALOG__REDIS_URL=redis://127.0.0.1:6379 CATALOG__KEY_PREFIX="bench$$:" CATALOG__CACHE_TTL_SECS=3600 \
  INVENTORY__DATABASE_URL="${pg_admin%/*}/$db" RUST_LOG=warn
"$bin/shop" seed

sed -e 's/requests_per_second: 50/requests_per_second: 1000000/' -e 's/burst: 100/burst: 1000000/' \
    -e 's#path: ../schema/supergraph.graphql#path: '"$PWD"'/schema/supergraph.graphql#' \
    -e 's/level: info/level: warn/' router/router.yaml > "$work/router.yaml"
"$bin/catalog" & pids+=($!); catalog_pid=$!
# The browse path needs no broker: inventory runs on a private in-process bus.
SHOP_ENVIRONMENT=development "$bin/inventory" & pids+=($!); inventory_pid=$!
ROUTER_CONFIG_FILE_PATH="$work/router.yaml" "$bin/shop-router" > "$work/router.log" 2>&1 & pids+=($!); router_pid=$!
for _ in $(seq 1 100); do curl -sf http://127.0.0.1:4000/readiness >/dev/null && break; sleep 0.2; done
sleep 2

rss() { awk '/VmRSS/ { printf "%.1f MB", $2 / 1024 }' "/proc/$1/status"; }
echo "idle RSS: router $(rss $router_pid), catalog $(rss $catalog_pid), inventory $(rss $inventory_pid)"

curl -sf http://127.0.0.1:4000/graphql -H 'content-type: application/json' \
  -d '{"query":"{ categories { id children { id } } }"}' |
  python3 -c 'import json,sys; d=json.load(sys.stdin)["data"]["categories"]; ids=[c["id"] for c in d]+[k["id"] for c in d for k in c["children"]]; print("category_ids = {" + ",".join(chr(34)+i+chr(34) for i in ids) + "}")' > bench/.categories.lua

# Warm the cache with every variation, then measure.
wrk -t2 -c10 -d5s -s bench/products.lua http://127.0.0.1:4000/graphql > /dev/null
echo "load: ${BENCH_QUERY:-card} query, wrk, 2 threads, 50 connections, $duration, inbound dedupe off (hive-router default)"
wrk -t2 -c50 -d"$duration" --latency -s bench/products.lua http://127.0.0.1:4000/graphql | tail -n 8
echo "RSS after load: router $(rss $router_pid), catalog $(rss $catalog_pid), inventory $(rss $inventory_pid)"
curl -s http://127.0.0.1:4002/metrics | grep -E '^cache_hit_ratio' || true
psql "$pg_admin" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true
