# syntax=docker/dockerfile:1
#
# One image for every process of the shop: `shop` (all-in-one launcher, default), `catalog`,
# `inventory`, `users`, `cart` and `shop-router`; pick one with the container command (see docker-compose.yml).
#
#   docker build -t shop:local .
#   docker run --rm -p 4000:4000 shop:local            # embedded mode, everything in one process

# ---------------------------------------------------------------------------------------------
# Build: the whole workspace in release. hive-router's build script would run npm for the
# Laboratory unless its `graphiql` feature is on; the workspace enables it, so no Node needed.
FROM rust:1.95-bookworm AS builder
WORKDIR /src
ENV CARGO_TARGET_DIR=/src/target \
    CARGO_TERM_COLOR=never

COPY . .

# Registry, git checkouts and target/ live in BuildKit cache mounts so rebuilds are incremental.
# target/ is a cache mount (not part of the image layer), so the binaries are copied out here.
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked --workspace --bins \
 && mkdir -p /out \
 && cp target/release/shop \
       target/release/users \
       target/release/catalog \
       target/release/inventory \
       target/release/cart \
       target/release/orders \
       target/release/payments \
       target/release/notifications \
       target/release/reviews \
       target/release/shop-router \
       /out/

# ---------------------------------------------------------------------------------------------
# Runtime: same Debian release as the builder (glibc match). curl is only for container
# health checks (docker-compose.yml uses it against /health/ready and /readiness).
FROM debian:bookworm-slim AS runtime

RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 shop \
 && useradd --system --uid 10001 --gid shop --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin shop

WORKDIR /app

COPY --from=builder /out/ /usr/local/bin/
COPY schema/ /app/schema/
COPY router/router.yaml /app/router/router.yaml
COPY seed/ /app/seed/

# data/ holds the embedded SQLite stores (the default DATABASE_URLs are sqlite://data/...).
# /keys holds the users service's signing key (a named volume in docker-compose.yml inherits
# this ownership).
RUN mkdir -p /app/data /keys && chown shop:shop /app/data /keys

USER shop:shop

# router.yaml resolves `../schema/supergraph.graphql` against its own folder: /app/schema/...
ENV ROUTER_CONFIG_FILE_PATH=/app/router/router.yaml

# 4000 router (GraphQL, Laboratory, /metrics, /health, /readiness); 4001 users; 4002 catalog;
# 4003 inventory; 4004 cart; 4005 orders; 4006 payments; 4007 notifications; 4008 reviews.
EXPOSE 4000 4001 4002 4003 4004 4005 4006 4007 4008

CMD ["shop"]
