//! The response body: the layer's own answer, or the inner service's body.

use core::pin::Pin;
use core::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::Full;
use pin_project_lite::pin_project;

pin_project! {
    /// The body of a [`WebhookService`](crate::WebhookService) response:
    /// either the JSON answer to a refused request, or the inner service's
    /// body `B`, passed through untouched (its frames, trailers and errors).
    ///
    /// axum takes it as it is (`Response<ResponseBody<axum::body::Body>>`
    /// is an `IntoResponse`), and so does any server that serves an
    /// `http-body` body with `Bytes` data, as hyper does.
    #[derive(Debug)]
    pub struct ResponseBody<B> {
        #[pin]
        kind: Kind<B>,
    }
}

pin_project! {
    #[project = KindProjection]
    #[derive(Debug)]
    enum Kind<B> {
        Answer { body: Full<Bytes> },
        Inner { #[pin] body: B },
    }
}

impl<B> ResponseBody<B> {
    pub(crate) fn answer(json: String) -> Self {
        Self {
            kind: Kind::Answer {
                body: Full::new(Bytes::from(json)),
            },
        }
    }

    /// Wraps an inner service's body, for a response made beside the
    /// layered service (a router's fallback) that must have the same type.
    pub fn new(body: B) -> Self {
        Self {
            kind: Kind::Inner { body },
        }
    }

    /// Whether this is the layer's own answer rather than the inner
    /// service's body.
    #[must_use]
    pub fn is_answer(&self) -> bool {
        matches!(self.kind, Kind::Answer { .. })
    }
}

impl<B> Body for ResponseBody<B>
where
    B: Body<Data = Bytes>,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        match self.project().kind.project() {
            KindProjection::Answer { body } => Pin::new(body)
                .poll_frame(cx)
                .map_err(|never| match never {}),
            KindProjection::Inner { body } => body.poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Answer { body } => body.is_end_stream(),
            Kind::Inner { body } => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Answer { body } => body.size_hint(),
            Kind::Inner { body } => body.size_hint(),
        }
    }
}
