//! Subjects: one per stream, `mjpeg.<name>` by default, and the subject an
//! origin answers "what is the latest frame?" on.

use crate::error::NameError;

/// The prefix of the default subjects.
pub const DEFAULT_PREFIX: &str = "mjpeg";

/// The subject of stream `name`: `mjpeg.<name>`.
///
/// # Errors
/// When `name` is not one subject token (empty, or has `.`, `*`, `>` or
/// whitespace).
///
/// ```
/// assert_eq!(mjpeg_nats::subject("cam1").unwrap(), "mjpeg.cam1");
/// assert!(mjpeg_nats::subject("a.b").is_err());
/// ```
pub fn subject(name: &str) -> Result<String, NameError> {
    let bad = |c: char| c == '.' || c == '*' || c == '>' || c.is_whitespace() || c.is_control();
    if name.is_empty() || name.contains(bad) {
        return Err(NameError {
            name: name.to_owned(),
        });
    }
    Ok(format!("{DEFAULT_PREFIX}.{name}"))
}

/// The subject an origin answers requests for its latest frame on.
pub(crate) fn latest(subject: &str) -> String {
    format!("{subject}.latest")
}
