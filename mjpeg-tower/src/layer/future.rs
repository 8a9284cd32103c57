//! [`ResponseFuture`]: waits for the inner response, then turns it into a stream if it carries frames.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http::Response;
use pin_project_lite::pin_project;

use crate::layer::body::MjpegBody;
use crate::layer::builder::MjpegLayer;
use crate::lifecycle::info::RequestInfo;
use crate::respond::body::ResponderBody;
use crate::respond::dispatch::{Respond, dispatch};
use crate::respond::source::Slot;

type Pending = Pin<Box<dyn Future<Output = Response<Bytes>> + Send>>;

pin_project! {
    /// Response future of [`MjpegService`](crate::MjpegService).
    pub struct ResponseFuture<F> {
        #[pin]
        state: State<F>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F> {
        Inner {
            #[pin]
            future: F,
            req: Option<RequestInfo>,
            layer: MjpegLayer,
        },
        Waiting {
            future: Pending,
        },
        Done,
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn new(future: F, req: RequestInfo, layer: MjpegLayer) -> Self {
        Self {
            state: State::Inner {
                future,
                req: Some(req),
                layer,
            },
        }
    }
}

impl<F> std::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<MjpegBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.state.as_mut().project() {
                StateProj::Inner { future, req, layer } => {
                    let mut res = ready!(future.poll(cx))?;
                    let taken = res
                        .extensions_mut()
                        .remove::<Slot>()
                        .and_then(|slot| slot.take());
                    let Some(taken) = taken else {
                        return Poll::Ready(Ok(res.map(MjpegBody::inner)));
                    };
                    let req = req.take().expect("future polled after completion");
                    let (parts, _fallback_body) = res.into_parts();
                    match dispatch(&layer.config, &layer.stats, req, parts, taken) {
                        Respond::Now(res) => {
                            this.state.set(State::Done);
                            return Poll::Ready(Ok(res.map(MjpegBody::responder)));
                        }
                        Respond::Later(future) => this.state.set(State::Waiting { future }),
                    }
                }
                StateProj::Waiting { future } => {
                    let res = ready!(future.as_mut().poll(cx));
                    this.state.set(State::Done);
                    let res = res.map(|data| MjpegBody::responder(ResponderBody::full(data)));
                    return Poll::Ready(Ok(res));
                }
                StateProj::Done => panic!("future polled after completion"),
            }
        }
    }
}
