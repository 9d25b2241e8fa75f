//! The production catalog store on MongoDB.
//!
//! A product is one document: the product itself plus derived, indexed fields for what
//! lists filter and sort on (`keywords`, `attrs` as `name=value`, `skus`, `priceMinor`,
//! `nameKey`, `createdMs`). Search is an anchored prefix regex on `keywords` (no `$text`:
//! it can use the index, and it works on every MongoDB-protocol server).

use std::sync::Arc;

use futures::TryStreamExt;
use mongodb::{
    Client, Collection,
    bson::{Bson, Document, doc},
};
use shop_kernel::{literal::regex_literal, relay::PageRequest, store::StoreFailure};
use uuid::Uuid;

use super::{CatalogStore, StoreError, UniqueKey};
use crate::domain::{Category, Facets, Product, ProductFilter, ProductPage, ProductSort, query::FacetValue};

/// MongoDB collections of the catalog.
#[derive(Clone)]
pub struct MongoCatalogStore {
    client: Client,
    products: Collection<Document>,
    categories: Collection<Document>,
}

fn unavailable(error: mongodb::error::Error) -> StoreError {
    shop_mongo::failed(error).into()
}

fn corrupt(error: impl std::fmt::Display) -> StoreError {
    StoreFailure::corrupt(error).into()
}

/// A write error: a duplicate key names the unique key by its index.
fn write_error(error: mongodb::error::Error) -> StoreError {
    match shop_mongo::duplicate_key_index(&error) {
        Some("skus_unique") => StoreError::KeyTaken(UniqueKey::Sku),
        Some("slug_unique") => StoreError::KeyTaken(UniqueKey::Slug),
        Some(_) => StoreError::KeyTaken(UniqueKey::Id),
        None => unavailable(error),
    }
}

impl MongoCatalogStore {
    /// Connects to `url` (a pool of up to `max_connections`) and uses database `database`.
    pub async fn connect(url: &str, database: &str, max_connections: u32) -> Result<Self, StoreError> {
        let (client, db) = shop_mongo::connect(url, database, max_connections).await?;
        Ok(Self { products: db.collection("products"), categories: db.collection("categories"), client })
    }

    fn to_document(product: &Product) -> Result<Document, StoreError> {
        let mut document = shop_mongo::to_document(product)?;
        document.insert("_id", product.id.to_string());
        document.insert("keywords", product.keywords());
        let attrs: Vec<String> = product.attribute_pairs().iter().map(|a| format!("{}={}", a.name, a.value)).collect();
        document.insert("attrs", attrs);
        document.insert("skus", product.variants.iter().map(|v| v.sku.clone()).collect::<Vec<_>>());
        document.insert("priceMinor", product.price.minor_units);
        document.insert("currency", product.price.currency.as_str());
        document.insert("nameKey", product.name.to_lowercase());
        document.insert("createdMs", product.created_at.timestamp_millis());
        Ok(document)
    }

    fn from_document(document: Document) -> Result<Product, StoreError> {
        Ok(shop_mongo::from_document(document)?)
    }

    fn filter_document(filter: &ProductFilter) -> Document {
        let mut query = doc! { "status": "ACTIVE" };
        if !filter.category_ids.is_empty() {
            let ids: Vec<String> = filter.category_ids.iter().map(Uuid::to_string).collect();
            query.insert("category_id", doc! { "$in": ids });
        }
        if !filter.brands.is_empty() {
            query.insert("brand", doc! { "$in": filter.brands.clone() });
        }
        if let Some(range) = &filter.price {
            let mut bounds = Document::new();
            if let Some(min) = range.min {
                bounds.insert("$gte", min.minor_units);
                query.insert("currency", min.currency.as_str());
            }
            if let Some(max) = range.max {
                bounds.insert("$lte", max.minor_units);
                query.insert("currency", max.currency.as_str());
            }
            if !bounds.is_empty() {
                query.insert("priceMinor", bounds);
            }
        }
        let mut all: Vec<Document> = filter
            .attributes
            .iter()
            .map(|f| {
                let pairs: Vec<String> = f.values.iter().map(|v| format!("{}={}", f.name, v)).collect();
                doc! { "attrs": { "$in": pairs } }
            })
            .collect();
        all.extend(filter.search_words.iter().map(|word| {
            doc! { "keywords": { "$regex": format!("^{}", regex_literal(word)) } }
        }));
        if !all.is_empty() {
            query.insert("$and", all);
        }
        query
    }

    fn sort_document(sort: ProductSort) -> Document {
        match sort {
            ProductSort::NameAsc => doc! { "nameKey": 1, "_id": 1 },
            ProductSort::PriceAsc => doc! { "priceMinor": 1, "_id": 1 },
            ProductSort::PriceDesc => doc! { "priceMinor": -1, "_id": 1 },
            ProductSort::Newest => doc! { "createdMs": -1, "_id": 1 },
        }
    }

    async fn find_products(&self, filter: Document) -> Result<Vec<Product>, StoreError> {
        let documents: Vec<Document> =
            self.products.find(filter).await.map_err(unavailable)?.try_collect().await.map_err(unavailable)?;
        documents.into_iter().map(Self::from_document).collect()
    }

    async fn facets(&self, filter: Document) -> Result<Facets, StoreError> {
        let group = |field: &str| {
            vec![
                doc! { "$group": { "_id": format!("${field}"), "count": { "$sum": 1 } } },
                doc! { "$sort": { "_id": 1 } },
            ]
        };
        let pipeline = vec![
            doc! { "$match": filter },
            doc! { "$facet": {
                "brands": group("brand"),
                "categories": group("category_id"),
                "attrs": [ { "$unwind": "$attrs" }, { "$group": { "_id": "$attrs", "count": { "$sum": 1 } } }, { "$sort": { "_id": 1 } } ],
                "price": [ { "$group": { "_id": Bson::Null, "min": { "$min": "$priceMinor" }, "max": { "$max": "$priceMinor" }, "currency": { "$min": "$currency" }, "total": { "$sum": 1 } } } ],
            } },
        ];
        let mut cursor = self.products.aggregate(pipeline).await.map_err(unavailable)?;
        let Some(result) = cursor.try_next().await.map_err(unavailable)? else {
            return Ok(Facets::default());
        };
        let counts = |name: &str| -> Vec<FacetValue> {
            result
                .get_array(name)
                .map(|rows| {
                    rows.iter()
                        .filter_map(Bson::as_document)
                        .filter_map(|row| {
                            Some(FacetValue {
                                value: row.get_str("_id").ok()?.to_owned(),
                                count: count_of(row, "count"),
                            })
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        let attribute_rows = counts("attrs")
            .into_iter()
            .filter_map(|fv| {
                let (name, value) = fv.value.split_once('=')?;
                Some((name.to_owned(), value.to_owned(), fv.count))
            })
            .collect();
        let price = result.get_array("price").ok().and_then(|rows| rows.first()).and_then(Bson::as_document);
        Ok(Facets {
            total: price.map_or(0, |p| count_of(p, "total")),
            brands: counts("brands"),
            categories: counts("categories"),
            attributes: Facets::group_attributes(attribute_rows),
            price_min: price.and_then(|p| int_of(p, "min")),
            price_max: price.and_then(|p| int_of(p, "max")),
            currency: price.and_then(|p| p.get_str("currency").ok()).map(str::to_owned),
        })
    }
}

fn int_of(document: &Document, key: &str) -> Option<i64> {
    shop_mongo::int(document, key).ok()
}

fn count_of(document: &Document, key: &str) -> u64 {
    int_of(document, key).and_then(|n| u64::try_from(n).ok()).unwrap_or(0)
}

#[async_trait::async_trait]
impl CatalogStore for MongoCatalogStore {
    async fn prepare(&self) -> Result<(), StoreError> {
        let index = shop_mongo::index;
        self.products
            .create_indexes(vec![
                index(doc! { "slug": 1 }, "slug_unique", true),
                index(doc! { "skus": 1 }, "skus_unique", true),
                index(doc! { "keywords": 1 }, "keywords", false),
                index(doc! { "attrs": 1 }, "attrs", false),
                index(doc! { "status": 1, "category_id": 1, "nameKey": 1 }, "category_name", false),
                index(doc! { "status": 1, "priceMinor": 1 }, "price", false),
                index(doc! { "status": 1, "brand": 1 }, "brand", false),
            ])
            .await
            .map_err(unavailable)?;
        self.categories
            .create_indexes(vec![index(doc! { "slug": 1 }, "slug_unique", true)])
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.client.database("admin").run_command(doc! { "ping": 1 }).await.map_err(unavailable)?;
        Ok(())
    }

    async fn products_by_ids(&self, ids: &[Uuid]) -> Result<Vec<Product>, StoreError> {
        let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        self.find_products(doc! { "_id": { "$in": ids } }).await
    }

    async fn product_by_slug(&self, slug: &str) -> Result<Option<Product>, StoreError> {
        let document = self.products.find_one(doc! { "slug": slug }).await.map_err(unavailable)?;
        document.map(Self::from_document).transpose()
    }

    async fn products_by_skus(&self, skus: &[String]) -> Result<Vec<Product>, StoreError> {
        self.find_products(doc! { "skus": { "$in": skus.to_vec() } }).await
    }

    async fn list(
        &self,
        filter: &ProductFilter,
        sort: ProductSort,
        page: PageRequest,
    ) -> Result<ProductPage, StoreError> {
        let query = Self::filter_document(filter);
        let facets = self.facets(query.clone()).await?;
        let limit = i64::try_from(page.fetch_limit()).map_err(corrupt)?;
        let documents: Vec<Document> = self
            .products
            .find(query)
            .sort(Self::sort_document(sort))
            .skip(page.offset)
            .limit(limit)
            .await
            .map_err(unavailable)?
            .try_collect()
            .await
            .map_err(unavailable)?;
        let products = documents.into_iter().map(|d| Self::from_document(d).map(Arc::new)).collect::<Result<_, _>>()?;
        Ok(ProductPage { products, facets })
    }

    async fn insert(&self, product: &Product) -> Result<(), StoreError> {
        let document = Self::to_document(product)?;
        match self.products.insert_one(document).await {
            Ok(_) => Ok(()),
            Err(error) => Err(write_error(error)),
        }
    }

    async fn replace(&self, product: &Product, expected_version: i64) -> Result<(), StoreError> {
        let document = Self::to_document(product)?;
        let filter = doc! { "_id": product.id.to_string(), "version": expected_version };
        match self.products.replace_one(filter, document).await {
            Ok(result) if result.matched_count == 1 => Ok(()),
            Ok(_) => Err(StoreError::VersionMismatch),
            Err(error) => Err(write_error(error)),
        }
    }

    async fn upsert(&self, product: &Product) -> Result<(), StoreError> {
        let document = Self::to_document(product)?;
        match self.products.replace_one(doc! { "_id": product.id.to_string() }, document).upsert(true).await {
            Ok(_) => Ok(()),
            Err(error) => Err(write_error(error)),
        }
    }

    async fn categories(&self) -> Result<Vec<Category>, StoreError> {
        let documents: Vec<Document> = self
            .categories
            .find(doc! {})
            .sort(doc! { "slug": 1 })
            .await
            .map_err(unavailable)?
            .try_collect()
            .await
            .map_err(unavailable)?;
        documents.into_iter().map(|d| shop_mongo::from_document(d).map_err(StoreError::from)).collect()
    }

    async fn upsert_category(&self, category: &Category) -> Result<(), StoreError> {
        let mut document = shop_mongo::to_document(category)?;
        document.insert("_id", category.id.to_string());
        match self.categories.replace_one(doc! { "_id": category.id.to_string() }, document).upsert(true).await {
            Ok(_) => Ok(()),
            Err(error) if shop_mongo::is_duplicate_key(&error) => Err(StoreError::KeyTaken(UniqueKey::CategorySlug)),
            Err(error) => Err(unavailable(error)),
        }
    }
}
