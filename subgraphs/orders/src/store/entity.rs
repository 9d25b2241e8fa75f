//! sea-orm entities of the orders tables (created by `migrations/orders`).

pub mod order {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "orders_orders")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub user_id: String,
        pub idempotency_key: String,
        pub request_hash: String,
        pub status: String,
        pub payment_status: String,
        pub currency: String,
        pub subtotal_minor: i64,
        pub shipping_minor: i64,
        pub tax_minor: i64,
        pub total_minor: i64,
        pub tax_rate_bp: i32,
        #[sea_orm(column_type = "Text")]
        pub shipping_address: String,
        pub payment_token: Option<String>,
        pub payment_id: Option<String>,
        pub refunded_minor: i64,
        pub tracking_number: Option<String>,
        pub cancellation_reason: Option<String>,
        pub deadline_at: Option<DateTimeUtc>,
        pub version: i64,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod line {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "orders_order_lines")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub order_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub position: i32,
        pub product_id: String,
        pub sku: String,
        #[sea_orm(column_type = "Text")]
        pub product_name: String,
        #[sea_orm(column_type = "Text")]
        pub variant_name: String,
        pub quantity: i64,
        pub unit_price_minor: i64,
        pub line_subtotal_minor: i64,
        pub tax_minor: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod event {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "orders_order_events")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub order_id: String,
        pub status: String,
        pub note: Option<String>,
        pub at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
