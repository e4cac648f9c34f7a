//! The CMS DER as a field tree, and that tree laid over the base64 text that
//! carries it on the wire.

use cipherstage_pki::der::{annotate_certificate, annotate_ecdsa_signature};
use cipherstage_transcript::{Field, FieldsBuilder, Protection, Value};

use crate::cms::{
    OID_CONTENT_TYPE, OID_DATA, OID_ECDSA_SHA256, OID_MESSAGE_DIGEST, OID_SHA256, OID_SIGNED_DATA,
    OID_SIGNING_TIME,
};
use crate::der::{oid_dotted, El, Items};

const P: Protection = Protection::Plaintext;

pub(crate) fn header(b: &mut FieldsBuilder, el: El, implicit: bool, p: Protection) {
    let name = match el.tag {
        0x30 => "SEQUENCE".to_owned(),
        0x31 => "SET".to_owned(),
        0x04 => "OCTET STRING".to_owned(),
        t if t & 0xc0 == 0x80 => format!("[{}]", t & 0x1f),
        t => format!("0x{t:02x}"),
    };
    let explain = match el.tag {
        0x31 => "pki.explain.der_header_set",
        0xa0..=0xbf if implicit => "pki.explain.der_header_implicit",
        0xa0..=0xbf => "pki.explain.der_header_explicit",
        _ => "pki.explain.der_header",
    };
    let v = Value::Text(format!("{name}, {} B", el.body().len()));
    b.leaf("pki.field.der_header", el.header, Some(v), explain, p);
}

pub(crate) fn malformed(b: &mut FieldsBuilder, n: usize, p: Protection) {
    if n > 0 {
        b.leaf("smime.field.malformed", n, None, "pki.explain.malformed", p);
    }
}

/// A constructed element: a group with its header, what `inner` lays out, the rest.
fn con<'a>(
    b: &mut FieldsBuilder,
    el: Option<El<'a>>,
    name: &str,
    p: Protection,
    inner: impl FnOnce(&mut FieldsBuilder, &mut Items<'a>),
) {
    let Some(el) = el else { return };
    b.group(name, &name.replace(".field.", ".explain."), p, |b| {
        let implicit = matches!(
            name,
            "smime.field.certificates" | "smime.field.signed_attrs"
        );
        header(b, el, implicit, p);
        let mut it = Items::new(el.body());
        inner(b, &mut it);
        malformed(b, it.rest.len(), p);
    });
}

fn leaf(b: &mut FieldsBuilder, el: Option<El>, name: &str, value: Option<Value>, p: Protection) {
    if let Some(el) = el {
        b.leaf(
            name,
            el.len(),
            value,
            &name.replace(".field.", ".explain."),
            p,
        );
    }
}

pub(crate) fn oid_name(c: &[u8]) -> String {
    let name = match c {
        OID_SIGNED_DATA => "id-signedData",
        OID_DATA => "id-data",
        OID_SHA256 => "SHA-256",
        OID_ECDSA_SHA256 => "ecdsa-with-SHA256",
        OID_CONTENT_TYPE => "contentType",
        OID_MESSAGE_DIGEST => "messageDigest",
        OID_SIGNING_TIME => "signingTime",
        _ => crate::annotate_env::oid_label(c),
    };
    let dotted = oid_dotted(c).unwrap_or_else(|| "?".into());
    if name.is_empty() {
        dotted
    } else {
        format!("{name} ({dotted})")
    }
}

fn oid(b: &mut FieldsBuilder, it: &mut Items, name: &str, p: Protection) -> Option<Vec<u8>> {
    let el = it.expect(0x06)?;
    leaf(b, Some(el), name, Some(Value::Text(oid_name(el.body()))), p);
    Some(el.body().to_vec())
}

fn int(b: &mut FieldsBuilder, it: &mut Items, name: &str) {
    let el = it.expect(0x02);
    let v = el.and_then(|e| match e.body() {
        [x] => Some(Value::Uint(u64::from(*x))),
        _ => None,
    });
    leaf(b, el, name, v, P);
}

fn algorithm(b: &mut FieldsBuilder, it: &mut Items, name: &str) {
    con(b, it.expect(0x30), name, P, |b, it| {
        oid(b, it, "smime.field.algorithm_oid", P);
        leaf(b, it.expect(0x05), "smime.field.null_parameters", None, P);
    });
}

fn attribute(b: &mut FieldsBuilder, el: El) {
    let mut probe = Items::new(el.body());
    let kind = probe.expect(0x06).map(|o| o.body().to_vec());
    let name = match kind.as_deref() {
        Some(OID_CONTENT_TYPE) => "smime.field.attr_content_type",
        Some(OID_MESSAGE_DIGEST) => "smime.field.attr_message_digest",
        Some(OID_SIGNING_TIME) => "smime.field.attr_signing_time",
        _ => "smime.field.attr_other",
    };
    let p = Protection::IntegrityOnly;
    con(b, Some(el), name, p, |b, it| {
        oid(b, it, "smime.field.attr_type", p);
        con(b, it.expect(0x31), "smime.field.attr_values", p, |b, it| {
            while let Some(v) = it.next_el() {
                let value = match v.tag {
                    0x06 => Some(Value::Text(oid_name(v.body()))),
                    0x17 | 0x18 => Some(Value::Text(String::from_utf8_lossy(v.body()).into())),
                    0x04 => Some(Value::Text(hex(v.body()))),
                    _ => None,
                };
                leaf(b, Some(v), "smime.field.attr_value", value, p);
            }
        });
    });
}

pub(crate) fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn signer_info(b: &mut FieldsBuilder, el: El) {
    con(b, Some(el), "smime.field.signer_info", P, |b, it| {
        int(b, it, "smime.field.version");
        con(b, it.expect(0x30), "smime.field.sid", P, |b, it| {
            leaf(b, it.expect(0x30), "smime.field.sid_issuer", None, P);
            let serial = it.expect(0x02);
            let v = serial.map(|s| Value::Text(hex(s.body())));
            leaf(b, serial, "smime.field.sid_serial", v, P);
        });
        algorithm(b, it, "smime.field.digest_algorithm");
        let p = Protection::IntegrityOnly;
        con(
            b,
            it.expect(0xa0),
            "smime.field.signed_attrs",
            p,
            |b, it| {
                while let Some(a) = it.next_el() {
                    attribute(b, a);
                }
            },
        );
        algorithm(b, it, "smime.field.signature_algorithm");
        // The OCTET STRING holds a DER ECDSA-Sig-Value: r and s as INTEGERs.
        let p = Protection::Signature;
        con(b, it.expect(0x04), "smime.field.signature", p, |b, it| {
            if !it.rest.is_empty() {
                annotate_ecdsa_signature(b, it.rest, p);
                it.rest = &[];
            }
        });
    });
}

/// Lays out `der` (a ContentInfo with SignedData) field by field; whatever does not
/// parse becomes one leaf, so every byte is covered exactly once.
pub fn annotate_cms(b: &mut FieldsBuilder, der: &[u8]) {
    let mut top = Items::new(der);
    con(
        b,
        top.expect(0x30),
        "smime.field.content_info",
        P,
        |b, it| {
            oid(b, it, "smime.field.content_type", P);
            con(b, it.expect(0xa0), "smime.field.content", P, |b, it| {
                con(b, it.expect(0x30), "smime.field.signed_data", P, |b, it| {
                    int(b, it, "smime.field.version");
                    con(
                        b,
                        it.expect(0x31),
                        "smime.field.digest_algorithms",
                        P,
                        |b, it| {
                            while !it.rest.is_empty() {
                                let before = it.rest.len();
                                algorithm(b, it, "smime.field.algorithm");
                                if it.rest.len() == before {
                                    break;
                                }
                            }
                        },
                    );
                    con(
                        b,
                        it.expect(0x30),
                        "smime.field.encap_content_info",
                        P,
                        |b, it| {
                            oid(b, it, "smime.field.econtent_type", P);
                        },
                    );
                    con(
                        b,
                        it.expect(0xa0),
                        "smime.field.certificates",
                        P,
                        |b, it| {
                            while let Some(c) = it.next_el() {
                                annotate_certificate(b, c.all, P);
                            }
                        },
                    );
                    con(
                        b,
                        it.expect(0x31),
                        "smime.field.signer_infos",
                        P,
                        |b, it| {
                            while let Some(si) = it.next_el() {
                                signer_info(b, si);
                            }
                        },
                    );
                });
            });
        },
    );
    malformed(b, top.rest.len(), P);
}

/// Moves every offset of `fields` through `map`.
pub fn remap(fields: &mut [Field], map: &dyn Fn(usize) -> usize) {
    for f in fields {
        f.start = map(f.start);
        f.end = map(f.end);
        remap(&mut f.children, map);
    }
}
