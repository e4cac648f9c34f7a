//! Handshake messages and extensions (RFC 9846 §4): decode and encode.
//!
//! ```text
//! struct {
//!     HandshakeType msg_type;    /* handshake type */
//!     uint24 length;             /* remaining bytes in message */
//!     select (Handshake.msg_type) { ... };
//! } Handshake;
//! ```
//! Decoding rejects truncation and trailing bytes; unknown extensions are kept
//! as `Unknown` with their bytes so a message re-encodes exactly.

use crate::codec::{put_prefixed, put_u16, put_u24, DecodeError, Reader};
use crate::enums::{CipherSuite, ExtensionType, HandshakeType, NamedGroup, SignatureScheme};

/// `ServerHello.random` of a HelloRetryRequest (SHA-256 of "HelloRetryRequest").
pub const HRR_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// TLS 1.3 in supported_versions.
pub const TLS13: u16 = 0x0304;

/// Which message an extension block belongs to (their syntax differs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ctx {
    /// ClientHello.
    ClientHello,
    /// ServerHello.
    ServerHello,
    /// HelloRetryRequest.
    HelloRetryRequest,
    /// EncryptedExtensions.
    EncryptedExtensions,
    /// CertificateRequest.
    CertificateRequest,
    /// A CertificateEntry.
    Certificate,
    /// NewSessionTicket.
    NewSessionTicket,
}

/// One extension, decoded where this code needs its contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Extension {
    /// server_name: a host name (ClientHello) or empty (the server's acknowledgement).
    ServerName(Option<String>),
    /// supported_groups.
    SupportedGroups(Vec<NamedGroup>),
    /// signature_algorithms.
    SignatureAlgorithms(Vec<SignatureScheme>),
    /// key_share in ClientHello: the offered shares.
    KeyShareClient(Vec<(NamedGroup, Vec<u8>)>),
    /// key_share in ServerHello: the chosen share.
    KeyShareServer(NamedGroup, Vec<u8>),
    /// key_share in HelloRetryRequest: the group the server wants.
    KeyShareRetry(NamedGroup),
    /// supported_versions in ClientHello.
    VersionsClient(Vec<u16>),
    /// supported_versions in ServerHello.
    VersionSelected(u16),
    /// cookie (HelloRetryRequest, second ClientHello).
    Cookie(Vec<u8>),
    /// Anything else, kept as bytes.
    Other(ExtensionType, Vec<u8>),
}

impl Extension {
    /// Its type.
    pub fn ext_type(&self) -> ExtensionType {
        match self {
            Extension::ServerName(_) => ExtensionType::ServerName,
            Extension::SupportedGroups(_) => ExtensionType::SupportedGroups,
            Extension::SignatureAlgorithms(_) => ExtensionType::SignatureAlgorithms,
            Extension::KeyShareClient(_)
            | Extension::KeyShareServer(..)
            | Extension::KeyShareRetry(_) => ExtensionType::KeyShare,
            Extension::VersionsClient(_) | Extension::VersionSelected(_) => {
                ExtensionType::SupportedVersions
            }
            Extension::Cookie(_) => ExtensionType::Cookie,
            Extension::Other(t, _) => *t,
        }
    }

    fn decode(t: ExtensionType, r: &mut Reader, ctx: Ctx) -> Result<Extension, DecodeError> {
        use ExtensionType as T;
        let ext = match (t, ctx) {
            (T::ServerName, Ctx::ClientHello) => {
                let mut list = r.sub16()?;
                let kind = list.u8()?;
                let name = list.sub16()?.rest();
                list.expect_empty()?;
                // RFC 6066 §3: a host name is an ASCII DNS name; anything else is malformed.
                if kind != 0 || !name.is_ascii() {
                    return Err(list.invalid());
                }
                Extension::ServerName(Some(String::from_utf8_lossy(name).into_owned()))
            }
            (T::ServerName, Ctx::EncryptedExtensions) if r.left() == 0 => {
                Extension::ServerName(None)
            }
            (T::SupportedGroups, Ctx::ClientHello | Ctx::EncryptedExtensions) => {
                let mut list = r.sub16()?;
                let mut v = Vec::new();
                while list.left() > 0 {
                    v.push(NamedGroup::from(list.u16()?));
                }
                Extension::SupportedGroups(v)
            }
            (T::SignatureAlgorithms, Ctx::ClientHello | Ctx::CertificateRequest) => {
                let mut list = r.sub16()?;
                let mut v = Vec::new();
                while list.left() > 0 {
                    v.push(SignatureScheme::from(list.u16()?));
                }
                Extension::SignatureAlgorithms(v)
            }
            (T::KeyShare, Ctx::ClientHello) => {
                let mut list = r.sub16()?;
                let mut v = Vec::new();
                while list.left() > 0 {
                    let g = NamedGroup::from(list.u16()?);
                    let k = list.sub16()?.rest().to_vec();
                    v.push((g, k));
                }
                Extension::KeyShareClient(v)
            }
            (T::KeyShare, Ctx::ServerHello) => {
                let g = NamedGroup::from(r.u16()?);
                Extension::KeyShareServer(g, r.sub16()?.rest().to_vec())
            }
            (T::KeyShare, Ctx::HelloRetryRequest) => Extension::KeyShareRetry(r.u16()?.into()),
            (T::SupportedVersions, Ctx::ClientHello) => {
                let mut list = r.sub8()?;
                let mut v = Vec::new();
                while list.left() > 0 {
                    v.push(list.u16()?);
                }
                Extension::VersionsClient(v)
            }
            (T::SupportedVersions, Ctx::ServerHello | Ctx::HelloRetryRequest) => {
                Extension::VersionSelected(r.u16()?)
            }
            (T::Cookie, Ctx::ClientHello | Ctx::HelloRetryRequest) => {
                Extension::Cookie(r.sub16()?.rest().to_vec())
            }
            _ => Extension::Other(t, r.rest().to_vec()),
        };
        r.expect_empty()?;
        Ok(ext)
    }

    fn encode(&self, out: &mut Vec<u8>) {
        put_u16(out, self.ext_type().into());
        put_prefixed(out, 2, |out| match self {
            Extension::ServerName(Some(name)) => put_prefixed(out, 2, |out| {
                out.push(0);
                put_prefixed(out, 2, |out| out.extend_from_slice(name.as_bytes()));
            }),
            Extension::ServerName(None) => {}
            Extension::SupportedGroups(v) => put_prefixed(out, 2, |out| {
                v.iter().for_each(|g| put_u16(out, (*g).into()))
            }),
            Extension::SignatureAlgorithms(v) => put_prefixed(out, 2, |out| {
                v.iter().for_each(|s| put_u16(out, (*s).into()))
            }),
            Extension::KeyShareClient(v) => put_prefixed(out, 2, |out| {
                for (g, k) in v {
                    put_u16(out, (*g).into());
                    put_prefixed(out, 2, |out| out.extend_from_slice(k));
                }
            }),
            Extension::KeyShareServer(g, k) => {
                put_u16(out, (*g).into());
                put_prefixed(out, 2, |out| out.extend_from_slice(k));
            }
            Extension::KeyShareRetry(g) => put_u16(out, (*g).into()),
            Extension::VersionsClient(v) => {
                put_prefixed(out, 1, |out| v.iter().for_each(|x| put_u16(out, *x)))
            }
            Extension::VersionSelected(v) => put_u16(out, *v),
            Extension::Cookie(c) => put_prefixed(out, 2, |out| out.extend_from_slice(c)),
            Extension::Other(_, b) => out.extend_from_slice(b),
        });
    }
}

fn decode_extensions(r: &mut Reader, ctx: Ctx) -> Result<Vec<Extension>, DecodeError> {
    let mut list = r.sub16()?;
    let mut out: Vec<Extension> = Vec::new();
    while list.left() > 0 {
        let t = ExtensionType::from(list.u16()?);
        let mut body = list.sub16()?;
        if out.iter().any(|e| e.ext_type() == t) {
            return Err(body.invalid());
        }
        out.push(Extension::decode(t, &mut body, ctx)?);
    }
    Ok(out)
}

fn encode_extensions(out: &mut Vec<u8>, exts: &[Extension]) {
    put_prefixed(out, 2, |out| exts.iter().for_each(|e| e.encode(out)));
}

/// ClientHello (RFC 9846 §4.2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHello {
    /// 32 random bytes.
    pub random: [u8; 32],
    /// legacy_session_id (echoed by the server).
    pub session_id: Vec<u8>,
    /// Offered suites, preferred first.
    pub suites: Vec<CipherSuite>,
    /// legacy_compression_methods (must be `[0]`).
    pub compression: Vec<u8>,
    /// Extensions in order.
    pub extensions: Vec<Extension>,
}

/// ServerHello or HelloRetryRequest (RFC 9846 §4.2.3, §4.2.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerHello {
    /// 32 random bytes, or [`HRR_RANDOM`].
    pub random: [u8; 32],
    /// legacy_session_id_echo.
    pub session_id: Vec<u8>,
    /// The chosen suite.
    pub suite: CipherSuite,
    /// Extensions in order.
    pub extensions: Vec<Extension>,
}

impl ServerHello {
    /// Whether this is a HelloRetryRequest.
    pub fn is_retry(&self) -> bool {
        self.random == HRR_RANDOM
    }
}

/// One certificate of a Certificate message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateEntry {
    /// DER.
    pub der: Vec<u8>,
    /// Per-certificate extensions.
    pub extensions: Vec<Extension>,
}

/// A handshake message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handshake {
    /// ClientHello.
    ClientHello(ClientHello),
    /// ServerHello (or HelloRetryRequest, see [`ServerHello::is_retry`]).
    ServerHello(ServerHello),
    /// EncryptedExtensions.
    EncryptedExtensions(Vec<Extension>),
    /// CertificateRequest.
    CertificateRequest {
        /// certificate_request_context.
        context: Vec<u8>,
        /// Extensions (signature_algorithms is required).
        extensions: Vec<Extension>,
    },
    /// Certificate.
    Certificate {
        /// certificate_request_context.
        context: Vec<u8>,
        /// Leaf first.
        entries: Vec<CertificateEntry>,
    },
    /// CertificateVerify.
    CertificateVerify {
        /// The scheme used.
        scheme: SignatureScheme,
        /// The signature.
        signature: Vec<u8>,
    },
    /// Finished: verify_data.
    Finished(Vec<u8>),
    /// NewSessionTicket.
    NewSessionTicket {
        /// ticket_lifetime in seconds.
        lifetime: u32,
        /// ticket_age_add.
        age_add: u32,
        /// ticket_nonce.
        nonce: Vec<u8>,
        /// The opaque ticket.
        ticket: Vec<u8>,
        /// Extensions.
        extensions: Vec<Extension>,
    },
    /// KeyUpdate.
    KeyUpdate(u8),
    /// Any other type, kept as bytes.
    Other(HandshakeType, Vec<u8>),
}

impl Handshake {
    /// Its type.
    pub fn typ(&self) -> HandshakeType {
        match self {
            Handshake::ClientHello(_) => HandshakeType::ClientHello,
            Handshake::ServerHello(_) => HandshakeType::ServerHello,
            Handshake::EncryptedExtensions(_) => HandshakeType::EncryptedExtensions,
            Handshake::CertificateRequest { .. } => HandshakeType::CertificateRequest,
            Handshake::Certificate { .. } => HandshakeType::Certificate,
            Handshake::CertificateVerify { .. } => HandshakeType::CertificateVerify,
            Handshake::Finished(_) => HandshakeType::Finished,
            Handshake::NewSessionTicket { .. } => HandshakeType::NewSessionTicket,
            Handshake::KeyUpdate(_) => HandshakeType::KeyUpdate,
            Handshake::Other(t, _) => *t,
        }
    }

    /// Decodes one whole message (header included); no bytes may be left.
    pub fn decode(bytes: &[u8]) -> Result<Handshake, DecodeError> {
        let mut r = Reader::new(bytes);
        let t = HandshakeType::from(r.u8()?);
        let mut b = r.sub24()?;
        r.expect_empty()?;
        let msg = match t {
            HandshakeType::ClientHello => {
                if b.u16()? != 0x0303 {
                    return Err(b.invalid());
                }
                let random = to32(b.take(32)?);
                let session_id = b.sub8()?.rest().to_vec();
                let mut s = b.sub16()?;
                let mut suites = Vec::new();
                while s.left() > 0 {
                    suites.push(CipherSuite::from(s.u16()?));
                }
                let compression = b.sub8()?.rest().to_vec();
                let extensions = decode_extensions(&mut b, Ctx::ClientHello)?;
                Handshake::ClientHello(ClientHello {
                    random,
                    session_id,
                    suites,
                    compression,
                    extensions,
                })
            }
            HandshakeType::ServerHello => {
                if b.u16()? != 0x0303 {
                    return Err(b.invalid());
                }
                let random = to32(b.take(32)?);
                let session_id = b.sub8()?.rest().to_vec();
                let suite = CipherSuite::from(b.u16()?);
                if b.u8()? != 0 {
                    return Err(b.invalid());
                }
                let ctx = if random == HRR_RANDOM {
                    Ctx::HelloRetryRequest
                } else {
                    Ctx::ServerHello
                };
                let extensions = decode_extensions(&mut b, ctx)?;
                Handshake::ServerHello(ServerHello {
                    random,
                    session_id,
                    suite,
                    extensions,
                })
            }
            HandshakeType::EncryptedExtensions => {
                Handshake::EncryptedExtensions(decode_extensions(&mut b, Ctx::EncryptedExtensions)?)
            }
            HandshakeType::CertificateRequest => Handshake::CertificateRequest {
                context: b.sub8()?.rest().to_vec(),
                extensions: decode_extensions(&mut b, Ctx::CertificateRequest)?,
            },
            HandshakeType::Certificate => {
                let context = b.sub8()?.rest().to_vec();
                let mut list = b.sub24()?;
                let mut entries = Vec::new();
                while list.left() > 0 {
                    let der = list.sub24()?.rest().to_vec();
                    if der.is_empty() {
                        return Err(list.invalid());
                    }
                    let extensions = decode_extensions(&mut list, Ctx::Certificate)?;
                    entries.push(CertificateEntry { der, extensions });
                }
                Handshake::Certificate { context, entries }
            }
            HandshakeType::CertificateVerify => Handshake::CertificateVerify {
                scheme: b.u16()?.into(),
                signature: b.sub16()?.rest().to_vec(),
            },
            HandshakeType::Finished => Handshake::Finished(b.rest().to_vec()),
            HandshakeType::NewSessionTicket => Handshake::NewSessionTicket {
                lifetime: b.u32()?,
                age_add: b.u32()?,
                nonce: b.sub8()?.rest().to_vec(),
                ticket: b.sub16()?.rest().to_vec(),
                extensions: decode_extensions(&mut b, Ctx::NewSessionTicket)?,
            },
            HandshakeType::KeyUpdate => Handshake::KeyUpdate(b.u8()?),
            other => Handshake::Other(other, b.rest().to_vec()),
        };
        b.expect_empty()?;
        Ok(msg)
    }

    /// Encodes the whole message, header included.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![u8::from(self.typ())];
        put_prefixed(&mut out, 3, |out| match self {
            Handshake::ClientHello(ch) => {
                put_u16(out, 0x0303);
                out.extend_from_slice(&ch.random);
                put_prefixed(out, 1, |out| out.extend_from_slice(&ch.session_id));
                put_prefixed(out, 2, |out| {
                    ch.suites.iter().for_each(|s| put_u16(out, (*s).into()))
                });
                put_prefixed(out, 1, |out| out.extend_from_slice(&ch.compression));
                encode_extensions(out, &ch.extensions);
            }
            Handshake::ServerHello(sh) => {
                put_u16(out, 0x0303);
                out.extend_from_slice(&sh.random);
                put_prefixed(out, 1, |out| out.extend_from_slice(&sh.session_id));
                put_u16(out, sh.suite.into());
                out.push(0);
                encode_extensions(out, &sh.extensions);
            }
            Handshake::EncryptedExtensions(e) => encode_extensions(out, e),
            Handshake::CertificateRequest {
                context,
                extensions,
            } => {
                put_prefixed(out, 1, |out| out.extend_from_slice(context));
                encode_extensions(out, extensions);
            }
            Handshake::Certificate { context, entries } => {
                put_prefixed(out, 1, |out| out.extend_from_slice(context));
                put_prefixed(out, 3, |out| {
                    for e in entries {
                        put_prefixed(out, 3, |out| out.extend_from_slice(&e.der));
                        encode_extensions(out, &e.extensions);
                    }
                });
            }
            Handshake::CertificateVerify { scheme, signature } => {
                put_u16(out, (*scheme).into());
                put_prefixed(out, 2, |out| out.extend_from_slice(signature));
            }
            Handshake::Finished(v) => out.extend_from_slice(v),
            Handshake::NewSessionTicket {
                lifetime,
                age_add,
                nonce,
                ticket,
                extensions,
            } => {
                out.extend_from_slice(&lifetime.to_be_bytes());
                out.extend_from_slice(&age_add.to_be_bytes());
                put_prefixed(out, 1, |out| out.extend_from_slice(nonce));
                put_prefixed(out, 2, |out| out.extend_from_slice(ticket));
                encode_extensions(out, extensions);
            }
            Handshake::KeyUpdate(v) => out.push(*v),
            Handshake::Other(_, b) => out.extend_from_slice(b),
        });
        out
    }
}

fn to32(b: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (o, i) in out.iter_mut().zip(b) {
        *o = *i;
    }
    out
}

/// Splits the next whole handshake message off `buf`, if it is complete.
pub fn next_message(buf: &[u8]) -> Option<usize> {
    let len = buf
        .get(1..4)?
        .iter()
        .fold(0usize, |a, x| (a << 8) | *x as usize);
    (buf.len() >= 4 + len).then_some(4 + len)
}

/// The `message_hash` message that replaces ClientHello1 after a HelloRetryRequest.
pub fn message_hash(hash: &[u8]) -> Vec<u8> {
    let mut out = vec![u8::from(HandshakeType::MessageHash)];
    put_u24(&mut out, hash.len());
    out.extend_from_slice(hash);
    out
}

/// Finds an extension.
pub fn find(exts: &[Extension], t: ExtensionType) -> Option<&Extension> {
    exts.iter().find(|e| e.ext_type() == t)
}
