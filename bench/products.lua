-- wrk script: the product-list-with-stock query, with variables that differ from request to
-- request (category, sort, page size, cursor) so identical in-flight requests are rare and the
-- router's deduplication (off by default anyway) cannot flatter the result.
-- `bench/products.sh` writes bench/.categories.lua with `category_ids = { ... }` first.

dofile("bench/.categories.lua")

-- BENCH_QUERY=card (default): what a product list shows, stock per product (catalog + one
-- inventory call per request). BENCH_QUERY=variants: stock of every variant too (catalog +
-- two inventory calls per request: one for Product.stock, one for ProductVariant.stock).
local card = [[query Products($first: Int, $after: String, $filter: ProductFilterInput, $sort: ProductSortKey) {
  products(first: $first, after: $after, filter: $filter, sort: $sort) {
    totalCount
    edges { cursor node { id name slug brand price { amount currencyCode } images { url alt } stock { available inStock } } }
    pageInfo { hasNextPage endCursor } } }]]
local variants = [[query Products($first: Int, $after: String, $filter: ProductFilterInput, $sort: ProductSortKey) {
  products(first: $first, after: $after, filter: $filter, sort: $sort) {
    totalCount
    edges { cursor node { id name slug brand price { amount currencyCode } stock { available inStock }
      variants { sku price { amount } stock { available } } } }
    pageInfo { hasNextPage endCursor } } }]]
local query = (os.getenv("BENCH_QUERY") == "variants") and variants or card

local sorts = { "NAME_ASC", "PRICE_ASC", "PRICE_DESC", "NEWEST" }
local sizes = { 10, 20 }
-- base64url("o:9"): the cursor after the tenth item
local afters = { "null", '"bzo5"' }
local bodies = {}

local function escape(s)
  return (s:gsub("\\", "\\\\"):gsub('"', '\\"'):gsub("\n", "\\n"))
end

function init(args)
  local categories = { "null" }
  for _, id in ipairs(category_ids) do
    table.insert(categories, '{"categoryId":"' .. id .. '"}')
  end
  for _, filter in ipairs(categories) do
    for _, sort in ipairs(sorts) do
      for _, size in ipairs(sizes) do
        for _, after in ipairs(afters) do
          local variables = string.format('{"first":%d,"after":%s,"filter":%s,"sort":"%s"}', size, after, filter, sort)
          table.insert(bodies, '{"query":"' .. escape(query) .. '","variables":' .. variables .. '}')
        end
      end
    end
  end
end

-- 21 category filters (none, 5 top-level, 15 leaves) x 4 sorts x 2 page sizes x 2 cursors.
local counter = 0
function request()
  counter = counter + 1
  local body = bodies[(counter % #bodies) + 1]
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, body)
end

function done(summary, latency, requests)
  io.write(string.format("requests/s: %.0f\n", summary.requests / (summary.duration / 1e6)))
  io.write(string.format("p50: %.2f ms\np99: %.2f ms\n", latency:percentile(50) / 1000, latency:percentile(99) / 1000))
  io.write(string.format("errors: connect %d, read %d, write %d, status %d, timeout %d\n",
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.status, summary.errors.timeout))
end
