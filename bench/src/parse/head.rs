//! The response head: a `200` status line, a multipart content type and its
//! boundary, and whether the body is chunked.

use super::{ParseError, err};

/// Checks the status line and returns (chunked, boundary).
pub(super) fn parse_head(head: &[u8]) -> Result<(bool, String), ParseError> {
    let text = std::str::from_utf8(head).map_err(|_| ParseError("non-UTF-8 head".into()))?;
    let mut lines = text.split("\r\n");
    let status = lines.next().unwrap_or_default();
    let code = status.split(' ').nth(1).unwrap_or_default();
    if !status.starts_with("HTTP/1.") || code != "200" {
        return err(format!("unexpected status line {status:?}"));
    }
    let mut chunked = false;
    let mut boundary = None;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.to_ascii_lowercase().contains("chunked");
        } else if name.eq_ignore_ascii_case("content-type") {
            boundary = Some(boundary_of(value)?);
        }
    }
    match boundary {
        Some(b) => Ok((chunked, b)),
        None => err("no multipart boundary in the response head"),
    }
}

/// The boundary of a `multipart/x-mixed-replace` content type.
pub(super) fn boundary_of(content_type: &str) -> Result<String, ParseError> {
    if !content_type
        .to_ascii_lowercase()
        .starts_with("multipart/x-mixed-replace")
    {
        return err(format!("unexpected content type {content_type:?}"));
    }
    for param in content_type.split(';').skip(1) {
        if let Some((k, v)) = param.trim().split_once('=')
            && k.trim().eq_ignore_ascii_case("boundary")
        {
            let v = v.trim().trim_matches('"');
            let b = v.strip_prefix("--").unwrap_or(v);
            if !b.is_empty() {
                return Ok(b.to_owned());
            }
        }
    }
    err("no multipart boundary in the content type")
}
