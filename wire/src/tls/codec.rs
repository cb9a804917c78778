//! Bounds-checked reading and length-prefixed writing of TLS vectors.

use super::WireError;

/// A cursor over bytes whose extent an enclosing length field already vouched for, so running
/// out of bytes means the peer's lengths contradict each other: `Malformed`, never `Truncated`.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    what: &'static str,
}

impl<'a> Reader<'a> {
    /// `what` is the complaint reported when a field overruns these bytes.
    pub(crate) fn new(bytes: &'a [u8], what: &'static str) -> Self {
        Reader { bytes, what }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    pub(crate) fn rest(&self) -> &'a [u8] {
        self.bytes
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        let Some((head, tail)) = self.bytes.split_at_checked(n) else {
            return Err(WireError::Malformed(self.what));
        };
        self.bytes = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        self.take(N)?
            .try_into()
            .map_err(|_| WireError::Malformed(self.what))
    }

    pub(crate) fn u8(&mut self) -> Result<u8, WireError> {
        Ok(u8::from_be_bytes(self.array()?))
    }

    pub(crate) fn u16(&mut self) -> Result<u16, WireError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    pub(crate) fn u24(&mut self) -> Result<usize, WireError> {
        let [a, b, c] = self.array()?;
        Ok(usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c))
    }

    /// A vector with a one-byte length, as its own reader.
    pub(crate) fn vec8(&mut self) -> Result<Reader<'a>, WireError> {
        let n = usize::from(self.u8()?);
        Ok(Reader::new(self.take(n)?, self.what))
    }

    pub(crate) fn vec16(&mut self) -> Result<Reader<'a>, WireError> {
        let n = usize::from(self.u16()?);
        Ok(Reader::new(self.take(n)?, self.what))
    }

    pub(crate) fn vec24(&mut self) -> Result<Reader<'a>, WireError> {
        let n = self.u24()?;
        Ok(Reader::new(self.take(n)?, self.what))
    }

    /// The remaining bytes as big-endian u16 values (cipher suites, versions, groups).
    pub(crate) fn u16_list(mut self) -> Result<Vec<u16>, WireError> {
        let mut values = Vec::with_capacity(self.bytes.len() / 2);
        while !self.is_empty() {
            values.push(self.u16()?);
        }
        Ok(values)
    }
}

pub(crate) fn put_u16(out: &mut Vec<u8>, value: u16) {
    out.extend_from_slice(&value.to_be_bytes());
}

/// Appends what `body` writes behind its big-endian length in `width` bytes (1, 2 or 3); the
/// length is filled in afterwards so nested vectors need no size computed in advance.
pub(crate) fn prefixed(out: &mut Vec<u8>, width: usize, body: impl FnOnce(&mut Vec<u8>)) {
    let start = out.len();
    out.resize(start + width, 0);
    body(out);
    let length = out.len() - start - width;
    debug_assert!(
        length < 1 << (8 * width),
        "vector too long for its length field"
    );
    let be = (length as u32).to_be_bytes();
    out[start..start + width].copy_from_slice(&be[be.len() - width..]);
}
