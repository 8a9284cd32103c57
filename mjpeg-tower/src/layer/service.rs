//! [`MjpegService`]: the middleware.

use std::task::{Context, Poll};

use http::{Request, Response};
use tower_service::Service;

use crate::layer::body::MjpegBody;
use crate::layer::builder::MjpegLayer;
use crate::layer::future::ResponseFuture;
use crate::lifecycle::info::RequestInfo;

/// Middleware that turns frame-carrying responses into live multipart
/// streams; see [`MjpegLayer`].
#[derive(Clone, Debug)]
pub struct MjpegService<S> {
    inner: S,
    layer: MjpegLayer,
}

impl<S> MjpegService<S> {
    /// Wraps `inner` with the configuration of `layer`.
    pub fn new(inner: S, layer: MjpegLayer) -> Self {
        Self { inner, layer }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }

    /// The layer this service was made from: its [`stats`](MjpegLayer::stats) are this service's.
    pub fn get_layer(&self) -> &MjpegLayer {
        &self.layer
    }

    /// A layer with the defaults, which makes `MjpegService`s: the same as
    /// [`MjpegLayer::new`], in tower-http's `Service::layer()` style.
    pub fn layer() -> MjpegLayer {
        MjpegLayer::new()
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for MjpegService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<MjpegBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let info = RequestInfo::from_request(&req);
        ResponseFuture::new(self.inner.call(req), info, self.layer.clone())
    }
}
