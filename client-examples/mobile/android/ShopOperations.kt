package shop.client

/**
 * The shared operations (the .graphql files in client-examples/operations) as constants, for
 * sending with any HTTP client (OkHttp, Ktor) as {"query": ..., "operationName": ..., "variables": ...}.
 * With Apollo Kotlin, generate typed models from the .graphql files instead (see README.md).
 *
 * Each *_FRAGMENT constant is one fragment file; each operation is its file followed by the
 * fragments it spreads, a complete document. The text is the .graphql file verbatim, except
 * that a raw string cannot hold a bare dollar sign before a name (it would be a string
 * template), so GraphQL variables are written ${'$'}first here; the constant's value is $first.
 * Change the .graphql file and this file together.
 */
object ShopOperations {
    /** operations/ProductCard.graphql */
    const val PRODUCT_CARD_FRAGMENT: String = """
# What a product tile in a list needs. images has no size argument: the first image is
# the main one, so cards show images[0].
fragment ProductCard on Product {
  id
  slug
  name
  brand
  price {
    amount
    currencyCode
  }
  images {
    url
    alt
  }
  stock {
    inStock
    available
  }
}
"""

    /** operations/AdminProduct.graphql */
    const val ADMIN_PRODUCT_FRAGMENT: String = """
# What admin screens read back after a catalog mutation. Keep version: it is the
# expectedVersion of the next productUpdate.
fragment AdminProduct on Product {
  id
  slug
  name
  brand
  status
  version
  updatedAt
  category {
    id
    slug
    name
  }
  variants {
    sku
    name
    price {
      amount
      currencyCode
    }
  }
}
"""

    /** operations/ProductList.graphql + PRODUCT_CARD_FRAGMENT */
    const val PRODUCT_LIST: String = """
# A page of products with the facet counts of the whole filtered list.
# Next page: pass pageInfo.endCursor as after with the same filter and sort.
query ProductList(
  ${'$'}first: Int = 20
  ${'$'}after: String
  ${'$'}filter: ProductFilterInput
  ${'$'}sort: ProductSortKey! = NAME_ASC
) {
  products(first: ${'$'}first, after: ${'$'}after, filter: ${'$'}filter, sort: ${'$'}sort) {
    totalCount
    edges {
      cursor
      node {
        ...ProductCard
      }
    }
    pageInfo {
      hasNextPage
      endCursor
    }
    facets {
      brands {
        value
        count
      }
      categories {
        count
        category {
          id
          slug
          name
        }
      }
      attributes {
        name
        values {
          value
          count
        }
      }
      priceRange {
        min {
          amount
          currencyCode
        }
        max {
          amount
          currencyCode
        }
      }
    }
  }
}
""" + PRODUCT_CARD_FRAGMENT

    /** operations/ProductDetail.graphql + PRODUCT_CARD_FRAGMENT */
    const val PRODUCT_DETAIL: String = """
# The product page. product is null when no product for sale has this slug.
query ProductDetail(${'$'}slug: String!) {
  product(slug: ${'$'}slug) {
    ...ProductCard
    description
    attributes {
      name
      value
    }
    variants {
      sku
      name
      price {
        amount
        currencyCode
      }
      attributes {
        name
        value
      }
      stock {
        inStock
        available
      }
    }
    category {
      id
      slug
      name
      parent {
        id
        slug
        name
      }
    }
  }
}
""" + PRODUCT_CARD_FRAGMENT

    /** operations/CategoryTree.graphql */
    const val CATEGORY_TREE: String = """
# The navigation menu: top-level categories and two levels below them.
query CategoryTree {
  categories {
    id
    slug
    name
    description
    children {
      id
      slug
      name
      children {
        id
        slug
        name
      }
    }
  }
}
"""

    /** operations/SearchProducts.graphql + PRODUCT_CARD_FRAGMENT */
    const val SEARCH_PRODUCTS: String = """
# Free-text search (prefix match on name, brand, description and attribute values),
# optionally narrowed by attribute values, e.g. [{ name: "colour", values: ["black", "navy"] }].
query SearchProducts(
  ${'$'}search: String!
  ${'$'}attributes: [AttributeFilterInput!]
  ${'$'}first: Int = 20
  ${'$'}after: String
  ${'$'}sort: ProductSortKey! = NAME_ASC
) {
  products(
    first: ${'$'}first
    after: ${'$'}after
    filter: { search: ${'$'}search, attributes: ${'$'}attributes }
    sort: ${'$'}sort
  ) {
    totalCount
    edges {
      cursor
      node {
        ...ProductCard
      }
    }
    pageInfo {
      hasNextPage
      endCursor
    }
    facets {
      attributes {
        name
        values {
          value
          count
        }
      }
    }
  }
}
""" + PRODUCT_CARD_FRAGMENT

    /** operations/ProductCreate.graphql + ADMIN_PRODUCT_FRAGMENT */
    const val PRODUCT_CREATE: String = """
# Admin: creates a product with its variants. Needs CATALOG__ADMIN_MUTATIONS_ENABLED=true.
mutation ProductCreate(${'$'}input: ProductCreateInput!) {
  productCreate(input: ${'$'}input) {
    product {
      ...AdminProduct
    }
    userErrors {
      field
      message
      code
    }
  }
}
""" + ADMIN_PRODUCT_FRAGMENT

    /** operations/ProductUpdate.graphql + ADMIN_PRODUCT_FRAGMENT */
    const val PRODUCT_UPDATE: String = """
# Admin: changes a product only if it is still at expectedVersion (from Product.version);
# otherwise userErrors has code VERSION_CONFLICT: reload and retry.
# Needs CATALOG__ADMIN_MUTATIONS_ENABLED=true.
mutation ProductUpdate(${'$'}id: ID!, ${'$'}expectedVersion: Int!, ${'$'}input: ProductUpdateInput!) {
  productUpdate(id: ${'$'}id, expectedVersion: ${'$'}expectedVersion, input: ${'$'}input) {
    product {
      ...AdminProduct
    }
    userErrors {
      field
      message
      code
    }
  }
}
""" + ADMIN_PRODUCT_FRAGMENT

    /** operations/ProductArchive.graphql + ADMIN_PRODUCT_FRAGMENT */
    const val PRODUCT_ARCHIVE: String = """
# Admin: withdraws a product from sale (still resolvable by id, no longer listed or found
# by slug). Needs CATALOG__ADMIN_MUTATIONS_ENABLED=true.
mutation ProductArchive(${'$'}id: ID!) {
  productArchive(id: ${'$'}id) {
    product {
      ...AdminProduct
    }
    userErrors {
      field
      message
      code
    }
  }
}
""" + ADMIN_PRODUCT_FRAGMENT

    /** operations/StockAdjust.graphql */
    const val STOCK_ADJUST: String = """
# Admin: corrects the on-hand stock of a SKU (delta never zero; reason 1-200 characters).
# Never takes stock below what is reserved: userErrors code INSUFFICIENT_STOCK.
# Needs an admin access token (Authorization: Bearer …).
mutation StockAdjust(${'$'}input: StockAdjustInput!) {
  stockAdjust(input: ${'$'}input) {
    stockLevel {
      sku
      onHand
      reserved
      available
    }
    userErrors {
      field
      message
      code
    }
  }
}
"""

    /** operations/StockLevel.graphql */
    const val STOCK_LEVEL: String = """
# Admin: the warehouse view of one SKU and its audit trail, newest first.
# stockLevel is null if nothing was ever recorded for the SKU.
# Needs an admin access token (Authorization: Bearer …).
query StockLevel(${'$'}sku: String!, ${'$'}first: Int = 20, ${'$'}after: String) {
  stockLevel(sku: ${'$'}sku) {
    sku
    onHand
    reserved
    available
    adjustments(first: ${'$'}first, after: ${'$'}after) {
      edges {
        cursor
        node {
          delta
          reason
          onHandAfter
          createdAt
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
}
"""
}
