//! What the database itself refuses, whatever the code does: refunds beyond the capture,
//! captures beyond the authorization, unknown statuses, and a second operation of a kind
//! under one idempotency key.

use sea_orm::ConnectionTrait;
use shop_testkit::Backend;
use uuid::Uuid;

use crate::spawn_app;

async fn constraints_guard_the_amounts(backend: Backend) {
    let app = spawn_app(backend).await;
    let order = app.captured_order(Uuid::new_v4(), 1000).await;
    let db = app.service.store.connection();
    let guarded = [
        format!("UPDATE payments SET refunded_minor = captured_minor + 1 WHERE order_id = '{order}'"),
        format!("UPDATE payments SET refunded_minor = -1 WHERE order_id = '{order}'"),
        format!("UPDATE payments SET captured_minor = authorized_minor + 1 WHERE order_id = '{order}'"),
        format!("UPDATE payments SET status = 'SETTLED' WHERE order_id = '{order}'"),
        format!("UPDATE payments SET failure_code = 'OOPS' WHERE order_id = '{order}'"),
        // The same operation under the same key again: the last line against double charges.
        format!(
            "INSERT INTO payment_operations (id, payment_id, order_id, operation, idempotency_key, amount_minor, outcome, created_at, updated_at)
             SELECT '{}', id, order_id, 'AUTHORIZE', order_id, 1000, 'SUCCEEDED', created_at, created_at FROM payments WHERE order_id = '{order}'",
            Uuid::now_v7()
        ),
    ];
    for statement in guarded {
        assert!(db.execute_unprepared(&statement).await.is_err(), "the database accepted: {statement}");
    }
    let payment = app.service.store.by_order(&order).await.unwrap().unwrap();
    assert_eq!((payment.captured_minor, payment.refunded_minor), (1000, 0));
    assert_eq!(app.service.store.operations(&order).await.unwrap().len(), 2);
}

shop_testkit::on_sql_backends!(constraints_guard_the_amounts);
