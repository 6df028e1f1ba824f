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

/// A socket whose reads fail once one of them has waited longer than the
/// idle timeout.
///
/// Only the first read that has to wait reads the clock, and the timer is
/// not moved on every read, because doing so cost about 600 instructions per
/// request (counted with callgrind). When the timer fires, it is set again to
/// the idle timeout after the start of the current wait, unless that
/// deadline has passed, in which case the waiting read fails. Time the
/// server spends not reading, such as in a slow handler, does not count.
pub(crate) struct IdleStream {
    stream: TcpStream,
    idle: Duration,
    /// When the current wait for data began, or `None` while no read waits.
    waiting_since: Option<Instant>,
    /// Fires at the end of the current wait's timeout or earlier. `None`
    /// when the timeout is too long to represent, which turns it off.
    timer: Option<Pin<Box<Sleep>>>,
}

/// Timeouts from this long on never fire. Tokio panics on deadlines near the
/// largest `Instant`, and no client waits this long anyway.
const NEVER: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

/// Wraps `stream` so that any read waiting longer than `idle` fails.
pub(crate) fn with_idle_timeout(stream: TcpStream, idle: Duration) -> IdleStream {
    let _ = stream.set_nodelay(true);
    let timer = (idle < NEVER).then(|| Box::pin(tokio::time::sleep(idle)));
    IdleStream {
        stream,
        idle,
        waiting_since: None,
        timer,
    }
}

impl IdleStream {
    /// Checks the timer of a read that found no data. Returns an error once
    /// the read has waited for the idle timeout, and otherwise makes sure
    /// the timer will wake the task at that time.
    fn poll_idle(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        let Some(timer) = self.timer.as_mut() else {
            return Poll::Pending;
        };
        let since = *self.waiting_since.get_or_insert_with(Instant::now);
        let deadline = since + self.idle;
        loop {
            ready!(timer.as_mut().poll(cx));
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
                this.waiting_since = None;
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
    async fn pause_in_reading_is_not_idleness() {
        let (mut server, mut client) = connected_pair(Duration::from_secs(2)).await;
        client.write_all(b"x").await.unwrap();
        let mut byte = [0u8; 1];
        server.read_exact(&mut byte).await.unwrap();

        // A slow handler: the server reads nothing for longer than the timeout.
        tokio::time::sleep(Duration::from_secs(5)).await;
        let late_byte = async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            client.write_all(b"y").await.unwrap();
        };
        let (read, ()) = tokio::join!(server.read_exact(&mut byte), late_byte);

        assert!(read.is_ok(), "{read:?}");
        assert_eq!(&byte, b"y");
    }

    #[tokio::test(start_paused = true)]
    async fn huge_timeouts_never_fire() {
        for idle in [Duration::MAX, NEVER, NEVER - Duration::from_secs(1)] {
            let (mut server, mut client) = connected_pair(idle).await;

            let read = tokio::time::timeout(Duration::from_secs(3600), async {
                let mut byte = [0u8; 1];
                server.read(&mut byte).await
            });
            assert!(read.await.is_err(), "the read ended with idle {idle:?}");
            client.write_all(b"x").await.unwrap();
        }
    }
}
