//! A small DER writer and reader: enough for CMS SignedData.

use cipherstage_pki::der::tlv as read_tlv;

/// `tag`, the definite length of `content`, then `content`.
pub(crate) fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let n = content.len();
    let mut out = vec![tag];
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let be = n.to_be_bytes();
        let skip = be.iter().take_while(|b| **b == 0).count();
        let len = be.get(skip..).unwrap_or_default();
        out.push(0x80 | len.len() as u8);
        out.extend_from_slice(len);
    }
    out.extend_from_slice(content);
    out
}

/// The parts, one after another.
pub(crate) fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// A SEQUENCE of the parts.
pub(crate) fn seq(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x30, &cat(parts))
}

/// An AlgorithmIdentifier with absent parameters (RFC 5754, RFC 8410).
pub(crate) fn alg(oid: &[u8]) -> Vec<u8> {
    seq(&[&tlv(0x06, oid)])
}

/// One DER element as read: its tag, header length and bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct El<'a> {
    /// The tag byte.
    pub tag: u8,
    /// Length of tag and length octets.
    pub header: usize,
    /// The whole element.
    pub all: &'a [u8],
}

impl<'a> El<'a> {
    /// The contents.
    pub fn body(&self) -> &'a [u8] {
        self.all.get(self.header..).unwrap_or_default()
    }

    /// Total length.
    pub fn len(&self) -> usize {
        self.all.len()
    }
}

/// The elements of a constructed element's contents, in order.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Items<'a> {
    /// What is left to read.
    pub rest: &'a [u8],
}

impl<'a> Items<'a> {
    /// Reads the contents `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Items { rest: data }
    }

    /// The next element, if one parses (nothing is consumed otherwise).
    pub fn next_el(&mut self) -> Option<El<'a>> {
        let t = read_tlv(self.rest).ok()?;
        let (all, rest) = self.rest.split_at_checked(t.total())?;
        self.rest = rest;
        Some(El {
            tag: t.tag,
            header: t.header,
            all,
        })
    }

    /// The next element if it has tag `tag`.
    pub fn expect(&mut self, tag: u8) -> Option<El<'a>> {
        let mut probe = *self;
        let el = probe.next_el()?;
        if el.tag != tag {
            return None;
        }
        *self = probe;
        Some(el)
    }

    /// Whether everything was read.
    pub fn done(&self) -> bool {
        self.rest.is_empty()
    }
}

/// The only element of `data`, which must hold nothing else.
pub(crate) fn single(data: &[u8], tag: u8) -> Option<El<'_>> {
    let mut it = Items::new(data);
    let el = it.expect(tag)?;
    it.done().then_some(el)
}

/// An OID's contents in dotted form.
pub(crate) fn oid_dotted(c: &[u8]) -> Option<String> {
    let mut arcs: Vec<u64> = Vec::new();
    let mut cur: u64 = 0;
    let mut open = false;
    for &byte in c {
        if cur > (u64::MAX >> 7) {
            return None;
        }
        cur = (cur << 7) | u64::from(byte & 0x7f);
        open = byte & 0x80 != 0;
        if !open {
            arcs.push(cur);
            cur = 0;
        }
    }
    let first = *arcs.first()?;
    if open {
        return None;
    }
    let (a, b) = match first {
        0..=39 => (0, first),
        40..=79 => (1, first - 40),
        _ => (2, first - 80),
    };
    let mut out = format!("{a}.{b}");
    for x in arcs.iter().skip(1) {
        out.push_str(&format!(".{x}"));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_and_oids() {
        assert_eq!(tlv(0x04, &[1, 2]), vec![4, 2, 1, 2]);
        let long = tlv(0x04, &[0; 300]);
        assert_eq!(&long[..4], &[4, 0x82, 1, 44]);
        assert_eq!(
            oid_dotted(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02]).unwrap(),
            "1.2.840.113549.1.7.2"
        );
        assert_eq!(oid_dotted(&[0x2b, 0x65, 0x70]).unwrap(), "1.3.101.112");
        assert!(oid_dotted(&[0x86]).is_none());
        let mut it = Items::new(&long);
        assert_eq!(it.next_el().unwrap().body().len(), 300);
        assert!(it.done());
    }
}
