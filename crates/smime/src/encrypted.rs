//! Encrypted mail (RFC 8551 §3.3, §3.4): an application/pkcs7-mime body holding
//! EnvelopedData (`smime-type=enveloped-data`) or AuthEnvelopedData
//! (`smime-type=authEnveloped-data`) around a MIME entity — a text part, or a whole
//! multipart/signed entity when the mail is signed first and then encrypted
//! (RFC 8551 §3.7). The outer header (From, To, Subject, Date) stays in clear.

use cipherstage_transcript::rand::RandomSource;
use cipherstage_transcript::FailReason;

use crate::envelope::{self, Cipher, EncryptError, OpenStep, Opening, Sealed};
use crate::{b64_lines, mime, outer_header, Letter};

/// The smime-type parameter for a cipher.
pub fn smime_type(cipher: Cipher) -> &'static str {
    match cipher {
        Cipher::Aes256Cbc => "enveloped-data",
        Cipher::Aes256Gcm => "authEnveloped-data",
    }
}

/// The encrypted mail: `l`'s header, then `entity` encrypted for `recipients`.
pub fn encrypt_mail(
    l: &Letter,
    entity: &[u8],
    recipients: &[&[u8]],
    cipher: Cipher,
    rng: &mut dyn RandomSource,
) -> Result<(Vec<u8>, Sealed), EncryptError> {
    let sealed = envelope::encrypt(entity, recipients, cipher, rng)?;
    let mut m = outer_header(l);
    m.extend_from_slice(
        format!(
            "Content-Type: application/pkcs7-mime; smime-type={}; name=\"smime.p7m\"\r\n\
             Content-Transfer-Encoding: base64\r\n\
             Content-Disposition: attachment; filename=\"smime.p7m\"\r\n\r\n{}\r\n",
            smime_type(cipher),
            b64_lines(&sealed.der)
        )
        .as_bytes(),
    );
    Ok((m, sealed))
}

/// Where the pieces of an encrypted mail are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The header fields.
    pub headers: Vec<mime::Header>,
    /// Where the empty line after them starts.
    pub blank: usize,
    /// The smime-type parameter, lowercase.
    pub smime_type: String,
    /// Whether Content-Transfer-Encoding is base64.
    pub base64: bool,
}

/// Reads the header of an application/pkcs7-mime mail.
pub fn split(mail: &[u8]) -> Option<Layout> {
    let (headers, blank) = mime::headers(mail, 0)?;
    let (media, params) = mime::content_type(mime::header(&headers, "content-type")?);
    if !matches!(
        media.as_str(),
        "application/pkcs7-mime" | "application/x-pkcs7-mime"
    ) {
        return None;
    }
    let smime_type = params
        .iter()
        .find(|(k, _)| k == "smime-type")
        .map(|(_, v)| v.to_ascii_lowercase())
        .unwrap_or_default();
    let base64 = mime::header(&headers, "content-transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("base64"));
    Some(Layout {
        headers,
        blank,
        smime_type,
        base64,
    })
}

/// One step of Bob's client opening an encrypted mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The mail is application/pkcs7-mime (enveloped-data or authEnveloped-data) with a
    /// base64 body.
    Mime,
    /// A step of the CMS decryption.
    Open(OpenStep),
    /// The decrypted content is a MIME entity the client can show (text/plain or
    /// multipart/signed).
    Inner,
}

impl Step {
    /// Stable key of the check.
    pub fn key(self) -> &'static str {
        match self {
            Step::Mime => "smime.check.enc_mime",
            Step::Open(s) => s.key(),
            Step::Inner => "smime.check.inner_mime",
        }
    }
}

/// What Bob's client found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unwrapped {
    /// Every step made, with its failure; stops at the first failure.
    pub steps: Vec<(Step, Option<FailReason>)>,
    /// The decryption, once the body decoded.
    pub opening: Option<Opening>,
    /// The From value of the outer header.
    pub from: String,
    /// The inner entity's media type, lowercase (when it was read).
    pub inner_type: String,
}

impl Unwrapped {
    /// Whether every step passed.
    pub fn ok(&self) -> bool {
        self.steps.last() == Some(&(Step::Inner, None))
    }

    /// The decrypted MIME entity (empty unless decryption succeeded).
    pub fn content(&self) -> &[u8] {
        self.opening
            .as_ref()
            .filter(|o| o.error.is_none())
            .map_or(&[], |o| o.content.as_slice())
    }
}

/// Bob's client decrypts `mail` with his certificate and key. Never panics.
pub fn open_mail(mail: &[u8], cert: &[u8], pkcs8: &[u8]) -> Unwrapped {
    let mut u = Unwrapped {
        steps: Vec::new(),
        opening: None,
        from: String::new(),
        inner_type: String::new(),
    };
    let layout = split(mail).filter(|l| {
        l.base64
            && matches!(
                l.smime_type.as_str(),
                "enveloped-data" | "authenveloped-data"
            )
    });
    let der = layout
        .as_ref()
        .and_then(|l| mime::b64_decode(mail.get(l.blank + 2..)?));
    let (Some(layout), Some(der)) = (layout, der) else {
        u.steps.push((Step::Mime, Some(FailReason::Malformed)));
        return u;
    };
    u.steps.push((Step::Mime, None));
    u.from = mime::header(&layout.headers, "from")
        .unwrap_or_default()
        .to_owned();
    let o = envelope::open(&der, cert, pkcs8);
    u.steps
        .extend(o.steps.iter().map(|(s, f)| (Step::Open(*s), *f)));
    let opened = o.error.is_none();
    // The smime-type must say what the CMS is.
    let type_ok = match o.cipher {
        Some(c) => layout.smime_type.eq_ignore_ascii_case(smime_type(c)),
        None => true,
    };
    if opened {
        let inner = mime::headers(&o.content, 0).and_then(|(hs, _)| {
            let ct = mime::content_type(mime::header(&hs, "content-type")?).0;
            matches!(ct.as_str(), "text/plain" | "multipart/signed").then_some(ct)
        });
        match inner.filter(|_| type_ok) {
            Some(ct) => {
                u.inner_type = ct;
                u.steps.push((Step::Inner, None));
            }
            None => u.steps.push((Step::Inner, Some(FailReason::Malformed))),
        }
    }
    u.opening = Some(o);
    u
}

#[cfg(test)]
mod tests {
    use super::*;
    use cipherstage_pki::{Pki, SCENARIO_NOW};
    use cipherstage_transcript::rand::Seeded;

    #[test]
    fn a_mail_round_trips_and_every_flipped_byte_is_handled() {
        let pki = Pki::build(&mut Seeded::new(1)).unwrap();
        let bob = &pki.bob_mail;
        let l = Letter {
            from: crate::FROM,
            to: crate::TO,
            subject: "Hi",
            body: "secret lunch",
            time: SCENARIO_NOW,
        };
        for cipher in [Cipher::Aes256Cbc, Cipher::Aes256Gcm] {
            let entity = crate::text_part(l.body);
            let recips: [&[u8]; 2] = [&bob.der, &pki.alice_mail.der];
            let (mail, _) =
                encrypt_mail(&l, &entity, &recips, cipher, &mut Seeded::new(2)).unwrap();
            let u = open_mail(&mail, &bob.der, &bob.key.pkcs8);
            assert!(u.ok(), "{:?}", u.steps);
            assert_eq!(u.content(), entity);
            for i in 0..mail.len() {
                let mut m = mail.clone();
                m[i] ^= 1;
                let u = open_mail(&m, &bob.der, &bob.key.pkcs8);
                if cipher == Cipher::Aes256Gcm && u.ok() {
                    // GCM: what decrypts is exactly what was sent.
                    assert_eq!(u.content(), entity, "byte {i}");
                }
            }
            for n in 0..mail.len() {
                let _ = open_mail(&mail[..n], &bob.der, &bob.key.pkcs8);
            }
        }
    }
}
