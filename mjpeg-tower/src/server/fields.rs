//! Header fields both protocols' servers read or add.

use std::time::SystemTime;

use http::header::{self, HeaderMap, HeaderValue};

/// The one valid `content-length`, if the headers carry exactly one.
///
/// Digits only (RFC 9110, 8.6): `u64::from_str` also takes a leading `+`,
/// which would be written as is and read differently by each client.
pub(super) fn content_length(headers: &HeaderMap) -> Option<u64> {
    let mut values = headers.get_all(header::CONTENT_LENGTH).iter();
    let digits = values.next()?.to_str().ok()?.trim();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let length = digits.parse().ok()?;
    values.next().is_none().then_some(length)
}

/// Adds `date` (now) unless the response has one, as hyper does.
pub(super) fn add_date(headers: &mut HeaderMap) {
    headers.entry(header::DATE).or_insert_with(|| {
        HeaderValue::from_str(&httpdate::fmt_http_date(SystemTime::now()))
            .unwrap_or_else(|_| HeaderValue::from_static("Thu, 01 Jan 1970 00:00:00 GMT"))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_one_all_digit_content_length_counts() {
        let mut headers = HeaderMap::new();
        assert_eq!(content_length(&headers), None);
        for (value, length) in [("42", Some(42)), (" 7 ", Some(7)), ("+3", None), ("", None)] {
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static(value));
            assert_eq!(content_length(&headers), length, "{value:?}");
        }
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("1"));
        headers.append(header::CONTENT_LENGTH, HeaderValue::from_static("1"));
        assert_eq!(content_length(&headers), None, "two values");
    }
}
