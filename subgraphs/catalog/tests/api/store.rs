//! The store contract: what `CatalogStore` promises, checked on SQLite and on MongoDB.
//!
//! Lists are checked against the oracle `ProductFilter::matches` over the fixture (active
//! products only) and against hand-written expectations, so a broken oracle shows too.

use std::collections::BTreeMap;

use shop_catalog::{
    domain::{
        AttributeFilter, Category, Facets, PriceRange, Product, ProductFilter, ProductPage, ProductSort, ProductStatus,
        product::id_for_slug,
    },
    store::{CatalogStore, StoreError},
};
use shop_kernel::relay::{self, PageRequest};
use shop_testkit::Backend;
use uuid::Uuid;

use crate::{Spec, category, fresh_store, usd, variant};

// ---------------------------------------------------------------------------------------
// Running one contract on both adapters.

shop_testkit::on_backends!(
    [sqlite => Sqlite, mongo => Mongo],
    [
        lookups_by_id_slug_and_sku,
        list_filters_match_the_oracle,
        sorts_order_products_with_a_stable_tie_break,
        pages_do_not_overlap_and_cover_every_product,
        facets_count_the_whole_filtered_list,
        taken_slugs_and_skus_are_conflicts_that_change_nothing,
        conflicts_name_the_taken_key,
        replace_checks_the_version_and_reindexes,
        upsert_is_idempotent,
        categories_upsert_and_read_back,
    ]
);

// ---------------------------------------------------------------------------------------
// The fixture: three categories, six active products and one archived.

struct Fixture {
    categories: Vec<Category>,
    /// Every product, the archived one included.
    products: Vec<Product>,
}

impl Fixture {
    fn get(&self, slug: &str) -> &Product {
        self.products.iter().find(|p| p.slug == slug).expect("a fixture product")
    }
}

fn cat(slug: &str) -> Uuid {
    id_for_slug("category", slug)
}

fn fixture_categories() -> Vec<Category> {
    vec![
        category("apparel", "Apparel", None),
        category("tops", "Tops", Some("apparel")),
        category("kitchen", "Kitchen", None),
    ]
}

fn fixture() -> Fixture {
    let mut products = vec![
        Spec {
            slug: "merino-wool-sweater",
            name: "Merino Wool Sweater",
            brand: "Alpine",
            category_id: cat("tops"),
            description: "A warm woollen knit for cold mornings",
            attributes: &[("material", "wool")],
            variants: vec![
                variant("MWS-S-GRY", 8900, &[("colour", "grey"), ("size", "s")]),
                variant("MWS-M-GRY", 8900, &[("colour", "grey"), ("size", "m")]),
                variant("MWS-M-NVY", 9500, &[("colour", "navy"), ("size", "m")]),
            ],
            minute: 1,
        }
        .build(),
        Spec {
            slug: "cotton-crew-tee",
            name: "Cotton Crew Tee",
            brand: "Northwind",
            category_id: cat("tops"),
            description: "Soft everyday tee in organic cotton",
            attributes: &[("material", "cotton")],
            variants: vec![
                variant("CCT-S-BLK", 2400, &[("colour", "black"), ("size", "s")]),
                variant("CCT-L-WHT", 2600, &[("colour", "white"), ("size", "l")]),
            ],
            minute: 2,
        }
        .build(),
        Spec {
            slug: "linen-camp-shirt",
            name: "Linen Camp Shirt",
            brand: "Harbor",
            category_id: cat("tops"),
            description: "Breezy linen shirt for warm days",
            attributes: &[("material", "linen")],
            variants: vec![variant("LCS-M-BLU", 5400, &[("colour", "blue"), ("size", "m")])],
            minute: 3,
        }
        .build(),
        Spec {
            slug: "cast-iron-skillet",
            name: "Cast Iron Skillet",
            brand: "Ironvale",
            category_id: cat("kitchen"),
            description: "Pre-seasoned skillet that lasts for generations",
            attributes: &[("material", "iron")],
            variants: vec![variant("CIS-10", 4500, &[("size", "10in")]), variant("CIS-12", 5900, &[("size", "12in")])],
            minute: 4,
        }
        .build(),
        Spec {
            slug: "wool-felt-trivet",
            name: "Wool Felt Trivet",
            brand: "Alpine",
            category_id: cat("kitchen"),
            description: "Heat resistant woollen felt",
            // colour on the product itself, not on a variant
            attributes: &[("material", "wool"), ("colour", "grey")],
            variants: vec![variant("WFT-1", 1500, &[])],
            minute: 5,
        }
        .build(),
        Spec {
            slug: "ceramic-pour-over",
            name: "Ceramic Pour Over",
            brand: "Northwind",
            category_id: cat("kitchen"),
            description: "Slow coffee brewing in glazed ceramic",
            attributes: &[("material", "ceramic")],
            variants: vec![
                variant("CPO-WHT", 3200, &[("colour", "white")]),
                variant("CPO-BLK", 3200, &[("colour", "black")]),
            ],
            minute: 6,
        }
        .build(),
    ];
    // Matches many filters (brand Harbor, colour black, size m, "wool"), but is archived.
    let mut archived = Spec {
        slug: "rain-jacket",
        name: "Rain Jacket",
        brand: "Harbor",
        category_id: cat("apparel"),
        description: "Waterproof shell with a wool lining",
        attributes: &[("material", "nylon")],
        variants: vec![variant("RJ-M-BLK", 12000, &[("colour", "black"), ("size", "m")])],
        minute: 7,
    }
    .build();
    archived.status = ProductStatus::Archived;
    products.push(archived);
    Fixture { categories: fixture_categories(), products }
}

/// The fixture, written to `store`.
async fn seeded(store: &dyn CatalogStore) -> Fixture {
    let fixture = fixture();
    for category in &fixture.categories {
        store.upsert_category(category).await.expect("upsert a fixture category");
    }
    for product in &fixture.products {
        store.insert(product).await.expect("insert a fixture product");
    }
    fixture
}

// ---------------------------------------------------------------------------------------
// The oracle and small helpers.

/// The active products of `products` that `filter` matches, in the order the stores promise:
/// the sort key, then the id.
fn oracle<'a>(products: &'a [Product], filter: &ProductFilter, sort: ProductSort) -> Vec<&'a Product> {
    let mut matching: Vec<&Product> =
        products.iter().filter(|p| p.status == ProductStatus::Active && filter.matches(p)).collect();
    matching.sort_by(|a, b| {
        let primary = match sort {
            ProductSort::NameAsc => a.name.to_lowercase().cmp(&b.name.to_lowercase()),
            ProductSort::PriceAsc => a.price.minor_units.cmp(&b.price.minor_units),
            ProductSort::PriceDesc => b.price.minor_units.cmp(&a.price.minor_units),
            ProductSort::Newest => b.created_at.cmp(&a.created_at),
        };
        primary.then_with(|| a.id.to_string().cmp(&b.id.to_string()))
    });
    matching
}

fn slugs<'a, P: std::borrow::Borrow<Product> + 'a>(products: impl IntoIterator<Item = &'a P>) -> Vec<String> {
    products.into_iter().map(|p| p.borrow().slug.clone()).collect()
}

fn ids<'a, P: std::borrow::Borrow<Product> + 'a>(products: impl IntoIterator<Item = &'a P>) -> Vec<Uuid> {
    products.into_iter().map(|p| p.borrow().id).collect()
}

fn owned(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| (*v).to_owned()).collect()
}

fn by_slug(mut products: Vec<Product>) -> Vec<Product> {
    products.sort_by(|a, b| a.slug.cmp(&b.slug));
    products
}

/// Everything that matches, in one page.
async fn list_all(store: &dyn CatalogStore, filter: &ProductFilter, sort: ProductSort) -> ProductPage {
    store.list(filter, sort, PageRequest { offset: 0, limit: 100 }).await.expect("list products")
}

fn in_categories(slugs: &[&str]) -> ProductFilter {
    ProductFilter { category_ids: slugs.iter().map(|s| cat(s)).collect(), ..ProductFilter::default() }
}

fn of_brands(brands: &[&str]) -> ProductFilter {
    ProductFilter { brands: owned(brands), ..ProductFilter::default() }
}

fn priced(min: Option<i64>, max: Option<i64>) -> ProductFilter {
    ProductFilter { price: Some(PriceRange { min: min.map(usd), max: max.map(usd) }), ..ProductFilter::default() }
}

fn attribute(name: &str, values: &[&str]) -> AttributeFilter {
    AttributeFilter { name: name.to_owned(), values: owned(values) }
}

fn with_attributes(attributes: Vec<AttributeFilter>) -> ProductFilter {
    ProductFilter { attributes, ..ProductFilter::default() }
}

fn words(words: &[&str]) -> ProductFilter {
    ProductFilter { search_words: owned(words), ..ProductFilter::default() }
}

/// Walks every page of `size` by cursor and returns the ids in the order seen.
async fn walk(store: &dyn CatalogStore, filter: &ProductFilter, sort: ProductSort, size: i32) -> Vec<Uuid> {
    let limit = usize::try_from(size).expect("a positive page size");
    let mut seen: Vec<Uuid> = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = PageRequest::parse(Some(size), after.as_deref()).expect("a valid page request");
        let rows = store.list(filter, sort, page).await.expect("list a page").products;
        assert!(rows.len() <= limit + 1, "a page holds at most limit + 1 rows, got {}", rows.len());
        seen.extend(rows.iter().take(limit).map(|p| p.id));
        if rows.len() <= limit {
            return seen;
        }
        assert!(seen.len() <= 1_000, "pagination does not end");
        // The cursor of the last product shown.
        after = Some(relay::encode_cursor(u64::try_from(seen.len() - 1).expect("a position")));
    }
}

// ---------------------------------------------------------------------------------------
// Contracts.

/// Insert, then read back by id, slug and SKU.
async fn lookups_by_id_slug_and_sku(backend: Backend) {
    let (store, _guard) = fresh_store(backend).await;
    let fixture = seeded(store.as_ref()).await;
    let merino = fixture.get("merino-wool-sweater");
    let linen = fixture.get("linen-camp-shirt");
    let archived = fixture.get("rain-jacket");
    let unknown = Uuid::new_v4();

    let found = store.products_by_ids(&[merino.id, unknown, linen.id, archived.id]).await.expect("products by ids");
    assert_eq!(
        by_slug(found),
        by_slug(vec![merino.clone(), linen.clone(), archived.clone()]),
        "known ids come back whole (archived too); unknown ids are absent"
    );
    assert!(store.products_by_ids(&[unknown]).await.expect("unknown id").is_empty());
    assert!(store.products_by_ids(&[]).await.expect("no ids").is_empty());

    let every_id = ids(&fixture.products);
    let everything = store.products_by_ids(&every_id).await.expect("every product");
    assert_eq!(by_slug(everything), by_slug(fixture.products.clone()), "every product reads back exactly as written");

    let tee = fixture.get("cotton-crew-tee");
    assert_eq!(store.product_by_slug("cotton-crew-tee").await.expect("by slug").as_ref(), Some(tee));
    assert_eq!(
        store.product_by_slug("rain-jacket").await.expect("archived by slug").as_ref(),
        Some(archived),
        "the store returns archived products by slug (the schema hides them)"
    );
    assert_eq!(store.product_by_slug("no-such-product").await.expect("unknown slug"), None);

    let found = store.products_by_skus(&owned(&["CCT-L-WHT", "MWS-M-NVY", "NO-SUCH-SKU"])).await.expect("by skus");
    assert_eq!(by_slug(found), by_slug(vec![tee.clone(), merino.clone()]));
    let found = store.products_by_skus(&owned(&["MWS-S-GRY", "MWS-M-GRY"])).await.expect("two skus of one product");
    assert_eq!(found, vec![merino.clone()], "a product holding several of the SKUs comes back once");
    let found = store.products_by_skus(&owned(&["RJ-M-BLK"])).await.expect("archived sku");
    assert_eq!(found, vec![archived.clone()], "archived products resolve by SKU (past orders refer to them)");
    assert!(store.products_by_skus(&owned(&["NO-SUCH-SKU"])).await.expect("unknown sku").is_empty());
    assert!(store.products_by_skus(&[]).await.expect("no skus").is_empty());
}

struct Case {
    label: &'static str,
    filter: ProductFilter,
    /// Slugs in name order.
    expected: Vec<&'static str>,
}

fn case(label: &'static str, filter: ProductFilter, expected: &[&'static str]) -> Case {
    Case { label, filter, expected: expected.to_vec() }
}

fn filter_cases() -> Vec<Case> {
    vec![
        case(
            "no filter: every active product",
            ProductFilter::default(),
            &[
                "cast-iron-skillet",
                "ceramic-pour-over",
                "cotton-crew-tee",
                "linen-camp-shirt",
                "merino-wool-sweater",
                "wool-felt-trivet",
            ],
        ),
        case(
            "category tops",
            in_categories(&["tops"]),
            &["cotton-crew-tee", "linen-camp-shirt", "merino-wool-sweater"],
        ),
        case(
            "categories tops or kitchen",
            in_categories(&["tops", "kitchen"]),
            &[
                "cast-iron-skillet",
                "ceramic-pour-over",
                "cotton-crew-tee",
                "linen-camp-shirt",
                "merino-wool-sweater",
                "wool-felt-trivet",
            ],
        ),
        case("category apparel holds only the archived product", in_categories(&["apparel"]), &[]),
        case("brand Alpine", of_brands(&["Alpine"]), &["merino-wool-sweater", "wool-felt-trivet"]),
        case(
            "brands Harbor or Northwind (the archived Harbor product is not listed)",
            of_brands(&["Harbor", "Northwind"]),
            &["ceramic-pour-over", "cotton-crew-tee", "linen-camp-shirt"],
        ),
        case("brands match exactly", of_brands(&["alpine"]), &[]),
        case(
            "price at least 45.00 (inclusive)",
            priced(Some(4500), None),
            &["cast-iron-skillet", "linen-camp-shirt", "merino-wool-sweater"],
        ),
        case("price at most 24.00 (inclusive)", priced(None, Some(2400)), &["cotton-crew-tee", "wool-felt-trivet"]),
        case(
            "price 24.00 to 54.00 (inclusive)",
            priced(Some(2400), Some(5400)),
            &["cast-iron-skillet", "ceramic-pour-over", "cotton-crew-tee", "linen-camp-shirt"],
        ),
        case("price range matching nothing", priced(Some(9000), Some(9400)), &[]),
        case(
            "colour grey, on a variant or on the product",
            with_attributes(vec![attribute("colour", &["grey"])]),
            &["merino-wool-sweater", "wool-felt-trivet"],
        ),
        case(
            "colour black or white (values are ORed)",
            with_attributes(vec![attribute("colour", &["black", "white"])]),
            &["ceramic-pour-over", "cotton-crew-tee"],
        ),
        case(
            "colour grey and size m (names are ANDed)",
            with_attributes(vec![attribute("colour", &["grey"]), attribute("size", &["m"])]),
            &["merino-wool-sweater"],
        ),
        case(
            "material wool or cotton, and colour black",
            with_attributes(vec![attribute("material", &["wool", "cotton"]), attribute("colour", &["black"])]),
            &["cotton-crew-tee"],
        ),
        case("size m", with_attributes(vec![attribute("size", &["m"])]), &["linen-camp-shirt", "merino-wool-sweater"]),
        case("an attribute no product has", with_attributes(vec![attribute("fit", &["slim"])]), &[]),
        case("search wool (also finds woollen)", words(&["wool"]), &["merino-wool-sweater", "wool-felt-trivet"]),
        case("search by prefix: woolle", words(&["woolle"]), &["merino-wool-sweater", "wool-felt-trivet"]),
        case("search: every word must match", words(&["wool", "knit"]), &["merino-wool-sweater"]),
        case("search: words matching different products", words(&["wool", "coffee"]), &[]),
        case("search by brand", words(&["northwind"]), &["ceramic-pour-over", "cotton-crew-tee"]),
        case("search by a variant's attribute value", words(&["navy"]), &["merino-wool-sweater"]),
        case("search matches word starts, not the middle of words", words(&["oll"]), &[]),
        case("search finding only the archived product", words(&["waterproof"]), &[]),
        case("search with a regex dot", words(&["a.c"]), &[]),
        case("search with regex wildcards", words(&[".*"]), &[]),
        case("search with a regex quantifier", words(&["wo+"]), &[]),
        case("search with a regex group", words(&["(wool"]), &[]),
        case(
            "category, brand, price and search together",
            ProductFilter {
                category_ids: vec![cat("tops")],
                brands: owned(&["Alpine"]),
                price: Some(PriceRange { min: None, max: Some(usd(9000)) }),
                attributes: vec![],
                search_words: owned(&["merino"]),
            },
            &["merino-wool-sweater"],
        ),
        case(
            "category and brand that exclude each other",
            ProductFilter { category_ids: vec![cat("tops")], brands: owned(&["Ironvale"]), ..ProductFilter::default() },
            &[],
        ),
    ]
}

/// Every filter gives what the oracle gives, and what we expect by hand.
async fn list_filters_match_the_oracle(backend: Backend) {
    let (store, _guard) = fresh_store(backend).await;
    let fixture = seeded(store.as_ref()).await;
    let archived = fixture.get("rain-jacket").id;
    for Case { label, filter, expected } in filter_cases() {
        let from_oracle = slugs(oracle(&fixture.products, &filter, ProductSort::NameAsc));
        assert_eq!(from_oracle, expected, "{label}: the oracle agrees with the hand-written expectation");
        let page = list_all(store.as_ref(), &filter, ProductSort::NameAsc).await;
        assert_eq!(slugs(&page.products), from_oracle, "{label}: the store agrees with the oracle");
        assert!(!ids(&page.products).contains(&archived), "{label}: archived products are never listed");
        assert_eq!(page.facets.total, u64::try_from(expected.len()).unwrap(), "{label}: total");
    }
}

/// Each sort gives the expected order; ties are broken by id, the same on every page.
async fn sorts_order_products_with_a_stable_tie_break(backend: Backend) {
    let (store, _guard) = fresh_store(backend).await;
    let mut fixture = seeded(store.as_ref()).await;
    let everything = ProductFilter::default();
    let by_name = [
        "cast-iron-skillet",
        "ceramic-pour-over",
        "cotton-crew-tee",
        "linen-camp-shirt",
        "merino-wool-sweater",
        "wool-felt-trivet",
    ];
    let cheapest_first = [
        "wool-felt-trivet",
        "cotton-crew-tee",
        "ceramic-pour-over",
        "cast-iron-skillet",
        "linen-camp-shirt",
        "merino-wool-sweater",
    ];
    let mut dearest_first = cheapest_first;
    dearest_first.reverse();
    let newest_first = [
        "ceramic-pour-over",
        "wool-felt-trivet",
        "cast-iron-skillet",
        "linen-camp-shirt",
        "cotton-crew-tee",
        "merino-wool-sweater",
    ];
    for (sort, expected) in [
        (ProductSort::NameAsc, by_name),
        (ProductSort::PriceAsc, cheapest_first),
        (ProductSort::PriceDesc, dearest_first),
        (ProductSort::Newest, newest_first),
    ] {
        assert_eq!(slugs(oracle(&fixture.products, &everything, sort)), expected, "the oracle agrees on {sort:?}");
        let page = list_all(store.as_ref(), &everything, sort).await;
        assert_eq!(slugs(&page.products), expected, "{sort:?}");
    }
    let tops_dearest_first = list_all(store.as_ref(), &in_categories(&["tops"]), ProductSort::PriceDesc).await;
    assert_eq!(slugs(&tops_dearest_first.products), ["merino-wool-sweater", "linen-camp-shirt", "cotton-crew-tee"]);

    // Ties: two products with the same name, and the same price and creation time as the
    // ceramic pour over.
    let twin = |slug: &str, sku: &str| {
        Spec {
            slug,
            name: "Twin Mug",
            brand: "Acme",
            category_id: cat("kitchen"),
            description: "One of two identical mugs",
            attributes: &[],
            variants: vec![variant(sku, 3200, &[])],
            minute: 6,
        }
        .build()
    };
    for product in [twin("twin-mug-a", "TWIN-A"), twin("twin-mug-b", "TWIN-B")] {
        store.insert(&product).await.expect("insert a twin");
        fixture.products.push(product);
    }
    for sort in [ProductSort::NameAsc, ProductSort::PriceAsc, ProductSort::PriceDesc, ProductSort::Newest] {
        let expected = ids(oracle(&fixture.products, &everything, sort));
        assert_eq!(expected.len(), 8);
        let page = list_all(store.as_ref(), &everything, sort).await;
        assert_eq!(ids(&page.products), expected, "{sort:?} breaks ties by id");
        assert_eq!(walk(store.as_ref(), &everything, sort, 1).await, expected, "{sort:?} one product a page");
        assert_eq!(walk(store.as_ref(), &everything, sort, 3).await, expected, "{sort:?} three products a page");
    }
}

/// Offset cursors: `limit + 1` rows when more follow, no overlap, nothing skipped.
async fn pages_do_not_overlap_and_cover_every_product(backend: Backend) {
    let (store, _guard) = fresh_store(backend).await;
    let fixture = seeded(store.as_ref()).await;
    let everything = ProductFilter::default();
    let expected = ids(oracle(&fixture.products, &everything, ProductSort::NameAsc));
    assert_eq!(expected.len(), 6);

    let first = PageRequest::parse(Some(2), None).expect("first page");
    let page1 = store.list(&everything, ProductSort::NameAsc, first).await.expect("page 1").products;
    assert_eq!(page1.len(), 3, "fetch_limit: one row more than the page when more follow");

    let second = PageRequest::parse(Some(2), Some(&relay::encode_cursor(1))).expect("second page");
    assert_eq!(second, PageRequest { offset: 2, limit: 2 });
    let page2 = store.list(&everything, ProductSort::NameAsc, second).await.expect("page 2").products;
    assert_eq!(page2.len(), 3);
    assert_eq!(page1[2].id, page2[0].id, "the extra row is the first of the next page");

    let third = PageRequest::parse(Some(2), Some(&relay::encode_cursor(3))).expect("third page");
    let page3 = store.list(&everything, ProductSort::NameAsc, third).await.expect("page 3");
    assert_eq!(page3.products.len(), 2, "no extra row on the last page");
    assert_eq!(page3.facets.total, 6, "every page carries the facets of the whole list");

    let seen: Vec<Uuid> =
        page1.iter().take(2).chain(page2.iter().take(2)).chain(page3.products.iter()).map(|p| p.id).collect();
    assert_eq!(seen, expected, "pages do not overlap and together hold every product, in order");

    let beyond = PageRequest::parse(Some(2), Some(&relay::encode_cursor(5))).expect("past the end");
    let empty = store.list(&everything, ProductSort::NameAsc, beyond).await.expect("past the end");
    assert!(empty.products.is_empty());
    assert_eq!(empty.facets.total, 6);

    let none = store.list(&everything, ProductSort::NameAsc, PageRequest::parse(Some(0), None).unwrap()).await.unwrap();
    assert_eq!(none.products.len(), 1, "first: 0 still fetches one row, to tell that products exist");

    for (filter, sort) in [
        (everything.clone(), ProductSort::PriceDesc),
        (in_categories(&["kitchen"]), ProductSort::Newest),
        (words(&["wool"]), ProductSort::PriceAsc),
        (of_brands(&["Nobody"]), ProductSort::NameAsc),
    ] {
        let expected = ids(oracle(&fixture.products, &filter, sort));
        for size in [1, 2, 4, 100] {
            assert_eq!(walk(store.as_ref(), &filter, sort, size).await, expected, "{filter:?} {sort:?} by {size}");
        }
    }
}

/// Facet counts as plain values, to compare with counts computed from the fixture.
#[derive(Debug, PartialEq, Eq)]
struct FacetCounts {
    total: u64,
    brands: Vec<(String, u64)>,
    categories: Vec<(String, u64)>,
    attributes: Vec<(String, String, u64)>,
    price_min: Option<i64>,
    price_max: Option<i64>,
}

fn counted<K: Ord>(keys: impl IntoIterator<Item = K>) -> Vec<(K, u64)> {
    let mut counts: BTreeMap<K, u64> = BTreeMap::new();
    for key in keys {
        *counts.entry(key).or_insert(0) += 1;
    }
    counts.into_iter().collect()
}

fn expected_facets(matching: &[&Product]) -> FacetCounts {
    FacetCounts {
        total: u64::try_from(matching.len()).unwrap(),
        brands: counted(matching.iter().map(|p| p.brand.clone())),
        categories: counted(matching.iter().map(|p| p.category_id.to_string())),
        attributes: counted(matching.iter().flat_map(|p| p.attribute_pairs()).map(|a| (a.name, a.value)))
            .into_iter()
            .map(|((name, value), count)| (name, value, count))
            .collect(),
        price_min: matching.iter().map(|p| p.price.minor_units).min(),
        price_max: matching.iter().map(|p| p.price.minor_units).max(),
    }
}

fn actual_facets(facets: &Facets) -> FacetCounts {
    FacetCounts {
        total: facets.total,
        brands: facets.brands.iter().map(|f| (f.value.clone(), f.count)).collect(),
        categories: facets.categories.iter().map(|f| (f.value.clone(), f.count)).collect(),
        attributes: facets
            .attributes
            .iter()
            .flat_map(|a| a.values.iter().map(move |v| (a.name.clone(), v.value.clone(), v.count)))
            .collect(),
        price_min: facets.price_min,
        price_max: facets.price_max,
    }
}

/// Facets count every match (not the page), sorted, and skip archived products.
async fn facets_count_the_whole_filtered_list(backend: Backend) {
    let (store, _guard) = fresh_store(backend).await;
    let fixture = seeded(store.as_ref()).await;
    let cases = vec![
        ("no filter", ProductFilter::default()),
        ("category tops", in_categories(&["tops"])),
        ("search wool", words(&["wool"])),
        ("colour black or white", with_attributes(vec![attribute("colour", &["black", "white"])])),
        ("price at most 32.00", priced(None, Some(3200))),
        ("brand Harbor", of_brands(&["Harbor"])),
        ("nothing matches", of_brands(&["Nobody"])),
    ];
    for (label, filter) in cases {
        let expected = expected_facets(&oracle(&fixture.products, &filter, ProductSort::NameAsc));
        let page = list_all(store.as_ref(), &filter, ProductSort::NameAsc).await;
        assert_eq!(actual_facets(&page.facets), expected, "{label}");
        let small = store
            .list(&filter, ProductSort::PriceDesc, PageRequest { offset: 1, limit: 1 })
            .await
            .expect("a small page");
        assert_eq!(small.facets, page.facets, "{label}: facets do not depend on the page or the sort");
    }

    // One case checked by hand, so a wrong oracle cannot hide a wrong store.
    let all = list_all(store.as_ref(), &ProductFilter::default(), ProductSort::NameAsc).await.facets;
    assert_eq!(all.total, 6);
    assert_eq!(
        actual_facets(&all).brands,
        vec![
            ("Alpine".to_owned(), 2),
            ("Harbor".to_owned(), 1),
            ("Ironvale".to_owned(), 1),
            ("Northwind".to_owned(), 2)
        ]
    );
    assert_eq!(
        actual_facets(&all).categories,
        counted(
            [cat("tops"), cat("tops"), cat("tops"), cat("kitchen"), cat("kitchen"), cat("kitchen")]
                .map(|id| id.to_string())
        )
    );
    let colours: Vec<(String, u64)> = all
        .attributes
        .iter()
        .find(|a| a.name == "colour")
        .expect("a colour facet")
        .values
        .iter()
        .map(|v| (v.value.clone(), v.count))
        .collect();
    assert_eq!(
        colours,
        vec![
            ("black".to_owned(), 2),
            ("blue".to_owned(), 1),
            ("grey".to_owned(), 2),
            ("navy".to_owned(), 1),
            ("white".to_owned(), 2)
        ],
        "product-level and variant-level values, each product counted once, the archived one not at all"
    );
    assert_eq!((all.price_min, all.price_max), (Some(1500), Some(8900)));
    assert!(
        !all.attributes.iter().any(|a| a.values.iter().any(|v| v.value == "nylon")),
        "archived products are not counted"
    );
}

/// A taken slug or SKU is a conflict, and a refused insert writes nothing.
async fn taken_slugs_and_skus_are_conflicts_that_change_nothing(backend: Backend) {
    let (store, _guard) = fresh_store(backend).await;
    let fixture = seeded(store.as_ref()).await;
    let everything = ProductFilter::default();
    let total_before = list_all(store.as_ref(), &everything, ProductSort::NameAsc).await.facets.total;
    let tee = fixture.get("cotton-crew-tee");

    // The same slug under another id: only the slug collides.
    let mut same_slug = Spec {
        slug: "cotton-crew-tee",
        name: "Another Tee",
        brand: "Acme",
        category_id: cat("tops"),
        description: "A tee that wants a taken slug",
        attributes: &[],
        variants: vec![variant("OTHER-1", 1000, &[])],
        minute: 8,
    }
    .build();
    same_slug.id = Uuid::new_v4();
    let result = store.insert(&same_slug).await;
    assert!(matches!(result, Err(StoreError::KeyTaken(_))), "taken slug: {result:?}");

    // The very same product again.
    let result = store.insert(tee).await;
    assert!(matches!(result, Err(StoreError::KeyTaken(_))), "inserting a product twice: {result:?}");

    // A new slug, but one of its SKUs is taken (by its second variant: the first is fine).
    let sku_taken = Spec {
        slug: "cotton-crew-tee-two",
        name: "Cotton Crew Tee Two",
        brand: "Acme",
        category_id: cat("tops"),
        description: "A tee that wants a taken SKU",
        attributes: &[("material", "hemp")],
        variants: vec![variant("NEW-1", 1000, &[]), variant("CCT-S-BLK", 1000, &[])],
        minute: 9,
    }
    .build();
    let result = store.insert(&sku_taken).await;
    assert!(matches!(result, Err(StoreError::KeyTaken(_))), "taken SKU: {result:?}");

    // SKUs of archived products stay taken.
    let archived_sku = Spec {
        slug: "new-rain-jacket",
        name: "New Rain Jacket",
        brand: "Harbor",
        category_id: cat("apparel"),
        description: "Wants the SKU of an archived product",
        attributes: &[],
        variants: vec![variant("RJ-M-BLK", 13000, &[])],
        minute: 10,
    }
    .build();
    let result = store.insert(&archived_sku).await;
    assert!(matches!(result, Err(StoreError::KeyTaken(_))), "SKU of an archived product: {result:?}");

    // Nothing changed.
    assert_eq!(list_all(store.as_ref(), &everything, ProductSort::NameAsc).await.facets.total, total_before);
    assert_eq!(store.product_by_slug("cotton-crew-tee").await.unwrap().as_ref(), Some(tee));
    assert_eq!(store.product_by_slug("cotton-crew-tee-two").await.unwrap(), None);
    assert_eq!(store.product_by_slug("new-rain-jacket").await.unwrap(), None);
    assert!(store.products_by_ids(&[same_slug.id, sku_taken.id, archived_sku.id]).await.unwrap().is_empty());
    assert!(store.products_by_skus(&owned(&["OTHER-1", "NEW-1"])).await.unwrap().is_empty());
    assert_eq!(store.products_by_skus(&owned(&["CCT-S-BLK"])).await.unwrap(), vec![tee.clone()]);
    assert_eq!(store.products_by_skus(&owned(&["RJ-M-BLK"])).await.unwrap(), vec![fixture.get("rain-jacket").clone()]);
    assert!(list_all(store.as_ref(), &words(&["hemp"]), ProductSort::NameAsc).await.products.is_empty());
    assert!(
        list_all(store.as_ref(), &with_attributes(vec![attribute("material", &["hemp"])]), ProductSort::NameAsc)
            .await
            .products
            .is_empty()
    );
}

/// `Conflict` names the key, which the schema turns into SLUG_TAKEN or SKU_TAKEN.
async fn conflicts_name_the_taken_key(backend: Backend) {
    let (store, _guard) = fresh_store(backend).await;
    let fixture = seeded(store.as_ref()).await;
    let mut same_slug = fixture.get("cotton-crew-tee").clone();
    same_slug.id = Uuid::new_v4();
    same_slug.variants = vec![variant("OTHER-1", 1000, &[])];
    match store.insert(&same_slug).await {
        Err(StoreError::KeyTaken(key)) => assert!(key.to_string().contains("slug"), "a taken slug is named `{key}`"),
        other => panic!("expected a slug conflict, got {other:?}"),
    }
    let sku_taken = Spec {
        slug: "fresh-slug",
        name: "Fresh",
        brand: "Acme",
        category_id: cat("tops"),
        description: "",
        attributes: &[],
        variants: vec![variant("MWS-M-NVY", 1000, &[])],
        minute: 8,
    }
    .build();
    match store.insert(&sku_taken).await {
        Err(StoreError::KeyTaken(key)) => assert!(key.to_string().contains("SKU"), "a taken SKU is named `{key}`"),
        other => panic!("expected a SKU conflict, got {other:?}"),
    }
}

/// Optimistic concurrency, and derived data (search words, attributes, SKUs, price) that
/// follows the new content.
async fn replace_checks_the_version_and_reindexes(backend: Backend) {
    let (store, _guard) = fresh_store(backend).await;
    let fixture = seeded(store.as_ref()).await;
    let original = fixture.get("linen-camp-shirt").clone();

    let mut v2 = original.clone();
    v2.description = "Airy linen shirt for warm days".into();
    v2.variants = vec![variant("LCS-M-GRN", 5600, &[("colour", "green"), ("size", "m")])];
    v2.price = usd(5600);
    v2.updated_at = crate::at_minute(20);
    v2.version = 2;
    store.replace(&v2, 1).await.expect("replace at the right version");
    assert_eq!(store.products_by_ids(&[v2.id]).await.unwrap(), vec![v2.clone()]);

    let found = |filter: ProductFilter| {
        let store = store.clone();
        async move { slugs(&list_all(store.as_ref(), &filter, ProductSort::NameAsc).await.products) }
    };
    assert_eq!(found(words(&["airy"])).await, ["linen-camp-shirt"], "new words are searchable");
    assert!(found(words(&["breezy"])).await.is_empty(), "old words are forgotten");
    assert_eq!(found(with_attributes(vec![attribute("colour", &["green"])])).await, ["linen-camp-shirt"]);
    assert!(found(with_attributes(vec![attribute("colour", &["blue"])])).await.is_empty());
    assert_eq!(found(priced(Some(5600), Some(5600))).await, ["linen-camp-shirt"], "the new price is indexed");
    assert!(store.products_by_skus(&owned(&["LCS-M-BLU"])).await.unwrap().is_empty(), "the old SKU is released");
    assert_eq!(store.products_by_skus(&owned(&["LCS-M-GRN"])).await.unwrap(), vec![v2.clone()]);

    // Based on a version that is no longer stored.
    let mut stale = v2.clone();
    stale.name = "Lost Update".into();
    stale.version = 3;
    let result = store.replace(&stale, 1).await;
    assert!(matches!(result, Err(StoreError::VersionMismatch)), "stale version: {result:?}");
    assert_eq!(store.products_by_ids(&[v2.id]).await.unwrap(), vec![v2.clone()], "a stale replace changes nothing");

    // A product that does not exist has no version to match.
    let mut ghost = v2.clone();
    ghost.id = Uuid::new_v4();
    ghost.slug = "ghost-shirt".into();
    ghost.variants = vec![variant("GHOST-1", 100, &[])];
    let result = store.replace(&ghost, 1).await;
    assert!(matches!(result, Err(StoreError::VersionMismatch)), "unknown product: {result:?}");
    assert!(store.products_by_ids(&[ghost.id]).await.unwrap().is_empty(), "replace never inserts");

    // Taking another product's SKU is a conflict, and nothing changes.
    let mut clash = v2.clone();
    clash.version = 3;
    clash.variants.push(variant("CCT-S-BLK", 5600, &[("colour", "black")]));
    let result = store.replace(&clash, 2).await;
    assert!(matches!(result, Err(StoreError::KeyTaken(_))), "taken SKU on replace: {result:?}");
    assert_eq!(store.products_by_ids(&[v2.id]).await.unwrap(), vec![v2.clone()]);
    assert_eq!(store.products_by_skus(&owned(&["LCS-M-GRN"])).await.unwrap(), vec![v2.clone()]);
    assert_eq!(
        store.products_by_skus(&owned(&["CCT-S-BLK"])).await.unwrap(),
        vec![fixture.get("cotton-crew-tee").clone()]
    );
    assert_eq!(found(with_attributes(vec![attribute("colour", &["green"])])).await, ["linen-camp-shirt"]);

    // The next version still applies on top of v2.
    let mut v3 = v2.clone();
    v3.name = "Linen Camp Shirt II".into();
    v3.version = 3;
    store.replace(&v3, 2).await.expect("replace at version 2");
    assert_eq!(store.products_by_ids(&[v3.id]).await.unwrap(), vec![v3]);
}

/// Upserting is idempotent and replaces the whole product.
async fn upsert_is_idempotent(backend: Backend) {
    let (store, _guard) = fresh_store(backend).await;
    let fixture = seeded(store.as_ref()).await;
    let board = Spec {
        slug: "bamboo-cutting-board",
        name: "Bamboo Cutting Board",
        brand: "Grove",
        category_id: cat("kitchen"),
        description: "Sturdy bamboo board",
        attributes: &[("material", "bamboo")],
        variants: vec![variant("BCB-L", 2900, &[("size", "l")])],
        minute: 8,
    }
    .build();
    store.upsert(&board).await.expect("first upsert");
    store.upsert(&board).await.expect("second upsert");

    assert_eq!(store.products_by_ids(&[board.id]).await.unwrap(), vec![board.clone()]);
    assert_eq!(store.products_by_skus(&owned(&["BCB-L"])).await.unwrap(), vec![board.clone()]);
    let everything = list_all(store.as_ref(), &ProductFilter::default(), ProductSort::NameAsc).await;
    assert_eq!(everything.facets.total, 7, "six fixture products and one board");
    assert_eq!(everything.products.iter().filter(|p| p.id == board.id).count(), 1);
    let bamboo = list_all(store.as_ref(), &words(&["bamboo"]), ProductSort::NameAsc).await;
    assert_eq!(ids(&bamboo.products), vec![board.id]);
    assert_eq!(
        actual_facets(&bamboo.facets).attributes,
        vec![("material".to_owned(), "bamboo".to_owned(), 1), ("size".to_owned(), "l".to_owned(), 1)],
        "attributes are not duplicated by a second upsert"
    );

    // An upsert replaces everything, derived data included.
    let mut changed = board.clone();
    changed.name = "Bamboo Board".into();
    changed.variants = vec![variant("BCB-XL", 3900, &[("size", "xl")])];
    changed.price = usd(3900);
    changed.version = 2;
    store.upsert(&changed).await.expect("upsert a change");
    assert_eq!(store.products_by_ids(&[board.id]).await.unwrap(), vec![changed.clone()]);
    assert!(store.products_by_skus(&owned(&["BCB-L"])).await.unwrap().is_empty());
    assert_eq!(store.products_by_skus(&owned(&["BCB-XL"])).await.unwrap(), vec![changed.clone()]);
    assert_eq!(
        ids(&list_all(store.as_ref(), &with_attributes(vec![attribute("size", &["xl"])]), ProductSort::NameAsc)
            .await
            .products),
        vec![board.id]
    );
    assert!(
        list_all(store.as_ref(), &with_attributes(vec![attribute("size", &["l"])]), ProductSort::NameAsc)
            .await
            .products
            .iter()
            .all(|p| p.id != board.id)
    );

    // Seeding the fixture again changes nothing.
    for product in &fixture.products {
        store.upsert(product).await.expect("upsert a fixture product again");
    }
    assert_eq!(list_all(store.as_ref(), &ProductFilter::default(), ProductSort::NameAsc).await.facets.total, 7);
    let every_id = ids(&fixture.products);
    assert_eq!(by_slug(store.products_by_ids(&every_id).await.unwrap()), by_slug(fixture.products.clone()));
    for Case { label, filter, expected } in filter_cases() {
        let mut expected: Vec<String> = expected.iter().map(|s| (*s).to_owned()).collect();
        if filter.matches(&changed) {
            expected.push(changed.slug.clone());
        }
        let mut listed = slugs(&list_all(store.as_ref(), &filter, ProductSort::NameAsc).await.products);
        listed.sort();
        expected.sort();
        assert_eq!(listed, expected, "{label}, after upserting everything again");
    }
}

/// Categories are replaced by id and read back whole, sorted by slug.
async fn categories_upsert_and_read_back(backend: Backend) {
    let (store, _guard) = fresh_store(backend).await;
    assert!(store.categories().await.expect("no categories yet").is_empty());
    let categories = fixture_categories();
    for category in &categories {
        store.upsert_category(category).await.expect("upsert a category");
    }
    let mut expected = categories.clone();
    expected.sort_by(|a, b| a.slug.cmp(&b.slug));
    assert_eq!(store.categories().await.expect("categories"), expected);

    let mut renamed = categories.iter().find(|c| c.slug == "kitchen").cloned().expect("kitchen");
    renamed.name = "Kitchen & Dining".into();
    renamed.description = "Everything for cooking and eating".into();
    store.upsert_category(&renamed).await.expect("upsert a change");
    store.upsert_category(&renamed).await.expect("upsert it again");
    let read = store.categories().await.expect("categories");
    assert_eq!(read.len(), 3, "replaced, not duplicated");
    assert_eq!(read.iter().find(|c| c.id == renamed.id), Some(&renamed));
    let tops = read.iter().find(|c| c.slug == "tops").expect("tops");
    assert_eq!(tops.parent_id, Some(cat("apparel")), "parents are kept");
    assert_eq!(read.iter().find(|c| c.slug == "apparel").expect("apparel").parent_id, None);
}
