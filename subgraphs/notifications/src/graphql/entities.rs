//! Federation entities: the users service's `User`, extended with the user's notifications
//! and preferences. Who may read them is checked on those fields, not in the entity
//! resolver, so a refusal nulls the one field rather than a whole `_entities` batch.

use std::sync::Arc;

use async_graphql::{ComplexObject, Context, ID, Object, Result, SimpleObject, connection::EmptyFields};
use shop_kernel::{
    ErrorCode,
    auth::{forbidden, require_user},
    error::client_error,
    federation::authenticated,
    relay::{self, PageRequest, PlainConnection},
};
use uuid::Uuid;

use super::types::{Notification, NotificationPreferences};
use crate::{error::gql, service::Notifications};

/// A shop user (owned by the users service); this subgraph adds their notifications.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct User {
    /// The user's id (the key shared with the users service).
    pub id: ID,
    #[graphql(skip)]
    user_id: Uuid,
}

impl User {
    /// A reference to user `user_id`.
    pub fn new(user_id: Uuid) -> Self {
        Self { id: ID(user_id.to_string()), user_id }
    }
}

#[ComplexObject]
impl User {
    /// The messages sent (or to be sent) to the user, newest first, as a Relay connection
    /// (`first` up to 100, default 20). Only the user themself or an admin may read them
    /// (`FORBIDDEN` otherwise).
    #[graphql(directive = authenticated::apply())]
    async fn notifications(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<PlainConnection<Notification>> {
        if !require_user(ctx)?.may_access(self.user_id) {
            return Err(forbidden());
        }
        let page = PageRequest::parse(first, after.as_deref())
            .map_err(|e| client_error(ErrorCode::BadUserInput, e.to_string()))?;
        let notifications = ctx.data::<Arc<Notifications>>()?;
        let rows =
            notifications.of_user(&self.user_id.to_string(), page.offset, page.fetch_limit()).await.map_err(gql)?;
        Ok(relay::connection_from_rows(page, rows.into_iter().map(Notification).collect(), EmptyFields))
    }

    /// What the user agreed to receive. Only the user themself may read it (`FORBIDDEN`
    /// otherwise).
    #[graphql(directive = authenticated::apply())]
    async fn notification_preferences(&self, ctx: &Context<'_>) -> Result<NotificationPreferences> {
        if require_user(ctx)?.user_id != self.user_id {
            return Err(forbidden());
        }
        let notifications = ctx.data::<Arc<Notifications>>()?;
        Ok(notifications.preferences(&self.user_id.to_string()).await.map_err(gql)?.into())
    }
}

/// Federation entry points (`_entities`).
#[derive(Default)]
pub struct EntityRoot;

#[Object]
impl EntityRoot {
    /// Resolves `User` references; a malformed id resolves to null. Their fields check who
    /// may read them.
    #[graphql(entity)]
    async fn find_user_by_id(&self, id: ID) -> Option<User> {
        let user_id = Uuid::parse_str(id.as_str()).ok()?;
        Some(User::new(user_id))
    }
}
