//! How long a server waits on a peer that has stopped sending. Every read from a peer has a
//! bound: a client that sends one byte a minute (slowloris) must not hold a connection task,
//! and its memory, for as long as it likes.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use futures_util::StreamExt;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use hyper_util::server::conn::auto;

/// The read bounds of one server, chosen where it is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadBounds {
    /// For a request's line and headers, from the moment the server starts reading them
    /// (an idle keep-alive connection included).
    pub head: Duration,
    /// For a request's whole body, from the moment the handler asks for it.
    pub body: Duration,
    /// For a TLS handshake, first flight to Finished.
    pub handshake: Duration,
}

impl Default for ReadBounds {
    /// Generous for a client on loopback or a slow link, short against a peer that stalls.
    fn default() -> Self {
        Self {
            head: Duration::from_secs(15),
            body: Duration::from_secs(30),
            handshake: Duration::from_secs(15),
        }
    }
}

/// The body of a request as the peer sends it, ended with an error once `bound` has passed
/// since the first read of it: no handler waits on a stalled body longer than that.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within {0:?}")]
pub struct BodyTimedOut(Duration);

impl ReadBounds {
    /// An HTTP/1.1-and-HTTP/2 connection builder whose head reads are bounded.
    pub(crate) fn builder(&self) -> auto::Builder<TokioExecutor> {
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(self.head);
        builder.http2().timer(TokioTimer::new());
        builder
    }

    /// `router` with every request body bounded in time.
    pub(crate) fn bound_bodies(&self, router: axum::Router) -> axum::Router {
        let bound = self.body;
        router.layer(axum::middleware::map_request(move |request: Request| {
            std::future::ready(bounded_body(request, bound))
        }))
    }
}

fn bounded_body(request: Request, bound: Duration) -> Request {
    let (parts, body) = request.into_parts();
    let mut frames = body.into_data_stream();
    // Armed at the first poll, when the handler begins to read.
    let mut timer: Option<Pin<Box<tokio::time::Sleep>>> = None;
    let mut expired = false;
    let stream = futures_util::stream::poll_fn(move |cx| {
        if expired {
            return Poll::Ready(None);
        }
        let timer = timer.get_or_insert_with(|| Box::pin(tokio::time::sleep(bound)));
        match frames.poll_next_unpin(cx) {
            Poll::Pending if timer.as_mut().poll(cx).is_ready() => {
                expired = true;
                Poll::Ready(Some(Err(axum::Error::new(BodyTimedOut(bound)))))
            }
            other => other,
        }
    });
    Request::from_parts(parts, Body::from_stream(stream))
}
