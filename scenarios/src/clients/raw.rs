use std::net::SocketAddr;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::Failure;

/// An HTTP answer read off the socket.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RawReply {
    pub status: u16,
    pub body: String,
}

/// Writes one HTTP/1.1 request byte for byte, as given (any verb, any target, any body), and
/// reads the answer: for requests a well-behaved client library would refuse to send.
pub async fn exchange(
    addr: SocketAddr,
    verb: &str,
    target: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<RawReply, Failure> {
    exchange_with(addr, verb, target, content_type, &[], body).await
}

/// [`exchange`] with more header lines, written as given after the content type.
pub async fn exchange_with(
    addr: SocketAddr,
    verb: &str,
    target: &str,
    content_type: Option<&str>,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<RawReply, Failure> {
    let mut socket = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| Failure::Harness(format!("raw exchange with {addr}: {e}")))?;
    let request = request_bytes(verb, target, "dma", content_type, headers, body);
    Ok(send_and_read(&mut socket, &request).await)
}

/// One HTTP/1.1 request as written on the wire: the request line, `Host`, the content type,
/// `headers` as given, the body's length and `Connection: close`, then the body.
pub(super) fn request_bytes(
    verb: &str,
    target: &str,
    host: &str,
    content_type: Option<&str>,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Vec<u8> {
    let mut head = format!("{verb} {target} HTTP/1.1\r\nHost: {host}\r\n");
    if let Some(content_type) = content_type {
        head.push_str(&format!("Content-Type: {content_type}\r\n"));
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    let mut request = head.into_bytes();
    request.extend_from_slice(body);
    request
}

/// Writes `request` and reads until the server closes: its status and body.
pub(super) async fn send_and_read<S>(stream: &mut S, request: &[u8]) -> RawReply
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    // A server may answer and close before reading a large body: that is an answer too.
    let _ = stream.write_all(request).await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    reply_of(&answer)
}

/// The status and body of an HTTP/1.1 answer.
fn reply_of(answer: &[u8]) -> RawReply {
    let text = String::from_utf8_lossy(answer);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return RawReply {
            status,
            body: String::new(),
        };
    };
    let chunked = head.lines().any(|line| {
        line.split_once(':').is_some_and(|(name, value)| {
            name.trim().eq_ignore_ascii_case("transfer-encoding")
                && value.to_ascii_lowercase().contains("chunked")
        })
    });
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_owned()
    };
    RawReply { status, body }
}

/// The data of a chunked body, as far as it is well formed.
fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let size = size.split(';').next().unwrap_or_default().trim();
        let Ok(size) = usize::from_str_radix(size, 16) else {
            break;
        };
        if size == 0 || after.len() < size {
            break;
        }
        out.push_str(&after[..size]);
        rest = after[size..].trim_start_matches("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chunked_answer_is_read_whole() {
        let reply = reply_of(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
        assert_eq!((reply.status, reply.body.as_str()), (200, "abcde"));
        let plain = reply_of(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 2\r\n\r\nno");
        assert_eq!((plain.status, plain.body.as_str()), (403, "no"));
    }
}
