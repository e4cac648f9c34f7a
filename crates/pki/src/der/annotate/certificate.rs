//! Certificates (RFC 5280 §4.1): TBSCertificate, validity, the public key, the signature.

use super::*;

pub(crate) fn validity_fields(b: &mut FieldsBuilder, el: El, p: Protection) {
    let time = |b: &mut FieldsBuilder, e: El, label: Label| {
        prim(b, e, e.tag, label, p, |c| {
            parse_time(e.tag, c).map(|_| Some(text(c)))
        });
    };
    con(
        b,
        el,
        0x30,
        ("pki.field.validity", "pki.explain.validity"),
        p,
        |b, it| {
            if let Some(e) = it.next() {
                time(b, e, ("pki.field.not_before", "pki.explain.not_before"));
            }
            if let Some(e) = it.next() {
                time(b, e, ("pki.field.not_after", "pki.explain.not_after"));
            }
        },
    );
}

/// SubjectPublicKeyInfo: the algorithm, then the key in a BIT STRING.
pub(crate) fn spki(b: &mut FieldsBuilder, el: El, p: Protection) {
    con(
        b,
        el,
        0x30,
        ("pki.field.spki", "pki.explain.spki"),
        p,
        |b, it| {
            let mut alg = None;
            if let Some(e) = it.next() {
                let l = ("pki.field.spki_algorithm", "pki.explain.spki_algorithm");
                alg = algorithm(b, e, l, p);
            }
            if let Some(e) = it.next() {
                let l = ("pki.field.public_key", "pki.explain.public_key");
                wrapper(b, e, l, p, p, |b, key| {
                    public_key(b, alg.as_deref(), key, key_protection(p))
                });
            }
        },
    );
}

/// The key bits of a SubjectPublicKeyInfo, by algorithm.
pub(crate) fn public_key(b: &mut FieldsBuilder, alg: Option<&str>, key: &[u8], p: Protection) {
    let raw = ("pki.field.key_bytes", "pki.explain.key_bytes");
    match (alg, key) {
        (Some(OID_ED25519), k) if k.len() == 32 => {
            b.leaf(
                "pki.field.ed25519_key",
                32,
                None,
                "pki.explain.ed25519_key",
                p,
            );
        }
        (Some(OID_EC_PUBLIC_KEY), [form @ (2..=4), rest @ ..])
            if *form != 4 || (!rest.is_empty() && rest.len() % 2 == 0) =>
        {
            let (v, n) = if *form == 4 {
                ("pki.value.ec_uncompressed", rest.len() / 2)
            } else {
                ("pki.value.ec_compressed", rest.len())
            };
            let v = Some(Value::Key(v.into()));
            b.leaf(
                "pki.field.ec_point_form",
                1,
                v,
                "pki.explain.ec_point_form",
                p,
            );
            bytes(b, n, ("pki.field.ec_x", "pki.explain.ec_x"), p);
            if *form == 4 {
                bytes(b, n, ("pki.field.ec_y", "pki.explain.ec_y"), p);
            }
        }
        (Some(OID_RSA), k) => {
            let mut it = Items::new(k);
            match it.next() {
                Some(e) => rsa_key(b, e, p),
                None => bytes(b, k.len(), raw, p),
            }
            it.finish(b, p);
        }
        (_, k) => bytes(b, k.len(), raw, p),
    }
}

/// RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }.
pub(crate) fn rsa_key(b: &mut FieldsBuilder, el: El, p: Protection) {
    con(
        b,
        el,
        0x30,
        ("pki.field.rsa_key", "pki.explain.rsa_key"),
        p,
        |b, it| {
            if let Some(e) = it.next() {
                let l = ("pki.field.rsa_modulus", "pki.explain.rsa_modulus");
                prim(b, e, 0x02, l, p, |c| {
                    let n = c.iter().position(|x| *x != 0)?;
                    let top = c.get(n)?;
                    let bits = (c.len() - n) * 8 - top.leading_zeros() as usize;
                    Some(Some(Value::Uint(bits as u64)))
                });
            }
            if let Some(e) = it.next() {
                let l = ("pki.field.rsa_exponent", "pki.explain.rsa_exponent");
                prim(b, e, 0x02, l, p, |c| uint(c).map(|v| Some(Value::Uint(v))));
            }
        },
    );
}

/// A signature BIT STRING: header, unused bits, then the signature by algorithm.
pub(crate) fn signature(
    b: &mut FieldsBuilder,
    el: El,
    alg: Option<&str>,
    label: Label,
    p: Protection,
) {
    let sp = sig_protection(p);
    wrapper(b, el, label, sp, p, |b, sig| match alg {
        Some(a) if a.starts_with("1.2.840.10045.4.") => annotate_ecdsa_signature(b, sig, sp),
        Some(OID_ED25519) if sig.len() == 64 => {
            let l = ("pki.field.signature_bytes", "pki.explain.signature_ed25519");
            bytes(b, 64, l, sp);
        }
        _ => {
            let l = ("pki.field.signature_bytes", "pki.explain.signature_bytes");
            bytes(b, sig.len(), l, sp);
        }
    });
}

/// Lays out an ECDSA-Sig-Value (`SEQUENCE { r INTEGER, s INTEGER }`, as TLS and
/// X.509 carry ECDSA signatures) with every field protected as `p`; bytes that
/// are not one become one leaf. Never fails; covers exactly `sig`.
pub fn annotate_ecdsa_signature(b: &mut FieldsBuilder, sig: &[u8], p: Protection) {
    let mut it = Items::new(sig);
    let Some(e) = it.opt(0x30) else {
        let l = (
            "pki.field.ecdsa_signature",
            "pki.explain.ecdsa_signature_opaque",
        );
        return bytes(b, sig.len(), l, p);
    };
    let l = ("pki.field.ecdsa_signature", "pki.explain.ecdsa_signature");
    con(b, e, 0x30, l, p, |b, it| {
        let int = |c: &[u8]| (!c.is_empty() && c.len() <= 67).then_some(None);
        if let Some(e) = it.next() {
            prim(
                b,
                e,
                0x02,
                ("pki.field.ecdsa_r", "pki.explain.ecdsa_r"),
                p,
                int,
            );
        }
        if let Some(e) = it.next() {
            prim(
                b,
                e,
                0x02,
                ("pki.field.ecdsa_s", "pki.explain.ecdsa_s"),
                p,
                int,
            );
        }
    });
    it.finish(b, p);
}

/// Lays out the fields of certificate `der` into `b`, down to DER primitives;
/// never fails (an unparsable certificate becomes one opaque leaf).
pub fn annotate_certificate(b: &mut FieldsBuilder, der: &[u8], p: Protection) {
    let label = ("pki.field.certificate", "pki.explain.certificate");
    document(
        b,
        der,
        label,
        "pki.explain.certificate_opaque",
        p,
        |b, it| {
            if let Some(e) = it.next() {
                tbs_certificate(b, e, p);
            }
            let mut alg = None;
            if let Some(e) = it.next() {
                let l = (
                    "pki.field.signature_algorithm",
                    "pki.explain.signature_algorithm",
                );
                alg = algorithm(b, e, l, p);
            }
            if let Some(e) = it.next() {
                let l = ("pki.field.signature_value", "pki.explain.signature_value");
                signature(b, e, alg.as_deref(), l, p);
            }
        },
    );
}

pub(crate) fn tbs_certificate(b: &mut FieldsBuilder, el: El, p: Protection) {
    con(
        b,
        el,
        0x30,
        ("pki.field.tbs", "pki.explain.tbs"),
        p,
        |b, it| {
            if let Some(e) = it.opt(0xa0) {
                con(
                    b,
                    e,
                    0xa0,
                    ("pki.field.version", "pki.explain.version"),
                    p,
                    |b, it| {
                        if let Some(e) = it.next() {
                            let l = ("pki.field.version_number", "pki.explain.version_number");
                            prim(b, e, 0x02, l, p, |c| {
                                uint(c).map(|v| Some(Value::Uint(v.saturating_add(1))))
                            });
                        }
                    },
                );
            }
            if let Some(e) = it.next() {
                prim(
                    b,
                    e,
                    0x02,
                    ("pki.field.serial", "pki.explain.serial"),
                    p,
                    hex_value,
                );
            }
            if let Some(e) = it.next() {
                let l = ("pki.field.tbs_signature", "pki.explain.tbs_signature");
                algorithm(b, e, l, p);
            }
            if let Some(e) = it.next() {
                name(b, e, ("pki.field.issuer", "pki.explain.issuer"), p);
            }
            if let Some(e) = it.next() {
                validity_fields(b, e, p);
            }
            if let Some(e) = it.next() {
                name(b, e, ("pki.field.subject", "pki.explain.subject"), p);
            }
            if let Some(e) = it.next() {
                spki(b, e, p);
            }
            for (tag, l) in [
                (
                    0x81,
                    ("pki.field.issuer_unique_id", "pki.explain.unique_id"),
                ),
                (
                    0x82,
                    ("pki.field.subject_unique_id", "pki.explain.unique_id"),
                ),
            ] {
                if let Some(e) = it.opt(tag) {
                    bytes(b, e.len(), l, p);
                }
            }
            if let Some(e) = it.opt(0xa3) {
                let l = ("pki.field.extensions", "pki.explain.extensions");
                con(b, e, 0xa3, l, p, |b, it| {
                    if let Some(e) = it.next() {
                        extension_list(b, e, p);
                    }
                });
            }
        },
    );
}
