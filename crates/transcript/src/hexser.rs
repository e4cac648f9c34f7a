//! Bytes as lower-case hex strings in JSON, so exported transcripts stay readable.

use serde::{de::Error, Deserialize, Deserializer, Serializer};

/// Serializes bytes as hex (`#[serde(with = "hexser")]`).
pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&encode(bytes))
}

/// Deserializes hex into bytes.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    let text = String::deserialize(d)?;
    decode(&text).ok_or_else(|| D::Error::custom("expected an even number of hex digits"))
}

/// Lower-case hex of `bytes`.
pub fn encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        for nibble in [b >> 4, b & 0x0f] {
            // A nibble is < 16, so the lookup always succeeds.
            out.push(char::from(
                *DIGITS.get(usize::from(nibble)).unwrap_or(&b'?'),
            ));
        }
    }
    out
}

/// Bytes of a hex string, or `None` if it is not an even run of hex digits.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    let digits = text.as_bytes();
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    digits
        .chunks_exact(2)
        .map(|pair| {
            let hi = (pair.first()?.to_ascii_lowercase() as char).to_digit(16)?;
            let lo = (pair.get(1)?.to_ascii_lowercase() as char).to_digit(16)?;
            u8::try_from(hi * 16 + lo).ok()
        })
        .collect()
}
