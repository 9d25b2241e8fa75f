//! The schema without a socket: `User.notifications` for the user or an admin only,
//! `User.notificationPreferences` and `notificationPreferencesUpdate` for the user only.

use serde_json::{Value, json};
use shop_kernel::auth::Viewer;
use shop_testkit::{Backend, admin, customer, run_graphql};
use uuid::Uuid;

use crate::{TestApp, confirmed, error_code, order_id, spawn_app};

shop_testkit::on_sql_backends!(
    notifications_are_for_their_user_and_admins,
    notifications_page_newest_first,
    preferences_are_the_users_own,
    a_notification_by_id,
);

const NOTIFICATIONS: &str = "query($reps: [_Any!]!, $first: Int, $after: String) { _entities(representations: $reps) {
    ... on User { id notifications(first: $first, after: $after) {
        edges { cursor node { id channel kind category status subject recipient attempts failureReason createdAt sentAt } }
        pageInfo { hasNextPage hasPreviousPage endCursor } } } } }";

fn reps(user: Uuid) -> Value {
    json!({ "reps": [{ "__typename": "User", "id": user.to_string() }], "first": 10 })
}

/// A user with a welcome and an order confirmation, both sent.
async fn seeded(app: &TestApp) -> Uuid {
    let user = Uuid::new_v4();
    app.register(user, "Quinn").await;
    app.deliver(&confirmed(&order_id(), user)).await.unwrap();
    app.drain().await;
    user
}

async fn notifications_are_for_their_user_and_admins(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = seeded(&app).await;

    let body = run_graphql(&app.service.schema, &customer(user), NOTIFICATIONS, reps(user)).await;
    assert!(body.get("errors").is_none(), "{body}");
    let edges = body["data"]["_entities"][0]["notifications"]["edges"].as_array().unwrap().clone();
    assert_eq!(edges.len(), 2);
    let newest = &edges[0]["node"];
    assert_eq!(newest["kind"], "ORDER_CONFIRMED");
    assert_eq!(newest["channel"], "EMAIL");
    assert_eq!(newest["category"], "TRANSACTIONAL");
    assert_eq!(newest["status"], "SENT");
    assert_eq!(newest["attempts"], 1);
    assert_eq!(newest["recipient"], format!("{}@example.test", user.simple()));
    assert_eq!(newest["failureReason"], Value::Null);
    assert!(newest["sentAt"].is_string());
    assert_eq!(edges[1]["node"]["kind"], "WELCOME");

    let body = run_graphql(&app.service.schema, &admin(), NOTIFICATIONS, reps(user)).await;
    assert_eq!(body["data"]["_entities"][0]["notifications"]["edges"].as_array().unwrap().len(), 2, "{body}");

    let body = run_graphql(&app.service.schema, &customer(Uuid::new_v4()), NOTIFICATIONS, reps(user)).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    assert_eq!(body["data"]["_entities"][0]["id"], user.to_string(), "the refusal nulls the field, not the entity");
    let body = run_graphql(&app.service.schema, &Viewer::Anonymous, NOTIFICATIONS, reps(user)).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
}

async fn notifications_page_newest_first(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = seeded(&app).await;
    let viewer = customer(user);
    let mut variables = reps(user);
    variables["first"] = json!(1);
    let first = run_graphql(&app.service.schema, &viewer, NOTIFICATIONS, variables.clone()).await;
    let page = &first["data"]["_entities"][0]["notifications"];
    assert_eq!(page["edges"][0]["node"]["kind"], "ORDER_CONFIRMED", "{first}");
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    variables["after"] = page["pageInfo"]["endCursor"].clone();
    let second = run_graphql(&app.service.schema, &viewer, NOTIFICATIONS, variables.clone()).await;
    let page = &second["data"]["_entities"][0]["notifications"];
    assert_eq!(page["edges"][0]["node"]["kind"], "WELCOME", "{second}");
    assert_eq!(page["pageInfo"]["hasNextPage"], false);

    variables["first"] = json!(101);
    let body = run_graphql(&app.service.schema, &viewer, NOTIFICATIONS, variables).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "pages are capped at 100: {body}");
}

const PREFERENCES: &str = "query($reps: [_Any!]!) { _entities(representations: $reps) {
    ... on User { notificationPreferences { marketing updatedAt } } } }";
const UPDATE: &str =
    "mutation($marketing: Boolean!) { notificationPreferencesUpdate(input: { marketing: $marketing }) {
    preferences { marketing updatedAt } userErrors { field message code } } }";

async fn preferences_are_the_users_own(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = Uuid::new_v4();
    let reps = json!({ "reps": [{ "__typename": "User", "id": user.to_string() }] });

    let body = run_graphql(&app.service.schema, &customer(user), PREFERENCES, reps.clone()).await;
    assert_eq!(
        body["data"]["_entities"][0]["notificationPreferences"],
        json!({ "marketing": true, "updatedAt": null }),
        "{body}"
    );

    let body = run_graphql(&app.service.schema, &customer(user), UPDATE, json!({ "marketing": false })).await;
    let payload = &body["data"]["notificationPreferencesUpdate"];
    assert_eq!(payload["userErrors"], json!([]), "{body}");
    assert_eq!(payload["preferences"]["marketing"], false);
    assert!(payload["preferences"]["updatedAt"].is_string());
    let body = run_graphql(&app.service.schema, &customer(user), PREFERENCES, reps.clone()).await;
    assert_eq!(body["data"]["_entities"][0]["notificationPreferences"]["marketing"], false, "{body}");
    assert!(!app.service.store.preferences(&user.to_string()).await.unwrap().marketing);

    for viewer in [customer(Uuid::new_v4()), admin()] {
        let body = run_graphql(&app.service.schema, &viewer, PREFERENCES, reps.clone()).await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    }
    let body = run_graphql(&app.service.schema, &Viewer::Anonymous, UPDATE, json!({ "marketing": true })).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    assert!(!app.service.store.preferences(&user.to_string()).await.unwrap().marketing, "unchanged");
}

const BY_ID: &str = "query($id: ID!) { notification(id: $id) { id kind status } }";

async fn a_notification_by_id(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = seeded(&app).await;
    let id = app.notifications_of(user).await[0].id.to_string();
    let body = run_graphql(&app.service.schema, &customer(user), BY_ID, json!({ "id": id })).await;
    assert_eq!(body["data"]["notification"]["id"], id, "{body}");
    let body = run_graphql(&app.service.schema, &admin(), BY_ID, json!({ "id": id })).await;
    assert_eq!(body["data"]["notification"]["kind"], "ORDER_CONFIRMED", "{body}");
    let body = run_graphql(&app.service.schema, &customer(Uuid::new_v4()), BY_ID, json!({ "id": id })).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let body =
        run_graphql(&app.service.schema, &customer(user), BY_ID, json!({ "id": Uuid::now_v7().to_string() })).await;
    assert_eq!(body["data"]["notification"], Value::Null, "{body}");
}

#[tokio::test]
async fn the_sdl_extends_user() {
    let sdl = <shop_notifications::NotificationsService as shop_kernel::Subgraph>::sdl();
    for expected in [
        "type User @key(fields: \"id\")",
        "notifications(first: Int, after: String): NotificationConnection! @authenticated",
        "notificationPreferences: NotificationPreferences! @authenticated",
        "notificationPreferencesUpdate(input: NotificationPreferencesUpdateInput!): NotificationPreferencesUpdatePayload! @authenticated",
        "enum NotificationStatus",
        "enum NotificationKind",
        "enum NotificationChannel",
        "enum NotificationCategory",
        "\"@authenticated\"]",
    ] {
        assert!(sdl.contains(expected), "{expected:?} missing in\n{sdl}");
    }
}
