//! Saved addresses from the users subgraph, read with the caller's own token.

use std::time::Duration;

use serde_json::json;
use uuid::Uuid;

use super::{GraphqlClient, UpstreamError, at, entities};
use crate::domain::checkout::PostalAddressDraft;

const ADDRESSES: &str = "query($r: [_Any!]!) { _entities(representations: $r) { ... on User { \
    addresses { id name line1 line2 city region postalCode country phone } } } }";

/// The users subgraph.
pub struct UsersClient(GraphqlClient);

impl UsersClient {
    /// A client of the users service at `url`.
    pub fn new(url: &str, budget: Duration) -> Self {
        Self(GraphqlClient::new("users", url, budget))
    }

    /// The user's saved address `address_id`, if they have it.
    pub async fn address(
        &self,
        user_id: Uuid,
        address_id: &str,
        authorization: Option<&str>,
    ) -> Result<Option<PostalAddressDraft>, UpstreamError> {
        let representations = json!([{ "__typename": "User", "id": user_id.to_string() }]);
        let response = self.0.execute(ADDRESSES, json!({ "r": representations }), authorization, true).await?;
        let list = entities(&response, 1, "users")?;
        let addresses = list.first().and_then(|u| at(u, "/addresses").as_array()).cloned().unwrap_or_default();
        let Some(address) = addresses.into_iter().find(|a| at(a, "/id") == address_id) else {
            return Ok(None);
        };
        // Missing fields read as empty, for checkout's parser to name; a field of the wrong
        // type is users answering outside its schema.
        serde_json::from_value(address).map(Some).map_err(|error| UpstreamError::Refused {
            upstream: "users",
            reason: format!("unreadable saved address: {error}"),
        })
    }
}
