//! Extracting the boundary from a `Content-Type` header value.

use crate::decode::error::{DecodeError, shorten};

/// Returns the `boundary` parameter of a `multipart/*` media type.
///
/// The media type and the parameter name are matched case-insensitively; the
/// value may be a token or a quoted string (with backslash escapes).
pub(crate) fn boundary_param(value: &str) -> Result<String, DecodeError> {
    let (media_type, mut rest) = match value.find(';') {
        Some(i) => (&value[..i], &value[i + 1..]),
        None => (value, ""),
    };
    let media_type = media_type.trim();
    let is_multipart = media_type
        .get(..10)
        .is_some_and(|p| p.eq_ignore_ascii_case("multipart/"))
        && media_type.len() > 10;
    if !is_multipart {
        return Err(DecodeError::NotMultipart {
            content_type: shorten(value),
        });
    }
    loop {
        rest = rest.trim_start_matches([' ', '\t', ';']);
        if rest.is_empty() {
            break;
        }
        let name_end = rest.find(['=', ';']).unwrap_or(rest.len());
        let name = rest[..name_end].trim();
        rest = &rest[name_end..];
        let Some(after_eq) = rest.strip_prefix('=') else {
            // A parameter without a value; skip it.
            continue;
        };
        let (param_value, remainder) = parse_value(after_eq);
        rest = remainder;
        if name.eq_ignore_ascii_case("boundary") {
            if param_value.is_empty() {
                break;
            }
            return Ok(param_value);
        }
    }
    Err(DecodeError::MissingBoundary {
        content_type: shorten(value),
    })
}

/// Parses a parameter value (token or quoted string) and returns it with the rest
/// of the input.
fn parse_value(input: &str) -> (String, &str) {
    let input = input.trim_start_matches([' ', '\t']);
    if let Some(quoted) = input.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = quoted.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => return (out, &quoted[i + 1..]),
                '\\' => {
                    if let Some((_, escaped)) = chars.next() {
                        out.push(escaped);
                    }
                }
                _ => out.push(c),
            }
        }
        // Unterminated quote: be lenient and take everything.
        (out, "")
    } else {
        let end = input.find(';').unwrap_or(input.len());
        (input[..end].trim().to_owned(), &input[end..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_and_quoted() {
        assert_eq!(
            boundary_param("multipart/x-mixed-replace;boundary=abc").unwrap(),
            "abc"
        );
        assert_eq!(
            boundary_param("multipart/x-mixed-replace; boundary=\"a b;c\"").unwrap(),
            "a b;c"
        );
        assert_eq!(
            boundary_param("multipart/mixed; boundary=\"a\\\"b\"").unwrap(),
            "a\"b"
        );
    }

    #[test]
    fn odd_parameters() {
        assert_eq!(
            boundary_param(
                "Multipart/X-Mixed-Replace; charset; x=\"q;boundary=no\"; BOUNDARY = frame ; y=1"
            )
            .unwrap(),
            "frame"
        );
        assert_eq!(
            boundary_param("multipart/x; boundary=\"abc").unwrap(),
            "abc"
        );
    }

    #[test]
    fn failures() {
        assert!(matches!(
            boundary_param("multipart/x-mixed-replace"),
            Err(DecodeError::MissingBoundary { .. })
        ));
        assert!(matches!(
            boundary_param("multipart/x-mixed-replace; boundary=\"\""),
            Err(DecodeError::MissingBoundary { .. })
        ));
        assert!(matches!(
            boundary_param("image/jpeg; boundary=x"),
            Err(DecodeError::NotMultipart { .. })
        ));
        assert!(matches!(
            boundary_param("multipart/; boundary=x"),
            Err(DecodeError::NotMultipart { .. })
        ));
        assert!(matches!(
            boundary_param(""),
            Err(DecodeError::NotMultipart { .. })
        ));
        assert!(matches!(
            boundary_param("é"),
            Err(DecodeError::NotMultipart { .. })
        ));
    }
}
