//! The users subgraph's GraphQL types: the `User` and `Address` objects, the mutation inputs
//! and the payloads mutations answer with.

use async_graphql::{ID, InputObject, Object, SimpleObject, connection::Connection};
use chrono::{DateTime, Utc};
use shop_kernel::{auth::Role, input::PostalAddress};

use crate::{
    domain::{Address, AddressKind, User},
    error::UsersUserError,
    service::Session,
};

/// A customer or staff account.
#[derive(Debug)]
pub struct UserObject(pub User);

#[Object(name = "User")]
impl UserObject {
    /// Stable id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Email address as registered.
    async fn email(&self) -> &str {
        &self.0.email
    }

    /// Display name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Phone number.
    async fn phone(&self) -> Option<&str> {
        self.0.phone.as_deref()
    }

    /// Granted roles.
    async fn roles(&self) -> &[Role] {
        &self.0.roles
    }

    /// Saved addresses, optionally only those of one kind; defaults first.
    async fn addresses(&self, kind: Option<AddressKind>) -> Vec<AddressObject> {
        let mut addresses: Vec<_> = self
            .0
            .addresses
            .iter()
            .filter(|a| kind.is_none_or(|k| a.kind == k))
            .cloned()
            .map(AddressObject::from)
            .collect();
        addresses.sort_by_key(|a| !a.is_default);
        addresses
    }

    /// The default address of a kind, if the user has any of that kind.
    async fn default_address(&self, kind: AddressKind) -> Option<AddressObject> {
        self.0.addresses.iter().find(|a| a.kind == kind && a.is_default).cloned().map(AddressObject::from)
    }

    /// When the account was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When the account last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// A postal address.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(name = "Address")]
pub struct AddressObject {
    /// Stable id.
    pub id: ID,
    /// Shipping or billing.
    pub kind: AddressKind,
    /// Whether this is the default of its kind.
    pub is_default: bool,
    /// The address itself.
    #[graphql(flatten)]
    pub postal: PostalAddress,
}

impl From<Address> for AddressObject {
    fn from(a: Address) -> Self {
        Self { id: ID(a.id.to_string()), kind: a.kind, is_default: a.is_default, postal: a.postal }
    }
}

/// A new account.
#[derive(InputObject, Debug)]
pub struct RegisterInput {
    /// Email address; unique, compared case-insensitively.
    pub email: String,
    /// Password, 10–128 characters.
    #[graphql(secret)]
    pub password: String,
    /// Display name, 1–100 characters.
    pub name: String,
    /// Phone number.
    pub phone: Option<String>,
}

/// Credentials.
#[derive(InputObject, Debug)]
pub struct LoginInput {
    /// Email address.
    pub email: String,
    /// Password.
    #[graphql(secret)]
    pub password: String,
}

/// A profile change; omitted fields stay as they are.
#[derive(InputObject, Debug)]
pub struct ProfileUpdateInput {
    /// New display name.
    pub name: Option<String>,
    /// New phone number; an empty string removes it.
    pub phone: Option<String>,
}

/// Result of `logout`.
#[derive(SimpleObject, Debug)]
pub struct LogoutPayload {
    /// Always true: the session is over (logging out twice is not an error).
    pub success: bool,
}

/// Result of `register`, `login`, `refreshToken` and `passwordChange`: a session, or why not.
#[derive(SimpleObject, Debug)]
pub struct AuthPayload {
    /// Bearer token for the `Authorization` header; short-lived.
    pub access_token: Option<String>,
    /// When `accessToken` expires.
    pub access_token_expires_at: Option<DateTime<Utc>>,
    /// Opaque token for `refreshToken`; works once. Keep it secret.
    pub refresh_token: Option<String>,
    /// When `refreshToken` expires.
    pub refresh_token_expires_at: Option<DateTime<Utc>>,
    /// The signed-in user.
    pub user: Option<UserObject>,
    /// Why there is no session, if there is none.
    pub user_errors: Vec<UsersUserError>,
}

impl From<Session> for AuthPayload {
    fn from(session: Session) -> Self {
        Self {
            access_token: Some(session.access.token),
            access_token_expires_at: Some(session.access.expires_at),
            refresh_token: Some(session.refresh_token),
            refresh_token_expires_at: Some(session.refresh_expires_at),
            user: Some(UserObject(session.user)),
            user_errors: Vec::new(),
        }
    }
}

impl AuthPayload {
    /// A payload with no session.
    pub fn refused(refusals: Vec<UsersUserError>) -> Self {
        Self {
            access_token: None,
            access_token_expires_at: None,
            refresh_token: None,
            refresh_token_expires_at: None,
            user: None,
            user_errors: refusals,
        }
    }
}

/// Result of profile, address and role changes.
#[derive(SimpleObject, Debug)]
pub struct UserPayload {
    /// The user after the change, if it changed.
    pub user: Option<UserObject>,
    /// Why it did not, if it did not.
    pub user_errors: Vec<UsersUserError>,
}

/// Extra fields of the user list.
#[derive(SimpleObject, Debug)]
pub struct UserListInfo {
    /// How many users match, across all pages.
    pub total_count: u64,
}

/// A page of users.
pub type UserConnection = Connection<String, UserObject, UserListInfo>;
