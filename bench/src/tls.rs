//! TLS for the HTTPS and HTTP/2 scenarios: a test CA and a `127.0.0.1`
//! certificate made with `rcgen` when the driver starts, and the load
//! generator's rustls client (`ring` provider) that trusts only that CA.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use rustls::ClientConfig;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

/// Where the test PKI's files are.
#[derive(Clone, Debug)]
pub(crate) struct TestPki {
    /// The CA certificate (PEM): what the load generator trusts.
    pub(crate) ca: PathBuf,
    /// The server's certificate chain (PEM, leaf first).
    pub(crate) cert: PathBuf,
    /// The server's private key (PEM).
    pub(crate) key: PathBuf,
}

/// Makes a CA and a certificate for `127.0.0.1` and `localhost` signed by it,
/// and writes them under `dir`.
pub(crate) fn make_test_pki(dir: &Path) -> Result<TestPki, String> {
    fn e(what: &'static str) -> impl Fn(rcgen::Error) -> String {
        move |err| format!("test CA: {what}: {err}")
    }
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(e("params"))?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "mjpeg-bench test CA");
    let ca_key = KeyPair::generate().map_err(e("CA key"))?;
    let ca_cert = ca_params
        .self_signed(&ca_key)
        .map_err(e("CA certificate"))?;
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_params = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .map_err(e("leaf params"))?;
    let leaf_key = KeyPair::generate().map_err(e("leaf key"))?;
    let leaf = leaf_params
        .signed_by(&leaf_key, &issuer)
        .map_err(e("leaf certificate"))?;
    std::fs::create_dir_all(dir).map_err(|err| format!("{}: {err}", dir.display()))?;
    let pki = TestPki {
        ca: dir.join("ca.pem"),
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    };
    for (path, text) in [
        (&pki.ca, ca_cert.pem()),
        (&pki.cert, leaf.pem()),
        (&pki.key, leaf_key.serialize_pem()),
    ] {
        std::fs::write(path, text).map_err(|err| format!("{}: {err}", path.display()))?;
    }
    Ok(pki)
}

/// A client that trusts only the CA in `ca_pem` and offers `alpn`.
pub(crate) fn client_config(ca_pem: &Path, alpn: &[u8]) -> Result<Arc<ClientConfig>, String> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in
        CertificateDer::pem_file_iter(ca_pem).map_err(|e| format!("{}: {e}", ca_pem.display()))?
    {
        let cert = cert.map_err(|e| format!("{}: {e}", ca_pem.display()))?;
        roots
            .add(cert)
            .map_err(|e| format!("{}: {e}", ca_pem.display()))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS client: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![alpn.to_vec()];
    Ok(Arc::new(config))
}

/// `bench test-ca --dir DIR`.
pub(crate) fn main(args: &[String]) -> i32 {
    let run = || -> Result<(), String> {
        let a = crate::args::Args::parse(args, &[])?;
        make_test_pki(Path::new(a.require("dir")?)).map(drop)
    };
    crate::child::exit_code(run())
}
