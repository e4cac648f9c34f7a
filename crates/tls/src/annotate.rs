//! Field trees for records and the messages inside them: every byte explained.
//!
//! Annotation works from decoded messages (which re-encode byte for byte), so the
//! offsets can never drift from the bytes; anything that does not decode becomes
//! one opaque leaf. Field `tls.field.X` is explained by `tls.explain.X`.

use cipherstage_transcript::{Field, FieldsBuilder, Protection, Value};

use crate::enums::{AlertDescription, AlertLevel, ContentType, ExtensionType, HandshakeType};
use crate::keys::TAG_LEN;
use crate::msgs::{next_message, Extension, Handshake};
use crate::record::{field, Header, HEADER_LEN};

fn leaf(b: &mut FieldsBuilder, name: &str, len: usize, value: Option<Value>, p: Protection) {
    if len == 0 {
        return;
    }
    b.leaf(
        &format!("tls.field.{name}"),
        len,
        value,
        &format!("tls.explain.{name}"),
        p,
    );
}

fn group(b: &mut FieldsBuilder, name: &str, p: Protection, f: impl FnOnce(&mut FieldsBuilder)) {
    b.group(
        &format!("tls.field.{name}"),
        &format!("tls.explain.{name}"),
        p,
        f,
    );
}

fn uint(v: usize) -> Option<Value> {
    Some(Value::Uint(v as u64))
}

fn key(k: String) -> Option<Value> {
    Some(Value::Key(k))
}

/// Fields of a plaintext record (ClientHello, ServerHello, plaintext alerts).
pub fn plaintext_record(record: &[u8]) -> Vec<Field> {
    let mut b = FieldsBuilder::new(0);
    let body = record.get(field::FRAGMENT).unwrap_or_default();
    let typ = header(&mut b, record);
    if record.len() >= HEADER_LEN {
        content(&mut b, typ, body, Protection::Plaintext);
    } else {
        leaf(
            &mut b,
            "truncated",
            record.len(),
            None,
            Protection::Plaintext,
        );
    }
    b.finish()
}

/// Fields of an encrypted record whose inner plaintext (content ‖ type ‖ zeros) is `inner`.
pub fn encrypted_record(record: &[u8], inner: &[u8]) -> Vec<Field> {
    let mut b = FieldsBuilder::new(0);
    header(&mut b, record);
    let body_len = record.len().saturating_sub(HEADER_LEN);
    if record.len() < HEADER_LEN || body_len != inner.len() + TAG_LEN {
        leaf(
            &mut b,
            "opaque_ciphertext",
            body_len,
            None,
            Protection::Encrypted,
        );
        return b.finish();
    }
    let zeros = inner.iter().rev().take_while(|x| **x == 0).count();
    let content_len = inner.len().saturating_sub(zeros + 1);
    let typ = ContentType::from(inner.get(content_len).copied().unwrap_or(0));
    let e = Protection::Encrypted;
    group(&mut b, "encrypted_record", e, |b| {
        content(b, typ, inner.get(..content_len).unwrap_or_default(), e);
        leaf(b, "inner_content_type", 1, key(typ.key()), e);
        leaf(b, "padding", zeros, uint(zeros), e);
        leaf(b, "aead_tag", TAG_LEN, None, Protection::Signature);
    });
    b.finish()
}

fn header(b: &mut FieldsBuilder, record: &[u8]) -> ContentType {
    let p = Protection::IntegrityOnly;
    let Some(h) = Header::parse(record) else {
        return ContentType::from(record.first().copied().unwrap_or(0));
    };
    leaf(
        b,
        "content_type",
        field::CONTENT_TYPE.len(),
        key(h.content_type.key()),
        p,
    );
    leaf(
        b,
        "legacy_record_version",
        field::VERSION.len(),
        Some(Value::Text(format!("0x{:04x}", h.version))),
        p,
    );
    leaf(
        b,
        "record_length",
        field::LENGTH.len(),
        uint(usize::from(h.length)),
        p,
    );
    h.content_type
}

/// Lays out the content of a record of type `typ`.
fn content(b: &mut FieldsBuilder, typ: ContentType, body: &[u8], p: Protection) {
    match typ {
        ContentType::Handshake => handshakes(b, body, p),
        ContentType::Alert if body.len() == 2 => {
            let level = AlertLevel::from(body.first().copied().unwrap_or(0));
            let desc = AlertDescription::from(body.get(1).copied().unwrap_or(0));
            leaf(b, "alert_level", 1, key(level.key()), p);
            leaf(b, "alert_description", 1, key(desc.key()), p);
        }
        ContentType::ChangeCipherSpec => leaf(b, "ccs_payload", body.len(), None, p),
        ContentType::ApplicationData => {
            let text = String::from_utf8_lossy(body).into_owned();
            leaf(
                b,
                "application_data",
                body.len(),
                Some(Value::Text(text)),
                p,
            );
        }
        _ => leaf(b, "opaque_content", body.len(), None, p),
    }
}

/// Lays out one or more handshake messages.
pub fn handshakes(b: &mut FieldsBuilder, mut body: &[u8], p: Protection) {
    while !body.is_empty() {
        let Some(n) = next_message(body) else {
            leaf(b, "handshake_fragment", body.len(), None, p);
            return;
        };
        let (msg, rest) = body.split_at(n);
        handshake(b, msg, p);
        body = rest;
    }
}

fn handshake(b: &mut FieldsBuilder, msg: &[u8], p: Protection) {
    let decoded = Handshake::decode(msg).ok().filter(|m| m.encode() == msg);
    let typ = HandshakeType::from(msg.first().copied().unwrap_or(0));
    let is_retry = matches!(&decoded, Some(Handshake::ServerHello(sh)) if sh.is_retry());
    let name = if is_retry {
        "tls.hs.hello_retry_request".to_owned()
    } else {
        typ.key()
    };
    let explain = format!("tls.explain.{}", name.trim_start_matches("tls."));
    b.group(&name, &explain, p, |b| {
        leaf(b, "msg_type", 1, key(typ.key()), p);
        leaf(b, "msg_length", 3, uint(msg.len().saturating_sub(4)), p);
        match decoded {
            Some(m) => body(b, &m, p),
            None => leaf(b, "undecodable", msg.len().saturating_sub(4), None, p),
        }
    });
}

fn key_material(p: Protection) -> Protection {
    if p == Protection::Plaintext {
        Protection::KeyMaterial
    } else {
        p
    }
}

fn body(b: &mut FieldsBuilder, m: &Handshake, p: Protection) {
    match m {
        Handshake::ClientHello(ch) => {
            leaf(
                b,
                "legacy_version",
                2,
                Some(Value::Text("0x0303".into())),
                p,
            );
            leaf(b, "random", 32, None, p);
            leaf(b, "session_id_length", 1, uint(ch.session_id.len()), p);
            leaf(b, "session_id", ch.session_id.len(), None, p);
            leaf(b, "cipher_suites_length", 2, uint(ch.suites.len() * 2), p);
            for s in &ch.suites {
                leaf(b, "cipher_suite", 2, key(s.key()), p);
            }
            leaf(
                b,
                "compression_methods_length",
                1,
                uint(ch.compression.len()),
                p,
            );
            leaf(b, "compression_methods", ch.compression.len(), None, p);
            extensions(b, &ch.extensions, p);
        }
        Handshake::ServerHello(sh) => {
            leaf(
                b,
                "legacy_version",
                2,
                Some(Value::Text("0x0303".into())),
                p,
            );
            let r = if sh.is_retry() {
                "retry_random"
            } else {
                "random"
            };
            leaf(b, r, 32, None, p);
            leaf(b, "session_id_length", 1, uint(sh.session_id.len()), p);
            leaf(b, "session_id_echo", sh.session_id.len(), None, p);
            leaf(b, "cipher_suite", 2, key(sh.suite.key()), p);
            leaf(b, "legacy_compression_method", 1, uint(0), p);
            extensions(b, &sh.extensions, p);
        }
        Handshake::EncryptedExtensions(e) => extensions(b, e, p),
        Handshake::CertificateRequest {
            context,
            extensions: e,
        } => {
            leaf(b, "context_length", 1, uint(context.len()), p);
            leaf(b, "context", context.len(), None, p);
            extensions(b, e, p);
        }
        Handshake::Certificate { context, entries } => {
            leaf(b, "context_length", 1, uint(context.len()), p);
            leaf(b, "context", context.len(), None, p);
            let total: usize = entries
                .iter()
                .map(|e| 3 + e.der.len() + 2 + ext_len(&e.extensions))
                .sum();
            leaf(b, "certificate_list_length", 3, uint(total), p);
            for e in entries {
                group(b, "certificate_entry", p, |b| {
                    leaf(b, "cert_data_length", 3, uint(e.der.len()), p);
                    cipherstage_pki::der::annotate_certificate(b, &e.der, p);
                    extensions(b, &e.extensions, p);
                });
            }
        }
        Handshake::CertificateVerify { scheme, signature } => {
            leaf(b, "signature_scheme", 2, key(scheme.key()), p);
            leaf(b, "signature_length", 2, uint(signature.len()), p);
            let sp = if p == Protection::Plaintext {
                Protection::Signature
            } else {
                p
            };
            if *scheme == crate::enums::SignatureScheme::EcdsaSecp256r1Sha256 {
                // ECDSA signatures are DER: SEQUENCE { r INTEGER, s INTEGER }.
                cipherstage_pki::der::annotate_ecdsa_signature(b, signature, sp);
            } else {
                leaf(b, "signature", signature.len(), None, sp);
            }
        }
        Handshake::Finished(v) => leaf(b, "verify_data", v.len(), None, p),
        Handshake::NewSessionTicket {
            nonce,
            ticket,
            extensions: e,
            lifetime,
            age_add,
        } => {
            leaf(b, "ticket_lifetime", 4, uint(*lifetime as usize), p);
            leaf(b, "ticket_age_add", 4, uint(*age_add as usize), p);
            leaf(b, "ticket_nonce_length", 1, uint(nonce.len()), p);
            leaf(b, "ticket_nonce", nonce.len(), None, p);
            leaf(b, "ticket_length", 2, uint(ticket.len()), p);
            leaf(b, "ticket", ticket.len(), None, p);
            extensions(b, e, p);
        }
        Handshake::KeyUpdate(v) => leaf(b, "request_update", 1, uint(*v as usize), p),
        Handshake::Other(_, body) => leaf(b, "opaque_body", body.len(), None, p),
    }
}

fn ext_len(exts: &[Extension]) -> usize {
    // EncryptedExtensions = type (1) ‖ length (3) ‖ extensions length (2) ‖ extensions.
    crate::msgs::Handshake::EncryptedExtensions(exts.to_vec())
        .encode()
        .len()
        .saturating_sub(6)
}

fn extensions(b: &mut FieldsBuilder, exts: &[Extension], p: Protection) {
    leaf(b, "extensions_length", 2, uint(ext_len(exts)), p);
    for e in exts {
        let t = e.ext_type();
        let name = t.key();
        let explain = format!("tls.explain.ext.{}", t.as_str());
        b.group(&name, &explain, p, |b| extension(b, e, t, p));
    }
}

fn extension(b: &mut FieldsBuilder, e: &Extension, t: ExtensionType, p: Protection) {
    let mut data = Vec::new();
    // The extension's data length is its encoding minus type and length.
    let enc = crate::msgs::Handshake::EncryptedExtensions(vec![e.clone()]).encode();
    if let Some(d) = enc.get(10..) {
        data.extend_from_slice(d);
    }
    leaf(b, "extension_type", 2, key(t.key()), p);
    leaf(b, "extension_length", 2, uint(data.len()), p);
    let km = key_material(p);
    match e {
        Extension::ServerName(Some(name)) => {
            leaf(b, "list_length", 2, uint(name.len() + 3), p);
            leaf(b, "name_type", 1, key("tls.name_type.host_name".into()), p);
            leaf(b, "name_length", 2, uint(name.len()), p);
            leaf(
                b,
                "host_name",
                name.len(),
                Some(Value::Text(name.clone())),
                p,
            );
        }
        Extension::ServerName(None) => {}
        Extension::SupportedGroups(v) => {
            leaf(b, "list_length", 2, uint(v.len() * 2), p);
            for g in v {
                leaf(b, "named_group", 2, key(g.key()), p);
            }
        }
        Extension::SignatureAlgorithms(v) => {
            leaf(b, "list_length", 2, uint(v.len() * 2), p);
            for s in v {
                leaf(b, "signature_scheme", 2, key(s.key()), p);
            }
        }
        Extension::KeyShareClient(v) => {
            let total: usize = v.iter().map(|(_, k)| 4 + k.len()).sum();
            leaf(b, "list_length", 2, uint(total), p);
            for (g, k) in v {
                group(b, "key_share_entry", p, |b| {
                    leaf(b, "named_group", 2, key(g.key()), p);
                    leaf(b, "key_exchange_length", 2, uint(k.len()), p);
                    leaf(b, "key_exchange", k.len(), None, km);
                });
            }
        }
        Extension::KeyShareServer(g, k) => {
            leaf(b, "named_group", 2, key(g.key()), p);
            leaf(b, "key_exchange_length", 2, uint(k.len()), p);
            leaf(b, "key_exchange", k.len(), None, km);
        }
        Extension::KeyShareRetry(g) => leaf(b, "named_group", 2, key(g.key()), p),
        Extension::VersionsClient(v) => {
            leaf(b, "versions_length", 1, uint(v.len() * 2), p);
            for x in v {
                leaf(b, "version", 2, Some(Value::Text(version_name(*x))), p);
            }
        }
        Extension::VersionSelected(x) => {
            leaf(b, "version", 2, Some(Value::Text(version_name(*x))), p)
        }
        Extension::Cookie(c) => {
            leaf(b, "cookie_length", 2, uint(c.len()), p);
            leaf(b, "cookie", c.len(), None, p);
        }
        Extension::Other(_, d) => leaf(b, "extension_data", d.len(), None, p),
    }
}

fn version_name(v: u16) -> String {
    match v {
        0x0304 => "TLS 1.3".into(),
        0x0303 => "TLS 1.2".into(),
        other => format!("0x{other:04x}"),
    }
}
