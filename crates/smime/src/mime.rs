//! The mail: RFC 5322 headers, RFC 5751 multipart/signed, base64.

use core::ops::Range;

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub fn b64_encode(data: &[u8]) -> String {
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                let idx = (n >> (18 - 6 * i)) & 63;
                out.push(char::from(B64.get(idx as usize).copied().unwrap_or(b'A')));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn b64_value(c: u8) -> Option<u32> {
    B64.iter().position(|x| *x == c).map(|p| p as u32)
}

/// Strict base64: CR and LF are skipped, anything else outside the alphabet, bad
/// padding or non-zero padding bits is an error.
pub fn b64_decode(text: &[u8]) -> Option<Vec<u8>> {
    let chars: Vec<u8> = text
        .iter()
        .copied()
        .filter(|c| *c != b'\r' && *c != b'\n')
        .collect();
    if chars.len() & 3 != 0 {
        return None;
    }
    let mut out = Vec::new();
    let groups = chars.len() / 4;
    for (gi, g) in chars.chunks(4).enumerate() {
        let pad = g.iter().rev().take_while(|c| **c == b'=').count();
        if pad > 2 || (pad > 0 && gi + 1 != groups) {
            return None;
        }
        let mut n = 0u32;
        for (i, c) in g.iter().enumerate() {
            let v = if i >= 4 - pad { 0 } else { b64_value(*c)? };
            n = (n << 6) | v;
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        let keep = 3 - pad;
        // Non-zero padding bits would let two texts decode alike.
        let mask = match pad {
            1 => 0xff,
            2 => 0xffff,
            _ => 0,
        };
        if n & mask != 0 {
            return None;
        }
        out.extend_from_slice(bytes.get(..keep).unwrap_or_default());
    }
    Some(out)
}

/// One header field: its whole line(s) and its name and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Bytes of the field, CRLF included.
    pub range: Range<usize>,
    /// Name, as written.
    pub name: String,
    /// Value, unfolded and trimmed.
    pub value: String,
}

/// Header fields from `start` up to the empty line; returns them and where the
/// empty line starts.
pub fn headers(mail: &[u8], start: usize) -> Option<(Vec<Header>, usize)> {
    let mut out: Vec<Header> = Vec::new();
    let mut at = start;
    loop {
        let rest = mail.get(at..)?;
        let nl = rest.windows(2).position(|w| w == b"\r\n")?;
        let line = rest.get(..nl)?;
        if line.is_empty() {
            return Some((out, at));
        }
        let end = at + nl + 2;
        if line.first().is_some_and(|c| *c == b' ' || *c == b'\t') {
            let last = out.last_mut()?;
            last.range.end = end;
            last.value.push(' ');
            last.value.push_str(String::from_utf8_lossy(line).trim());
        } else {
            let colon = line.iter().position(|c| *c == b':')?;
            let name = String::from_utf8_lossy(line.get(..colon)?).into_owned();
            if name.is_empty() || name.contains(' ') {
                return None;
            }
            let value = String::from_utf8_lossy(line.get(colon + 1..)?)
                .trim()
                .to_owned();
            out.push(Header {
                range: at..end,
                name,
                value,
            });
        }
        at = end;
    }
}

/// The value of header `name` (case-insensitive), the first one.
pub fn header<'a>(hs: &'a [Header], name: &str) -> Option<&'a str> {
    hs.iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}

/// A Content-Type's media type (lowercase) and its parameters.
pub fn content_type(v: &str) -> (String, Vec<(String, String)>) {
    let mut parts = v.split(';');
    let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
    let params = parts
        .filter_map(|p| {
            let (k, v) = p.split_once('=')?;
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(v);
            Some((k.trim().to_ascii_lowercase(), v.to_owned()))
        })
        .collect();
    (media, params)
}

/// Where the pieces of a multipart/signed mail are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The top-level header fields.
    pub headers: Vec<Header>,
    /// The empty line after them.
    pub blank: Range<usize>,
    /// Text before the first delimiter.
    pub preamble: Range<usize>,
    /// The first delimiter line.
    pub open: Range<usize>,
    /// The signed part (headers and body), exactly what is digested.
    pub signed: Range<usize>,
    /// CRLF, the delimiter, CRLF.
    pub middle: Range<usize>,
    /// The signature part.
    pub signature: Range<usize>,
    /// CRLF, the close delimiter and what follows.
    pub close: Range<usize>,
    /// The boundary.
    pub boundary: String,
    /// The micalg parameter.
    pub micalg: String,
    /// The protocol parameter.
    pub protocol: String,
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// Splits a multipart/signed mail into its pieces.
pub fn split(mail: &[u8]) -> Option<Layout> {
    let (hs, blank) = headers(mail, 0)?;
    let (media, params) = content_type(header(&hs, "content-type")?);
    if media != "multipart/signed" {
        return None;
    }
    let param = |n: &str| {
        params
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let boundary = param("boundary");
    if boundary.is_empty() {
        return None;
    }
    let body = blank + 2;
    let delim = format!("--{boundary}\r\n");
    let open_at = if mail.get(body..)?.starts_with(delim.as_bytes()) {
        body
    } else {
        find(mail, format!("\r\n--{boundary}\r\n").as_bytes(), body)? + 2
    };
    let signed_start = open_at + delim.len();
    let mid = format!("\r\n--{boundary}\r\n");
    let middle_at = find(mail, mid.as_bytes(), signed_start)?;
    let sig_start = middle_at + mid.len();
    let close_at = find(mail, format!("\r\n--{boundary}--").as_bytes(), sig_start)?;
    Some(Layout {
        headers: hs,
        blank: blank..body,
        preamble: body..open_at,
        open: open_at..signed_start,
        signed: signed_start..middle_at,
        middle: middle_at..sig_start,
        signature: sig_start..close_at,
        close: close_at..mail.len(),
        boundary,
        micalg: param("micalg").to_ascii_lowercase(),
        protocol: param("protocol").to_ascii_lowercase(),
    })
}

/// The address in a From value (`Name <a@b>` or `a@b`), lowercase.
pub fn address(v: &str) -> String {
    let inner = match (v.rfind('<'), v.rfind('>')) {
        (Some(a), Some(z)) if a < z => v.get(a + 1..z).unwrap_or_default(),
        _ => v,
    };
    inner.trim().to_ascii_lowercase()
}

/// A header value safe for a header line: ASCII as is, anything else as an RFC 2047
/// encoded word.
pub fn encode_word(text: &str) -> String {
    if text.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        text.to_owned()
    } else {
        format!("=?UTF-8?B?{}?=", b64_encode(text.as_bytes()))
    }
}

/// The body with every line ending as CRLF (the canonical form S/MIME signs).
pub fn canonical(body: &str) -> String {
    let mut out = String::new();
    for line in body.replace("\r\n", "\n").replace('\r', "\n").split('\n') {
        out.push_str(line);
        out.push_str("\r\n");
    }
    out
}

/// "Sun, 01 Nov 2026 00:00:00 +0000" for `secs` since the epoch.
pub fn rfc5322_date(secs: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = crate::cms::civil(days);
    let wd = DAYS.get((days % 7) as usize).copied().unwrap_or("Thu");
    let mon = MONTHS
        .get((m as usize).saturating_sub(1))
        .copied()
        .unwrap_or("Jan");
    format!(
        "{wd}, {d:02} {mon} {y} {:02}:{:02}:{:02} +0000",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_and_is_strict() {
        for n in 0..20 {
            let v: Vec<u8> = (0..n).map(|i| (i as u8).wrapping_mul(31)).collect();
            assert_eq!(b64_decode(b64_encode(&v).as_bytes()).unwrap(), v);
        }
        assert_eq!(b64_encode(b"hi"), "aGk=");
        assert!(b64_decode(b"aGl=").is_none(), "non-zero padding bits");
        assert!(b64_decode(b"aG k=").is_none());
        assert!(b64_decode(b"a=Gk").is_none());
        assert_eq!(
            rfc5322_date(cipherstage_pki::SCENARIO_NOW),
            "Sun, 01 Nov 2026 00:00:00 +0000"
        );
        assert_eq!(address("Alice <Alice@Example.com>"), "alice@example.com");
    }
}
