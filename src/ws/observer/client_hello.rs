//! The server name (SNI) of a TLS ClientHello, read off the first bytes a client sends: how
//! the proxy tells clients apart on `wss://` links, whose upgrade headers are encrypted. Pure
//! and bounded: it reads one handshake record (at most 16 KiB) and never decrypts anything.

/// The first byte of a TLS handshake record.
pub const HANDSHAKE_RECORD: u8 = 0x16;

/// A ClientHello fits one record: at most this many bytes with its 5-byte header.
const MAX_RECORD: usize = 5 + 16 * 1024;

/// How far the reading got.
#[derive(Debug, PartialEq, Eq)]
pub enum Hello {
    /// Not all of the record is here yet.
    More,
    /// The ClientHello was read: the host name it asks for, if it names one.
    Read(Option<String>),
    /// Not a ClientHello this reader can follow.
    Invalid,
}

/// Reads the ClientHello in `bytes` (everything the client sent so far).
pub fn read(bytes: &[u8]) -> Hello {
    if bytes.first().is_some_and(|b| *b != HANDSHAKE_RECORD) {
        return Hello::Invalid;
    }
    if bytes.len() < 5 {
        return Hello::More;
    }
    let length = usize::from(u16::from_be_bytes([bytes[3], bytes[4]]));
    if 5 + length > MAX_RECORD {
        return Hello::Invalid;
    }
    let Some(record) = bytes.get(5..5 + length) else { return Hello::More };
    match server_name(record) {
        Some(name) => Hello::Read(name),
        None => Hello::Invalid,
    }
}

/// A cursor over a byte slice; every read is bounds-checked.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    fn u8(&mut self) -> Option<usize> {
        self.take(1).map(|b| usize::from(b[0]))
    }

    fn u16(&mut self) -> Option<usize> {
        self.take(2).map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
    }

    /// A vector with a length prefix of `width` bytes.
    fn vec(&mut self, width: usize) -> Option<&'a [u8]> {
        let n = if width == 1 { self.u8()? } else { self.u16()? };
        self.take(n)
    }
}

/// The host name of a ClientHello handshake message (`None` inside: it names none); `None`
/// for a message that is not a well-formed ClientHello.
fn server_name(handshake: &[u8]) -> Option<Option<String>> {
    let mut at = Cursor(handshake);
    if at.u8()? != 1 {
        return None; // not a ClientHello
    }
    let length = at.take(3)?;
    let length = (usize::from(length[0]) << 16) | (usize::from(length[1]) << 8) | usize::from(length[2]);
    let mut hello = Cursor(at.take(length)?);
    hello.take(2 + 32)?; // legacy version, random
    hello.vec(1)?; // session id
    hello.vec(2)?; // cipher suites
    hello.vec(1)?; // compression methods
    if hello.0.is_empty() {
        return Some(None); // no extensions at all
    }
    let mut extensions = Cursor(hello.vec(2)?);
    while !extensions.0.is_empty() {
        let kind = extensions.u16()?;
        let data = extensions.vec(2)?;
        if kind != 0 {
            continue; // not server_name
        }
        let mut list = Cursor(Cursor(data).vec(2)?);
        while !list.0.is_empty() {
            let name_type = list.u8()?;
            let name = list.vec(2)?;
            if name_type == 0 {
                return Some(std::str::from_utf8(name).ok().map(str::to_ascii_lowercase));
            }
        }
        return Some(None);
    }
    Some(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal ClientHello record naming `name` (or no SNI extension at all).
    fn hello(name: Option<&str>) -> Vec<u8> {
        let mut body = vec![3, 3];
        body.extend([7u8; 32]);
        body.extend([0, 0, 2, 0x13, 0x01, 1, 0]);
        let mut extensions = Vec::new();
        extensions.extend([0x00, 0x2b, 0, 3, 2, 3, 4]); // supported_versions
        if let Some(name) = name {
            let entry_len = 3 + name.len();
            extensions.extend([0, 0]);
            extensions.extend(u16::try_from(entry_len + 2).unwrap().to_be_bytes());
            extensions.extend(u16::try_from(entry_len).unwrap().to_be_bytes());
            extensions.push(0);
            extensions.extend(u16::try_from(name.len()).unwrap().to_be_bytes());
            extensions.extend(name.as_bytes());
        }
        body.extend(u16::try_from(extensions.len()).unwrap().to_be_bytes());
        body.extend(extensions);
        let mut handshake = vec![1, 0];
        handshake.extend(u16::try_from(body.len()).unwrap().to_be_bytes());
        handshake.extend(body);
        let mut record = vec![HANDSHAKE_RECORD, 3, 1];
        record.extend(u16::try_from(handshake.len()).unwrap().to_be_bytes());
        record.extend(handshake);
        record
    }

    #[test]
    fn reads_the_name_however_the_bytes_are_cut() {
        let record = hello(Some("C7.wschaos.test"));
        for cut in 0..record.len() {
            assert_eq!(read(&record[..cut]), Hello::More, "cut at {cut}");
        }
        assert_eq!(read(&record), Hello::Read(Some("c7.wschaos.test".to_string())));
        assert_eq!(read(&hello(None)), Hello::Read(None));
    }

    #[test]
    fn anything_else_is_invalid_never_a_panic() {
        assert_eq!(read(b"GET / HTTP/1.1\r\n"), Hello::Invalid);
        let mut record = hello(Some("c1.wschaos.test"));
        record[5] = 2; // a ServerHello
        assert_eq!(read(&record), Hello::Invalid);
        let mut truncated = hello(Some("c1.wschaos.test"));
        truncated[4] = truncated[4].wrapping_sub(3); // the record ends inside the name
        assert_eq!(read(&truncated), Hello::Invalid);
        assert_eq!(read(&[HANDSHAKE_RECORD, 3, 1, 0xff, 0xff]), Hello::Invalid);
    }
}
