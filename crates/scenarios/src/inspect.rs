//! Inspecting what a user pastes: PEM certificates and CSRs, one or a whole chain
//! (each DER annotated field by field, each certificate checked against the next
//! one's key), with any text around them (a note, `openssl x509 -text` output, a
//! UTF-8 BOM); or OpenSSH public keys (`ssh-ed25519`, `ssh-rsa`,
//! `ecdsa-sha2-nistp256/384/521`) as `.pub` lines, `authorized_keys` lines with
//! options and `known_hosts` lines (plain, `[host]:port`, comma lists, markers,
//! hashed `|1|salt|hash` names), each blob annotated with its SHA256 fingerprint
//! as `ssh-keygen -l` prints it. Any other input is a typed error naming what was
//! recognised, with the byte offset, never a panic.

#[cfg_attr(not(all(feature = "pki", feature = "ssh")), allow(unused_imports))]
use cipherstage_transcript::{Field, FieldsBuilder, Protection, Value};

/// Longest input accepted (a certificate chain is far shorter).
pub const MAX_INPUT: usize = 64 * 1024;

/// Most certificates or keys read from one paste.
pub const MAX_ITEMS: usize = 10;

/// What was recognised, ready to show like a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspected {
    /// Key of what it is (`inspect.kind.certificate`).
    pub kind: &'static str,
    /// A short name for choosing it among several (the subject's common name,
    /// the key type and comment).
    pub title: String,
    /// The binary form (DER, or the SSH key blob).
    pub bytes: Vec<u8>,
    /// Every byte explained.
    pub fields: Vec<Field>,
    /// Facts worth a line each: (key of the label, value). A value starting with
    /// `inspect.value.` is itself a key to translate.
    pub facts: Vec<(&'static str, String)>,
}

/// Why the input could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InspectError {
    /// Key of the reason (`inspect.error.bad_base64`).
    pub key: &'static str,
    /// Byte offset in the pasted text where it was noticed.
    pub offset: usize,
    /// What was recognised, for the message's `{what}` (a PEM label, a word).
    pub what: String,
}

fn err(key: &'static str, offset: usize) -> InspectError {
    InspectError {
        key,
        offset,
        what: String::new(),
    }
}

fn err_what(key: &'static str, offset: usize, what: &str) -> InspectError {
    let what: String = what.chars().take(40).collect();
    InspectError { key, offset, what }
}

/// Reads pasted text: the first thing recognised (see [`inspect_all`]).
pub fn inspect(text: &str) -> Result<Inspected, InspectError> {
    inspect_all(text)?
        .into_iter()
        .next()
        .ok_or(err("inspect.error.empty", 0))
}

/// Reads pasted text: every certificate, CSR or key in it, in order (at most
/// [`MAX_ITEMS`]).
pub fn inspect_all(text: &str) -> Result<Vec<Inspected>, InspectError> {
    if text.len() > MAX_INPUT {
        return Err(err("inspect.error.too_long", MAX_INPUT));
    }
    let bom = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let rest = text.get(bom..).unwrap_or_default();
    let lead = bom + rest.len() - rest.trim_start().len();
    let body = rest.trim();
    if body.is_empty() {
        return Err(err("inspect.error.empty", 0));
    }
    if text.contains("PuTTY-User-Key-File-") {
        let at = text.find("PuTTY-User-Key-File-").unwrap_or(0);
        return Err(err_what(
            "inspect.error.private_key",
            at,
            "PuTTY-User-Key-File",
        ));
    }
    #[cfg(feature = "ssh")]
    if let Some(at) = text.find(SSH2_BEGIN) {
        return ssh2_block(text, at);
    }
    if text.contains("-----BEGIN ") {
        return pem_blocks(text);
    }
    if body.starts_with('<') {
        return Err(err("inspect.error.html", lead));
    }
    #[cfg(feature = "ssh")]
    {
        key_lines(text, lead)
    }
    #[cfg(not(feature = "ssh"))]
    {
        Err(err("inspect.error.unknown", lead))
    }
}

// ---------------------------------------------------------------------------
// PEM.

/// Every PEM block in `text`; the text between them is ignored.
fn pem_blocks(text: &str) -> Result<Vec<Inspected>, InspectError> {
    let mut blocks = Vec::new();
    let mut at = 0;
    while let Some(found) = text.get(at..).and_then(|r| r.find("-----BEGIN ")) {
        let begin = at + found;
        let after = begin + "-----BEGIN ".len();
        let label = text
            .get(after..)
            .and_then(|r| r.find("-----").map(|e| &r[..e]))
            .filter(|l| !l.contains('\n'))
            .ok_or(err("inspect.error.pem_no_begin", begin))?;
        if label.contains("PRIVATE KEY") {
            return Err(err_what("inspect.error.private_key", begin, label));
        }
        if !matches!(
            label,
            "CERTIFICATE"
                | "TRUSTED CERTIFICATE"
                | "CERTIFICATE REQUEST"
                | "NEW CERTIFICATE REQUEST"
        ) {
            return Err(err_what("inspect.error.not_a_certificate", begin, label));
        }
        let end_marker = format!("-----END {label}-----");
        let end = text
            .get(after..)
            .and_then(|r| r.find(&end_marker))
            .map(|e| after + e + end_marker.len())
            .ok_or(err("inspect.error.pem_no_end", after + label.len() + 5))?;
        blocks.push((begin, end, label));
        at = end;
        if blocks.len() > MAX_ITEMS {
            let more = text
                .get(at..)
                .map_or(0, |r| r.matches("-----BEGIN ").count());
            return Err(err_what(
                "inspect.error.too_many",
                begin,
                &(blocks.len() + more).to_string(),
            ));
        }
    }
    let mut items = Vec::new();
    let mut ders = Vec::new();
    for (begin, end, _) in blocks {
        let (label, der) = pem_block(text.get(begin..end).unwrap_or_default(), begin)?;
        if label == "CERTIFICATE REQUEST" || label == "NEW CERTIFICATE REQUEST" {
            items.push(csr(der.clone()));
            ders.push(None);
        } else if label == "CERTIFICATE" || label == "TRUSTED CERTIFICATE" {
            items.push(certificate(&der));
            ders.push(Some(der));
        } else {
            return Err(err_what("inspect.error.not_a_certificate", begin, &label));
        }
    }
    chain_facts(&mut items, &ders);
    Ok(items)
}

#[cfg(feature = "pki")]
fn pem_block(pem: &str, base: usize) -> Result<(String, Vec<u8>), InspectError> {
    use cipherstage_pki::pem::{decode, PemErrorKind};
    decode(pem).map_err(|e| {
        let key = match e.kind {
            PemErrorKind::NoBegin => "inspect.error.pem_no_begin",
            PemErrorKind::NoEnd => "inspect.error.pem_no_end",
            PemErrorKind::BadCharacter => "inspect.error.bad_base64",
            PemErrorKind::BadPadding => "inspect.error.bad_padding",
            PemErrorKind::BadDer => "inspect.error.bad_der",
        };
        let at = if e.kind == PemErrorKind::BadDer {
            0
        } else {
            e.offset
        };
        err(key, base + at)
    })
}

#[cfg(not(feature = "pki"))]
fn pem_block(_pem: &str, base: usize) -> Result<(String, Vec<u8>), InspectError> {
    Err(err("inspect.error.unknown", base))
}

#[cfg(feature = "pki")]
fn certificate(der: &[u8]) -> Inspected {
    let mut b = FieldsBuilder::new(0);
    cipherstage_pki::der::annotate_certificate(&mut b, der, Protection::Plaintext);
    let mut facts = Vec::new();
    let subject = cert_names(der).map(|(_, s)| s);
    if let Some(cn) = subject.and_then(common_name) {
        facts.push(("inspect.fact.subject_cn", cn));
    }
    if let Some(cn) = cert_names(der).and_then(|(i, _)| common_name(i)) {
        facts.push(("inspect.fact.issuer_cn", cn));
    }
    facts.push(("inspect.fact.der_length", format!("{} B", der.len())));
    if let Some((from, to)) = cipherstage_pki::der::validity(der) {
        facts.push(("inspect.fact.not_before", unix_date(from)));
        facts.push(("inspect.fact.not_after", unix_date(to)));
    }
    let fields = b.finish();
    let title = subject
        .and_then(common_name)
        .unwrap_or_else(|| format!("{} B", der.len()));
    Inspected {
        kind: "inspect.kind.certificate",
        title,
        fields: cover(fields, der.len()),
        bytes: der.to_vec(),
        facts,
    }
}

#[cfg(not(feature = "pki"))]
fn certificate(_der: &[u8]) -> Inspected {
    unreachable_item()
}

#[cfg(not(feature = "pki"))]
fn csr(_der: Vec<u8>) -> Inspected {
    unreachable_item()
}

#[cfg(not(feature = "pki"))]
fn unreachable_item() -> Inspected {
    Inspected {
        kind: "inspect.kind.certificate",
        title: String::new(),
        bytes: Vec::new(),
        fields: Vec::new(),
        facts: Vec::new(),
    }
}

/// The fields, or one field for all the bytes if the annotator could not lay them
/// out exactly (a DER element it does not know: every byte stays explained).
#[cfg(feature = "pki")]
fn cover(fields: Vec<Field>, len: usize) -> Vec<Field> {
    if cipherstage_transcript::check_fields(&fields, 0, len).is_ok() {
        return fields;
    }
    let mut b = FieldsBuilder::new(0);
    b.leaf(
        "inspect.field.unparsed",
        len,
        None,
        "inspect.explain.unparsed",
        Protection::Plaintext,
    );
    b.finish()
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
        title: format!("CSR {} B", der.len()),
        fields: cover(b.finish(), der.len()),
        bytes: der,
        facts,
    }
}

/// Contents of a DER element.
#[cfg(feature = "pki")]
fn body(data: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let t = cipherstage_pki::der::tlv(data).ok()?;
    Some((
        t.tag,
        data.get(t.header..t.total())?,
        data.get(t.total()..)?,
    ))
}

/// The consecutive elements of `data` as (tag, contents, whole element).
#[cfg(feature = "pki")]
fn elements(mut data: &[u8]) -> Vec<(u8, &[u8], &[u8])> {
    let mut out = Vec::new();
    while let Some((tag, contents, rest)) = body(data) {
        let whole = data.get(..data.len() - rest.len()).unwrap_or_default();
        out.push((tag, contents, whole));
        data = rest;
        if out.len() > 64 {
            break;
        }
    }
    out
}

/// The issuer and subject Name elements of a certificate (whole TLVs).
#[cfg(feature = "pki")]
fn cert_names(der: &[u8]) -> Option<(&[u8], &[u8])> {
    let (_, cert, _) = body(der)?;
    let (_, tbs, _) = body(cert)?;
    let el = elements(tbs);
    let skip = usize::from(el.first()?.0 == 0xa0);
    Some((el.get(skip + 2)?.2, el.get(skip + 4)?.2))
}

/// The first commonName (2.5.4.3) in a Name.
#[cfg(feature = "pki")]
fn common_name(name: &[u8]) -> Option<String> {
    let (_, rdns, _) = body(name)?;
    for (_, set, _) in elements(rdns) {
        for (_, atv, _) in elements(set) {
            let el = elements(atv);
            if let [(0x06, oid, _), (_, value, _)] = el.as_slice() {
                if *oid == [0x55, 0x04, 0x03] {
                    return Some(String::from_utf8_lossy(value).chars().take(64).collect());
                }
            }
        }
    }
    None
}

/// For each certificate, whether the next one's key signed it; for the last, if
/// it names itself as issuer, whether its own key did.
#[cfg(feature = "pki")]
fn chain_facts(items: &mut [Inspected], ders: &[Option<Vec<u8>>]) {
    let n = ders.len();
    for i in 0..n {
        let (Some(item), Some(Some(der))) = (items.get_mut(i), ders.get(i)) else {
            continue;
        };
        if let Some(Some(next)) = ders.get(i + 1) {
            item.facts
                .push(("inspect.fact.signed_by_next", signed_by(der, next).into()));
        } else if n > 1 || cert_names(der).is_some_and(|(iss, sub)| iss == sub) {
            if cert_names(der).is_some_and(|(iss, sub)| iss == sub) {
                item.facts
                    .push(("inspect.fact.self_signed", signed_by(der, der).into()));
            } else if i + 1 == n {
                item.facts.push((
                    "inspect.fact.signed_by_next",
                    "inspect.value.last_in_chain".into(),
                ));
            }
        }
    }
}

#[cfg(not(feature = "pki"))]
fn chain_facts(_items: &mut [Inspected], _ders: &[Option<Vec<u8>>]) {}

/// Whether `issuer`'s public key made the signature on `cert`: checked with ring
/// over the TBSCertificate exactly as signed.
#[cfg(feature = "pki")]
fn signed_by(cert: &[u8], issuer: &[u8]) -> &'static str {
    use ring::signature as s;
    const ED25519: &[u8] = &[0x2b, 0x65, 0x70];
    const EC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
    const P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    const P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
    const RSA_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
    const ECDSA_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
    const ECDSA_SHA384: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03];
    const RSA_PREFIX: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01];
    let unknown = "inspect.value.signed_unknown";
    let Ok(signed) = cipherstage_pki::issue::signed_parts(cert) else {
        return unknown;
    };
    let Some(spki) = cipherstage_pki::issue::certificate_spki(issuer) else {
        return unknown;
    };
    let Some((_, spki, _)) = body(spki) else {
        return unknown;
    };
    let spki = elements(spki);
    let [(_, key_alg, _), (0x03, bits, _)] = spki.as_slice() else {
        return unknown;
    };
    let Some(public) = bits.strip_prefix(&[0]) else {
        return unknown;
    };
    let key_alg = elements(key_alg);
    let key_oid = key_alg.first().map(|e| e.1).unwrap_or_default();
    let curve = key_alg.get(1).map(|e| e.1).unwrap_or_default();
    let sig_oid = elements(signed.algorithm)
        .first()
        .map(|e| e.1)
        .unwrap_or_default();
    let alg: &dyn s::VerificationAlgorithm = match (sig_oid, key_oid) {
        (ED25519, ED25519) => &s::ED25519,
        (ECDSA_SHA256, EC_KEY) if curve == P256 => &s::ECDSA_P256_SHA256_ASN1,
        (ECDSA_SHA256, EC_KEY) if curve == P384 => &s::ECDSA_P384_SHA256_ASN1,
        (ECDSA_SHA384, EC_KEY) if curve == P256 => &s::ECDSA_P256_SHA384_ASN1,
        (ECDSA_SHA384, EC_KEY) if curve == P384 => &s::ECDSA_P384_SHA384_ASN1,
        (o, RSA_KEY) if o.len() == 9 && o.starts_with(RSA_PREFIX) => match o.last() {
            Some(0x05) => &s::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
            Some(0x0b) => &s::RSA_PKCS1_2048_8192_SHA256,
            Some(0x0c) => &s::RSA_PKCS1_2048_8192_SHA384,
            Some(0x0d) => &s::RSA_PKCS1_2048_8192_SHA512,
            _ => return unknown,
        },
        // A known signature algorithm, but the next key is of another type.
        (ED25519 | ECDSA_SHA256 | ECDSA_SHA384, ED25519 | EC_KEY | RSA_KEY) => {
            return "inspect.value.signed_no"
        }
        _ => return unknown,
    };
    match s::UnparsedPublicKey::new(alg, public).verify(signed.tbs, signed.signature) {
        Ok(()) => "inspect.value.signed_yes",
        Err(_) => "inspect.value.signed_no",
    }
}

// ---------------------------------------------------------------------------
// OpenSSH key lines.

/// The key types read, and the name `ssh-keygen -l` prints in parentheses.
#[cfg(feature = "ssh")]
const KEY_TYPES: &[(&str, &str)] = &[
    ("ssh-ed25519", "ED25519"),
    ("ssh-rsa", "RSA"),
    ("ecdsa-sha2-nistp256", "ECDSA"),
    ("ecdsa-sha2-nistp384", "ECDSA"),
    ("ecdsa-sha2-nistp521", "ECDSA"),
];

/// Options an `authorized_keys` line may start with (sshd(8), AUTHORIZED_KEYS FILE FORMAT).
#[cfg(feature = "ssh")]
const OPTIONS: &[&str] = &[
    "agent-forwarding",
    "cert-authority",
    "command",
    "environment",
    "expiry-time",
    "from",
    "no-agent-forwarding",
    "no-port-forwarding",
    "no-pty",
    "no-user-rc",
    "no-x11-forwarding",
    "permitlisten",
    "permitopen",
    "port-forwarding",
    "principals",
    "pty",
    "no-touch-required",
    "verify-required",
    "restrict",
    "tunnel",
    "user-rc",
    "x11-forwarding",
];

/// A word that names an SSH key type, read here or not.
#[cfg(feature = "ssh")]
fn looks_like_key_type(w: &str) -> bool {
    KEY_TYPES.iter().any(|(t, _)| *t == w)
        || ((w.starts_with("ssh-") || w.starts_with("ecdsa-") || w.starts_with("sk-"))
            && w.len() < 64
            && w.bytes()
                .all(|c| c.is_ascii_alphanumeric() || b"-@._".contains(&c)))
}

/// Words of a line with their byte offsets; double quotes keep spaces inside.
#[cfg(feature = "ssh")]
fn words(line: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    let mut quoted = false;
    for (i, c) in line.char_indices() {
        if c == '"' {
            quoted = !quoted;
        }
        let space = !quoted && (c == ' ' || c == '\t');
        match (start, space) {
            (None, false) => start = Some(i),
            (Some(s), true) => {
                out.push((s, line.get(s..i).unwrap_or_default()));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, line.get(s..).unwrap_or_default()));
    }
    out
}

/// Whether a word is a list of `authorized_keys` options (`from="…",no-pty`).
#[cfg(feature = "ssh")]
fn is_options(w: &str) -> bool {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    for (i, c) in w.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                parts.push(w.get(start..i).unwrap_or_default());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(w.get(start..).unwrap_or_default());
    !quoted
        && parts.iter().all(|p| {
            let name = p.split('=').next().unwrap_or_default();
            OPTIONS.contains(&name.to_ascii_lowercase().as_str())
        })
}

/// Every key line of `text` (at most [`MAX_ITEMS`]; a hashed known_hosts name
/// adds its own item after its key). Blank lines and `#` comments are skipped,
/// and so are other lines without a key type when some line has one.
#[cfg(feature = "ssh")]
fn key_lines(text: &str, lead: usize) -> Result<Vec<Inspected>, InspectError> {
    let mut items = Vec::new();
    let mut keys = 0;
    let mut first_word = None;
    let mut at = 0;
    for raw in text.split_inclusive('\n') {
        let base = at;
        at += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        let line = line.strip_prefix('\u{feff}').unwrap_or(line);
        let base = base + (raw.len() - raw.trim_start_matches('\u{feff}').len());
        let w = words(line);
        let Some(first) = w.first() else { continue };
        if first.1.starts_with('#') {
            continue;
        }
        first_word.get_or_insert((base + first.0, first.1));
        let Some(k) = w.iter().position(|(_, x)| looks_like_key_type(x)) else {
            continue;
        };
        keys += 1;
        if keys > MAX_ITEMS {
            let more = text
                .get(at..)
                .map_or(0, |r| r.lines().filter(|l| l.contains(' ')).count());
            return Err(err_what(
                "inspect.error.too_many",
                base,
                &(keys + more).to_string(),
            ));
        }
        let found = key_line(line, base, &w, k)?;
        items.extend(found);
    }
    if items.is_empty() {
        return Err(match first_word {
            Some((o, w)) => err_what("inspect.error.unknown", o, w),
            None => err("inspect.error.empty", lead),
        });
    }
    Ok(items)
}

/// The first line of an RFC 4716 public key block (`ssh-keygen -e`, PuTTYgen's export).
#[cfg(feature = "ssh")]
const SSH2_BEGIN: &str = "---- BEGIN SSH2 PUBLIC KEY ----";

/// An RFC 4716 block: header lines (`Comment: "…"`, continued with a final `\`),
/// then the base64 of the same blob an OpenSSH line carries.
#[cfg(feature = "ssh")]
fn ssh2_block(text: &str, begin: usize) -> Result<Vec<Inspected>, InspectError> {
    let rest = text.get(begin + SSH2_BEGIN.len()..).unwrap_or_default();
    let end = rest
        .find("---- END SSH2 PUBLIC KEY ----")
        .ok_or(err("inspect.error.pem_no_end", text.len()))?;
    let mut comment = String::new();
    let mut b64 = String::new();
    let mut continued = false;
    for line in rest.get(..end).unwrap_or_default().lines() {
        let line = line.trim();
        if continued {
            continued = line.ends_with('\\');
            continue;
        }
        if let Some((name, value)) = line.split_once(':') {
            continued = value.ends_with('\\');
            if name.eq_ignore_ascii_case("comment") {
                comment = value.trim().trim_matches('"').to_owned();
            }
            continue;
        }
        b64.push_str(line);
    }
    let blob = cipherstage_ssh::keys::base64_decode(&b64)
        .map_err(|_| err("inspect.error.bad_base64", begin))?;
    let t = ssh_string(&blob, 0)
        .and_then(|t| std::str::from_utf8(t).ok())
        .ok_or(err("inspect.error.bad_blob", begin))?;
    let line = format!("{t} {b64} {comment}");
    let line = line.trim_end();
    let w = words(line);
    let mut items = key_line(line, 0, &w, 0).map_err(|e| InspectError { offset: begin, ..e })?;
    for item in &mut items {
        for (k, v) in &mut item.facts {
            if *k == "inspect.fact.line_form" {
                *v = "inspect.value.form_rfc4716".into();
            }
        }
    }
    Ok(items)
}

/// The form of the line: what precedes the key type.
#[cfg(feature = "ssh")]
enum Form<'a> {
    Pub,
    Options(&'a str),
    KnownHosts {
        marker: Option<&'a str>,
        hosts: &'a str,
    },
}

/// One line whose word `k` is a key type.
#[cfg(feature = "ssh")]
fn key_line(
    line: &str,
    base: usize,
    w: &[(usize, &str)],
    k: usize,
) -> Result<Vec<Inspected>, InspectError> {
    let word = |i: usize| w.get(i).map(|x| x.1).unwrap_or_default();
    let first_at = base + w.first().map_or(0, |x| x.0);
    let form = match k {
        0 => Form::Pub,
        1 if word(0).starts_with('@') => {
            return Err(err_what(
                "inspect.error.marker_without_host",
                first_at,
                word(0),
            ))
        }
        1 if is_options(word(0)) => Form::Options(word(0)),
        1 => Form::KnownHosts {
            marker: None,
            hosts: word(0),
        },
        2 if word(0) == "@cert-authority" || word(0) == "@revoked" => Form::KnownHosts {
            marker: Some(word(0)),
            hosts: word(1),
        },
        2 if word(0).starts_with('@') => {
            return Err(err_what("inspect.error.bad_marker", first_at, word(0)))
        }
        _ => {
            return Err(err_what(
                "inspect.error.words_before_key",
                first_at,
                word(0),
            ))
        }
    };
    let Some(&(t_at, t)) = w.get(k) else {
        return Err(err("inspect.error.unknown_key_type", base));
    };
    let Some(&(_, kind)) = KEY_TYPES.iter().find(|(x, _)| *x == t) else {
        return Err(err_what("inspect.error.unknown_key_type", base + t_at, t));
    };
    let Some(&(d_at, data)) = w.get(k + 1) else {
        return Err(err("inspect.error.missing_key_data", base + line.len()));
    };
    let blob = cipherstage_ssh::keys::base64_decode(data).map_err(|o| {
        err(
            "inspect.error.bad_base64",
            base + d_at + o.min(data.len().saturating_sub(1)),
        )
    })?;
    let comment = w
        .get(k + 2)
        .and_then(|(c, _)| line.get(*c..))
        .unwrap_or_default()
        .trim_end();
    let (fields, bits) = key_blob(&blob, t).map_err(|key| err(key, base + d_at))?;
    let digest = ring::digest::digest(&ring::digest::SHA256, &blob);
    let fingerprint = format!(
        "SHA256:{}",
        cipherstage_ssh::keys::base64_encode(digest.as_ref(), false)
    );
    let shown_comment = if comment.is_empty() {
        "no comment"
    } else {
        comment
    };
    let mut facts = vec![
        ("inspect.fact.key_type", t.to_owned()),
        ("inspect.fact.bits", bits.to_string()),
        ("inspect.fact.fingerprint", fingerprint.clone()),
        (
            "inspect.fact.keygen_line",
            format!("{bits} {fingerprint} {shown_comment} ({kind})"),
        ),
    ];
    if !comment.is_empty() {
        facts.push(("inspect.fact.comment", comment.to_owned()));
    }
    let mut hashed = Vec::new();
    match form {
        Form::Pub => facts.push(("inspect.fact.line_form", "inspect.value.form_pub".into())),
        Form::Options(o) => {
            facts.push((
                "inspect.fact.line_form",
                "inspect.value.form_authorized_keys".into(),
            ));
            facts.push(("inspect.fact.options", o.to_owned()));
        }
        Form::KnownHosts { marker, hosts } => {
            facts.push((
                "inspect.fact.line_form",
                "inspect.value.form_known_hosts".into(),
            ));
            match marker {
                Some("@revoked") => {
                    facts.push(("inspect.fact.marker", "inspect.value.marker_revoked".into()))
                }
                Some(_) => facts.push((
                    "inspect.fact.marker",
                    "inspect.value.marker_cert_authority".into(),
                )),
                None => {}
            }
            for h in hosts.split(',') {
                if let Some(rest) = h.strip_prefix("|1|") {
                    facts.push(("inspect.fact.host", "inspect.value.hashed_host".into()));
                    hashed.push(hashed_host(rest, h));
                } else if let Some((host, port)) = h
                    .strip_prefix('[')
                    .and_then(|r| r.rsplit_once("]:"))
                    .filter(|(_, p)| p.parse::<u16>().is_ok())
                {
                    facts.push(("inspect.fact.host", host.to_owned()));
                    facts.push(("inspect.fact.port", port.to_owned()));
                } else if let Some(not) = h.strip_prefix('!') {
                    facts.push(("inspect.fact.host_negated", not.to_owned()));
                } else {
                    facts.push(("inspect.fact.host", h.to_owned()));
                }
            }
        }
    }
    let title = if comment.is_empty() {
        t.to_owned()
    } else {
        format!("{t} {}", comment.chars().take(40).collect::<String>())
    };
    let mut out = vec![Inspected {
        kind: "inspect.kind.ssh_public_key",
        title,
        fields,
        bytes: blob,
        facts,
    }];
    out.extend(hashed.into_iter().flatten());
    Ok(out)
}

/// A hashed known_hosts name `|1|salt|hash` (`HashKnownHosts yes`, `ssh-keygen -H`):
/// its salt and HMAC-SHA1, both base64, as bytes.
#[cfg(feature = "ssh")]
fn hashed_host(rest: &str, whole: &str) -> Option<Inspected> {
    let (salt, hash) = rest.split_once('|')?;
    let salt = cipherstage_ssh::keys::base64_decode(salt).ok()?;
    let hash = cipherstage_ssh::keys::base64_decode(hash).ok()?;
    let mut b = FieldsBuilder::new(0);
    b.leaf(
        "inspect.field.hash_salt",
        salt.len(),
        None,
        "inspect.explain.hash_salt",
        Protection::Plaintext,
    );
    b.leaf(
        "inspect.field.host_hash",
        hash.len(),
        None,
        "inspect.explain.host_hash",
        Protection::Plaintext,
    );
    let mut bytes = salt.clone();
    bytes.extend_from_slice(&hash);
    Some(Inspected {
        kind: "inspect.kind.hashed_host",
        title: whole.chars().take(16).collect::<String>() + "…",
        fields: b.finish(),
        bytes,
        facts: vec![
            ("inspect.fact.salt_length", format!("{} B", salt.len())),
            ("inspect.fact.hash_length", format!("{} B", hash.len())),
        ],
    })
}

/// Reads an SSH string at `at`: (length, contents).
#[cfg(feature = "ssh")]
fn ssh_string(blob: &[u8], at: usize) -> Option<&[u8]> {
    let len = u32::from_be_bytes(blob.get(at..at + 4)?.try_into().ok()?) as usize;
    blob.get(at + 4..at.checked_add(4)?.checked_add(len)?)
}

/// The field tree of a key blob of type `t`, and the key's size in bits as
/// `ssh-keygen -l` prints it; or the error key.
#[cfg(feature = "ssh")]
fn key_blob(blob: &[u8], t: &str) -> Result<(Vec<Field>, usize), &'static str> {
    let km = Protection::KeyMaterial;
    let bad = "inspect.error.bad_blob";
    let name = ssh_string(blob, 0).ok_or(bad)?;
    if name != t.as_bytes() {
        return Err("inspect.error.type_mismatch");
    }
    let mut b = FieldsBuilder::new(0);
    let string = |b: &mut FieldsBuilder, len: usize, field: &str, explain: &str, v| {
        b.group(
            "inspect.field.ssh_string",
            "inspect.explain.ssh_string",
            km,
            |g| {
                g.leaf(
                    "inspect.field.string_length",
                    4,
                    Some(Value::Uint(len as u64)),
                    "inspect.explain.string_length",
                    km,
                );
                g.leaf(field, len, v, explain, km);
            },
        );
    };
    string(
        &mut b,
        name.len(),
        "inspect.field.name",
        "inspect.explain.name",
        Some(Value::Text(t.to_owned())),
    );
    let mut at = 4 + name.len();
    let bits;
    if t == "ssh-ed25519" {
        let k = ssh_string(blob, at).ok_or(bad)?;
        if k.len() != 32 {
            return Err("inspect.error.bad_key_length");
        }
        string(
            &mut b,
            32,
            "inspect.field.ed25519_key",
            "inspect.explain.ed25519_key",
            None,
        );
        at += 36;
        bits = 256;
    } else if t == "ssh-rsa" {
        let mut sizes = [0usize; 2];
        for (i, (field, explain)) in [
            ("inspect.field.rsa_e", "inspect.explain.rsa_e"),
            ("inspect.field.rsa_n", "inspect.explain.rsa_n"),
        ]
        .into_iter()
        .enumerate()
        {
            let m = ssh_string(blob, at).ok_or(bad)?;
            let zeros = m.iter().take_while(|x| **x == 0).count();
            let num = m.get(zeros..).unwrap_or_default();
            let Some(&top) = num.first() else {
                return Err("inspect.error.bad_key_length");
            };
            if zeros > 1 || (zeros == 0 && top & 0x80 != 0) {
                return Err("inspect.error.bad_key_length");
            }
            if let Some(size) = sizes.get_mut(i) {
                *size = (num.len() - 1) * 8 + (8 - top.leading_zeros() as usize);
            }
            b.group("inspect.field.mpint", "inspect.explain.mpint", km, |g| {
                g.leaf(
                    "inspect.field.string_length",
                    4,
                    Some(Value::Uint(m.len() as u64)),
                    "inspect.explain.string_length",
                    km,
                );
                if zeros == 1 {
                    g.leaf(
                        "inspect.field.mpint_zero",
                        1,
                        Some(Value::Uint(0)),
                        "inspect.explain.mpint_zero",
                        km,
                    );
                }
                let v = (num.len() <= 8)
                    .then(|| Value::Uint(num.iter().fold(0u64, |a, x| (a << 8) | u64::from(*x))));
                g.leaf(field, num.len(), v, explain, km);
            });
            at += 4 + m.len();
        }
        bits = sizes[1];
        if !(512..=16384).contains(&bits) {
            return Err("inspect.error.bad_key_length");
        }
    } else {
        let curve = t.strip_prefix("ecdsa-sha2-").ok_or(bad)?;
        let coord = match curve {
            "nistp256" => 32,
            "nistp384" => 48,
            _ => 66,
        };
        let c = ssh_string(blob, at).ok_or(bad)?;
        if c != curve.as_bytes() {
            return Err("inspect.error.type_mismatch");
        }
        string(
            &mut b,
            c.len(),
            "inspect.field.curve",
            "inspect.explain.curve",
            Some(Value::Text(curve.to_owned())),
        );
        at += 4 + c.len();
        let q = ssh_string(blob, at).ok_or(bad)?;
        if q.len() != 1 + 2 * coord || q.first() != Some(&0x04) {
            return Err("inspect.error.bad_key_length");
        }
        b.group(
            "inspect.field.ec_point",
            "inspect.explain.ec_point",
            km,
            |g| {
                g.leaf(
                    "inspect.field.string_length",
                    4,
                    Some(Value::Uint(q.len() as u64)),
                    "inspect.explain.string_length",
                    km,
                );
                g.leaf(
                    "inspect.field.point_form",
                    1,
                    Some(Value::Uint(4)),
                    "inspect.explain.point_form",
                    km,
                );
                g.leaf(
                    "inspect.field.point_x",
                    coord,
                    None,
                    "inspect.explain.point_x",
                    km,
                );
                g.leaf(
                    "inspect.field.point_y",
                    coord,
                    None,
                    "inspect.explain.point_y",
                    km,
                );
            },
        );
        at += 4 + q.len();
        bits = if coord == 66 { 521 } else { coord * 8 };
    }
    if at != blob.len() {
        return Err(bad);
    }
    Ok((b.finish(), bits))
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
