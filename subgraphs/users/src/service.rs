//! The use cases of identity: registration, login with throttling, token rotation, profile and
//! address changes, and admin role changes. GraphQL resolvers call these and nothing else.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use shop_kernel::{auth::Role, cache::KvCache};
use shop_messaging::outbox::OutboxWaker;
use uuid::Uuid;

use crate::{
    credentials::{self, AccessToken, TokenIssuer},
    domain::{AddressInput, FieldError, NewUser, ProfilePatch, User, address::AddressError, email_key, user},
    error::{UsersError, UsersErrorCode, UsersUserError},
    events::registration_announcement,
    store::{Consumed, RefreshToken, StoreError, UserStore},
};

fn invalid(fields: Vec<FieldError>) -> Vec<UsersUserError> {
    fields.into_iter().map(|field| UsersUserError::from_field(field, UsersErrorCode::Invalid)).collect()
}

/// The outcome of a mutation: done, or refused for business reasons.
pub type Outcome<T> = Result<T, Vec<UsersUserError>>;

/// A signed-in session: the user, a short-lived access token and the refresh token that
/// renews it.
#[derive(Debug, Clone)]
pub struct Session {
    /// Who signed in.
    pub user: User,
    /// The access token.
    pub access: AccessToken,
    /// The opaque refresh token (only ever shown here).
    pub refresh_token: String,
    /// When the refresh token expires.
    pub refresh_expires_at: DateTime<Utc>,
}

/// Knobs of the use cases.
#[derive(Debug, Clone)]
pub struct IdentitySettings {
    /// Refresh-token lifetime.
    pub refresh_ttl: Duration,
    /// Prefix of throttle counter keys.
    pub key_prefix: String,
    /// Failed logins per account before a lockout.
    pub max_failures_per_account: i64,
    /// Failed logins per client address before a lockout.
    pub max_failures_per_ip: i64,
    /// How long a lockout lasts after the last failure.
    pub lockout: Duration,
}

/// How many times a read-modify-write is retried when a concurrent change wins.
const UPDATE_ATTEMPTS: usize = 5;

/// The identity use cases.
pub struct Identity {
    store: Arc<dyn UserStore>,
    throttle: Arc<dyn KvCache>,
    issuer: TokenIssuer,
    settings: IdentitySettings,
    waker: OutboxWaker,
}

async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, UsersError> {
    tokio::task::spawn_blocking(work).await.map_err(|e| UsersError::Worker(e.to_string()))
}

impl Identity {
    /// The use cases over a store, throttle counters and a token issuer; `waker` wakes the
    /// outbox relay after an announcement is committed.
    pub fn new(
        store: Arc<dyn UserStore>,
        throttle: Arc<dyn KvCache>,
        issuer: TokenIssuer,
        settings: IdentitySettings,
        waker: OutboxWaker,
    ) -> Self {
        Self { store, throttle, issuer, settings, waker }
    }

    /// Wakes the outbox relay (after committing announcements).
    pub fn outbox_waker(&self) -> &OutboxWaker {
        &self.waker
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn UserStore> {
        &self.store
    }

    /// The throttle counters.
    pub fn throttle(&self) -> &Arc<dyn KvCache> {
        &self.throttle
    }

    /// The token issuer (and its published keys).
    pub fn issuer(&self) -> &TokenIssuer {
        &self.issuer
    }

    async fn start_session(&self, user: User, family_id: Uuid, now: DateTime<Utc>) -> Result<Session, UsersError> {
        let access = self.issuer.access_token(&user, now)?;
        let (refresh_token, hash) = credentials::new_refresh_token();
        let refresh_expires_at =
            now + chrono::Duration::from_std(self.settings.refresh_ttl).unwrap_or(chrono::Duration::days(30));
        let record = RefreshToken { hash, user_id: user.id, family_id, issued_at: now, expires_at: refresh_expires_at };
        self.store.insert_refresh_token(&record).await?;
        Ok(Session { user, access, refresh_token, refresh_expires_at })
    }

    /// Creates a customer account and signs it in.
    pub async fn register(
        &self,
        email: &str,
        name: &str,
        phone: Option<&str>,
        password: &str,
    ) -> Result<Outcome<Session>, UsersError> {
        let new_user = match NewUser::parse(email, name, phone, password) {
            Ok(new_user) => new_user,
            Err(fields) => return Ok(Err(invalid(fields))),
        };
        let password = password.to_owned();
        let hash = blocking(move || credentials::hash_password(&password)).await??;
        let now = Utc::now();
        let user = new_user.into_user(hash, now);
        let announcement = registration_announcement(&user)?;
        match self.store.insert_user(&user, &[announcement]).await {
            Ok(()) => self.waker.wake(),
            Err(StoreError::EmailTaken) => {
                return Ok(Err(vec![UsersUserError::new(
                    &["input", "email"],
                    "this email is already registered",
                    UsersErrorCode::EmailTaken,
                )]));
            }
            Err(error) => return Err(error.into()),
        }
        tracing::info!(user_id = %user.id, "user registered");
        Ok(Ok(self.start_session(user, Uuid::now_v7(), now).await?))
    }

    fn throttle_keys(&self, email_key: &str, client: &str) -> [String; 2] {
        let prefix = &self.settings.key_prefix;
        [format!("{prefix}login-failures:account:{email_key}"), format!("{prefix}login-failures:client:{client}")]
    }

    /// Signs a user in. Failures never say whether the email exists; after repeated failures
    /// for an account or a client address, attempts are refused without checking the password.
    pub async fn login(&self, email: &str, password: &str, client: &str) -> Result<Outcome<Session>, UsersError> {
        let key = email_key(email);
        let keys = self.throttle_keys(&key, client);
        let counts = self.throttle.get_many(&keys).await?;
        let count = |i: usize| counts.get(i).cloned().flatten().and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
        if count(0) >= self.settings.max_failures_per_account || count(1) >= self.settings.max_failures_per_ip {
            metrics::counter!("login_attempts_total", "outcome" => "throttled").increment(1);
            return Ok(Err(vec![UsersUserError::new(
                &[],
                "too many failed sign-in attempts, try again later",
                UsersErrorCode::TooManyAttempts,
            )]));
        }
        let user = self.store.user_by_email(&key).await?;
        let candidate = password.to_owned();
        let hash = user.as_ref().map(|u| u.password_hash.clone());
        let matches = blocking(move || credentials::verify_password(&candidate, hash.as_deref())).await?;
        match user {
            Some(user) if matches => {
                self.throttle.delete(&keys[..1]).await?;
                metrics::counter!("login_attempts_total", "outcome" => "success").increment(1);
                Ok(Ok(self.start_session(user, Uuid::now_v7(), Utc::now()).await?))
            }
            _ => {
                for key in &keys {
                    self.throttle.incr_within(key, self.settings.lockout).await?;
                }
                metrics::counter!("login_attempts_total", "outcome" => "failure").increment(1);
                Ok(Err(vec![UsersUserError::new(
                    &[],
                    "the email or password is wrong",
                    UsersErrorCode::InvalidCredentials,
                )]))
            }
        }
    }

    /// Exchanges a refresh token for a new session in the same family. A token used twice
    /// means it leaked: the whole family is revoked and both holders must sign in again.
    pub async fn refresh(&self, token: &str) -> Result<Outcome<Session>, UsersError> {
        let now = Utc::now();
        let refused = |code, message| Ok(Err(vec![UsersUserError::new(&["refreshToken"], message, code)]));
        match self.store.consume_refresh_token(&credentials::refresh_token_hash(token), now).await? {
            Consumed::Fresh(record) => {
                let users = self.store.users_by_ids(&[record.user_id]).await?;
                let Some(user) = users.into_iter().next() else {
                    return refused(UsersErrorCode::InvalidRefreshToken, "the refresh token is not valid");
                };
                Ok(Ok(self.start_session(user, record.family_id, now).await?))
            }
            Consumed::Reused(record) => {
                self.store.revoke_family(record.family_id).await?;
                tracing::warn!(user_id = %record.user_id, family_id = %record.family_id, "refresh token reused: session revoked");
                metrics::counter!("refresh_token_reuse_total").increment(1);
                refused(UsersErrorCode::RefreshTokenReused, "this refresh token was already used; sign in again")
            }
            Consumed::Expired | Consumed::Unknown => {
                refused(UsersErrorCode::InvalidRefreshToken, "the refresh token is not valid")
            }
        }
    }

    /// Ends the session a refresh token belongs to. Unknown tokens are ignored (logging out
    /// twice is not an error).
    pub async fn logout(&self, token: &str) -> Result<(), UsersError> {
        let now = Utc::now();
        match self.store.consume_refresh_token(&credentials::refresh_token_hash(token), now).await? {
            Consumed::Fresh(record) | Consumed::Reused(record) => self.store.revoke_family(record.family_id).await?,
            Consumed::Expired | Consumed::Unknown => {}
        }
        Ok(())
    }

    /// One user.
    pub async fn user(&self, id: Uuid) -> Result<Option<User>, UsersError> {
        Ok(self.store.users_by_ids(&[id]).await?.into_iter().next())
    }

    /// Applies `change` to the current user and stores the result, retrying when a
    /// concurrent change wins the race.
    async fn modify<F>(&self, id: Uuid, change: F) -> Result<Outcome<User>, UsersError>
    where
        F: Fn(&User) -> Outcome<User>,
    {
        for _ in 0..UPDATE_ATTEMPTS {
            let Some(current) = self.user(id).await? else {
                return Ok(Err(vec![UsersUserError::new(&[], "no such user", UsersErrorCode::NotFound)]));
            };
            let next = match change(&current) {
                Ok(next) => next,
                Err(refusals) => return Ok(Err(refusals)),
            };
            match self.store.update_user(&next).await {
                Ok(()) => return Ok(Ok(next)),
                Err(StoreError::VersionMismatch) => {}
                Err(error) => return Err(error.into()),
            }
        }
        Err(StoreError::VersionMismatch.into())
    }

    /// Changes a user's name or phone.
    pub async fn update_profile(
        &self,
        id: Uuid,
        name: Option<&str>,
        phone: Option<&str>,
    ) -> Result<Outcome<User>, UsersError> {
        let patch = match ProfilePatch::parse(name, phone) {
            Ok(patch) => patch,
            Err(fields) => return Ok(Err(invalid(fields))),
        };
        self.modify(id, |user| Ok(user.with_profile(patch.clone(), Utc::now()))).await
    }

    /// Adds an address.
    pub async fn add_address(&self, id: Uuid, input: &AddressInput) -> Result<Outcome<User>, UsersError> {
        let address_id = Uuid::now_v7();
        self.modify(id, |user| user.with_address_added(input, address_id, Utc::now()).map_err(address_refusal)).await
    }

    /// Replaces an address.
    pub async fn update_address(
        &self,
        id: Uuid,
        address_id: Uuid,
        input: &AddressInput,
    ) -> Result<Outcome<User>, UsersError> {
        self.modify(id, |user| user.with_address_updated(address_id, input, Utc::now()).map_err(address_refusal)).await
    }

    /// Removes an address.
    pub async fn remove_address(&self, id: Uuid, address_id: Uuid) -> Result<Outcome<User>, UsersError> {
        self.modify(id, |user| user.with_address_removed(address_id, Utc::now()).map_err(address_refusal)).await
    }

    /// Changes a password after checking the current one, ends every session of the user and
    /// starts a new one.
    pub async fn change_password(&self, id: Uuid, current: &str, new: &str) -> Result<Outcome<Session>, UsersError> {
        if let Err(field) = user::password(&["newPassword"], new) {
            return Ok(Err(vec![UsersUserError::from_field(field, UsersErrorCode::Invalid)]));
        }
        let Some(user) = self.user(id).await? else {
            return Ok(Err(vec![UsersUserError::new(&[], "no such user", UsersErrorCode::NotFound)]));
        };
        let (candidate, hash) = (current.to_owned(), user.password_hash.clone());
        if !blocking(move || credentials::verify_password(&candidate, Some(&hash))).await? {
            return Ok(Err(vec![UsersUserError::new(
                &["currentPassword"],
                "the current password is wrong",
                UsersErrorCode::InvalidCredentials,
            )]));
        }
        let new = new.to_owned();
        let new_hash = blocking(move || credentials::hash_password(&new)).await??;
        let changed = self
            .modify(id, |user| {
                let mut next = user.touched(Utc::now());
                next.password_hash.clone_from(&new_hash);
                Ok(next)
            })
            .await?;
        let user = match changed {
            Ok(user) => user,
            Err(refusals) => return Ok(Err(refusals)),
        };
        self.store.revoke_user_tokens(id).await?;
        Ok(Ok(self.start_session(user, Uuid::now_v7(), Utc::now()).await?))
    }

    /// Sets a user's roles (admin only; the caller checks that).
    pub async fn set_roles(&self, id: Uuid, roles: &[Role]) -> Result<Outcome<User>, UsersError> {
        self.modify(id, |user| Ok(user.with_roles(roles, Utc::now()))).await
    }
}

fn address_refusal(error: AddressError) -> Vec<UsersUserError> {
    match error {
        AddressError::Invalid(fields) => invalid(fields),
        AddressError::NotFound => vec![UsersUserError::new(&["id"], "no such address", UsersErrorCode::NotFound)],
        AddressError::TooMany => vec![UsersUserError::new(
            &[],
            format!("at most {} addresses may be kept", crate::domain::user::MAX_ADDRESSES),
            UsersErrorCode::TooManyAddresses,
        )],
    }
}
