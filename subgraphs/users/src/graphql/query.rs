//! Reads of users: the signed-in user, and the admin's list of every account.

use async_graphql::{Context, MergedObject, Object, Result, dataloader::DataLoader};
use shop_kernel::{
    auth,
    federation::authenticated,
    relay::{self, PageRequest},
};

use super::{
    entities::{EntityRoot, UserLoader},
    identity,
    types::{UserConnection, UserListInfo, UserObject},
};
use crate::error::{UsersError, gql};

/// Reads of users.
#[derive(Default)]
pub struct UsersQuery;

#[Object]
impl UsersQuery {
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
    ) -> Result<UserConnection> {
        auth::require_admin(ctx)?;
        let page = PageRequest::parse(first, after.as_deref()).map_err(gql)?;
        let search = search.map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty());
        if search.as_ref().is_some_and(|s| s.chars().count() > 100) {
            return Err(gql(UsersError::BadInput("`search` must have at most 100 characters".into())));
        }
        let (users, total) =
            identity(ctx)?.store().list_users(search.as_deref(), page.offset, page.fetch_limit()).await.map_err(gql)?;
        let nodes = users.into_iter().map(UserObject).collect();
        Ok(relay::connection_from_rows(page, nodes, UserListInfo { total_count: total }))
    }
}

// The query root: reads of users plus the entity resolver. A plain comment on purpose: a doc
// comment here would become a description of `Query` and change the published SDL.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(UsersQuery, EntityRoot);
