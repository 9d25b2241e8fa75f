//! A user account.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shop_kernel::{
    auth::Role,
    input::{phone, text},
};
use uuid::Uuid;

use super::{Address, FieldError};

/// Shortest password accepted (NIST SP 800-63B asks for at least 8).
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest password accepted; bounds the hashing work an attacker can ask for.
pub const MAX_PASSWORD_CHARS: usize = 128;
/// How many addresses one user may keep.
pub const MAX_ADDRESSES: usize = 20;

/// A user account as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Stable id.
    pub id: Uuid,
    /// The email as the user typed it (trimmed).
    pub email: String,
    /// The email folded to lower case: what uniqueness and login compare.
    pub email_key: String,
    /// Display name.
    pub name: String,
    /// Optional phone number.
    pub phone: Option<String>,
    /// Granted roles; every user is at least a customer.
    pub roles: Vec<Role>,
    /// The argon2id PHC string of the password.
    pub password_hash: String,
    /// Shipping and billing addresses.
    pub addresses: Vec<Address>,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
    /// When anything in it last changed.
    pub updated_at: DateTime<Utc>,
    /// Incremented by every change; stores update only the version they read.
    pub version: i64,
}

/// The case-folded form of an email used for uniqueness and lookup.
pub fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

fn email(path: &[&str], value: &str) -> Result<String, FieldError> {
    let value = value.trim();
    let invalid = || FieldError::new(path, "must be an email address such as ada@example.com");
    if value.len() > 254 || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid());
    }
    let (local, domain) = value.rsplit_once('@').ok_or_else(invalid)?;
    let domain_ok = domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.');
    // Quoted local parts may hold an `@`; no shop customer needs one, so one `@` it is.
    if local.is_empty() || local.len() > 64 || local.contains('@') || !domain_ok {
        return Err(invalid());
    }
    Ok(value.to_owned())
}

/// Checks a new password's length (its strength beyond that is the user's business).
pub fn password(path: &[&str], value: &str) -> Result<(), FieldError> {
    let length = value.chars().count();
    if length < MIN_PASSWORD_CHARS {
        return Err(FieldError::new(path, format!("must have at least {MIN_PASSWORD_CHARS} characters")));
    }
    if length > MAX_PASSWORD_CHARS {
        return Err(FieldError::new(path, format!("must have at most {MAX_PASSWORD_CHARS} characters")));
    }
    Ok(())
}

/// A validated registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    /// Trimmed email.
    pub email: String,
    /// Trimmed name.
    pub name: String,
    /// Optional phone.
    pub phone: Option<String>,
}

impl NewUser {
    /// Validates a registration; the password is checked here and hashed by the caller.
    pub fn parse(
        email_input: &str,
        name: &str,
        phone_input: Option<&str>,
        password_input: &str,
    ) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let email = email(&["input", "email"], email_input).map_err(|e| errors.push(e)).ok();
        let name = text(&["input", "name"], name, 1, 100).map_err(|e| errors.push(e)).ok();
        let phone = phone(&["input", "phone"], phone_input).map_err(|e| errors.push(e)).ok().flatten();
        let _ = password(&["input", "password"], password_input).map_err(|e| errors.push(e));
        match (email, name) {
            (Some(email), Some(name)) if errors.is_empty() => Ok(Self { email, name, phone }),
            _ => Err(errors),
        }
    }

    /// The account for this registration, as a customer.
    pub fn into_user(self, password_hash: String, now: DateTime<Utc>) -> User {
        User {
            id: Uuid::now_v7(),
            email_key: email_key(&self.email),
            email: self.email,
            name: self.name,
            phone: self.phone,
            roles: vec![Role::Customer],
            password_hash,
            addresses: Vec::new(),
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }
}

/// A validated profile change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfilePatch {
    /// New name.
    pub name: Option<String>,
    /// New phone; `Some(None)` removes it.
    pub phone: Option<Option<String>>,
}

impl ProfilePatch {
    /// Validates a profile change. An empty `phone` string removes the phone.
    pub fn parse(name: Option<&str>, phone_input: Option<&str>) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = name.and_then(|n| text(&["input", "name"], n, 1, 100).map_err(|e| errors.push(e)).ok());
        let phone = phone_input.and_then(|p| phone(&["input", "phone"], Some(p)).map_err(|e| errors.push(e)).ok());
        if errors.is_empty() { Ok(Self { name, phone }) } else { Err(errors) }
    }
}

impl User {
    /// Whether the user holds `role`.
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// The user after a profile change.
    pub fn with_profile(&self, patch: ProfilePatch, now: DateTime<Utc>) -> Self {
        let mut next = self.touched(now);
        if let Some(name) = patch.name {
            next.name = name;
        }
        if let Some(phone) = patch.phone {
            next.phone = phone;
        }
        next
    }

    /// The user with a new version and `updated_at`, ready to be stored over this one.
    pub fn touched(&self, now: DateTime<Utc>) -> Self {
        Self { updated_at: now, version: self.version + 1, ..self.clone() }
    }

    /// The user with exactly `roles` (a user always keeps `CUSTOMER`).
    pub fn with_roles(&self, roles: &[Role], now: DateTime<Utc>) -> Self {
        let mut next = self.touched(now);
        next.roles = vec![Role::Customer];
        if roles.contains(&Role::Admin) {
            next.roles.push(Role::Admin);
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_is_validated_field_by_field() {
        let errors = NewUser::parse("not-an-email", " ", Some("abc"), "short").unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.last().cloned().unwrap_or_default()).collect();
        assert_eq!(fields, ["email", "name", "phone", "password"]);
        let ok =
            NewUser::parse("  Ada@Example.com ", "Ada", Some("+44 20 7946 0000"), "correct horse battery").unwrap();
        assert_eq!(ok.email, "Ada@Example.com");
        assert_eq!(email_key(&ok.email), "ada@example.com");
    }

    #[test]
    fn emails_need_a_local_part_and_a_dotted_domain() {
        for bad in ["a@b", "@example.com", "a@.com", "a b@example.com", "a@example.", "a@@example.com"] {
            assert!(email(&["email"], bad).is_err(), "{bad} should be refused");
        }
        assert!(email(&["email"], "first.last+tag@mail.example.co.uk").is_ok());
    }

    #[test]
    fn roles_always_keep_customer() {
        let user = NewUser::parse("a@example.com", "A", None, "0123456789").unwrap().into_user("h".into(), Utc::now());
        let admin = user.with_roles(&[Role::Admin], Utc::now());
        assert_eq!(admin.roles, [Role::Customer, Role::Admin]);
        assert_eq!(admin.version, 2);
        assert_eq!(admin.with_roles(&[], Utc::now()).roles, [Role::Customer]);
    }
}
