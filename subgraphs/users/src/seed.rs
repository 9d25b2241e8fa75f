//! Demo accounts for development: an admin and a customer with known passwords.
//! Never run against production data (the passwords are in the README).

use chrono::Utc;
use shop_kernel::auth::Role;

use crate::{
    credentials,
    domain::{NewUser, email_key},
    error::UsersError,
    events::registration_announcement,
    service::Identity,
    store::StoreError,
};

/// The demo admin's email.
pub const ADMIN_EMAIL: &str = "admin@shop.local";
/// The demo admin's password.
pub const ADMIN_PASSWORD: &str = "admin-password-123";
/// The demo customer's email.
pub const CUSTOMER_EMAIL: &str = "customer@shop.local";
/// The demo customer's password.
pub const CUSTOMER_PASSWORD: &str = "customer-password-123";

/// Creates the demo accounts that do not exist yet; returns how many were created.
pub async fn apply(identity: &Identity) -> Result<usize, UsersError> {
    let mut created = 0;
    for (email, password, name, roles) in [
        (ADMIN_EMAIL, ADMIN_PASSWORD, "Shop Admin", &[Role::Customer, Role::Admin][..]),
        (CUSTOMER_EMAIL, CUSTOMER_PASSWORD, "Casey Customer", &[Role::Customer][..]),
    ] {
        // Checked first so a restart does not pay for hashing passwords it will not store.
        if identity.store().user_by_email(&email_key(email)).await?.is_some() {
            continue;
        }
        let new_user = NewUser::parse(email, name, None, password)
            .map_err(|_| UsersError::BadInput(format!("the demo account {email} is invalid")))?;
        let hash = tokio::task::spawn_blocking(move || credentials::hash_password(password))
            .await
            .map_err(|e| UsersError::Worker(e.to_string()))??;
        let now = Utc::now();
        let mut user = new_user.into_user(hash, now);
        user.roles = roles.to_vec();
        // Announced like any registration, so demo accounts get their mail too.
        let announcement = registration_announcement(&user)?;
        match identity.store().insert_user(&user, &[announcement]).await {
            Ok(()) => {
                identity.outbox_waker().wake();
                created += 1;
            }
            // Seeded before (or by a concurrent seeder): leave the account as it is.
            Err(StoreError::EmailTaken) => {}
            Err(error) => return Err(error.into()),
        }
    }
    Ok(created)
}
