//! Stream names: what may appear in `/streams/{name}/...`.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;
use std::str::FromStr;

/// The longest accepted stream name, in bytes.
pub const MAX_NAME_LEN: usize = 64;

/// A valid stream name: 1 to [`MAX_NAME_LEN`] ASCII letters, digits, `-`,
/// `_` or `.`, not starting with `.`.
///
/// Names appear in URL paths and in the `/streams` JSON as they are, so
/// nothing in them needs escaping.
///
/// ```
/// use mjpeg_tower::streams::StreamName;
///
/// assert!(StreamName::new("front-door").is_ok());
/// assert!(StreamName::new("../etc").is_err());
/// assert!(StreamName::new("").is_err());
///
/// // It reads as a `&str` wherever one is expected.
/// let name: StreamName = "porch".parse()?;
/// assert!(name.starts_with("po"));
/// assert_eq!(name, "porch");
/// let path = format!("/streams/{name}/stream");
/// assert_eq!(path, "/streams/porch/stream");
/// # Ok::<(), mjpeg_tower::streams::NameError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamName(Box<str>);

impl StreamName {
    /// Checks `name`.
    ///
    /// # Errors
    /// [`NameError`] saying what is wrong with it.
    pub fn new(name: &str) -> Result<Self, NameError> {
        if name.is_empty() {
            return Err(NameError::Empty);
        }
        if name.len() > MAX_NAME_LEN {
            return Err(NameError::TooLong(name.len()));
        }
        if name.starts_with('.') {
            return Err(NameError::LeadingDot);
        }
        let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
        if let Some(c) = name.chars().find(|c| !ok(*c)) {
            return Err(NameError::Character(c));
        }
        Ok(Self(name.into()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StreamName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Deref for StreamName {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for StreamName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

// `Ord`, `Eq` and `Hash` are those of the `str`, as `Borrow` requires.
impl Borrow<str> for StreamName {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for StreamName {
    fn eq(&self, other: &str) -> bool {
        *self.0 == *other
    }
}

impl PartialEq<&str> for StreamName {
    fn eq(&self, other: &&str) -> bool {
        *self.0 == **other
    }
}

impl FromStr for StreamName {
    type Err = NameError;

    fn from_str(name: &str) -> Result<Self, NameError> {
        Self::new(name)
    }
}

impl TryFrom<&str> for StreamName {
    type Error = NameError;

    fn try_from(name: &str) -> Result<Self, NameError> {
        Self::new(name)
    }
}

/// Why a stream name was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NameError {
    /// The name is empty.
    Empty,
    /// The name is longer than [`MAX_NAME_LEN`] bytes (its length).
    TooLong(usize),
    /// The name starts with `.`.
    LeadingDot,
    /// The name holds a character outside `A-Z a-z 0-9 - _ .`.
    Character(char),
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("a stream name cannot be empty"),
            Self::TooLong(len) => write!(
                f,
                "a stream name has at most {MAX_NAME_LEN} bytes, not {len}"
            ),
            Self::LeadingDot => f.write_str("a stream name cannot start with '.'"),
            Self::Character(c) => {
                write!(f, "a stream name holds only A-Z a-z 0-9 - _ . (not {c:?})")
            }
        }
    }
}

impl std::error::Error for NameError {}
