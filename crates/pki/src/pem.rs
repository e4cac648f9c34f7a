//! PEM (RFC 7468) import and export, with errors that name the byte offset.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// What is wrong with a PEM text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PemErrorKind {
    /// No `-----BEGIN …-----` line.
    NoBegin,
    /// No matching `-----END …-----` line.
    NoEnd,
    /// A character outside the base64 alphabet.
    BadCharacter,
    /// The base64 length or padding is wrong.
    BadPadding,
    /// The decoded bytes are not one DER element.
    BadDer,
}

/// A PEM fault and the byte offset in the text (or, for [`PemErrorKind::BadDer`], in the DER).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PemError {
    /// What is wrong.
    pub kind: PemErrorKind,
    /// Where.
    pub offset: usize,
}

/// Encodes `der` as PEM with `label` (`CERTIFICATE`, `PRIVATE KEY`), 64 columns.
pub fn encode(label: &str, der: &[u8]) -> String {
    let mut b64 = String::new();
    for chunk in der.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                let idx = ((n >> (18 - 6 * i)) & 63) as usize;
                b64.push(ALPHABET.get(idx).map(|c| *c as char).unwrap_or('A'));
            } else {
                b64.push('=');
            }
        }
    }
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// Decodes the first PEM block in `text`: its label and DER contents.
pub fn decode(text: &str) -> Result<(String, Vec<u8>), PemError> {
    let err = |kind, offset| PemError { kind, offset };
    let begin = text
        .find("-----BEGIN ")
        .ok_or(err(PemErrorKind::NoBegin, 0))?;
    let after = begin + "-----BEGIN ".len();
    let label_end = text
        .get(after..)
        .and_then(|r| r.find("-----"))
        .ok_or(err(PemErrorKind::NoBegin, begin))?
        + after;
    let label = text.get(after..label_end).unwrap_or_default().to_owned();
    let body_start = label_end + 5;
    let end_marker = format!("-----END {label}-----");
    let body_end = text
        .get(body_start..)
        .and_then(|r| r.find(&end_marker))
        .ok_or(err(PemErrorKind::NoEnd, body_start))?
        + body_start;
    let mut out = Vec::new();
    let mut acc = 0u32;
    let mut bits = 0;
    let mut pad = 0;
    let mut count = 0;
    for (i, c) in text.bytes().enumerate().take(body_end).skip(body_start) {
        if c.is_ascii_whitespace() {
            continue;
        }
        count += 1;
        if c == b'=' {
            pad += 1;
            continue;
        }
        if pad > 0 {
            return Err(err(PemErrorKind::BadPadding, i));
        }
        let v = ALPHABET
            .iter()
            .position(|a| *a == c)
            .ok_or(err(PemErrorKind::BadCharacter, i))?;
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    if count % 4 != 0 || pad > 2 {
        return Err(err(PemErrorKind::BadPadding, body_end));
    }
    match crate::der::tlv(&out) {
        Ok(t) if t.total() == out.len() => Ok((label, out)),
        Ok(t) => Err(err(PemErrorKind::BadDer, t.total())),
        Err(e) => Err(err(PemErrorKind::BadDer, e.offset)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_reports_offsets() {
        let p = crate::Pki::build(&mut cipherstage_transcript::rand::Seeded::new(3)).unwrap();
        let text = encode("CERTIFICATE", &p.www.der);
        assert_eq!(decode(&text), Ok(("CERTIFICATE".into(), p.www.der.clone())));
        let nl = text.find('\n').unwrap();
        let at = nl + 1 + 10;
        let mut bad = text.clone();
        bad.replace_range(at..at + 1, "*");
        assert_eq!(
            decode(&bad).unwrap_err(),
            PemError {
                kind: PemErrorKind::BadCharacter,
                offset: at
            }
        );
        assert_eq!(decode("hello").unwrap_err().kind, PemErrorKind::NoBegin);
        let cut = text.replace("-----END CERTIFICATE-----", "");
        assert_eq!(decode(&cut).unwrap_err().kind, PemErrorKind::NoEnd);
        let short = encode("CERTIFICATE", &p.www.der[..100]);
        assert_eq!(decode(&short).unwrap_err().kind, PemErrorKind::BadDer);
    }
}
