//! Cart lines from the cart subgraph, read with the caller's own token. (The lines leave the
//! cart through the bus, `cart.checked_out`, written in the checkout's transaction.)

use std::time::Duration;

use serde_json::json;

use super::{GraphqlClient, UpstreamError, at};
use crate::domain::checkout::LineDraft;

const CART: &str = "query($id: ID!) { cart(id: $id) { lines { sku quantity } } }";

/// The cart subgraph.
pub struct CartClient(GraphqlClient);

impl CartClient {
    /// A client of the cart service at `url`.
    pub fn new(url: &str, budget: Duration) -> Self {
        Self(GraphqlClient::new("cart", url, budget))
    }

    /// The lines of a cart; `None` if there is no such cart or the caller may not see it.
    pub async fn lines(
        &self,
        cart_id: &str,
        authorization: Option<&str>,
    ) -> Result<Option<Vec<LineDraft>>, UpstreamError> {
        let response = match self.0.execute(CART, json!({ "id": cart_id }), authorization, true).await {
            Ok(response) => response,
            // FORBIDDEN: someone else's cart, which is not found as far as the caller knows.
            Err(UpstreamError::Refused { .. }) => return Ok(None),
            Err(error) => return Err(error),
        };
        if response.has_error_code("FORBIDDEN") {
            return Ok(None);
        }
        let Some(lines) = at(&response.data, "/cart/lines").as_array() else {
            return Ok(None);
        };
        Ok(Some(
            lines
                .iter()
                .map(|l| LineDraft {
                    sku: at(l, "/sku").as_str().unwrap_or_default().to_owned(),
                    quantity: at(l, "/quantity").as_i64().unwrap_or(0),
                })
                .collect(),
        ))
    }
}
