//! The notifications GraphQL schema: a Federation v2 subgraph that extends the users
//! service's `User` with `notifications` and `notificationPreferences`, and lets the
//! signed-in customer change their preferences.

mod entities;
mod mutation;
mod query;
mod types;

use std::sync::Arc;

use async_graphql::{EmptySubscription, Schema};

pub use self::{
    entities::User,
    mutation::{
        MutationRoot, NotificationErrorCode, NotificationPreferencesUpdateInput, NotificationPreferencesUpdatePayload,
        NotificationUserError,
    },
    query::QueryRoot,
    types::{Notification, NotificationPreferences},
};
use crate::store::NotificationStore;

/// The notifications subgraph schema.
pub type NotificationsSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// Builds the schema over `store`.
pub fn schema(store: Arc<NotificationStore>) -> NotificationsSchema {
    Schema::build(QueryRoot::default(), MutationRoot, EmptySubscription)
        .enable_federation()
        .limit_depth(16)
        .limit_complexity(5_000)
        .data(store)
        .finish()
}

/// The subgraph SDL as composition expects it.
pub fn sdl(schema: &NotificationsSchema) -> String {
    shop_kernel::federation::subgraph_sdl(
        &schema.sdl_with_options(async_graphql::SDLExportOptions::new().federation().compose_directive()),
    )
}
