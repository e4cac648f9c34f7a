//! MCS (ITU-T T.125) as RDP uses it: Connect Initial and Connect Response in
//! BER (MS-RDPBCGR §2.2.1.3, §2.2.1.4), carrying the GCC Conference Create
//! Request and Response in PER (T.124) with the settings data blocks; then the
//! PER-encoded domain PDUs: Erect Domain, Attach User, Channel Join, Send Data
//! (§2.2.1.5–2.2.1.9).
//!
//! ```text
//! Connect-Initial ::= [APPLICATION 101] IMPLICIT SEQUENCE {
//!     callingDomainSelector OCTET STRING, calledDomainSelector OCTET STRING,
//!     upwardFlag BOOLEAN, targetParameters, minimumParameters, maximumParameters DomainParameters,
//!     userData OCTET STRING }                                   -- T.125 §7, part 2
//! DomainParameters ::= SEQUENCE { maxChannelIds, maxUserIds, maxTokenIds, numPriorities,
//!     minThroughput, maxHeight, maxMCSPDUsize, protocolVersion INTEGER }
//! ```

use cipherstage_transcript::Value;

use crate::codec::{Reader, Writer};
use crate::{Error, ErrorKind};

/// The MCS I/O channel (MS-RDPBCGR §2.2.1.4.4: MCS_GLOBAL_CHANNEL).
pub const IO_CHANNEL: u16 = 1003;
/// User ids are sent as offsets from this base (T.125 UserId ::= DynamicChannelId 1001..).
pub const USER_BASE: u16 = 1001;

/// One static virtual channel the client asks for (CHANNEL_DEF, §2.2.1.3.4.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelDef {
    /// Up to 7 ASCII characters (`cliprdr`).
    pub name: String,
    /// CHANNEL_OPTION_* flags.
    pub options: u32,
}

/// What the client puts in its settings data blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientData {
    /// Desktop width in pixels.
    pub width: u16,
    /// Desktop height.
    pub height: u16,
    /// 15, 16 or 24 (highColorDepth).
    pub bpp: u16,
    /// The client's name (up to 15 characters).
    pub client_name: String,
    /// Keyboard layout (0x409: US).
    pub keyboard_layout: u32,
    /// The protocol the server selected in the Connection Confirm.
    pub selected_protocol: u32,
    /// The static virtual channels.
    pub channels: Vec<ChannelDef>,
}

// ---- BER (X.690) ---------------------------------------------------------

fn ber_len_bytes(n: usize) -> Vec<u8> {
    if n < 0x80 {
        vec![n as u8]
    } else if n < 0x100 {
        vec![0x81, n as u8]
    } else {
        let n = n.min(0xFFFF) as u16;
        let [hi, lo] = n.to_be_bytes();
        vec![0x82, hi, lo]
    }
}

/// A BER TLV: group `key` holding the tag, the length and `inner`.
fn ber_tlv(key: &str, tag: &[u8], inner: Writer) -> Writer {
    let mut w = Writer::new();
    w.begin(key);
    w.bytes("ber_tag", tag, None);
    let len = ber_len_bytes(inner.len());
    w.bytes("ber_length", &len, Some(Value::Uint(inner.len() as u64)));
    w.append(inner);
    w.end();
    w
}

fn ber_uint(key: &str, v: u32) -> Writer {
    let mut inner = Writer::new();
    let bytes: Vec<u8> = if v < 0x100 {
        vec![v as u8]
    } else if v < 0x1_0000 {
        (v as u16).to_be_bytes().to_vec()
    } else {
        v.to_be_bytes().to_vec()
    };
    inner.bytes("ber_value", &bytes, Some(Value::Uint(v.into())));
    ber_tlv(key, &[0x02], inner)
}

fn domain_parameters(key: &str, p: [u32; 8]) -> Writer {
    const NAMES: [&str; 8] = [
        "max_channel_ids",
        "max_user_ids",
        "max_token_ids",
        "num_priorities",
        "min_throughput",
        "max_height",
        "max_mcspdu_size",
        "protocol_version",
    ];
    let mut inner = Writer::new();
    for (name, v) in NAMES.iter().zip(p) {
        inner.append(ber_uint(name, v));
    }
    ber_tlv(key, &[0x30], inner)
}

/// Reads a BER length; it must fit what is left.
fn read_ber_len(r: &mut Reader<'_>) -> Result<usize, Error> {
    let start = r.offset();
    let first = r.raw(1)?.first().copied().unwrap_or(0);
    let n = match first {
        b if b < 0x80 => usize::from(b),
        0x81 => usize::from(r.raw(1)?.first().copied().unwrap_or(0)),
        0x82 => {
            let b = r.raw(2)?;
            usize::from(u16::from_be_bytes([
                b.first().copied().unwrap_or(0),
                b.get(1).copied().unwrap_or(0),
            ]))
        }
        _ => {
            return Err(Error {
                kind: ErrorKind::BadEncoding,
                offset: start,
            })
        }
    };
    let end = r.offset();
    r.push_fields(vec![cipherstage_transcript::Field {
        name: "rdp.field.ber_length".into(),
        start,
        end,
        value: Some(Value::Uint(n as u64)),
        explain: "rdp.explain.ber_length".into(),
        protection: cipherstage_transcript::Protection::Plaintext,
        children: Vec::new(),
    }]);
    if n > r.left() {
        return Err(r.err(ErrorKind::BadLength));
    }
    Ok(n)
}

/// Reads a TLV with tag `tag` into group `key`; `read` gets a reader over its value
/// and must consume all of it.
fn read_tlv<'a, T>(
    r: &mut Reader<'a>,
    key: &str,
    tag: &[u8],
    read: impl FnOnce(&mut Reader<'a>) -> Result<T, Error>,
) -> Result<T, Error> {
    r.begin(key);
    let at = r.offset();
    if r.bytes("ber_tag", tag.len())? != tag {
        return Err(Error {
            kind: ErrorKind::BadEncoding,
            offset: at,
        });
    }
    let n = read_ber_len(r)?;
    let mut sub = r.sub(n)?;
    let out = read(&mut sub)?;
    sub.expect_empty()?;
    r.join(sub);
    r.end();
    Ok(out)
}

fn read_ber_uint(r: &mut Reader<'_>, key: &str) -> Result<u32, Error> {
    read_tlv(r, key, &[0x02], |v| {
        let n = v.left();
        if n == 0 || n > 4 {
            return Err(v.err(ErrorKind::BadLength));
        }
        let b = v.bytes("ber_value", n)?;
        let val = b.iter().fold(0u32, |a, x| (a << 8) | u32::from(*x));
        v.value_last(Value::Uint(val.into()));
        Ok(val)
    })
}

// ---- PER (X.691, aligned) --------------------------------------------------

fn per_len_bytes(n: usize) -> Vec<u8> {
    if n < 0x80 {
        vec![n as u8]
    } else {
        let n = (n.min(0x3FFF) as u16) | 0x8000;
        n.to_be_bytes().to_vec()
    }
}

fn read_per_len(r: &mut Reader<'_>, key: &str) -> Result<usize, Error> {
    let n = read_per_len_unchecked(r, key)?;
    if n > r.left() {
        return Err(r.err(ErrorKind::BadLength));
    }
    Ok(n)
}

/// A PER length read as a value only, not as a bound on what follows.
fn read_per_len_unchecked(r: &mut Reader<'_>, key: &str) -> Result<usize, Error> {
    let start = r.offset();
    let b = r.raw(1)?.first().copied().unwrap_or(0);
    let n = if b & 0x80 != 0 {
        let lo = r.raw(1)?.first().copied().unwrap_or(0);
        (usize::from(b & 0x3F) << 8) | usize::from(lo)
    } else {
        usize::from(b)
    };
    let end = r.offset();
    r.push_fields(vec![cipherstage_transcript::Field {
        name: format!("rdp.field.{key}"),
        start,
        end,
        value: Some(Value::Uint(n as u64)),
        explain: format!("rdp.explain.{key}"),
        protection: cipherstage_transcript::Protection::Plaintext,
        children: Vec::new(),
    }]);
    Ok(n)
}

/// T.124's object identifier for GCC (0.0.20.124.0.1) as the key of ConnectData.
const T124_OID: [u8; 5] = [0x00, 0x14, 0x7C, 0x00, 0x01];

fn gcc_connect_data(choice_and_body: Writer) -> Writer {
    let mut w = Writer::new();
    w.begin("gcc_connect_data")
        .u8("gcc_key_choice", 0x00)
        .u8("gcc_oid_length", 5)
        .bytes("gcc_t124_oid", &T124_OID, None);
    let n = choice_and_body.len();
    w.bytes("per_length", &per_len_bytes(n), Some(Value::Uint(n as u64)));
    w.append(choice_and_body);
    w.end();
    w
}

// ---- Client settings data blocks (§2.2.1.3.2–2.2.1.3.5) ----------------

fn ud_header(w: &mut Writer, ty: u16, name: &str, len: usize) {
    w.u16_key("ud_type", ty, name)
        .u16le("ud_length", len.min(0xFFFF) as u16);
}

fn client_core(d: &ClientData) -> Writer {
    let mut w = Writer::new();
    w.begin("cs_core");
    ud_header(&mut w, 0xC001, "rdp.block.cs_core", 216);
    w.u32le("rdp_version", 0x0008_0004)
        .u16le("desktop_width", d.width)
        .u16le("desktop_height", d.height)
        .u16le("color_depth", 0xCA01)
        .u16le("sas_sequence", 0xAA03)
        .u32le("keyboard_layout", d.keyboard_layout)
        .u32le("client_build", 2600)
        .utf16("client_name", &d.client_name, 32)
        .u32le("keyboard_type", 4)
        .u32le("keyboard_subtype", 0)
        .u32le("keyboard_function_keys", 12)
        .bytes("ime_file_name", &[0; 64], None)
        .u16le("post_beta2_color_depth", 0xCA01)
        .u16le("client_product_id", 1)
        .u32le("serial_number", 0)
        .u16le("high_color_depth", d.bpp)
        // RNS_UD_24BPP_SUPPORT | RNS_UD_16BPP_SUPPORT | RNS_UD_15BPP_SUPPORT
        .u16le("supported_color_depths", 0x0007)
        // RNS_UD_CS_SUPPORT_ERRINFO_PDU
        .u16le("early_capability_flags", 0x0001)
        .bytes("client_dig_product_id", &[0; 64], None)
        .u8("connection_type", 0)
        .u8("pad1", 0)
        .u32le("server_selected_protocol", d.selected_protocol);
    w.end();
    w
}

fn client_security() -> Writer {
    let mut w = Writer::new();
    w.begin("cs_security");
    ud_header(&mut w, 0xC002, "rdp.block.cs_security", 12);
    // With TLS, no RDP Standard Security encryption method (§5.4.2).
    w.u32le("encryption_methods", 0)
        .u32le("ext_encryption_methods", 0);
    w.end();
    w
}

fn client_network(channels: &[ChannelDef]) -> Writer {
    let mut w = Writer::new();
    w.begin("cs_net");
    ud_header(&mut w, 0xC003, "rdp.block.cs_net", 8 + 12 * channels.len());
    w.u32le("channel_count", channels.len() as u32);
    for c in channels {
        let mut name = [0u8; 8];
        for (d, s) in name.iter_mut().zip(c.name.bytes().take(7)) {
            *d = s;
        }
        w.begin("channel_def")
            .bytes("channel_name", &name, Some(Value::Text(c.name.clone())))
            .u32le("channel_options", c.options)
            .end();
    }
    w.end();
    w
}

fn client_cluster() -> Writer {
    let mut w = Writer::new();
    w.begin("cs_cluster");
    ud_header(&mut w, 0xC004, "rdp.block.cs_cluster", 12);
    // REDIRECTION_SUPPORTED | REDIRECTION_VERSION4 << 2
    w.u32le("cluster_flags", 0x0000_000D)
        .u32le("redirected_session_id", 0);
    w.end();
    w
}

/// The GCC Conference Create Request (T.124 §8.7, MS-RDPBCGR §2.2.1.3.1) with
/// the client's core, security, network and cluster data.
pub fn conference_create_request(d: &ClientData) -> Writer {
    let mut blocks = Writer::new();
    blocks.append(client_core(d));
    blocks.append(client_cluster());
    blocks.append(client_security());
    blocks.append(client_network(&d.channels));
    let mut body = Writer::new();
    body.begin("gcc_ccr")
        .u8("gcc_ccr_choice", 0x00)
        .u8("gcc_ccr_optional", 0x08)
        .bytes(
            "gcc_conference_name",
            &[0x00, 0x10],
            Some(Value::Text("1".into())),
        )
        .u8("gcc_termination_method", 0x00)
        .u8("gcc_user_data_count", 0x01)
        .u8("gcc_user_data_choice", 0xC0)
        .u8("gcc_h221_key_length", 0x00)
        .bytes("gcc_h221_key", b"Duca", Some(Value::Text("Duca".into())));
    let n = blocks.len();
    body.bytes("per_length", &per_len_bytes(n), Some(Value::Uint(n as u64)));
    body.append(blocks);
    body.end();
    gcc_connect_data(body)
}

/// MCS Connect Initial (§2.2.1.3) around the GCC request, in an X.224 Data TPDU.
pub fn connect_initial(d: &ClientData) -> Writer {
    let mut inner = Writer::new();
    let mut one = Writer::new();
    one.bytes("ber_value", &[0x01], None);
    inner.append(ber_tlv("calling_domain_selector", &[0x04], one.clone()));
    inner.append(ber_tlv("called_domain_selector", &[0x04], one));
    let mut up = Writer::new();
    up.bytes("ber_value", &[0xFF], Some(Value::Uint(1)));
    inner.append(ber_tlv("upward_flag", &[0x01], up));
    inner.append(domain_parameters(
        "target_parameters",
        [34, 2, 0, 1, 0, 1, 0xFFFF, 2],
    ));
    inner.append(domain_parameters(
        "minimum_parameters",
        [1, 1, 1, 1, 0, 1, 0x420, 2],
    ));
    inner.append(domain_parameters(
        "maximum_parameters",
        [0xFFFF, 0xFC17, 0xFFFF, 1, 0, 1, 0xFFFF, 2],
    ));
    inner.append(ber_tlv(
        "mcs_user_data",
        &[0x04],
        conference_create_request(d),
    ));
    crate::x224::data(ber_tlv("mcs_connect_initial", &[0x7F, 0x65], inner))
}

/// What the server said in its Connect Response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerData {
    /// The server's RDP version (SC_CORE).
    pub version: u32,
    /// The I/O channel id (SC_NET MCSChannelId).
    pub io_channel: u16,
    /// The ids of the requested static channels, in request order.
    pub channel_ids: Vec<u16>,
    /// SC_SECURITY encryptionMethod and encryptionLevel (both 0 with TLS).
    pub encryption: (u32, u32),
    /// SC_CORE clientRequestedProtocols: the server's echo of RDP_NEG_REQ.
    pub client_requested: Option<u32>,
}

fn block_name(ty: u16) -> &'static str {
    match ty {
        0x0C01 => "rdp.block.sc_core",
        0x0C02 => "rdp.block.sc_security",
        0x0C03 => "rdp.block.sc_net",
        0x0C04 => "rdp.block.sc_mcs_msgchannel",
        0x0C08 => "rdp.block.sc_multitransport",
        _ => "rdp.block.other",
    }
}

fn read_server_blocks(r: &mut Reader<'_>) -> Result<ServerData, Error> {
    let mut sd = ServerData::default();
    // At most a handful of blocks; each is at least its 4-byte header.
    while r.left() > 0 {
        let at = r.offset();
        let mut peek = r.clone();
        let ty = peek.u16le("ud_type")?;
        let len = usize::from(peek.u16le("ud_length")?);
        if len < 4 || len > r.left() {
            return Err(Error {
                kind: ErrorKind::BadLength,
                offset: at,
            });
        }
        let mut b = r.sub(len)?;
        b.begin_key("sc_block", block_name(ty));
        b.u16le("ud_type")?;
        b.name_last(block_name(ty));
        b.u16le("ud_length")?;
        match ty {
            0x0C01 => {
                sd.version = b.u32le("rdp_version")?;
                if b.left() >= 4 {
                    sd.client_requested = Some(b.u32le("client_requested_protocols")?);
                }
                if b.left() >= 4 {
                    b.u32le("early_capability_flags")?;
                }
            }
            0x0C02 => {
                sd.encryption.0 = b.u32le("encryption_method")?;
                sd.encryption.1 = b.u32le("encryption_level")?;
            }
            0x0C03 => {
                sd.io_channel = b.u16le("mcs_channel_id")?;
                let n = usize::from(b.u16le("channel_count")?);
                if n * 2 > b.left() {
                    return Err(b.err(ErrorKind::BadLength));
                }
                for _ in 0..n {
                    sd.channel_ids.push(b.u16le("channel_id")?);
                }
                if n % 2 == 1 && b.left() >= 2 {
                    b.bytes("pad2", 2)?;
                }
            }
            _ => {}
        }
        b.rest("block_data");
        b.end();
        r.join(b);
    }
    Ok(sd)
}

/// Reads an MCS Connect Response (after the X.224 Data header) and the GCC
/// Conference Create Response in it.
pub fn read_connect_response(r: &mut Reader<'_>) -> Result<ServerData, Error> {
    read_tlv(r, "mcs_connect_response", &[0x7F, 0x66], |r| {
        let result = read_tlv(r, "mcs_result", &[0x0A], |v| {
            let b = v.u8("ber_value")?;
            Ok(b)
        })?;
        if result != 0 {
            return Err(r.err(ErrorKind::McsRefused(result)));
        }
        read_ber_uint(r, "called_connect_id")?;
        read_tlv(r, "domain_parameters", &[0x30], |p| {
            for name in [
                "max_channel_ids",
                "max_user_ids",
                "max_token_ids",
                "num_priorities",
                "min_throughput",
                "max_height",
                "max_mcspdu_size",
                "protocol_version",
            ] {
                read_ber_uint(p, name)?;
            }
            Ok(())
        })?;
        read_tlv(r, "mcs_user_data", &[0x04], |g| {
            g.begin("gcc_connect_data");
            g.u8("gcc_key_choice")?;
            if g.u8("gcc_oid_length")? != 5 {
                return Err(g.err(ErrorKind::BadEncoding));
            }
            if g.bytes("gcc_t124_oid", 5)? != T124_OID {
                return Err(g.err(ErrorKind::BadEncoding));
            }
            // The ConnectPDU's length is read, not trusted: xrdp 0.9 writes 0x2a
            // there, 13 bytes short of what follows; FreeRDP and IronRDP do not
            // check it either. The OCTET STRING around it bounds what is read.
            read_per_len_unchecked(g, "gcc_connect_pdu_length")?;
            let n = g.left();
            let mut c = g.sub(n)?;
            c.begin("gcc_ccresp");
            c.u8("gcc_ccresp_choice")?;
            c.u16be("gcc_node_id")?;
            let tag = usize::from(c.u8("gcc_tag_length")?);
            if tag == 0 || tag > 4 {
                return Err(c.err(ErrorKind::BadEncoding));
            }
            c.bytes("gcc_tag", tag)?;
            c.u8("gcc_result")?;
            c.u8("gcc_user_data_count")?;
            c.u8("gcc_user_data_choice")?;
            if c.u8("gcc_h221_key_length")? != 0 {
                return Err(c.err(ErrorKind::BadEncoding));
            }
            c.bytes("gcc_h221_key", 4)?;
            let n = read_per_len(&mut c, "per_length")?;
            let mut blocks = c.sub(n)?;
            let sd = read_server_blocks(&mut blocks)?;
            c.join(blocks);
            c.end();
            c.expect_empty()?;
            g.join(c);
            g.end();
            Ok(sd)
        })
    })
}

// ---- Domain PDUs (T.125 §7 part 10, PER) -----------------------------------

/// Erect Domain Request (§2.2.1.5): subHeight 0, subInterval 0.
pub fn erect_domain() -> Writer {
    let mut w = Writer::new();
    w.begin("mcs_erect_domain")
        .u8("mcs_choice", 0x04)
        .u8("per_length", 1)
        .u8("sub_height", 0)
        .u8("per_length", 1)
        .u8("sub_interval", 0)
        .end();
    crate::x224::data(w)
}

/// Attach User Request (§2.2.1.6).
pub fn attach_user_request() -> Writer {
    let mut w = Writer::new();
    w.begin("mcs_attach_user_request")
        .u8("mcs_choice", 0x28)
        .end();
    crate::x224::data(w)
}

/// Channel Join Request (§2.2.1.8) for `channel`, by `user`.
pub fn channel_join_request(user: u16, channel: u16) -> Writer {
    let mut w = Writer::new();
    w.begin("mcs_channel_join_request")
        .u8("mcs_choice", 0x38)
        .u16be("mcs_initiator", user.wrapping_sub(USER_BASE))
        .u16be("mcs_channel_id", channel)
        .end();
    crate::x224::data(w)
}

/// Send Data Request (T.125 SDrq) from `user` on `channel` carrying `payload`.
pub fn send_data_request(user: u16, channel: u16, payload: Writer) -> Writer {
    let mut w = Writer::new();
    w.begin("mcs_send_data_request")
        .u8("mcs_choice", 0x64)
        .u16be("mcs_initiator", user.wrapping_sub(USER_BASE))
        .u16be("mcs_channel_id", channel)
        // dataPriority high, segmentation begin|end
        .u8("mcs_priority_segmentation", 0x70);
    let n = payload.len();
    w.bytes("per_length", &per_len_bytes(n), Some(Value::Uint(n as u64)));
    w.end();
    w.append(payload);
    crate::x224::data(w)
}

/// A domain PDU from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainPdu<'a> {
    /// Attach User Confirm: result and the user's channel id.
    AttachUserConfirm {
        /// rt-successful is 0.
        result: u8,
        /// The user channel id.
        user: Option<u16>,
    },
    /// Channel Join Confirm.
    ChannelJoinConfirm {
        /// rt-successful is 0.
        result: u8,
        /// The channel asked for.
        requested: u16,
    },
    /// Send Data Indication: a payload on a channel.
    SendData {
        /// The channel.
        channel: u16,
        /// Its bytes, at `offset` in the PDU.
        data: &'a [u8],
        /// Where they start.
        offset: usize,
    },
    /// Disconnect Provider Ultimatum: the server ends the domain.
    Disconnect,
}

/// Reads a PER domain PDU (after the X.224 Data header). A Send Data
/// Indication's payload is left to the caller (its fields are not recorded here).
pub fn read_domain_pdu<'a>(r: &mut Reader<'a>) -> Result<DomainPdu<'a>, Error> {
    let mut peek = r.clone();
    let b = peek.u8("mcs_choice")?;
    match b >> 2 {
        11 => {
            r.begin("mcs_attach_user_confirm");
            r.u8("mcs_choice")?;
            let result = r.u8("mcs_result")?;
            let user = if b & 0x02 != 0 {
                Some(r.u16be("mcs_initiator")?.wrapping_add(USER_BASE))
            } else {
                None
            };
            r.end();
            r.expect_empty()?;
            Ok(DomainPdu::AttachUserConfirm { result, user })
        }
        15 => {
            r.begin("mcs_channel_join_confirm");
            r.u8("mcs_choice")?;
            let result = r.u8("mcs_result")?;
            r.u16be("mcs_initiator")?;
            let requested = r.u16be("mcs_requested")?;
            if b & 0x02 != 0 {
                r.u16be("mcs_channel_id")?;
            }
            r.end();
            r.expect_empty()?;
            Ok(DomainPdu::ChannelJoinConfirm { result, requested })
        }
        26 => {
            r.begin("mcs_send_data_indication");
            r.u8("mcs_choice")?;
            r.u16be("mcs_initiator")?;
            let channel = r.u16be("mcs_channel_id")?;
            r.u8("mcs_priority_segmentation")?;
            let n = read_per_len(r, "per_length")?;
            r.end();
            if n != r.left() {
                return Err(r.err(ErrorKind::BadLength));
            }
            let offset = r.offset();
            let data = r.raw(n)?;
            Ok(DomainPdu::SendData {
                channel,
                data,
                offset,
            })
        }
        8 => {
            r.begin("mcs_disconnect_provider_ultimatum");
            r.rest("mcs_reason");
            r.end();
            Ok(DomainPdu::Disconnect)
        }
        _ => Err(r.err(ErrorKind::Unexpected)),
    }
}

// ---- The server's side ------------------------------------------------------

/// The server's MCS channel (MS-RDPBCGR §2.2.1.3.1: the Server Channel ID).
pub const SERVER_CHANNEL: u16 = 1002;

fn server_blocks(requested: u32, io: u16, ids: &[u16]) -> Writer {
    let mut w = Writer::new();
    w.begin("sc_block");
    ud_header(&mut w, 0x0C01, "rdp.block.sc_core", 16);
    w.u32le("rdp_version", 0x0008_0004)
        .u32le("client_requested_protocols", requested)
        .u32le("early_capability_flags", 0);
    w.end();
    w.begin("sc_block");
    ud_header(
        &mut w,
        0x0C03,
        "rdp.block.sc_net",
        8 + 2 * ids.len() + 2 * (ids.len() % 2),
    );
    w.u16le("mcs_channel_id", io)
        .u16le("channel_count", ids.len() as u16);
    for id in ids {
        w.u16le("channel_id", *id);
    }
    if ids.len() % 2 == 1 {
        w.bytes("pad2", &[0, 0], None);
    }
    w.end();
    w.begin("sc_block");
    ud_header(&mut w, 0x0C02, "rdp.block.sc_security", 12);
    // ENCRYPTION_METHOD_NONE, ENCRYPTION_LEVEL_NONE: TLS protects everything.
    w.u32le("encryption_method", 0).u32le("encryption_level", 0);
    w.end();
    w
}

/// MCS Connect Response (§2.2.1.4) with the GCC Conference Create Response:
/// server core, network (the I/O channel and one id per requested channel) and
/// security data.
pub fn connect_response(requested: u32, channels: usize) -> Writer {
    let ids: Vec<u16> = (0..channels.min(31) as u16)
        .map(|i| IO_CHANNEL + 1 + i)
        .collect();
    let blocks = server_blocks(requested, IO_CHANNEL, &ids);
    let mut body = Writer::new();
    body.begin("gcc_ccresp")
        .u8("gcc_ccresp_choice", 0x14)
        .bytes("gcc_node_id", &[0x76, 0x0A], Some(Value::Uint(0x760A)))
        .u8("gcc_tag_length", 1)
        .u8("gcc_tag", 1)
        .u8("gcc_result", 0)
        .u8("gcc_user_data_count", 1)
        .u8("gcc_user_data_choice", 0xC0)
        .u8("gcc_h221_key_length", 0)
        .bytes("gcc_h221_key", b"McDn", Some(Value::Text("McDn".into())));
    let n = blocks.len();
    body.bytes("per_length", &per_len_bytes(n), Some(Value::Uint(n as u64)));
    body.append(blocks);
    body.end();
    let mut inner = Writer::new();
    let mut result = Writer::new();
    result.bytes(
        "ber_value",
        &[0],
        Some(Value::Key("rdp.mcs.rt_successful".into())),
    );
    inner.append(ber_tlv("mcs_result", &[0x0A], result));
    inner.append(ber_uint("called_connect_id", 0));
    inner.append(domain_parameters(
        "domain_parameters",
        [34, 3, 0, 1, 0, 1, 0xFFF8, 2],
    ));
    inner.append(ber_tlv(
        "mcs_user_data",
        &[0x04],
        gcc_connect_data_resp(body),
    ));
    crate::x224::data(ber_tlv("mcs_connect_response", &[0x7F, 0x66], inner))
}

fn gcc_connect_data_resp(body: Writer) -> Writer {
    let mut w = Writer::new();
    w.begin("gcc_connect_data")
        .u8("gcc_key_choice", 0x00)
        .u8("gcc_oid_length", 5)
        .bytes("gcc_t124_oid", &T124_OID, None);
    let n = body.len();
    w.bytes(
        "gcc_connect_pdu_length",
        &per_len_bytes(n),
        Some(Value::Uint(n as u64)),
    );
    w.append(body);
    w.end();
    w
}

/// Attach User Confirm (§2.2.1.7): rt-successful, the user's channel.
pub fn attach_user_confirm(user: u16) -> Writer {
    let mut w = Writer::new();
    w.begin("mcs_attach_user_confirm")
        .u8("mcs_choice", 0x2E)
        .u8("mcs_result", 0)
        .u16be("mcs_initiator", user.wrapping_sub(USER_BASE))
        .end();
    crate::x224::data(w)
}

/// Channel Join Confirm (§2.2.1.9) for `channel`.
pub fn channel_join_confirm(user: u16, channel: u16) -> Writer {
    let mut w = Writer::new();
    w.begin("mcs_channel_join_confirm")
        .u8("mcs_choice", 0x3E)
        .u8("mcs_result", 0)
        .u16be("mcs_initiator", user.wrapping_sub(USER_BASE))
        .u16be("mcs_requested", channel)
        .u16be("mcs_channel_id", channel)
        .end();
    crate::x224::data(w)
}

/// Send Data Indication (T.125 SDin) from the server on `channel`.
pub fn send_data_indication(channel: u16, payload: Writer) -> Writer {
    let mut w = Writer::new();
    w.begin("mcs_send_data_indication")
        .u8("mcs_choice", 0x68)
        .u16be("mcs_initiator", SERVER_CHANNEL.wrapping_sub(USER_BASE))
        .u16be("mcs_channel_id", channel)
        .u8("mcs_priority_segmentation", 0x70);
    let n = payload.len();
    w.bytes("per_length", &per_len_bytes(n), Some(Value::Uint(n as u64)));
    w.end();
    w.append(payload);
    crate::x224::data(w)
}

/// Skips one BER TLV (any tag of one or two bytes), returning its value.
fn skip_tlv<'a>(r: &mut Reader<'a>) -> Result<&'a [u8], Error> {
    let t = r.raw(1)?.first().copied().unwrap_or(0);
    if t & 0x1F == 0x1F {
        r.raw(1)?;
    }
    let n = read_ber_len(r)?;
    r.raw(n)
}

/// What the server reads in a client's Connect Initial.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectInitial {
    /// The names of the static channels asked for.
    pub channels: Vec<String>,
    /// CS_CORE serverSelectedProtocol: the client's echo of the Connection Confirm.
    pub server_selected: Option<u32>,
}

/// Reads a client's MCS Connect Initial (after the X.224 Data header).
pub fn read_connect_initial(r: &mut Reader<'_>) -> Result<ConnectInitial, Error> {
    let ci = skip_tlv(r)?;
    r.expect_empty()?;
    let mut c = Reader::new(ci, 0);
    // Two domain selectors, the upward flag, three DomainParameters, then userData.
    for _ in 0..6 {
        skip_tlv(&mut c)?;
    }
    let gcc = skip_tlv(&mut c)?;
    let mut g = Reader::new(gcc, 0);
    g.raw(7)?;
    read_per_len_unchecked(&mut g, "per_length")?;
    // choice, optional fields, conference name, termination, count, choice, key.
    g.raw(12)?;
    let n = read_per_len(&mut g, "per_length")?;
    let mut blocks = g.sub(n)?;
    let mut names = Vec::new();
    let mut server_selected = None;
    while blocks.left() > 0 {
        let ty = blocks.u16le("ud_type")?;
        let len = usize::from(blocks.u16le("ud_length")?);
        let mut b = blocks.sub(len.checked_sub(4).ok_or(blocks.err(ErrorKind::BadLength))?)?;
        if ty == 0xC001 && b.left() >= 212 {
            b.raw(208)?;
            server_selected = Some(b.u32le("server_selected_protocol")?);
        }
        if ty == 0xC003 {
            let count = b.u32le("channel_count")? as usize;
            if count > b.left() / 12 {
                return Err(b.err(ErrorKind::BadLength));
            }
            for _ in 0..count {
                let name = b.raw(8)?;
                b.raw(4)?;
                let end = name.iter().position(|c| *c == 0).unwrap_or(8);
                names.push(String::from_utf8_lossy(name.get(..end).unwrap_or(&[])).into_owned());
            }
        }
    }
    Ok(ConnectInitial {
        channels: names,
        server_selected,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> ClientData {
        ClientData {
            width: 1024,
            height: 768,
            bpp: 16,
            client_name: "ELTONS-DEV2".into(),
            keyboard_layout: 0x409,
            selected_protocol: 1,
            channels: vec![
                ChannelDef {
                    name: "cliprdr".into(),
                    options: 0xC0A0_0000,
                },
                ChannelDef {
                    name: "rdpsnd".into(),
                    options: 0xC000_0000,
                },
            ],
        }
    }

    #[test]
    fn connect_initial_is_explained_and_has_the_specs_gcc_header() {
        let (b, f) = connect_initial(&data()).finish();
        assert!(crate::coverage_ok(&b, &f));
        // §4.1.3: TPKT, X.224 Data, 7f 65 82 len, 04 01 01 04 01 01 01 01 ff 30 19 …
        assert_eq!(&b[7..9], &[0x7F, 0x65]);
        assert_eq!(&b[12..23], &[4, 1, 1, 4, 1, 1, 1, 1, 0xFF, 0x30, 0x19]);
        let gcc = b
            .windows(7)
            .position(|w| w == [0x00, 0x05, 0x00, 0x14, 0x7c, 0x00, 0x01])
            .unwrap();
        assert_eq!(
            &b[gcc + 9..gcc + 21],
            &[0x00, 0x08, 0x00, 0x10, 0x00, 0x01, 0xc0, 0x00, 0x44, 0x75, 0x63, 0x61]
        );
        // The core block is 216 bytes (0xd8) as in the spec's example.
        let core = b.windows(4).position(|w| w == [0x01, 0xc0, 0xd8, 0x00]);
        assert!(core.is_some());
    }

    #[test]
    fn domain_pdus_are_the_specs_bytes() {
        // §4.1.5 Erect Domain Request, §4.1.6 Attach User Request,
        // §4.1.8 Channel Join Request for channel 1007 by user 1007.
        let (b, _) = erect_domain().finish();
        assert_eq!(b, [3, 0, 0, 12, 2, 0xf0, 0x80, 4, 1, 0, 1, 0]);
        let (b, _) = attach_user_request().finish();
        assert_eq!(b, [3, 0, 0, 8, 2, 0xf0, 0x80, 0x28]);
        let (b, _) = channel_join_request(1007, 1007).finish();
        assert_eq!(b, [3, 0, 0, 12, 2, 0xf0, 0x80, 0x38, 0, 6, 3, 0xef]);
    }

    #[test]
    fn a_ber_length_past_the_end_is_an_error() {
        let bytes = [0x7F, 0x66, 0x82, 0x10, 0x00, 0x0A, 0x01, 0x00];
        let mut r = Reader::new(&bytes, 0);
        assert_eq!(
            read_connect_response(&mut r).unwrap_err().kind,
            ErrorKind::BadLength
        );
        let bytes = [0x7F, 0x66, 0x84, 0, 0, 0, 1, 0];
        let mut r = Reader::new(&bytes, 0);
        assert_eq!(
            read_connect_response(&mut r).unwrap_err().kind,
            ErrorKind::BadEncoding
        );
    }

    #[test]
    fn a_nested_length_that_lies_is_an_error() {
        // The outer length fits, the result's inner length claims more than it holds.
        let bytes = [0x7F, 0x66, 0x03, 0x0A, 0x05, 0x00];
        let mut r = Reader::new(&bytes, 0);
        assert_eq!(
            read_connect_response(&mut r).unwrap_err().kind,
            ErrorKind::BadLength
        );
    }
}
