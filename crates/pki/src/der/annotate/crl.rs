//! Certificate revocation lists (RFC 5280 §5.1): TBSCertList, the revoked
//! certificates, the signature.

use super::*;

/// Lays out the fields of CRL `der` into `b`, down to DER primitives; never fails
/// (an unparsable CRL becomes one opaque leaf).
pub fn annotate_crl(b: &mut FieldsBuilder, der: &[u8], p: Protection) {
    let label = ("pki.field.crl", "pki.explain.crl");
    document(b, der, label, "pki.explain.crl_opaque", p, |b, it| {
        if let Some(e) = it.next() {
            tbs_cert_list(b, e, p);
        }
        let mut alg = None;
        if let Some(e) = it.next() {
            let l = (
                "pki.field.signature_algorithm",
                "pki.explain.crl_signature_algorithm",
            );
            alg = algorithm(b, e, l, p);
        }
        if let Some(e) = it.next() {
            let l = ("pki.field.signature_value", "pki.explain.crl_signature");
            signature(b, e, alg.as_deref(), l, p);
        }
    });
}

fn time(b: &mut FieldsBuilder, e: El, label: Label, p: Protection) {
    prim(b, e, e.tag, label, p, |c| {
        parse_time(e.tag, c).map(|_| Some(text(c)))
    });
}

fn tbs_cert_list(b: &mut FieldsBuilder, el: El, p: Protection) {
    con(
        b,
        el,
        0x30,
        ("pki.field.tbs_cert_list", "pki.explain.tbs_cert_list"),
        p,
        |b, it| {
            if let Some(e) = it.opt(0x02) {
                let l = ("pki.field.version_number", "pki.explain.crl_version");
                prim(b, e, 0x02, l, p, |c| {
                    uint(c).map(|v| Some(Value::Uint(v.saturating_add(1))))
                });
            }
            if let Some(e) = it.next() {
                let l = ("pki.field.tbs_signature", "pki.explain.tbs_signature");
                algorithm(b, e, l, p);
            }
            if let Some(e) = it.next() {
                name(b, e, ("pki.field.issuer", "pki.explain.crl_issuer"), p);
            }
            if let Some(e) = it.next() {
                time(
                    b,
                    e,
                    ("pki.field.this_update", "pki.explain.this_update"),
                    p,
                );
            }
            if let Some(e) = it.opt(0x17).or_else(|| it.opt(0x18)) {
                time(
                    b,
                    e,
                    ("pki.field.next_update", "pki.explain.next_update"),
                    p,
                );
            }
            if let Some(e) = it.opt(0x30) {
                let l = (
                    "pki.field.revoked_certificates",
                    "pki.explain.revoked_certificates",
                );
                con(b, e, 0x30, l, p, |b, it| {
                    while let Some(e) = it.next() {
                        revoked(b, e, p);
                    }
                });
            }
            if let Some(e) = it.opt(0xa0) {
                let l = ("pki.field.crl_extensions", "pki.explain.crl_extensions");
                con(b, e, 0xa0, l, p, |b, it| {
                    if let Some(e) = it.next() {
                        extension_list(b, e, p);
                    }
                });
            }
        },
    );
}

fn revoked(b: &mut FieldsBuilder, el: El, p: Protection) {
    con(
        b,
        el,
        0x30,
        ("pki.field.revoked_entry", "pki.explain.revoked_entry"),
        p,
        |b, it| {
            if let Some(e) = it.next() {
                let l = ("pki.field.revoked_serial", "pki.explain.revoked_serial");
                prim(b, e, 0x02, l, p, hex_value);
            }
            if let Some(e) = it.next() {
                let l = ("pki.field.revocation_date", "pki.explain.revocation_date");
                time(b, e, l, p);
            }
            if let Some(e) = it.opt(0x30) {
                extension_list(b, e, p);
            }
        },
    );
}
