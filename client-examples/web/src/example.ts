/**
 * Lists the first page of products, follows the cursor once, and shows the first product's
 * detail. Prices stay decimal strings end to end: arithmetic uses BigInt, and
 * Intl.NumberFormat only formats them for display.
 *
 *   npm install && npm run example                 # router at http://localhost:4000/graphql
 *   ROUTER_URL=http://host:4000/graphql npm run example
 */
import { DEFAULT_ENDPOINT, GraphQLRequestError, createClient } from "./client.js";
import { ProductDetail, ProductList } from "./operations.js";
import type { Money, ProductListData, ProductListVariables } from "./types.js";

// Node's `process`, looked up without depending on @types/node (this file also runs in browsers).
const nodeProcess = (globalThis as { process?: { env: Record<string, string | undefined>; exitCode?: number } })
  .process;

const { graphql } = createClient({ endpoint: nodeProcess?.env["ROUTER_URL"] ?? DEFAULT_ENDPOINT });

// --- Money without floats ---------------------------------------------------------------------

const DECIMAL = /^-?\d+(?:\.\d+)?$/;

/** For display only: Intl.NumberFormat formats the decimal string itself (no Number() first). */
function formatMoney(money: Money, locale = "en-US"): string {
  if (!DECIMAL.test(money.amount)) throw new Error(`not a decimal amount: ${money.amount}`);
  return new Intl.NumberFormat(locale, { style: "currency", currency: money.currencyCode }).format(
    money.amount as Intl.StringNumericLiteral,
  );
}

/** Exact arithmetic: the amount as an integer count of 10^-scale units, e.g. "24.99" -> 2499n, 2. */
function toScaled(amount: string): { units: bigint; scale: number } {
  if (!DECIMAL.test(amount)) throw new Error(`not a decimal amount: ${amount}`);
  const negative = amount.startsWith("-");
  const [whole = "0", fraction = ""] = (negative ? amount.slice(1) : amount).split(".");
  const units = BigInt(whole + fraction);
  return { units: negative ? -units : units, scale: fraction.length };
}

function fromScaled(units: bigint, scale: number): string {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(scale + 1, "0");
  const whole = digits.slice(0, digits.length - scale);
  const fraction = digits.slice(digits.length - scale);
  return `${negative ? "-" : ""}${whole}${scale > 0 ? `.${fraction}` : ""}`;
}

function multiplyMoney(money: Money, quantity: number): Money {
  if (!Number.isSafeInteger(quantity)) throw new Error(`quantity must be an integer: ${quantity}`);
  const { units, scale } = toScaled(money.amount);
  return { amount: fromScaled(units * BigInt(quantity), scale), currencyCode: money.currencyCode };
}

function compareMoney(a: Money, b: Money): number {
  if (a.currencyCode !== b.currencyCode) throw new Error("cannot compare amounts in different currencies");
  const x = toScaled(a.amount);
  const y = toScaled(b.amount);
  const scale = Math.max(x.scale, y.scale);
  const left = x.units * 10n ** BigInt(scale - x.scale);
  const right = y.units * 10n ** BigInt(scale - y.scale);
  return left < right ? -1 : left > right ? 1 : 0;
}

// --- The walk-through -------------------------------------------------------------------------

function printPage(label: string, data: ProductListData): void {
  const { products } = data;
  console.log(`\n${label} (${products.edges.length} of ${products.totalCount} products)`);
  for (const { node } of products.edges) {
    const stock = node.stock.inStock ? `${node.stock.available} in stock` : "sold out";
    const image = node.images[0]?.url ?? "(no image)";
    console.log(`  ${node.name} by ${node.brand}: from ${formatMoney(node.price)}, ${stock}  ${image}`);
  }
}

async function main(): Promise<void> {
  const variables: ProductListVariables = { first: 5, sort: "NAME_ASC" };

  // Types are inferred from the typed operation...
  const firstPage = await graphql(ProductList, variables);
  printPage("Page 1", firstPage);

  const { facets } = firstPage.products;
  console.log(`  brands: ${facets.brands.map((b) => `${b.value} (${b.count})`).join(", ")}`);
  if (facets.priceRange) {
    console.log(`  prices: ${formatMoney(facets.priceRange.min)} to ${formatMoney(facets.priceRange.max)}`);
  }

  // ...or given explicitly. Same filter and sort, `after` = the previous page's endCursor.
  const { hasNextPage, endCursor } = firstPage.products.pageInfo;
  if (hasNextPage && endCursor !== null) {
    const secondPage = await graphql<ProductListData, ProductListVariables>(ProductList, {
      ...variables,
      after: endCursor,
    });
    printPage("Page 2", secondPage);
  }

  const slug = firstPage.products.edges[0]?.node.slug;
  if (slug === undefined) {
    console.log("No products: did `cargo run` seed the demo catalog?");
    return;
  }

  const { product } = await graphql(ProductDetail, { slug });
  if (product === null) {
    console.log(`\nNo product for sale with slug ${slug}`);
    return;
  }
  const path = [product.category?.parent?.name, product.category?.name].filter(Boolean).join(" > ");
  console.log(`\n${product.name} by ${product.brand} (${path})`);
  console.log(`  ${product.description}`);
  console.log(`  ${product.attributes.map((a) => `${a.name}: ${a.value}`).join(", ")}`);
  for (const variant of product.variants) {
    const stock = variant.stock.inStock ? `${variant.stock.available} available` : "sold out";
    console.log(`  ${variant.sku.padEnd(20)} ${variant.name.padEnd(16)} ${formatMoney(variant.price).padStart(10)}  ${stock}`);
  }

  const cheapest = product.variants.reduce<Money | undefined>(
    (low, v) => (low === undefined || compareMoney(v.price, low) < 0 ? v.price : low),
    undefined,
  );
  if (cheapest) {
    const total = multiplyMoney(cheapest, 3);
    console.log(`  3 x ${cheapest.amount} = ${total.amount} ${total.currencyCode} (${formatMoney(total, "de-DE")} in German)`);
  }
}

main().catch((error: unknown) => {
  if (error instanceof GraphQLRequestError) {
    console.error(`GraphQL request failed (HTTP ${error.status}, ${error.codes.join(", ")}): ${error.message}`);
    if (error.hasCode("RATE_LIMITED")) console.error(`Rate limited; try again in ${error.retryAfterSeconds ?? "a few"}s.`);
    if (error.hasCode("NETWORK_ERROR")) console.error("Is the router running? `cargo run` at the repository root.");
  } else {
    console.error(error);
  }
  if (nodeProcess) nodeProcess.exitCode = 1;
});
