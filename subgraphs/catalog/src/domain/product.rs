//! Products, variants and categories, and the validation of what admins submit.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shop_kernel::Money;
use uuid::Uuid;

/// Whether a product is for sale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProductStatus {
    /// Listed and for sale.
    Active,
    /// Withdrawn: still resolvable by id (old orders point at it), never listed.
    Archived,
}

impl ProductStatus {
    /// The stored form.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Active => "ACTIVE",
            Self::Archived => "ARCHIVED",
        }
    }
}

/// A named value such as `colour = black`; names and values are stored lower-case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Attribute {
    pub name: String,
    pub value: String,
}

/// A product picture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Image {
    pub url: String,
    pub alt: String,
}

/// A purchasable version of a product, identified by its SKU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variant {
    pub sku: String,
    pub name: String,
    pub price: Money,
    pub attributes: Vec<Attribute>,
}

/// A product as stored and served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub brand: String,
    pub category_id: Uuid,
    pub images: Vec<Image>,
    /// The lowest variant price: what listings show as "from".
    pub price: Money,
    pub attributes: Vec<Attribute>,
    pub variants: Vec<Variant>,
    pub status: ProductStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Incremented on every change; guards against lost updates.
    pub version: i64,
}

impl Product {
    /// Search keywords: the distinct lower-case words of name, brand, description and
    /// attribute values. Search matches words by prefix, which both stores can index.
    pub fn keywords(&self) -> Vec<String> {
        let mut words: Vec<String> = [self.name.as_str(), self.brand.as_str(), self.description.as_str()]
            .into_iter()
            .chain(self.attributes.iter().map(|a| a.value.as_str()))
            .chain(self.variants.iter().flat_map(|v| v.attributes.iter().map(|a| a.value.as_str())))
            .flat_map(tokenize)
            .collect();
        words.sort();
        words.dedup();
        words
    }

    /// Every `name=value` pair of the product and its variants, for filters and facets.
    pub fn attribute_pairs(&self) -> Vec<Attribute> {
        let mut pairs: Vec<Attribute> =
            self.attributes.iter().chain(self.variants.iter().flat_map(|v| v.attributes.iter())).cloned().collect();
        pairs.sort_by(|a, b| (&a.name, &a.value).cmp(&(&b.name, &b.value)));
        pairs.dedup();
        pairs
    }
}

/// Splits text into lower-case alphanumeric words.
pub fn tokenize(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase)
}

/// A node of the category tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub parent_id: Option<Uuid>,
}

/// The ids of `root` and every category below it.
pub fn category_subtree(categories: &[Category], root: Uuid) -> Vec<Uuid> {
    let mut ids = vec![root];
    let mut cursor = 0;
    while let Some(&parent) = ids.get(cursor) {
        for child in categories.iter().filter(|c| c.parent_id == Some(parent)) {
            // A cycle in stored data must not make a request loop forever.
            if !ids.contains(&child.id) {
                ids.push(child.id);
            }
        }
        cursor += 1;
    }
    ids
}

/// Stable ids: the same slug gets the same id in every store and every run, which keeps
/// seeding idempotent and lets other services refer to seeded data.
pub fn id_for_slug(kind: &str, slug: &str) -> Uuid {
    Uuid::new_v5(&Uuid::NAMESPACE_URL, format!("urn:shop:{kind}:{slug}").as_bytes())
}

/// A validation failure, naming the input field it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidField {
    pub field: Vec<String>,
    pub message: String,
}

impl InvalidField {
    fn new(field: &[&str], message: impl Into<String>) -> Self {
        Self { field: field.iter().map(|s| (*s).to_owned()).collect(), message: message.into() }
    }
}

/// What an admin submits to create a product (before validation).
#[derive(Debug, Clone)]
pub struct NewProduct {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub brand: String,
    pub category_id: Uuid,
    pub images: Vec<Image>,
    pub attributes: Vec<Attribute>,
    pub variants: Vec<Variant>,
}

/// Changes an admin submits to an existing product; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ProductPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub brand: Option<String>,
    pub category_id: Option<Uuid>,
    pub images: Option<Vec<Image>>,
    pub attributes: Option<Vec<Attribute>>,
    pub variants: Option<Vec<Variant>>,
}

const MAX_NAME: usize = 200;
const MAX_DESCRIPTION: usize = 10_000;
const MAX_VARIANTS: usize = 100;
const MAX_ATTRIBUTES: usize = 50;
const MAX_IMAGES: usize = 20;

fn is_slug(slug: &str) -> bool {
    (1..=100).contains(&slug.len())
        && slug
            .split('-')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
}

fn is_sku(sku: &str) -> bool {
    (1..=32).contains(&sku.len()) && sku.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
}

fn check_text(errors: &mut Vec<InvalidField>, field: &str, value: &str, max: usize, required: bool) {
    if required && value.trim().is_empty() {
        errors.push(InvalidField::new(&[field], format!("{field} must not be blank")));
    } else if value.chars().count() > max {
        errors.push(InvalidField::new(&[field], format!("{field} must be at most {max} characters")));
    }
}

fn normalize_attributes(attributes: &mut [Attribute]) {
    for attribute in attributes {
        attribute.name = attribute.name.trim().to_lowercase();
        attribute.value = attribute.value.trim().to_lowercase();
    }
}

fn check_attributes(errors: &mut Vec<InvalidField>, path: &[&str], attributes: &[Attribute]) {
    if attributes.len() > MAX_ATTRIBUTES {
        errors.push(InvalidField::new(path, format!("at most {MAX_ATTRIBUTES} attributes")));
    }
    for attribute in attributes {
        if attribute.name.is_empty()
            || attribute.name.len() > 50
            || attribute.value.is_empty()
            || attribute.value.len() > 100
        {
            errors.push(InvalidField::new(
                path,
                "attribute names (1-50 chars) and values (1-100 chars) must not be blank",
            ));
            return;
        }
        // Stores index attributes as `name=value`.
        if attribute.name.contains('=') {
            errors.push(InvalidField::new(path, "attribute names must not contain `=`"));
            return;
        }
    }
}

fn check_images(errors: &mut Vec<InvalidField>, images: &[Image]) {
    if images.len() > MAX_IMAGES {
        errors.push(InvalidField::new(&["images"], format!("at most {MAX_IMAGES} images")));
    }
    if images.iter().any(|i| !(i.url.starts_with("https://") || i.url.starts_with("http://")) || i.url.len() > 2048) {
        errors.push(InvalidField::new(&["images"], "image urls must be http(s) and at most 2048 characters"));
    }
}

fn check_variants(errors: &mut Vec<InvalidField>, variants: &mut [Variant]) {
    if variants.is_empty() || variants.len() > MAX_VARIANTS {
        errors.push(InvalidField::new(&["variants"], format!("a product has 1 to {MAX_VARIANTS} variants")));
        return;
    }
    let currency = variants.first().map(|v| v.price.currency);
    let mut skus = std::collections::HashSet::new();
    for variant in variants.iter_mut() {
        variant.sku = variant.sku.trim().to_owned();
        normalize_attributes(&mut variant.attributes);
        if !is_sku(&variant.sku) {
            errors.push(InvalidField::new(
                &["variants", "sku"],
                format!("`{}` is not a SKU (1-32 of A-Z, 0-9, -)", variant.sku),
            ));
        } else if !skus.insert(variant.sku.clone()) {
            errors.push(InvalidField::new(&["variants", "sku"], format!("SKU `{}` appears twice", variant.sku)));
        }
        check_text(errors, "name", &variant.name, MAX_NAME, true);
        if Some(variant.price.currency) != currency {
            errors.push(InvalidField::new(&["variants", "price"], "all variants must be priced in one currency"));
        }
        check_attributes(errors, &["variants", "attributes"], &variant.attributes);
    }
}

/// The lowest variant price, which is the product's listed price.
pub fn from_price(variants: &[Variant]) -> Option<Money> {
    variants.iter().map(|v| v.price).min_by_key(|m| m.minor_units)
}

impl NewProduct {
    /// Validates and normalizes the input into a product ready to store.
    pub fn into_product(mut self, now: DateTime<Utc>) -> Result<Product, Vec<InvalidField>> {
        let mut errors = Vec::new();
        self.slug = self.slug.trim().to_owned();
        if !is_slug(&self.slug) {
            errors.push(InvalidField::new(
                &["slug"],
                "slug must be lower-case words of a-z and 0-9 joined by hyphens, at most 100 characters",
            ));
        }
        check_text(&mut errors, "name", &self.name, MAX_NAME, true);
        check_text(&mut errors, "description", &self.description, MAX_DESCRIPTION, false);
        check_text(&mut errors, "brand", &self.brand, MAX_NAME, true);
        normalize_attributes(&mut self.attributes);
        check_attributes(&mut errors, &["attributes"], &self.attributes);
        check_images(&mut errors, &self.images);
        check_variants(&mut errors, &mut self.variants);
        let price = from_price(&self.variants);
        match price {
            Some(price) if errors.is_empty() => Ok(Product {
                id: id_for_slug("product", &self.slug),
                slug: self.slug,
                name: self.name.trim().to_owned(),
                description: self.description.trim().to_owned(),
                brand: self.brand.trim().to_owned(),
                category_id: self.category_id,
                images: self.images,
                price,
                attributes: self.attributes,
                variants: self.variants,
                status: ProductStatus::Active,
                created_at: now,
                updated_at: now,
                version: 1,
            }),
            _ => Err(errors),
        }
    }
}

impl ProductPatch {
    /// Applies the patch to `product`, validating the result; bumps the version.
    pub fn apply(self, mut product: Product, now: DateTime<Utc>) -> Result<Product, Vec<InvalidField>> {
        let mut errors = Vec::new();
        if let Some(name) = self.name {
            check_text(&mut errors, "name", &name, MAX_NAME, true);
            product.name = name.trim().to_owned();
        }
        if let Some(description) = self.description {
            check_text(&mut errors, "description", &description, MAX_DESCRIPTION, false);
            product.description = description.trim().to_owned();
        }
        if let Some(brand) = self.brand {
            check_text(&mut errors, "brand", &brand, MAX_NAME, true);
            product.brand = brand.trim().to_owned();
        }
        if let Some(category_id) = self.category_id {
            product.category_id = category_id;
        }
        if let Some(images) = self.images {
            check_images(&mut errors, &images);
            product.images = images;
        }
        if let Some(mut attributes) = self.attributes {
            normalize_attributes(&mut attributes);
            check_attributes(&mut errors, &["attributes"], &attributes);
            product.attributes = attributes;
        }
        if let Some(mut variants) = self.variants {
            check_variants(&mut errors, &mut variants);
            product.variants = variants;
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        if let Some(price) = from_price(&product.variants) {
            product.price = price;
        }
        product.updated_at = now;
        product.version += 1;
        Ok(product)
    }
}

#[cfg(test)]
mod tests {
    use shop_kernel::CurrencyCode;

    use super::*;

    fn variant(sku: &str, cents: i64) -> Variant {
        Variant {
            sku: sku.into(),
            name: "Default".into(),
            price: Money::from_minor(cents, CurrencyCode::Usd),
            attributes: vec![Attribute { name: "Colour".into(), value: " Black ".into() }],
        }
    }

    fn new_product() -> NewProduct {
        NewProduct {
            slug: "trail-runner".into(),
            name: "Trail Runner".into(),
            description: "Grippy shoes for muddy trails".into(),
            brand: "Northwind".into(),
            category_id: Uuid::nil(),
            images: vec![],
            attributes: vec![Attribute { name: "Material".into(), value: "Mesh".into() }],
            variants: vec![variant("TR-42", 8900), variant("TR-43", 7900)],
        }
    }

    #[test]
    fn valid_input_becomes_a_normalized_product() {
        let product = new_product().into_product(Utc::now()).unwrap();
        assert_eq!(product.price.minor_units, 7900);
        assert_eq!(product.id, id_for_slug("product", "trail-runner"));
        assert_eq!(product.attributes[0], Attribute { name: "material".into(), value: "mesh".into() });
        assert!(product.keywords().contains(&"muddy".to_owned()));
        assert!(product.attribute_pairs().contains(&Attribute { name: "colour".into(), value: "black".into() }));
    }

    #[test]
    fn invalid_input_names_every_bad_field() {
        let mut input = new_product();
        input.slug = "Not A Slug".into();
        input.name = "  ".into();
        input.variants = vec![variant("bad sku", 100), variant("TR-1", 100), variant("TR-1", 100)];
        let errors = input.into_product(Utc::now()).unwrap_err();
        let fields: Vec<String> = errors.iter().map(|e| e.field.join(".")).collect();
        assert!(fields.contains(&"slug".to_owned()));
        assert!(fields.contains(&"name".to_owned()));
        assert_eq!(fields.iter().filter(|f| *f == "variants.sku").count(), 2);
    }

    #[test]
    fn a_product_needs_a_variant() {
        let mut input = new_product();
        input.variants.clear();
        assert!(input.into_product(Utc::now()).is_err());
    }

    #[test]
    fn patch_bumps_version_and_reprices() {
        let product = new_product().into_product(Utc::now()).unwrap();
        let patch = ProductPatch { variants: Some(vec![variant("TR-44", 5000)]), ..ProductPatch::default() };
        let patched = patch.apply(product, Utc::now()).unwrap();
        assert_eq!(patched.version, 2);
        assert_eq!(patched.price.minor_units, 5000);
    }

    #[test]
    fn subtree_contains_descendants_only() {
        let cat = |slug: &str, parent: Option<Uuid>| Category {
            id: id_for_slug("category", slug),
            slug: slug.into(),
            name: slug.into(),
            description: String::new(),
            parent_id: parent,
        };
        let root = cat("apparel", None);
        let child = cat("tees", Some(root.id));
        let grandchild = cat("v-necks", Some(child.id));
        let other = cat("home", None);
        let all = vec![root.clone(), child.clone(), grandchild.clone(), other.clone()];
        let ids = category_subtree(&all, root.id);
        assert_eq!(ids, vec![root.id, child.id, grandchild.id]);
        let looped = vec![cat("a", Some(id_for_slug("category", "b"))), cat("b", Some(id_for_slug("category", "a")))];
        assert_eq!(category_subtree(&looped, id_for_slug("category", "a")).len(), 2, "cycles terminate");
    }
}
