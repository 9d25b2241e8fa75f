//! The embedded catalog store on sea-orm (SQLite; PostgreSQL works too).

mod entity;

use std::sync::Arc;

use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, Order, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Schema,
    sea_query::{Expr, ExprTrait, Func, LikeExpr},
};
use shop_kernel::{db, literal::like_literal, relay::PageRequest, store::StoreFailure};
use uuid::Uuid;

use self::entity::{attribute, category, product, sku};
use super::{CatalogStore, StoreError, UniqueKey};
use crate::domain::{Category, Facets, Product, ProductFilter, ProductPage, ProductSort, query::FacetValue};

/// Catalog tables in a relational database.
#[derive(Clone)]
pub struct SqlCatalogStore {
    db: DatabaseConnection,
}

fn unavailable(error: DbErr) -> StoreError {
    StoreFailure::from(error).into()
}

fn corrupt(error: impl std::fmt::Display) -> StoreError {
    StoreFailure::corrupt(error).into()
}

fn parse_product(document: &str) -> Result<Product, StoreError> {
    serde_json::from_str(document).map_err(corrupt)
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

impl SqlCatalogStore {
    /// Opens the database at `url`.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        Ok(Self { db: db::connect(url, max_connections).await.map_err(unavailable)? })
    }

    fn product_row(product: &Product) -> Result<product::ActiveModel, StoreError> {
        Ok(product::ActiveModel {
            id: Set(product.id.to_string()),
            slug: Set(product.slug.clone()),
            name_key: Set(product.name.to_lowercase()),
            brand: Set(product.brand.clone()),
            category_id: Set(product.category_id.to_string()),
            status: Set(product.status.as_str().to_owned()),
            price_minor: Set(product.price.minor_units),
            currency: Set(product.price.currency.as_str().to_owned()),
            keywords: Set(format!(" {} ", product.keywords().join(" "))),
            created_ms: Set(product.created_at.timestamp_millis()),
            version: Set(product.version),
            document: Set(serde_json::to_string(product).map_err(corrupt)?),
        })
    }

    /// Writes the rows that hang off a product (its attributes and SKUs).
    async fn insert_children(tx: &impl ConnectionTrait, product: &Product) -> Result<(), StoreError> {
        let id = product.id.to_string();
        let attributes: Vec<attribute::ActiveModel> = product
            .attribute_pairs()
            .into_iter()
            .map(|a| attribute::ActiveModel { product_id: Set(id.clone()), name: Set(a.name), value: Set(a.value) })
            .collect();
        if !attributes.is_empty() {
            attribute::Entity::insert_many(attributes).exec(tx).await.map_err(unavailable)?;
        }
        let skus: Vec<sku::ActiveModel> = product
            .variants
            .iter()
            .map(|v| sku::ActiveModel { sku: Set(v.sku.clone()), product_id: Set(id.clone()) })
            .collect();
        sku::Entity::insert_many(skus).exec(tx).await.map_err(|e| {
            if db::is_unique_violation(&e) { StoreError::KeyTaken(UniqueKey::Sku) } else { unavailable(e) }
        })?;
        Ok(())
    }

    async fn delete_children(tx: &impl ConnectionTrait, id: &str) -> Result<(), StoreError> {
        attribute::Entity::delete_many()
            .filter(attribute::Column::ProductId.eq(id))
            .exec(tx)
            .await
            .map_err(unavailable)?;
        sku::Entity::delete_many().filter(sku::Column::ProductId.eq(id)).exec(tx).await.map_err(unavailable)?;
        Ok(())
    }

    fn condition(filter: &ProductFilter) -> Condition {
        let mut condition = Condition::all().add(product::Column::Status.eq("ACTIVE"));
        if !filter.category_ids.is_empty() {
            condition =
                condition.add(product::Column::CategoryId.is_in(filter.category_ids.iter().map(Uuid::to_string)));
        }
        if !filter.brands.is_empty() {
            condition = condition.add(product::Column::Brand.is_in(filter.brands.clone()));
        }
        if let Some(range) = &filter.price {
            if let Some(min) = range.min {
                condition = condition
                    .add(product::Column::PriceMinor.gte(min.minor_units))
                    .add(product::Column::Currency.eq(min.currency.as_str()));
            }
            if let Some(max) = range.max {
                condition = condition
                    .add(product::Column::PriceMinor.lte(max.minor_units))
                    .add(product::Column::Currency.eq(max.currency.as_str()));
            }
        }
        for attribute_filter in &filter.attributes {
            let matching = attribute::Entity::find()
                .select_only()
                .column(attribute::Column::ProductId)
                .filter(attribute::Column::Name.eq(attribute_filter.name.clone()))
                .filter(attribute::Column::Value.is_in(attribute_filter.values.clone()))
                .into_query();
            condition = condition.add(product::Column::Id.in_subquery(matching));
        }
        for word in &filter.search_words {
            let pattern = format!("% {}%", like_literal(word));
            condition = condition.add(Expr::col(product::Column::Keywords).like(LikeExpr::new(pattern).escape('\\')));
        }
        condition
    }

    async fn facets(&self, condition: &Condition) -> Result<Facets, StoreError> {
        let (total, price_min, price_max, currency): (i64, Option<i64>, Option<i64>, Option<String>) =
            product::Entity::find()
                .select_only()
                .column_as(Expr::from(Func::count(Expr::col(product::Column::Id))), "total")
                .column_as(Expr::from(Func::min(Expr::col(product::Column::PriceMinor))), "price_min")
                .column_as(Expr::from(Func::max(Expr::col(product::Column::PriceMinor))), "price_max")
                .column_as(Expr::from(Func::min(Expr::col(product::Column::Currency))), "currency")
                .filter(condition.clone())
                .into_tuple()
                .one(&self.db)
                .await
                .map_err(unavailable)?
                .unwrap_or((0, None, None, None));
        let grouped = |column: product::Column| {
            product::Entity::find()
                .select_only()
                .column(column)
                .column_as(Expr::from(Func::count(Expr::col(product::Column::Id))), "n")
                .filter(condition.clone())
                .group_by(column)
                .order_by_asc(column)
                .into_tuple::<(String, i64)>()
                .all(&self.db)
        };
        let to_values = |rows: Vec<(String, i64)>| {
            rows.into_iter().map(|(value, n)| FacetValue { value, count: count(n) }).collect()
        };
        let brands = to_values(grouped(product::Column::Brand).await.map_err(unavailable)?);
        let categories = to_values(grouped(product::Column::CategoryId).await.map_err(unavailable)?);
        let matching =
            product::Entity::find().select_only().column(product::Column::Id).filter(condition.clone()).into_query();
        let attribute_rows: Vec<(String, String, i64)> = attribute::Entity::find()
            .select_only()
            .column(attribute::Column::Name)
            .column(attribute::Column::Value)
            .column_as(Expr::from(Func::count(Expr::col(attribute::Column::ProductId))), "n")
            .filter(attribute::Column::ProductId.in_subquery(matching))
            .group_by(attribute::Column::Name)
            .group_by(attribute::Column::Value)
            .order_by_asc(attribute::Column::Name)
            .order_by_asc(attribute::Column::Value)
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(unavailable)?;
        Ok(Facets {
            total: count(total),
            brands,
            categories,
            attributes: Facets::group_attributes(
                attribute_rows.into_iter().map(|(n, v, c)| (n, v, count(c))).collect(),
            ),
            price_min,
            price_max,
            currency,
        })
    }
}

#[async_trait::async_trait]
impl CatalogStore for SqlCatalogStore {
    async fn prepare(&self) -> Result<(), StoreError> {
        let backend = self.db.get_database_backend();
        let schema = Schema::new(backend);
        let statements = [
            schema.create_table_from_entity(product::Entity).if_not_exists().to_owned(),
            schema.create_table_from_entity(attribute::Entity).if_not_exists().to_owned(),
            schema.create_table_from_entity(sku::Entity).if_not_exists().to_owned(),
            schema.create_table_from_entity(category::Entity).if_not_exists().to_owned(),
        ];
        for statement in statements {
            self.db.execute(&statement).await.map_err(unavailable)?;
        }
        for index in [
            "CREATE INDEX IF NOT EXISTS catalog_products_listing ON catalog_products (status, category_id, name_key)",
            "CREATE INDEX IF NOT EXISTS catalog_products_price ON catalog_products (status, price_minor)",
            "CREATE INDEX IF NOT EXISTS catalog_attributes_pair ON catalog_product_attributes (name, value)",
            "CREATE INDEX IF NOT EXISTS catalog_skus_product ON catalog_product_skus (product_id)",
        ] {
            self.db.execute_unprepared(index).await.map_err(unavailable)?;
        }
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.db.ping().await.map_err(unavailable)
    }

    async fn products_by_ids(&self, ids: &[Uuid]) -> Result<Vec<Product>, StoreError> {
        let rows = product::Entity::find()
            .filter(product::Column::Id.is_in(ids.iter().map(Uuid::to_string)))
            .all(&self.db)
            .await
            .map_err(unavailable)?;
        rows.iter().map(|r| parse_product(&r.document)).collect()
    }

    async fn product_by_slug(&self, slug: &str) -> Result<Option<Product>, StoreError> {
        let row =
            product::Entity::find().filter(product::Column::Slug.eq(slug)).one(&self.db).await.map_err(unavailable)?;
        row.map(|r| parse_product(&r.document)).transpose()
    }

    async fn products_by_skus(&self, skus: &[String]) -> Result<Vec<Product>, StoreError> {
        let owners = sku::Entity::find()
            .select_only()
            .column(sku::Column::ProductId)
            .filter(sku::Column::Sku.is_in(skus.to_vec()))
            .into_query();
        let rows = product::Entity::find()
            .filter(product::Column::Id.in_subquery(owners))
            .all(&self.db)
            .await
            .map_err(unavailable)?;
        rows.iter().map(|r| parse_product(&r.document)).collect()
    }

    async fn list(
        &self,
        filter: &ProductFilter,
        sort: ProductSort,
        page: PageRequest,
    ) -> Result<ProductPage, StoreError> {
        let condition = Self::condition(filter);
        let facets = self.facets(&condition).await?;
        let (column, order) = match sort {
            ProductSort::NameAsc => (product::Column::NameKey, Order::Asc),
            ProductSort::PriceAsc => (product::Column::PriceMinor, Order::Asc),
            ProductSort::PriceDesc => (product::Column::PriceMinor, Order::Desc),
            ProductSort::Newest => (product::Column::CreatedMs, Order::Desc),
        };
        let rows = product::Entity::find()
            .filter(condition)
            .order_by(column, order)
            .order_by_asc(product::Column::Id)
            .offset(page.offset)
            .limit(page.fetch_limit())
            .all(&self.db)
            .await
            .map_err(unavailable)?;
        let products = rows.iter().map(|r| parse_product(&r.document).map(Arc::new)).collect::<Result<_, _>>()?;
        Ok(ProductPage { products, facets })
    }

    async fn insert(&self, product: &Product) -> Result<(), StoreError> {
        let tx = db::begin_write(&self.db).await.map_err(unavailable)?;
        product::Entity::insert(Self::product_row(product)?).exec(&tx).await.map_err(|e| {
            if db::is_unique_violation(&e) { StoreError::KeyTaken(UniqueKey::Slug) } else { unavailable(e) }
        })?;
        Self::insert_children(&tx, product).await?;
        tx.commit().await.map_err(unavailable)
    }

    async fn replace(&self, product: &Product, expected_version: i64) -> Result<(), StoreError> {
        let id = product.id.to_string();
        let tx = db::begin_write(&self.db).await.map_err(unavailable)?;
        let updated = product::Entity::update_many()
            .set(Self::product_row(product)?)
            .filter(product::Column::Id.eq(id.clone()))
            .filter(product::Column::Version.eq(expected_version))
            .exec(&tx)
            .await
            .map_err(|e| {
                if db::is_unique_violation(&e) { StoreError::KeyTaken(UniqueKey::Slug) } else { unavailable(e) }
            })?;
        if updated.rows_affected != 1 {
            return Err(StoreError::VersionMismatch);
        }
        Self::delete_children(&tx, &id).await?;
        Self::insert_children(&tx, product).await?;
        tx.commit().await.map_err(unavailable)
    }

    async fn upsert(&self, product: &Product) -> Result<(), StoreError> {
        let id = product.id.to_string();
        let tx = db::begin_write(&self.db).await.map_err(unavailable)?;
        Self::delete_children(&tx, &id).await?;
        product::Entity::delete_by_id(id).exec(&tx).await.map_err(unavailable)?;
        product::Entity::insert(Self::product_row(product)?).exec(&tx).await.map_err(|e| {
            if db::is_unique_violation(&e) { StoreError::KeyTaken(UniqueKey::Slug) } else { unavailable(e) }
        })?;
        Self::insert_children(&tx, product).await?;
        tx.commit().await.map_err(unavailable)
    }

    async fn categories(&self) -> Result<Vec<Category>, StoreError> {
        let rows =
            category::Entity::find().order_by_asc(category::Column::Slug).all(&self.db).await.map_err(unavailable)?;
        rows.iter().map(|r| serde_json::from_str(&r.document).map_err(corrupt)).collect()
    }

    async fn upsert_category(&self, category: &Category) -> Result<(), StoreError> {
        let row = category::ActiveModel {
            id: Set(category.id.to_string()),
            slug: Set(category.slug.clone()),
            document: Set(serde_json::to_string(category).map_err(corrupt)?),
        };
        let tx = db::begin_write(&self.db).await.map_err(unavailable)?;
        category::Entity::delete_by_id(category.id.to_string()).exec(&tx).await.map_err(unavailable)?;
        category::Entity::insert(row).exec(&tx).await.map_err(|e| {
            if db::is_unique_violation(&e) { StoreError::KeyTaken(UniqueKey::CategorySlug) } else { unavailable(e) }
        })?;
        tx.commit().await.map_err(unavailable)
    }
}
