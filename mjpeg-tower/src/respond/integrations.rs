//! Framework responder impls, behind the `axum` and `warp` features.
//!
//! Each responder's [`into_http_response`](crate::Mjpeg::into_http_response)
//! already is the response; these impls only move its body into the
//! framework's body type.

#[cfg(feature = "axum")]
mod axum {
    use axum_core::response::{IntoResponse, Response};

    use crate::respond::hub::{Snapshot, Subscribe};
    use crate::respond::mjpeg::Mjpeg;

    impl IntoResponse for Mjpeg {
        fn into_response(self) -> Response {
            self.into_http_response().map(Into::into)
        }
    }

    impl IntoResponse for Subscribe {
        fn into_response(self) -> Response {
            self.into_http_response().map(Into::into)
        }
    }

    impl IntoResponse for Snapshot {
        fn into_response(self) -> Response {
            self.into_http_response().map(Into::into)
        }
    }
}

#[cfg(feature = "warp")]
mod warp {
    use warp::reply::{Reply, Response};

    use crate::respond::hub::{Snapshot, Subscribe};
    use crate::respond::mjpeg::Mjpeg;

    impl Reply for Mjpeg {
        fn into_response(self) -> Response {
            self.into_http_response().map(Into::into)
        }
    }

    impl Reply for Subscribe {
        fn into_response(self) -> Response {
            self.into_http_response().map(Into::into)
        }
    }

    impl Reply for Snapshot {
        fn into_response(self) -> Response {
            self.into_http_response().map(Into::into)
        }
    }
}
