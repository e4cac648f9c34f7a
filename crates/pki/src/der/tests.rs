//! The DER reader and annotators: every byte covered once, never a panic.

use super::annotate::*;
use super::*;
use crate::Pki;
use cipherstage_transcript::rand::Seeded;
use cipherstage_transcript::Field;

/// Explanations of the leaves that mean "this did not parse as expected".
const FALLBACK: &[&str] = &[
    "pki.explain.certificate_opaque",
    "pki.explain.csr_opaque",
    "pki.explain.malformed",
    "pki.explain.der_extra",
    "pki.explain.der_garbled",
    "pki.explain.ecdsa_signature_opaque",
    "pki.explain.extn_value_raw",
    "pki.explain.key_bytes",
    "pki.explain.signature_bytes",
    "pki.explain.general_name_other",
    "pki.explain.der_header_other",
];

/// Checks that `fields` tile `start..end` exactly, recursively, with no empty leaf
/// and no field without a name or an explanation.
fn tiles(fields: &[Field], start: usize, end: usize) {
    let mut at = start;
    for f in fields {
        assert_eq!(f.start, at, "{} starts where the previous ended", f.name);
        assert!(
            f.end >= f.start && f.end <= end,
            "{} inside its parent",
            f.name
        );
        assert!(!f.name.is_empty() && !f.explain.is_empty());
        if f.children.is_empty() {
            assert!(
                f.end > f.start || fields.len() == 1,
                "empty leaf {}",
                f.name
            );
        } else {
            tiles(&f.children, f.start, f.end);
        }
        at = f.end;
    }
    assert_eq!(at, end, "covered up to the end");
}

fn walk<'f>(fields: &'f [Field], out: &mut Vec<&'f Field>) {
    for f in fields {
        out.push(f);
        walk(&f.children, out);
    }
}

fn all(fields: &[Field]) -> Vec<&Field> {
    let mut out = Vec::new();
    walk(fields, &mut out);
    out
}

/// The values of every field named `name` under the group named `under`.
fn values(fields: &[Field], under: &str, name: &str) -> Vec<Value> {
    all(fields)
        .into_iter()
        .filter(|g| g.name == under)
        .flat_map(|g| all(&g.children))
        .filter(|f| f.name == name)
        .filter_map(|f| f.value.clone())
        .collect()
}

fn annotated(der: &[u8], start: usize, csr: bool) -> Vec<Field> {
    let mut b = FieldsBuilder::new(start);
    if csr {
        annotate_csr(&mut b, der, Protection::Plaintext);
    } else {
        annotate_certificate(&mut b, der, Protection::Plaintext);
    }
    let f = b.finish();
    tiles(&f, start, start + der.len());
    f
}

/// Annotated fully: exact coverage and no leaf that is a fallback.
fn clean(der: &[u8], csr: bool) -> Vec<Field> {
    let f = annotated(der, 5, csr);
    assert_eq!(f.len(), 1);
    for l in all(&f).into_iter().filter(|f| f.children.is_empty()) {
        assert!(
            !FALLBACK.contains(&l.explain.as_str()),
            "fallback leaf {} ({}) at {}",
            l.name,
            l.explain,
            l.start
        );
    }
    f
}

/// Every certificate of the PKI with its field name, found through `Debug` so
/// certificates added to [`Pki`] later are covered without touching this test.
fn certificates(p: &Pki) -> Vec<(String, Vec<u8>)> {
    let dbg = format!("{p:?}");
    let marker = ": Cert { der: [";
    let mut out = Vec::new();
    for (i, _) in dbg.match_indices(marker) {
        let name = dbg[..i]
            .rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .next()
            .unwrap()
            .to_owned();
        let rest = &dbg[i + marker.len()..];
        let list = &rest[..rest.find(']').unwrap()];
        let der = list.split(", ").map(|n| n.parse().unwrap()).collect();
        out.push((name, der));
    }
    out
}

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

fn key(s: &str) -> Value {
    Value::Key(s.into())
}

#[test]
fn every_certificate_is_broken_down_to_primitives() {
    for seed in [1, 4, 9] {
        let p = Pki::build(&mut Seeded::new(seed)).unwrap();
        let certs = certificates(&p);
        let names: Vec<&str> = certs.iter().map(|(n, _)| n.as_str()).collect();
        for n in ["root", "intermediate", "www", "alice", "www_self_signed"] {
            assert!(names.contains(&n), "found {n} in {names:?}");
        }
        assert!(certs.len() >= 13, "found the certificates: {names:?}");
        for (n, der) in &certs {
            let f = clean(der, false);
            let names: Vec<&str> = f[0].children.iter().map(|c| c.name.as_str()).collect();
            assert_eq!(
                names,
                [
                    "pki.field.der_header",
                    "pki.field.tbs",
                    "pki.field.signature_algorithm",
                    "pki.field.signature_value"
                ],
                "{n}"
            );
            let sig = values(&f, "pki.field.signature_algorithm", "pki.field.algorithm");
            assert_eq!(sig, [key("pki.oid.ed25519")], "{n}: CAs sign with Ed25519");
            let cn = values(&f, "pki.field.subject", "pki.field.attribute_value");
            assert!(!cn.is_empty(), "{n}");
            // Every EC key is an uncompressed point split into 0x04, X and Y.
            let spki = all(&f)
                .into_iter()
                .find(|g| g.name == "pki.field.spki")
                .unwrap();
            let alg = values(&f, "pki.field.spki_algorithm", "pki.field.algorithm");
            let key_names: Vec<(&str, usize)> = all(&spki.children)
                .into_iter()
                .filter(|l| l.children.is_empty())
                .map(|l| (l.name.as_str(), l.end - l.start))
                .skip_while(|(name, _)| *name != "pki.field.unused_bits")
                .collect();
            if alg == [key("pki.oid.ec_public_key")] {
                let curve = values(&f, "pki.field.spki_algorithm", "pki.field.named_curve");
                assert_eq!(curve, [key("pki.oid.prime256v1")]);
                assert_eq!(
                    key_names,
                    [
                        ("pki.field.unused_bits", 1),
                        ("pki.field.ec_point_form", 1),
                        ("pki.field.ec_x", 32),
                        ("pki.field.ec_y", 32)
                    ],
                    "{n}"
                );
            } else {
                assert_eq!(alg, [key("pki.oid.ed25519")], "{n}");
                assert_eq!(
                    key_names,
                    [("pki.field.unused_bits", 1), ("pki.field.ed25519_key", 32)],
                    "{n}"
                );
            }
        }
    }
}

#[test]
fn decoded_values_read_like_the_certificate() {
    let p = Pki::build(&mut Seeded::new(4)).unwrap();
    let www = clean(&p.www.der, false);
    assert_eq!(
        values(&www, "pki.field.ext_subject_alt_name", "pki.field.dns_name"),
        [text("www.example.com"), text("example.com")]
    );
    assert_eq!(
        values(&www, "pki.field.subject", "pki.field.attribute_type"),
        [key("pki.oid.organization_name"), key("pki.oid.common_name")]
    );
    assert_eq!(
        values(&www, "pki.field.subject", "pki.field.attribute_value"),
        [text("cipherstage"), text("www.example.com")]
    );
    assert_eq!(
        values(&www, "pki.field.issuer", "pki.field.attribute_value"),
        [text("cipherstage"), text("cipherstage Intermediate CA")]
    );
    // Collapsed, a Name reads as its common name.
    let name_value = |n: &str| {
        all(&www)
            .into_iter()
            .find(|f| f.name == n)
            .and_then(|f| f.value.clone())
    };
    assert_eq!(
        name_value("pki.field.subject"),
        Some(text("www.example.com"))
    );
    assert_eq!(
        name_value("pki.field.issuer"),
        Some(text("cipherstage Intermediate CA"))
    );
    assert_eq!(
        values(&www, "pki.field.version", "pki.field.version_number"),
        [Value::Uint(3)]
    );
    assert_eq!(
        values(&www, "pki.field.tbs", "pki.field.serial"),
        [text("100a")]
    );
    assert_eq!(
        values(&www, "pki.field.validity", "pki.field.not_before"),
        [text("260601000000Z")]
    );
    assert_eq!(
        values(&www, "pki.field.ext_ext_key_usage", "pki.field.key_purpose"),
        [key("pki.oid.server_auth")]
    );
    assert_eq!(
        values(&www, "pki.field.ext_key_usage", "pki.field.key_usage_bits"),
        [text("digitalSignature")]
    );
    let alice = clean(&p.alice.der, false);
    assert_eq!(
        values(
            &alice,
            "pki.field.ext_ext_key_usage",
            "pki.field.key_purpose"
        ),
        [key("pki.oid.client_auth")]
    );
    let root = clean(&p.root.der, false);
    assert_eq!(
        values(&root, "pki.field.ext_basic_constraints", "pki.field.ca"),
        [text("TRUE")]
    );
    assert_eq!(
        values(&root, "pki.field.ext_key_usage", "pki.field.key_usage_bits"),
        [text("keyCertSign, cRLSign")]
    );
    assert!(values(
        &root,
        "pki.field.ext_basic_constraints",
        "pki.field.extn_id"
    )
    .contains(&key("pki.oid.basic_constraints")));
}

#[test]
fn certificates_are_annotated_exactly_and_validity_parses() {
    let p = Pki::build(&mut Seeded::new(4)).unwrap();
    for c in [
        &p.root,
        &p.intermediate,
        &p.www,
        &p.alice,
        &p.www_self_signed,
    ] {
        let mut b = FieldsBuilder::new(7);
        annotate_certificate(&mut b, &c.der, Protection::Plaintext);
        let f = b.finish();
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].start, f[0].end), (7, 7 + c.der.len()));
        assert_eq!(f[0].explain, "pki.explain.certificate", "broken down");
        let tbs = &f[0].children[1];
        let names: Vec<&str> = tbs.children.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "pki.field.der_header",
                "pki.field.version",
                "pki.field.serial",
                "pki.field.tbs_signature",
                "pki.field.issuer",
                "pki.field.validity",
                "pki.field.subject",
                "pki.field.spki",
                "pki.field.extensions"
            ]
        );
        // Signature bytes are a signature; everything else is as given.
        for l in all(&f).into_iter().filter(|l| l.children.is_empty()) {
            let sig = l.name == "pki.field.signature_bytes";
            assert_eq!(l.protection == Protection::Signature, sig, "{}", l.name);
        }
    }
    assert_eq!(validity(&p.www.der), Some((1_780_272_000, 1_811_808_000)));
    assert_eq!(
        validity(&p.www_expired.der),
        Some((1_748_736_000, 1_780_272_000))
    );
}

fn rcgen_ed25519(seed: u64) -> rcgen::KeyPair {
    let key = crate::Key::generate(&mut Seeded::new(seed)).unwrap();
    let der = rustls_pki_types::PrivatePkcs8KeyDer::from(key.pkcs8);
    rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&der, &rcgen::PKCS_ED25519).unwrap()
}

fn rcgen_p256() -> rcgen::KeyPair {
    use ring::rand::SystemRandom;
    use ring::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_ASN1_SIGNING};
    let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &SystemRandom::new())
        .unwrap();
    let der = rustls_pki_types::PrivatePkcs8KeyDer::from(doc.as_ref().to_vec());
    rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&der, &rcgen::PKCS_ECDSA_P256_SHA256).unwrap()
}

fn csr(kp: &rcgen::KeyPair) -> Vec<u8> {
    let params = rcgen::CertificateParams::new(vec!["www.example.com".into()]).unwrap();
    params.serialize_request(kp).unwrap().der().to_vec()
}

#[test]
fn a_csr_is_broken_down_with_its_requested_extensions() {
    let der = csr(&rcgen_ed25519(3));
    let f = clean(&der, true);
    let names: Vec<&str> = f[0].children.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "pki.field.der_header",
            "pki.field.csr_info",
            "pki.field.signature_algorithm",
            "pki.field.csr_signature"
        ]
    );
    let info: Vec<&str> = f[0].children[1]
        .children
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(
        info,
        [
            "pki.field.der_header",
            "pki.field.version",
            "pki.field.subject",
            "pki.field.spki",
            "pki.field.csr_attributes"
        ]
    );
    assert_eq!(
        values(&f, "pki.field.csr_info", "pki.field.version"),
        [Value::Uint(1)]
    );
    assert_eq!(
        values(
            &f,
            "pki.field.extension_request",
            "pki.field.attribute_type"
        ),
        [key("pki.oid.extension_request")]
    );
    assert_eq!(
        values(&f, "pki.field.extension_request", "pki.field.dns_name"),
        [text("www.example.com")]
    );
    // The same request signed with ECDSA P-256: the point and r, s are split.
    let der = csr(&rcgen_p256());
    let f = clean(&der, true);
    assert_eq!(
        values(&f, "pki.field.spki_algorithm", "pki.field.named_curve"),
        [key("pki.oid.prime256v1")]
    );
    let leaves: Vec<&str> = all(&f).into_iter().map(|l| l.name.as_str()).collect();
    for n in [
        "pki.field.ec_x",
        "pki.field.ec_y",
        "pki.field.ecdsa_r",
        "pki.field.ecdsa_s",
    ] {
        assert!(leaves.contains(&n), "{n}");
    }
    assert_eq!(
        values(&f, "pki.field.signature_algorithm", "pki.field.algorithm"),
        [key("pki.oid.ecdsa_with_sha256")]
    );
}

#[test]
fn an_ecdsa_signature_is_split_into_r_and_s() {
    use ring::rand::SystemRandom;
    use ring::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_ASN1_SIGNING as ALG};
    let rng = SystemRandom::new();
    let doc = EcdsaKeyPair::generate_pkcs8(&ALG, &rng).unwrap();
    let kp = EcdsaKeyPair::from_pkcs8(&ALG, doc.as_ref(), &rng).unwrap();
    let sig = kp.sign(&rng, b"hello").unwrap().as_ref().to_vec();
    let mut b = FieldsBuilder::new(4);
    annotate_ecdsa_signature(&mut b, &sig, Protection::Signature);
    let f = b.finish();
    tiles(&f, 4, 4 + sig.len());
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].explain, "pki.explain.ecdsa_signature");
    let names: Vec<&str> = f[0].children.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "pki.field.der_header",
            "pki.field.ecdsa_r",
            "pki.field.ecdsa_s"
        ]
    );
    for c in &f[0].children[1..] {
        assert!((3..=35).contains(&(c.end - c.start)), "02 len r");
        assert_eq!(c.protection, Protection::Signature);
    }
    // Not an ECDSA-Sig-Value: one leaf; nothing: no field.
    for bad in [&sig[1..], &[0x02, 0x01, 0x05][..], &sig[..sig.len() - 1]] {
        let mut b = FieldsBuilder::new(0);
        annotate_ecdsa_signature(&mut b, bad, Protection::Signature);
        let f = b.finish();
        tiles(&f, 0, bad.len());
        assert_eq!(f.len(), 1);
        assert!(f[0].children.is_empty());
    }
    let mut b = FieldsBuilder::new(0);
    annotate_ecdsa_signature(&mut b, &[], Protection::Signature);
    assert!(b.finish().is_empty());
}

#[test]
fn a_broken_extension_is_one_leaf_and_the_rest_still_breaks_down() {
    let p = Pki::build(&mut Seeded::new(4)).unwrap();
    let mut der = p.www.der.clone();
    // The tag of subjectAltName's SEQUENCE inside its OCTET STRING.
    let at = der
        .windows(5)
        .position(|w| w == [0x06, 0x03, 0x55, 0x1d, 0x11])
        .unwrap();
    let seq = at + 5 + 2;
    assert_eq!(der[seq], 0x30);
    der[seq] = 0x31;
    let f = annotated(&der, 0, false);
    let bad: Vec<&Field> = all(&f)
        .into_iter()
        .filter(|l| l.explain == "pki.explain.malformed")
        .collect();
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].name, "pki.field.general_names");
    assert_eq!(
        values(&f, "pki.field.ext_ext_key_usage", "pki.field.key_purpose"),
        [key("pki.oid.server_auth")]
    );
    assert_eq!(
        values(&f, "pki.field.subject", "pki.field.attribute_value"),
        [text("cipherstage"), text("www.example.com")]
    );
}

#[test]
fn primitive_values_decode() {
    let some = |s: &str| Some(Some(text(s)));
    assert_eq!(ip(&[10, 0, 0, 1]), some("10.0.0.1"));
    assert_eq!(
        ip(&[192, 168, 0, 0, 255, 255, 0, 0]),
        some("192.168.0.0/255.255.0.0")
    );
    let mut v6 = [0u8; 16];
    v6[0] = 0x20;
    v6[1] = 0x01;
    v6[15] = 1;
    assert_eq!(ip(&v6), some("2001::1"));
    assert_eq!(ip(&[1, 2, 3]), None);
    assert_eq!(oid_dotted(&[0x2b, 0x65, 0x70]).unwrap(), "1.3.101.112");
    let ecdsa = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
    assert_eq!(oid_dotted(&ecdsa).unwrap(), "1.2.840.10045.4.3.2");
    assert_eq!(oid_dotted(&[0x88, 0x37, 0x03]).unwrap(), "2.999.3");
    assert_eq!(
        oid_dotted(&[0x2b, 0x86]),
        None,
        "cut in the middle of an arc"
    );
    assert_eq!(oid_dotted(&[]), None);
    assert_eq!(oid_dotted(&[0xff; 12]), None, "overflow");
    assert_eq!(oid_value("1.2.3.4"), text("1.2.3.4"));
    assert_eq!(oid_value("2.5.4.3"), key("pki.oid.common_name"));
    assert_eq!(key_usage(&[0x07, 0x80]), some("digitalSignature"));
    assert_eq!(key_usage(&[0x07, 0x00, 0x80]), some("decipherOnly"));
    assert_eq!(key_usage(&[0x08, 0x80]), None);
    assert_eq!(uint(&[0x00, 0xff]), Some(255));
    assert_eq!(uint(&[0x80]), None, "negative");
    assert_eq!(uint(&[0x00; 10]), None, "too long");
    assert_eq!(boolean(&[0xff]), some("TRUE"));
    assert_eq!(boolean(&[0x00]), some("FALSE"));
    assert_eq!(boolean(&[0x00, 0x00]), None);
    // A BMPString attribute value is UTF-16BE.
    let mut b = FieldsBuilder::new(0);
    let bmp = [0x1e, 0x04, 0x30, 0x42, 0x00, 0x41];
    let el = Items::new(&bmp).next().unwrap();
    string(
        &mut b,
        el,
        "pki.field.attribute_value",
        Protection::Plaintext,
    );
    let f = b.finish();
    assert_eq!(f[0].value, Some(text("あA")));
    assert_eq!(f[0].explain, "pki.explain.string_bmp");
}

#[test]
fn garbage_becomes_one_opaque_leaf_without_panicking() {
    let p = Pki::build(&mut Seeded::new(4)).unwrap();
    for (der, csr) in [
        (p.www.der.clone(), false),
        (p.root.der.clone(), false),
        (csr(&rcgen_ed25519(3)), true),
        (csr(&rcgen_p256()), true),
    ] {
        for cut in 0..der.len() {
            let f = annotated(&der[..cut], 3, csr);
            assert_eq!(f.len(), 1);
        }
        let mut flipped = der.clone();
        for i in 0..flipped.len() {
            for x in [0xff, 0x01, 0x80] {
                flipped[i] ^= x;
                annotated(&flipped, 0, csr);
                flipped[i] ^= x;
            }
        }
    }
    for p in [Protection::Plaintext, Protection::Encrypted] {
        let mut b = FieldsBuilder::new(0);
        annotate_certificate(&mut b, &[], p);
        assert_eq!(b.finish()[0].end, 0);
    }
    let f = annotated(&[0x02, 0x01, 0x00], 0, false);
    assert_eq!(f[0].explain, "pki.explain.certificate_opaque");
    let f = annotated(&[0x30, 0x00, 0x05], 0, true);
    assert_eq!(f[0].explain, "pki.explain.csr");
    assert_eq!(f[0].children[1].explain, "pki.explain.der_garbled");
}
