#!/usr/bin/env bash
# A customer buys one unit of a demo SKU and follows the order live over SSE until the saga
# confirms (or cancels) it, e.g.
#
#   cargo run                                   # in one terminal
#   bash client-examples/curl/checkout.sh       # in another
#   PAYMENT_TOKEN=tok_declined bash client-examples/curl/checkout.sh   # watch it cancel
#
# Test payment tokens: tok_visa, tok_slow, tok_declined, tok_insufficient_funds, tok_timeout.
set -euo pipefail
ROUTER_URL="${ROUTER_URL:-http://localhost:4000/graphql}"
SKU="${SKU:-CR-WCS-3IN1-WHT}"
PAYMENT_TOKEN="${PAYMENT_TOKEN:-tok_visa}"

TOKEN=$(curl -sS "$ROUTER_URL" -H 'content-type: application/json' \
  -d '{"query":"mutation { login(input: { email: \"customer@shop.local\", password: \"customer-password-123\" }) { accessToken } }"}' |
  sed -E 's/.*"accessToken":"([^"]+)".*/\1/')

placed=$(curl -sS "$ROUTER_URL" -H 'content-type: application/json' -H "authorization: Bearer $TOKEN" --data @- <<JSON
{
  "query": "mutation Checkout(\$input: CheckoutInput!) { checkout(input: \$input) { order { id status subtotal { amount } shipping { amount } tax { amount } total { amount currencyCode } } userErrors { field message code } } }",
  "variables": { "input": {
    "lines": [{ "sku": "$SKU", "quantity": 1 }],
    "shippingAddress": { "name": "Ada Customer", "line1": "1 Main Street", "city": "Springfield", "postalCode": "12345", "country": "US" },
    "paymentToken": "$PAYMENT_TOKEN",
    "idempotencyKey": "curl-$(date +%s%N)"
  } }
}
JSON
)
echo "$placed"
order_id=$(echo "$placed" | sed -nE 's/.*"order":\{"id":"([^"]+)".*/\1/p')
[ -n "$order_id" ] || exit 1

echo "following $order_id (Ctrl-C to stop):"
# The reader stops at a final state, which cuts curl off mid-stream: that is not a failure.
set +o pipefail
curl -sSN "$ROUTER_URL" -H 'content-type: application/json' -H 'accept: text/event-stream' \
  -H "authorization: Bearer $TOKEN" \
  -d '{"query":"subscription($id: ID!) { orderUpdated(orderId: $id) { status paymentStatus events { status note } } }","variables":{"id":"'"$order_id"'"}}' |
  while IFS= read -r line; do
    case "$line" in
      data:*) echo "${line#data: }"
        case "$line" in *'"status":"CONFIRMED","paymentStatus":"CAPTURED"'* | *'"status":"CANCELLED"'*) exit 0 ;; esac ;;
    esac
  done
