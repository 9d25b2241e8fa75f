//! The notifications GraphQL schema: a Federation v2 subgraph that extends the users
//! service's `User` with `notifications` and `notificationPreferences`, and lets the
//! signed-in customer change their preferences.

mod entities;
mod mutation;
mod query;
mod types;

use std::sync::Arc;

use async_graphql::{EmptySubscription, Schema, SchemaBuilder};

pub use self::{
    entities::User,
    mutation::{MutationRoot, NotificationPreferencesUpdateInput, NotificationPreferencesUpdatePayload},
    query::QueryRoot,
    types::{Notification, NotificationPreferences},
};
pub use crate::error::{NotificationErrorCode, NotificationUserError};
use crate::service::Notifications;

/// The notifications subgraph schema.
pub type NotificationsSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

fn builder() -> SchemaBuilder<QueryRoot, MutationRoot, EmptySubscription> {
    shop_kernel::graphql::schema_builder(QueryRoot::default(), MutationRoot, EmptySubscription)
}

/// Builds the schema over `notifications`.
pub fn schema(notifications: Arc<Notifications>) -> NotificationsSchema {
    builder().data(notifications).finish()
}

/// The subgraph's SDL as composition expects it.
pub fn sdl() -> String {
    shop_kernel::graphql::sdl(&builder().finish())
}
