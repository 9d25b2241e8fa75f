//! `User` as a federation entity: references from other subgraphs resolve here, and every
//! user in one operation (a whole `_entities` batch, or `me`) costs one store query.

use std::{collections::HashMap, sync::Arc};

use async_graphql::{
    Context, ID, Object, Result,
    dataloader::{DataLoader, Loader},
};
use shop_kernel::auth;
use uuid::Uuid;

use super::types::UserObject;
use crate::{
    error::{UsersError, gql},
    service::Identity,
};

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

/// Federation entry points (`_entities`).
#[derive(Default)]
pub struct EntityRoot;

#[Object]
impl EntityRoot {
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
