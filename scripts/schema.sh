#!/usr/bin/env bash
# Exports every subgraph's Federation v2 SDL from the Rust code, composes the
# supergraph and checks it for breaking changes against the committed one.
#
#   scripts/schema.sh update [--allow-breaking]   rewrite schema/*.graphql
#   scripts/schema.sh check                        fail if schema/ is stale
#
# Honours CARGO_TARGET_DIR (cargo picks it up from the environment).
set -euo pipefail

usage() {
  echo "usage: scripts/schema.sh <update|check> [--allow-breaking]" >&2
  exit 2
}

[[ $# -ge 1 ]] || usage
cmd=$1
shift
case "$cmd" in
  update) mode=write ;;
  check) mode=check ;;
  -h | --help) usage ;;
  *) echo "unknown command: $cmd" >&2; usage ;;
esac

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

for tool in node npm cargo; do
  command -v "$tool" >/dev/null || { echo "error: $tool is required but not on PATH" >&2; exit 2; }
done

# Install the pinned composition tooling when missing or older than the lockfile.
if [[ ! -f tools/schema/node_modules/.package-lock.json ||
      tools/schema/package-lock.json -nt tools/schema/node_modules/.package-lock.json ]]; then
  echo "Installing tools/schema dependencies (npm ci)..." >&2
  npm ci --no-audit --no-fund --prefix tools/schema >&2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/shop-schema.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "Exporting subgraph SDL..." >&2
cargo run --quiet --locked --bin shop -- export-schema "$tmp"

node tools/schema/compose.mjs "$mode" --subgraph-dir "$tmp" "$@"
