//! The cart schema without a socket: guest and signed-in flows, who may see and change
//! which cart, user errors, optimistic concurrency and `User` entities.

use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use serde_json::{Value, json};
use shop_cart::{
    CartConfig, CartService,
    domain::Cart,
    store::{CartStore, MemoryCartStore, MergeError, SaveError, StoreError},
};
use shop_kernel::{Subgraph, auth::Viewer};
use shop_testkit::{Backend, admin, customer, run_graphql};
use uuid::Uuid;

use crate::{TEST_TTL, fresh_store};

const CART: &str =
    "id version totalQuantity createdAt updatedAt expiresAt lines { id sku quantity product { id } variant { sku } }";
const ERRORS: &str = "userErrors { field message code }";

fn create_op() -> String {
    format!("mutation($input: CartCreateInput) {{ cartCreate(input: $input) {{ cart {{ {CART} }} {ERRORS} }} }}")
}

fn add_op() -> String {
    format!(
        "mutation($id: ID!, $lines: [CartLineInput!]!, $v: Int) {{
            cartLinesAdd(cartId: $id, lines: $lines, expectedVersion: $v) {{ cart {{ {CART} }} {ERRORS} }} }}"
    )
}

fn update_op() -> String {
    format!(
        "mutation($id: ID!, $lines: [CartLineUpdateInput!]!, $v: Int) {{
            cartLinesUpdate(cartId: $id, lines: $lines, expectedVersion: $v) {{ cart {{ {CART} }} {ERRORS} }} }}"
    )
}

fn remove_op() -> String {
    format!(
        "mutation($id: ID!, $lineIds: [ID!], $skus: [String!], $v: Int) {{
            cartLinesRemove(cartId: $id, lineIds: $lineIds, skus: $skus, expectedVersion: $v) {{ cart {{ {CART} }} {ERRORS} }} }}"
    )
}

fn clear_op() -> String {
    format!(
        "mutation($id: ID!, $v: Int) {{ cartClear(cartId: $id, expectedVersion: $v) {{ cart {{ {CART} }} {ERRORS} }} }}"
    )
}

fn merge_op() -> String {
    format!(
        "mutation($guest: ID!, $v: Int) {{ cartMerge(guestCartId: $guest, expectedVersion: $v) {{ cart {{ {CART} }} {ERRORS} }} }}"
    )
}

fn cart_query() -> String {
    format!("query($id: ID!) {{ cart(id: $id) {{ {CART} }} }}")
}

const ENTITIES: &str = r#"query($r: [_Any!]!) { _entities(representations: $r) {
    ... on User { id cart { id totalQuantity lines { sku quantity } } } } }"#;

const PRODUCT: &str = "2b0c7c3e-58a6-4c3e-9a4b-3c1d2e4f5a6b";
const OTHER_PRODUCT: &str = "5d1e8f2a-7b3c-4d5e-8f6a-1b2c3d4e5f60";

fn line(sku: &str, quantity: i64) -> Value {
    json!({ "productId": PRODUCT, "sku": sku, "quantity": quantity })
}

struct Api {
    service: CartService,
}

impl Api {
    fn over(store: Arc<dyn CartStore>) -> Self {
        Self {
            service: CartService::from_parts(
                store,
                shop_messaging::memory::InMemoryBus::new(shop_messaging::contracts::topology()),
                &CartConfig { idle_ttl_secs: TEST_TTL.as_secs(), ..CartConfig::default() },
            ),
        }
    }

    async fn new(backend: Backend) -> Self {
        Self::over(fresh_store(backend, TEST_TTL).await)
    }

    /// Runs a mutation and returns its payload.
    async fn mutate(&self, viewer: &Viewer, query: &str, variables: Value) -> Value {
        let body = run_graphql(&self.service.schema, viewer, query, variables).await;
        let data = body["data"].as_object().unwrap_or_else(|| panic!("no data: {body}"));
        assert!(body.get("errors").is_none(), "{body}");
        data.values().next().unwrap().clone()
    }

    /// A new cart with `lines`, created by `viewer`.
    async fn create(&self, viewer: &Viewer, lines: Value) -> Value {
        let payload = self.mutate(viewer, &create_op(), json!({ "input": { "lines": lines } })).await;
        assert_eq!(payload["userErrors"], json!([]), "{payload}");
        payload["cart"].clone()
    }

    async fn stored(&self, id: &Value) -> Option<Cart> {
        self.service.store.get(Uuid::parse_str(id.as_str().unwrap()).unwrap()).await.unwrap()
    }
}

fn error_codes(body: &Value) -> Vec<String> {
    body["errors"].as_array().map_or_else(Vec::new, |errors| {
        errors.iter().map(|e| e["extensions"]["code"].as_str().unwrap_or_default().to_owned()).collect()
    })
}

fn user_errors(payload: &Value) -> Vec<(Value, String)> {
    payload["userErrors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].clone(), e["code"].as_str().unwrap().to_owned()))
        .collect()
}

fn skus(cart: &Value) -> Vec<(String, i64)> {
    cart["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["sku"].as_str().unwrap().to_owned(), l["quantity"].as_i64().unwrap()))
        .collect()
}

fn pairs(list: &[(&str, i64)]) -> Vec<(String, i64)> {
    list.iter().map(|(sku, q)| ((*sku).to_owned(), *q)).collect()
}

async fn guest_flow(backend: Backend) {
    let api = Api::new(backend).await;
    let guest = Viewer::Anonymous;
    let cart = api.create(&guest, json!([line("TEE-M", 2), line("MUG", 1)])).await;
    let id = cart["id"].clone();
    assert_eq!(Uuid::parse_str(id.as_str().unwrap()).unwrap().get_version_num(), 4, "guest cart ids are random");
    assert_eq!((cart["version"].clone(), cart["totalQuantity"].clone()), (json!(1), json!(3)));
    assert_eq!(cart["lines"][0]["product"], json!({ "id": PRODUCT }), "products are references for the catalog");
    assert_eq!(cart["lines"][0]["variant"], json!({ "sku": "TEE-M" }));
    assert!(cart["expiresAt"].as_str().unwrap() > cart["updatedAt"].as_str().unwrap());

    let added = api.mutate(&guest, &add_op(), json!({ "id": id, "lines": [line("TEE-M", 3), line("CAP", 1)] })).await;
    assert_eq!(skus(&added["cart"]), pairs(&[("TEE-M", 5), ("MUG", 1), ("CAP", 1)]), "{added}");
    assert_eq!(added["cart"]["version"], 2);

    let mug_line = added["cart"]["lines"][1]["id"].clone();
    let updated = api
        .mutate(&guest, &update_op(), json!({ "id": id, "lines": [{ "lineId": mug_line, "quantity": 4 }, { "sku": "CAP", "quantity": 2 }], "v": 2 }))
        .await;
    assert_eq!(skus(&updated["cart"]), pairs(&[("TEE-M", 5), ("MUG", 4), ("CAP", 2)]), "{updated}");

    let removed = api.mutate(&guest, &remove_op(), json!({ "id": id, "skus": ["TEE-M"], "lineIds": [mug_line] })).await;
    assert_eq!(skus(&removed["cart"]), pairs(&[("CAP", 2)]), "{removed}");
    assert_eq!(removed["cart"]["version"], 4);

    let read = run_graphql(&api.service.schema, &customer(Uuid::new_v4()), &cart_query(), json!({ "id": id })).await;
    assert_eq!(read["data"]["cart"], removed["cart"], "anyone holding a guest cart's id may read it");

    let cleared = api.mutate(&guest, &clear_op(), json!({ "id": id })).await;
    assert_eq!((cleared["cart"]["totalQuantity"].clone(), cleared["cart"]["version"].clone()), (json!(0), json!(5)));

    for unknown in [json!(Uuid::new_v4().to_string()), json!("not-a-cart-id")] {
        let body = run_graphql(&api.service.schema, &guest, &cart_query(), json!({ "id": unknown })).await;
        assert_eq!(body, json!({ "data": { "cart": null } }));
    }
}

shop_testkit::on_backends!([memory => Memory, redis => Redis], [guest_flow, merge_flow]);

#[tokio::test]
async fn a_signed_in_caller_has_one_cart() {
    let api = Api::new(Backend::Memory).await;
    let me = customer(Uuid::new_v4());
    let first = api.create(&me, json!([line("A", 1)])).await;
    let again = api.create(&me, json!([line("A", 2), line("B", 1)])).await;
    assert_eq!(again["id"], first["id"], "cartCreate returns the caller's cart");
    assert_eq!(skus(&again), pairs(&[("A", 3), ("B", 1)]), "with the new lines added");
    let empty = api.create(&me, json!(null)).await;
    assert_eq!((empty["id"].clone(), empty["version"].clone()), (first["id"].clone(), json!(2)), "no lines: no change");
    let someone_else = api.create(&customer(Uuid::new_v4()), json!([])).await;
    assert_ne!(someone_else["id"], first["id"]);
}

#[tokio::test]
async fn another_customers_cart_is_forbidden_and_unchanged() {
    let api = Api::new(Backend::Memory).await;
    let owner = customer(Uuid::new_v4());
    let cart = api.create(&owner, json!([line("A", 1)])).await;
    let id = cart["id"].clone();

    for intruder in [customer(Uuid::new_v4()), Viewer::Anonymous] {
        let body = run_graphql(&api.service.schema, &intruder, &cart_query(), json!({ "id": id })).await;
        assert_eq!(error_codes(&body), ["FORBIDDEN"], "{body}");
        assert_eq!(body["data"]["cart"], Value::Null);
        for (op, variables) in [
            (add_op(), json!({ "id": id, "lines": [line("B", 1)] })),
            (update_op(), json!({ "id": id, "lines": [{ "sku": "A", "quantity": 9 }] })),
            (remove_op(), json!({ "id": id, "skus": ["A"] })),
            (clear_op(), json!({ "id": id })),
        ] {
            let body = run_graphql(&api.service.schema, &intruder, &op, variables).await;
            assert_eq!(error_codes(&body), ["FORBIDDEN"], "{body}");
        }
    }
    let admin = admin();
    let body = run_graphql(&api.service.schema, &admin, &cart_query(), json!({ "id": id })).await;
    assert_eq!(body["data"]["cart"], cart, "an admin may read any cart");
    let body = run_graphql(&api.service.schema, &admin, &clear_op(), json!({ "id": id })).await;
    assert_eq!(error_codes(&body), ["FORBIDDEN"], "but not change someone else's");

    let stored = api.stored(&id).await.unwrap();
    assert_eq!((stored.version(), stored.total_quantity()), (1, 1), "nothing changed");
}

#[tokio::test]
async fn merging_needs_a_signed_in_user() {
    let api = Api::new(Backend::Memory).await;
    let guest = api.create(&Viewer::Anonymous, json!([line("A", 1)])).await;
    let body = run_graphql(&api.service.schema, &Viewer::Anonymous, &merge_op(), json!({ "guest": guest["id"] })).await;
    assert_eq!(error_codes(&body), ["UNAUTHENTICATED"], "{body}");
    assert!(api.stored(&guest["id"]).await.is_some(), "the guest cart is untouched");
}

async fn merge_flow(backend: Backend) {
    let api = Api::new(backend).await;
    let me = customer(Uuid::new_v4());
    let guest = api.create(&Viewer::Anonymous, json!([line("A", 60), line("G", 1)])).await;

    // Into no cart: the guest's lines become the user's new cart.
    let payload = api.mutate(&me, &merge_op(), json!({ "guest": guest["id"] })).await;
    let mine = payload["cart"].clone();
    assert_ne!(mine["id"], guest["id"]);
    assert_eq!((skus(&mine), mine["version"].clone()), (pairs(&[("A", 60), ("G", 1)]), json!(1)), "{payload}");
    assert_eq!(
        run_graphql(&api.service.schema, &me, &cart_query(), json!({ "id": guest["id"] })).await["data"]["cart"],
        Value::Null
    );

    // Into an existing cart: summed and capped at 99.
    let guest = api.create(&Viewer::Anonymous, json!([line("A", 50), line("N", 2)])).await;
    let stale = api.mutate(&me, &merge_op(), json!({ "guest": guest["id"], "v": 7 })).await;
    assert_eq!(user_errors(&stale), [(json!(["expectedVersion"]), "VERSION_CONFLICT".to_owned())]);
    let payload = api.mutate(&me, &merge_op(), json!({ "guest": guest["id"], "v": 1 })).await;
    assert_eq!(payload["cart"]["id"], mine["id"]);
    assert_eq!(skus(&payload["cart"]), pairs(&[("A", 99), ("G", 1), ("N", 2)]), "{payload}");
    assert!(api.stored(&guest["id"]).await.is_none(), "the guest cart is deleted");

    let again = api.mutate(&me, &merge_op(), json!({ "guest": guest["id"] })).await;
    assert_eq!(user_errors(&again), [(json!(["guestCartId"]), "CART_NOT_FOUND".to_owned())]);

    // Another user's cart is not a guest cart.
    let body =
        run_graphql(&api.service.schema, &customer(Uuid::new_v4()), &merge_op(), json!({ "guest": mine["id"] })).await;
    assert_eq!(error_codes(&body), ["FORBIDDEN"], "{body}");
    assert_eq!(api.stored(&mine["id"]).await.unwrap().version(), 2);
}

#[tokio::test]
async fn bad_input_is_a_user_error_and_changes_nothing() {
    let api = Api::new(Backend::Memory).await;
    let guest = Viewer::Anonymous;
    let cart = api.create(&guest, json!([line("A", 98)])).await;
    let id = cart["id"].clone();
    let code = |code: &str| code.to_owned();

    let cases = [
        (
            add_op(),
            json!({ "id": id, "lines": [line("B", 0)] }),
            vec![(json!(["lines", "0", "quantity"]), code("INVALID_QUANTITY"))],
        ),
        (
            add_op(),
            json!({ "id": id, "lines": [line("B", 1), line("C", 100)] }),
            vec![(json!(["lines", "1", "quantity"]), code("INVALID_QUANTITY"))],
        ),
        (
            add_op(),
            json!({ "id": id, "lines": [line("A", 2)] }),
            vec![(json!(["lines", "0", "quantity"]), code("INVALID_QUANTITY"))],
        ),
        (
            add_op(),
            json!({ "id": id, "lines": [{ "productId": "nope", "sku": "bad sku", "quantity": 1 }] }),
            vec![
                (json!(["lines", "0", "productId"]), code("INVALID")),
                (json!(["lines", "0", "sku"]), code("INVALID")),
            ],
        ),
        (
            add_op(),
            json!({ "id": id, "lines": [{ "productId": OTHER_PRODUCT, "sku": "A", "quantity": 1 }] }),
            vec![(json!(["lines", "0", "productId"]), code("INVALID"))],
        ),
        (add_op(), json!({ "id": id, "lines": [] }), vec![(json!(["lines"]), code("INVALID"))]),
        (
            add_op(),
            json!({ "id": id, "lines": (0..100).map(|i| line(&format!("S-{i}"), 1)).collect::<Vec<_>>() }),
            vec![(json!(["lines"]), code("TOO_MANY_LINES"))],
        ),
        (
            add_op(),
            json!({ "id": id, "lines": (0..101).map(|i| line(&format!("S-{i}"), 1)).collect::<Vec<_>>() }),
            vec![(json!(["lines"]), code("TOO_MANY_LINES"))],
        ),
        (
            update_op(),
            json!({ "id": id, "lines": [{ "sku": "Z", "quantity": 1 }] }),
            vec![(json!(["lines", "0"]), code("LINE_NOT_FOUND"))],
        ),
        (
            update_op(),
            json!({ "id": id, "lines": [{ "sku": "A", "lineId": "x", "quantity": 1 }, { "sku": "A", "quantity": 0 }] }),
            vec![
                (json!(["lines", "0"]), code("INVALID")),
                (json!(["lines", "1", "quantity"]), code("INVALID_QUANTITY")),
            ],
        ),
        (
            remove_op(),
            json!({ "id": id, "lineIds": [Uuid::new_v4().to_string()], "skus": ["A"] }),
            vec![(json!(["lineIds", "0"]), code("LINE_NOT_FOUND"))],
        ),
        (remove_op(), json!({ "id": id, "skus": ["A", "NOPE"] }), vec![(json!(["skus", "1"]), code("LINE_NOT_FOUND"))]),
        (clear_op(), json!({ "id": Uuid::new_v4().to_string() }), vec![(json!(["cartId"]), code("CART_NOT_FOUND"))]),
        (clear_op(), json!({ "id": "not-an-id" }), vec![(json!(["cartId"]), code("CART_NOT_FOUND"))]),
    ];
    for (op, variables, expected) in cases {
        let payload = api.mutate(&guest, &op, variables.clone()).await;
        assert_eq!(user_errors(&payload), expected, "{variables}: {payload}");
        assert_eq!(payload["cart"], Value::Null);
    }
    let payload =
        api.mutate(&guest, &create_op(), json!({ "input": { "lines": [line("A", 1), line("B", -1)] } })).await;
    assert_eq!(user_errors(&payload), [(json!(["input", "lines", "1", "quantity"]), code("INVALID_QUANTITY"))]);

    let stored = api.stored(&id).await.unwrap();
    assert_eq!((stored.version(), stored.total_quantity()), (1, 98), "refused changes change nothing");
}

#[tokio::test]
async fn a_stale_expected_version_is_a_conflict() {
    let api = Api::new(Backend::Memory).await;
    let me = customer(Uuid::new_v4());
    let id = api.create(&me, json!([line("A", 1)])).await["id"].clone();
    let payload = api.mutate(&me, &add_op(), json!({ "id": id, "lines": [line("B", 1)], "v": 1 })).await;
    assert_eq!(payload["cart"]["version"], 2);

    for (op, variables) in [
        (add_op(), json!({ "id": id, "lines": [line("C", 1)], "v": 1 })),
        (update_op(), json!({ "id": id, "lines": [{ "sku": "A", "quantity": 5 }], "v": 1 })),
        (remove_op(), json!({ "id": id, "skus": ["A"], "v": 3 })),
        (clear_op(), json!({ "id": id, "v": 1 })),
    ] {
        let payload = api.mutate(&me, &op, variables).await;
        assert_eq!(user_errors(&payload), [(json!(["expectedVersion"]), "VERSION_CONFLICT".to_owned())], "{payload}");
    }
    let stored = api.stored(&id).await.unwrap();
    assert_eq!((stored.version(), stored.total_quantity()), (2, 2), "nothing changed");
    let payload = api.mutate(&me, &clear_op(), json!({ "id": id, "v": 2 })).await;
    assert_eq!(payload["cart"]["version"], 3);
}

/// Without `expectedVersion`, concurrent changes of one cart are retried until each lands.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_changes_without_an_expected_version_all_land() {
    let api = Arc::new(Api::new(Backend::Redis).await);
    let id = api.create(&Viewer::Anonymous, json!([])).await["id"].clone();
    let writers = (0..8).map(|i| {
        let (api, id) = (api.clone(), id.clone());
        tokio::spawn(async move {
            api.mutate(&Viewer::Anonymous, &add_op(), json!({ "id": id, "lines": [line(&format!("W-{i}"), 1)] })).await
        })
    });
    for payload in futures::future::join_all(writers).await {
        let payload = payload.unwrap();
        assert_eq!(payload["userErrors"], json!([]), "{payload}");
    }
    let stored = api.stored(&id).await.unwrap();
    assert_eq!((stored.version(), stored.lines().len()), (9, 8));
}

/// A store that counts `carts_of_users` calls, to prove entity batching.
struct Counting {
    inner: MemoryCartStore,
    user_lookups: AtomicUsize,
}

#[async_trait::async_trait]
impl CartStore for Counting {
    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping().await
    }
    async fn get(&self, id: Uuid) -> Result<Option<Cart>, StoreError> {
        self.inner.get(id).await
    }
    async fn carts_of_users(&self, users: &[Uuid]) -> Result<HashMap<Uuid, Cart>, StoreError> {
        self.user_lookups.fetch_add(1, Ordering::SeqCst);
        self.inner.carts_of_users(users).await
    }
    async fn create(&self, cart: &Cart) -> Result<Cart, StoreError> {
        self.inner.create(cart).await
    }
    async fn replace(&self, cart: &Cart, base_version: i64) -> Result<(), SaveError> {
        self.inner.replace(cart, base_version).await
    }
    async fn merge(&self, merged: &Cart, base_version: Option<i64>, guest: &Cart) -> Result<(), MergeError> {
        self.inner.merge(merged, base_version, guest).await
    }
}

#[tokio::test]
async fn user_entities_show_the_cart_to_its_owner_and_admins() {
    let store = Arc::new(Counting { inner: MemoryCartStore::new(TEST_TTL), user_lookups: AtomicUsize::new(0) });
    let api = Api::over(store.clone());
    let (alice, bob, carol) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let alice_cart = api.create(&customer(alice), json!([line("A", 2)])).await;
    api.create(&customer(bob), json!([line("B", 1), line("C", 1)])).await;
    let reps = |users: &[Uuid]| json!({ "r": users.iter().map(|u| json!({ "__typename": "User", "id": u.to_string() })).collect::<Vec<_>>() });

    let body = run_graphql(&api.service.schema, &customer(alice), ENTITIES, reps(&[alice])).await;
    assert_eq!(
        body["data"]["_entities"],
        json!([{ "id": alice.to_string(), "cart": { "id": alice_cart["id"], "totalQuantity": 2, "lines": [{ "sku": "A", "quantity": 2 }] } }]),
        "{body}"
    );

    // Refusals null only the cart they concern, so one batch can mix users.
    let body = run_graphql(&api.service.schema, &customer(alice), ENTITIES, reps(&[bob, alice])).await;
    assert_eq!(error_codes(&body), ["FORBIDDEN"], "{body}");
    // (async-graphql leaves the entity's index out of the error path and the nulled field
    // out of the entity.)
    assert_eq!(body["errors"][0]["path"].as_array().unwrap().last(), Some(&json!("cart")), "{body}");
    assert_eq!(body["data"]["_entities"][0]["id"], json!(bob.to_string()), "{body}");
    assert_eq!(body["data"]["_entities"][0]["cart"], Value::Null, "{body}");
    assert_eq!(body["data"]["_entities"][1]["cart"]["id"], alice_cart["id"], "{body}");
    let body = run_graphql(&api.service.schema, &Viewer::Anonymous, ENTITIES, reps(&[alice])).await;
    assert_eq!(error_codes(&body), ["UNAUTHENTICATED"], "{body}");
    assert_eq!(body["data"]["_entities"][0]["cart"], Value::Null, "{body}");

    store.user_lookups.store(0, Ordering::SeqCst);
    let body = run_graphql(&api.service.schema, &admin(), ENTITIES, reps(&[alice, bob, carol])).await;
    let totals: Vec<Value> =
        body["data"]["_entities"].as_array().unwrap().iter().map(|u| u["cart"]["totalQuantity"].clone()).collect();
    assert_eq!(totals, [json!(2), json!(2), Value::Null], "{body}");
    assert_eq!(store.user_lookups.load(Ordering::SeqCst), 1, "three users, one store call");
}

#[test]
fn the_sdl_references_catalog_entities_and_guards_user_cart() {
    let sdl = CartService::sdl();
    for expected in [
        r#"type Product @key(fields: "id", resolvable: false)"#,
        r#"type ProductVariant @key(fields: "sku", resolvable: false)"#,
        r#"type User @key(fields: "id")"#,
        r#"cart: Cart @requiresScopes(scopes: [["customer"], ["admin"]])"#,
        "cartMerge(guestCartId: ID!, expectedVersion: Int): CartMergePayload!",
    ] {
        assert!(sdl.contains(expected), "missing `{expected}` in\n{sdl}");
    }
    assert!(!sdl.contains("price:") && !sdl.contains("price("), "the cart stores no price");
}
