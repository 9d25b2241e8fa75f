//! Review writes. Business refusals come back as `userErrors` and change nothing; signing in
//! is required (`UNAUTHENTICATED` otherwise), and moderation is for admins (`FORBIDDEN`).

use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use shop_kernel::{
    auth::{require_admin, require_user},
    federation::authenticated,
};
use uuid::Uuid;

use super::types::Review;
use crate::{
    domain::{self, ReviewChange, ReviewDraft, parse_reason},
    error::{ReviewUserError, refusals},
    service::{Reviews, WriteError},
};

/// A review to write.
#[derive(InputObject, Clone, Debug)]
pub struct ReviewCreateInput {
    /// The catalog product reviewed.
    pub product_id: ID,
    /// Stars, 1 to 5.
    pub rating: i32,
    /// 1-120 characters (surrounding spaces are dropped).
    pub title: String,
    /// Up to 5000 characters, kept exactly as written.
    #[graphql(default)]
    pub body: String,
}

/// An edit of one's own review: only the fields given change.
#[derive(InputObject, Clone, Debug)]
pub struct ReviewUpdateInput {
    /// The review.
    pub id: ID,
    /// New stars, 1 to 5.
    pub rating: Option<i32>,
    /// New title, 1-120 characters.
    pub title: Option<String>,
    /// New text, up to 5000 characters.
    pub body: Option<String>,
}

/// A moderation decision.
#[derive(InputObject, Clone, Debug)]
pub struct ReviewHideInput {
    /// The review.
    pub id: ID,
    /// true hides it (from every rating and from everyone but its author and admins); false
    /// shows it again.
    pub hidden: bool,
    /// Why (up to 500 characters), shown to the author; dropped when showing it again.
    pub reason: Option<String>,
}

macro_rules! payloads {
    ($($(#[doc = $doc:literal])* $name:ident;)*) => {$(
        $(#[doc = $doc])*
        #[derive(SimpleObject, Clone, Debug)]
        pub struct $name {
            /// The review after the change; null if it was refused.
            pub review: Option<Review>,
            /// Why the change was refused; empty if it was made.
            pub user_errors: Vec<ReviewUserError>,
        }

        impl $name {
            fn from_result(result: Result<domain::Review, WriteError>, id_field: &[&str]) -> Result<Self> {
                Ok(match result {
                    Ok(review) => Self { review: Some(Review::new(review)), user_errors: Vec::new() },
                    Err(error) => Self { review: None, user_errors: refusals(error, id_field)? },
                })
            }
        }
    )*};
}

payloads! {
    /// Result of `reviewCreate`.
    ReviewCreatePayload;
    /// Result of `reviewUpdate`.
    ReviewUpdatePayload;
    /// Result of `reviewHide`.
    ReviewHidePayload;
}

/// Result of `reviewDelete`.
#[derive(SimpleObject, Clone, Debug)]
pub struct ReviewDeletePayload {
    /// The id of the deleted review; null if it was refused.
    pub deleted_review_id: Option<ID>,
    /// Why the deletion was refused; empty if it was made.
    pub user_errors: Vec<ReviewUserError>,
}

fn reviews<'a>(ctx: &'a Context<'_>) -> Result<&'a Arc<Reviews>> {
    ctx.data::<Arc<Reviews>>()
}

/// A review id from a client: one that is not a UUID names no review.
fn review_id(id: &ID) -> Result<Uuid, WriteError> {
    Uuid::parse_str(id.as_str()).map_err(|_| WriteError::NotFound)
}

/// Review writes.
pub struct MutationRoot;

/// Review writes.
#[Object(name = "Mutation")]
impl MutationRoot {
    /// Reviews a product as the signed-in user: one review per user and product
    /// (`ALREADY_REVIEWED` otherwise; edit or delete that one instead). It is a verified
    /// purchase if the user bought the product here.
    #[graphql(directive = authenticated::apply())]
    async fn review_create(&self, ctx: &Context<'_>, input: ReviewCreateInput) -> Result<ReviewCreatePayload> {
        let author = require_user(ctx)?;
        let result = match ReviewDraft::parse(input.product_id.as_str(), input.rating, &input.title, &input.body) {
            Ok(draft) => reviews(ctx)?.create(author, draft).await,
            Err(fields) => Err(WriteError::Invalid(fields)),
        };
        ReviewCreatePayload::from_result(result, &["input", "productId"])
    }

    /// Edits the signed-in user's own review (`FORBIDDEN` user error for anyone else's,
    /// admins included: they moderate with `reviewHide`).
    #[graphql(directive = authenticated::apply())]
    async fn review_update(&self, ctx: &Context<'_>, input: ReviewUpdateInput) -> Result<ReviewUpdatePayload> {
        let caller = require_user(ctx)?;
        let change = ReviewChange::parse(input.rating, input.title.as_deref(), input.body.as_deref());
        let result = match (review_id(&input.id), change) {
            (Err(error), _) => Err(error),
            (_, Err(fields)) => Err(WriteError::Invalid(fields)),
            (Ok(id), Ok(change)) => reviews(ctx)?.update(caller, id, &change).await,
        };
        ReviewUpdatePayload::from_result(result, &["input", "id"])
    }

    /// Deletes a review: the author's own, or any as an admin. The author may then review the
    /// product again.
    #[graphql(directive = authenticated::apply())]
    async fn review_delete(&self, ctx: &Context<'_>, id: ID) -> Result<ReviewDeletePayload> {
        let caller = require_user(ctx)?;
        let result = match review_id(&id) {
            Ok(id) => reviews(ctx)?.delete(caller, id).await,
            Err(error) => Err(error),
        };
        Ok(match result {
            Ok(deleted) => {
                ReviewDeletePayload { deleted_review_id: Some(ID(deleted.id.to_string())), user_errors: Vec::new() }
            }
            Err(error) => ReviewDeletePayload { deleted_review_id: None, user_errors: refusals(error, &["id"])? },
        })
    }

    /// Hides a review from everyone but its author and admins, and from its product's rating,
    /// or shows it again (admin).
    #[graphql(requires_scopes = "admin")]
    async fn review_hide(&self, ctx: &Context<'_>, input: ReviewHideInput) -> Result<ReviewHidePayload> {
        require_admin(ctx)?;
        let result = match (review_id(&input.id), parse_reason(input.reason.as_deref())) {
            (Err(error), _) => Err(error),
            (_, Err(field)) => Err(WriteError::Invalid(vec![field])),
            (Ok(id), Ok(reason)) => reviews(ctx)?.set_hidden(id, input.hidden, reason.as_deref()).await,
        };
        ReviewHidePayload::from_result(result, &["input", "id"])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ReviewErrorCode;

    #[test]
    fn malformed_ids_name_no_review() {
        assert!(matches!(review_id(&ID("not-a-uuid".into())), Err(WriteError::NotFound)));
        let code = refusals(WriteError::NotFound, &["id"]).map(|e| e[0].code).ok();
        assert_eq!(code, Some(ReviewErrorCode::NotFound));
    }
}
