//! Admin writes to the catalog. Business failures come back as `userErrors`; nothing is
//! written unless the whole input is valid.

use std::sync::Arc;

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::Utc;

use super::{
    entities::parse_id,
    inputs::{self, ProductCreateInput, ProductUpdateInput},
    query::all_categories,
    types::Product,
};
use crate::{
    domain::{self, NewProduct, ProductPatch, ProductStatus, product::InvalidField},
    error::{CatalogError, CatalogErrorCode, CatalogUserError, gql},
    service::Catalog,
    store::{StoreError, UniqueKey},
};

impl From<InvalidField> for CatalogUserError {
    fn from(invalid: InvalidField) -> Self {
        Self::at(invalid.field, invalid.message, CatalogErrorCode::Invalid)
    }
}

/// Result of `productCreate`.
#[derive(SimpleObject, Clone, Debug)]
pub struct ProductCreatePayload {
    /// The new product, if it was created.
    pub product: Option<Product>,
    /// Why it was not, if it was not.
    pub user_errors: Vec<CatalogUserError>,
}

/// Result of `productUpdate`.
#[derive(SimpleObject, Clone, Debug)]
pub struct ProductUpdatePayload {
    /// The product after the change, if it changed.
    pub product: Option<Product>,
    /// Why it did not, if it did not.
    pub user_errors: Vec<CatalogUserError>,
}

/// Result of `productArchive`.
#[derive(SimpleObject, Clone, Debug)]
pub struct ProductArchivePayload {
    /// The archived product.
    pub product: Option<Product>,
    /// Why it was not archived.
    pub user_errors: Vec<CatalogUserError>,
}

fn require_admin(ctx: &Context<'_>) -> Result<()> {
    shop_kernel::auth::require_admin(ctx).map(|_| ())
}

fn store_failure(error: StoreError) -> Result<Vec<CatalogUserError>> {
    Ok(match error {
        StoreError::KeyTaken(key @ UniqueKey::Sku) => {
            vec![CatalogUserError::new(
                &["variants", "sku"],
                format!("{key} is already taken"),
                CatalogErrorCode::SkuTaken,
            )]
        }
        StoreError::KeyTaken(key) => {
            vec![CatalogUserError::new(&["slug"], format!("{key} is already taken"), CatalogErrorCode::SlugTaken)]
        }
        StoreError::VersionMismatch => vec![CatalogUserError::new(
            &["expectedVersion"],
            "the product changed since you read it; reload and retry",
            CatalogErrorCode::VersionConflict,
        )],
        other => return Err(gql(CatalogError::from(other))),
    })
}

async fn category_exists(ctx: &Context<'_>, id: uuid::Uuid) -> Result<bool> {
    Ok(all_categories(ctx).await?.iter().any(|c| c.id == id))
}

async fn load(ctx: &Context<'_>, id: uuid::Uuid) -> Result<Option<domain::Product>> {
    let catalog = ctx.data::<Arc<Catalog>>()?;
    Ok(catalog.store().products_by_ids(&[id]).await.map_err(gql)?.into_iter().next())
}

/// Catalog writes (ADMIN only).
pub struct MutationRoot;

#[Object(name = "Mutation")]
impl MutationRoot {
    /// Creates a product with its variants.
    #[graphql(requires_scopes = "admin")]
    async fn product_create(&self, ctx: &Context<'_>, input: ProductCreateInput) -> Result<ProductCreatePayload> {
        require_admin(ctx)?;
        let refuse = |user_errors| Ok(ProductCreatePayload { product: None, user_errors });
        let category_id = match parse_id(&input.category_id, "categoryId") {
            Ok(id) if category_exists(ctx, id).await? => id,
            _ => {
                return refuse(vec![CatalogUserError::new(
                    &["categoryId"],
                    "no such category",
                    CatalogErrorCode::NotFound,
                )]);
            }
        };
        let variants = match inputs::variants(input.variants) {
            Ok(v) => v,
            Err((field, message)) => {
                return refuse(vec![CatalogUserError::at(field, message, CatalogErrorCode::Invalid)]);
            }
        };
        let new_product = NewProduct {
            slug: input.slug,
            name: input.name,
            description: input.description,
            brand: input.brand,
            category_id,
            images: inputs::images(input.images),
            attributes: inputs::attributes(input.attributes),
            variants,
        };
        let product = match new_product.into_product(Utc::now()) {
            Ok(p) => p,
            Err(invalid) => return refuse(invalid.into_iter().map(CatalogUserError::from).collect()),
        };
        match ctx.data::<Arc<Catalog>>()?.create(&product).await {
            Ok(()) => Ok(ProductCreatePayload { product: Some(Product(Arc::new(product))), user_errors: vec![] }),
            Err(error) => refuse(store_failure(error)?),
        }
    }

    /// Changes a product. Give `expectedVersion` (from `Product.version`) to refuse the
    /// change if someone else changed the product since you read it.
    #[graphql(requires_scopes = "admin")]
    async fn product_update(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: Option<i64>,
        input: ProductUpdateInput,
    ) -> Result<ProductUpdatePayload> {
        require_admin(ctx)?;
        let refuse = |user_errors| Ok(ProductUpdatePayload { product: None, user_errors });
        let not_found = || vec![CatalogUserError::new(&["id"], "no such product", CatalogErrorCode::NotFound)];
        let Ok(id) = parse_id(&id, "id") else { return refuse(not_found()) };
        let Some(current) = load(ctx, id).await? else { return refuse(not_found()) };
        if expected_version.is_some_and(|v| v != current.version) {
            return refuse(store_failure(StoreError::VersionMismatch)?);
        }
        let category_id = match &input.category_id {
            Some(raw) => match parse_id(raw, "categoryId") {
                Ok(id) if category_exists(ctx, id).await? => Some(id),
                _ => {
                    return refuse(vec![CatalogUserError::new(
                        &["categoryId"],
                        "no such category",
                        CatalogErrorCode::NotFound,
                    )]);
                }
            },
            None => None,
        };
        let variants = match input.variants.map(inputs::variants).transpose() {
            Ok(v) => v,
            Err((field, message)) => {
                return refuse(vec![CatalogUserError::at(field, message, CatalogErrorCode::Invalid)]);
            }
        };
        let patch = ProductPatch {
            name: input.name,
            description: input.description,
            brand: input.brand,
            category_id,
            images: input.images.map(inputs::images),
            attributes: input.attributes.map(inputs::attributes),
            variants,
        };
        let base_version = current.version;
        let updated = match patch.apply(current, Utc::now()) {
            Ok(p) => p,
            Err(invalid) => return refuse(invalid.into_iter().map(CatalogUserError::from).collect()),
        };
        match ctx.data::<Arc<Catalog>>()?.update(&updated, base_version).await {
            Ok(()) => Ok(ProductUpdatePayload { product: Some(Product(Arc::new(updated))), user_errors: vec![] }),
            Err(error) => refuse(store_failure(error)?),
        }
    }

    /// Withdraws a product from sale. It stays resolvable by id for past orders.
    #[graphql(requires_scopes = "admin")]
    async fn product_archive(&self, ctx: &Context<'_>, id: ID) -> Result<ProductArchivePayload> {
        require_admin(ctx)?;
        let refuse = |user_errors| Ok(ProductArchivePayload { product: None, user_errors });
        let not_found = || vec![CatalogUserError::new(&["id"], "no such product", CatalogErrorCode::NotFound)];
        let Ok(id) = parse_id(&id, "id") else { return refuse(not_found()) };
        let Some(mut product) = load(ctx, id).await? else { return refuse(not_found()) };
        if product.status == ProductStatus::Archived {
            return Ok(ProductArchivePayload { product: Some(Product(Arc::new(product))), user_errors: vec![] });
        }
        let base_version = product.version;
        product.status = ProductStatus::Archived;
        product.version += 1;
        product.updated_at = Utc::now();
        match ctx.data::<Arc<Catalog>>()?.update(&product, base_version).await {
            Ok(()) => Ok(ProductArchivePayload { product: Some(Product(Arc::new(product))), user_errors: vec![] }),
            Err(error) => refuse(store_failure(error)?),
        }
    }
}
