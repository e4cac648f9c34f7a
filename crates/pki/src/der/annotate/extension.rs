//! Extensions (RFC 5280 §4.2): the list, each extension, and the values we decode.

use super::*;

/// keyUsage bits by name (RFC 5280 §4.2.1.3).
pub(crate) fn key_usage(c: &[u8]) -> Option<Option<Value>> {
    const NAMES: [&str; 9] = [
        "digitalSignature",
        "nonRepudiation",
        "keyEncipherment",
        "dataEncipherment",
        "keyAgreement",
        "keyCertSign",
        "cRLSign",
        "encipherOnly",
        "decipherOnly",
    ];
    let (&unused, bits) = c.split_first()?;
    if unused > 7 {
        return None;
    }
    let set: Vec<&str> = NAMES
        .iter()
        .enumerate()
        .filter(|(i, _)| bits.get(i / 8).is_some_and(|x| x & (0x80 >> (i % 8)) != 0))
        .map(|(_, n)| *n)
        .collect();
    let s = if set.is_empty() {
        "-".to_owned()
    } else {
        set.join(", ")
    };
    Some(Some(Value::Text(s)))
}

// ---------------------------------------------------------------------------
// X.509 structures.

/// The extensions this view decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ext {
    SubjectAltName,
    BasicConstraints,
    KeyUsage,
    ExtendedKeyUsage,
    SubjectKeyId,
    AuthorityKeyId,
}

impl Ext {
    pub(crate) fn from_oid(dotted: &str) -> Option<Ext> {
        Some(match dotted {
            "2.5.29.17" => Ext::SubjectAltName,
            "2.5.29.19" => Ext::BasicConstraints,
            "2.5.29.15" => Ext::KeyUsage,
            "2.5.29.37" => Ext::ExtendedKeyUsage,
            "2.5.29.14" => Ext::SubjectKeyId,
            "2.5.29.35" => Ext::AuthorityKeyId,
            _ => return None,
        })
    }

    pub(crate) fn label(self) -> Label {
        match self {
            Ext::SubjectAltName => (
                "pki.field.ext_subject_alt_name",
                "pki.explain.ext_subject_alt_name",
            ),
            Ext::BasicConstraints => (
                "pki.field.ext_basic_constraints",
                "pki.explain.ext_basic_constraints",
            ),
            Ext::KeyUsage => ("pki.field.ext_key_usage", "pki.explain.ext_key_usage"),
            Ext::ExtendedKeyUsage => (
                "pki.field.ext_ext_key_usage",
                "pki.explain.ext_ext_key_usage",
            ),
            Ext::SubjectKeyId => (
                "pki.field.ext_subject_key_identifier",
                "pki.explain.ext_subject_key_identifier",
            ),
            Ext::AuthorityKeyId => (
                "pki.field.ext_authority_key_identifier",
                "pki.explain.ext_authority_key_identifier",
            ),
        }
    }
}

/// Extensions ::= SEQUENCE OF Extension.
pub(crate) fn extension_list(b: &mut FieldsBuilder, el: El, p: Protection) {
    let l = ("pki.field.extension_list", "pki.explain.extension_list");
    con(b, el, 0x30, l, p, |b, it| {
        while let Some(e) = it.next() {
            extension(b, e, p);
        }
    });
}

/// Extension ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }.
pub(crate) fn extension(b: &mut FieldsBuilder, el: El, p: Protection) {
    let kind = first_oid(el).as_deref().and_then(Ext::from_oid);
    let label = kind.map_or(("pki.field.extension", "pki.explain.extension"), Ext::label);
    con(b, el, 0x30, label, p, |b, it| {
        if let Some(e) = it.next() {
            oid(b, e, ("pki.field.extn_id", "pki.explain.extn_id"), p);
        }
        if let Some(e) = it.opt(0x01) {
            prim(
                b,
                e,
                0x01,
                ("pki.field.critical", "pki.explain.critical"),
                p,
                boolean,
            );
        }
        if let Some(e) = it.next() {
            let l = ("pki.field.extn_value", "pki.explain.extn_value");
            wrapper(b, e, l, p, p, |b, v| extension_value(b, kind, v, p));
        }
    });
}

/// The DER inside an extension's OCTET STRING.
pub(crate) fn extension_value(b: &mut FieldsBuilder, kind: Option<Ext>, v: &[u8], p: Protection) {
    let Some(kind) = kind else {
        let l = ("pki.field.extn_value_raw", "pki.explain.extn_value_raw");
        return bytes(b, v.len(), l, p);
    };
    let mut it = Items::new(v);
    if let Some(e) = it.next() {
        match kind {
            Ext::SubjectAltName => {
                let l = ("pki.field.general_names", "pki.explain.san_names");
                general_names(b, e, 0x30, l, p);
            }
            Ext::ExtendedKeyUsage => {
                let l = ("pki.field.key_purposes", "pki.explain.key_purposes");
                con(b, e, 0x30, l, p, |b, it| {
                    while let Some(e) = it.next() {
                        oid(
                            b,
                            e,
                            ("pki.field.key_purpose", "pki.explain.key_purpose"),
                            p,
                        );
                    }
                });
            }
            Ext::BasicConstraints => {
                let l = if e.body().is_empty() {
                    ("pki.field.bc_sequence", "pki.explain.bc_not_ca")
                } else {
                    ("pki.field.bc_sequence", "pki.explain.bc_sequence")
                };
                con(b, e, 0x30, l, p, |b, it| {
                    if let Some(e) = it.opt(0x01) {
                        prim(b, e, 0x01, ("pki.field.ca", "pki.explain.ca"), p, boolean);
                    }
                    if let Some(e) = it.opt(0x02) {
                        let l = ("pki.field.path_len", "pki.explain.path_len");
                        prim(b, e, 0x02, l, p, |c| uint(c).map(|v| Some(Value::Uint(v))));
                    }
                });
            }
            Ext::KeyUsage => {
                let l = ("pki.field.key_usage_bits", "pki.explain.key_usage_bits");
                prim(b, e, 0x03, l, p, key_usage);
            }
            Ext::SubjectKeyId => {
                let l = ("pki.field.key_identifier", "pki.explain.ski");
                prim(b, e, 0x04, l, p, hex_value);
            }
            Ext::AuthorityKeyId => {
                let l = ("pki.field.aki_sequence", "pki.explain.aki_sequence");
                con(b, e, 0x30, l, p, |b, it| {
                    if let Some(e) = it.opt(0x80) {
                        let l = ("pki.field.key_identifier", "pki.explain.aki_key_identifier");
                        prim(b, e, 0x80, l, p, hex_value);
                    }
                    if let Some(e) = it.opt(0xa1) {
                        let l = ("pki.field.aki_issuer", "pki.explain.aki_issuer");
                        general_names(b, e, 0xa1, l, p);
                    }
                    if let Some(e) = it.opt(0x82) {
                        let l = ("pki.field.aki_serial", "pki.explain.aki_serial");
                        prim(b, e, 0x82, l, p, hex_value);
                    }
                });
            }
        }
    }
    it.finish(b, p);
}
