//! The share layer on the MCS I/O channel (MS-RDPBCGR §2.2.1.11–2.2.1.22,
//! §2.2.9.1.1): the Client Info PDU, the server's licensing message, Demand and
//! Confirm Active with capability sets, the finalization PDUs, and slow-path
//! updates; and the static virtual channel PDU header (§2.2.6.1).
//!
//! ```text
//! TS_SHARECONTROLHEADER: totalLength(2) pduType(2) pduSource(2)
//! TS_SHAREDATAHEADER:    + shareId(4) pad1(1) streamId(1) uncompressedLength(2)
//!                          pduType2(1) compressedType(1) compressedLength(2)
//! ```

use cipherstage_transcript::Value;

use crate::bitmap::BitmapRect;
use crate::codec::{Reader, Writer};
use crate::{Error, ErrorKind};

/// SEC_INFO_PKT (§2.2.8.1.1.2.1).
const SEC_INFO_PKT: u16 = 0x0040;
/// SEC_LICENSE_PKT.
const SEC_LICENSE_PKT: u16 = 0x0080;

/// What the Client Info PDU says (§2.2.1.11.1.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logon {
    /// Domain (may be empty).
    pub domain: String,
    /// User name.
    pub user: String,
    /// Password.
    pub password: String,
}

fn utf16z(text: &str) -> Vec<u8> {
    let mut b: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    b.extend_from_slice(&[0, 0]);
    b
}

/// The Client Info PDU (§2.2.1.11) with its basic security header (TLS: only
/// the flags, no MAC).
pub fn client_info(l: &Logon) -> Writer {
    let strings = [
        ("domain", l.domain.as_str()),
        ("user_name", l.user.as_str()),
        ("password", l.password.as_str()),
        ("alternate_shell", ""),
        ("working_dir", ""),
    ];
    let mut w = Writer::new();
    w.begin("security_header")
        .u16le("sec_flags", SEC_INFO_PKT)
        .u16le("sec_flags_hi", 0)
        .end();
    w.begin("info_packet").u32le("code_page", 0);
    // INFO_MOUSE | INFO_DISABLECTRLALTDEL | INFO_UNICODE | INFO_MAXIMIZESHELL |
    // INFO_LOGONNOTIFY | INFO_ENABLEWINDOWSKEY | INFO_LOGONERRORS; no
    // INFO_AUTOLOGON, so the server shows its login screen.
    w.u32le("info_flags", 0x0001_0173);
    for (k, s) in strings {
        let n = (s.encode_utf16().count() * 2).min(0xFFFF) as u16;
        w.u16le(&format!("cb_{k}"), n);
    }
    for (k, s) in strings {
        w.bytes(k, &utf16z(s), Some(Value::Text(s.to_owned())));
    }
    w.begin("extended_info")
        .u16le("client_address_family", 2)
        .u16le("cb_client_address", 22)
        .bytes(
            "client_address",
            &utf16z("192.0.2.10"),
            Some(Value::Text("192.0.2.10".into())),
        )
        .u16le("cb_client_dir", 2)
        .bytes("client_dir", &[0, 0], None);
    w.begin("time_zone")
        .u32le("tz_bias", 0)
        .utf16("tz_standard_name", "UTC", 64)
        .bytes("tz_standard_date", &[0; 16], None)
        .u32le("tz_standard_bias", 0)
        .utf16("tz_daylight_name", "UTC", 64)
        .bytes("tz_daylight_date", &[0; 16], None)
        .u32le("tz_daylight_bias", 0)
        .end();
    w.u32le("client_session_id", 0)
        // PERF_DISABLE_WALLPAPER | PERF_DISABLE_FULLWINDOWDRAG | PERF_DISABLE_MENUANIMATIONS
        .u32le("performance_flags", 0x0000_0007)
        .u16le("cb_auto_reconnect_cookie", 0)
        .end();
    w.end();
    w
}

/// A licensing message from the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum License {
    /// LICENSE_REQUEST (§2.2.1.12.1.1, MS-RDPELE §2.2.2.1): the server offers
    /// to issue a licence.
    Request,
    /// LICENSE_ERROR_MESSAGE with STATUS_VALID_CLIENT (§2.2.1.12.1.3): done.
    ValidClient,
}

fn license_blob(r: &mut Reader<'_>, key: &str) -> Result<(), Error> {
    r.begin(key);
    r.u16le("license_blob_type")?;
    let n = usize::from(r.u16le("license_blob_length")?);
    if n > r.left() {
        return Err(r.err(ErrorKind::BadLength));
    }
    if n > 0 {
        r.bytes("license_blob", n)?;
    }
    r.end();
    Ok(())
}

fn counted(r: &mut Reader<'_>, len_key: &str, key: &str) -> Result<(), Error> {
    let n = r.u32le(len_key)? as usize;
    if n > r.left() {
        return Err(r.err(ErrorKind::BadLength));
    }
    if n > 0 {
        r.bytes(key, n)?;
    }
    Ok(())
}

/// Reads the server's licensing PDU: a licence request, or the valid-client
/// message; anything else is [`ErrorKind::Licensing`].
pub fn read_license(r: &mut Reader<'_>) -> Result<License, Error> {
    r.begin("security_header");
    let flags = r.u16le("sec_flags")?;
    r.u16le("sec_flags_hi")?;
    r.end();
    if flags & SEC_LICENSE_PKT == 0 {
        return Err(r.err(ErrorKind::Licensing));
    }
    r.begin("license_preamble");
    let ty = r.u8("license_msg_type")?;
    r.name_last(match ty {
        0x01 => "rdp.license.license_request",
        0xFF => "rdp.license.error_alert",
        _ => "rdp.license.other",
    });
    r.u8("license_flags")?;
    let size = usize::from(r.u16le("license_msg_size")?);
    r.end();
    if size != r.left() + 4 {
        return Err(r.err(ErrorKind::BadLength));
    }
    match ty {
        0x01 => {
            r.begin("license_request");
            r.bytes("license_server_random", 32)?;
            r.begin("license_product_info");
            r.u32le("license_product_version")?;
            counted(r, "license_cb_company_name", "license_company_name")?;
            counted(r, "license_cb_product_id", "license_product_id")?;
            r.end();
            license_blob(r, "license_key_exchange_list")?;
            license_blob(r, "license_server_certificate")?;
            r.begin("license_scope_list");
            let n = r.u32le("license_scope_count")?;
            // Each scope is at least a 4-byte blob header.
            if n as usize > r.left() / 4 {
                return Err(r.err(ErrorKind::BadLength));
            }
            for _ in 0..n {
                license_blob(r, "license_scope")?;
            }
            r.end();
            r.end();
            r.expect_empty()?;
            Ok(License::Request)
        }
        0xFF => {
            r.begin("license_error_message");
            let code = r.u32le("license_error_code")?;
            r.name_last(if code == 7 {
                "rdp.license.status_valid_client"
            } else {
                "rdp.license.other"
            });
            r.u32le("license_state_transition")?;
            license_blob(r, "license_error_info")?;
            r.end();
            r.expect_empty()?;
            if code != 7 {
                return Err(r.err(ErrorKind::Licensing));
            }
            Ok(License::ValidClient)
        }
        _ => Err(r.err(ErrorKind::Licensing)),
    }
}

/// The client's answer to a licence request when it asks for no licence: a
/// LICENSE_ERROR_MESSAGE (§2.2.1.12.1.3) with ERR_NO_LICENSE, which a client
/// may send; with TLS security the licence's own key exchange adds nothing.
pub fn license_no_license() -> Writer {
    let mut w = Writer::new();
    w.begin("security_header")
        .u16le("sec_flags", SEC_LICENSE_PKT)
        .u16le("sec_flags_hi", 0)
        .end();
    w.begin("license_preamble")
        .bytes(
            "license_msg_type",
            &[0xFF],
            Some(Value::Key("rdp.license.error_alert".into())),
        )
        .u8("license_flags", 0x03)
        .u16le("license_msg_size", 16)
        .end();
    w.begin("license_error_message")
        .bytes(
            "license_error_code",
            &2u32.to_le_bytes(),
            Some(Value::Key("rdp.license.err_no_license".into())),
        )
        .u32le("license_state_transition", 2)
        .begin("license_error_info")
        .u16le("license_blob_type", 4)
        .u16le("license_blob_length", 0)
        .end()
        .end();
    w
}

fn cap_name(ty: u16) -> &'static str {
    match ty {
        1 => "rdp.cap.general",
        2 => "rdp.cap.bitmap",
        3 => "rdp.cap.order",
        4 => "rdp.cap.bitmap_cache",
        5 => "rdp.cap.control",
        7 => "rdp.cap.activation",
        8 => "rdp.cap.pointer",
        9 => "rdp.cap.share",
        10 => "rdp.cap.color_cache",
        12 => "rdp.cap.sound",
        13 => "rdp.cap.input",
        14 => "rdp.cap.font",
        15 => "rdp.cap.brush",
        16 => "rdp.cap.glyph_cache",
        17 => "rdp.cap.offscreen_cache",
        18 => "rdp.cap.bitmap_cache_host",
        19 => "rdp.cap.bitmap_cache_v2",
        20 => "rdp.cap.virtual_channel",
        22 => "rdp.cap.draw_nine_grid",
        23 => "rdp.cap.draw_gdiplus",
        24 => "rdp.cap.rail",
        25 => "rdp.cap.window",
        26 => "rdp.cap.desktop_composition",
        27 => "rdp.cap.multifragment_update",
        28 => "rdp.cap.large_pointer",
        29 => "rdp.cap.surface_commands",
        30 => "rdp.cap.bitmap_codecs",
        _ => "rdp.cap.other",
    }
}

/// What the client advertises in Confirm Active.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    /// Bits per pixel.
    pub bpp: u16,
    /// Desktop width.
    pub width: u16,
    /// Desktop height.
    pub height: u16,
    /// Keyboard layout.
    pub keyboard_layout: u32,
}

fn cap(w: &mut Writer, ty: u16, body: Writer) {
    w.begin_key("capability_set", cap_name(ty))
        .u16_key("cap_type", ty, cap_name(ty))
        .u16le("cap_length", (body.len() + 4).min(0xFFFF) as u16)
        .append(body)
        .end();
}

fn client_caps(c: &Caps) -> (Writer, u16) {
    let mut w = Writer::new();
    let mut g = Writer::new();
    g.u16le("os_major_type", 1)
        .u16le("os_minor_type", 3)
        .u16le("protocol_version", 0x0200)
        .u16le("pad2", 0)
        .u16le("general_compression_types", 0)
        // LONG_CREDENTIALS_SUPPORTED | NO_BITMAP_COMPRESSION_HDR; no fast-path output.
        .u16le("extra_flags", 0x0404)
        .u16le("update_capability_flag", 0)
        .u16le("remote_unshare_flag", 0)
        .u16le("general_compression_level", 0)
        .u8("refresh_rect_support", 0)
        .u8("suppress_output_support", 0);
    cap(&mut w, 1, g);
    let mut b = Writer::new();
    b.u16le("preferred_bpp", c.bpp)
        .u16le("receive_1bpp", 1)
        .u16le("receive_4bpp", 1)
        .u16le("receive_8bpp", 1)
        .u16le("desktop_width", c.width)
        .u16le("desktop_height", c.height)
        .u16le("pad2", 0)
        .u16le("desktop_resize_flag", 0)
        .u16le("bitmap_compression_flag", 1)
        .u8("high_color_flags", 0)
        .u8("drawing_flags", 0)
        .u16le("multiple_rectangle_support", 1)
        .u16le("pad2", 0);
    cap(&mut w, 2, b);
    let mut o = Writer::new();
    o.bytes("terminal_descriptor", &[0; 16], None)
        .u32le("pad4", 0)
        .u16le("desktop_save_x_granularity", 1)
        .u16le("desktop_save_y_granularity", 20)
        .u16le("pad2", 0)
        .u16le("maximum_order_level", 1)
        .u16le("number_fonts", 0)
        // NEGOTIATEORDERSUPPORT | COLORINDEXSUPPORT
        .u16le("order_flags", 0x0022)
        // No drawing order at all: the server must send bitmaps.
        .bytes("order_support", &[0; 32], None)
        .u16le("text_flags", 0)
        .u16le("order_support_ex_flags", 0)
        .u32le("pad4", 0)
        .u32le("desktop_save_size", 0)
        .u16le("pad2", 0)
        .u16le("pad2", 0)
        .u16le("text_ansi_code_page", 0)
        .u16le("pad2", 0);
    cap(&mut w, 3, o);
    let mut p = Writer::new();
    p.u16le("color_pointer_flag", 1)
        .u16le("color_pointer_cache_size", 20)
        .u16le("pointer_cache_size", 21);
    cap(&mut w, 8, p);
    let mut i = Writer::new();
    // INPUT_FLAG_SCANCODES | MOUSEX | FASTPATH_INPUT | UNICODE | FASTPATH_INPUT2
    i.u16le("input_flags", 0x003D)
        .u16le("pad2", 0)
        .u32le("keyboard_layout", c.keyboard_layout)
        .u32le("keyboard_type", 4)
        .u32le("keyboard_subtype", 0)
        .u32le("keyboard_function_keys", 12)
        .bytes("ime_file_name", &[0; 64], None);
    cap(&mut w, 13, i);
    let mut v = Writer::new();
    v.u32le("vc_flags", 0).u32le("vc_chunk_size", 1600);
    cap(&mut w, 20, v);
    (w, 6)
}

fn share_control(ty: u16, name: &str, source: u16, body: Writer) -> Writer {
    let mut w = Writer::new();
    w.begin_key("share_control_header", name)
        .u16le("total_length", (body.len() + 6).min(0xFFFF) as u16)
        .u16_key("pdu_type", ty | 0x10, name)
        .u16le("pdu_source", source)
        .end();
    w.append(body);
    w
}

/// Confirm Active (§2.2.1.13.2) for `share_id`, from `user`.
pub fn confirm_active(share_id: u32, user: u16, c: &Caps) -> Writer {
    let (caps, n) = client_caps(c);
    let mut b = Writer::new();
    b.u32le("share_id", share_id)
        .u16le("originator_id", 0x03EA)
        .u16le("length_source_descriptor", 6)
        .u16le(
            "length_combined_capabilities",
            (caps.len() + 4).min(0xFFFF) as u16,
        )
        .bytes(
            "source_descriptor",
            b"MSTSC\0",
            Some(Value::Text("MSTSC".into())),
        )
        .u16le("number_capabilities", n)
        .u16le("pad2", 0)
        .append(caps);
    share_control(3, "rdp.pdu.confirm_active", user, b)
}

fn pdu2_name(t: u8) -> &'static str {
    match t {
        2 => "rdp.pdu2.update",
        20 => "rdp.pdu2.control",
        27 => "rdp.pdu2.pointer",
        28 => "rdp.pdu2.input",
        31 => "rdp.pdu2.synchronize",
        36 => "rdp.pdu2.shutdown_request",
        38 => "rdp.pdu2.save_session_info",
        39 => "rdp.pdu2.font_list",
        40 => "rdp.pdu2.font_map",
        47 => "rdp.pdu2.set_error_info",
        55 => "rdp.pdu2.monitor_layout",
        _ => "rdp.pdu2.other",
    }
}

/// A Data PDU (§2.2.8.1.1.1.2) of type `pdu2` around `body`.
pub fn data_pdu(share_id: u32, user: u16, pdu2: u8, body: Writer) -> Writer {
    let mut b = Writer::new();
    b.begin_key("share_data_header", pdu2_name(pdu2))
        .u32le("share_id", share_id)
        .u8("pad1", 0)
        .u8("stream_id", 1)
        .u16le("uncompressed_length", (body.len() + 4).min(0xFFFF) as u16)
        .bytes(
            "pdu_type2",
            &[pdu2],
            Some(Value::Key(pdu2_name(pdu2).to_owned())),
        )
        .u8("compressed_type", 0)
        .u16le("compressed_length", 0)
        .end();
    b.append(body);
    share_control(7, "rdp.pdu.data", user, b)
}

/// Synchronize (§2.2.1.14.1) to `target`.
pub fn synchronize(target: u16) -> Writer {
    let mut w = Writer::new();
    w.u16le("sync_message_type", 1).u16le("target_user", target);
    w
}

fn control_name(a: u16) -> &'static str {
    match a {
        1 => "rdp.control.request_control",
        2 => "rdp.control.granted_control",
        3 => "rdp.control.detach",
        4 => "rdp.control.cooperate",
        _ => "rdp.control.other",
    }
}

/// Control (§2.2.1.15.1) with `action`.
pub fn control(action: u16) -> Writer {
    let mut w = Writer::new();
    w.u16_key("control_action", action, control_name(action))
        .u16le("grant_id", 0)
        .u32le("control_id", 0);
    w
}

/// Font List (§2.2.1.18.1): no fonts, first and last.
pub fn font_list() -> Writer {
    let mut w = Writer::new();
    w.u16le("number_fonts", 0)
        .u16le("total_num_fonts", 0)
        .u16le("list_flags", 0x0003)
        .u16le("entry_size", 0x0032);
    w
}

/// A share-layer PDU from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SharePdu {
    /// Demand Active: the share id and the server's input flags.
    DemandActive {
        /// shareId.
        share_id: u32,
        /// The server's input capability flags (0 if absent).
        input_flags: u16,
    },
    /// Deactivate All.
    DeactivateAll,
    /// Synchronize.
    Synchronize,
    /// Control with its action.
    Control(u16),
    /// Font Map.
    FontMap,
    /// Set Error Info (its code).
    ErrorInfo(u32),
    /// A bitmap update: its rectangles.
    Bitmap(Vec<BitmapRect>),
    /// Any other update or data PDU (its pduType2).
    Other(u8),
}

/// Reads one share-control PDU (whose header says its length) from `r`.
pub fn read_share_pdu(r: &mut Reader<'_>) -> Result<SharePdu, Error> {
    let mut peek = r.clone();
    let total = usize::from(peek.u16le("total_length")?);
    if total == 0x8000 {
        // A flow-control PDU (§2.2.8.1.1.1.1 note): no share control header.
        r.begin("flow_pdu");
        r.rest("flow_data");
        r.end();
        return Ok(SharePdu::Other(0));
    }
    if total < 6 || total > r.left() {
        return Err(r.err(ErrorKind::BadLength));
    }
    let mut s = r.sub(total)?;
    let ty = peek.u16le("pdu_type")? & 0x0F;
    let name = match ty {
        1 => "rdp.pdu.demand_active",
        6 => "rdp.pdu.deactivate_all",
        7 => "rdp.pdu.data",
        _ => "rdp.pdu.other",
    };
    s.begin_key("share_control_header", name);
    s.u16le("total_length")?;
    s.u16le("pdu_type")?;
    s.name_last(name);
    if s.left() >= 2 {
        s.u16le("pdu_source")?;
    }
    s.end();
    let out = match ty {
        1 => read_demand_active(&mut s)?,
        6 => {
            s.rest("deactivate_data");
            SharePdu::DeactivateAll
        }
        7 => read_data_pdu(&mut s)?,
        _ => {
            s.rest("share_data");
            SharePdu::Other(0)
        }
    };
    s.expect_empty()?;
    r.join(s);
    Ok(out)
}

fn read_demand_active(s: &mut Reader<'_>) -> Result<SharePdu, Error> {
    let share_id = s.u32le("share_id")?;
    let src = usize::from(s.u16le("length_source_descriptor")?);
    let combined = usize::from(s.u16le("length_combined_capabilities")?);
    if src > s.left() {
        return Err(s.err(ErrorKind::BadLength));
    }
    s.bytes("source_descriptor", src)?;
    if combined < 4 || combined > s.left() {
        return Err(s.err(ErrorKind::BadLength));
    }
    let mut c = s.sub(combined)?;
    let n = c.u16le("number_capabilities")?;
    c.u16le("pad2")?;
    let mut input_flags = 0;
    for _ in 0..n {
        let at = c.offset();
        let mut peek = c.clone();
        let ty = peek.u16le("cap_type")?;
        let len = usize::from(peek.u16le("cap_length")?);
        if len < 4 || len > c.left() {
            return Err(Error {
                kind: ErrorKind::BadLength,
                offset: at,
            });
        }
        let mut one = c.sub(len)?;
        one.begin_key("capability_set", cap_name(ty));
        one.u16le("cap_type")?;
        one.name_last(cap_name(ty));
        one.u16le("cap_length")?;
        if ty == 13 && one.left() >= 2 {
            input_flags = one.u16le("input_flags")?;
        }
        one.rest("capability_data");
        one.end();
        c.join(one);
    }
    c.expect_empty()?;
    s.join(c);
    if s.left() >= 4 {
        s.u32le("session_id")?;
    }
    s.rest("padding");
    Ok(SharePdu::DemandActive {
        share_id,
        input_flags,
    })
}

fn read_data_pdu(s: &mut Reader<'_>) -> Result<SharePdu, Error> {
    let mut peek = s.clone();
    peek.raw(8)?;
    let t = peek.u8("pdu_type2")?;
    s.begin_key("share_data_header", pdu2_name(t));
    s.u32le("share_id")?;
    s.u8("pad1")?;
    s.u8("stream_id")?;
    s.u16le("uncompressed_length")?;
    s.u8("pdu_type2")?;
    s.name_last(pdu2_name(t));
    let compressed = s.u8("compressed_type")?;
    s.u16le("compressed_length")?;
    s.end();
    if compressed & 0x20 != 0 {
        // PACKET_COMPRESSED: bulk compression, which this client never offers.
        return Err(s.err(ErrorKind::Unexpected));
    }
    Ok(match t {
        31 => {
            s.u16le("sync_message_type")?;
            s.u16le("target_user")?;
            SharePdu::Synchronize
        }
        20 => {
            let a = s.u16le("control_action")?;
            s.name_last(control_name(a));
            s.u16le("grant_id")?;
            s.u32le("control_id")?;
            SharePdu::Control(a)
        }
        40 => {
            s.u16le("number_entries")?;
            s.u16le("total_num_entries")?;
            s.u16le("map_flags")?;
            s.u16le("entry_size")?;
            SharePdu::FontMap
        }
        47 => SharePdu::ErrorInfo(s.u32le("error_info")?),
        2 => {
            let ut = s.u16le("update_type")?;
            if ut == 1 {
                SharePdu::Bitmap(read_bitmap_data(s)?)
            } else {
                s.name_last(match ut {
                    0 => "rdp.update.orders",
                    2 => "rdp.update.palette",
                    3 => "rdp.update.synchronize",
                    _ => "rdp.update.other",
                });
                s.rest("update_data");
                SharePdu::Other(2)
            }
        }
        _ => {
            s.rest("data_pdu_body");
            SharePdu::Other(t)
        }
    })
}

/// Reads TS_BITMAP_DATA rectangles (§2.2.9.1.1.3.1.2.2) after the update type.
pub fn read_bitmap_data(s: &mut Reader<'_>) -> Result<Vec<BitmapRect>, Error> {
    let n = s.u16le("number_rectangles")?;
    // Each rectangle has an 18-byte header: a count beyond that is a lie.
    if usize::from(n) * 18 > s.left() {
        return Err(s.err(ErrorKind::BadLength));
    }
    let mut rects = Vec::with_capacity(usize::from(n));
    for _ in 0..n {
        s.begin("bitmap_data");
        let left = s.u16le("dest_left")?;
        let top = s.u16le("dest_top")?;
        let right = s.u16le("dest_right")?;
        let bottom = s.u16le("dest_bottom")?;
        let width = s.u16le("bitmap_width")?;
        let height = s.u16le("bitmap_height")?;
        let bpp = s.u16le("bits_per_pixel")?;
        let flags = s.u16le("bitmap_flags")?;
        let mut len = usize::from(s.u16le("bitmap_length")?);
        let compressed = flags & 0x0001 != 0;
        if compressed && flags & 0x0400 == 0 {
            // TS_CD_HEADER (8 bytes) counts in bitmapLength.
            if len < 8 {
                return Err(s.err(ErrorKind::BadLength));
            }
            s.begin("compressed_data_header");
            s.u16le("cb_comp_first_row_size")?;
            s.u16le("cb_comp_main_body_size")?;
            s.u16le("cb_scan_width")?;
            s.u16le("cb_uncompressed_size")?;
            s.end();
            len -= 8;
        }
        if len > s.left() {
            return Err(s.err(ErrorKind::BadLength));
        }
        let data = s.bytes(
            if compressed {
                "bitmap_rle_data"
            } else {
                "bitmap_pixels"
            },
            len,
        )?;
        s.end();
        rects.push(BitmapRect {
            left,
            top,
            right,
            bottom,
            width,
            height,
            bpp,
            compressed,
            data: data.to_vec(),
        });
    }
    Ok(rects)
}

/// Reads a static virtual channel PDU (CHANNEL_PDU_HEADER, §2.2.6.1.1).
pub fn read_channel_pdu(r: &mut Reader<'_>) -> Result<(), Error> {
    r.begin("channel_pdu_header");
    let len = r.u32le("channel_length")?;
    r.u32le("channel_flags")?;
    r.end();
    if (len as usize) < r.left() {
        return Err(r.err(ErrorKind::BadLength));
    }
    r.rest("channel_data");
    Ok(())
}

// ---- The server's side ------------------------------------------------------

/// The server's licensing answer when it issues no licence (§2.2.1.12.1.3,
/// as in §4.1.12): STATUS_VALID_CLIENT, ST_NO_TRANSITION, an empty error blob.
pub fn license_valid_client() -> Writer {
    let mut w = Writer::new();
    w.begin("security_header")
        .u16le("sec_flags", SEC_LICENSE_PKT)
        .u16le("sec_flags_hi", 0)
        .end();
    w.begin("license_preamble")
        .bytes(
            "license_msg_type",
            &[0xFF],
            Some(Value::Key("rdp.license.error_alert".into())),
        )
        .u8("license_flags", 0x03)
        .u16le("license_msg_size", 16)
        .end();
    w.begin("license_error_message")
        .bytes(
            "license_error_code",
            &7u32.to_le_bytes(),
            Some(Value::Key("rdp.license.status_valid_client".into())),
        )
        .u32le("license_state_transition", 2)
        .begin("license_error_info")
        .u16le("license_blob_type", 4)
        .u16le("license_blob_length", 0)
        .end()
        .end();
    w
}

/// Demand Active (§2.2.1.13.1) for `share_id`, with the same capability sets
/// the client confirms (their server-side reading), and the session id.
pub fn demand_active(share_id: u32, c: &Caps) -> Writer {
    let (caps, n) = client_caps(c);
    let mut b = Writer::new();
    b.u32le("share_id", share_id)
        .u16le("length_source_descriptor", 4)
        .u16le(
            "length_combined_capabilities",
            (caps.len() + 4).min(0xFFFF) as u16,
        )
        .bytes(
            "source_descriptor",
            b"RDP\0",
            Some(Value::Text("RDP".into())),
        )
        .u16le("number_capabilities", n)
        .u16le("pad2", 0)
        .append(caps)
        .u32le("session_id", 0);
    share_control(1, "rdp.pdu.demand_active", crate::mcs::SERVER_CHANNEL, b)
}

/// Font Map (§2.2.1.22.1).
pub fn font_map() -> Writer {
    let mut w = Writer::new();
    w.u16le("number_entries", 0)
        .u16le("total_num_entries", 0)
        .u16le("map_flags", 0x0003)
        .u16le("entry_size", 0x0004);
    w
}

/// A slow-path bitmap update (§2.2.9.1.1.3.1.2) with uncompressed rectangles.
pub fn bitmap_update(rects: &[BitmapRect]) -> Writer {
    let mut w = Writer::new();
    w.u16_key("update_type", 1, "rdp.update.bitmap")
        .u16le("number_rectangles", rects.len().min(0xFFFF) as u16);
    for r in rects {
        w.begin("bitmap_data")
            .u16le("dest_left", r.left)
            .u16le("dest_top", r.top)
            .u16le("dest_right", r.right)
            .u16le("dest_bottom", r.bottom)
            .u16le("bitmap_width", r.width)
            .u16le("bitmap_height", r.height)
            .u16le("bits_per_pixel", r.bpp)
            .u16le("bitmap_flags", 0)
            .u16le("bitmap_length", r.data.len().min(0xFFFF) as u16)
            .bytes("bitmap_pixels", &r.data, None)
            .end();
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_info_is_explained_and_lengths_exclude_the_terminator() {
        let (b, f) = client_info(&Logon {
            domain: String::new(),
            user: "alice".into(),
            password: "pw".into(),
        })
        .finish();
        assert!(crate::coverage_ok(&b, &f));
        // flags, then cbDomain 0, cbUserName 10, cbPassword 4.
        assert_eq!(&b[12..18], &[0, 0, 10, 0, 4, 0]);
    }

    #[test]
    fn confirm_active_is_explained_and_says_its_lengths() {
        let c = Caps {
            bpp: 16,
            width: 800,
            height: 600,
            keyboard_layout: 0x409,
        };
        let (b, f) = confirm_active(0x0001_03ea, 1007, &c).finish();
        assert!(crate::coverage_ok(&b, &f));
        assert_eq!(usize::from(u16::from_le_bytes([b[0], b[1]])), b.len());
        let combined = usize::from(u16::from_le_bytes([b[14], b[15]]));
        assert_eq!(combined, b.len() - 6 - 4 - 2 - 2 - 2 - 6);
    }

    #[test]
    fn the_valid_client_licence_message_is_read() {
        // §4.1.12: Server License Error PDU - Valid Client (after the MCS header).
        let bytes = [
            0x80, 0x00, 0x00, 0x00, 0xff, 0x03, 0x10, 0x00, 0x07, 0x00, 0x00, 0x00, 0x02, 0x00,
            0x00, 0x00, 0x04, 0x00, 0x00, 0x00,
        ];
        let mut r = Reader::new(&bytes, 0);
        assert_eq!(read_license(&mut r).unwrap(), License::ValidClient);
        assert!(crate::coverage_ok(&bytes, &r.finish()));
    }

    #[test]
    fn a_bitmap_count_beyond_the_pdu_is_an_error() {
        let bytes = [0xff, 0xff, 0, 0];
        let mut r = Reader::new(&bytes, 0);
        assert_eq!(
            read_bitmap_data(&mut r).unwrap_err().kind,
            ErrorKind::BadLength
        );
    }
}
