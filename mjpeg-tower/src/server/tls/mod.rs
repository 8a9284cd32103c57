//! [`TlsConfig`]: HTTPS for [`Server`](super::Server), with rustls and the `ring` provider.
//!
//! Browsers speak HTTP/2 only over TLS, and over HTTP/1.1 they open at most
//! six connections per origin: a page with more live streams than that draws
//! only six. Over HTTPS with ALPN `h2` all of a page's streams share one
//! connection. [`TlsConfig`] offers `h2` and `http/1.1`.
//!
//! What is checked when a configuration is built, each with its own
//! [`TlsError`]: the files can be read; the PEM has a certificate and a
//! private key; every certificate of the chain parses and is within its
//! validity dates now; the key matches the first certificate. Not checked:
//! that the chain leads to a trusted root or names your host (clients do).

mod validity;

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// The ALPN protocols offered by [`TlsConfig`], most preferred first.
pub const ALPN_PROTOCOLS: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// A certificate chain and key ready to serve HTTPS with ALPN `h2` and `http/1.1`.
///
/// Browsers speak HTTP/2 only over TLS, and over HTTP/1.1 they open at most
/// six connections per origin: a page with more live streams than that draws
/// only six. Over HTTPS with HTTP/2 all of a page's streams share one connection.
///
/// Checked when it is built, each with its own [`TlsError`]: the files can
/// be read; the PEM has a certificate and a private key; every certificate of
/// the chain parses and is within its validity dates now; the key matches
/// the first certificate. Not checked: that the chain leads to a trusted root
/// or names your host (clients do). Nothing is checked again while serving:
/// renew the certificate and restart (or use [`from_rustls`](Self::from_rustls)
/// with a resolver that reloads).
///
/// ```no_run
/// use mjpeg_tower::server::{Server, TlsConfig};
///
/// # fn run() -> Result<(), mjpeg_tower::server::TlsError> {
/// let tls = TlsConfig::from_pem_files("cert.pem", "key.pem")?;
/// let server = Server::new().tls(Some(tls));
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct TlsConfig {
    config: Arc<ServerConfig>,
}

impl TlsConfig {
    /// Reads a PEM certificate chain (leaf first) and a PEM private key
    /// (PKCS#8, PKCS#1 or SEC1) from files; they may be the same file.
    ///
    /// # Errors
    /// [`TlsError::Read`] with the path if a file cannot be read; otherwise
    /// as [`from_pem`](Self::from_pem).
    pub fn from_pem_files(
        cert_chain: impl AsRef<Path>,
        key: impl AsRef<Path>,
    ) -> Result<Self, TlsError> {
        let read = |path: &Path| {
            std::fs::read(path).map_err(|source| TlsError::Read {
                path: path.to_owned(),
                source,
            })
        };
        let (cert_path, key_path) = (cert_chain.as_ref(), key.as_ref());
        let chain = parse_chain(&read(cert_path)?).map_err(|e| e.in_file(cert_path))?;
        let key = parse_key(&read(key_path)?).map_err(|e| e.in_file(key_path))?;
        Self::from_der(chain, key)
    }

    /// Like [`from_pem_files`](Self::from_pem_files), from PEM text in memory.
    ///
    /// # Errors
    /// [`TlsError::NoCertificate`], [`TlsError::NoKey`], [`TlsError::Pem`],
    /// or as [`from_der`](Self::from_der).
    pub fn from_pem(cert_chain: &[u8], key: &[u8]) -> Result<Self, TlsError> {
        Self::from_der(parse_chain(cert_chain)?, parse_key(key)?)
    }

    /// A chain (leaf first) and key already in DER.
    ///
    /// # Errors
    /// [`TlsError::NoCertificate`] for an empty chain,
    /// [`TlsError::BadCertificate`], [`TlsError::Expired`],
    /// [`TlsError::NotYetValid`], [`TlsError::KeyMismatch`], or
    /// [`TlsError::Rustls`] for a key rustls cannot use.
    pub fn from_der(
        cert_chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Result<Self, TlsError> {
        if cert_chain.is_empty() {
            return Err(TlsError::NoCertificate { path: None });
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        for (index, cert) in cert_chain.iter().enumerate() {
            let dates = validity::validity(cert)
                .map_err(|reason| TlsError::BadCertificate { index, reason })?;
            if now > dates.not_after {
                return Err(TlsError::Expired {
                    index,
                    not_after: to_system_time(dates.not_after),
                });
            }
            if now < dates.not_before {
                return Err(TlsError::NotYetValid {
                    index,
                    not_before: to_system_time(dates.not_before),
                });
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(TlsError::Rustls)?
            .with_no_client_auth()
            .with_single_cert(cert_chain, key)
            .map_err(|err| match err {
                rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch) => {
                    TlsError::KeyMismatch
                }
                other => TlsError::Rustls(other),
            })?;
        config.alpn_protocols = ALPN_PROTOCOLS.iter().map(|p| p.to_vec()).collect();
        Ok(Self {
            config: Arc::new(config),
        })
    }

    /// Uses a rustls configuration as it is, for client certificates, SNI
    /// resolvers or other providers.
    ///
    /// # Note
    /// Set its `alpn_protocols` (e.g. to [`ALPN_PROTOCOLS`]): without `h2`
    /// there, browsers speak HTTP/1.1 and keep their six-connection limit.
    pub fn from_rustls(config: Arc<ServerConfig>) -> Self {
        Self { config }
    }

    /// The rustls configuration.
    pub fn rustls_config(&self) -> &Arc<ServerConfig> {
        &self.config
    }
}

fn to_system_time(unix: i64) -> SystemTime {
    match u64::try_from(unix) {
        Ok(secs) => UNIX_EPOCH + std::time::Duration::from_secs(secs),
        Err(_) => UNIX_EPOCH - std::time::Duration::from_secs(unix.unsigned_abs()),
    }
}

fn parse_chain(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let chain = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| TlsError::Pem(err.to_string()))?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate { path: None });
    }
    Ok(chain)
}

fn parse_key(pem: &[u8]) -> Result<PrivateKeyDer<'static>, TlsError> {
    match PrivateKeyDer::from_pem_slice(pem) {
        Ok(key) => Ok(key),
        Err(rustls_pki_types::pem::Error::NoItemsFound) => Err(TlsError::NoKey { path: None }),
        Err(err) => Err(TlsError::Pem(err.to_string())),
    }
}

/// Why a [`TlsConfig`] could not be built.
#[derive(Debug)]
#[non_exhaustive]
pub enum TlsError {
    /// A file could not be read.
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// No `CERTIFICATE` section in the PEM (or an empty chain).
    NoCertificate {
        /// The file, if read from one.
        path: Option<PathBuf>,
    },
    /// No `PRIVATE KEY`, `RSA PRIVATE KEY` or `EC PRIVATE KEY` section in the PEM.
    NoKey {
        /// The file, if read from one.
        path: Option<PathBuf>,
    },
    /// The PEM text is malformed.
    Pem(String),
    /// A certificate of the chain is not valid DER.
    BadCertificate {
        /// Its place in the chain, 0 for the leaf.
        index: usize,
        /// What is malformed.
        reason: &'static str,
    },
    /// A certificate of the chain has expired.
    Expired {
        /// Its place in the chain, 0 for the leaf.
        index: usize,
        /// When it expired.
        not_after: SystemTime,
    },
    /// A certificate of the chain is not valid yet.
    NotYetValid {
        /// Its place in the chain, 0 for the leaf.
        index: usize,
        /// When it becomes valid.
        not_before: SystemTime,
    },
    /// The private key does not belong to the leaf certificate.
    KeyMismatch,
    /// rustls refused the key or configuration.
    Rustls(rustls::Error),
}

impl TlsError {
    fn in_file(self, file: &Path) -> Self {
        match self {
            Self::NoCertificate { .. } => Self::NoCertificate {
                path: Some(file.to_owned()),
            },
            Self::NoKey { .. } => Self::NoKey {
                path: Some(file.to_owned()),
            },
            other => other,
        }
    }
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let place = |index: &usize| match index {
            0 => "the certificate".to_owned(),
            n => format!("certificate {n} of the chain"),
        };
        let unix = |t: &SystemTime| match t.duration_since(UNIX_EPOCH) {
            Ok(d) => format!("{} s after the Unix epoch", d.as_secs()),
            Err(_) => "before the Unix epoch".to_owned(),
        };
        match self {
            Self::Read { path, source } => write!(f, "cannot read {}: {source}", path.display()),
            Self::NoCertificate { path: Some(path) } => {
                write!(f, "no CERTIFICATE in {}", path.display())
            }
            Self::NoCertificate { path: None } => f.write_str("no CERTIFICATE in the PEM"),
            Self::NoKey { path: Some(path) } => write!(f, "no PRIVATE KEY in {}", path.display()),
            Self::NoKey { path: None } => f.write_str("no PRIVATE KEY in the PEM"),
            Self::Pem(err) => write!(f, "malformed PEM: {err}"),
            Self::BadCertificate { index, reason } => {
                write!(f, "{} cannot be parsed: {reason}", place(index))
            }
            Self::Expired { index, not_after } => {
                write!(f, "{} expired ({})", place(index), unix(not_after))
            }
            Self::NotYetValid { index, not_before } => {
                write!(
                    f,
                    "{} is not valid until {}",
                    place(index),
                    unix(not_before)
                )
            }
            Self::KeyMismatch => f.write_str("the private key does not match the certificate"),
            Self::Rustls(err) => write!(f, "rustls refused the configuration: {err}"),
        }
    }
}

impl std::error::Error for TlsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Read { source, .. } => Some(source),
            Self::Rustls(err) => Some(err),
            _ => None,
        }
    }
}
