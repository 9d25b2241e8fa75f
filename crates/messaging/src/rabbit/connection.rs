//! The two supervised connections: each is opened once, watched, and replaced with backoff when
//! it drops, while callers either fail fast or wait for the next one.

use std::sync::Arc;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use futures::{StreamExt, future::BoxFuture};
use lapin::options::ConfirmSelectOptions;
use lapin::{Channel, Connection, ConnectionProperties};
use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;

use crate::bus::BusError;

/// A single connection attempt; a half-open TCP connection must not stall reconnection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How often idle sessions and supervisors check that their connection is still up.
pub(super) const HEALTH_CHECK: Duration = Duration::from_millis(500);
/// An ack on a connection that just died may never be answered; the broker redelivers anyway.
pub(super) const ACK_TIMEOUT: Duration = Duration::from_secs(10);

pub(super) type Setup = Arc<dyn Fn(Channel) -> BoxFuture<'static, Result<(), BusError>> + Send + Sync>;

/// An open connection and its confirm-mode channel.
pub(super) struct Live {
    pub(super) connection: Connection,
    pub(super) channel: Channel,
}

impl Live {
    pub(super) fn healthy(&self) -> bool {
        self.connection.status().connected() && self.channel.status().connected()
    }
}

/// A connection kept up by a supervisor task. Cheap to clone.
#[derive(Clone)]
pub(super) struct Link {
    state: watch::Receiver<Option<Arc<Live>>>,
    pub(super) suspect: Arc<Notify>,
}

impl Link {
    /// Connects once (an unreachable broker at startup is an error), then hands the connection
    /// to a supervisor that reconnects whenever it drops.
    pub(super) async fn start(
        name: &str,
        url: &str,
        setup: Setup,
        shutdown: CancellationToken,
    ) -> Result<Self, BusError> {
        let first = open(name, url, &setup).await?;
        let (state_tx, state) = watch::channel(Some(Arc::new(first)));
        let suspect = Arc::new(Notify::new());
        tokio::spawn(keep_up(name.to_owned(), url.to_owned(), setup, state_tx, suspect.clone(), shutdown));
        Ok(Self { state, suspect })
    }

    /// The connection if it is up; fails fast otherwise.
    pub(super) fn current(&self) -> Result<Arc<Live>, BusError> {
        match self.state.borrow().as_ref() {
            Some(live) if live.healthy() => Ok(live.clone()),
            _ => Err(BusError::Connection("not connected to the message broker".to_owned())),
        }
    }

    /// Waits until the connection is up; `None` once the bus is shut down.
    pub(super) async fn wait(&self) -> Option<Arc<Live>> {
        let mut state = self.state.clone();
        loop {
            if let Some(live) = state.borrow_and_update().as_ref().filter(|live| live.healthy()) {
                return Some(live.clone());
            }
            state.changed().await.ok()?;
        }
    }

    /// Classifies an error of an operation on `live` and, if the connection looks broken, asks
    /// the supervisor to check it now rather than at its next poll.
    pub(super) fn failed(&self, live: &Live, error: lapin::Error) -> BusError {
        if live.healthy() {
            BusError::Publish(error.to_string())
        } else {
            self.suspect.notify_one();
            BusError::Connection(error.to_string())
        }
    }
}

async fn open(name: &str, url: &str, setup: &Setup) -> Result<Live, BusError> {
    let attempt = async {
        let properties = ConnectionProperties::default().with_connection_name(name.into());
        let connection = Connection::connect(url, properties).await.map_err(|e| BusError::Connection(e.to_string()))?;
        let channel = connection.create_channel().await.map_err(|e| BusError::Connection(e.to_string()))?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(|e| BusError::Connection(e.to_string()))?;
        setup(channel.clone()).await?;
        Ok(Live { connection, channel })
    };
    tokio::time::timeout(CONNECT_TIMEOUT, attempt)
        .await
        .map_err(|_| BusError::Connection("timed out connecting to the message broker".to_owned()))?
}

pub(super) fn reconnect_backoff() -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(100))
        .with_max_delay(Duration::from_secs(5))
        .with_jitter()
        .without_max_times()
}

/// The supervisor of one connection: watches it and replaces it when it drops.
async fn keep_up(
    name: String,
    url: String,
    setup: Setup,
    state: watch::Sender<Option<Arc<Live>>>,
    suspect: Arc<Notify>,
    shutdown: CancellationToken,
) {
    loop {
        let Some(live) = state.borrow().clone() else {
            return;
        };
        let mut events = live.connection.events_listener();
        let mut poll = tokio::time::interval(HEALTH_CHECK);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => {
                    let _ = tokio::time::timeout(ACK_TIMEOUT, live.connection.close(200, "shutdown".into())).await;
                    return;
                }
                () = suspect.notified() => {}
                Some(event) = events.next() => if let lapin::Event::Error(error) = event {
                    tracing::warn!(connection = %name, %error, "message broker connection error");
                },
                _ = poll.tick() => {}
            }
            if !live.healthy() {
                break;
            }
        }
        state.send_replace(None);
        let _ = tokio::time::timeout(ACK_TIMEOUT, live.connection.close(200, "reconnecting".into())).await;
        tracing::warn!(connection = %name, "lost the message broker connection, reconnecting");
        let reconnect = (|| open(&name, &url, &setup))
            .retry(reconnect_backoff())
            .notify(|error, delay| tracing::warn!(connection = %name, %error, ?delay, "reconnect failed"));
        tokio::select! {
            () = shutdown.cancelled() => return,
            result = reconnect => match result {
                Ok(live) => {
                    tracing::info!(connection = %name, "reconnected to the message broker");
                    state.send_replace(Some(Arc::new(live)));
                }
                // Unreachable with unlimited retries; stop rather than spin.
                Err(error) => {
                    tracing::error!(connection = %name, %error, "giving up reconnecting");
                    return;
                }
            },
        }
    }
}

/// Closes a channel, best effort: on a dead connection there is nobody to answer.
pub(super) async fn close_quietly(channel: &Channel) {
    let _ = tokio::time::timeout(ACK_TIMEOUT, channel.close(200, "OK".into())).await;
}
