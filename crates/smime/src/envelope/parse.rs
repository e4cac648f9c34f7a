//! Reading EnvelopedData and AuthEnvelopedData: a bounded reader that knows each
//! element's offset, so every fault is a [`DecodeError`] saying what and where.

use crate::crypto::KdfHash;

use crate::cms::OID_DATA;

use super::{
    Cipher, OID_AES256_CBC, OID_AES256_GCM, OID_AES256_WRAP, OID_AUTH_ENVELOPED_DATA,
    OID_ECDH_SHA1KDF, OID_ECDH_SHA256KDF, OID_EC_PUBLIC_KEY, OID_ENVELOPED_DATA, OID_P256,
};

/// What kind of fault made a CMS structure unreadable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeKind {
    /// A tag or length does not parse, or a length runs past the end.
    Der,
    /// An element has another tag than the structure requires there.
    Tag,
    /// Bytes follow where the structure has ended.
    Trailing,
    /// The ContentInfo holds neither EnvelopedData nor AuthEnvelopedData.
    ContentType,
    /// A version this structure cannot have.
    Version,
    /// An algorithm (or parameter) this reader does not implement.
    Algorithm,
    /// A value of the wrong size (an IV, a key, a point).
    Value,
}

/// Where and why a CMS structure does not decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeError {
    /// What went wrong.
    pub kind: DecodeKind,
    /// Byte offset of the element at fault, from the start of the ContentInfo.
    pub offset: usize,
}

fn fault(kind: DecodeKind, offset: usize) -> DecodeError {
    DecodeError { kind, offset }
}

/// A bounded reader over DER contents that knows its absolute offset.
#[derive(Debug, Clone, Copy)]
struct Rd<'a> {
    data: &'a [u8],
    at: usize,
}

/// One element as read.
#[derive(Debug, Clone, Copy)]
struct Tl<'a> {
    tag: u8,
    at: usize,
    body: &'a [u8],
    body_at: usize,
}

impl<'a> Tl<'a> {
    fn inner(&self) -> Rd<'a> {
        Rd {
            data: self.body,
            at: self.body_at,
        }
    }
}

impl<'a> Rd<'a> {
    fn next(&mut self) -> Result<Tl<'a>, DecodeError> {
        let t = cipherstage_pki::der::tlv(self.data)
            .map_err(|e| fault(DecodeKind::Der, self.at + e.offset))?;
        let (all, rest) = self
            .data
            .split_at_checked(t.total())
            .ok_or(fault(DecodeKind::Der, self.at))?;
        let el = Tl {
            tag: t.tag,
            at: self.at,
            body: all.get(t.header..).unwrap_or_default(),
            body_at: self.at + t.header,
        };
        self.data = rest;
        self.at += t.total();
        Ok(el)
    }

    fn expect(&mut self, tag: u8) -> Result<Tl<'a>, DecodeError> {
        match self.data.first() {
            Some(t) if *t == tag => self.next(),
            Some(_) => Err(fault(DecodeKind::Tag, self.at)),
            None => Err(fault(DecodeKind::Der, self.at)),
        }
    }

    fn opt(&mut self, tag: u8) -> Result<Option<Tl<'a>>, DecodeError> {
        if self.data.first() == Some(&tag) {
            self.next().map(Some)
        } else {
            Ok(None)
        }
    }

    fn end(&self) -> Result<(), DecodeError> {
        if self.data.is_empty() {
            Ok(())
        } else {
            Err(fault(DecodeKind::Trailing, self.at))
        }
    }
}

/// One recipient's wrapped key inside a KeyAgreeRecipientInfo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptedKey<'a> {
    /// The rid's issuer Name (the whole element).
    pub issuer: &'a [u8],
    /// The rid's serialNumber (the whole INTEGER element).
    pub serial: &'a [u8],
    /// The wrapped content-encryption key.
    pub key: &'a [u8],
}

/// A KeyAgreeRecipientInfo as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyAgree<'a> {
    /// The originator's ephemeral public point (the BIT STRING's key bits).
    pub originator: &'a [u8],
    /// The user keying material, if any.
    pub ukm: Option<&'a [u8]>,
    /// The KDF's hash, from the key-agreement scheme.
    pub kdf: KdfHash,
    /// The recipients' wrapped keys.
    pub keys: Vec<EncryptedKey<'a>>,
}

/// An EnvelopedData or AuthEnvelopedData as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope<'a> {
    /// The content cipher (CBC for EnvelopedData, GCM for AuthEnvelopedData).
    pub cipher: Cipher,
    /// Every KeyAgreeRecipientInfo, in order (other kinds of RecipientInfo are skipped).
    pub recipients: Vec<KeyAgree<'a>>,
    /// The encrypted content's type OID.
    pub content_type: &'a [u8],
    /// The IV or nonce.
    pub iv: &'a [u8],
    /// The encrypted content.
    pub ciphertext: &'a [u8],
    /// The authAttrs' contents, if present (AuthEnvelopedData).
    pub auth_attrs: Option<&'a [u8]>,
    /// The MAC (the GCM tag); empty for EnvelopedData.
    pub mac: &'a [u8],
}

/// The OID of an AlgorithmIdentifier and a reader over its parameters.
fn algorithm<'a>(el: Tl<'a>) -> Result<(&'a [u8], Rd<'a>, usize), DecodeError> {
    let mut it = el.inner();
    let oid = it.expect(0x06)?;
    Ok((oid.body, it, oid.at))
}

fn key_agree<'a>(kari: Tl<'a>) -> Result<KeyAgree<'a>, DecodeError> {
    let mut it = kari.inner();
    let v = it.expect(0x02)?;
    if v.body != [3] {
        return Err(fault(DecodeKind::Version, v.at));
    }
    let orig = it.expect(0xa0)?;
    let mut o = orig.inner();
    // Only originatorKey: RFC 5753 §3.1.1 requires it for ephemeral-static ECDH.
    let key = o.expect(0xa1)?;
    o.end()?;
    let mut k = key.inner();
    let (oid, mut params, oid_at) = algorithm(k.expect(0x30)?)?;
    if oid != OID_EC_PUBLIC_KEY {
        return Err(fault(DecodeKind::Algorithm, oid_at));
    }
    // Parameters absent, NULL or the P-256 OID (RFC 5753 §3.1.1).
    if let Some(p) = params.opt(0x06)? {
        if p.body != OID_P256 {
            return Err(fault(DecodeKind::Algorithm, p.at));
        }
    } else {
        params.opt(0x05)?;
    }
    params.end()?;
    let bits = k.expect(0x03)?;
    k.end()?;
    let originator = match bits.body.split_first() {
        Some((0, point)) if point.len() == 65 => point,
        _ => return Err(fault(DecodeKind::Value, bits.at)),
    };
    let ukm = match it.opt(0xa1)? {
        Some(u) => {
            let mut ui = u.inner();
            let o = ui.expect(0x04)?;
            ui.end()?;
            Some(o.body)
        }
        None => None,
    };
    let kea = it.expect(0x30)?;
    let (oid, mut params, oid_at) = algorithm(kea)?;
    let kdf = match oid {
        OID_ECDH_SHA256KDF => KdfHash::Sha256,
        OID_ECDH_SHA1KDF => KdfHash::Sha1,
        _ => return Err(fault(DecodeKind::Algorithm, oid_at)),
    };
    let (wrap, wp, wrap_at) = algorithm(params.expect(0x30)?)?;
    if wrap != OID_AES256_WRAP {
        return Err(fault(DecodeKind::Algorithm, wrap_at));
    }
    wp.end()?;
    params.end()?;
    let reks = it.expect(0x30)?;
    it.end()?;
    let mut r = reks.inner();
    let mut keys = Vec::new();
    while !r.data.is_empty() {
        let rek = r.expect(0x30)?;
        let mut e = rek.inner();
        // rKeyId [0] is legal CMS; this reader names recipients by issuer and serial.
        let rid = e.expect(0x30)?;
        let mut ri = rid.inner();
        let issuer = ri.expect(0x30)?;
        let serial = ri.expect(0x02)?;
        ri.end()?;
        let key = e.expect(0x04)?;
        e.end()?;
        keys.push(EncryptedKey {
            issuer: whole(kari, issuer),
            serial: whole(kari, serial),
            key: key.body,
        });
    }
    Ok(KeyAgree {
        originator,
        ukm,
        kdf,
        keys,
    })
}

/// The whole element `el` (header included), which lies inside `outer`.
fn whole<'a>(outer: Tl<'a>, el: Tl<'a>) -> &'a [u8] {
    let start = el.at.saturating_sub(outer.body_at);
    let end = el.body_at.saturating_sub(outer.body_at) + el.body.len();
    outer.body.get(start..end).unwrap_or_default()
}

/// Reads a ContentInfo holding an EnvelopedData or an AuthEnvelopedData.
pub fn parse(der: &[u8]) -> Result<Envelope<'_>, DecodeError> {
    let mut top = Rd { data: der, at: 0 };
    let ci = top.expect(0x30)?;
    top.end()?;
    let mut it = ci.inner();
    let ct = it.expect(0x06)?;
    let auth = match ct.body {
        OID_ENVELOPED_DATA => false,
        OID_AUTH_ENVELOPED_DATA => true,
        _ => return Err(fault(DecodeKind::ContentType, ct.at)),
    };
    let explicit = it.expect(0xa0)?;
    it.end()?;
    let mut outer = explicit.inner();
    let ed = outer.expect(0x30)?;
    outer.end()?;
    let mut e = ed.inner();
    let v = e.expect(0x02)?;
    if auth && v.body != [0] {
        return Err(fault(DecodeKind::Version, v.at));
    }
    let originator_info = e.opt(0xa0)?.is_some();
    let ris = e.expect(0x31)?;
    let mut r = ris.inner();
    let mut recipients = Vec::new();
    // What RFC 5652 §6.1 derives the version from.
    let (mut all_v0, mut pwri_or_ori) = (true, false);
    while !r.data.is_empty() {
        let ri = r.next()?;
        match ri.tag {
            0xa1 => recipients.push(key_agree(ri)?),
            0x30 => all_v0 &= ri.body.starts_with(&[0x02, 0x01, 0x00]),
            0xa3 | 0xa4 => pwri_or_ori = true,
            _ => {}
        }
        all_v0 &= ri.tag == 0x30;
    }
    let eci = e.expect(0x30)?;
    let mut c = eci.inner();
    let ct_el = c.expect(0x06)?;
    let (content_type, content_type_at) = (ct_el.body, ct_el.at);
    let (oid, mut params, oid_at) = algorithm(c.expect(0x30)?)?;
    let (cipher, iv) = match (oid, auth) {
        (OID_AES256_CBC, false) => {
            let iv = params.expect(0x04)?;
            (Cipher::Aes256Cbc, iv)
        }
        (OID_AES256_GCM, true) => {
            let gp = params.expect(0x30)?;
            let mut g = gp.inner();
            let nonce = g.expect(0x04)?;
            // icvLen DEFAULT 12: ring's GCM makes and checks 16-byte tags only.
            let icv = g.expect(0x02)?;
            if icv.body != [16] {
                return Err(fault(DecodeKind::Algorithm, icv.at));
            }
            g.end()?;
            (Cipher::Aes256Gcm, nonce)
        }
        _ => return Err(fault(DecodeKind::Algorithm, oid_at)),
    };
    params.end()?;
    if iv.body.len() != cipher.iv_len() {
        return Err(fault(DecodeKind::Value, iv.at));
    }
    let content = c.expect(0x80)?;
    c.end()?;
    let mut auth_attrs = None;
    let mut mac: &[u8] = &[];
    if auth {
        auth_attrs = e.opt(0xa1)?.map(|a| a.body);
        let m = e.expect(0x04)?;
        if m.body.len() != 16 {
            return Err(fault(DecodeKind::Value, m.at));
        }
        mac = m.body;
        e.opt(0xa2)?;
    } else {
        let unprotected = e.opt(0xa1)?.is_some();
        let want: &[u8] = if pwri_or_ori {
            &[3]
        } else if !originator_info && !unprotected && all_v0 {
            &[0]
        } else {
            &[2]
        };
        // With originatorInfo, other certificate formats make it 3 or 4.
        let ok = v.body == want || (originator_info && matches!(v.body, [3] | [4]));
        if !ok {
            return Err(fault(DecodeKind::Version, v.at));
        }
    }
    e.end()?;
    if content_type != OID_DATA {
        // S/MIME encrypts a MIME entity: id-data (RFC 8551 §3.3).
        return Err(fault(DecodeKind::ContentType, content_type_at));
    }
    Ok(Envelope {
        cipher,
        recipients,
        content_type,
        iv: iv.body,
        ciphertext: content.body,
        auth_attrs,
        mac,
    })
}
