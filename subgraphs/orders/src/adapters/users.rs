//! Saved addresses from the users subgraph, read with the caller's own token.

use std::time::Duration;

use serde_json::{Value, json};
use uuid::Uuid;

use super::{GraphqlClient, UpstreamError, at, entities};
use crate::domain::checkout::PostalAddressDraft;

const ADDRESSES: &str = "query($r: [_Any!]!) { _entities(representations: $r) { ... on User { \
    addresses { id name line1 line2 city region postalCode country phone } } } }";

/// The users subgraph.
pub struct UsersClient(GraphqlClient);

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

fn optional(value: &Value) -> Option<String> {
    value.as_str().map(str::to_owned)
}

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
        Ok(addresses.iter().find(|a| at(a, "/id") == address_id).map(|a| PostalAddressDraft {
            name: text(at(a, "/name")),
            line1: text(at(a, "/line1")),
            line2: optional(at(a, "/line2")),
            city: text(at(a, "/city")),
            region: optional(at(a, "/region")),
            postal_code: text(at(a, "/postalCode")),
            country: text(at(a, "/country")),
            phone: optional(at(a, "/phone")),
        }))
    }
}
