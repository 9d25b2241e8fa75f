//! The rules of identity, with no I/O: what a valid user, address and password look like,
//! and how addresses keep exactly one default per kind.

pub mod address;
pub mod user;

pub use address::{Address, AddressInput, AddressKind};
pub use user::{NewUser, ProfilePatch, User, email_key};

pub use shop_kernel::input::FieldError;
