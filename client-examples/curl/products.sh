#!/usr/bin/env bash
# The first page of products with their stock, per product and per variant. Stock comes from
# the inventory subgraph; the router joins it to the catalog's products in the same request.
# Next page: put pageInfo.endCursor into "after" (same sort). "first" is 0 to 100.
#
#   bash client-examples/curl/products.sh
#   ROUTER_URL=http://my-host:4000/graphql bash client-examples/curl/products.sh
set -euo pipefail
ROUTER_URL="${ROUTER_URL:-http://localhost:4000/graphql}"
pretty() { if command -v python3 >/dev/null 2>&1; then python3 -m json.tool; else cat; fi; }

curl -sS "$ROUTER_URL" -H 'content-type: application/json' --data @- <<'JSON' | pretty
{
  "query": "query ProductsWithStock($first: Int, $after: String, $sort: ProductSortKey!) { products(first: $first, after: $after, sort: $sort) { totalCount edges { cursor node { id slug name brand price { amount currencyCode } stock { inStock available } variants { sku name stock { inStock available } } } } pageInfo { hasNextPage endCursor } } }",
  "operationName": "ProductsWithStock",
  "variables": { "first": 5, "after": null, "sort": "NAME_ASC" }
}
JSON
