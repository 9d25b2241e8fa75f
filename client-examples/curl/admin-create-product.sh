#!/usr/bin/env bash
# Admin: signs in as the demo admin, then creates a product with two variants, e.g.
#
#   cargo run                                              # in one terminal
#   bash client-examples/curl/admin-create-product.sh      # in another
#
# Without an admin token the router answers UNAUTHORIZED_FIELD_OR_TYPE (and the catalog itself,
# reached directly, FORBIDDEN or UNAUTHENTICATED). Business refusals come
# back in productCreate.userErrors { field message code }: run it twice and the second run
# says SLUG_TAKEN. Prices are decimal strings in major units ("29.00"), never floats.
#
# categoryId is the demo catalog's "t-shirts" category. Demo ids are stable (derived from the
# slug), but look ids up rather than hard-coding them: { category(slug: "t-shirts") { id } }.
set -euo pipefail
ROUTER_URL="${ROUTER_URL:-http://localhost:4000/graphql}"
pretty() { if command -v python3 >/dev/null 2>&1; then python3 -m json.tool; else cat; fi; }
# Signs in as the demo admin and sets TOKEN.
source "$(dirname "$0")/admin-token.sh"

curl -sS "$ROUTER_URL" -H 'content-type: application/json' -H "authorization: Bearer $TOKEN" --data @- <<'JSON' | pretty
{
  "query": "mutation AdminCreateProduct($input: ProductCreateInput!) { productCreate(input: $input) { product { id slug name status version category { slug } price { amount currencyCode } variants { sku name price { amount currencyCode } } } userErrors { field message code } } }",
  "operationName": "AdminCreateProduct",
  "variables": {
    "input": {
      "slug": "linen-pocket-tee",
      "name": "Linen Pocket Tee",
      "description": "A light linen tee with a chest pocket.",
      "brand": "Northwind",
      "categoryId": "9cdc6258-6bca-50d0-b965-94d08b3b67ae",
      "images": [{ "url": "https://cdn.example.com/products/linen-pocket-tee/main.jpg", "alt": "Linen Pocket Tee, main view" }],
      "attributes": [{ "name": "material", "value": "linen" }],
      "variants": [
        { "sku": "NW-TEE-LIN-SND-M", "name": "Sand / M", "price": { "amount": "29.00", "currencyCode": "USD" }, "attributes": [{ "name": "colour", "value": "sand" }, { "name": "size", "value": "m" }] },
        { "sku": "NW-TEE-LIN-SND-L", "name": "Sand / L", "price": { "amount": "29.00", "currencyCode": "USD" }, "attributes": [{ "name": "colour", "value": "sand" }, { "name": "size", "value": "l" }] }
      ]
    }
  }
}
JSON
