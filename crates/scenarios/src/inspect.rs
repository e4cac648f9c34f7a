//! Inspecting what a user pastes: a PEM certificate (its DER annotated field by
//! field) or an OpenSSH public key line (its blob annotated, its SHA256
//! fingerprint as `ssh-keygen -l` prints it). Any malformed input is a typed
//! error with the byte offset, never a panic.

#[cfg_attr(not(all(feature = "pki", feature = "ssh")), allow(unused_imports))]
use cipherstage_transcript::{Field, FieldsBuilder, Protection, Value};

/// Longest input accepted (a certificate chain is far shorter).
pub const MAX_INPUT: usize = 64 * 1024;

/// What was recognised, ready to show like a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspected {
    /// Key of what it is (`inspect.kind.certificate`).
    pub kind: &'static str,
    /// The binary form (DER, or the SSH key blob).
    pub bytes: Vec<u8>,
    /// Every byte explained.
    pub fields: Vec<Field>,
    /// Facts worth a line each: (key of the label, value).
    pub facts: Vec<(&'static str, String)>,
}

/// Why the input could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InspectError {
    /// Key of the reason (`inspect.error.bad_base64`).
    pub key: &'static str,
    /// Byte offset in the pasted text where it was noticed.
    pub offset: usize,
}

fn err(key: &'static str, offset: usize) -> InspectError {
    InspectError { key, offset }
}

/// Reads pasted text.
pub fn inspect(text: &str) -> Result<Inspected, InspectError> {
    if text.len() > MAX_INPUT {
        return Err(err("inspect.error.too_long", MAX_INPUT));
    }
    let lead = text.len() - text.trim_start().len();
    let body = text.trim();
    if body.is_empty() {
        return Err(err("inspect.error.empty", 0));
    }
    if body.starts_with("-----BEGIN") {
        certificate(body, lead)
    } else {
        #[cfg(feature = "ssh")]
        {
            ssh_key(body, lead)
        }
        #[cfg(not(feature = "ssh"))]
        {
            Err(err("inspect.error.unknown", lead))
        }
    }
}

#[cfg(feature = "pki")]
fn certificate(pem: &str, lead: usize) -> Result<Inspected, InspectError> {
    use cipherstage_pki::pem::{decode, PemErrorKind};
    let (label, der) = decode(pem).map_err(|e| {
        let key = match e.kind {
            PemErrorKind::NoBegin => "inspect.error.pem_no_begin",
            PemErrorKind::NoEnd => "inspect.error.pem_no_end",
            PemErrorKind::BadCharacter => "inspect.error.bad_base64",
            PemErrorKind::BadPadding => "inspect.error.bad_padding",
            PemErrorKind::BadDer => "inspect.error.bad_der",
        };
        err(key, lead + e.offset)
    })?;
    if label == "CERTIFICATE REQUEST" || label == "NEW CERTIFICATE REQUEST" {
        return Ok(csr(der));
    }
    if label != "CERTIFICATE" {
        return Err(err("inspect.error.not_a_certificate", lead));
    }
    let mut b = FieldsBuilder::new(0);
    cipherstage_pki::der::annotate_certificate(&mut b, &der, Protection::Plaintext);
    let mut facts = vec![("inspect.fact.der_length", format!("{} B", der.len()))];
    if let Some((from, to)) = cipherstage_pki::der::validity(&der) {
        facts.push(("inspect.fact.not_before", unix_date(from)));
        facts.push(("inspect.fact.not_after", unix_date(to)));
    }
    Ok(Inspected {
        kind: "inspect.kind.certificate",
        fields: b.finish(),
        bytes: der,
        facts,
    })
}

/// A certificate signing request: annotated, and its self-signature checked with
/// the key inside (Ed25519 and ECDSA P-256).
#[cfg(feature = "pki")]
fn csr(der: Vec<u8>) -> Inspected {
    let mut b = FieldsBuilder::new(0);
    cipherstage_pki::der::annotate_csr(&mut b, &der, Protection::Plaintext);
    let mut facts = vec![("inspect.fact.der_length", format!("{} B", der.len()))];
    if let Ok(c) = cipherstage_pki::issue::read_csr(&der) {
        let verdict = match c.proof_of_possession {
            Ok(()) => "✓".to_owned(),
            Err(e) => format!("✗ ({})", e.key()),
        };
        facts.push(("inspect.fact.csr_signature", verdict));
    }
    Inspected {
        kind: "inspect.kind.csr",
        fields: b.finish(),
        bytes: der,
        facts,
    }
}

#[cfg(not(feature = "pki"))]
fn certificate(_pem: &str, lead: usize) -> Result<Inspected, InspectError> {
    Err(err("inspect.error.unknown", lead))
}

#[cfg(feature = "ssh")]
fn ssh_key(line: &str, lead: usize) -> Result<Inspected, InspectError> {
    use cipherstage_ssh::keys::{KeyErrorKind, PublicKey};
    let (key, comment) = PublicKey::parse_openssh(line).map_err(|e| {
        let k = match e.kind {
            KeyErrorKind::Empty => "inspect.error.empty",
            KeyErrorKind::UnknownKeyType => "inspect.error.unknown_key_type",
            KeyErrorKind::MissingKeyData => "inspect.error.missing_key_data",
            KeyErrorKind::BadBase64 => "inspect.error.bad_base64",
            KeyErrorKind::BadBlob(_) => "inspect.error.bad_blob",
            KeyErrorKind::TypeMismatch => "inspect.error.type_mismatch",
            KeyErrorKind::BadKeyLength => "inspect.error.bad_key_length",
        };
        err(k, lead + e.offset)
    })?;
    let blob = key.blob();
    // The blob is a run of SSH strings: uint32 length, then that many bytes.
    let mut b = FieldsBuilder::new(0);
    let mut at = 0usize;
    while let Some(len) = blob
        .get(at..at + 4)
        .and_then(|l| <[u8; 4]>::try_from(l).ok())
        .map(|l| u32::from_be_bytes(l) as usize)
    {
        let Some(data) = blob.get(at + 4..at + 4 + len) else {
            break;
        };
        b.group(
            "inspect.field.ssh_string",
            "inspect.explain.ssh_string",
            Protection::KeyMaterial,
            |g| {
                g.leaf(
                    "inspect.field.string_length",
                    4,
                    Some(Value::Uint(len as u64)),
                    "inspect.explain.string_length",
                    Protection::KeyMaterial,
                );
                let text = std::str::from_utf8(data)
                    .ok()
                    .filter(|s| !s.is_empty() && s.bytes().all(|c| c.is_ascii_graphic()));
                match text {
                    Some(s) => g.leaf(
                        "inspect.field.name",
                        len,
                        Some(Value::Text(s.to_owned())),
                        "inspect.explain.name",
                        Protection::KeyMaterial,
                    ),
                    None => g.leaf(
                        "inspect.field.key_data",
                        len,
                        None,
                        "inspect.explain.key_data",
                        Protection::KeyMaterial,
                    ),
                };
            },
        );
        at += 4 + len;
    }
    if at < blob.len() {
        b.leaf(
            "inspect.field.key_data",
            blob.len() - at,
            None,
            "inspect.explain.key_data",
            Protection::KeyMaterial,
        );
    }
    let mut facts = vec![
        ("inspect.fact.key_type", key.algorithm().to_owned()),
        ("inspect.fact.fingerprint", key.fingerprint()),
    ];
    if !comment.is_empty() {
        facts.push(("inspect.fact.comment", comment));
    }
    Ok(Inspected {
        kind: "inspect.kind.ssh_public_key",
        fields: b.finish(),
        bytes: blob,
        facts,
    })
}

/// `YYYY-MM-DD hh:mm:ss UTC` of seconds since the epoch (civil-from-days, proleptic Gregorian).
#[cfg(feature = "pki")]
fn unix_date(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}
