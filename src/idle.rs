//! Idle connections: every accepted socket gets a read timeout, so a client
//! that opens a connection and then sends nothing (or stops halfway through a
//! request) is disconnected instead of holding it forever.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio_io_timeout::TimeoutStream;

/// A socket whose reads fail once they wait longer than the idle timeout.
pub(crate) type IdleStream = Pin<Box<TimeoutStream<TcpStream>>>;

/// Wraps `stream` so that any read waiting longer than `idle` fails.
pub(crate) fn with_idle_timeout(stream: TcpStream, idle: Duration) -> IdleStream {
    let _ = stream.set_nodelay(true);
    let mut stream = TimeoutStream::new(stream);
    stream.set_read_timeout(Some(idle));
    Box::pin(stream)
}

/// A TCP listener whose connections time out when idle.
pub(crate) struct IdleListener {
    tcp: TcpListener,
    idle: Duration,
}

impl IdleListener {
    pub(crate) fn new(tcp: TcpListener, idle: Duration) -> IdleListener {
        IdleListener { tcp, idle }
    }
}

impl axum::serve::Listener for IdleListener {
    type Io = IdleStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.tcp.accept().await {
                Ok((stream, peer)) => return (with_idle_timeout(stream, self.idle), peer),
                Err(error) => {
                    // Errors such as running out of file descriptors pass;
                    // wait a little rather than spin.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}
