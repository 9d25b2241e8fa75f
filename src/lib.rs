//! The shop as a whole: the one list of its subgraphs, which the launcher (`src/main.rs`),
//! `export-schema` and the end-to-end stack (`tests/e2e`) loop over, and the files it ships.

use std::path::PathBuf;

use shop_kernel::{SubgraphKind, subgraph::AnySettings};

/// Every subgraph of the shop, in the order a process starts them (users first: the others
/// verify tokens against its keys).
pub fn subgraphs() -> [SubgraphKind; 8] {
    [
        SubgraphKind::of::<shop_users::UsersService>(),
        SubgraphKind::of::<shop_catalog::CatalogService>(),
        SubgraphKind::of::<shop_inventory::InventoryService>(),
        SubgraphKind::of::<shop_cart::CartService>(),
        SubgraphKind::of::<shop_orders::OrdersService>(),
        SubgraphKind::of::<shop_payments::PaymentsService>(),
        SubgraphKind::of::<shop_notifications::NotificationsService>(),
        SubgraphKind::of::<shop_reviews::ReviewsService>(),
    ]
}

/// The demo catalog, its stock and the demo accounts' seed (`seed/catalog.json`), built into
/// the binary so `shop` seeds from any working directory.
pub const DEMO_DATA: &str = include_str!("../seed/catalog.json");

/// A file shipped in this repository (`router/router.yaml`, `schema/supergraph.graphql`),
/// found from the crate's folder so the launcher works from any working directory.
pub fn shipped_file(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// Rules that span the settings of several subgraphs, checked wherever they are loaded
/// together (the launcher; the compose check in the tests): a payment must settle well inside
/// the stock hold (at most half of it), or an order can be paid after its reservation lapsed.
pub fn check_together(settings: &mut [Box<dyn AnySettings>]) -> Result<(), String> {
    let (mut payment_timeout, mut reservation_ttl) = (None, None);
    for settings in settings.iter_mut() {
        let settings = settings.as_any_mut();
        if let Some(orders) = settings.downcast_mut::<shop_orders::config::OrdersConfig>() {
            payment_timeout = Some(orders.payment_timeout_secs);
        } else if let Some(inventory) = settings.downcast_mut::<shop_inventory::config::InventoryConfig>() {
            reservation_ttl = Some(inventory.reservation_ttl_secs);
        }
    }
    match (payment_timeout, reservation_ttl) {
        (Some(timeout), Some(ttl)) if timeout.saturating_mul(2) > ttl => Err(format!(
            "orders.payment_timeout_secs ({timeout}) must be at most half of inventory.reservation_ttl_secs ({ttl}), \
             so a payment settles while its stock is held"
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

    use std::collections::HashMap;

    /// The `environment:` blocks of `docker-compose.yml` (anchors resolved by the YAML parser).
    fn compose_environment() -> HashMap<String, String> {
        let text = std::fs::read_to_string(super::shipped_file("docker-compose.yml")).unwrap();
        let mut compose: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
        compose.apply_merge().unwrap();
        let mut variables = HashMap::new();
        for (_, service) in compose["services"].as_mapping().unwrap() {
            let Some(environment) = service.get("environment").and_then(serde_yaml::Value::as_mapping) else {
                continue;
            };
            for (key, value) in environment {
                let value = match value {
                    serde_yaml::Value::String(text) => text.clone(),
                    other => serde_yaml::to_string(other).unwrap().trim().to_owned(),
                };
                variables.insert(key.as_str().unwrap().to_owned(), value);
            }
        }
        variables
    }

    #[test]
    fn every_subgraph_starts_from_its_defaults_alone() {
        for kind in super::subgraphs() {
            kind.load_settings_from("", HashMap::new()).unwrap_or_else(|e| panic!("{}: {e}", kind.name()));
        }
    }

    #[test]
    fn the_compose_stack_configures_every_subgraph_validly() {
        let environment = compose_environment();
        let mut all = Vec::new();
        for kind in super::subgraphs() {
            let prefix = format!("{}__", kind.name().to_ascii_uppercase());
            let own: HashMap<String, String> = environment
                .iter()
                .filter(|(key, _)| key.starts_with(&prefix))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            assert!(!own.is_empty(), "compose sets nothing for {}", kind.name());
            let mut settings = kind
                .load_settings_from("", own)
                .unwrap_or_else(|e| panic!("{} in docker-compose.yml: {e}", kind.name()));
            let common = settings.common();
            if let Some(database) = common.database {
                assert!(!database.url().starts_with("sqlite"), "{} runs on a real database in compose", kind.name());
            }
            if let Some(bus) = common.bus {
                assert!(bus.amqp_url.is_some(), "{} talks to RabbitMQ in compose", kind.name());
            }
            all.push(settings);
        }
        super::check_together(&mut all).unwrap();
    }

    fn loaded(variables: &[(&str, &str)]) -> Vec<Box<dyn super::AnySettings>> {
        let env: HashMap<String, String> = variables.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        super::subgraphs().iter().map(|kind| kind.load_settings_from("", env.clone()).unwrap()).collect()
    }

    #[test]
    fn a_payment_timeout_not_well_inside_the_reservation_ttl_is_refused() {
        assert_eq!(super::check_together(&mut loaded(&[])), Ok(()), "the defaults hold");
        let mut settings =
            loaded(&[("ORDERS__PAYMENT_TIMEOUT_SECS", "600"), ("INVENTORY__RESERVATION_TTL_SECS", "900")]);
        let error = super::check_together(&mut settings).unwrap_err();
        assert!(error.contains("payment_timeout_secs (600)"), "{error}");
        let mut settings =
            loaded(&[("ORDERS__PAYMENT_TIMEOUT_SECS", "450"), ("INVENTORY__RESERVATION_TTL_SECS", "900")]);
        assert_eq!(super::check_together(&mut settings), Ok(()));
    }

    /// `service`'s settings with `variables` set are refused, naming `key`.
    fn refused(service: &str, variables: &[(&str, &str)], key: &str) {
        let kind = super::subgraphs().into_iter().find(|kind| kind.name() == service).unwrap();
        let env = variables.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        let Err(error) = kind.load_settings_from("", env) else { panic!("{service} accepted {variables:?}") };
        assert!(error.to_string().contains(&format!("`{key}`")), "refused for another reason than `{key}`: {error}");
    }

    /// One test per rule of a subgraph's own settings (the shared sections' rules are tested in
    /// `shop_kernel::config`): a value the rule refuses stops the service, naming the key.
    macro_rules! refuses {
        ($($test:ident: $service:literal { $($variable:literal = $value:literal),+ } => $key:literal;)+) => {
            $(
                #[test]
                fn $test() {
                    refused($service, &[$(($variable, $value)),+], $key);
                }
            )+
        };
    }

    refuses! {
        carts_must_live_at_least_a_minute: "cart" { "CART__IDLE_TTL_SECS" = "5" } => "idle_ttl_secs";
        cached_catalog_pages_must_expire: "catalog" { "CATALOG__CACHE_TTL_SECS" = "0" } => "cache_ttl_secs";
        the_catalog_may_run_on_mongodb_but_not_mysql: "catalog" { "CATALOG__DATABASE_URL" = "mysql://db/catalog" } => "database_url";
        the_cache_is_redis: "catalog" { "CATALOG__REDIS_URL" = "memcached://cache" } => "redis_url";
        reservations_must_expire: "inventory" { "INVENTORY__RESERVATION_TTL_SECS" = "0" } => "reservation_ttl_secs";
        the_reservation_sweeper_must_run: "inventory" { "INVENTORY__SWEEP_INTERVAL_SECS" = "0" } => "sweep_interval_secs";
        inventory_is_not_on_mongodb: "inventory" { "INVENTORY__DATABASE_URL" = "mongodb://db" } => "database_url";
        a_neighbour_call_has_a_budget: "orders" { "ORDERS__UPSTREAM_TIMEOUT_MS" = "0" } => "upstream_timeout_ms";
        shipping_is_not_negative: "orders" { "ORDERS__SHIPPING_FLAT_MINOR" = "-1" } => "shipping_flat_minor";
        free_shipping_is_not_negative: "orders" { "ORDERS__FREE_SHIPPING_THRESHOLD_MINOR" = "-1" } => "free_shipping_threshold_minor";
        tax_rates_are_by_country_code: "orders" { "ORDERS__TAX_RATES_BP__GBR" = "2000" } => "tax_rates_bp.gbr";
        a_tax_rate_is_at_most_100_percent: "orders" { "ORDERS__TAX_RATES_BP__GB" = "20000" } => "tax_rates_bp.gb";
        the_default_tax_rate_is_at_most_100_percent: "orders" { "ORDERS__DEFAULT_TAX_BP" = "10001" } => "default_tax_bp";
        a_payment_may_not_wait_forever: "orders" { "ORDERS__PAYMENT_TIMEOUT_SECS" = "0" } => "payment_timeout_secs";
        a_reservation_answer_may_not_wait_forever: "orders" { "ORDERS__PENDING_TIMEOUT_SECS" = "0" } => "pending_timeout_secs";
        the_order_sweeper_must_run: "orders" { "ORDERS__SWEEP_INTERVAL_SECS" = "0" } => "sweep_interval_secs";
        neighbours_are_http: "orders" { "ORDERS__CATALOG_URL" = "catalog:4002" } => "catalog_url";
        a_provider_call_has_a_timeout: "payments" { "PAYMENTS__PROVIDER__TIMEOUT_MS" = "0" } => "provider.timeout_ms";
        a_provider_timeout_is_a_number: "payments" { "PAYMENTS__PROVIDER__TIMEOUT_MS" = "soon" } => "provider.timeout_ms";
        a_provider_call_is_tried_at_least_once: "payments" { "PAYMENTS__PROVIDER__MAX_ATTEMPTS" = "0" } => "provider.max_attempts";
        provider_retries_wait_a_bounded_time: "payments" { "PAYMENTS__PROVIDER__INITIAL_BACKOFF_MS" = "600000" } => "provider.initial_backoff_ms";
        the_longest_provider_retry_wait_is_not_the_shortest: "payments" { "PAYMENTS__PROVIDER__INITIAL_BACKOFF_MS" = "500", "PAYMENTS__PROVIDER__MAX_BACKOFF_MS" = "100" } => "provider.max_backoff_ms";
        the_breaker_opens_after_some_failure: "payments" { "PAYMENTS__PROVIDER__BREAKER_FAILURES" = "0" } => "provider.breaker_failures";
        the_breaker_stays_open_a_while: "payments" { "PAYMENTS__PROVIDER__BREAKER_OPEN_MS" = "0" } => "provider.breaker_open_ms";
        the_breaker_longest_open_is_not_the_shortest: "payments" { "PAYMENTS__PROVIDER__BREAKER_OPEN_MS" = "5000", "PAYMENTS__PROVIDER__BREAKER_MAX_OPEN_MS" = "100" } => "provider.breaker_max_open_ms";
        smtp_needs_a_server: "notifications" { "NOTIFICATIONS__EMAIL__TRANSPORT" = "smtp" } => "email.smtp_url";
        the_smtp_server_is_smtp: "notifications" { "NOTIFICATIONS__EMAIL__SMTP_URL" = "http://mail" } => "email.smtp_url";
        an_smtp_command_has_a_timeout: "notifications" { "NOTIFICATIONS__EMAIL__SMTP_TIMEOUT_MS" = "0" } => "email.smtp_timeout_ms";
        a_delivery_is_tried_at_least_once: "notifications" { "NOTIFICATIONS__DELIVERY__MAX_ATTEMPTS" = "0" } => "delivery.max_attempts";
        delivery_retries_wait: "notifications" { "NOTIFICATIONS__DELIVERY__INITIAL_BACKOFF_MS" = "0" } => "delivery.initial_backoff_ms";
        the_longest_delivery_wait_is_not_the_shortest: "notifications" { "NOTIFICATIONS__DELIVERY__INITIAL_BACKOFF_MS" = "5000", "NOTIFICATIONS__DELIVERY__MAX_BACKOFF_MS" = "100" } => "delivery.max_backoff_ms";
        the_delivery_queue_is_polled: "notifications" { "NOTIFICATIONS__DELIVERY__POLL_INTERVAL_MS" = "0" } => "delivery.poll_interval_ms";
        a_delivery_lease_outlasts_a_send: "notifications" { "NOTIFICATIONS__DELIVERY__LEASE_SECS" = "1" } => "delivery.lease_secs";
        links_in_mail_point_at_the_shop_over_http: "notifications" { "NOTIFICATIONS__SHOP_URL" = "shop.example" } => "shop_url";
        an_unknown_transport_is_refused: "notifications" { "NOTIFICATIONS__EMAIL__TRANSPORT" = "pigeon" } => "email.transport";
        access_tokens_live_a_minute_at_least: "users" { "USERS__ACCESS_TOKEN_TTL_SECS" = "30" } => "access_token_ttl_secs";
        refresh_tokens_outlive_access_tokens: "users" { "USERS__REFRESH_TOKEN_TTL_SECS" = "60" } => "refresh_token_ttl_secs";
        accounts_lock_after_some_failure: "users" { "USERS__MAX_FAILURES_PER_ACCOUNT" = "0" } => "max_failures_per_account";
        addresses_lock_after_some_failure: "users" { "USERS__MAX_FAILURES_PER_IP" = "0" } => "max_failures_per_ip";
        a_lockout_lasts: "users" { "USERS__LOCKOUT_SECS" = "0" } => "lockout_secs";
        tokens_name_an_issuer: "users" { "USERS__ISSUER" = "" } => "issuer";
        tokens_name_an_audience: "users" { "USERS__AUDIENCE" = "" } => "audience";
        tokens_are_signed_with_a_key_file: "users" { "USERS__SIGNING_KEY_FILE" = "" } => "signing_key_file";
        reviews_may_run_on_mongodb_but_not_redis: "reviews" { "REVIEWS__DATABASE_URL" = "redis://db" } => "database_url";
        a_misspelled_variable_is_refused: "reviews" { "REVIEWS__AMQP_ULR" = "amqp://broker" } => "amqp_ulr";
    }
}
