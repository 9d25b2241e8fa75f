//! The users subgraph schema: `User @key(id)`, `me`, the sign-in mutations and admin
//! user management.
//!
//! Authorization is per object: a user is visible to itself and to admins, nobody else,
//! through `me`, `users` and `_entities` alike. The router enforces `@authenticated` and
//! `@requiresScopes` first; these checks hold even when a request reaches the subgraph
//! directly.

mod entities;
mod mutation;
mod query;
mod types;

use std::sync::Arc;

use async_graphql::{Context, EmptySubscription, Result, Schema, SchemaBuilder, dataloader::DataLoader};

pub use self::{
    entities::UserLoader,
    mutation::MutationRoot,
    query::QueryRoot,
    types::{
        AddressObject, AuthPayload, LoginInput, LogoutPayload, ProfileUpdateInput, RegisterInput, UserObject,
        UserPayload,
    },
};
pub use crate::error::{UsersErrorCode, UsersUserError};
use crate::service::Identity;

/// The users subgraph schema.
pub type UsersSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

fn builder() -> SchemaBuilder<QueryRoot, MutationRoot, EmptySubscription> {
    shop_kernel::graphql::schema_builder(QueryRoot::default(), MutationRoot, EmptySubscription)
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

fn identity<'a>(ctx: &'a Context<'_>) -> Result<&'a Arc<Identity>> {
    ctx.data::<Arc<Identity>>()
}
