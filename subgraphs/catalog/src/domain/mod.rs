//! Catalog rules with no I/O: what a product is, how input is validated, how search and
//! filters are normalized.

pub mod product;
pub mod query;

pub use product::{Attribute, Category, Image, NewProduct, Product, ProductPatch, ProductStatus, Variant};
pub use query::{AttributeFilter, Facets, PriceRange, ProductFilter, ProductPage, ProductSort};
