//! Certificate signing requests (PKCS#10, RFC 2986) and their attributes.

use super::*;

/// Lays out the fields of PKCS#10 certificate signing request `der` into `b`,
/// down to DER primitives (an extensionRequest's extensions exactly as in a
/// certificate); never fails (an unparsable request becomes one opaque leaf).
pub fn annotate_csr(b: &mut FieldsBuilder, der: &[u8], p: Protection) {
    let label = ("pki.field.csr", "pki.explain.csr");
    document(b, der, label, "pki.explain.csr_opaque", p, |b, it| {
        if let Some(e) = it.next() {
            csr_info(b, e, p);
        }
        let mut alg = None;
        if let Some(e) = it.next() {
            let l = (
                "pki.field.signature_algorithm",
                "pki.explain.csr_signature_algorithm",
            );
            alg = algorithm(b, e, l, p);
        }
        if let Some(e) = it.next() {
            let l = ("pki.field.csr_signature", "pki.explain.csr_signature");
            signature(b, e, alg.as_deref(), l, p);
        }
    });
}

pub(crate) fn csr_info(b: &mut FieldsBuilder, el: El, p: Protection) {
    con(
        b,
        el,
        0x30,
        ("pki.field.csr_info", "pki.explain.csr_info"),
        p,
        |b, it| {
            if let Some(e) = it.next() {
                let l = ("pki.field.version", "pki.explain.csr_version");
                prim(b, e, 0x02, l, p, |c| {
                    uint(c).map(|v| Some(Value::Uint(v.saturating_add(1))))
                });
            }
            if let Some(e) = it.next() {
                name(b, e, ("pki.field.subject", "pki.explain.csr_subject"), p);
            }
            if let Some(e) = it.next() {
                spki(b, e, p);
            }
            if let Some(e) = it.opt(0xa0) {
                let l = ("pki.field.csr_attributes", "pki.explain.csr_attributes");
                con_hdr(
                    b,
                    e,
                    0xa0,
                    l,
                    "pki.explain.der_header_implicit",
                    p,
                    |b, it| {
                        while let Some(e) = it.next() {
                            csr_attribute(b, e, p);
                        }
                    },
                );
            }
        },
    );
}

/// Attribute ::= SEQUENCE { type OID, values SET OF ANY }.
pub(crate) fn csr_attribute(b: &mut FieldsBuilder, el: El, p: Protection) {
    let ext_request = first_oid(el).as_deref() == Some(OID_EXTENSION_REQUEST);
    let l = if ext_request {
        (
            "pki.field.extension_request",
            "pki.explain.extension_request",
        )
    } else {
        ("pki.field.csr_attribute", "pki.explain.csr_attribute")
    };
    con(b, el, 0x30, l, p, |b, it| {
        if let Some(e) = it.next() {
            let l = ("pki.field.attribute_type", "pki.explain.csr_attribute_type");
            oid(b, e, l, p);
        }
        if let Some(e) = it.next() {
            let l = ("pki.field.attribute_values", "pki.explain.attribute_values");
            con(b, e, 0x31, l, p, |b, it| {
                while let Some(e) = it.next() {
                    if ext_request {
                        extension_list(b, e, p);
                    } else {
                        let l = (
                            "pki.field.attribute_value",
                            "pki.explain.csr_attribute_value",
                        );
                        bytes(b, e.len(), l, p);
                    }
                }
            });
        }
    });
}
