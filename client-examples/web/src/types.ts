/**
 * Hand-written types for the results and variables of the operations in ./operations.ts
 * (the same as ../../operations/*.graphql). Field for field what each operation selects.
 */

// --- Scalars and enums ------------------------------------------------------------------

/** `Decimal`: an exact decimal number sent as a string, e.g. `"24.99"`. Never parse it as a float. */
export type Decimal = string;
/** `DateTime`: an RFC 3339 timestamp string, e.g. `"2025-01-31T12:00:00Z"`. */
export type DateTime = string;

export type CurrencyCode = "AUD" | "CAD" | "CHF" | "EUR" | "GBP" | "JPY" | "SEK" | "USD";
export type ProductSortKey = "NAME_ASC" | "PRICE_ASC" | "PRICE_DESC" | "NEWEST";
export type ProductStatus = "ACTIVE" | "ARCHIVED";
export type CatalogErrorCode = "INVALID" | "SLUG_TAKEN" | "SKU_TAKEN" | "NOT_FOUND" | "VERSION_CONFLICT";
export type InventoryErrorCode = "INVALID" | "NOT_FOUND" | "INSUFFICIENT_STOCK";

/** An amount of money: `amount` in major units as an exact decimal string. */
export interface Money {
  amount: string;
  currencyCode: CurrencyCode;
}

// --- Shared shapes ------------------------------------------------------------------------

export interface Image {
  url: string;
  alt: string;
}

export interface Attribute {
  name: string;
  value: string;
}

export interface Stock {
  inStock: boolean;
  available: number;
}

export interface PageInfo {
  hasNextPage: boolean;
  endCursor: string | null;
}

export interface Edge<TNode> {
  cursor: string;
  node: TNode;
}

/** A business refusal in a mutation payload (not a GraphQL error). */
export interface UserError<TCode extends string> {
  field: string[] | null;
  message: string;
  code: TCode;
}

export interface FacetValue {
  value: string;
  count: number;
}

export interface AttributeFacet {
  name: string;
  values: FacetValue[];
}

export interface CategoryRef {
  id: string;
  slug: string;
  name: string;
}

// --- Fragments ----------------------------------------------------------------------------

/** `fragment ProductCard on Product`. `images[0]` is the main picture. */
export interface ProductCard {
  id: string;
  slug: string;
  name: string;
  brand: string;
  price: Money;
  images: Image[];
  stock: Stock;
}

/** `fragment AdminProduct on Product`. */
export interface AdminProduct {
  id: string;
  slug: string;
  name: string;
  brand: string;
  status: ProductStatus;
  version: number;
  updatedAt: DateTime;
  category: CategoryRef | null;
  variants: {
    sku: string;
    name: string;
    price: Money;
  }[];
}

// --- Inputs -------------------------------------------------------------------------------

export interface MoneyInput {
  amount: Decimal;
  currencyCode: CurrencyCode;
}

export interface AttributeFilterInput {
  name: string;
  values: string[];
}

export interface ProductFilterInput {
  categoryId?: string | null;
  brands?: string[] | null;
  priceRange?: { min?: MoneyInput | null; max?: MoneyInput | null } | null;
  attributes?: AttributeFilterInput[] | null;
  search?: string | null;
}

export interface ImageInput {
  url: string;
  alt?: string;
}

export interface AttributeInput {
  name: string;
  value: string;
}

export interface VariantInput {
  sku: string;
  name: string;
  price: MoneyInput;
  attributes?: AttributeInput[];
}

export interface ProductCreateInput {
  slug: string;
  name: string;
  description?: string;
  brand: string;
  categoryId: string;
  images?: ImageInput[];
  attributes?: AttributeInput[];
  variants: VariantInput[];
}

/** Omitted fields stay as they are; lists replace the whole list. */
export interface ProductUpdateInput {
  name?: string | null;
  description?: string | null;
  brand?: string | null;
  categoryId?: string | null;
  images?: ImageInput[] | null;
  attributes?: AttributeInput[] | null;
  variants?: VariantInput[] | null;
}

export interface StockAdjustInput {
  sku: string;
  /** Units to add (positive) or remove (negative); never zero. */
  delta: number;
  /** 1-200 characters, kept in the audit trail. */
  reason: string;
}

// --- Operations ---------------------------------------------------------------------------

export interface ProductListVariables {
  /** 0 to 100; default 20. */
  first?: number | null;
  after?: string | null;
  filter?: ProductFilterInput | null;
  sort?: ProductSortKey;
}

export interface ProductListData {
  products: {
    totalCount: number;
    edges: Edge<ProductCard>[];
    pageInfo: PageInfo;
    facets: {
      brands: FacetValue[];
      categories: { count: number; category: CategoryRef | null }[];
      attributes: AttributeFacet[];
      /** null when nothing matched. */
      priceRange: { min: Money; max: Money } | null;
    };
  };
}

export interface ProductDetailVariables {
  slug: string;
}

export interface ProductVariantDetail {
  sku: string;
  name: string;
  price: Money;
  attributes: Attribute[];
  stock: Stock;
}

export interface ProductDetail extends ProductCard {
  description: string;
  attributes: Attribute[];
  variants: ProductVariantDetail[];
  category: (CategoryRef & { parent: CategoryRef | null }) | null;
}

export interface ProductDetailData {
  /** null when no product for sale has this slug. */
  product: ProductDetail | null;
}

export type CategoryTreeVariables = Record<string, never>;

export interface CategoryTreeData {
  categories: (CategoryRef & {
    description: string;
    children: (CategoryRef & { children: CategoryRef[] })[];
  })[];
}

export interface SearchProductsVariables {
  search: string;
  attributes?: AttributeFilterInput[] | null;
  first?: number | null;
  after?: string | null;
  sort?: ProductSortKey;
}

export interface SearchProductsData {
  products: {
    totalCount: number;
    edges: Edge<ProductCard>[];
    pageInfo: PageInfo;
    facets: { attributes: AttributeFacet[] };
  };
}

export interface ProductCreateVariables {
  input: ProductCreateInput;
}

export interface ProductCreateData {
  productCreate: { product: AdminProduct | null; userErrors: UserError<CatalogErrorCode>[] };
}

export interface ProductUpdateVariables {
  id: string;
  /** `Product.version` as last read; the update is refused with VERSION_CONFLICT if it moved on. */
  expectedVersion: number;
  input: ProductUpdateInput;
}

export interface ProductUpdateData {
  productUpdate: { product: AdminProduct | null; userErrors: UserError<CatalogErrorCode>[] };
}

export interface ProductArchiveVariables {
  id: string;
}

export interface ProductArchiveData {
  productArchive: { product: AdminProduct | null; userErrors: UserError<CatalogErrorCode>[] };
}

export interface StockLevelSummary {
  sku: string;
  onHand: number;
  reserved: number;
  available: number;
}

export interface StockAdjustVariables {
  input: StockAdjustInput;
}

export interface StockAdjustData {
  stockAdjust: { stockLevel: StockLevelSummary | null; userErrors: UserError<InventoryErrorCode>[] };
}

export interface StockLevelVariables {
  sku: string;
  first?: number | null;
  after?: string | null;
}

export interface StockAdjustment {
  delta: number;
  reason: string;
  onHandAfter: number;
  createdAt: DateTime;
}

export interface StockLevelData {
  /** null if nothing was ever recorded for the SKU. */
  stockLevel:
    | (StockLevelSummary & {
        adjustments: { edges: Edge<StockAdjustment>[]; pageInfo: PageInfo };
      })
    | null;
}
