//! The HTTPS listener: the same routes through our [`Server`] with TLS (a
//! self-signed certificate made at start) and small limits, so the driver can
//! hold it to them.

use std::time::Duration;

use axum::Router;
use mjpeg_axum::{Server, TlsConfig};

use crate::Inject;

/// The HTTPS listener's limits, which the driver checks from outside.
pub(crate) mod limits {
    use std::time::Duration;

    /// Connections open at once on the HTTPS listener.
    pub(crate) const MAX_CONNECTIONS: usize = 200;
    /// The TLS handshake and the first request head must each be done within this.
    pub(crate) const HEAD_TIMEOUT: Duration = Duration::from_secs(2);
}

/// Starts serving `app` over HTTPS on a free loopback port; returns the line
/// the driver reads: `tls <address> <certificate DER in hex>`.
pub(super) async fn start(app: Router, inject: Option<Inject>) -> Result<String, String> {
    let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    let made =
        rcgen::generate_simple_self_signed(names).map_err(|e| format!("certificate: {e}"))?;
    let tls = TlsConfig::from_pem(
        made.cert.pem().as_bytes(),
        made.signing_key.serialize_pem().as_bytes(),
    )
    .map_err(|e| format!("TLS config: {e}"))?;
    // The planted faults: no timeouts for half-sent handshakes and heads, no cap.
    let timeout = (inject != Some(Inject::TlsTimeouts)).then_some(limits::HEAD_TIMEOUT);
    let cap = (inject != Some(Inject::TlsCap)).then_some(limits::MAX_CONNECTIONS);
    let server = Server::new()
        .tls(Some(tls))
        .tls_handshake_timeout(timeout)
        .header_read_timeout(timeout)
        .max_connections(cap)
        .shutdown_grace(Duration::from_secs(1));
    let listener = server
        .bind(([127, 0, 0, 1], 0).into())
        .await
        .map_err(|e| format!("bind HTTPS: {e}"))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("HTTPS address: {e}"))?;
    tokio::spawn(async move {
        if let Err(e) = server.serve(listener, app).await {
            eprintln!("soak serve: HTTPS: {e}");
        }
    });
    let hex: String = made.cert.der().iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("tls {addr} {hex}"))
}
