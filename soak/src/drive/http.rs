//! The driver's HTTP: hand-written HTTP/1.0 requests on raw sockets, so
//! each client controls exactly how it reads, stops and closes.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

/// The largest response head read.
const MAX_HEAD: usize = 16 * 1024;

/// A response's status line, content type and `Retry-After`.
#[derive(Debug)]
pub(super) struct Head {
    pub(super) status: u16,
    pub(super) content_type: Option<String>,
    pub(super) retry_after: Option<String>,
}

fn timed_out() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "timed out")
}

/// `GET path` and the whole body (the server closes after an HTTP/1.0 response).
pub(super) async fn get(
    addr: SocketAddr,
    path: &str,
    limit: Duration,
) -> io::Result<(u16, Vec<u8>)> {
    timeout(limit, async {
        let (mut socket, head, mut body) = open(addr, path).await?;
        socket.read_to_end(&mut body).await?;
        Ok((head.status, body))
    })
    .await
    .map_err(|_| timed_out())?
}

/// Connects, sends `GET path` and reads the response head; returns the
/// socket, the head and the body bytes read past it.
pub(super) async fn open(addr: SocketAddr, path: &str) -> io::Result<(TcpStream, Head, Vec<u8>)> {
    let socket = TcpStream::connect(addr).await?;
    request(socket, path).await
}

/// Sends `GET path` (HTTP/1.0: the server closes after the response) on
/// `socket` and reads the response head.
pub(super) async fn request<S>(mut socket: S, path: &str) -> io::Result<(S, Head, Vec<u8>)>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let request = format!("GET {path} HTTP/1.0\r\nHost: soak\r\n\r\n");
    socket.write_all(request.as_bytes()).await?;
    socket.flush().await?;
    let (head, rest) = read_head(&mut socket).await?;
    Ok((socket, head, rest))
}

/// Reads a response head within 10 s.
pub(super) async fn read_head<S: AsyncRead + Unpin>(socket: &mut S) -> io::Result<(Head, Vec<u8>)> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    loop {
        let n = timeout(Duration::from_secs(10), socket.read(&mut chunk))
            .await
            .map_err(|_| timed_out())??;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "closed before a response head",
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = parse_head(&buf[..end])?;
            return Ok((head, buf.split_off(end + 4)));
        }
        if buf.len() > MAX_HEAD {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "response head too long",
            ));
        }
    }
}

fn parse_head(head: &[u8]) -> io::Result<Head> {
    let bad = || io::Error::new(io::ErrorKind::InvalidData, "bad response head");
    let text = std::str::from_utf8(head).map_err(|_| bad())?;
    let mut lines = text.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(bad)?;
    let (mut content_type, mut retry_after) = (None, None);
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if name.eq_ignore_ascii_case("content-type") {
            content_type = Some(value.trim().to_owned());
        } else if name.eq_ignore_ascii_case("retry-after") {
            retry_after = Some(value.trim().to_owned());
        }
    }
    Ok(Head {
        status,
        content_type,
        retry_after,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_status_and_content_type() {
        let head = super::parse_head(
            b"HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace; boundary=b\r\nx: y\r\nretry-after: 2",
        )
        .unwrap();
        assert_eq!(head.status, 200);
        assert_eq!(
            head.content_type.as_deref(),
            Some("multipart/x-mixed-replace; boundary=b")
        );
        assert_eq!(head.retry_after.as_deref(), Some("2"));
        assert!(super::parse_head(b"garbage").is_err());
    }
}
