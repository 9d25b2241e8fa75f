//! The schema settings every subgraph shares, and its SDL as composition reads it.

use async_graphql::{ObjectType, SDLExportOptions, Schema, SchemaBuilder, SubscriptionType};

/// Deepest selection a client may send (the router enforces its own limits first).
pub const MAX_DEPTH: usize = 16;

/// Costliest operation a client may send, one point per field.
pub const MAX_COMPLEXITY: usize = 5_000;

/// A Federation v2 subgraph schema with the shared depth and complexity limits; the caller adds
/// its data (use cases, DataLoaders) and finishes it.
pub fn schema_builder<Query, Mutation, Subscription>(
    query: Query,
    mutation: Mutation,
    subscription: Subscription,
) -> SchemaBuilder<Query, Mutation, Subscription>
where
    Query: ObjectType + 'static,
    Mutation: ObjectType + 'static,
    Subscription: SubscriptionType + 'static,
{
    Schema::build(query, mutation, subscription)
        .enable_federation()
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
}

/// The subgraph's SDL as composition expects it (federation directives, `@authenticated`
/// imported from the federation spec). Needs no data: build the schema without any.
pub fn sdl<Query, Mutation, Subscription>(schema: &Schema<Query, Mutation, Subscription>) -> String
where
    Query: ObjectType + 'static,
    Mutation: ObjectType + 'static,
    Subscription: SubscriptionType + 'static,
{
    crate::federation::subgraph_sdl(&schema.sdl_with_options(SDLExportOptions::new().federation().compose_directive()))
}
