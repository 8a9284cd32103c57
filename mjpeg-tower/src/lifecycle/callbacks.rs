//! The user's lifecycle callbacks, stored as `Arc`ed closures.

use std::fmt;
use std::sync::Arc;

use crate::lifecycle::events::{ConnectEvent, DisconnectEvent};

pub(crate) type ConnectFn = dyn Fn(&ConnectEvent<'_>) + Send + Sync;
pub(crate) type DisconnectFn = dyn Fn(&DisconnectEvent<'_>) + Send + Sync;
pub(crate) type IdleFn = dyn Fn() + Send + Sync;

/// A callback and its type name, for `Debug`.
pub(crate) struct Callback<F: ?Sized>(pub(crate) Arc<F>, &'static str);

impl<F: ?Sized> Callback<F> {
    pub(crate) fn new(f: Arc<F>, type_name: &'static str) -> Self {
        Self(f, type_name)
    }
}

impl<F: ?Sized> Clone for Callback<F> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0), self.1)
    }
}

impl<F: ?Sized> fmt::Debug for Callback<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.1)
    }
}

/// The callbacks of one layer.
#[derive(Clone, Debug, Default)]
pub(crate) struct Callbacks {
    pub(crate) on_connect: Option<Callback<ConnectFn>>,
    pub(crate) on_disconnect: Option<Callback<DisconnectFn>>,
    pub(crate) on_idle: Option<Callback<IdleFn>>,
}
