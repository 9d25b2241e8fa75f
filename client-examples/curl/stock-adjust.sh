#!/usr/bin/env bash
# Admin: adds 25 units of a demo SKU (seeded sold out) and reads back its stock level with the
# latest entries of its audit trail, signed in as the demo admin, e.g.
#
#   cargo run                                              # in one terminal
#   bash client-examples/curl/stock-adjust.sh              # in another
#
# Without an admin token the router answers UNAUTHORIZED_FIELD_OR_TYPE. Refusals come back in
# stockAdjust.userErrors { field message code }: INVALID (delta 0, reason not 1-200 characters),
# NOT_FOUND (inventory has never recorded the SKU), INSUFFICIENT_STOCK (a negative delta would
# leave less on hand than is reserved for orders).
set -euo pipefail
ROUTER_URL="${ROUTER_URL:-http://localhost:4000/graphql}"
pretty() { if command -v python3 >/dev/null 2>&1; then python3 -m json.tool; else cat; fi; }
# Signs in as the demo admin and sets TOKEN.
source "$(dirname "$0")/admin-token.sh"

curl -sS "$ROUTER_URL" -H 'content-type: application/json' -H "authorization: Bearer $TOKEN" --data @- <<'JSON' | pretty
{
  "query": "mutation AdminStockAdjust($input: StockAdjustInput!) { stockAdjust(input: $input) { stockLevel { sku onHand reserved available adjustments(first: 5) { edges { node { delta reason onHandAfter createdAt } } pageInfo { hasNextPage endCursor } } } userErrors { field message code } } }",
  "operationName": "AdminStockAdjust",
  "variables": {
    "input": { "sku": "NW-TEE-ORG-WHT-L", "delta": 25, "reason": "cycle count: found a carton in aisle 4" }
  }
}
JSON
