//! The envelope, the contracts and topic routing.

use shop_messaging::contracts::{self, InventoryReserve, InventoryReserved, StockLine};
use shop_messaging::envelope::EnvelopeError;
use shop_messaging::{Envelope, trace};

fn reserve() -> InventoryReserve {
    InventoryReserve { order_id: "o-1".into(), lines: vec![StockLine { sku: "SKU-1".into(), quantity: 2 }] }
}

#[test]
fn an_envelope_round_trips_through_json() {
    let envelope = Envelope::new(&reserve(), "o-1").unwrap();
    let json = envelope.to_json().unwrap();
    let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(value["type"], "inventory.reserve.v1");
    assert_eq!(value["correlationId"], "o-1");
    assert_eq!(value["payload"]["orderId"], "o-1");
    assert_eq!(value["payload"]["lines"][0]["quantity"], 2);
    assert!(value.get("occurredAt").is_some());
    assert_eq!(envelope.id.get_version_num(), 7);

    let back = Envelope::from_json(&json).unwrap();
    assert_eq!(back, envelope);
    assert!(back.is::<InventoryReserve>());
    assert_eq!(back.decode::<InventoryReserve>().unwrap(), reserve());
}

#[test]
fn decoding_as_another_type_fails() {
    let envelope = Envelope::new(&reserve(), "o-1").unwrap();
    assert!(!envelope.is::<InventoryReserved>());
    match envelope.decode::<InventoryReserved>() {
        Err(EnvelopeError::WrongType { expected, actual }) => {
            assert_eq!(expected, "inventory.reserved.v1");
            assert_eq!(actual, "inventory.reserve.v1");
        }
        other => panic!("expected WrongType, got {other:?}"),
    }
    assert!(matches!(Envelope::from_json(b"{\"nope\":1}"), Err(EnvelopeError::Decode(_))));
}

#[test]
fn a_reply_continues_the_saga_and_its_trace() {
    let cause = Envelope::new(&reserve(), "o-1").unwrap();
    let reply =
        Envelope::reply_to(&InventoryReserved { order_id: "o-1".into(), expires_at: chrono::Utc::now() }, &cause)
            .unwrap();
    assert_eq!(reply.correlation_id, "o-1");
    assert_eq!(reply.causation_id, Some(cause.id));
    let (parent, child) = (cause.traceparent.clone().unwrap(), reply.traceparent.clone().unwrap());
    assert!(trace::is_valid(&child));
    assert_eq!(child.get(3..35), parent.get(3..35), "same trace id");
    assert_ne!(child, parent);

    let custom = reply.with_traceparent(Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into()));
    assert_eq!(custom.traceparent.as_deref(), Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
}

#[test]
fn topic_patterns_match_like_rabbitmq() {
    use shop_messaging::topic::matches;
    assert!(matches("inventory.reserve.*", "inventory.reserve.v1"));
    assert!(!matches("inventory.reserve.*", "inventory.reserved.v1"));
    assert!(!matches("inventory.*", "inventory.reserve.v1"));
    assert!(matches("inventory.#", "inventory.reserve.v1"));
    assert!(matches("#", "order.updated.v1"));
    assert!(matches("order.#.v1", "order.v1"));
    assert!(matches("*.updated.*", "order.updated.v1"));
    assert!(!matches("*.updated.*", "order.updated"));
}

#[test]
fn the_topology_routes_commands_to_one_queue_and_facts_to_each_consumer() {
    use shop_messaging::topic::matches;
    let topology = contracts::topology();
    let queue_of = |kind: &str| -> Vec<String> {
        topology.iter().filter(|q| q.bindings.iter().any(|b| matches(b, kind))).map(|q| q.name.clone()).collect()
    };
    assert_eq!(queue_of("inventory.reserve.v1"), [contracts::INVENTORY_COMMANDS]);
    assert_eq!(queue_of("payment.void.v1"), [contracts::PAYMENTS_COMMANDS]);
    assert_eq!(queue_of("payment.refunded.v1"), [contracts::ORDERS_SAGA, contracts::NOTIFICATIONS_EVENTS]);
    assert_eq!(queue_of("inventory.expired.v1"), [contracts::ORDERS_SAGA]);
    // The saga confirms an order only once its stock is committed.
    assert_eq!(queue_of("inventory.committed.v1"), [contracts::ORDERS_SAGA]);
    assert_eq!(queue_of("inventory.commit_failed.v1"), [contracts::ORDERS_SAGA]);
    assert_eq!(queue_of("payment.capture_failed.v1"), [contracts::ORDERS_SAGA]);
    assert_eq!(queue_of("order.confirmed.v1"), [contracts::NOTIFICATIONS_EVENTS, contracts::REVIEWS_PURCHASES]);
    assert_eq!(queue_of("order.shipped.v1"), [contracts::NOTIFICATIONS_EVENTS]);
    assert_eq!(queue_of("user.registered.v1"), [contracts::NOTIFICATIONS_EVENTS]);
    assert!(queue_of("order.updated.v1").is_empty());
}

/// Every message kind the contracts define reaches a durable queue, so none is published only
/// to be dropped as unroutable; the one exception is `order.updated`, which every orders
/// replica reads through a queue of its own for live tracking.
#[test]
fn every_contract_kind_is_bound_to_a_queue() {
    use shop_messaging::topic::matches;
    let topology = contracts::topology();
    let source = include_str!("../../src/contracts.rs");
    let kinds: Vec<&str> = source
        .lines()
        .filter_map(|line| line.trim().split_once(" = \"").map(|(_, rest)| rest))
        .filter_map(|rest| rest.split_once('"').map(|(kind, _)| kind))
        .filter(|kind| kind.contains(".v"))
        .collect();
    assert!(kinds.len() >= 20, "found the contract kinds: {kinds:?}");
    for kind in kinds.into_iter().filter(|kind| *kind != "order.updated.v1") {
        assert!(
            topology.iter().any(|queue| queue.bindings.iter().any(|binding| matches(binding, kind))),
            "{kind} is published to no queue"
        );
    }
}
