//! Idle connections: every accepted socket gets a read timeout, so a client
//! that opens a connection and then sends nothing (or stops halfway through a
//! request) is disconnected instead of holding it forever.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, Sleep};

/// A socket whose reads fail once it has received nothing for longer than
/// the idle timeout.
///
/// A read that returns data only records the time, because moving the timer
/// on every read cost about 600 instructions per request (counted with
/// callgrind). When the timer fires, it is set again to the idle timeout
/// after the last read that returned data, unless that deadline has passed,
/// in which case the pending read fails.
pub(crate) struct IdleStream {
    stream: TcpStream,
    idle: Duration,
    /// When the last read returned data, or when the connection was accepted.
    last_data: Instant,
    /// Fires at `last_data + idle` or earlier. `None` when that time is too
    /// far away to represent, which turns the timeout off.
    timer: Option<Pin<Box<Sleep>>>,
}

/// Wraps `stream` so that any read waiting longer than `idle` fails.
pub(crate) fn with_idle_timeout(stream: TcpStream, idle: Duration) -> IdleStream {
    let _ = stream.set_nodelay(true);
    let now = Instant::now();
    IdleStream {
        stream,
        idle,
        last_data: now,
        timer: now
            .checked_add(idle)
            .map(|deadline| Box::pin(tokio::time::sleep_until(deadline))),
    }
}

impl IdleStream {
    /// Checks the timer of a read that found no data. Returns an error once
    /// nothing has arrived for the idle timeout, and otherwise makes sure the
    /// timer will wake the task at that time.
    fn poll_idle(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        let Some(timer) = self.timer.as_mut() else {
            return Poll::Pending;
        };
        loop {
            ready!(timer.as_mut().poll(cx));
            let Some(deadline) = self.last_data.checked_add(self.idle) else {
                return Poll::Pending;
            };
            if Instant::now() >= deadline {
                let message = format!("read timed out: no data received for {:?}", self.idle);
                return Poll::Ready(io::Error::new(io::ErrorKind::TimedOut, message));
            }
            timer.as_mut().reset(deadline);
        }
    }
}

impl AsyncRead for IdleStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        match Pin::new(&mut this.stream).poll_read(cx, buf) {
            Poll::Ready(result) => {
                this.last_data = Instant::now();
                Poll::Ready(result)
            }
            Poll::Pending => this.poll_idle(cx).map(Err),
        }
    }
}

impl AsyncWrite for IdleStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
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

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    async fn connected_pair(idle: Duration) -> (IdleStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        (with_idle_timeout(server, idle), client)
    }

    #[tokio::test(start_paused = true)]
    async fn silent_client_times_out() {
        let (mut server, _client) = connected_pair(Duration::from_secs(5)).await;
        let started = Instant::now();

        let mut byte = [0u8; 1];
        let error = server.read(&mut byte).await.unwrap_err();

        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        assert!(started.elapsed() >= Duration::from_secs(5));
        assert!(started.elapsed() < Duration::from_secs(6));
    }

    #[tokio::test(start_paused = true)]
    async fn each_byte_restarts_the_timeout() {
        let (mut server, mut client) = connected_pair(Duration::from_secs(5)).await;
        let started = Instant::now();

        for _ in 0..4 {
            tokio::time::sleep(Duration::from_secs(3)).await;
            client.write_all(b"x").await.unwrap();
            let mut byte = [0u8; 1];
            server.read_exact(&mut byte).await.unwrap();
        }
        let mut byte = [0u8; 1];
        let error = server.read(&mut byte).await.unwrap_err();

        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        assert!(started.elapsed() >= Duration::from_secs(12 + 5));
        assert!(started.elapsed() < Duration::from_secs(12 + 6));
    }

    #[tokio::test(start_paused = true)]
    async fn huge_timeout_never_fires() {
        let (mut server, mut client) = connected_pair(Duration::MAX).await;

        let read = tokio::time::timeout(Duration::from_secs(3600), async {
            let mut byte = [0u8; 1];
            server.read(&mut byte).await
        });
        assert!(read.await.is_err(), "the read ended");
        client.write_all(b"x").await.unwrap();
    }
}
