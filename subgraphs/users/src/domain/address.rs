//! Postal addresses and the rule that each kind has exactly one default while any exist.

use serde::{Deserialize, Serialize};
use shop_kernel::input::{PostalAddress, PostalAddressDraft};
use uuid::Uuid;

use super::{FieldError, User, user::MAX_ADDRESSES};

/// What an address is used for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, async_graphql::Enum)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AddressKind {
    /// Where orders are delivered.
    #[default]
    Shipping,
    /// Where invoices are addressed.
    Billing,
}

/// A stored postal address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    /// Stable id within the user.
    pub id: Uuid,
    /// Shipping or billing.
    pub kind: AddressKind,
    /// Whether this is the default of its kind.
    pub is_default: bool,
    /// The address itself, valid by checkout's rules.
    #[serde(flatten)]
    pub postal: PostalAddress,
}

/// A postal address as entered, before validation (also the GraphQL input `AddressInput`).
#[derive(Debug, Clone, Default, async_graphql::InputObject)]
#[graphql(name = "AddressInput")]
pub struct AddressInput {
    /// Shipping or billing.
    pub kind: AddressKind,
    /// Make this the default address of its kind. The first address of a kind always is.
    #[graphql(default)]
    pub is_default: bool,
    /// The address itself.
    #[graphql(flatten)]
    pub postal: PostalAddressDraft,
}

impl AddressInput {
    /// Validates the input into an address with `id`; errors point into `input`. The rules
    /// are checkout's ([`PostalAddress::parse`]), so a saved address always ships.
    pub fn parse(&self, id: Uuid) -> Result<Address, Vec<FieldError>> {
        let postal = PostalAddress::parse(&self.postal, &["input"])?;
        Ok(Address { id, kind: self.kind, is_default: self.is_default, postal })
    }
}

/// Why an address change was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressError {
    /// The input is invalid.
    Invalid(Vec<FieldError>),
    /// The user has no address with this id.
    NotFound,
    /// The user already has the maximum number of addresses.
    TooMany,
}

/// Makes `chosen` the only default of its kind when asked to, and makes sure each kind that has
/// addresses has a default.
fn settle_defaults(addresses: &mut [Address], chosen: Option<Uuid>) {
    if let Some(chosen) = chosen
        && let Some(kind) = addresses.iter().find(|a| a.id == chosen && a.is_default).map(|a| a.kind)
    {
        for address in addresses.iter_mut().filter(|a| a.kind == kind && a.id != chosen) {
            address.is_default = false;
        }
    }
    for kind in [AddressKind::Shipping, AddressKind::Billing] {
        let has_default = addresses.iter().any(|a| a.kind == kind && a.is_default);
        if !has_default && let Some(first) = addresses.iter_mut().find(|a| a.kind == kind) {
            first.is_default = true;
        }
    }
}

impl User {
    /// The user with a new address (the first of its kind becomes the default).
    pub fn with_address_added(
        &self,
        input: &AddressInput,
        id: Uuid,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Self, AddressError> {
        if self.addresses.len() >= MAX_ADDRESSES {
            return Err(AddressError::TooMany);
        }
        let address = input.parse(id).map_err(AddressError::Invalid)?;
        let mut next = self.touched(now);
        next.addresses.push(address);
        settle_defaults(&mut next.addresses, Some(id));
        Ok(next)
    }

    /// The user with address `id` replaced by `input`.
    pub fn with_address_updated(
        &self,
        id: Uuid,
        input: &AddressInput,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Self, AddressError> {
        let address = input.parse(id).map_err(AddressError::Invalid)?;
        let mut next = self.touched(now);
        let slot = next.addresses.iter_mut().find(|a| a.id == id).ok_or(AddressError::NotFound)?;
        *slot = address;
        settle_defaults(&mut next.addresses, Some(id));
        Ok(next)
    }

    /// The user without address `id` (another of its kind becomes the default if needed).
    pub fn with_address_removed(&self, id: Uuid, now: chrono::DateTime<chrono::Utc>) -> Result<Self, AddressError> {
        if !self.addresses.iter().any(|a| a.id == id) {
            return Err(AddressError::NotFound);
        }
        let mut next = self.touched(now);
        next.addresses.retain(|a| a.id != id);
        settle_defaults(&mut next.addresses, None);
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::domain::NewUser;

    fn input(kind: AddressKind, is_default: bool) -> AddressInput {
        AddressInput {
            kind,
            is_default,
            postal: PostalAddressDraft {
                name: "Ada".into(),
                line1: "1 Main St".into(),
                city: "Springfield".into(),
                postal_code: "12345".into(),
                country: "us".into(),
                ..PostalAddressDraft::default()
            },
        }
    }

    fn user() -> User {
        NewUser::parse("a@example.com", "A", None, "0123456789").unwrap().into_user("h".into(), Utc::now())
    }

    fn defaults(user: &User, kind: AddressKind) -> Vec<Uuid> {
        user.addresses.iter().filter(|a| a.kind == kind && a.is_default).map(|a| a.id).collect()
    }

    #[test]
    fn each_kind_keeps_exactly_one_default() {
        let (a, b, c) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let now = Utc::now();
        let user = user().with_address_added(&input(AddressKind::Shipping, false), a, now).unwrap();
        assert_eq!(defaults(&user, AddressKind::Shipping), [a], "the first address becomes the default");
        assert_eq!(user.addresses[0].postal.country, "US");
        let user = user.with_address_added(&input(AddressKind::Shipping, true), b, now).unwrap();
        assert_eq!(defaults(&user, AddressKind::Shipping), [b], "a new default replaces the old one");
        let user = user.with_address_added(&input(AddressKind::Billing, false), c, now).unwrap();
        assert_eq!(defaults(&user, AddressKind::Billing), [c]);
        assert_eq!(defaults(&user, AddressKind::Shipping), [b], "kinds are independent");
        let user = user.with_address_removed(b, now).unwrap();
        assert_eq!(defaults(&user, AddressKind::Shipping), [a], "removing the default promotes another");
        assert_eq!(user.with_address_removed(b, now), Err(AddressError::NotFound));
    }

    #[test]
    fn invalid_addresses_name_every_bad_field() {
        let mut bad = input(AddressKind::Billing, false);
        bad.postal.country = "USA".into();
        bad.postal.postal_code = " ".into();
        let Err(AddressError::Invalid(errors)) = user().with_address_added(&bad, Uuid::new_v4(), Utc::now()) else {
            panic!("expected invalid");
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.join(".")).collect();
        assert_eq!(fields, ["input.country", "input.postalCode"]);
    }

    #[test]
    fn addresses_stored_before_they_shared_the_kernel_type_still_read() {
        let id = Uuid::new_v4();
        let stored = serde_json::json!({
            "id": id, "kind": "SHIPPING", "is_default": true, "name": "Ada", "line1": "1 Main St",
            "line2": null, "city": "Springfield", "region": null, "postal_code": "12345", "country": "US",
            "phone": null,
        });
        let address: Address = serde_json::from_value(stored).unwrap();
        assert_eq!(address.postal.postal_code, "12345");
        let written = serde_json::to_value(&address).unwrap();
        assert_eq!(serde_json::from_value::<Address>(written).unwrap(), address);
    }
}
