//! TPKT (RFC 1006 §6), the X.224 class 0 TPDUs RDP uses (ITU-T X.224 §13), and
//! the RDP negotiation structures inside them (MS-RDPBCGR §2.2.1.1–2.2.1.2).
//!
//! ```text
//! TPKT:  version(1)=3  reserved(1)=0  length(2, BE, whole packet)
//! X.224 Connection Request: LI(1) CR|CDT(1)=E0 DST-REF(2) SRC-REF(2) class(1)
//!        [cookie "Cookie: mstshash=…\r\n"] [RDP_NEG_REQ: type(1)=01 flags(1) length(2)=8 protocols(4)]
//! X.224 Connection Confirm: LI(1) CC|CDT(1)=D0 DST-REF(2) SRC-REF(2) class(1)
//!        [RDP_NEG_RSP: type 02, selectedProtocol(4) | RDP_NEG_FAILURE: type 03, failureCode(4)]
//! X.224 Data: LI(1)=2 DT(1)=F0 EOT(1)=80
//! ```

use cipherstage_transcript::Value;

use crate::codec::{Reader, Writer};
use crate::{Error, ErrorKind};

/// TLS (MS-RDPBCGR §2.2.1.1.1 PROTOCOL_SSL).
pub const PROTOCOL_SSL: u32 = 0x0000_0001;
/// CredSSP / NLA (PROTOCOL_HYBRID).
pub const PROTOCOL_HYBRID: u32 = 0x0000_0002;

/// TPKT header length.
pub const TPKT_LEN: usize = 4;

/// Names a protocol set (RDP_NEG_REQ requestedProtocols / selectedProtocol).
pub fn protocol_name(p: u32) -> &'static str {
    match p {
        0 => "rdp.protocol.rdp",
        PROTOCOL_SSL => "rdp.protocol.ssl",
        PROTOCOL_HYBRID => "rdp.protocol.hybrid",
        0x3 => "rdp.protocol.ssl_hybrid",
        _ => "rdp.protocol.other",
    }
}

/// Names an RDP_NEG_FAILURE failureCode (§2.2.1.2.2).
pub fn failure_name(code: u32) -> &'static str {
    match code {
        1 => "rdp.failure.ssl_required_by_server",
        2 => "rdp.failure.ssl_not_allowed_by_server",
        3 => "rdp.failure.ssl_cert_not_on_server",
        4 => "rdp.failure.inconsistent_flags",
        5 => "rdp.failure.hybrid_required_by_server",
        6 => "rdp.failure.ssl_with_user_auth_required_by_server",
        _ => "rdp.failure.other",
    }
}

/// Wraps `body` (an X.224 TPDU and what follows) in a TPKT header.
pub fn tpkt(body: Writer) -> Writer {
    let mut w = Writer::new();
    let len = (TPKT_LEN + body.len()).min(usize::from(u16::MAX)) as u16;
    w.begin("tpkt")
        .u8("tpkt_version", 3)
        .u8("tpkt_reserved", 0)
        .u16be("tpkt_length", len)
        .end();
    w.append(body);
    w
}

/// TPKT + X.224 Data TPDU around `payload` (an MCS PDU).
pub fn data(payload: Writer) -> Writer {
    let mut w = Writer::new();
    w.begin("x224_data")
        .u8("x224_li", 2)
        .u8("x224_dt", 0xF0)
        .u8("x224_eot", 0x80)
        .end();
    w.append(payload);
    tpkt(w)
}

/// The client's X.224 Connection Request (§2.2.1.1) with a routing cookie and
/// RDP_NEG_REQ.
pub fn connection_request(cookie: &str, protocols: u32) -> Writer {
    let cookie = format!("Cookie: mstshash={cookie}\r\n");
    let li = (6 + cookie.len() + 8).min(254) as u8;
    let mut w = Writer::new();
    w.begin("x224_cr")
        .u8("x224_li", li)
        .u8("x224_cr_code", 0xE0)
        .u16be("x224_dst_ref", 0)
        .u16be("x224_src_ref", 0)
        .u8("x224_class", 0)
        .end();
    w.bytes(
        "cookie",
        cookie.as_bytes(),
        Some(Value::Text(cookie.trim_end().to_owned())),
    );
    w.begin_key("neg_req", protocol_name(protocols))
        .u8("neg_type", 0x01)
        .u8("neg_flags", 0)
        .u16le("neg_length", 8)
        .bytes(
            "requested_protocols",
            &protocols.to_le_bytes(),
            Some(Value::Key(protocol_name(protocols).into())),
        )
        .end();
    tpkt(w)
}

/// The server's answer in the Connection Confirm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Negotiation {
    /// RDP_NEG_RSP: the protocol the server selected.
    Selected(u32),
    /// RDP_NEG_FAILURE: its failureCode.
    Failure(u32),
    /// No negotiation structure: standard RDP security only.
    Legacy,
}

/// The server's X.224 Connection Confirm (§2.2.1.2), as [`connection_confirm`] writes it.
pub fn connection_confirm(neg: Negotiation) -> Writer {
    let li = if neg == Negotiation::Legacy { 6 } else { 14 };
    let mut w = Writer::new();
    w.begin("x224_cc")
        .u8("x224_li", li)
        .u8("x224_cc_code", 0xD0)
        .u16be("x224_dst_ref", 0)
        .u16be("x224_src_ref", 0x1234)
        .u8("x224_class", 0)
        .end();
    match neg {
        Negotiation::Selected(p) => {
            w.begin_key("neg_rsp", protocol_name(p))
                .u8("neg_type", 0x02)
                .u8("neg_flags", 0)
                .u16le("neg_length", 8)
                .bytes(
                    "selected_protocol",
                    &p.to_le_bytes(),
                    Some(Value::Key(protocol_name(p).into())),
                )
                .end();
        }
        Negotiation::Failure(c) => {
            w.begin_key("neg_failure", failure_name(c))
                .u8("neg_type", 0x03)
                .u8("neg_flags", 0)
                .u16le("neg_length", 8)
                .bytes(
                    "failure_code",
                    &c.to_le_bytes(),
                    Some(Value::Key(failure_name(c).into())),
                )
                .end();
        }
        Negotiation::Legacy => {}
    }
    tpkt(w)
}

/// Reads a TPKT header; returns a reader over the rest of the packet.
pub fn read_tpkt<'a>(r: &mut Reader<'a>) -> Result<Reader<'a>, Error> {
    r.begin("tpkt");
    let v = r.u8("tpkt_version")?;
    if v != 3 {
        return Err(r.err(ErrorKind::BadEncoding));
    }
    r.u8("tpkt_reserved")?;
    let len = usize::from(r.u16be("tpkt_length")?);
    r.end();
    let body = len
        .checked_sub(TPKT_LEN)
        .ok_or(r.err(ErrorKind::BadLength))?;
    if body != r.left() {
        return Err(r.err(ErrorKind::BadLength));
    }
    r.sub(body)
}

/// Reads the X.224 Connection Confirm after the TPKT header.
pub fn read_connection_confirm(r: &mut Reader<'_>) -> Result<Negotiation, Error> {
    r.begin("x224_cc");
    let li = usize::from(r.u8("x224_li")?);
    if li != r.left() || li < 6 {
        return Err(r.err(ErrorKind::BadLength));
    }
    if r.u8("x224_cc_code")? & 0xF0 != 0xD0 {
        return Err(r.err(ErrorKind::Unexpected));
    }
    r.u16be("x224_dst_ref")?;
    r.u16be("x224_src_ref")?;
    r.u8("x224_class")?;
    r.end();
    if r.left() == 0 {
        return Ok(Negotiation::Legacy);
    }
    let ty = r.clone().u8("neg_type")?;
    let (key, out) = match ty {
        0x02 => ("neg_rsp", true),
        0x03 => ("neg_failure", false),
        _ => return Err(r.err(ErrorKind::Unexpected)),
    };
    r.begin(key);
    r.u8("neg_type")?;
    r.u8("neg_flags")?;
    if r.u16le("neg_length")? != 8 {
        return Err(r.err(ErrorKind::BadLength));
    }
    let neg = if out {
        let p = r.u32le("selected_protocol")?;
        r.name_last(protocol_name(p));
        Negotiation::Selected(p)
    } else {
        let c = r.u32le("failure_code")?;
        r.name_last(failure_name(c));
        Negotiation::Failure(c)
    };
    r.end();
    r.expect_empty()?;
    Ok(neg)
}

/// Reads an X.224 Data TPDU header after the TPKT header.
pub fn read_data_header(r: &mut Reader<'_>) -> Result<(), Error> {
    r.begin("x224_data");
    if r.u8("x224_li")? != 2 {
        return Err(r.err(ErrorKind::BadEncoding));
    }
    if r.u8("x224_dt")? != 0xF0 {
        return Err(r.err(ErrorKind::Unexpected));
    }
    r.u8("x224_eot")?;
    r.end();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// MS-RDPBCGR §4.1.1: the X.224 Connection Request PDU of the annotated
    /// connection sequence ("Cookie: mstshash=eltons", PROTOCOL_SSL|HYBRID = 0).
    #[test]
    fn connection_request_is_the_specs_bytes() {
        let (b, f) = connection_request("eltons", 0).finish();
        let spec: &[u8] = &[
            0x03, 0x00, 0x00, 0x2c, 0x27, 0xe0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x43, 0x6f, 0x6f,
            0x6b, 0x69, 0x65, 0x3a, 0x20, 0x6d, 0x73, 0x74, 0x73, 0x68, 0x61, 0x73, 0x68, 0x3d,
            0x65, 0x6c, 0x74, 0x6f, 0x6e, 0x73, 0x0d, 0x0a, 0x01, 0x00, 0x08, 0x00, 0x00, 0x00,
            0x00, 0x00,
        ];
        assert_eq!(b, spec);
        assert!(crate::coverage_ok(&b, &f));
    }

    #[test]
    fn connection_confirm_round_trips_success_and_failure() {
        for neg in [
            Negotiation::Selected(PROTOCOL_SSL),
            Negotiation::Failure(5),
            Negotiation::Legacy,
        ] {
            let (b, _) = connection_confirm(neg).finish();
            let mut r = Reader::new(&b, 0);
            let mut body = read_tpkt(&mut r).unwrap();
            assert_eq!(read_connection_confirm(&mut body).unwrap(), neg);
            r.join(body);
            let f = r.finish();
            assert!(crate::coverage_ok(&b, &f), "{neg:?}");
        }
    }

    #[test]
    fn a_tpkt_length_that_lies_is_an_error() {
        let (mut b, _) = connection_confirm(Negotiation::Selected(1)).finish();
        b[3] = 0xff;
        let mut r = Reader::new(&b, 0);
        assert_eq!(read_tpkt(&mut r).unwrap_err().kind, ErrorKind::BadLength);
        b[3] = 2;
        let mut r = Reader::new(&b, 0);
        assert_eq!(read_tpkt(&mut r).unwrap_err().kind, ErrorKind::BadLength);
    }
}
