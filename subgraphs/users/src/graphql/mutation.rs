//! Sign-up, sign-in, token rotation and account changes. Business refusals come back as
//! `userErrors` in the payload; only failures of the service itself are GraphQL errors.

use async_graphql::{Context, ID, Object, Result};
use shop_kernel::{
    auth::{self, Role},
    federation::authenticated,
    server::RequestHeaders,
};
use uuid::Uuid;

use super::{
    identity,
    types::{AuthPayload, LoginInput, LogoutPayload, ProfileUpdateInput, RegisterInput, UserObject, UserPayload},
};
use crate::{
    domain::AddressInput,
    error::{UsersError, gql},
    service::{Outcome, Session},
};

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
