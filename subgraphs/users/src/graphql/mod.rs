//! The users subgraph schema: `User @key(id)`, `me`, the sign-in mutations and admin
//! user management.
//!
//! Authorization is per object: a user is visible to itself and to admins, nobody else,
//! through `me`, `users` and `_entities` alike. The router enforces `@authenticated` and
//! `@requiresScopes` first; these checks hold even when a request reaches the subgraph
//! directly.

mod types;

use std::{collections::HashMap, sync::Arc};

use async_graphql::{
    Context, EmptySubscription, ID, InputObject, Object, Result, Schema, SchemaBuilder, SimpleObject,
    dataloader::{DataLoader, Loader},
};
use shop_kernel::{
    auth::{self, Role},
    federation::authenticated,
    relay::{self, PageRequest},
    server::RequestHeaders,
};
use uuid::Uuid;

pub use self::types::{AddressObject, AuthPayload, UserObject, UserPayload};
pub use crate::error::{UsersErrorCode, UsersUserError};
use crate::{
    domain::AddressInput,
    error::{UsersError, gql},
    service::{Identity, Outcome, Session},
};

/// The users subgraph schema.
pub type UsersSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

fn builder() -> SchemaBuilder<QueryRoot, MutationRoot, EmptySubscription> {
    shop_kernel::graphql::schema_builder(QueryRoot, MutationRoot, EmptySubscription)
}

/// Builds the schema over `identity`.
pub fn schema(identity: Arc<Identity>) -> UsersSchema {
    builder()
        .data(DataLoader::new(UserLoader(identity.clone()), tokio::spawn).max_batch_size(100))
        .data(identity)
        .finish()
}

/// The subgraph's SDL as composition expects it.
pub fn sdl() -> String {
    shop_kernel::graphql::sdl(&builder().finish())
}

/// Users by id: every `_entities` call is one store query.
pub struct UserLoader(pub Arc<Identity>);

impl Loader<Uuid> for UserLoader {
    type Value = crate::domain::User;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let users = self.0.store().users_by_ids(keys).await.map_err(|e| gql(UsersError::from(e)))?;
        Ok(users.into_iter().map(|u| (u.id, u)).collect())
    }
}

fn identity<'a>(ctx: &'a Context<'_>) -> Result<&'a Arc<Identity>> {
    ctx.data::<Arc<Identity>>()
}

fn parse_id(id: &ID, what: &str) -> Result<Uuid> {
    Uuid::parse_str(id).map_err(|_| gql(UsersError::BadInput(format!("`{what}` is not a valid id"))))
}

/// The client address for login throttling: the first `X-Forwarded-For` hop (set by the
/// router or the load balancer in front of it), else unknown.
fn client_address(ctx: &Context<'_>) -> String {
    ctx.data_opt::<RequestHeaders>()
        .and_then(|headers| headers.0.get("x-forwarded-for"))
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(',').next())
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .unwrap_or("unknown")
        .to_owned()
}

/// Reads of users.
pub struct QueryRoot;

#[Object(name = "Query")]
impl QueryRoot {
    /// The signed-in user.
    #[graphql(directive = authenticated::apply())]
    async fn me(&self, ctx: &Context<'_>) -> Result<Option<UserObject>> {
        let principal = auth::require_user(ctx)?;
        let loader = ctx.data::<DataLoader<UserLoader>>()?;
        Ok(loader.load_one(principal.user_id).await?.map(UserObject))
    }

    /// Every user, oldest first, optionally only those whose email or name starts with
    /// `search` (case-insensitive). Admin only.
    #[graphql(requires_scopes = "admin")]
    async fn users(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        search: Option<String>,
    ) -> Result<types::UserConnection> {
        auth::require_admin(ctx)?;
        let page = PageRequest::parse(first, after.as_deref()).map_err(gql)?;
        let search = search.map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty());
        if search.as_ref().is_some_and(|s| s.chars().count() > 100) {
            return Err(gql(UsersError::BadInput("`search` must have at most 100 characters".into())));
        }
        let (users, total) =
            identity(ctx)?.store().list_users(search.as_deref(), page.offset, page.fetch_limit()).await.map_err(gql)?;
        let nodes = users.into_iter().map(UserObject).collect();
        Ok(relay::connection_from_rows(page, nodes, types::UserListInfo { total_count: total }))
    }

    /// Resolves `User` references from other subgraphs; only the user itself or an admin
    /// may resolve one.
    #[graphql(entity)]
    async fn find_user_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<UserObject>> {
        let Ok(id) = Uuid::parse_str(&id) else {
            return Ok(None);
        };
        let principal = auth::require_user(ctx)?;
        if !principal.may_access(id) {
            return Err(auth::forbidden());
        }
        Ok(ctx.data::<DataLoader<UserLoader>>()?.load_one(id).await?.map(UserObject))
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

fn session_payload(outcome: Outcome<Session>) -> AuthPayload {
    match outcome {
        Ok(session) => AuthPayload::from(session),
        Err(refusals) => AuthPayload::refused(refusals),
    }
}

fn user_payload(outcome: Outcome<crate::domain::User>) -> UserPayload {
    match outcome {
        Ok(user) => UserPayload { user: Some(UserObject(user)), user_errors: Vec::new() },
        Err(refusals) => UserPayload { user: None, user_errors: refusals },
    }
}

/// Sign-up, sign-in and account changes.
pub struct MutationRoot;

#[Object(name = "Mutation")]
impl MutationRoot {
    /// Creates a customer account and signs it in.
    async fn register(&self, ctx: &Context<'_>, input: RegisterInput) -> Result<AuthPayload> {
        let outcome = identity(ctx)?
            .register(&input.email, &input.name, input.phone.as_deref(), &input.password)
            .await
            .map_err(gql)?;
        Ok(session_payload(outcome))
    }

    /// Signs in. A failure never tells whether the email is registered; repeated failures
    /// lock the account and the client address out for a while (`TOO_MANY_ATTEMPTS`).
    async fn login(&self, ctx: &Context<'_>, input: LoginInput) -> Result<AuthPayload> {
        let client = client_address(ctx);
        let outcome = identity(ctx)?.login(&input.email, &input.password, &client).await.map_err(gql)?;
        Ok(session_payload(outcome))
    }

    /// Exchanges a refresh token for a new access token and a new refresh token. Each refresh
    /// token works once; presenting a used one ends the whole session.
    async fn refresh_token(&self, ctx: &Context<'_>, #[graphql(secret)] refresh_token: String) -> Result<AuthPayload> {
        Ok(session_payload(identity(ctx)?.refresh(&refresh_token).await.map_err(gql)?))
    }

    /// Ends the session of a refresh token (its access tokens lapse within minutes).
    async fn logout(&self, ctx: &Context<'_>, #[graphql(secret)] refresh_token: String) -> Result<LogoutPayload> {
        identity(ctx)?.logout(&refresh_token).await.map_err(gql)?;
        Ok(LogoutPayload { success: true })
    }

    /// Changes the signed-in user's password, ends all their sessions and starts a new one.
    #[graphql(directive = authenticated::apply())]
    async fn password_change(
        &self,
        ctx: &Context<'_>,
        #[graphql(secret)] current_password: String,
        #[graphql(secret)] new_password: String,
    ) -> Result<AuthPayload> {
        let principal = auth::require_user(ctx)?;
        let outcome =
            identity(ctx)?.change_password(principal.user_id, &current_password, &new_password).await.map_err(gql)?;
        Ok(session_payload(outcome))
    }

    /// Changes the signed-in user's name or phone.
    #[graphql(directive = authenticated::apply())]
    async fn profile_update(&self, ctx: &Context<'_>, input: ProfileUpdateInput) -> Result<UserPayload> {
        let principal = auth::require_user(ctx)?;
        let outcome = identity(ctx)?
            .update_profile(principal.user_id, input.name.as_deref(), input.phone.as_deref())
            .await
            .map_err(gql)?;
        Ok(user_payload(outcome))
    }

    /// Adds an address to the signed-in user.
    #[graphql(directive = authenticated::apply())]
    async fn address_add(&self, ctx: &Context<'_>, input: AddressInput) -> Result<UserPayload> {
        let principal = auth::require_user(ctx)?;
        let outcome = identity(ctx)?.add_address(principal.user_id, &input).await.map_err(gql)?;
        Ok(user_payload(outcome))
    }

    /// Replaces one of the signed-in user's addresses.
    #[graphql(directive = authenticated::apply())]
    async fn address_update(&self, ctx: &Context<'_>, id: ID, input: AddressInput) -> Result<UserPayload> {
        let principal = auth::require_user(ctx)?;
        let address_id = parse_id(&id, "id")?;
        let outcome = identity(ctx)?.update_address(principal.user_id, address_id, &input).await.map_err(gql)?;
        Ok(user_payload(outcome))
    }

    /// Removes one of the signed-in user's addresses.
    #[graphql(directive = authenticated::apply())]
    async fn address_remove(&self, ctx: &Context<'_>, id: ID) -> Result<UserPayload> {
        let principal = auth::require_user(ctx)?;
        let address_id = parse_id(&id, "id")?;
        let outcome = identity(ctx)?.remove_address(principal.user_id, address_id).await.map_err(gql)?;
        Ok(user_payload(outcome))
    }

    /// Sets a user's roles (`CUSTOMER` is always kept). Admin only. Takes effect in the
    /// user's next access token.
    #[graphql(requires_scopes = "admin")]
    async fn user_roles_set(&self, ctx: &Context<'_>, user_id: ID, roles: Vec<Role>) -> Result<UserPayload> {
        auth::require_admin(ctx)?;
        let id = parse_id(&user_id, "userId")?;
        Ok(user_payload(identity(ctx)?.set_roles(id, &roles).await.map_err(gql)?))
    }
}
