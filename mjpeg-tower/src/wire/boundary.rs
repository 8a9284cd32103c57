//! [`Boundary`]: the validated multipart boundary.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// The longest boundary RFC 2046 allows.
const MAX_LEN: usize = 70;

/// The default boundary: long, and made of text that JPEG entropy-coded data
/// practically never contains.
const DEFAULT: &str = "mjpeg-tower-boundary-2f9c4e7a1d";

/// A multipart boundary, checked against RFC 2046 and sent unquoted.
///
/// Because it is sent unquoted (a quoted boundary freezes Safari), it must also
/// be an RFC 2045 token: letters, digits and `' + _ - .` only, 1 to 70 chars,
/// and it must not start with `--` (that prefix belongs to the delimiter line).
///
/// ```
/// use mjpeg_tower::Boundary;
///
/// assert!(Boundary::new("frame").is_ok());
/// let err = Boundary::new("a b").unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "boundary has ' ' at byte 1; only letters, digits and ' + _ - . are allowed (it is sent unquoted)"
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Boundary(Arc<str>);

impl Boundary {
    /// Validates `value` as a boundary.
    ///
    /// # Errors
    /// Returns a [`BoundaryError`] saying what is wrong with `value`.
    pub fn new(value: impl AsRef<str>) -> Result<Self, BoundaryError> {
        let value = value.as_ref();
        if value.is_empty() {
            return Err(BoundaryError::Empty);
        }
        if value.len() > MAX_LEN {
            return Err(BoundaryError::TooLong { len: value.len() });
        }
        if value.starts_with("--") {
            return Err(BoundaryError::LeadingDashes);
        }
        if let Some((index, ch)) = value.char_indices().find(|&(_, c)| !is_token_bchar(c)) {
            return Err(BoundaryError::InvalidChar { ch, index });
        }
        Ok(Self(Arc::from(value)))
    }

    /// The boundary text, without the leading `--` of the delimiter line.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for Boundary {
    fn default() -> Self {
        Self(Arc::from(DEFAULT))
    }
}

impl fmt::Display for Boundary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Boundary {
    type Err = BoundaryError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

/// RFC 2046 `bcharsnospace` that are also RFC 2045 token characters.
fn is_token_bchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '\'' | '+' | '_' | '-' | '.')
}

/// Why a boundary was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BoundaryError {
    /// The boundary is empty.
    Empty,
    /// The boundary is longer than 70 characters.
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// The boundary starts with `--`.
    LeadingDashes,
    /// The boundary contains a character that may not appear unquoted.
    InvalidChar {
        /// The character.
        ch: char,
        /// Its byte offset.
        index: usize,
    },
}

impl fmt::Display for BoundaryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("boundary is empty; it needs 1 to 70 chars"),
            Self::TooLong { len } => {
                write!(f, "boundary has {len} chars; at most {MAX_LEN} are allowed")
            }
            Self::LeadingDashes => f.write_str(
                "boundary starts with \"--\"; give it without the dashes, the delimiter line adds them",
            ),
            Self::InvalidChar { ch, index } => write!(
                f,
                "boundary has {ch:?} at byte {index}; only letters, digits and ' + _ - . are allowed (it is sent unquoted)"
            ),
        }
    }
}

impl std::error::Error for BoundaryError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_rfc_2046_token_boundaries() {
        for ok in [
            "a",
            "frame",
            "boundarydonotcross",
            "A-b_c.d'e+f",
            &"x".repeat(70),
        ] {
            assert_eq!(Boundary::new(ok).unwrap().as_str(), ok);
        }
        assert!(Boundary::default().as_str().len() <= MAX_LEN);
        Boundary::new(Boundary::default().as_str()).unwrap();
    }

    #[test]
    fn rejects_bad_boundaries_with_the_reason() {
        assert_eq!(Boundary::new(""), Err(BoundaryError::Empty));
        assert_eq!(
            Boundary::new("x".repeat(75)).unwrap_err().to_string(),
            "boundary has 75 chars; at most 70 are allowed"
        );
        assert_eq!(Boundary::new("--abc"), Err(BoundaryError::LeadingDashes));
        assert_eq!(
            Boundary::new("abc "),
            Err(BoundaryError::InvalidChar { ch: ' ', index: 3 })
        );
        for bad in ["a\"b", "a;b", "a\r\nb", "a/b", "a=b", "a:b", "é"] {
            assert!(
                matches!(Boundary::new(bad), Err(BoundaryError::InvalidChar { .. })),
                "{bad:?} should be rejected"
            );
        }
    }
}
