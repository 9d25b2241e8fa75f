//! Placing an order: validate → idempotency → lines (cart or input) → authoritative prices
//! (catalog) → availability (inventory) → address (input or users) → ONE transaction writing
//! the PENDING order, its first timeline entry and the outbox messages → return at once. The
//! saga (see [`super::lifecycle`]) takes it from there.
//!
//! Neighbours fail in different ways: without the catalog there is no authoritative price,
//! so checkout is refused (`CATALOG_UNAVAILABLE`); without inventory the availability hint is
//! skipped and the reservation decides; without the cart or users subgraph the request
//! cannot be understood, so it fails with `SERVICE_UNAVAILABLE`.

use std::{collections::HashMap, time::Duration};

use chrono::Utc;
use shop_kernel::CurrencyCode;
use shop_messaging::{
    Envelope,
    contracts::{CartCheckedOut, InventoryReserve, OrderUpdated, StockLine},
    outbox::OutboxWaker,
};
use uuid::Uuid;

use crate::{
    adapters::{CartClient, CatalogClient, CatalogVariant, InventoryClient, UpstreamError, UsersClient},
    domain::{
        AddressSource, CheckoutDraft, CheckoutRequest, FieldError, LineSource, Order, OrderLine, OrderStatus,
        PaymentStatus, PostalAddress, PricingRules, RequestedLine, TimelineEntry,
        checkout::parse_lines,
        totals::{self, LineAmount},
    },
    error::{OrderErrorCode, OrderUserError, OrdersError},
    store::{InsertError, OrdersStore},
};

/// What a checkout did.
#[derive(Debug, Clone)]
pub enum CheckoutOutcome {
    /// The order (new, or the one an earlier identical request placed).
    Placed(Box<Order>),
    /// Nothing was written, for these reasons.
    Refused(Vec<OrderUserError>),
}

impl CheckoutOutcome {
    fn refused(error: OrderUserError) -> Self {
        Self::Refused(vec![error])
    }
}

/// The neighbours checkout reads from.
pub struct Upstreams {
    /// Prices.
    pub catalog: CatalogClient,
    /// Availability.
    pub inventory: InventoryClient,
    /// Saved addresses.
    pub users: UsersClient,
    /// Cart lines.
    pub cart: CartClient,
}

impl Upstreams {
    /// Clients of the neighbours at the given URLs, each call within `budget`.
    pub fn new(catalog: &str, inventory: &str, users: &str, cart: &str, budget: Duration) -> Self {
        Self {
            catalog: CatalogClient::new(catalog, budget),
            inventory: InventoryClient::new(inventory, budget),
            users: UsersClient::new(users, budget),
            cart: CartClient::new(cart, budget),
        }
    }
}

/// The checkout use case.
pub struct Checkout {
    store: OrdersStore,
    upstreams: Upstreams,
    pricing: PricingRules,
    currency: CurrencyCode,
    pending_timeout: chrono::Duration,
    waker: OutboxWaker,
}

fn invalid(errors: Vec<FieldError>) -> CheckoutOutcome {
    CheckoutOutcome::Refused(
        errors
            .into_iter()
            .map(|e| OrderUserError { field: Some(e.field), message: e.message, code: OrderErrorCode::Invalid })
            .collect(),
    )
}

fn outcome_label(outcome: &Result<CheckoutOutcome, OrdersError>) -> &'static str {
    match outcome {
        Ok(CheckoutOutcome::Placed(_)) => "placed",
        Ok(CheckoutOutcome::Refused(_)) => "refused",
        Err(_) => "failed",
    }
}

impl Checkout {
    /// The use case over its store, neighbours and rules.
    pub fn new(
        store: OrdersStore,
        upstreams: Upstreams,
        pricing: PricingRules,
        currency: CurrencyCode,
        pending_timeout: Duration,
        waker: OutboxWaker,
    ) -> Self {
        let pending_timeout = chrono::Duration::from_std(pending_timeout).unwrap_or(chrono::Duration::MAX);
        Self { store, upstreams, pricing, currency, pending_timeout, waker }
    }

    /// Places an order for `user_id`; `authorization` (the caller's header) is forwarded to
    /// the cart and users subgraphs, which check it themselves. `traceparent` (the request's
    /// W3C trace context) continues in the saga's messages, so one trace spans the checkout.
    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    pub async fn place(
        &self,
        user_id: Uuid,
        authorization: Option<&str>,
        traceparent: Option<&str>,
        draft: &CheckoutDraft,
    ) -> Result<CheckoutOutcome, OrdersError> {
        let outcome = self.place_inner(user_id, authorization, traceparent, draft).await;
        metrics::counter!("orders_checkouts_total", "outcome" => outcome_label(&outcome)).increment(1);
        outcome
    }

    async fn place_inner(
        &self,
        user_id: Uuid,
        authorization: Option<&str>,
        traceparent: Option<&str>,
        draft: &CheckoutDraft,
    ) -> Result<CheckoutOutcome, OrdersError> {
        let request = match CheckoutRequest::parse(draft) {
            Ok(request) => request,
            Err(errors) => return Ok(invalid(errors)),
        };
        let fingerprint = request.fingerprint();
        if let Some(existing) = self.store.by_idempotency_key(user_id, &request.idempotency_key).await? {
            return Ok(replay(existing, &fingerprint));
        }
        let lines = match &request.lines {
            LineSource::Lines(lines) => lines.clone(),
            LineSource::Cart(cart_id) => match self.cart_lines(cart_id, authorization).await? {
                Ok(lines) => lines,
                Err(refusal) => return Ok(refusal),
            },
        };
        let skus: Vec<String> = lines.iter().map(|l| l.sku.clone()).collect();
        let variants = match self.upstreams.catalog.variants(&skus).await {
            Ok(variants) => variants,
            Err(error) => {
                tracing::warn!(%error, "catalog unavailable at checkout");
                return Ok(CheckoutOutcome::refused(OrderUserError::new(
                    &[],
                    "prices cannot be confirmed right now; try again shortly",
                    OrderErrorCode::CatalogUnavailable,
                )));
            }
        };
        let priced = match self.price_lines(&lines, &variants) {
            Ok(priced) => priced,
            Err(errors) => return Ok(CheckoutOutcome::Refused(errors)),
        };
        let shortages = self.shortages(&lines).await;
        if !shortages.is_empty() {
            return Ok(CheckoutOutcome::Refused(shortages));
        }
        let address = match &request.address {
            AddressSource::Given(address) => address.clone(),
            AddressSource::Saved(address_id) => match self.saved_address(user_id, address_id, authorization).await? {
                Ok(address) => address,
                Err(refusal) => return Ok(refusal),
            },
        };
        let order = match self.build_order(user_id, &request, fingerprint, priced, address) {
            Ok(order) => order,
            Err(refusal) => return Ok(refusal),
        };
        let from_cart = match &request.lines {
            LineSource::Cart(cart_id) => Some(cart_id.as_str()),
            LineSource::Lines(_) => None,
        };
        let messages = placed_messages(&order, from_cart, traceparent)?;
        match self.store.insert(&order, &messages).await {
            Ok(()) => {}
            Err(InsertError::DuplicateKey) => {
                // A concurrent request with the same key won the race: answer as it did.
                let winner = self.store.by_idempotency_key(user_id, &request.idempotency_key).await?;
                return winner.map(|w| replay(w, &order.request_hash)).ok_or(OrdersError::NotFound);
            }
            Err(InsertError::Store(error)) => return Err(error.into()),
        }
        self.waker.wake();
        tracing::info!(order_id = %order.id, total_minor = order.total_minor, "order placed");
        Ok(CheckoutOutcome::Placed(Box::new(order)))
    }

    async fn cart_lines(
        &self,
        cart_id: &str,
        authorization: Option<&str>,
    ) -> Result<Result<Vec<RequestedLine>, CheckoutOutcome>, OrdersError> {
        let not_found = || {
            CheckoutOutcome::refused(OrderUserError::new(
                &["input", "cartId"],
                "no such cart (it may have expired)",
                OrderErrorCode::CartNotFound,
            ))
        };
        if Uuid::parse_str(cart_id).is_err() {
            return Ok(Err(not_found()));
        }
        let Some(drafts) = self.upstreams.cart.lines(cart_id, authorization).await? else {
            return Ok(Err(not_found()));
        };
        if drafts.is_empty() {
            return Ok(Err(CheckoutOutcome::refused(OrderUserError::new(
                &["input", "cartId"],
                "the cart is empty",
                OrderErrorCode::EmptyCart,
            ))));
        }
        Ok(parse_lines(&drafts, &["lines"]).map_err(invalid))
    }

    /// Each line with its catalog variant, or a user error per line that cannot be sold.
    fn price_lines<'a>(
        &self,
        lines: &'a [RequestedLine],
        variants: &'a [Option<CatalogVariant>],
    ) -> Result<Vec<(&'a RequestedLine, &'a CatalogVariant, i64)>, Vec<OrderUserError>> {
        let mut errors = Vec::new();
        let mut priced = Vec::with_capacity(lines.len());
        for (index, (line, variant)) in lines.iter().zip(variants).enumerate() {
            let Some(variant) = variant else {
                errors.push(OrderUserError::line(
                    index,
                    format!("unknown SKU {}", line.sku),
                    OrderErrorCode::UnknownSku,
                ));
                continue;
            };
            let (true, Some(_)) = (variant.for_sale, &variant.product_id) else {
                errors.push(OrderUserError::line(
                    index,
                    format!("{} is not for sale", line.sku),
                    OrderErrorCode::ProductUnavailable,
                ));
                continue;
            };
            match variant.price {
                Some(price) if price.currency == self.currency => priced.push((line, variant, price.minor_units)),
                _ => errors.push(OrderUserError::line(
                    index,
                    format!(
                        "{} is priced in {}, orders are in {}",
                        line.sku,
                        variant.currency_code,
                        self.currency.as_str()
                    ),
                    OrderErrorCode::CurrencyMismatch,
                )),
            }
        }
        if errors.is_empty() { Ok(priced) } else { Err(errors) }
    }

    /// A user error per line short of stock. Inventory unreachable: none (the reservation
    /// will decide).
    async fn shortages(&self, lines: &[RequestedLine]) -> Vec<OrderUserError> {
        let skus: Vec<String> = lines.iter().map(|l| l.sku.clone()).collect();
        let available: HashMap<String, i64> = match self.upstreams.inventory.available(&skus).await {
            Ok(available) => available,
            Err(error) => {
                tracing::warn!(%error, "inventory unavailable at checkout; the reservation will decide");
                return Vec::new();
            }
        };
        lines
            .iter()
            .enumerate()
            .filter_map(|(index, line)| {
                let available = available.get(&line.sku).copied().unwrap_or(0);
                (available < line.quantity).then(|| {
                    OrderUserError::line(
                        index,
                        format!(
                            "out of stock: {} ({} requested, {} available)",
                            line.sku,
                            line.quantity,
                            available.max(0)
                        ),
                        OrderErrorCode::OutOfStock,
                    )
                })
            })
            .collect()
    }

    async fn saved_address(
        &self,
        user_id: Uuid,
        address_id: &str,
        authorization: Option<&str>,
    ) -> Result<Result<PostalAddress, CheckoutOutcome>, OrdersError> {
        let not_found = || {
            CheckoutOutcome::refused(OrderUserError::new(
                &["input", "addressId"],
                "you have no saved address with this id",
                OrderErrorCode::AddressNotFound,
            ))
        };
        let draft = match self.upstreams.users.address(user_id, address_id, authorization).await {
            Ok(Some(draft)) => draft,
            Ok(None) | Err(UpstreamError::Refused { .. }) => return Ok(Err(not_found())),
            Err(error) => return Err(error.into()),
        };
        Ok(PostalAddress::parse(&draft, &["input", "addressId"]).map_err(invalid))
    }

    fn build_order(
        &self,
        user_id: Uuid,
        request: &CheckoutRequest,
        request_hash: String,
        priced: Vec<(&RequestedLine, &CatalogVariant, i64)>,
        address: PostalAddress,
    ) -> Result<Order, CheckoutOutcome> {
        let amounts: Vec<LineAmount> = priced
            .iter()
            .map(|(line, _, unit)| LineAmount { unit_price_minor: *unit, quantity: line.quantity })
            .collect();
        let totals = totals::compute(&amounts, &address.country, &self.pricing).map_err(|e| {
            CheckoutOutcome::refused(OrderUserError::new(&["lines"], e.to_string(), OrderErrorCode::Invalid))
        })?;
        let lines = priced
            .iter()
            .zip(&totals.lines)
            .map(|((line, variant, unit), amounts)| OrderLine {
                product_id: variant.product_id.clone().unwrap_or_default(),
                sku: line.sku.clone(),
                product_name: variant.product_name.clone(),
                variant_name: variant.variant_name.clone(),
                quantity: line.quantity,
                unit_price_minor: *unit,
                line_subtotal_minor: amounts.subtotal_minor,
                tax_minor: amounts.tax_minor,
            })
            .collect();
        let now = Utc::now();
        Ok(Order {
            id: Uuid::now_v7(),
            user_id,
            idempotency_key: request.idempotency_key.clone(),
            request_hash,
            status: OrderStatus::Pending,
            payment_status: PaymentStatus::Pending,
            currency: self.currency,
            lines,
            shipping_address: address,
            subtotal_minor: totals.subtotal_minor,
            shipping_minor: totals.shipping_minor,
            tax_minor: totals.tax_minor,
            total_minor: totals.total_minor,
            tax_rate_bp: totals.tax_rate_bp,
            payment_token: Some(request.payment_token.clone()),
            payment_id: None,
            refunded_minor: 0,
            tracking_number: None,
            cancellation_reason: None,
            deadline_at: Some(now + self.pending_timeout),
            version: 1,
            events: vec![TimelineEntry { status: OrderStatus::Pending, at: now, note: Some("Order placed".into()) }],
            created_at: now,
            updated_at: now,
        })
    }
}

/// The answer to a checkout whose key was used before.
fn replay(existing: Order, fingerprint: &str) -> CheckoutOutcome {
    if existing.request_hash == fingerprint {
        CheckoutOutcome::Placed(Box::new(existing))
    } else {
        CheckoutOutcome::refused(OrderUserError::new(
            &["input", "idempotencyKey"],
            "this idempotency key was already used for a different checkout",
            OrderErrorCode::IdempotencyKeyReused,
        ))
    }
}

/// The messages of a new order: reserve its stock, tell trackers it exists, and take what it
/// bought out of the cart it came from (in the order's own transaction, so no committed
/// checkout leaves its cart full).
fn placed_messages(
    order: &Order,
    from_cart: Option<&str>,
    traceparent: Option<&str>,
) -> Result<Vec<Envelope>, OrdersError> {
    let id = order.id.to_string();
    let reserve = InventoryReserve {
        order_id: id.clone(),
        lines: order.lines.iter().map(|l| StockLine { sku: l.sku.clone(), quantity: l.quantity }).collect(),
    };
    let updated = OrderUpdated {
        order_id: id.clone(),
        user_id: order.user_id.to_string(),
        status: order.status.as_str().to_owned(),
        payment_status: order.payment_status.as_str().to_owned(),
        at: order.created_at,
        note: Some("Order placed".into()),
    };
    let encode = |e: shop_messaging::envelope::EnvelopeError| OrdersError::Message(e.to_string());
    let trace = Some(shop_messaging::trace::child(traceparent));
    let mut messages = vec![
        Envelope::new(&reserve, id.clone()).map_err(encode)?.with_traceparent(trace.clone()),
        Envelope::new(&updated, id.clone()).map_err(encode)?.with_traceparent(trace.clone()),
    ];
    if let Some(cart_id) = from_cart {
        let checked_out = CartCheckedOut { cart_id: cart_id.to_owned(), order_id: id.clone(), lines: reserve.lines };
        messages.push(Envelope::new(&checked_out, id).map_err(encode)?.with_traceparent(trace));
    }
    Ok(messages)
}
