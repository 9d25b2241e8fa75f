//! The contract every subgraph implements, so that every process that runs subgraphs (each
//! service's own binary, the all-in-one launcher, `export-schema`, the end-to-end stack)
//! treats them alike.
//!
//! A subgraph is built from its settings ([`Subgraph::build`]), serves one axum app
//! ([`Subgraph::app`]: GraphQL, health, metrics and routes of its own), may run background
//! workers ([`Subgraph::start`]: outbox relays, consumers, sweepers) and knows its SDL without
//! touching any store ([`Subgraph::sdl`]). [`run`] is a whole service's `main`.
//!
//! [`SubgraphKind`] erases the types, so a composition root can hold the list of every
//! subgraph and loop over it.

use std::{any::Any, collections::HashMap, sync::Arc};

use anyhow::Context as _;
use async_trait::async_trait;
use axum::{Router, http::Extensions};
use futures::future::BoxFuture;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::{
    auth::TokenVerifier,
    config::{self, ConfigError, Environment, Settings},
    health::Readiness,
    server,
};

/// The background tasks a subgraph started; each ends after the shutdown token is cancelled.
pub type Workers = Vec<JoinHandle<()>>;

/// What the process that runs a subgraph provides to it, beyond its settings.
///
/// Resources are looked up by type: the all-in-one launcher puts its in-process bus here so
/// every subgraph of the process shares it (`shop_messaging::connect::bus_for` takes it).
#[derive(Clone, Default)]
pub struct Shared {
    environment: Environment,
    resources: Arc<Extensions>,
}

impl Shared {
    /// Nothing provided, in `environment`.
    pub fn new(environment: Environment) -> Self {
        Self { environment, resources: Arc::default() }
    }

    /// Provides `resource` to every subgraph built with this.
    #[must_use]
    pub fn with<T: Clone + Send + Sync + 'static>(mut self, resource: T) -> Self {
        Arc::make_mut(&mut self.resources).insert(resource);
        self
    }

    /// The provided resource of type `T`, if any.
    pub fn get<T: Clone + Send + Sync + 'static>(&self) -> Option<&T> {
        self.resources.get::<T>()
    }

    /// Whether this is a developer's process or a deployment.
    pub fn environment(&self) -> Environment {
        self.environment
    }
}

/// One subgraph: a bounded context served as a Federation v2 subgraph.
#[async_trait]
pub trait Subgraph: Sized + Send + Sync + 'static {
    /// Its name: the configuration section (`config/<name>.yaml`, `<NAME>__*` variables), the
    /// service label of logs and metrics, and its name in `supergraph.yaml`.
    const NAME: &'static str;

    /// Whether it has demo data to load ([`seed_demo`](Self::seed_demo)), so `shop seed`
    /// builds only the subgraphs it seeds. Default false.
    const SEEDS_DEMO_DATA: bool = false;

    /// Its settings.
    type Config: Settings;

    /// Its GraphQL schema.
    type Schema: async_graphql::Executor;

    /// Why it could not be built or started.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Connects its stores (and broker) as `config` says, or takes what `shared` provides.
    async fn build(config: &Self::Config, shared: &Shared) -> Result<Self, Self::Error>;

    /// Its SDL as composition reads it, built without any store.
    fn sdl() -> String;

    /// The schema requests run on.
    fn schema(&self) -> Self::Schema;

    /// Verifies the access tokens of requests.
    fn verifier(&self) -> Arc<TokenVerifier>;

    /// Its own dependencies, which `/health/ready` checks.
    fn readiness(&self) -> Readiness;

    /// Routes of its own beside `/graphql`, health and metrics (none unless overridden).
    fn routes(&self) -> Router {
        Router::new()
    }

    /// Starts its background workers, which run until `shutdown` is cancelled (none unless
    /// overridden).
    async fn start(&self, shutdown: &CancellationToken) -> Result<Workers, Self::Error> {
        let _ = shutdown;
        Ok(Workers::new())
    }

    /// Loads its part of the demo data (`seed/catalog.json`, as text) where it is missing;
    /// returns what it loaded, for the launcher's banner (nothing unless overridden).
    async fn seed_demo(&self, demo: &str) -> Result<Option<String>, Self::Error> {
        let _ = demo;
        Ok(None)
    }

    /// What a developer should know about it when the all-in-one launcher starts (demo
    /// accounts, where mail goes); nothing unless overridden.
    fn banner(&self) -> Option<String> {
        None
    }

    /// The HTTP app: `/graphql`, `/health/live`, `/health/ready`, `/metrics` and [`routes`](Self::routes).
    fn app(&self) -> Router {
        server::app(Self::NAME, self.schema(), self.readiness(), self.verifier()).merge(self.routes())
    }
}

/// Runs subgraph `S` as a service of its own until Ctrl-C or SIGTERM: loads its settings,
/// builds it, starts its workers and serves it on its `listen` address. A service's `main`.
pub fn run<S: Subgraph>() -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(serve_alone::<S>())
}

async fn serve_alone<S: Subgraph>() -> anyhow::Result<()> {
    crate::telemetry::init();
    let mut config: S::Config = config::load(S::NAME)?;
    let shared = Shared::new(Environment::from_env()?);
    // Bound before the (slower) build, so a neighbour that calls early (the router fetching the
    // users service's keys) waits in the listen backlog instead of being refused.
    let listener =
        server::bind(&config.common().service.listen).await.with_context(|| format!("binding {}", S::NAME))?;
    let subgraph = S::build(&config, &shared).await.with_context(|| format!("starting {}", S::NAME))?;
    let shutdown = server::shutdown_on_signal();
    let workers = subgraph.start(&shutdown).await.with_context(|| format!("starting the workers of {}", S::NAME))?;
    server::serve(listener, subgraph.app(), shutdown).await?;
    for worker in workers {
        worker.await?;
    }
    Ok(())
}

/// A subgraph in a list: its name, its SDL and how to configure and build it, with its type
/// erased so composition roots can loop over every subgraph.
#[derive(Clone, Copy)]
pub struct SubgraphKind {
    name: &'static str,
    seeds_demo_data: bool,
    sdl: fn() -> String,
    defaults: fn() -> Box<dyn AnySettings>,
    load: fn() -> Loaded,
    load_from_text: fn(&str, HashMap<String, String>) -> Loaded,
}

type Loaded = Result<Box<dyn AnySettings>, ConfigError>;

impl SubgraphKind {
    /// The entry of subgraph `S`.
    pub fn of<S: Subgraph>() -> Self {
        Self {
            name: S::NAME,
            seeds_demo_data: S::SEEDS_DEMO_DATA,
            sdl: S::sdl,
            defaults: || Box::new(Typed::<S>(S::Config::default())),
            load: || Ok(Box::new(Typed::<S>(config::load(S::NAME)?))),
            load_from_text: |yaml, env| Ok(Box::new(Typed::<S>(config::load_from_text(S::NAME, yaml, env)?))),
        }
    }

    /// [`Subgraph::NAME`].
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// [`Subgraph::SEEDS_DEMO_DATA`].
    pub fn seeds_demo_data(&self) -> bool {
        self.seeds_demo_data
    }

    /// [`Subgraph::sdl`].
    pub fn sdl(&self) -> String {
        (self.sdl)()
    }

    /// Its built-in default settings (the embedded mode), to be adjusted by the caller.
    pub fn default_settings(&self) -> Box<dyn AnySettings> {
        (self.defaults)()
    }

    /// Its settings from the defaults, its file and the environment ([`config::load`]).
    pub fn load_settings(&self) -> Result<Box<dyn AnySettings>, ConfigError> {
        (self.load)()
    }

    /// Its settings from the defaults, YAML text and a set of variables
    /// ([`config::load_from_text`]), to check a deployment's settings without starting it.
    pub fn load_settings_from(
        &self,
        yaml: &str,
        env: HashMap<String, String>,
    ) -> Result<Box<dyn AnySettings>, ConfigError> {
        (self.load_from_text)(yaml, env)
    }
}

/// One subgraph's settings with the subgraph's type erased; builds the subgraph.
pub trait AnySettings: Send + Sync {
    /// The subgraph's name.
    fn name(&self) -> &'static str;

    /// The shared sections, to point the subgraph at its servers.
    fn common(&mut self) -> config::Common<'_>;

    /// The typed settings (`S::Config`), for callers that know the subgraph.
    fn as_any_mut(&mut self) -> &mut dyn Any;

    /// A copy, to build the subgraph again (a restart).
    fn clone_box(&self) -> Box<dyn AnySettings>;

    /// Builds the subgraph from these settings.
    fn build(&self, shared: &Shared) -> BoxFuture<'static, anyhow::Result<Box<dyn AnySubgraph>>>;
}

/// A built subgraph with its type erased.
#[async_trait]
pub trait AnySubgraph: Send + Sync {
    /// [`Subgraph::NAME`].
    fn name(&self) -> &'static str;

    /// [`Subgraph::app`].
    fn app(&self) -> Router;

    /// [`Subgraph::start`].
    async fn start(&self, shutdown: &CancellationToken) -> anyhow::Result<Workers>;

    /// [`Subgraph::seed_demo`].
    async fn seed_demo(&self, demo: &str) -> anyhow::Result<Option<String>>;

    /// [`Subgraph::banner`].
    fn banner(&self) -> Option<String>;
}

struct Typed<S: Subgraph>(S::Config);

impl<S: Subgraph> AnySettings for Typed<S> {
    fn name(&self) -> &'static str {
        S::NAME
    }

    fn common(&mut self) -> config::Common<'_> {
        self.0.common()
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        &mut self.0
    }

    fn clone_box(&self) -> Box<dyn AnySettings> {
        Box::new(Typed::<S>(self.0.clone()))
    }

    fn build(&self, shared: &Shared) -> BoxFuture<'static, anyhow::Result<Box<dyn AnySubgraph>>> {
        let config = self.0.clone();
        let shared = shared.clone();
        Box::pin(async move {
            let subgraph = S::build(&config, &shared).await.with_context(|| format!("starting {}", S::NAME))?;
            Ok(Box::new(subgraph) as Box<dyn AnySubgraph>)
        })
    }
}

#[async_trait]
impl<S: Subgraph> AnySubgraph for S {
    fn name(&self) -> &'static str {
        S::NAME
    }

    fn app(&self) -> Router {
        Subgraph::app(self)
    }

    async fn start(&self, shutdown: &CancellationToken) -> anyhow::Result<Workers> {
        Subgraph::start(self, shutdown).await.with_context(|| format!("starting the workers of {}", S::NAME))
    }

    async fn seed_demo(&self, demo: &str) -> anyhow::Result<Option<String>> {
        Subgraph::seed_demo(self, demo).await.with_context(|| format!("seeding {}", S::NAME))
    }

    fn banner(&self) -> Option<String> {
        Subgraph::banner(self)
    }
}
