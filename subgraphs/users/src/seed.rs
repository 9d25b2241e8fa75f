//! Demo accounts for development: an admin and a customer with known passwords.
//! Never run against production data (the passwords are in the README).

use shop_kernel::auth::Role;

use crate::{domain::email_key, error::UsersError, service::Identity};

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
    for (email, password, name, admin) in
        [(ADMIN_EMAIL, ADMIN_PASSWORD, "Shop Admin", true), (CUSTOMER_EMAIL, CUSTOMER_PASSWORD, "Casey Customer", false)]
    {
        if identity.store().user_by_email(&email_key(email)).await?.is_some() {
            continue;
        }
        let Ok(session) = identity.register(email, name, None, password).await? else {
            // Lost a race with another seeder: the account exists now.
            continue;
        };
        // The seed's own session is not handed to anyone.
        identity.logout(&session.refresh_token).await?;
        if admin {
            let _ = identity.set_roles(session.user.id, &[Role::Customer, Role::Admin]).await?;
        }
        created += 1;
    }
    Ok(created)
}
