//! Tables of the embedded user store. The user itself is kept whole as JSON; the columns beside
//! it exist to look up, search, sort and enforce uniqueness. Times are integer milliseconds so
//! they compare as numbers on every backend.

pub mod account {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "users_accounts")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// The lower-cased email: unique.
        #[sea_orm(unique)]
        pub email_key: String,
        /// The lower-cased name, for prefix search.
        pub name_key: String,
        pub created_at_ms: i64,
        pub version: i64,
        /// The whole `User` as JSON.
        #[sea_orm(column_type = "Text")]
        pub document: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod refresh_token {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "users_refresh_tokens")]
    pub struct Model {
        /// Hex SHA-256 of the token.
        #[sea_orm(primary_key, auto_increment = false)]
        pub hash: String,
        pub user_id: String,
        pub family_id: String,
        pub issued_at_ms: i64,
        pub expires_at_ms: i64,
        pub spent: bool,
        pub revoked: bool,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
