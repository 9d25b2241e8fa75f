#!/usr/bin/env bash
# One product by slug, as a product page needs it: description, attributes, every variant
# with its price, attributes and stock, and the category with its parent.
# "product" is null if no product for sale has the slug (archived products are not found by slug).
#
#   bash client-examples/curl/product-by-slug.sh
#   ROUTER_URL=http://my-host:4000/graphql bash client-examples/curl/product-by-slug.sh
set -euo pipefail
ROUTER_URL="${ROUTER_URL:-http://localhost:4000/graphql}"
pretty() { if command -v python3 >/dev/null 2>&1; then python3 -m json.tool; else cat; fi; }

curl -sS "$ROUTER_URL" -H 'content-type: application/json' --data @- <<'JSON' | pretty
{
  "query": "query ProductBySlug($slug: String!) { product(slug: $slug) { id slug name brand description price { amount currencyCode } images { url alt } attributes { name value } stock { inStock available } variants { sku name price { amount currencyCode } attributes { name value } stock { inStock available } } category { id slug name parent { id slug name } } } }",
  "operationName": "ProductBySlug",
  "variables": { "slug": "organic-cotton-tee" }
}
JSON
