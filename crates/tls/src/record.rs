//! The TLS record header (RFC 9846 §5.1), one wire type for the three places that
//! read or write it: sending, receiving, and explaining a record's bytes.
//!
//! ```text
//! struct {
//!     ContentType type;                 /* 1 byte */
//!     ProtocolVersion legacy_record_version;   /* 2 bytes */
//!     uint16 length;                    /* 2 bytes */
//!     opaque fragment[TLSPlaintext.length];
//! } TLSPlaintext;
//! ```
//!
//! No panics: [`Header::parse`] checks the length first; emitting cannot fail.

use crate::enums::ContentType;

/// Where each header field sits.
pub mod field {
    use core::ops::{Range, RangeFrom};
    /// ContentType.
    pub const CONTENT_TYPE: Range<usize> = 0..1;
    /// legacy_record_version.
    pub const VERSION: Range<usize> = 1..3;
    /// length of the fragment.
    pub const LENGTH: Range<usize> = 3..5;
    /// The fragment (plaintext, or ciphertext and tag).
    pub const FRAGMENT: RangeFrom<usize> = 5..;
}

/// Bytes of the header.
pub const HEADER_LEN: usize = field::FRAGMENT.start;

/// legacy_record_version of every record but an initial ClientHello's (§5.1).
pub const TLS12: u16 = 0x0303;

/// A record header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// The content type (an unknown one is kept as it was sent).
    pub content_type: ContentType,
    /// legacy_record_version.
    pub version: u16,
    /// Length of the fragment that follows.
    pub length: u16,
}

impl Header {
    /// The header at the start of `bytes`, if all five bytes are there.
    pub fn parse(bytes: &[u8]) -> Option<Header> {
        let h: &[u8; HEADER_LEN] = bytes.get(..HEADER_LEN)?.try_into().ok()?;
        let [t, v0, v1, l0, l1] = *h;
        Some(Header {
            content_type: ContentType::from(t),
            version: u16::from_be_bytes([v0, v1]),
            length: u16::from_be_bytes([l0, l1]),
        })
    }

    /// A header for a fragment of `len` bytes (at most 2^16 - 1 are representable;
    /// the record layer never makes longer ones).
    pub fn new(content_type: ContentType, version: u16, len: usize) -> Header {
        Header {
            content_type,
            version,
            length: u16::try_from(len).unwrap_or(u16::MAX),
        }
    }

    /// The five header bytes.
    pub fn emit(&self) -> [u8; HEADER_LEN] {
        let [v0, v1] = self.version.to_be_bytes();
        let [l0, l1] = self.length.to_be_bytes();
        [self.content_type.into(), v0, v1, l0, l1]
    }

    /// The whole record's length, header included.
    pub fn record_len(&self) -> usize {
        HEADER_LEN + usize::from(self.length)
    }
}

/// A whole record: header then `fragment`.
pub fn record(content_type: ContentType, version: u16, fragment: &[u8]) -> Vec<u8> {
    let mut out = Header::new(content_type, version, fragment.len())
        .emit()
        .to_vec();
    out.extend_from_slice(fragment);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8448 §3: the client's first record header (a 192-byte ClientHello).
    static HEADER_BYTES: [u8; 5] = [0x16, 0x03, 0x01, 0x00, 0xc0];

    #[test]
    fn deconstruct_and_construct() {
        let h = Header::parse(&HEADER_BYTES).unwrap();
        assert_eq!(h.content_type, ContentType::Handshake);
        assert_eq!(h.version, 0x0301);
        assert_eq!(h.length, 192);
        assert_eq!(h.record_len(), 197);
        assert_eq!(h.emit(), HEADER_BYTES);
        assert_eq!(&HEADER_BYTES[field::LENGTH], &[0x00, 0xc0]);
    }

    #[test]
    fn short_input_is_no_header_and_unknown_types_round_trip() {
        assert_eq!(Header::parse(&HEADER_BYTES[..4]), None);
        let odd = [0x42, 0x03, 0x03, 0x00, 0x00];
        assert_eq!(Header::parse(&odd).unwrap().emit(), odd);
        assert_eq!(
            record(ContentType::Alert, TLS12, &[2, 40]),
            [0x15, 3, 3, 0, 2, 2, 40]
        );
    }
}
