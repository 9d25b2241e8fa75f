//! Orders placed from a cart take their lines out of it through the bus, once: lines added
//! after the checkout stay, and a redelivered message takes nothing more.

use std::time::Duration;

use chrono::Utc;
use shop_cart::{
    CartConfig, CartService,
    domain::{Cart, NewLine, Quantity, Sku},
};
use shop_kernel::Subgraph;
use shop_messaging::{
    Bus, Envelope,
    contracts::{self, CartCheckedOut, StockLine},
    memory::InMemoryBus,
};
use shop_testkit::Backend;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::{TEST_TTL, fresh_store};

fn new_line(sku: &str, quantity: i64) -> NewLine {
    NewLine {
        product_id: Uuid::from_u128(7),
        sku: Sku::parse(sku).unwrap(),
        quantity: Quantity::parse(quantity).unwrap(),
    }
}

fn quantities(cart: &Cart) -> Vec<(String, u8)> {
    cart.lines().iter().map(|l| (l.sku.as_str().to_owned(), l.quantity.get())).collect()
}

fn checked_out(cart: &Cart, order_id: &str, lines: &[(&str, i64)]) -> Envelope {
    let event = CartCheckedOut {
        cart_id: cart.id().to_string(),
        order_id: order_id.to_owned(),
        lines: lines.iter().map(|(sku, quantity)| StockLine { sku: (*sku).to_owned(), quantity: *quantity }).collect(),
    };
    Envelope::new(&event, order_id).unwrap()
}

async fn an_order_takes_its_lines_out_of_its_cart_once(backend: Backend) {
    let store = fresh_store(backend, TEST_TTL).await;
    let bus = InMemoryBus::new(contracts::topology());
    let config = CartConfig { idle_ttl_secs: TEST_TTL.as_secs(), ..CartConfig::default() };
    let service = CartService::from_parts(store.clone(), bus.clone(), &config);
    let shutdown = CancellationToken::new();
    let _workers = service.start(&shutdown).await.unwrap();

    let cart =
        Cart::with_lines(Uuid::new_v4(), Some(Uuid::new_v4()), &[new_line("A", 2), new_line("B", 1)], Utc::now())
            .unwrap();
    store.create(&cart).await.unwrap();
    // After the checkout read the cart, the customer added one more A and a C.
    let later = cart.add_lines(&[new_line("A", 1), new_line("C", 1)], Utc::now()).unwrap();
    store.replace(&later, cart.version()).await.unwrap();

    let message = checked_out(&cart, "order-1", &[("A", 2), ("B", 1)]);
    bus.publish(std::slice::from_ref(&message)).await.unwrap();
    let expected = vec![("A".to_owned(), 1), ("C".to_owned(), 1)];
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut left = Vec::new();
    while std::time::Instant::now() < deadline {
        left = quantities(&store.get(cart.id()).await.unwrap().unwrap());
        if left == expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(left, expected, "what the order bought left the cart; what came later stayed");
    let version = store.get(cart.id()).await.unwrap().unwrap().version();

    // Delivered again (a redelivery after a lost ack): nothing more leaves.
    bus.publish(&[message]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let again = store.get(cart.id()).await.unwrap().unwrap();
    assert_eq!((quantities(&again), again.version()), (expected, version));

    // A cart that is gone (expired, merged away) is not an error: there is nothing to take,
    // and nothing is parked.
    bus.publish(&[checked_out(&Cart::new(Uuid::new_v4(), None, Utc::now()), "order-2", &[("A", 1)])]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(bus.dead_letters(contracts::CART_ORDERS, 10).await.unwrap(), Vec::new());
    shutdown.cancel();
}

shop_testkit::on_backends!([memory => Memory, redis => Redis], [an_order_takes_its_lines_out_of_its_cart_once]);
