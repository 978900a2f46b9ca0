//! The HTTP side of a WebSocket link: the upgrade request (upstream) and the server's answer
//! (downstream), gathered up to the blank line that ends them and then parsed with `httparse`.
//!
//! A head is copied here only while it is incomplete and only up to [`HEAD_LIMIT_BYTES`]; the
//! bytes themselves flow on (or are held by the frame stage) independently of this copy.

use crate::wire::{CLIENT_HEADER, CLIENT_QUERY};

use super::Stop;

/// The longest head the observer reads before giving up on a link. Browsers send about 500
/// bytes; 16 KiB is generous for cookies and long URLs and keeps a link's memory bounded.
pub const HEAD_LIMIT_BYTES: usize = 16 * 1024;

/// Headers a head may have before the observer gives up on it.
const MAX_HEADERS: usize = 64;

/// The header in which a client offers extensions and the server accepts them (RFC 6455 §9.1).
pub const EXTENSIONS_HEADER: &str = "sec-websocket-extensions";

/// A complete, parsed head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Head {
    /// The client's request.
    Request {
        /// The client index from the `x-wschaos-client` header, when one of our clients sent it.
        client: Option<u32>,
        /// Whether it asks for a WebSocket (`GET` with `Upgrade: websocket`); the observer stops
        /// following a link whose request does not.
        upgrade: bool,
    },
    /// The server's answer.
    Response {
        /// Its status: 101 opens the WebSocket, anything else refuses it.
        status: u16,
        /// `Retry-After` in whole seconds, when the answer carries one.
        retry_after: Option<u64>,
        /// The extensions it accepted (`Sec-WebSocket-Extensions`), as far as frames care.
        extensions: Extensions,
    },
}

/// The WebSocket extensions a server's answer accepted, as far as they change what a frame's
/// payload means: RFC 7692's permessage-deflate sets RSV1 on compressed messages, and with
/// context takeover (its default) each compressed message refers back to the ones before it
/// in its direction, so one that vanishes makes the peer's decompression of the rest fail.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Extensions {
    /// permessage-deflate was accepted.
    pub deflate: bool,
    /// `client_no_context_takeover`: the client compresses each message on its own.
    pub client_no_context_takeover: bool,
    /// `server_no_context_takeover`: the server compresses each message on its own.
    pub server_no_context_takeover: bool,
    /// An extension other than permessage-deflate was accepted: what it does with the RSV bits
    /// is unknown.
    pub other: bool,
}

impl Extensions {
    /// Reads the values of every `Sec-WebSocket-Extensions` header of an answer:
    /// `permessage-deflate; client_max_window_bits=15, x-other`.
    fn parse<'a>(values: impl Iterator<Item = &'a str>) -> Extensions {
        let mut extensions = Extensions::default();
        for offer in values.flat_map(|value| value.split(',')) {
            let mut parts = offer.split(';').map(str::trim);
            match parts.next() {
                Some("") | None => {}
                Some(name) if name.eq_ignore_ascii_case("permessage-deflate") => {
                    extensions.deflate = true;
                    for parameter in parts {
                        let name = parameter.split('=').next().unwrap_or_default().trim();
                        if name.eq_ignore_ascii_case("client_no_context_takeover") {
                            extensions.client_no_context_takeover = true;
                        } else if name.eq_ignore_ascii_case("server_no_context_takeover") {
                            extensions.server_no_context_takeover = true;
                        }
                    }
                }
                Some(_) => extensions.other = true,
            }
        }
        extensions
    }
}

/// Which head a way carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The request, client to server.
    Request,
    /// The response, server to client.
    Response,
}

/// Where a head being gathered stands after more bytes.
#[derive(Debug, PartialEq, Eq)]
pub enum HeadProgress {
    /// The head needs more bytes; all of the input belongs to it.
    More,
    /// The head ended `used` bytes into the input; the rest is frames.
    Done {
        /// Bytes of the input that belong to the head.
        used: usize,
        /// What it said.
        head: Head,
    },
    /// The bytes are not the head the observer expects.
    Failed(Stop),
}

/// A head being gathered.
#[derive(Debug)]
pub struct HeadReader {
    side: Side,
    bytes: Vec<u8>,
}

impl HeadReader {
    /// A reader for `side`'s head.
    pub fn new(side: Side) -> HeadReader {
        HeadReader { side, bytes: Vec::new() }
    }

    /// Whether no byte has come yet.
    pub fn is_fresh(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Takes the next bytes of the stream.
    pub fn feed(&mut self, input: &[u8]) -> HeadProgress {
        let before = self.bytes.len();
        let room = HEAD_LIMIT_BYTES - before;
        self.bytes.extend_from_slice(&input[..input.len().min(room)]);
        // The blank line may straddle the previous input: look from three bytes back.
        let from = before.saturating_sub(3);
        let end = self.bytes[from..].windows(4).position(|w| w == b"\r\n\r\n").map(|at| from + at + 4);
        match end {
            Some(end) => {
                let progress = match self.parse(end) {
                    Ok(head) => HeadProgress::Done { used: end - before, head },
                    Err(stop) => HeadProgress::Failed(stop),
                };
                self.bytes = Vec::new();
                progress
            }
            None if self.bytes.len() >= HEAD_LIMIT_BYTES => HeadProgress::Failed(Stop::HeadTooLong),
            // A partial parse fails as soon as the bytes cannot start an HTTP head (a TLS
            // ClientHello, say), so such links are given up at their first chunk.
            None => match self.parse_partial() {
                true => HeadProgress::More,
                false => HeadProgress::Failed(Stop::NotHttp),
            },
        }
    }

    fn parse_partial(&self) -> bool {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        match self.side {
            Side::Request => httparse::Request::new(&mut headers).parse(&self.bytes).is_ok(),
            Side::Response => httparse::Response::new(&mut headers).parse(&self.bytes).is_ok(),
        }
    }

    fn parse(&self, end: usize) -> Result<Head, Stop> {
        let bytes = &self.bytes[..end];
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        match self.side {
            Side::Request => {
                let mut request = httparse::Request::new(&mut headers);
                request.parse(bytes).map_err(|_| Stop::NotHttp)?;
                let upgrade = request.method == Some("GET")
                    && header(request.headers, "upgrade")
                        .is_some_and(|value| value.eq_ignore_ascii_case("websocket"));
                let client = header(request.headers, CLIENT_HEADER)
                    .and_then(|value| value.parse().ok())
                    .or_else(|| request.path.and_then(client_in_query));
                Ok(Head::Request { client, upgrade })
            }
            Side::Response => {
                let mut response = httparse::Response::new(&mut headers);
                response.parse(bytes).map_err(|_| Stop::NotHttp)?;
                let status = response.code.ok_or(Stop::NotHttp)?;
                let retry_after =
                    header(response.headers, "retry-after").and_then(|value| value.parse().ok());
                let extensions = Extensions::parse(headers_named(response.headers, EXTENSIONS_HEADER));
                Ok(Head::Response { status, retry_after, extensions })
            }
        }
    }
}

/// The client index in a request target's query (`/path?wschaos_client=3`), for clients
/// that cannot send a header but keep their URL across reconnects.
fn client_in_query(target: &str) -> Option<u32> {
    let (_, query) = target.split_once('?')?;
    query.split('&').find_map(|pair| pair.strip_prefix(CLIENT_QUERY)?.strip_prefix('=')?.parse().ok())
}

/// The trimmed text value of header `name`, if present and text.
fn header<'h>(headers: &'h [httparse::Header<'_>], name: &str) -> Option<&'h str> {
    headers_named(headers, name).next()
}

/// The trimmed text values of every header `name` (a header may come on several lines).
fn headers_named<'h>(headers: &'h [httparse::Header<'_>], name: &str) -> impl Iterator<Item = &'h str> {
    headers
        .iter()
        .filter(move |header| header.name.eq_ignore_ascii_case(name))
        .filter_map(|header| std::str::from_utf8(header.value).ok())
        .map(str::trim)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
        X-Wschaos-Client: 7\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";

    #[test]
    fn a_request_split_anywhere_ends_at_its_blank_line_and_names_the_client() {
        for split in 0..=REQUEST.len() {
            let mut reader = HeadReader::new(Side::Request);
            let (a, b) = REQUEST.split_at(split);
            let mut input = a.to_vec();
            let first = reader.feed(&input);
            let done = if let HeadProgress::Done { used, head } = first {
                assert_eq!((used, split), (REQUEST.len(), REQUEST.len()));
                head
            } else {
                assert_eq!(first, HeadProgress::More, "split at {split}");
                input = [b, b"\x81\x80rest"].concat();
                match reader.feed(&input) {
                    HeadProgress::Done { used, head } => {
                        assert_eq!(used, b.len(), "split at {split}");
                        head
                    }
                    other => panic!("split at {split}: {other:?}"),
                }
            };
            assert_eq!(done, Head::Request { client: Some(7), upgrade: true });
        }
    }

    #[test]
    fn responses_give_their_status_and_retry_after() {
        let mut reader = HeadReader::new(Side::Response);
        let answer = b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\n\r\n";
        assert_eq!(
            reader.feed(answer),
            HeadProgress::Done {
                used: answer.len(),
                head: Head::Response { status: 503, retry_after: Some(5), extensions: Extensions::default() }
            }
        );
        let mut reader = HeadReader::new(Side::Response);
        let switching = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x00";
        assert_eq!(
            reader.feed(switching),
            HeadProgress::Done {
                used: switching.len() - 2,
                head: Head::Response { status: 101, retry_after: None, extensions: Extensions::default() }
            }
        );
    }

    #[test]
    fn the_answer_says_which_extensions_it_accepted() {
        let deflate = Extensions { deflate: true, ..Extensions::default() };
        let cases = [
            ("Sec-WebSocket-Extensions: permessage-deflate\r\n", deflate),
            ("sec-websocket-extensions: permessage-deflate; client_max_window_bits=15\r\n", deflate),
            (
                "Sec-WebSocket-Extensions: Permessage-Deflate; server_no_context_takeover; \
                 client_no_context_takeover\r\n",
                Extensions { client_no_context_takeover: true, server_no_context_takeover: true, ..deflate },
            ),
            (
                "Sec-WebSocket-Extensions: x-webkit-deflate-frame\r\nSec-WebSocket-Extensions: \
                 permessage-deflate;server_no_context_takeover\r\n",
                Extensions { server_no_context_takeover: true, other: true, ..deflate },
            ),
            ("Sec-WebSocket-Extensions: \r\n", Extensions::default()),
            ("", Extensions::default()),
        ];
        for (header, extensions) in cases {
            let answer = format!("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n{header}\r\n");
            let mut reader = HeadReader::new(Side::Response);
            match reader.feed(answer.as_bytes()) {
                HeadProgress::Done { head: Head::Response { extensions: found, .. }, .. } => {
                    assert_eq!(found, extensions, "{header}")
                }
                other => panic!("{header}: {other:?}"),
            }
        }
    }

    #[test]
    fn the_client_is_named_by_header_or_by_query() {
        let cases: [(&[u8], Option<u32>); 5] = [
            (b"GET /?wschaos_client=7 HTTP/1.1\r\n\r\n", Some(7)),
            (b"GET /feed?a=1&wschaos_client=12&b HTTP/1.1\r\n\r\n", Some(12)),
            (b"GET /?wschaos_client=x HTTP/1.1\r\n\r\n", None),
            (b"GET /?my_wschaos_client=3 HTTP/1.1\r\n\r\n", None),
            (b"GET /?wschaos_client=7 HTTP/1.1\r\nx-wschaos-client: 2\r\n\r\n", Some(2)),
        ];
        for (request, client) in cases {
            let HeadProgress::Done { head, .. } = HeadReader::new(Side::Request).feed(request) else {
                panic!("{request:?} is a whole head")
            };
            assert_eq!(
                head,
                Head::Request { client, upgrade: false },
                "{}",
                String::from_utf8_lossy(request)
            );
        }
    }

    #[test]
    fn what_is_not_an_upgrade_head_is_given_up() {
        let tls_hello = [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00];
        assert_eq!(HeadReader::new(Side::Request).feed(&tls_hello), HeadProgress::Failed(Stop::NotHttp));
        assert_eq!(HeadReader::new(Side::Response).feed(b"hello"), HeadProgress::Failed(Stop::NotHttp));
        let plain = b"GET / HTTP/1.1\r\nx-wschaos-client: 2\r\n\r\n";
        let head = Head::Request { client: Some(2), upgrade: false };
        assert_eq!(
            HeadReader::new(Side::Request).feed(plain),
            HeadProgress::Done { used: plain.len(), head }
        );
        let mut reader = HeadReader::new(Side::Request);
        assert_eq!(reader.feed(b"GET / HTTP/1.1\r\nX-Long: "), HeadProgress::More);
        let filler = vec![b'a'; HEAD_LIMIT_BYTES];
        assert_eq!(reader.feed(&filler), HeadProgress::Failed(Stop::HeadTooLong));
    }
}
