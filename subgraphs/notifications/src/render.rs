//! Turning a notification into a message: minijinja templates embedded in the binary, one
//! subject, one plain-text and one HTML template per kind (`templates/<kind>.subject.txt`,
//! `<kind>.txt`, `<kind>.html`).
//!
//! HTML templates are auto-escaped (by their `.html` name), so text that customers or staff
//! typed — names, cancellation reasons, product names — can never become markup. Money is
//! formatted from integer minor units with `rust_decimal`, never through a float.

use minijinja::{Environment, Value, context, value::Serde};
use rust_decimal::Decimal;
use serde::Serialize;
use shop_kernel::{CurrencyCode, Money};
use uuid::Uuid;

use crate::domain::{Facts, NotificationKind, Recipient};

/// Longest subject kept (the column's size); longer ones are cut.
pub const MAX_SUBJECT_CHARS: usize = 300;

/// The embedded templates: (name, source).
const TEMPLATES: &[(&str, &str)] = &[
    ("layout.html", include_str!("../templates/layout.html")),
    ("order_lines.html", include_str!("../templates/order_lines.html")),
    ("order_lines.txt", include_str!("../templates/order_lines.txt")),
    ("footer.txt", include_str!("../templates/footer.txt")),
    ("welcome.subject.txt", include_str!("../templates/welcome.subject.txt")),
    ("welcome.txt", include_str!("../templates/welcome.txt")),
    ("welcome.html", include_str!("../templates/welcome.html")),
    ("order_confirmed.subject.txt", include_str!("../templates/order_confirmed.subject.txt")),
    ("order_confirmed.txt", include_str!("../templates/order_confirmed.txt")),
    ("order_confirmed.html", include_str!("../templates/order_confirmed.html")),
    ("order_cancelled.subject.txt", include_str!("../templates/order_cancelled.subject.txt")),
    ("order_cancelled.txt", include_str!("../templates/order_cancelled.txt")),
    ("order_cancelled.html", include_str!("../templates/order_cancelled.html")),
    ("order_shipped.subject.txt", include_str!("../templates/order_shipped.subject.txt")),
    ("order_shipped.txt", include_str!("../templates/order_shipped.txt")),
    ("order_shipped.html", include_str!("../templates/order_shipped.html")),
    ("order_delivered.subject.txt", include_str!("../templates/order_delivered.subject.txt")),
    ("order_delivered.txt", include_str!("../templates/order_delivered.txt")),
    ("order_delivered.html", include_str!("../templates/order_delivered.html")),
    ("payment_refunded.subject.txt", include_str!("../templates/payment_refunded.subject.txt")),
    ("payment_refunded.txt", include_str!("../templates/payment_refunded.txt")),
    ("payment_refunded.html", include_str!("../templates/payment_refunded.html")),
    ("review_request.subject.txt", include_str!("../templates/review_request.subject.txt")),
    ("review_request.txt", include_str!("../templates/review_request.txt")),
    ("review_request.html", include_str!("../templates/review_request.html")),
];

/// A template is missing or failed to render: a bug, never the customer's doing.
#[derive(Debug, thiserror::Error)]
#[error("template `{template}`: {source}")]
pub struct RenderError {
    template: String,
    #[source]
    source: minijinja::Error,
}

/// A message ready for a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedMessage {
    /// The notification it delivers (the email's Message-ID is `<id@shop>`).
    pub notification_id: Uuid,
    /// One line.
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// The HTML body (escaped).
    pub html: String,
}

/// The shop as templates name and link it.
#[derive(Debug, Clone, Serialize)]
struct Shop {
    name: String,
    url: String,
}

/// Renders notifications from the embedded templates.
pub struct Renderer {
    env: Environment<'static>,
    shop: Shop,
}

impl std::fmt::Debug for Renderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Renderer").field("shop", &self.shop).finish_non_exhaustive()
    }
}

impl Renderer {
    /// Loads (and so checks the syntax of) every template.
    pub fn new(shop_name: &str, shop_url: &str) -> Result<Self, RenderError> {
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            env.add_template(name, source).map_err(|source| RenderError { template: (*name).to_owned(), source })?;
        }
        Ok(Self { env, shop: Shop { name: shop_name.to_owned(), url: shop_url.to_owned() } })
    }

    /// The subject of a `kind` notification about `facts`. Subjects use the event's facts
    /// only (no recipient), so they are fixed when the notification is queued.
    pub fn subject(&self, kind: NotificationKind, facts: &Facts) -> Result<String, RenderError> {
        let name = format!("{}.subject.txt", kind.template());
        let raw = self.render(&name, self.context(facts, None))?;
        let line = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        Ok(line.chars().take(MAX_SUBJECT_CHARS).collect())
    }

    /// The bodies of notification `id` for `recipient`.
    pub fn message(
        &self,
        id: Uuid,
        kind: NotificationKind,
        subject: &str,
        facts: &Facts,
        recipient: &Recipient,
    ) -> Result<RenderedMessage, RenderError> {
        let ctx = self.context(facts, Some(recipient));
        let text = self.render(&format!("{}.txt", kind.template()), ctx.clone())?;
        let html = self.render(&format!("{}.html", kind.template()), ctx)?;
        Ok(RenderedMessage { notification_id: id, subject: subject.to_owned(), text, html })
    }

    fn render(&self, name: &str, ctx: Value) -> Result<String, RenderError> {
        let fail = |source| RenderError { template: name.to_owned(), source };
        self.env.get_template(name).map_err(fail)?.render(ctx).map_err(fail)
    }

    fn context(&self, facts: &Facts, recipient: Option<&Recipient>) -> Value {
        let recipient = recipient.map(|r| context! { name => r.name.clone(), email => r.email.clone() });
        let refund = facts.refund.as_ref().map(|r| {
            context! {
                amount => format_money(r.amount_minor, &r.currency),
                refunded_total => format_money(r.refunded_total_minor, &r.currency),
            }
        });
        context! {
            shop => Value::from(Serde(&self.shop)),
            recipient => recipient,
            order => Value::from(Serde(order_view(facts))),
            reason => facts.reason.clone(),
            tracking_number => facts.tracking_number.clone(),
            refund => refund,
        }
    }
}

/// One order line as templates show it.
#[derive(Debug, Serialize)]
struct LineView {
    name: String,
    variant: String,
    quantity: i64,
    unit_price: String,
    line_total: String,
}

/// The order as templates show it; `lines` is empty when the event carried no summary.
#[derive(Debug, Serialize)]
struct OrderView {
    id: String,
    lines: Vec<LineView>,
    subtotal: Option<String>,
    shipping: Option<String>,
    tax: Option<String>,
    total: Option<String>,
}

fn order_view(facts: &Facts) -> OrderView {
    let id = facts.order_id.clone().unwrap_or_default();
    match &facts.summary {
        Some(summary) => {
            let money = |minor: i64| format_money(minor, &summary.currency);
            OrderView {
                id,
                lines: summary
                    .lines
                    .iter()
                    .map(|line| LineView {
                        name: line.product_name.clone(),
                        variant: line.variant_name.clone(),
                        quantity: line.quantity,
                        unit_price: money(line.unit_price_minor),
                        line_total: money(line.line_subtotal_minor),
                    })
                    .collect(),
                subtotal: Some(money(summary.subtotal_minor)),
                shipping: Some(money(summary.shipping_minor)),
                tax: Some(money(summary.tax_minor)),
                total: Some(money(summary.total_minor)),
            }
        }
        None => OrderView {
            id,
            lines: Vec::new(),
            subtotal: None,
            shipping: None,
            tax: None,
            total: facts
                .total_minor
                .zip(facts.currency.as_deref())
                .map(|(minor, currency)| format_money(minor, currency)),
        },
    }
}

/// `2499` USD as `24.99 USD`; a currency the shop does not know is assumed to have cents.
pub fn format_money(minor: i64, currency: &str) -> String {
    let amount = match CurrencyCode::parse(currency) {
        Some(code) => Money::from_minor(minor, code).amount(),
        None => Decimal::new(minor, 2),
    };
    format!("{amount} {}", currency.to_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_formatted_from_minor_units() {
        assert_eq!(format_money(2499, "usd"), "24.99 USD");
        assert_eq!(format_money(500, "EUR"), "5.00 EUR");
        assert_eq!(format_money(1200, "JPY"), "1200 JPY");
        assert_eq!(format_money(-5, "XTS"), "-0.05 XTS");
    }
}
