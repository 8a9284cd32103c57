//! Errors of this crate.

use std::error::Error;
use std::fmt;

/// The broker could not be reached.
#[derive(Debug)]
#[non_exhaustive]
pub struct ConnectError {
    pub(crate) url: String,
    pub(crate) source: async_nats::ConnectError,
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot connect to the NATS server at {}: {}; is `nats-server` running there?",
            self.url, self.source
        )
    }
}

impl Error for ConnectError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.source)
    }
}

/// A stream name that cannot be one token of a NATS subject.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct NameError {
    pub(crate) name: String,
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "stream name {:?} is not one NATS subject token; use letters, digits, '-' or '_' \
             (no '.', '*', '>' or whitespace, not empty)",
            self.name
        )
    }
}

impl Error for NameError {}

/// Why an edge could not start.
#[derive(Debug)]
#[non_exhaustive]
pub enum EdgeError {
    /// The broker could not be reached.
    Connect(ConnectError),
    /// The broker refused the subscription.
    Subscribe {
        /// The subject subscribed to.
        subject: String,
        /// What the client said.
        source: async_nats::SubscribeError,
    },
}

impl fmt::Display for EdgeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Connect(e) => e.fmt(f),
            Self::Subscribe { subject, source } => {
                write!(f, "cannot subscribe to {subject:?}: {source}")
            }
        }
    }
}

impl Error for EdgeError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            Self::Connect(e) => Some(e),
            Self::Subscribe { source, .. } => Some(source),
        }
    }
}

impl From<ConnectError> for EdgeError {
    fn from(e: ConnectError) -> Self {
        Self::Connect(e)
    }
}
