//! The production user store on MongoDB.
//!
//! A user is one document in `users`: the serialized [`User`] with `_id` = its id, plus derived,
//! indexed fields for what lists filter and sort on (`email_key` is part of the user and carries
//! the unique index; `name_key` is the lower-cased name; `created_at_ms` the creation time in
//! milliseconds). Search is an anchored, escaped prefix regex on `email_key` or `name_key` (no
//! `$text`: it can use the index, and it works on every MongoDB-protocol server).
//!
//! A refresh token is one document in `refresh_tokens` with `_id` = its hash, times as integer
//! milliseconds (so they compare as numbers), and the flags `spent` and `revoked`. Spending is a
//! single conditional `find_one_and_update`, so of two concurrent spends only one matches.

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use mongodb::{
    Client, Collection,
    bson::{Document, doc},
};
use shop_kernel::literal::regex_literal;
use shop_kernel::store::StoreFailure;
use shop_messaging::{
    Envelope,
    mongo_outbox::{self, OutboxDocument},
};
use uuid::Uuid;

use super::{Consumed, Outbox, RefreshToken, StoreError, UserStore};
use crate::domain::User;

/// MongoDB collections of the users subgraph.
#[derive(Clone)]
pub struct MongoUserStore {
    client: Client,
    users: Collection<Document>,
    refresh_tokens: Collection<Document>,
    outbox: Collection<OutboxDocument>,
}

fn classify(error: mongodb::error::Error) -> StoreError {
    shop_mongo::failed(error).into()
}

fn corrupt(error: impl std::fmt::Display) -> StoreError {
    StoreFailure::corrupt(error).into()
}

/// A write error: a taken email (or id) is [`StoreError::EmailTaken`].
fn write_error(error: mongodb::error::Error) -> StoreError {
    if shop_mongo::is_duplicate_key(&error) { StoreError::EmailTaken } else { classify(error) }
}

/// The filter of [`UserStore::list_users`]: everyone, or an email or name starting with `search`.
fn search_filter(search: Option<&str>) -> Document {
    match search {
        None => doc! {},
        Some(search) => {
            let prefix = format!("^{}", regex_literal(&search.to_lowercase()));
            doc! { "$or": [
                { "email_key": { "$regex": prefix.clone() } },
                { "name_key": { "$regex": prefix } },
            ] }
        }
    }
}

impl MongoUserStore {
    /// Connects to `url` (a pool of up to `max_connections`) and uses database `database`.
    pub async fn connect(url: &str, database: &str, max_connections: u32) -> Result<Self, StoreError> {
        let (client, db) = shop_mongo::connect(url, database, max_connections).await?;
        Ok(Self {
            users: db.collection("users"),
            refresh_tokens: db.collection("refresh_tokens"),
            outbox: db.collection("outbox"),
            client,
        })
    }

    fn user_document(user: &User) -> Result<Document, StoreError> {
        let mut document = shop_mongo::to_document(user)?;
        document.insert("_id", user.id.to_string());
        document.insert("email_key", user.email_key.clone());
        document.insert("name_key", user.name.to_lowercase());
        document.insert("created_at_ms", user.created_at.timestamp_millis());
        document.insert("version", user.version);
        Ok(document)
    }

    fn user_from(document: Document) -> Result<User, StoreError> {
        Ok(shop_mongo::from_document(document)?)
    }

    fn token_document(token: &RefreshToken) -> Document {
        doc! {
            "_id": token.hash.clone(),
            "user_id": token.user_id.to_string(),
            "family_id": token.family_id.to_string(),
            "issued_at_ms": token.issued_at.timestamp_millis(),
            "expires_at_ms": token.expires_at.timestamp_millis(),
            "spent": false,
            "revoked": false,
        }
    }

    fn token_from(document: &Document) -> Result<RefreshToken, StoreError> {
        Ok(RefreshToken {
            hash: shop_mongo::string(document, "_id")?.to_owned(),
            user_id: shop_mongo::uuid(document, "user_id")?,
            family_id: shop_mongo::uuid(document, "family_id")?,
            issued_at: shop_mongo::time(document, "issued_at_ms")?,
            expires_at: shop_mongo::time(document, "expires_at_ms")?,
        })
    }

    async fn find_users(&self, filter: Document) -> Result<Vec<User>, StoreError> {
        let documents: Vec<Document> =
            self.users.find(filter).await.map_err(classify)?.try_collect().await.map_err(classify)?;
        documents.into_iter().map(Self::user_from).collect()
    }
}

#[async_trait::async_trait]
impl UserStore for MongoUserStore {
    async fn prepare(&self) -> Result<(), StoreError> {
        let index = shop_mongo::index;
        self.users
            .create_indexes(vec![
                index(doc! { "email_key": 1 }, "email_key_unique", true),
                index(doc! { "name_key": 1 }, "name_key", false),
                index(doc! { "created_at_ms": 1, "_id": 1 }, "created", false),
            ])
            .await
            .map_err(classify)?;
        self.refresh_tokens
            .create_indexes(vec![
                index(doc! { "family_id": 1 }, "family_id", false),
                index(doc! { "user_id": 1 }, "user_id", false),
            ])
            .await
            .map_err(classify)?;
        // Also creates the collection, which a transaction cannot do on MongoDB before 4.4.
        mongo_outbox::ensure_indexes(&self.outbox).await.map_err(classify)?;
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.client.database("admin").run_command(doc! { "ping": 1 }).await.map_err(classify)?;
        Ok(())
    }

    async fn insert_user(&self, user: &User, announcements: &[Envelope]) -> Result<(), StoreError> {
        let document = Self::user_document(user)?;
        // A multi-document transaction (MongoDB needs a replica set for it) so the account and
        // its announcement commit together; dropping the session unfinished aborts it.
        let mut session = self.client.start_session().await.map_err(classify)?;
        session.start_transaction().await.map_err(classify)?;
        self.users.insert_one(document).session(&mut session).await.map_err(write_error)?;
        mongo_outbox::enqueue(&self.outbox, &mut session, announcements).await.map_err(classify)?;
        session.commit_transaction().await.map_err(write_error)?;
        Ok(())
    }

    async fn pending_announcements(&self) -> Result<u64, StoreError> {
        mongo_outbox::pending_count(&self.outbox).await.map_err(classify)
    }

    fn outbox(&self) -> Outbox {
        Outbox::Mongo(self.outbox.clone())
    }

    async fn users_by_ids(&self, ids: &[Uuid]) -> Result<Vec<User>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        self.find_users(doc! { "_id": { "$in": ids } }).await
    }

    async fn user_by_email(&self, email_key: &str) -> Result<Option<User>, StoreError> {
        let document = self.users.find_one(doc! { "email_key": email_key }).await.map_err(classify)?;
        document.map(Self::user_from).transpose()
    }

    async fn update_user(&self, user: &User) -> Result<(), StoreError> {
        let filter = doc! { "_id": user.id.to_string(), "version": user.version - 1 };
        let result = self.users.replace_one(filter, Self::user_document(user)?).await.map_err(write_error)?;
        if result.matched_count == 1 { Ok(()) } else { Err(StoreError::VersionMismatch) }
    }

    async fn list_users(&self, search: Option<&str>, offset: u64, limit: u64) -> Result<(Vec<User>, u64), StoreError> {
        let filter = search_filter(search);
        let total = self.users.count_documents(filter.clone()).await.map_err(classify)?;
        // A limit of 0 means "no limit" to MongoDB.
        if limit == 0 || offset >= total {
            return Ok((Vec::new(), total));
        }
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let documents: Vec<Document> = self
            .users
            .find(filter)
            .sort(doc! { "created_at_ms": 1, "_id": 1 })
            .skip(offset)
            .limit(limit)
            .await
            .map_err(classify)?
            .try_collect()
            .await
            .map_err(classify)?;
        let users = documents.into_iter().map(Self::user_from).collect::<Result<_, _>>()?;
        Ok((users, total))
    }

    async fn insert_refresh_token(&self, token: &RefreshToken) -> Result<(), StoreError> {
        self.refresh_tokens.insert_one(Self::token_document(token)).await.map_err(|error| {
            if shop_mongo::is_duplicate_key(&error) {
                corrupt("a refresh token with this hash exists")
            } else {
                classify(error)
            }
        })?;
        Ok(())
    }

    async fn consume_refresh_token(&self, hash: &str, now: DateTime<Utc>) -> Result<Consumed, StoreError> {
        let live =
            doc! { "_id": hash, "spent": false, "revoked": false, "expires_at_ms": { "$gt": now.timestamp_millis() } };
        let spent = self
            .refresh_tokens
            .find_one_and_update(live, doc! { "$set": { "spent": true } })
            .await
            .map_err(classify)?;
        if let Some(document) = spent {
            return Self::token_from(&document).map(Consumed::Fresh);
        }
        let Some(document) = self.refresh_tokens.find_one(doc! { "_id": hash }).await.map_err(classify)? else {
            return Ok(Consumed::Unknown);
        };
        let flag = |key: &str| shop_mongo::boolean(&document, key);
        if flag("spent")? || flag("revoked")? {
            Self::token_from(&document).map(Consumed::Reused)
        } else {
            Ok(Consumed::Expired)
        }
    }

    async fn revoke_family(&self, family_id: Uuid) -> Result<(), StoreError> {
        self.refresh_tokens
            .update_many(doc! { "family_id": family_id.to_string() }, doc! { "$set": { "revoked": true } })
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn revoke_user_tokens(&self, user_id: Uuid) -> Result<(), StoreError> {
        self.refresh_tokens
            .update_many(doc! { "user_id": user_id.to_string() }, doc! { "$set": { "revoked": true } })
            .await
            .map_err(classify)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::search_filter;

    #[test]
    fn searches_are_anchored_and_lower_cased() {
        let filter = search_filter(Some("Ada.L"));
        let branches = filter.get_array("$or").unwrap();
        for (branch, field) in branches.iter().zip(["email_key", "name_key"]) {
            let regex = branch.as_document().unwrap().get_document(field).unwrap().get_str("$regex").unwrap();
            assert_eq!(regex, "^ada\\.l");
        }
        assert!(search_filter(None).is_empty());
    }
}
