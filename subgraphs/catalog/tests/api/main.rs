#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! Integration tests of the catalog subgraph, in one binary:
//!
//! - `store`: one contract, run against the SQLite (sea-orm) and MongoDB adapters;
//! - `service`: the read-aside cache in front of the store (in-process and Redis);
//! - `graphql`: the schema driven directly, without a socket.
//!
//! Every test gets its own SQLite file, MongoDB database or cache key prefix, so they run in
//! parallel without seeing each other's data.

mod batching;
mod graphql;
mod service;
mod store;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use shop_catalog::{
    domain::{Attribute, Category, NewProduct, Product, Variant, product::id_for_slug},
    store::{CatalogStore, mongo::MongoCatalogStore, sql::SqlCatalogStore},
};
use shop_kernel::{CurrencyCode, Money};
use shop_testkit::{Backend, TempDir};
use uuid::Uuid;

/// A fixed instant plus whole minutes: fixtures get distinct, predictable creation times.
pub fn at_minute(minute: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(1_767_225_600 + minute * 60, 0).expect("a valid timestamp")
}

/// US dollars from cents.
pub fn usd(cents: i64) -> Money {
    Money::from_minor(cents, CurrencyCode::Usd)
}

/// A `name = value` attribute.
pub fn attr(name: &str, value: &str) -> Attribute {
    Attribute { name: name.to_owned(), value: value.to_owned() }
}

/// A variant named after its SKU.
pub fn variant(sku: &str, cents: i64, attributes: &[(&str, &str)]) -> Variant {
    Variant {
        sku: sku.to_owned(),
        name: sku.to_owned(),
        price: usd(cents),
        attributes: attributes.iter().map(|(name, value)| attr(name, value)).collect(),
    }
}

/// A category whose id derives from its slug, as the seed does it.
pub fn category(slug: &str, name: &str, parent: Option<&str>) -> Category {
    Category {
        id: id_for_slug("category", slug),
        slug: slug.to_owned(),
        name: name.to_owned(),
        description: String::new(),
        parent_id: parent.map(|p| id_for_slug("category", p)),
    }
}

/// What a fixture product is made of; [`Spec::build`] validates it like an admin's input.
pub struct Spec<'a> {
    pub slug: &'a str,
    pub name: &'a str,
    pub brand: &'a str,
    pub category_id: Uuid,
    pub description: &'a str,
    pub attributes: &'a [(&'a str, &'a str)],
    pub variants: Vec<Variant>,
    pub minute: i64,
}

impl Spec<'_> {
    /// The product, created at [`at_minute`]`(minute)`, version 1, active.
    pub fn build(self) -> Product {
        NewProduct {
            slug: self.slug.to_owned(),
            name: self.name.to_owned(),
            description: self.description.to_owned(),
            brand: self.brand.to_owned(),
            category_id: self.category_id,
            images: vec![],
            attributes: self.attributes.iter().map(|(name, value)| attr(name, value)).collect(),
            variants: self.variants,
        }
        .into_product(at_minute(self.minute))
        .expect("fixture products are valid")
    }
}

/// A one-variant product of brand Acme whose SKU is its slug in capitals.
pub fn simple_product(slug: &str, name: &str, cents: i64, minute: i64) -> Product {
    Spec {
        slug,
        name,
        brand: "Acme",
        category_id: id_for_slug("category", "misc"),
        description: "A plain thing for tests",
        attributes: &[],
        variants: vec![variant(&slug.to_uppercase(), cents, &[])],
        minute,
    }
    .build()
}

/// A fresh, prepared store on `backend` (and the guard of its SQLite file, if any).
pub async fn fresh_store(backend: Backend) -> (Arc<dyn CatalogStore>, Option<TempDir>) {
    match backend {
        Backend::Mongo => {
            let store =
                MongoCatalogStore::connect(&shop_testkit::mongo_url(), &shop_testkit::unique_name("shoptest"), 8)
                    .await
                    .expect("connect to MongoDB");
            store.prepare().await.expect("prepare the MongoDB store");
            (Arc::new(store), None)
        }
        sql => {
            let (url, guard) = shop_testkit::fresh_sql_database(sql).await;
            let store = SqlCatalogStore::connect(&url, 8).await.expect("open the database");
            store.prepare().await.expect("prepare the SQL store");
            (Arc::new(store), guard)
        }
    }
}
