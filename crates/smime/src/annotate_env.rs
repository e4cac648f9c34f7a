//! EnvelopedData and AuthEnvelopedData as a field tree: every byte of the DER, the
//! readable structure apart from the encrypted key and content.

use cipherstage_transcript::{FieldsBuilder, Protection, Value};

use crate::annotate::{header, hex, malformed, oid_name};
use crate::der::{El, Items};
use crate::envelope::{
    OID_AES256_CBC, OID_AES256_GCM, OID_AES256_WRAP, OID_AUTH_ENVELOPED_DATA, OID_ECDH_SHA1KDF,
    OID_ECDH_SHA256KDF, OID_EC_PUBLIC_KEY, OID_ENVELOPED_DATA, OID_P256,
};

const P: Protection = Protection::Plaintext;

/// The names of the OIDs of encryption (for [`oid_name`]); empty when unknown.
pub(crate) fn oid_label(c: &[u8]) -> &'static str {
    match c {
        OID_ENVELOPED_DATA => "id-envelopedData",
        OID_AUTH_ENVELOPED_DATA => "id-ct-authEnvelopedData",
        OID_ECDH_SHA256KDF => "dhSinglePass-stdDH-sha256kdf-scheme",
        OID_ECDH_SHA1KDF => "dhSinglePass-stdDH-sha1kdf-scheme",
        OID_AES256_WRAP => "id-aes256-wrap",
        OID_AES256_CBC => "id-aes256-CBC",
        OID_AES256_GCM => "id-aes256-GCM",
        OID_EC_PUBLIC_KEY => "id-ecPublicKey",
        OID_P256 => "prime256v1 (P-256)",
        _ => "",
    }
}

/// A constructed element: its header, what `inner` lays out, then whatever is left.
fn con<'a>(
    b: &mut FieldsBuilder,
    el: Option<El<'a>>,
    names: (&str, &str),
    p: Protection,
    inner: impl FnOnce(&mut FieldsBuilder, &mut Items<'a>),
) {
    let Some(el) = el else { return };
    b.group(names.0, names.1, p, |b| {
        header(b, el, el.tag & 0xe0 == 0xa0 && el.tag != 0xa0, p);
        let mut it = Items::new(el.body());
        inner(b, &mut it);
        malformed(b, it.rest.len(), p);
    });
}

/// An EXPLICIT [0] (its header names it explicit).
fn explicit<'a>(
    b: &mut FieldsBuilder,
    el: Option<El<'a>>,
    names: (&str, &str),
    inner: impl FnOnce(&mut FieldsBuilder, &mut Items<'a>),
) {
    let Some(el) = el else { return };
    b.group(names.0, names.1, P, |b| {
        header(b, el, false, P);
        let mut it = Items::new(el.body());
        inner(b, &mut it);
        malformed(b, it.rest.len(), P);
    });
}

fn leaf(
    b: &mut FieldsBuilder,
    el: Option<El>,
    names: (&str, &str),
    v: Option<Value>,
    p: Protection,
) {
    if let Some(el) = el {
        b.leaf(names.0, el.len(), v, names.1, p);
    }
}

/// A primitive whose contents matter: its header, then the contents as one leaf.
fn prim(
    b: &mut FieldsBuilder,
    el: Option<El>,
    group: (&str, &str),
    body: (&str, &str),
    p: Protection,
) {
    let Some(el) = el else { return };
    b.group(group.0, group.1, p, |b| {
        b.leaf(
            "pki.field.der_header",
            el.header,
            Some(Value::Text(format!("{} B", el.body().len()))),
            "pki.explain.der_header",
            P,
        );
        if !el.body().is_empty() {
            let v = Some(Value::Text(format!("{} B", el.body().len())));
            b.leaf(body.0, el.body().len(), v, body.1, p);
        }
    });
}

fn oid(b: &mut FieldsBuilder, it: &mut Items, explain: &str) {
    let el = it.expect(0x06);
    let v = el.map(|e| Value::Text(oid_name(e.body())));
    leaf(b, el, ("smime.field.algorithm_oid", explain), v, P);
}

fn int(b: &mut FieldsBuilder, it: &mut Items, names: (&str, &str)) {
    let el = it.expect(0x02);
    let v = el.and_then(|e| match e.body() {
        [x] => Some(Value::Uint(u64::from(*x))),
        _ => None,
    });
    leaf(b, el, names, v, P);
}

/// OriginatorPublicKey: the algorithm and the ephemeral point as X and Y.
fn originator_key(b: &mut FieldsBuilder, it: &mut Items) {
    let names = ("smime.field.originator_key", "smime.explain.originator_key");
    con(b, it.expect(0xa1), names, P, |b, it| {
        let names = (
            "smime.field.originator_key_alg",
            "smime.explain.originator_key_alg",
        );
        con(b, it.expect(0x30), names, P, |b, it| {
            oid(b, it, "smime.explain.ec_public_key_oid");
            let params = it.expect(0x06).or_else(|| it.expect(0x05));
            let v = params.map(|e| Value::Text(oid_name(e.body())));
            leaf(
                b,
                params,
                ("smime.field.algorithm_params", "smime.explain.ec_params"),
                v,
                P,
            );
        });
        let Some(bits) = it.expect(0x03) else { return };
        let k = Protection::KeyMaterial;
        b.group(
            "smime.field.originator_public",
            "smime.explain.originator_public",
            k,
            |b| {
                b.leaf(
                    "pki.field.der_header",
                    bits.header,
                    Some(Value::Text(format!("BIT STRING, {} B", bits.body().len()))),
                    "pki.explain.der_header_bit_string",
                    P,
                );
                let body = bits.body();
                match body {
                    [0, 4, point @ ..] if point.len() == 64 => {
                        b.leaf(
                            "smime.field.unused_bits",
                            1,
                            Some(Value::Uint(0)),
                            "smime.explain.unused_bits",
                            k,
                        );
                        b.leaf(
                            "pki.field.ec_point_form",
                            1,
                            Some(Value::Uint(4)),
                            "pki.explain.ec_point_form",
                            k,
                        );
                        let (x, y) = point.split_at(32);
                        b.leaf(
                            "pki.field.ec_x",
                            32,
                            Some(Value::Text(hex(x))),
                            "pki.explain.ec_x",
                            k,
                        );
                        b.leaf(
                            "pki.field.ec_y",
                            32,
                            Some(Value::Text(hex(y))),
                            "pki.explain.ec_y",
                            k,
                        );
                    }
                    [] => {}
                    _ => {
                        b.leaf(
                            "pki.field.key_bytes",
                            body.len(),
                            None,
                            "pki.explain.key_bytes",
                            k,
                        );
                    }
                }
            },
        );
    });
}

/// RecipientEncryptedKey: who (issuer and serial) and the wrapped CEK.
fn recipient_encrypted_key(b: &mut FieldsBuilder, el: El) {
    let names = (
        "smime.field.recipient_encrypted_key",
        "smime.explain.recipient_encrypted_key",
    );
    con(b, Some(el), names, P, |b, it| {
        con(
            b,
            it.expect(0x30),
            ("smime.field.rid", "smime.explain.rid"),
            P,
            |b, it| {
                leaf(
                    b,
                    it.expect(0x30),
                    ("smime.field.sid_issuer", "smime.explain.rid_issuer"),
                    None,
                    P,
                );
                let serial = it.expect(0x02);
                let v = serial.map(|s| Value::Text(hex(s.body())));
                leaf(
                    b,
                    serial,
                    ("smime.field.sid_serial", "smime.explain.rid_serial"),
                    v,
                    P,
                );
            },
        );
        prim(
            b,
            it.expect(0x04),
            ("smime.field.encrypted_key", "smime.explain.encrypted_key"),
            ("smime.field.wrapped_key", "smime.explain.wrapped_key"),
            Protection::Encrypted,
        );
    });
}

/// KeyAgreeRecipientInfo, one per recipient.
fn kari(b: &mut FieldsBuilder, el: El) {
    con(
        b,
        Some(el),
        ("smime.field.kari", "smime.explain.kari"),
        P,
        |b, it| {
            int(b, it, ("smime.field.version", "smime.explain.kari_version"));
            explicit(
                b,
                it.expect(0xa0),
                ("smime.field.originator", "smime.explain.originator"),
                |b, it| {
                    originator_key(b, it);
                },
            );
            explicit(
                b,
                it.expect(0xa1),
                ("smime.field.ukm", "smime.explain.ukm"),
                |b, it| {
                    leaf(
                        b,
                        it.expect(0x04),
                        ("smime.field.ukm_value", "smime.explain.ukm_value"),
                        None,
                        P,
                    );
                },
            );
            let names = (
                "smime.field.key_encryption_algorithm",
                "smime.explain.key_encryption_algorithm",
            );
            con(b, it.expect(0x30), names, P, |b, it| {
                oid(b, it, "smime.explain.kdf_scheme_oid");
                let names = (
                    "smime.field.key_wrap_algorithm",
                    "smime.explain.key_wrap_algorithm",
                );
                con(b, it.expect(0x30), names, P, |b, it| {
                    oid(b, it, "smime.explain.key_wrap_oid");
                });
            });
            let names = (
                "smime.field.recipient_encrypted_keys",
                "smime.explain.recipient_encrypted_keys",
            );
            con(b, it.expect(0x30), names, P, |b, it| {
                while let Some(rek) = it.expect(0x30) {
                    recipient_encrypted_key(b, rek);
                }
            });
        },
    );
}

/// EncryptedContentInfo: the content's type, the cipher with its IV or nonce, the
/// ciphertext.
fn encrypted_content_info(b: &mut FieldsBuilder, it: &mut Items, auth: bool) {
    let names = (
        "smime.field.encrypted_content_info",
        "smime.explain.encrypted_content_info",
    );
    con(b, it.expect(0x30), names, P, |b, it| {
        let ct = it.expect(0x06);
        let v = ct.map(|e| Value::Text(oid_name(e.body())));
        leaf(
            b,
            ct,
            (
                "smime.field.content_type",
                "smime.explain.inner_content_type",
            ),
            v,
            P,
        );
        let names = (
            "smime.field.content_encryption_algorithm",
            "smime.explain.content_encryption_algorithm",
        );
        con(b, it.expect(0x30), names, P, |b, it| {
            oid(b, it, "smime.explain.content_cipher_oid");
            if let Some(iv) = it.expect(0x04) {
                let v = Some(Value::Text(hex(iv.body())));
                leaf(b, Some(iv), ("smime.field.iv", "smime.explain.iv"), v, P);
            }
            let names = ("smime.field.gcm_parameters", "smime.explain.gcm_parameters");
            con(b, it.expect(0x30), names, P, |b, it| {
                let n = it.expect(0x04);
                let v = n.map(|e| Value::Text(hex(e.body())));
                leaf(
                    b,
                    n,
                    ("smime.field.gcm_nonce", "smime.explain.gcm_nonce"),
                    v,
                    P,
                );
                int(
                    b,
                    it,
                    ("smime.field.gcm_icv_len", "smime.explain.gcm_icv_len"),
                );
            });
        });
        let explain = if auth {
            "smime.explain.ciphertext_gcm"
        } else {
            "smime.explain.ciphertext_cbc"
        };
        prim(
            b,
            it.expect(0x80),
            (
                "smime.field.encrypted_content",
                "smime.explain.encrypted_content",
            ),
            ("smime.field.ciphertext", explain),
            Protection::Encrypted,
        );
    });
}

/// Lays out `der` (a ContentInfo with EnvelopedData or AuthEnvelopedData) field by
/// field; whatever does not parse becomes one leaf, so every byte is covered once.
pub fn annotate_enveloped(b: &mut FieldsBuilder, der: &[u8]) {
    let mut top = Items::new(der);
    let names = ("smime.field.content_info", "smime.explain.env_content_info");
    con(b, top.expect(0x30), names, P, |b, it| {
        let ct = it.expect(0x06);
        let auth = ct.is_some_and(|c| c.body() == OID_AUTH_ENVELOPED_DATA);
        let v = ct.map(|e| Value::Text(oid_name(e.body())));
        leaf(
            b,
            ct,
            ("smime.field.content_type", "smime.explain.env_content_type"),
            v,
            P,
        );
        explicit(
            b,
            it.expect(0xa0),
            ("smime.field.content", "smime.explain.content"),
            |b, it| {
                let names = if auth {
                    (
                        "smime.field.auth_enveloped_data",
                        "smime.explain.auth_enveloped_data",
                    )
                } else {
                    ("smime.field.enveloped_data", "smime.explain.enveloped_data")
                };
                con(b, it.expect(0x30), names, P, |b, it| {
                    int(b, it, ("smime.field.version", "smime.explain.env_version"));
                    let names = (
                        "smime.field.recipient_infos",
                        "smime.explain.recipient_infos",
                    );
                    con(b, it.expect(0x31), names, P, |b, it| {
                        while let Some(ri) = it.next_el() {
                            if ri.tag == 0xa1 {
                                kari(b, ri);
                            } else {
                                let n = (
                                    "smime.field.other_recipient_info",
                                    "smime.explain.other_recipient_info",
                                );
                                leaf(b, Some(ri), n, None, P);
                            }
                        }
                    });
                    encrypted_content_info(b, it, auth);
                    if let Some(attrs) = it.expect(0xa1) {
                        leaf(
                            b,
                            Some(attrs),
                            ("smime.field.env_attrs", "smime.explain.env_attrs"),
                            None,
                            P,
                        );
                    }
                    prim(
                        b,
                        it.expect(0x04),
                        ("smime.field.mac", "smime.explain.mac"),
                        ("smime.field.gcm_tag", "smime.explain.gcm_tag"),
                        Protection::Signature,
                    );
                    if let Some(attrs) = it.expect(0xa2) {
                        leaf(
                            b,
                            Some(attrs),
                            ("smime.field.env_attrs", "smime.explain.env_attrs"),
                            None,
                            P,
                        );
                    }
                });
            },
        );
    });
    malformed(b, top.rest.len(), P);
}
