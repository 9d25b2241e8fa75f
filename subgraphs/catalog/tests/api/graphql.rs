//! The schema driven directly (no socket), over a fresh SQLite store and the in-process
//! cache. Responses are checked as JSON, errors by their `extensions.code`.

use std::{
    collections::{BTreeMap, HashSet},
    sync::Arc,
};

use serde_json::{Value, json};
use shop_catalog::{
    CatalogConfig, CatalogService,
    domain::{ProductFilter, ProductSort, product::id_for_slug},
    seed::{SeedCatalog, SeedProduct},
};
use shop_kernel::{auth::Viewer, cache::MemoryCache, relay::PageRequest};
use shop_testkit::{Backend, TempDir, admin, customer, run_graphql};
use uuid::Uuid;

const SEED: &str = include_str!("../../../../seed/catalog.json");

struct Api {
    service: CatalogService,
    /// Who the requests come from.
    viewer: Viewer,
    _guard: Option<TempDir>,
}

/// A service over an empty, prepared store, called by an admin or by a customer.
async fn api(as_admin: bool) -> Api {
    let (store, guard) = crate::fresh_store(Backend::Sqlite).await;
    let service = CatalogService::from_parts(store, Arc::new(MemoryCache::new(1000)), &CatalogConfig::default());
    let viewer = if as_admin { admin() } else { customer(Uuid::new_v4()) };
    Api { service, viewer, _guard: guard }
}

fn seed() -> SeedCatalog {
    serde_json::from_str(SEED).expect("seed/catalog.json parses as a SeedCatalog")
}

/// A service holding the demo catalog.
async fn seeded_api() -> (Api, SeedCatalog) {
    let api = api(false).await;
    let seed = seed();
    let written = shop_catalog::seed::apply(&api.service.catalog, &seed).await.expect("the seed applies");
    assert_eq!(written, seed.products.len());
    (api, seed)
}

/// A service called by an admin or a customer, with one category (`bags`) to file products under;
/// returns the category id.
async fn api_with_category(as_admin: bool) -> (Api, String) {
    let api = api(as_admin).await;
    let bags = crate::category("bags", "Bags", None);
    api.service.catalog.store().upsert_category(&bags).await.expect("upsert a category");
    (api, bags.id.to_string())
}

impl Api {
    /// Runs `query` as [`Api::viewer`]; the whole response as JSON: `data`, and `errors` when
    /// there are any.
    async fn run(&self, query: &str, variables: Value) -> Value {
        run_graphql(&self.service.schema, &self.viewer, query, variables).await
    }

    /// `data` of a response that must have no errors.
    async fn data(&self, query: &str, variables: Value) -> Value {
        let response = self.run(query, variables).await;
        assert!(response.get("errors").is_none(), "unexpected errors: {response}");
        response["data"].clone()
    }

    /// How many products the store lists (bypassing the schema and its cache).
    async fn stored_total(&self) -> u64 {
        self.service
            .catalog
            .store()
            .list(&ProductFilter::default(), ProductSort::NameAsc, PageRequest { offset: 0, limit: 100 })
            .await
            .expect("list the store")
            .facets
            .total
    }
}

/// The `extensions.code` of every error of a response.
fn error_codes(response: &Value) -> Vec<String> {
    response["errors"]
        .as_array()
        .map(|errors| {
            errors.iter().map(|e| e["extensions"]["code"].as_str().unwrap_or("<no code>").to_owned()).collect()
        })
        .unwrap_or_default()
}

/// Cents as the schema writes amounts: `24.00`.
fn amount(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

fn product_id(slug: &str) -> String {
    id_for_slug("product", slug).to_string()
}

/// Seed products in the default order of `products` (name, A to Z).
fn by_name(seed: &SeedCatalog) -> Vec<&SeedProduct> {
    let mut products: Vec<&SeedProduct> = seed.products.iter().collect();
    products.sort_by(|a, b| {
        a.name.to_lowercase().cmp(&b.name.to_lowercase()).then_with(|| product_id(&a.slug).cmp(&product_id(&b.slug)))
    });
    products
}

fn edge_ids(connection: &Value) -> Vec<String> {
    connection["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|edge| edge["node"]["id"].as_str().expect("an id").to_owned())
        .collect()
}

// ---------------------------------------------------------------------------------------
// Reads.

const FIRST_PAGE: &str = r"{
  products(first: 5) {
    totalCount
    edges { cursor node { id name price { amount currencyCode } variants { sku } } }
    pageInfo { hasNextPage endCursor }
    facets { brands { value count } }
  }
}";

#[tokio::test]
async fn products_first_page_has_total_count_cursors_prices_and_facets() {
    let (api, seed) = seeded_api().await;
    assert_eq!(seed.products.len(), 70, "the demo catalog has 70 products");
    let data = api.data(FIRST_PAGE, json!({})).await;
    let products = &data["products"];

    assert_eq!(products["totalCount"], json!(seed.products.len()));
    let edges = products["edges"].as_array().expect("edges");
    assert_eq!(edges.len(), 5);
    assert_eq!(products["pageInfo"]["hasNextPage"], json!(true));
    assert_eq!(products["pageInfo"]["endCursor"], edges[4]["cursor"]);

    for (edge, expected) in edges.iter().zip(by_name(&seed)) {
        let node = &edge["node"];
        assert_eq!(node["id"], json!(product_id(&expected.slug)), "sorted by name");
        assert_eq!(node["name"], json!(expected.name));
        let cheapest = expected.variants.iter().map(|v| v.price_minor).min().expect("a variant");
        assert_eq!(
            node["price"],
            json!({ "amount": amount(cheapest), "currencyCode": "USD" }),
            "the price is the cheapest variant's, as a decimal string"
        );
        let skus: Vec<&str> =
            node["variants"].as_array().expect("variants").iter().map(|v| v["sku"].as_str().unwrap()).collect();
        let expected_skus: Vec<&str> = expected.variants.iter().map(|v| v.sku.as_str()).collect();
        assert_eq!(skus, expected_skus);
    }
    let first_amount = edges[0]["node"]["price"]["amount"].as_str().expect("amounts are strings");
    let (units, cents) = first_amount.split_once('.').expect("a decimal point");
    assert!(!units.is_empty() && units.bytes().all(|b| b.is_ascii_digit()), "{first_amount}");
    assert!(cents.len() == 2 && cents.bytes().all(|b| b.is_ascii_digit()), "{first_amount}");

    let mut brands: BTreeMap<&str, u64> = BTreeMap::new();
    for product in &seed.products {
        *brands.entry(product.brand.as_str()).or_insert(0) += 1;
    }
    let expected_brands: Vec<Value> =
        brands.into_iter().map(|(value, count)| json!({ "value": value, "count": count })).collect();
    assert_eq!(products["facets"]["brands"], json!(expected_brands), "brand counts over the whole list, not the page");
}

const PAGE: &str = r"query($first: Int, $after: String) {
  products(first: $first, after: $after) {
    edges { cursor node { id } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}";

#[tokio::test]
async fn the_next_page_after_the_end_cursor_holds_other_products() {
    let (api, seed) = seeded_api().await;
    let first = api.data(PAGE, json!({ "first": 5, "after": null })).await;
    let end_cursor = first["products"]["pageInfo"]["endCursor"].clone();
    assert!(end_cursor.is_string());
    assert_eq!(first["products"]["pageInfo"]["hasPreviousPage"], json!(false));
    let second = api.data(PAGE, json!({ "first": 5, "after": end_cursor })).await;
    assert_eq!(second["products"]["pageInfo"]["hasPreviousPage"], json!(true));

    let first_ids = edge_ids(&first["products"]);
    let second_ids = edge_ids(&second["products"]);
    assert_eq!(second_ids.len(), 5);
    assert!(second_ids.iter().all(|id| !first_ids.contains(id)), "pages do not overlap");
    let expected: Vec<String> = by_name(&seed).iter().skip(5).take(5).map(|p| product_id(&p.slug)).collect();
    assert_eq!(second_ids, expected, "the second page continues the order");

    // Walking every page visits every product once.
    let mut seen: Vec<String> = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = api.data(PAGE, json!({ "first": 20, "after": after })).await;
        seen.extend(edge_ids(&page["products"]));
        if page["products"]["pageInfo"]["hasNextPage"] != json!(true) {
            break;
        }
        after = page["products"]["pageInfo"]["endCursor"].clone();
        assert!(seen.len() <= seed.products.len(), "pagination does not end");
    }
    let all: Vec<String> = by_name(&seed).iter().map(|p| product_id(&p.slug)).collect();
    assert_eq!(seen, all);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), seed.products.len());
}

const IN_CATEGORY: &str = r"query($id: ID!) {
  products(first: 100, filter: { categoryId: $id }) {
    totalCount
    edges { node { id category { id slug } } }
    facets { categories { count category { slug } } }
  }
}";

#[tokio::test]
async fn filtering_by_a_top_level_category_lists_the_products_of_its_children() {
    let (api, seed) = seeded_api().await;
    let data = api.data("{ categories { id slug children { id slug } } }", json!({})).await;
    let roots = data["categories"].as_array().expect("categories");
    assert_eq!(roots.len(), seed.categories.iter().filter(|c| c.parent.is_none()).count(), "only top-level categories");
    let apparel = roots.iter().find(|c| c["slug"] == json!("apparel")).expect("apparel is a top-level category");
    assert_eq!(apparel["id"], json!(id_for_slug("category", "apparel").to_string()));
    let children: HashSet<String> = apparel["children"]
        .as_array()
        .expect("children")
        .iter()
        .map(|c| c["slug"].as_str().expect("a slug").to_owned())
        .collect();
    let expected_children: HashSet<String> =
        seed.categories.iter().filter(|c| c.parent.as_deref() == Some("apparel")).map(|c| c.slug.clone()).collect();
    assert_eq!(children, expected_children);

    let data = api.data(IN_CATEGORY, json!({ "id": apparel["id"] })).await;
    let products = &data["products"];
    let expected: HashSet<String> = seed
        .products
        .iter()
        .filter(|p| p.category == "apparel" || children.contains(&p.category))
        .map(|p| product_id(&p.slug))
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(products["totalCount"], json!(expected.len()));
    assert_eq!(edge_ids(products).into_iter().collect::<HashSet<_>>(), expected);
    for edge in products["edges"].as_array().expect("edges") {
        let slug = edge["node"]["category"]["slug"].as_str().expect("a category");
        assert!(children.contains(slug), "{slug} is a child of apparel");
    }
    let facet_total: u64 = products["facets"]["categories"]
        .as_array()
        .expect("category facets")
        .iter()
        .map(|f| f["count"].as_u64().unwrap())
        .sum();
    assert_eq!(facet_total, u64::try_from(expected.len()).unwrap());
}

const SEARCH: &str = r"query($search: String) {
  products(first: 100, filter: { search: $search }) {
    totalCount
    edges { node { slug name brand description attributes { value } variants { attributes { value } } } }
  }
}";

#[tokio::test]
async fn searching_cotton_finds_the_products_that_mention_cotton() {
    let (api, _seed) = seeded_api().await;
    let data = api.data(SEARCH, json!({ "search": "Cotton" })).await;
    let edges = data["products"]["edges"].as_array().expect("edges");
    let found: Vec<String> = edges.iter().map(|e| e["node"]["slug"].as_str().expect("a slug").to_owned()).collect();

    // The oracle over every stored product.
    let everything = api
        .service
        .catalog
        .store()
        .list(&ProductFilter::default(), ProductSort::NameAsc, PageRequest { offset: 0, limit: 100 })
        .await
        .expect("list the store")
        .products;
    let cotton = ProductFilter { search_words: ProductFilter::search_words_of("cotton"), ..ProductFilter::default() };
    let expected: Vec<String> = everything.iter().filter(|p| cotton.matches(p)).map(|p| p.slug.clone()).collect();
    assert_eq!(found, expected);
    assert!(found.contains(&"organic-cotton-tee".to_owned()));
    assert!(found.len() < everything.len());
    assert_eq!(data["products"]["totalCount"], json!(expected.len()));

    for edge in edges {
        let node = &edge["node"];
        let mut text = format!("{} {} {}", node["name"], node["brand"], node["description"]);
        for attribute in node["attributes"].as_array().expect("attributes") {
            text.push_str(&format!(" {}", attribute["value"]));
        }
        for variant in node["variants"].as_array().expect("variants") {
            for attribute in variant["attributes"].as_array().expect("variant attributes") {
                text.push_str(&format!(" {}", attribute["value"]));
            }
        }
        assert!(text.to_lowercase().contains("cotton"), "{} does not mention cotton: {text}", node["slug"]);
    }
}

#[tokio::test]
async fn malformed_arguments_are_bad_user_input() {
    let api = api(false).await;
    let random = Uuid::new_v4();
    let cases = [
        ("first above 100", "{ products(first: 101) { totalCount } }".to_owned()),
        ("negative first", "{ products(first: -1) { totalCount } }".to_owned()),
        ("a cursor we did not issue", r#"{ products(after: "garbage") { totalCount } }"#.to_owned()),
        ("a product id that is not a uuid", r#"{ product(id: "not-a-uuid") { id } }"#.to_owned()),
        ("both id and slug", format!(r#"{{ product(id: "{random}", slug: "organic-cotton-tee") {{ id }} }}"#)),
        ("neither id nor slug", "{ product { id } }".to_owned()),
        ("a category id that is not a uuid", r#"{ products(filter: { categoryId: "nope" }) { totalCount } }"#.to_owned()),
        ("an unknown category", format!(r#"{{ products(filter: {{ categoryId: "{random}" }}) {{ totalCount }} }}"#)),
        (
            "a negative price bound",
            r#"{ products(filter: { priceRange: { min: { amount: "-1.00", currencyCode: USD } } }) { totalCount } }"#.to_owned(),
        ),
        (
            "a minimum above the maximum",
            r#"{ products(filter: { priceRange: { min: { amount: "20", currencyCode: USD }, max: { amount: "10", currencyCode: USD } } }) { totalCount } }"#
                .to_owned(),
        ),
        ("a category looked up by an id that is not a uuid", r#"{ category(id: "nope") { id } }"#.to_owned()),
    ];
    for (label, query) in cases {
        let response = api.run(&query, json!({})).await;
        assert_eq!(error_codes(&response), ["BAD_USER_INPUT"], "{label}: {response}");
    }
}

#[tokio::test]
async fn an_unknown_product_is_null_without_an_error() {
    let api = api(false).await;
    let response = api.run(&format!(r#"{{ product(id: "{}") {{ id name }} }}"#, Uuid::new_v4()), json!({})).await;
    assert_eq!(response, json!({ "data": { "product": null } }));
    let response = api.run(r#"{ product(slug: "no-such-product") { id } }"#, json!({})).await;
    assert_eq!(response, json!({ "data": { "product": null } }));
}

const PRODUCT_ENTITIES: &str = r"query($representations: [_Any!]!) {
  _entities(representations: $representations) { ... on Product { id name } }
}";

const VARIANT_ENTITIES: &str = r"query($representations: [_Any!]!) {
  _entities(representations: $representations) { ... on ProductVariant { sku name product { id } } }
}";

#[tokio::test]
async fn entities_resolve_in_order_with_null_for_unknown_keys() {
    let (api, seed) = seeded_api().await;
    let named = |slug: &str| seed.products.iter().find(|p| p.slug == slug).expect("a seed product");
    let (a, b) = (named("organic-cotton-tee"), named("merino-wool-tee"));

    let representations = json!([
        { "__typename": "Product", "id": product_id(&a.slug) },
        { "__typename": "Product", "id": Uuid::new_v4().to_string() },
        { "__typename": "Product", "id": product_id(&b.slug) },
        { "__typename": "Product", "id": "not-a-uuid" },
    ]);
    let data = api.data(PRODUCT_ENTITIES, json!({ "representations": representations })).await;
    assert_eq!(
        data["_entities"],
        json!([
            { "id": product_id(&a.slug), "name": a.name },
            null,
            { "id": product_id(&b.slug), "name": b.name },
            null,
        ])
    );

    let (a_variant, b_variant) = (&a.variants[0], &b.variants[0]);
    let representations = json!([
        { "__typename": "ProductVariant", "sku": a_variant.sku },
        { "__typename": "ProductVariant", "sku": "NO-SUCH-SKU" },
        { "__typename": "ProductVariant", "sku": b_variant.sku },
    ]);
    let data = api.data(VARIANT_ENTITIES, json!({ "representations": representations })).await;
    assert_eq!(
        data["_entities"],
        json!([
            { "sku": a_variant.sku, "name": a_variant.name, "product": { "id": product_id(&a.slug) } },
            null,
            { "sku": b_variant.sku, "name": b_variant.name, "product": { "id": product_id(&b.slug) } },
        ])
    );
}

// ---------------------------------------------------------------------------------------
// Mutations.

const CREATE: &str = r"mutation($input: ProductCreateInput!) {
  productCreate(input: $input) {
    product { id slug name version status price { amount currencyCode } attributes { name value } variants { sku } }
    userErrors { field message code }
  }
}";

const UPDATE: &str = r"mutation($id: ID!, $expectedVersion: Int, $input: ProductUpdateInput!) {
  productUpdate(id: $id, expectedVersion: $expectedVersion, input: $input) {
    product { id name version status }
    userErrors { field message code }
  }
}";

const ARCHIVE: &str = r"mutation($id: ID!) {
  productArchive(id: $id) {
    product { id status version }
    userErrors { field message code }
  }
}";

const BY_ID: &str = r"query($id: ID!) { product(id: $id) { id name status version } }";

const BY_SLUG: &str = r"query($slug: String!) { product(slug: $slug) { id name status version } }";

const LISTED: &str = r"{ products(first: 100) { totalCount edges { node { id name version } } } }";

/// A valid `ProductCreateInput` (change it to make it invalid).
fn create_input(slug: &str, name: &str, category_id: &str, skus: &[&str], price: &str) -> Value {
    let variants: Vec<Value> = skus
        .iter()
        .map(|sku| {
            json!({
                "sku": sku,
                "name": format!("Variant {sku}"),
                "price": { "amount": price, "currencyCode": "USD" },
                "attributes": [{ "name": "Colour", "value": "Natural" }],
            })
        })
        .collect();
    json!({
        "slug": slug,
        "name": name,
        "description": "A sturdy bag of waxed canvas",
        "brand": "Harborlane",
        "categoryId": category_id,
        "attributes": [{ "name": "Material", "value": "Canvas" }],
        "variants": variants,
    })
}

/// The codes of a payload's `userErrors`.
fn user_error_codes(payload: &Value) -> Vec<String> {
    payload["userErrors"]
        .as_array()
        .expect("userErrors")
        .iter()
        .map(|e| e["code"].as_str().expect("a code").to_owned())
        .collect()
}

#[tokio::test]
async fn mutations_need_the_admin_role() {
    let (api, category_id) = api_with_category(false).await;
    let existing = crate::simple_product("existing-bag", "Existing Bag", 3000, 1);
    api.service.catalog.create(&existing).await.expect("create a product");
    let existing_id = existing.id.to_string();

    let response = api
        .run(CREATE, json!({ "input": create_input("canvas-tote", "Canvas Tote", &category_id, &["TOTE-1"], "24.00") }))
        .await;
    assert_eq!(error_codes(&response), ["FORBIDDEN"], "{response}");
    assert!(response["data"]["productCreate"].is_null());

    let response =
        api.run(UPDATE, json!({ "id": existing_id, "expectedVersion": 1, "input": { "name": "Renamed" } })).await;
    assert_eq!(error_codes(&response), ["FORBIDDEN"], "{response}");

    let response = api.run(ARCHIVE, json!({ "id": existing_id })).await;
    assert_eq!(error_codes(&response), ["FORBIDDEN"], "{response}");

    let response = run_graphql(&api.service.schema, &Viewer::Anonymous, ARCHIVE, json!({ "id": existing_id })).await;
    assert_eq!(error_codes(&response), ["UNAUTHENTICATED"], "{response}");

    // Nothing was written.
    assert_eq!(api.stored_total().await, 1);
    assert_eq!(api.service.catalog.store().product_by_slug("canvas-tote").await.unwrap(), None);
    assert_eq!(api.service.catalog.store().products_by_ids(&[existing.id]).await.unwrap(), vec![existing]);
}

#[tokio::test]
async fn product_create_returns_the_new_product_at_version_1() {
    let (api, category_id) = api_with_category(true).await;
    let input = create_input("canvas-tote", "Canvas Tote", &category_id, &["TOTE-1", "TOTE-2"], "24.00");
    let data = api.data(CREATE, json!({ "input": input })).await;
    let payload = &data["productCreate"];
    assert_eq!(payload["userErrors"], json!([]));
    assert_eq!(
        payload["product"],
        json!({
            "id": product_id("canvas-tote"),
            "slug": "canvas-tote",
            "name": "Canvas Tote",
            "version": 1,
            "status": "ACTIVE",
            "price": { "amount": "24.00", "currencyCode": "USD" },
            "attributes": [{ "name": "material", "value": "canvas" }],
            "variants": [{ "sku": "TOTE-1" }, { "sku": "TOTE-2" }],
        }),
        "attributes are stored lower-case"
    );

    let data = api.data(BY_SLUG, json!({ "slug": "canvas-tote" })).await;
    assert_eq!(data["product"]["version"], json!(1));
    let data = api.data(LISTED, json!({})).await;
    assert_eq!(data["products"]["totalCount"], json!(1));
    assert_eq!(api.stored_total().await, 1);
}

#[tokio::test]
async fn invalid_product_input_is_refused_with_user_errors_and_writes_nothing() {
    let (api, category_id) = api_with_category(true).await;
    let valid = || create_input("canvas-tote", "Canvas Tote", &category_id, &["TOTE-1"], "24.00");
    let mut no_variants = valid();
    no_variants["variants"] = json!([]);
    let mut blank_name = valid();
    blank_name["name"] = json!("   ");
    let cases = [
        (
            "a slug that is not lower-case words",
            create_input("Canvas Tote!", "Canvas Tote", &category_id, &["TOTE-1"], "24.00"),
        ),
        ("no variants", no_variants),
        ("a negative price", create_input("canvas-tote", "Canvas Tote", &category_id, &["TOTE-1"], "-1.00")),
        (
            "a price with three decimals",
            create_input("canvas-tote", "Canvas Tote", &category_id, &["TOTE-1"], "24.005"),
        ),
        ("a SKU in lower case", create_input("canvas-tote", "Canvas Tote", &category_id, &["tote-1"], "24.00")),
        (
            "the same SKU twice",
            create_input("canvas-tote", "Canvas Tote", &category_id, &["TOTE-1", "TOTE-1"], "24.00"),
        ),
        ("a blank name", blank_name),
    ];
    for (label, input) in cases {
        let data = api.data(CREATE, json!({ "input": input })).await;
        let payload = &data["productCreate"];
        assert!(payload["product"].is_null(), "{label}: {payload}");
        let codes = user_error_codes(payload);
        assert!(!codes.is_empty(), "{label}: no user errors");
        assert!(codes.iter().all(|c| c == "INVALID"), "{label}: {payload}");
    }
    assert_eq!(api.stored_total().await, 0);
    assert_eq!(api.data(LISTED, json!({})).await["products"]["totalCount"], json!(0));

    // The valid input still goes through afterwards.
    let data = api.data(CREATE, json!({ "input": valid() })).await;
    assert_eq!(data["productCreate"]["product"]["version"], json!(1), "{data}");
}

#[tokio::test]
async fn taken_slugs_taken_skus_and_unknown_categories_are_refused() {
    let (api, category_id) = api_with_category(true).await;
    let data = api
        .data(
            CREATE,
            json!({ "input": create_input("canvas-tote", "Canvas Tote", &category_id, &["TOTE-1"], "24.00") }),
        )
        .await;
    assert_eq!(data["productCreate"]["userErrors"], json!([]));

    let random_category = Uuid::new_v4().to_string();
    let cases = [
        ("a taken slug", create_input("canvas-tote", "Another Tote", &category_id, &["TOTE-2"], "20.00"), "SLUG_TAKEN"),
        (
            "a taken SKU",
            create_input("canvas-tote-two", "Canvas Tote Two", &category_id, &["TOTE-3", "TOTE-1"], "20.00"),
            "SKU_TAKEN",
        ),
        (
            "an unknown category",
            create_input("canvas-tote-three", "Canvas Tote Three", &random_category, &["TOTE-4"], "20.00"),
            "NOT_FOUND",
        ),
        (
            "a category id that is not a uuid",
            create_input("canvas-tote-four", "Canvas Tote Four", "nope", &["TOTE-5"], "20.00"),
            "NOT_FOUND",
        ),
    ];
    for (label, input, code) in cases {
        let data = api.data(CREATE, json!({ "input": input })).await;
        let payload = &data["productCreate"];
        assert!(payload["product"].is_null(), "{label}: {payload}");
        assert_eq!(user_error_codes(payload), [code], "{label}: {payload}");
    }

    assert_eq!(api.stored_total().await, 1);
    let store = api.service.catalog.store();
    assert_eq!(store.product_by_slug("canvas-tote").await.unwrap().expect("the first tote").name, "Canvas Tote");
    for slug in ["canvas-tote-two", "canvas-tote-three", "canvas-tote-four"] {
        assert_eq!(store.product_by_slug(slug).await.unwrap(), None, "{slug}");
    }
    let skus: Vec<String> = ["TOTE-2", "TOTE-3", "TOTE-4", "TOTE-5"].map(str::to_owned).to_vec();
    assert!(store.products_by_skus(&skus).await.unwrap().is_empty());
}

#[tokio::test]
async fn product_update_with_a_stale_expected_version_is_a_version_conflict() {
    let (api, category_id) = api_with_category(true).await;
    let data = api
        .data(
            CREATE,
            json!({ "input": create_input("canvas-tote", "Canvas Tote", &category_id, &["TOTE-1"], "24.00") }),
        )
        .await;
    let id = data["productCreate"]["product"]["id"].clone();

    // Warm the caches.
    assert_eq!(api.data(BY_ID, json!({ "id": id })).await["product"]["version"], json!(1));
    assert_eq!(api.data(LISTED, json!({})).await["products"]["edges"][0]["node"]["version"], json!(1));

    let data =
        api.data(UPDATE, json!({ "id": id, "expectedVersion": 1, "input": { "name": "Canvas Tote Bag" } })).await;
    let payload = &data["productUpdate"];
    assert_eq!(payload["userErrors"], json!([]));
    assert_eq!(payload["product"]["version"], json!(2));
    assert_eq!(payload["product"]["name"], json!("Canvas Tote Bag"));

    let data = api.data(UPDATE, json!({ "id": id, "expectedVersion": 1, "input": { "name": "Lost Update" } })).await;
    let payload = &data["productUpdate"];
    assert!(payload["product"].is_null(), "{payload}");
    assert_eq!(user_error_codes(payload), ["VERSION_CONFLICT"]);
    assert_eq!(payload["userErrors"][0]["field"], json!(["expectedVersion"]));

    // Reads see version 2, by id and in lists (the caches were invalidated).
    let product = api.data(BY_ID, json!({ "id": id })).await["product"].clone();
    assert_eq!((product["name"].clone(), product["version"].clone()), (json!("Canvas Tote Bag"), json!(2)));
    let listed = api.data(LISTED, json!({})).await;
    assert_eq!(listed["products"]["edges"][0]["node"], json!({ "id": id, "name": "Canvas Tote Bag", "version": 2 }));

    // Invalid changes and unknown products are user errors too.
    let data = api.data(UPDATE, json!({ "id": id, "expectedVersion": 2, "input": { "name": "  " } })).await;
    assert_eq!(user_error_codes(&data["productUpdate"]), ["INVALID"]);
    let data = api.data(UPDATE, json!({ "id": Uuid::new_v4().to_string(), "input": { "name": "Ghost" } })).await;
    assert_eq!(user_error_codes(&data["productUpdate"]), ["NOT_FOUND"]);
    assert_eq!(api.data(BY_ID, json!({ "id": id })).await["product"]["version"], json!(2));
}

#[tokio::test]
async fn archived_products_leave_lists_but_still_resolve_by_id() {
    let (api, category_id) = api_with_category(true).await;
    for (slug, name, sku) in [("canvas-tote", "Canvas Tote", "TOTE-1"), ("canvas-pouch", "Canvas Pouch", "POUCH-1")] {
        let data = api.data(CREATE, json!({ "input": create_input(slug, name, &category_id, &[sku], "24.00") })).await;
        assert_eq!(data["productCreate"]["userErrors"], json!([]));
    }
    let tote = product_id("canvas-tote");
    let pouch = product_id("canvas-pouch");
    // Warm the caches.
    assert_eq!(api.data(LISTED, json!({})).await["products"]["totalCount"], json!(2));
    assert_eq!(api.data(BY_ID, json!({ "id": tote })).await["product"]["status"], json!("ACTIVE"));

    let data = api.data(ARCHIVE, json!({ "id": tote })).await;
    let payload = &data["productArchive"];
    assert_eq!(payload["userErrors"], json!([]));
    assert_eq!(payload["product"], json!({ "id": tote, "status": "ARCHIVED", "version": 2 }));

    let listed = api.data(LISTED, json!({})).await;
    assert_eq!(listed["products"]["totalCount"], json!(1));
    assert_eq!(edge_ids(&listed["products"]), vec![pouch]);
    assert_eq!(api.data(BY_ID, json!({ "id": tote })).await["product"]["status"], json!("ARCHIVED"));
    assert!(api.data(BY_SLUG, json!({ "slug": "canvas-tote" })).await["product"].is_null(), "not by slug");
    let entities =
        api.data(PRODUCT_ENTITIES, json!({ "representations": [{ "__typename": "Product", "id": tote }] })).await;
    assert_eq!(entities["_entities"], json!([{ "id": tote, "name": "Canvas Tote" }]), "past orders still resolve it");

    // Archiving twice changes nothing; unknown products are NOT_FOUND.
    let data = api.data(ARCHIVE, json!({ "id": tote })).await;
    assert_eq!(data["productArchive"]["product"], json!({ "id": tote, "status": "ARCHIVED", "version": 2 }));
    let data = api.data(ARCHIVE, json!({ "id": Uuid::new_v4().to_string() })).await;
    assert!(data["productArchive"]["product"].is_null());
    assert_eq!(user_error_codes(&data["productArchive"]), ["NOT_FOUND"]);
}
