//! Notification reads.

use std::sync::Arc;

use async_graphql::{Context, ID, MergedObject, Object, Result};
use shop_kernel::{
    auth::{forbidden, require_user},
    federation::authenticated,
};
use uuid::Uuid;

use super::{entities::EntityRoot, types::Notification};
use crate::{error::gql, service::Notifications};

/// Notification reads.
#[derive(Default)]
pub struct NotificationQuery;

#[Object]
impl NotificationQuery {
    /// A notification by id, for the user it was for or an admin (`FORBIDDEN` for anyone
    /// else). Null if no notification has this id.
    #[graphql(directive = authenticated::apply())]
    async fn notification(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Notification>> {
        let principal = require_user(ctx)?;
        let Ok(id) = Uuid::parse_str(id.as_str()) else { return Ok(None) };
        let notifications = ctx.data::<Arc<Notifications>>()?;
        let Some(notification) = notifications.by_id(id).await.map_err(gql)? else { return Ok(None) };
        let owner = Uuid::parse_str(&notification.user_id).ok();
        if !principal.is_admin() && owner != Some(principal.user_id) {
            return Err(forbidden());
        }
        Ok(Some(Notification(notification)))
    }
}

/// The query root: notification reads plus entity resolvers.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(NotificationQuery, EntityRoot);
