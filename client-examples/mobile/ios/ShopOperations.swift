// The shared operations (the .graphql files in client-examples/operations) as string
// constants, for sending with URLSession as {"query": ..., "operationName": ..., "variables": ...}.
// With Apollo iOS, generate typed models from the .graphql files instead (see README.md).
//
// Each *Fragment constant is one fragment file; each operation is its file followed by the
// fragments it spreads, a complete document. The text is the .graphql file verbatim (the
// multi-line literal strips the 8-space indentation). Change the .graphql file and this
// file together.

enum ShopOperations {
    /// operations/ProductCard.graphql
    static let productCardFragment: String = """
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

    /// operations/AdminProduct.graphql
    static let adminProductFragment: String = """
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

    /// operations/ProductList.graphql + productCardFragment
    static let productList: String = """
        # A page of products with the facet counts of the whole filtered list.
        # Next page: pass pageInfo.endCursor as after with the same filter and sort.
        query ProductList(
          $first: Int = 20
          $after: String
          $filter: ProductFilterInput
          $sort: ProductSortKey! = NAME_ASC
        ) {
          products(first: $first, after: $after, filter: $filter, sort: $sort) {
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
        """ + "\n\n" + productCardFragment

    /// operations/ProductDetail.graphql + productCardFragment
    static let productDetail: String = """
        # The product page. product is null when no product for sale has this slug.
        query ProductDetail($slug: String!) {
          product(slug: $slug) {
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
        """ + "\n\n" + productCardFragment

    /// operations/CategoryTree.graphql
    static let categoryTree: String = """
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

    /// operations/SearchProducts.graphql + productCardFragment
    static let searchProducts: String = """
        # Free-text search (prefix match on name, brand, description and attribute values),
        # optionally narrowed by attribute values, e.g. [{ name: "colour", values: ["black", "navy"] }].
        query SearchProducts(
          $search: String!
          $attributes: [AttributeFilterInput!]
          $first: Int = 20
          $after: String
          $sort: ProductSortKey! = NAME_ASC
        ) {
          products(
            first: $first
            after: $after
            filter: { search: $search, attributes: $attributes }
            sort: $sort
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
        """ + "\n\n" + productCardFragment

    /// operations/ProductCreate.graphql + adminProductFragment
    static let productCreate: String = """
        # Admin: creates a product with its variants. Needs CATALOG__ADMIN_MUTATIONS_ENABLED=true.
        mutation ProductCreate($input: ProductCreateInput!) {
          productCreate(input: $input) {
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
        """ + "\n\n" + adminProductFragment

    /// operations/ProductUpdate.graphql + adminProductFragment
    static let productUpdate: String = """
        # Admin: changes a product only if it is still at expectedVersion (from Product.version);
        # otherwise userErrors has code VERSION_CONFLICT: reload and retry.
        # Needs CATALOG__ADMIN_MUTATIONS_ENABLED=true.
        mutation ProductUpdate($id: ID!, $expectedVersion: Int!, $input: ProductUpdateInput!) {
          productUpdate(id: $id, expectedVersion: $expectedVersion, input: $input) {
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
        """ + "\n\n" + adminProductFragment

    /// operations/ProductArchive.graphql + adminProductFragment
    static let productArchive: String = """
        # Admin: withdraws a product from sale (still resolvable by id, no longer listed or found
        # by slug). Needs CATALOG__ADMIN_MUTATIONS_ENABLED=true.
        mutation ProductArchive($id: ID!) {
          productArchive(id: $id) {
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
        """ + "\n\n" + adminProductFragment

    /// operations/StockAdjust.graphql
    static let stockAdjust: String = """
        # Admin: corrects the on-hand stock of a SKU (delta never zero; reason 1-200 characters).
        # Never takes stock below what is reserved: userErrors code INSUFFICIENT_STOCK.
        # Needs an admin access token (Authorization: Bearer …).
        mutation StockAdjust($input: StockAdjustInput!) {
          stockAdjust(input: $input) {
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

    /// operations/StockLevel.graphql
    static let stockLevel: String = """
        # Admin: the warehouse view of one SKU and its audit trail, newest first.
        # stockLevel is null if nothing was ever recorded for the SKU.
        # Needs an admin access token (Authorization: Bearer …).
        query StockLevel($sku: String!, $first: Int = 20, $after: String) {
          stockLevel(sku: $sku) {
            sku
            onHand
            reserved
            available
            adjustments(first: $first, after: $after) {
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
