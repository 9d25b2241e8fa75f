//! A TCP proxy a test can cut: every connection it carries drops at once and new ones are
//! refused until it is restored, which is what a network partition, a database failover or a
//! broker restart looks like to a client. Put it between a service and its server (RabbitMQ,
//! PostgreSQL, a payment provider) and hand the service [`TcpProxy::url`] instead.

use std::{
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
};

use tokio::{
    net::{TcpListener, TcpStream},
    task::AbortHandle,
};

/// A cuttable TCP proxy to one upstream `host:port`; it stops when dropped.
pub struct TcpProxy {
    /// Where clients connect.
    pub addr: SocketAddr,
    down: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<AbortHandle>>>,
    accept: AbortHandle,
}

impl TcpProxy {
    /// A proxy on a free local port in front of the server of `url`
    /// (`scheme://user:pass@host:port/...`).
    pub async fn in_front_of(url: &str) -> Self {
        Self::listen("127.0.0.1:0".parse().expect("a socket address"), host_port(url)).await
    }

    /// A proxy listening on `listen` in front of `upstream` (`host:port`).
    pub async fn listen(listen: SocketAddr, upstream: &str) -> Self {
        let listener =
            TcpListener::bind(listen).await.unwrap_or_else(|e| panic!("the proxy cannot listen on {listen}: {e}"));
        let addr = listener.local_addr().expect("a bound listener has an address");
        let down = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(Mutex::new(Vec::new()));
        let accept = {
            let (down, connections, upstream) = (down.clone(), connections.clone(), upstream.to_owned());
            tokio::spawn(async move {
                loop {
                    let Ok((mut inbound, _)) = listener.accept().await else { continue };
                    // Checked and recorded under the lock `cut` takes, so no connection
                    // accepted during a cut slips past it.
                    let mut live = connections.lock().expect("proxy lock");
                    if down.load(Ordering::SeqCst) {
                        // Refused while "the network is down": the client sees the socket close.
                        drop(inbound);
                        continue;
                    }
                    let upstream = upstream.clone();
                    let task = tokio::spawn(async move {
                        if let Ok(mut outbound) = TcpStream::connect(&upstream).await {
                            let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        }
                    });
                    live.retain(|connection: &AbortHandle| !connection.is_finished());
                    live.push(task.abort_handle());
                }
            })
            .abort_handle()
        };
        Self { addr, down, connections, accept }
    }

    /// `url` with the proxy's address in place of the upstream server's.
    pub fn url(&self, url: &str) -> String {
        url.replacen(host_port(url), &self.addr.to_string(), 1)
    }

    /// Drops every connection it carries and refuses new ones until [`TcpProxy::restore`].
    pub fn cut(&self) {
        let mut live = self.connections.lock().expect("proxy lock");
        self.down.store(true, Ordering::SeqCst);
        for connection in live.drain(..) {
            connection.abort();
        }
    }

    /// Accepts connections again.
    pub fn restore(&self) {
        self.down.store(false, Ordering::SeqCst);
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.accept.abort();
        for connection in self.connections.lock().expect("proxy lock").drain(..) {
            connection.abort();
        }
    }
}

/// `host:port` of `scheme://user:pass@host:port/path`.
fn host_port(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, rest)| rest);
    rest.split(['/', '?']).next().unwrap_or(rest)
}

#[cfg(test)]
mod tests {
    use super::host_port;

    #[test]
    fn the_server_of_a_url_is_its_host_and_port() {
        assert_eq!(host_port("amqp://guest:guest@127.0.0.1:5672/%2f"), "127.0.0.1:5672");
        assert_eq!(host_port("postgres://postgres@127.0.0.1:5432/db?sslmode=disable"), "127.0.0.1:5432");
        assert_eq!(host_port("redis://127.0.0.1:6379"), "127.0.0.1:6379");
    }
}
