#!/usr/bin/env bash
# Sourced by the admin examples: signs in as the demo admin (development seed, see README) and
# sets TOKEN to its access token. ROUTER_URL, ADMIN_EMAIL and ADMIN_PASSWORD may be overridden.
ROUTER_URL="${ROUTER_URL:-http://localhost:4000/graphql}"
# Sign in as the demo admin (dev seed; see README) and keep the access token.
ADMIN_EMAIL="${ADMIN_EMAIL:-admin@shop.local}"
ADMIN_PASSWORD="${ADMIN_PASSWORD:-admin-password-123}"
TOKEN=$(curl -sS "$ROUTER_URL" -H 'content-type: application/json' \
  -d "{\"query\":\"mutation(\$i: LoginInput!) { login(input: \$i) { accessToken } }\",\"variables\":{\"i\":{\"email\":\"$ADMIN_EMAIL\",\"password\":\"$ADMIN_PASSWORD\"}}}" \
  | sed -E 's/.*"accessToken":"([^"]+)".*/\1/')
