//! The templates: every kind renders, HTML escapes what people typed, and totals come out
//! exact from minor units.

use shop_notifications::{
    domain::{Facts, NotificationKind, Recipient, Refund},
    render::Renderer,
};
use uuid::Uuid;

use crate::summary;

fn renderer() -> Renderer {
    Renderer::new("Shop & Co", "http://localhost:4000").unwrap()
}

fn facts() -> Facts {
    let mut summary = summary();
    summary.lines[0].product_name = "<b>Mug</b>".into();
    Facts {
        order_id: Some("o-1".into()),
        summary: Some(summary),
        reason: Some("<img src=x onerror=alert(1)>".into()),
        tracking_number: Some("TRK-1".into()),
        refund: Some(Refund { amount_minor: 105, refunded_total_minor: 1000, currency: "JPY".into() }),
        ..Facts::default()
    }
}

fn hostile() -> Recipient {
    Recipient {
        user_id: "u".into(),
        email: "x@example.test".into(),
        name: "<script>alert(\"hi\")</script> & Bob".into(),
    }
}

#[test]
fn html_escapes_what_people_typed() {
    let renderer = renderer();
    for kind in NotificationKind::ALL {
        let subject = renderer.subject(*kind, &facts()).unwrap();
        let message = renderer.message(Uuid::nil(), *kind, &subject, &facts(), &hostile()).unwrap();
        assert!(!message.html.contains("<script>"), "{kind:?}: {}", message.html);
        assert!(
            message.html.contains("&lt;script&gt;alert(&quot;hi&quot;)&lt;&#x2f;script&gt; &amp; Bob"),
            "{kind:?}: {}",
            message.html
        );
        assert!(!message.html.contains("<b>Mug</b>") && !message.html.contains("<img"), "{kind:?}: {}", message.html);
        // Plain text is not HTML: it says exactly what was typed.
        assert!(message.text.contains("<script>alert(\"hi\")</script> & Bob"), "{kind:?}: {}", message.text);
        assert!(!subject.is_empty() && !subject.contains('\n'), "{kind:?}: {subject:?}");
    }
    let confirmed = renderer.message(Uuid::nil(), NotificationKind::OrderCancelled, "s", &facts(), &hostile()).unwrap();
    assert!(confirmed.html.contains("&lt;img src=x onerror=alert(1)&gt;"), "{}", confirmed.html);
}

#[test]
fn order_mails_list_lines_and_totals() {
    let renderer = renderer();
    let recipient = Recipient { user_id: "u".into(), email: "x@example.test".into(), name: "Ada".into() };
    let message = renderer.message(Uuid::nil(), NotificationKind::OrderConfirmed, "s", &facts(), &recipient).unwrap();
    for line in [
        "- <b>Mug</b> (Red) x 2 @ 12.50 USD = 25.00 USD",
        "- Tea x 1 @ 5.99 USD = 5.99 USD",
        "Subtotal: 30.99 USD",
        "Shipping: 4.00 USD",
        "Tax:      3.10 USD",
        "Total:    38.09 USD",
    ] {
        assert!(message.text.contains(line), "{line:?} in\n{}", message.text);
    }
    for cell in
        ["<td align=\"right\">12.50 USD</td>", "<td align=\"right\">25.00 USD</td>", "<strong>38.09 USD</strong>"]
    {
        assert!(message.html.contains(cell), "{cell:?} in\n{}", message.html);
    }
    assert!(message.html.contains("&lt;b&gt;Mug&lt;&#x2f;b&gt; (Red)"), "{}", message.html);

    // An event from before summaries: the total alone.
    let bare = Facts {
        order_id: Some("o-2".into()),
        total_minor: Some(123_456),
        currency: Some("EUR".into()),
        ..Facts::default()
    };
    let message = renderer.message(Uuid::nil(), NotificationKind::OrderConfirmed, "s", &bare, &recipient).unwrap();
    assert!(message.text.contains("Total: 1234.56 EUR") && !message.text.contains("Subtotal"), "{}", message.text);

    // Currencies without a minor unit.
    let subject = renderer.subject(NotificationKind::PaymentRefunded, &facts()).unwrap();
    assert_eq!(subject, "Shop & Co refunded 105 JPY for order o-1", "subjects are plain text, never escaped");
}
