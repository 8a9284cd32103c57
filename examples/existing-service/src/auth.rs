//! The camera's auth: a bearer token for programs (curl, ffmpeg, scripts),
//! or a session cookie for pages.
//!
//! A page cannot give its `<img src="/camera/stream">` a bearer token: the
//! browser sends only cookies and Basic credentials it has cached for the
//! origin. So `/login` checks the token once and sets an `HttpOnly`,
//! `SameSite=Strict` session cookie, which every `<img>` request of the
//! origin then carries. Sessions live in memory until the process ends; a
//! real service would expire them and add a logout (or use a session crate).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use axum::Form;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};

/// The session cookie's name.
const COOKIE: &str = "camera_session";

/// The token, and the sessions `/login` has opened.
#[derive(Clone, Debug)]
pub(crate) struct Auth {
    token: Arc<str>,
    sessions: Arc<Mutex<HashSet<String>>>,
}

impl Auth {
    pub(crate) fn new(token: &str) -> Self {
        Self {
            token: token.into(),
            sessions: Arc::default(),
        }
    }

    /// `Authorization: Bearer <token>`, or a session cookie from `/login`.
    fn allows(&self, headers: &HeaderMap) -> bool {
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if bearer.is_some_and(|t| t == &*self.token) {
            return true;
        }
        let Ok(sessions) = self.sessions.lock() else {
            return false;
        };
        session_ids(headers).any(|id| sessions.contains(id))
    }
}

/// The values of our cookie in the request's `Cookie` headers.
fn session_ids(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().strip_prefix(COOKIE)?.strip_prefix('='))
}

/// The middleware on the camera routes: on, or `401`.
pub(crate) async fn require(State(auth): State<Auth>, req: Request, next: Next) -> Response {
    if auth.allows(req.headers()) {
        next.run(req).await
    } else {
        StatusCode::UNAUTHORIZED.into_response()
    }
}

/// `GET /login`: the form.
pub(crate) async fn form() -> Html<&'static str> {
    Html(
        "<!doctype html><title>Log in</title><form method=post action=/login>\
         <input type=password name=token placeholder=token autofocus> \
         <button>Log in</button></form>",
    )
}

/// The form's fields.
#[derive(serde::Deserialize)]
pub(crate) struct Login {
    token: String,
}

/// `POST /login`: the right token opens a session and goes back to the page.
pub(crate) async fn login(State(auth): State<Auth>, Form(login): Form<Login>) -> Response {
    if login.token != *auth.token {
        return (StatusCode::UNAUTHORIZED, "wrong token").into_response();
    }
    let Some(id) = new_session_id() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    // Over HTTPS, add `; Secure` so the cookie never travels in clear.
    let cookie = format!("{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/");
    let (Ok(cookie), Ok(mut sessions)) = (HeaderValue::from_str(&cookie), auth.sessions.lock())
    else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    sessions.insert(id);
    ([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response()
}

/// 128 random bits from the OS, in hex.
fn new_session_id() -> Option<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).ok()?;
    Some(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
