//! What client and server share: the record layer, the transcript, key-schedule
//! steps that record secrets, alerts, and the transcript events of one side.

use cipherstage_transcript::rand::{fixed, RandomSource};
use cipherstage_transcript::{
    ActorId, Alert, Check, Event, FailReason, Field, Formula, FormulaInput, Narration, Outcome,
    Secret,
};
use ring::agreement;

use crate::annotate;
use crate::enums::{AlertDescription, AlertLevel, ContentType, HandshakeType, NamedGroup};
use crate::keys::{Hash, RecordKey, Suite};
use crate::msgs::{next_message, Handshake};
use crate::record;

/// A fatal error this side detected; the alert has been sent and recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Error {
    /// The alert RFC 9846 §6 prescribes for it.
    pub alert: AlertDescription,
}

impl Error {
    pub(crate) fn new(alert: AlertDescription) -> Error {
        Error { alert }
    }
}

pub(crate) fn err<T>(alert: AlertDescription) -> Result<T, Error> {
    Err(Error { alert })
}

/// One record this side puts on the wire, with what each byte means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// Key of the message label (`tls.msg.client_hello`).
    pub label: String,
    /// The whole record.
    pub bytes: Vec<u8>,
    /// Its field tree.
    pub fields: Vec<Field>,
}

/// The shared state of one end of a connection.
pub(crate) struct Common {
    pub actor: ActorId,
    pub rng: Box<dyn RandomSource>,
    pub events: Vec<Event>,
    pub out: Vec<Outgoing>,
    /// Records received, annotated as far as this side could read them.
    pub received: Vec<Outgoing>,
    pub suite: Option<Suite>,
    pub read: Option<RecordKey>,
    pub write: Option<RecordKey>,
    pub transcript: Vec<u8>,
    rx: Vec<u8>,
    hs: Vec<u8>,
    pub app: Vec<u8>,
    pending: Vec<u8>,
    pub coalesce: bool,
    pub closed: bool,
    pub close_sent: bool,
    pub peer_closed: bool,
    pub peer_alert: Option<AlertDescription>,
    pub connected: bool,
    /// The exporter master secret (RFC 9846 §7.5), once the server Finished is known.
    pub exporter: Vec<u8>,
}

/// The part of a side that reacts to handshake messages.
pub(crate) trait Handler {
    fn common(&mut self) -> &mut Common;
    fn handle(&mut self, msg: Handshake, raw: &[u8]) -> Result<(), Error>;
}

/// Feeds bytes from the peer; on a fatal error the alert is sent before returning.
pub(crate) fn receive<H: Handler>(h: &mut H, data: &[u8]) -> Result<(), Error> {
    let r = receive_records(h, data);
    let c = h.common();
    if let Err(e) = r {
        if !c.closed {
            c.fail(e.alert);
        }
    }
    r
}

const MAX_CIPHERTEXT: usize = 16384 + 256;

fn receive_records<H: Handler>(h: &mut H, data: &[u8]) -> Result<(), Error> {
    if h.common().closed {
        return Ok(());
    }
    h.common().rx.extend_from_slice(data);
    loop {
        let c = h.common();
        if c.closed {
            return Ok(());
        }
        let Some(header) = record::Header::parse(&c.rx) else {
            return Ok(());
        };
        if usize::from(header.length) > MAX_CIPHERTEXT {
            return err(AlertDescription::RecordOverflow);
        }
        if c.rx.len() < header.record_len() {
            return Ok(());
        }
        let record: Vec<u8> = c.rx.drain(..header.record_len()).collect();
        record_in(h, &record)?;
    }
}

fn record_in<H: Handler>(h: &mut H, record: &[u8]) -> Result<(), Error> {
    // `receive_records` hands over whole records only.
    let Some(header) = record::Header::parse(record) else {
        return err(AlertDescription::DecodeError);
    };
    let typ = header.content_type;
    let payload = record.get(record::field::FRAGMENT).unwrap_or_default();
    let c = h.common();
    if typ != ContentType::ApplicationData || c.read.is_none() {
        c.received.push(Outgoing {
            label: label_for(typ, payload),
            bytes: record.to_vec(),
            fields: annotate::plaintext_record(record),
        });
    }
    match typ {
        // Middlebox-compatibility ChangeCipherSpec: ignored during the handshake.
        ContentType::ChangeCipherSpec if payload == [1] && !c.connected => Ok(()),
        // A peer that could not process our ServerHello has no keys: its alert
        // comes in the clear, which we accept until it has sent us a protected record.
        ContentType::Alert if c.read.as_ref().is_none_or(|k| k.seq == 0) && !c.connected => {
            c.alert_in(payload)
        }
        ContentType::Handshake if c.read.is_none() => {
            c.hs.extend_from_slice(payload);
            handshake_in(h)
        }
        ContentType::ApplicationData if c.read.is_some() => {
            let inner = c.read.as_mut().and_then(|k| k.open(record));
            let Some(mut inner) = inner else {
                c.received.push(Outgoing {
                    label: "tls.msg.record".into(),
                    bytes: record.to_vec(),
                    fields: annotate::encrypted_record(record, &[]),
                });
                c.check("tls.check.record_mac", Some(FailReason::TagMismatch));
                return err(AlertDescription::BadRecordMac);
            };
            {
                let zeros = inner.iter().rev().take_while(|x| **x == 0).count();
                let content_len = inner.len().saturating_sub(zeros + 1);
                let t = ContentType::from(inner.get(content_len).copied().unwrap_or(0));
                c.received.push(Outgoing {
                    label: label_for(t, inner.get(..content_len).unwrap_or_default()),
                    bytes: record.to_vec(),
                    fields: annotate::encrypted_record(record, &inner),
                });
            }
            while inner.last() == Some(&0) {
                inner.pop();
            }
            let Some(t) = inner.pop() else {
                return err(AlertDescription::UnexpectedMessage);
            };
            match ContentType::from(t) {
                ContentType::Handshake if !inner.is_empty() => {
                    c.hs.extend_from_slice(&inner);
                    handshake_in(h)
                }
                ContentType::Alert => c.alert_in(&inner),
                ContentType::ApplicationData if c.connected => {
                    c.app.extend_from_slice(&inner);
                    Ok(())
                }
                _ => err(AlertDescription::UnexpectedMessage),
            }
        }
        _ => err(AlertDescription::UnexpectedMessage),
    }
}

/// Largest handshake message accepted (a certificate chain fits many times over);
/// bounds the reassembly buffer a peer can make us hold.
const MAX_HANDSHAKE: usize = 0xffff;

fn handshake_in<H: Handler>(h: &mut H) -> Result<(), Error> {
    loop {
        let hs = &h.common().hs;
        let declared = hs
            .get(1..4)
            .map(|l| l.iter().fold(0usize, |a, x| (a << 8) | *x as usize));
        if declared.is_some_and(|n| n > MAX_HANDSHAKE) {
            return err(AlertDescription::DecodeError);
        }
        let Some(n) = next_message(hs) else {
            return Ok(());
        };
        let raw: Vec<u8> = h.common().hs.drain(..n).collect();
        let msg = match Handshake::decode(&raw) {
            Ok(m) => m,
            Err(_) => {
                h.common()
                    .check("tls.check.decode", Some(FailReason::Malformed));
                return err(AlertDescription::DecodeError);
            }
        };
        h.handle(msg, &raw)?;
        if h.common().closed {
            return Ok(());
        }
    }
}

impl Common {
    /// Seals application data in records of at most 2^14 bytes (after the handshake).
    pub(crate) fn send_app_data(&mut self, data: &[u8]) -> Result<(), Error> {
        if !self.connected || self.closed || self.close_sent {
            return err(AlertDescription::InternalError);
        }
        for chunk in data.chunks(16384) {
            self.seal(ContentType::ApplicationData, chunk);
        }
        Ok(())
    }

    /// Sends close_notify once.
    pub(crate) fn close(&mut self) {
        if !self.closed && !self.close_sent {
            self.send_alert(AlertLevel::Warning, AlertDescription::CloseNotify);
            self.close_sent = true;
        }
    }

    pub fn new(actor: ActorId, rng: Box<dyn RandomSource>, coalesce: bool) -> Common {
        Common {
            actor,
            rng,
            events: Vec::new(),
            out: Vec::new(),
            received: Vec::new(),
            suite: None,
            read: None,
            write: None,
            transcript: Vec::new(),
            rx: Vec::new(),
            hs: Vec::new(),
            app: Vec::new(),
            pending: Vec::new(),
            coalesce,
            closed: false,
            close_sent: false,
            peer_closed: false,
            peer_alert: None,
            connected: false,
            exporter: Vec::new(),
        }
    }

    pub fn hash(&self) -> Hash {
        self.suite.map(|s| s.hash).unwrap_or(Hash::Sha256)
    }

    pub fn transcript_hash(&self) -> Vec<u8> {
        self.hash().digest(&self.transcript)
    }

    pub fn narrate(&mut self, key: &str, args: &[(&str, &str)]) {
        self.events.push(Event::Narration(Narration {
            key: key.to_owned(),
            args: args
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }));
    }

    /// Records a check: `None` passed, `Some(reason)` failed.
    pub fn check(&mut self, what: &str, failed: Option<FailReason>) {
        self.events.push(Event::Check(Check {
            actor: self.actor,
            what: what.to_owned(),
            outcome: match failed {
                None => Outcome::Passed,
                Some(r) => Outcome::Failed(r),
            },
        }));
    }

    pub fn secret(&mut self, name: &str, bytes: &[u8], formula: &str, inputs: &[(&str, &[u8])]) {
        self.events.push(Event::Secret(Secret {
            owner: self.actor,
            name: format!("tls.secret.{name}"),
            bytes: bytes.to_vec(),
            formula: Formula {
                key: format!("tls.formula.{formula}"),
                inputs: inputs
                    .iter()
                    .map(|(n, b)| FormulaInput {
                        name: format!("tls.input.{n}"),
                        bytes: b.to_vec(),
                    })
                    .collect(),
            },
        }));
    }

    pub fn random(&mut self, name: &str, n: usize) -> Result<Vec<u8>, Error> {
        let mut out = vec![0u8; n];
        self.rng
            .fill(&mut out)
            .map_err(|_| Error::new(AlertDescription::InternalError))?;
        self.secret(name, &out, "random", &[]);
        Ok(out)
    }

    /// HKDF-Extract, recorded.
    pub fn extract(&mut self, name: &str, salt: &[u8], ikm: &[u8], ikm_name: &str) -> Vec<u8> {
        let out = self.hash().extract(salt, ikm);
        self.secret(
            name,
            &out,
            "hkdf_extract",
            &[("salt", salt), (ikm_name, ikm)],
        );
        out
    }

    /// Derive-Secret, recorded with its label and transcript hash.
    pub fn derive(&mut self, name: &str, secret: &[u8], label: &str, th: &[u8]) -> Vec<u8> {
        let out = self.hash().derive_secret(secret, label.as_bytes(), th);
        self.secret(
            name,
            &out,
            "derive_secret",
            &[
                ("secret", secret),
                ("label", label.as_bytes()),
                ("transcript_hash", th),
            ],
        );
        out
    }

    /// HKDF-Expand-Label with an empty context, recorded.
    pub fn expand(&mut self, name: &str, secret: &[u8], label: &str, len: usize) -> Vec<u8> {
        let out = self.hash().expand_label(secret, label.as_bytes(), &[], len);
        self.secret(
            name,
            &out,
            "hkdf_expand_label",
            &[("secret", secret), ("label", label.as_bytes())],
        );
        out
    }

    /// The record protection for traffic secret `secret`; records key and IV as `prefix_key`, `prefix_iv`.
    pub fn traffic_key(&mut self, prefix: &str, secret: &[u8]) -> Result<RecordKey, Error> {
        let suite = self
            .suite
            .ok_or(Error::new(AlertDescription::InternalError))?;
        let key = self.expand(&format!("{prefix}_key"), secret, "key", suite.key_len());
        let iv = self.expand(&format!("{prefix}_iv"), secret, "iv", 12);
        RecordKey::new(&suite, &key, &iv).ok_or(Error::new(AlertDescription::InternalError))
    }

    /// A fresh ephemeral key for `group`: (private key, public key).
    pub fn key_share(&mut self, group: NamedGroup) -> Result<(Share, Vec<u8>), Error> {
        let alg = agreement_alg(group).ok_or(Error::new(AlertDescription::InternalError))?;
        let seed = self.random(&format!("{}_private_key", group.as_str()), 32)?;
        let key = agreement::EphemeralPrivateKey::generate(alg, &fixed(&seed))
            .map_err(|_| Error::new(AlertDescription::InternalError))?;
        let public = key
            .compute_public_key()
            .map_err(|_| Error::new(AlertDescription::InternalError))?
            .as_ref()
            .to_vec();
        Ok((Share { key, seed }, public))
    }

    /// (EC)DHE with the peer's share; a bad point is illegal_parameter.
    pub fn agree(
        &mut self,
        group: NamedGroup,
        private: Share,
        peer: &[u8],
    ) -> Result<Vec<u8>, Error> {
        let alg = agreement_alg(group).ok_or(Error::new(AlertDescription::IllegalParameter))?;
        let Share { key, seed } = private;
        let shared =
            agreement::agree_ephemeral(key, &agreement::UnparsedPublicKey::new(alg, peer), |s| {
                s.to_vec()
            })
            .map_err(|_| Error::new(AlertDescription::IllegalParameter))?;
        let formula = if group == NamedGroup::X25519 {
            "x25519"
        } else {
            "ecdh_p256"
        };
        self.secret(
            "ecdhe_shared_secret",
            &shared,
            formula,
            &[("own_private_key", &seed), ("peer_public_key", peer)],
        );
        Ok(shared)
    }

    /// Sends a handshake message in a plaintext record (ClientHello, ServerHello, HRR).
    pub fn send_plain(&mut self, msg: &[u8], record_version: u16) {
        self.transcript.extend_from_slice(msg);
        let rec = record::record(ContentType::Handshake, record_version, msg);
        let label = label_for(ContentType::Handshake, msg);
        let fields = annotate::plaintext_record(&rec);
        self.out.push(Outgoing {
            label,
            bytes: rec,
            fields,
        });
    }

    /// Sends a handshake message under the current write key (coalesced until [`Common::flush`] if asked).
    pub fn send_hs(&mut self, msg: &[u8]) {
        self.transcript.extend_from_slice(msg);
        if self.coalesce {
            self.pending.extend_from_slice(msg);
        } else {
            self.seal(ContentType::Handshake, msg);
        }
    }

    /// Sends coalesced handshake messages as one record.
    pub fn flush(&mut self) {
        if !self.pending.is_empty() {
            let p = core::mem::take(&mut self.pending);
            self.seal(ContentType::Handshake, &p);
        }
    }

    /// Encrypts `content` of type `typ` into a record and queues it.
    pub fn seal(&mut self, typ: ContentType, content: &[u8]) {
        let Some(key) = self.write.as_mut() else {
            return;
        };
        let mut inner = content.to_vec();
        inner.push(typ.into());
        let rec = key.seal(inner.clone());
        let fields = annotate::encrypted_record(&rec, &inner);
        self.out.push(Outgoing {
            label: label_for(typ, content),
            bytes: rec,
            fields,
        });
    }

    /// Sends alert `alert` (encrypted once keys exist), records it, and closes.
    pub fn fail(&mut self, alert: AlertDescription) {
        self.send_alert(AlertLevel::Fatal, alert);
        self.events.push(Event::Alert(Alert {
            from: self.actor,
            key: alert.key(),
            fatal: true,
        }));
        self.closed = true;
    }

    pub fn send_alert(&mut self, level: AlertLevel, alert: AlertDescription) {
        let body = [u8::from(level), u8::from(alert)];
        if self.write.is_some() {
            self.flush();
            self.seal(ContentType::Alert, &body);
        } else {
            let rec = record::record(ContentType::Alert, record::TLS12, &body);
            let fields = annotate::plaintext_record(&rec);
            self.out.push(Outgoing {
                label: "tls.msg.alert".into(),
                bytes: rec,
                fields,
            });
        }
    }

    fn alert_in(&mut self, body: &[u8]) -> Result<(), Error> {
        let [level, desc] = body else {
            return err(AlertDescription::DecodeError);
        };
        let desc = AlertDescription::from(*desc);
        self.peer_alert = Some(desc);
        self.narrate(
            "tls.narr.alert_received",
            &[
                ("alert", desc.as_str()),
                ("level", AlertLevel::from(*level).as_str()),
            ],
        );
        if desc == AlertDescription::CloseNotify {
            self.peer_closed = true;
        } else {
            self.closed = true;
        }
        Ok(())
    }
}

/// An ephemeral (EC)DHE key and the random bytes it was made from (its private
/// key, which the shared secret's formula shows as an input).
pub struct Share {
    key: agreement::EphemeralPrivateKey,
    seed: Vec<u8>,
}

impl core::fmt::Debug for Share {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Share(..)")
    }
}

/// The (EC)DHE shared secret of a private key (the 32 random bytes ring made it
/// from) and the peer's public key, as [`Common::agree`] computes it: how a
/// shared secret's formula is recomputed from its recorded inputs.
pub fn agree_from_seed(group: NamedGroup, seed: &[u8], peer: &[u8]) -> Option<Vec<u8>> {
    let alg = agreement_alg(group)?;
    let key = agreement::EphemeralPrivateKey::generate(alg, &fixed(seed)).ok()?;
    agreement::agree_ephemeral(key, &agreement::UnparsedPublicKey::new(alg, peer), |s| {
        s.to_vec()
    })
    .ok()
}

fn agreement_alg(group: NamedGroup) -> Option<&'static agreement::Algorithm> {
    match group {
        NamedGroup::X25519 => Some(&agreement::X25519),
        NamedGroup::Secp256r1 => Some(&agreement::ECDH_P256),
        _ => None,
    }
}

/// The groups this code can agree on.
pub fn group_supported(group: NamedGroup) -> bool {
    agreement_alg(group).is_some()
}

/// The label key of a record from what it carries.
fn label_for(typ: ContentType, content: &[u8]) -> String {
    match typ {
        ContentType::Handshake => {
            let single = next_message(content) == Some(content.len());
            let t = HandshakeType::from(content.first().copied().unwrap_or(0));
            let retry = t == HandshakeType::ServerHello
                && content.get(6..38) == Some(&crate::msgs::HRR_RANDOM[..]);
            if retry {
                "tls.msg.hello_retry_request".into()
            } else if single {
                format!("tls.msg.{}", t.as_str())
            } else {
                "tls.msg.handshake_flight".into()
            }
        }
        ContentType::Alert => "tls.msg.alert".into(),
        ContentType::ApplicationData => "tls.msg.application_data".into(),
        _ => "tls.msg.record".into(),
    }
}

/// The context string of the server's CertificateVerify.
pub const SERVER_CV_CONTEXT: &[u8] = b"TLS 1.3, server CertificateVerify";
/// The context string of the client's CertificateVerify.
pub const CLIENT_CV_CONTEXT: &[u8] = b"TLS 1.3, client CertificateVerify";

/// The content a CertificateVerify signs (RFC 9846 §4.5.2).
pub fn verify_content(server: bool, transcript_hash: &[u8]) -> Vec<u8> {
    let mut m = vec![0x20u8; 64];
    m.extend_from_slice(if server {
        SERVER_CV_CONTEXT
    } else {
        CLIENT_CV_CONTEXT
    });
    m.push(0);
    m.extend_from_slice(transcript_hash);
    m
}
