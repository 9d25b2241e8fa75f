//! Preference writes by the signed-in customer.

use std::sync::Arc;

use async_graphql::{Context, InputObject, Object, Result, SimpleObject};
use shop_kernel::{auth::require_user, federation::authenticated};

use super::types::NotificationPreferences;
use crate::{
    error::{NotificationUserError, gql},
    service::Notifications,
};

/// New notification preferences.
#[derive(InputObject, Clone, Debug)]
pub struct NotificationPreferencesUpdateInput {
    /// Whether to receive marketing notifications (e.g. review requests). Transactional
    /// ones (about the account and orders) are always sent.
    pub marketing: bool,
}

/// Result of `notificationPreferencesUpdate`.
#[derive(SimpleObject, Clone, Debug)]
pub struct NotificationPreferencesUpdatePayload {
    /// The preferences now; null if the update was refused.
    pub preferences: Option<NotificationPreferences>,
    /// Why the update was refused; empty if it was made.
    pub user_errors: Vec<NotificationUserError>,
}

/// Notification writes.
pub struct MutationRoot;

#[Object(name = "Mutation")]
impl MutationRoot {
    /// Changes the signed-in customer's notification preferences. Marketing notifications
    /// already queued are checked again when they are due, so opting out stops them too.
    #[graphql(directive = authenticated::apply())]
    async fn notification_preferences_update(
        &self,
        ctx: &Context<'_>,
        input: NotificationPreferencesUpdateInput,
    ) -> Result<NotificationPreferencesUpdatePayload> {
        let principal = require_user(ctx)?;
        let notifications = ctx.data::<Arc<Notifications>>()?;
        let preferences =
            notifications.set_marketing(&principal.user_id.to_string(), input.marketing).await.map_err(gql)?;
        Ok(NotificationPreferencesUpdatePayload { preferences: Some(preferences.into()), user_errors: Vec::new() })
    }
}
