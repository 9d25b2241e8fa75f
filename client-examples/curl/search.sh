#!/usr/bin/env bash
# Full-text search (prefix match on name, brand, description and attribute values), narrowed
# to black or navy items, with the attribute facets of all matches for a filter menu.
# Attribute filters: names are ANDed, the values of one name are ORed.
#
#   bash client-examples/curl/search.sh
#   ROUTER_URL=http://my-host:4000/graphql bash client-examples/curl/search.sh
set -euo pipefail
ROUTER_URL="${ROUTER_URL:-http://localhost:4000/graphql}"
pretty() { if command -v python3 >/dev/null 2>&1; then python3 -m json.tool; else cat; fi; }

curl -sS "$ROUTER_URL" -H 'content-type: application/json' --data @- <<'JSON' | pretty
{
  "query": "query Search($search: String!, $attributes: [AttributeFilterInput!], $first: Int) { products(first: $first, filter: { search: $search, attributes: $attributes }) { totalCount edges { node { slug name brand price { amount currencyCode } stock { inStock available } } } pageInfo { hasNextPage endCursor } facets { attributes { name values { value count } } priceRange { min { amount currencyCode } max { amount currencyCode } } } } }",
  "operationName": "Search",
  "variables": {
    "search": "cotton",
    "attributes": [{ "name": "colour", "values": ["black", "navy"] }],
    "first": 10
  }
}
JSON
