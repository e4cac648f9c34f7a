//! Field trees for OpenVPN packets: every byte named, nested as the protocol nests
//! them (OpenVPN packet › TLS record › handshake; P_DATA › IP › TCP).

use cipherstage_packets::describe::{ip_packet, HeaderProtection};
use cipherstage_transcript::{Field, FieldsBuilder, Protection, Value};

use super::control::KeyMethod;
use super::data::{OCC_MAGIC, PING};
use super::wire::{self, Control};
use super::wrap::{Kind, Wrapped, CRYPT_TAG};

const P: Protection = Protection::Plaintext;
const E: Protection = Protection::Encrypted;

/// Moves a tree made for bytes at 0 to bytes at `base`.
pub fn shift(fields: &mut [Field], base: usize) {
    for f in fields {
        f.start += base;
        f.end += base;
        shift(&mut f.children, base);
    }
}

fn leaf(b: &mut FieldsBuilder, name: &str, len: usize, value: Option<Value>, prot: Protection) {
    b.leaf(
        &format!("vpn.ovpn.field.{name}"),
        len,
        value,
        &format!("vpn.ovpn.explain.{name}"),
        prot,
    );
}

fn opcode(b: &mut FieldsBuilder, op: u8, key_id: u8) {
    leaf(
        b,
        "opcode",
        1,
        Some(Value::Text(format!(
            "{} (key_id {key_id})",
            wire::opcode_name(op)
        ))),
        P,
    );
}

/// The TCP length prefix (when `tcp`), then `inner`.
pub fn framed(tcp: bool, len: usize, inner: impl FnOnce(&mut FieldsBuilder)) -> Vec<Field> {
    let mut b = FieldsBuilder::new(0);
    if tcp {
        leaf(&mut b, "tcp_length", 2, Some(Value::Uint(len as u64)), P);
    }
    b.group("vpn.ovpn.field.packet", "vpn.ovpn.explain.packet", P, inner);
    b.finish()
}

/// A control packet's header; the payload's tree is `payload` (laid out at the
/// payload's offset), or one leaf of TLS bytes.
pub fn control(b: &mut FieldsBuilder, c: &Control, payload: Option<Vec<Field>>) {
    opcode(b, c.opcode, c.key_id);
    leaf(b, "session_id", 8, None, P);
    control_rest(b, c, payload);
}

/// Sets every field's protection in `fields` (and below) by `f`.
fn protect(fields: &mut [Field], f: &impl Fn(Protection) -> Protection) {
    for x in fields {
        x.protection = f(x.protection);
        protect(&mut x.children, f);
    }
}

/// A control packet as sent: plain, or with tls-auth's HMAC and replay id, or
/// encrypted by tls-crypt (what Eve sees is then the header, replay id and tag).
pub fn wrapped_control(
    b: &mut FieldsBuilder,
    c: &Control,
    payload: Option<Vec<Field>>,
    wrapped: Option<Wrapped>,
) {
    let Some(w) = wrapped else {
        control(b, c, payload);
        return;
    };
    let auth = matches!(w.kind, Kind::Auth(_));
    let head = if auth { Protection::IntegrityOnly } else { P };
    opcode(b, c.opcode, c.key_id);
    if let Some(f) = b.last_mut() {
        f.protection = head;
    }
    leaf(b, "session_id", 8, None, head);
    let replay = |b: &mut FieldsBuilder| {
        leaf(
            b,
            "wrap_packet_id",
            4,
            Some(Value::Uint(u64::from(w.pid))),
            Protection::IntegrityOnly,
        );
        leaf(
            b,
            "wrap_time",
            4,
            Some(Value::Uint(u64::from(w.time))),
            Protection::IntegrityOnly,
        );
    };
    match w.kind {
        Kind::Auth(n) => {
            leaf(b, "tls_auth_hmac", n, None, Protection::Signature);
            replay(b);
        }
        Kind::Crypt => {
            replay(b);
            leaf(b, "tls_crypt_tag", CRYPT_TAG, None, Protection::Signature);
        }
    }
    let mut inner = FieldsBuilder::new(b.offset());
    control_rest(&mut inner, c, payload);
    let mut fields = inner.finish();
    let len: usize = fields.iter().map(|f| f.end - f.start).sum();
    if auth {
        protect(&mut fields, &|p| {
            if p == P {
                Protection::IntegrityOnly
            } else {
                p
            }
        });
    } else {
        protect(&mut fields, &|_| E);
    }
    let (name, prot) = if auth {
        ("authenticated_control", Protection::IntegrityOnly)
    } else {
        ("encrypted_control", E)
    };
    b.group(
        &format!("vpn.ovpn.field.{name}"),
        &format!("vpn.ovpn.explain.{name}"),
        prot,
        |i| {
            i.leaf(
                "vpn.ovpn.field.tls_bytes",
                len,
                None,
                "vpn.ovpn.explain.tls_bytes",
                prot,
            );
        },
    );
    if let Some(g) = b.last_mut() {
        g.children = fields;
    }
}

/// What follows the session id in a plain control packet.
fn control_rest(b: &mut FieldsBuilder, c: &Control, payload: Option<Vec<Field>>) {
    leaf(b, "ack_count", 1, Some(Value::Uint(c.acks.len() as u64)), P);
    for a in &c.acks {
        leaf(b, "ack_id", 4, Some(Value::Uint(u64::from(*a))), P);
    }
    if !c.acks.is_empty() {
        leaf(b, "remote_session_id", 8, None, P);
    }
    if let Some(id) = c.msg_id {
        leaf(b, "packet_id", 4, Some(Value::Uint(u64::from(id))), P);
    }
    if c.payload.is_empty() {
        return;
    }
    match payload {
        Some(mut f) => {
            shift(&mut f, b.offset());
            let len = c.payload.len();
            b.group(
                "vpn.ovpn.field.tls_payload",
                "vpn.ovpn.explain.tls_payload",
                P,
                |i| {
                    // A placeholder leaf moves the builder; the real tree replaces it.
                    i.leaf(
                        "vpn.ovpn.field.tls_bytes",
                        len,
                        None,
                        "vpn.ovpn.explain.tls_bytes",
                        P,
                    );
                },
            );
            if let Some(g) = b.last_mut() {
                g.children = f;
            }
        }
        None => leaf(b, "tls_bytes", c.payload.len(), None, P),
    }
}

/// What a data packet carries, decrypted: a ping, an OCC message or an IP packet.
pub fn data_plaintext(b: &mut FieldsBuilder, plain: &[u8]) {
    if plain == PING {
        leaf(b, "ping_magic", 16, None, E);
    } else if plain.get(..16) == Some(&OCC_MAGIC[..]) {
        leaf(b, "occ_magic", 16, None, E);
        leaf(
            b,
            "occ_type",
            plain.len() - 16,
            plain.get(16).map(|t| Value::Uint(u64::from(*t))),
            E,
        );
    } else {
        ip_packet(b, plain, HeaderProtection::from(E), E);
    }
}

/// A data packet: header, packet id, tag, and the encrypted `plain`.
pub fn data(b: &mut FieldsBuilder, header: &[u8], plain: &[u8]) {
    let op = header.first().copied().unwrap_or_default();
    opcode(b, op >> 3, op & 7);
    if header.len() == 4 {
        let peer = header
            .get(1..4)
            .map_or(0, |p| p.iter().fold(0u64, |a, x| a << 8 | u64::from(*x)));
        leaf(
            b,
            "peer_id",
            3,
            Some(Value::Uint(peer)),
            Protection::IntegrityOnly,
        );
    }
    leaf(b, "data_packet_id", 4, None, Protection::IntegrityOnly);
    leaf(b, "aead_tag", 16, None, Protection::Signature);
    b.group(
        "vpn.ovpn.field.ciphertext",
        "vpn.ovpn.explain.ciphertext",
        E,
        |b| data_plaintext(b, plain),
    );
}

fn string(b: &mut FieldsBuilder, name: &str, s: &str) {
    let len = if s.is_empty() { 0 } else { s.len() + 1 };
    leaf(b, "string_length", 2, Some(Value::Uint(len as u64)), E);
    if len > 0 {
        leaf(b, name, len, Some(Value::Text(s.to_owned())), E);
    }
}

/// Key method 2, as it sits in a TLS record's plaintext.
pub fn key_method(b: &mut FieldsBuilder, km: &KeyMethod) {
    leaf(b, "km_zero", 4, None, E);
    leaf(b, "key_method", 1, Some(Value::Uint(2)), E);
    if km.pre_master.is_some() {
        leaf(b, "pre_master", 48, None, E);
    }
    leaf(b, "random1", 32, None, E);
    leaf(b, "random2", 32, None, E);
    string(b, "options", &km.options);
    string(b, "username", &km.username);
    string(b, "password", &km.password);
    string(b, "peer_info", &km.peer_info);
}

/// A NUL-terminated text control message (PUSH_REQUEST, PUSH_REPLY…).
pub fn text(b: &mut FieldsBuilder, t: &str) {
    leaf(
        b,
        "control_text",
        t.len(),
        Some(Value::Text(t.to_owned())),
        E,
    );
    leaf(b, "nul", 1, None, E);
}

/// Puts `inner` (a tree for the plaintext at 0) under a record's application-data
/// leaf of the same length; returns whether it found one.
pub fn graft(fields: &mut [Field], inner: &[Field], len: usize) -> bool {
    for f in fields {
        if f.name == "tls.field.application_data" && f.end - f.start == len && f.children.is_empty()
        {
            let mut c = inner.to_vec();
            shift(&mut c, f.start);
            f.children = c;
            f.value = None;
            return true;
        }
        if graft(&mut f.children, inner, len) {
            return true;
        }
    }
    false
}
