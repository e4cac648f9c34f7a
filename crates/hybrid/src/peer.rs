//! The sans-IO peers: bytes in, bytes and transcript events out.
//!
//! One state per awaited message. Randomness comes from the caller's
//! [`RandomSource`]; nothing here reads a clock or a global generator.

use cipherstage_transcript::rand::{fixed, RandomSource};
use cipherstage_transcript::{
    ActorId, Check, Event, FailReason, Field, Formula, FormulaInput, Outcome, Secret,
};
use ring::{aead, agreement, digest};

use crate::hkdf;
use crate::wire::{self, DecodeError, KeyShare, Sealed};

/// Which end a peer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Sends the first key share (the client).
    Alice,
    /// Answers it (the server).
    Bob,
}

/// Bytes to send, with the description of every byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// Key of the message's label.
    pub label: &'static str,
    /// The bytes.
    pub bytes: Vec<u8>,
    /// What each byte means.
    pub fields: Vec<Field>,
}

/// Why a peer stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// The bytes are not a well-formed message of the kind expected now.
    Decode(DecodeError),
    /// The AEAD tag did not verify: the bytes or the keys differ from the sender's.
    TagMismatch,
    /// The peer's public key was rejected by X25519 (e.g. a low-order point).
    KeyAgreement,
    /// The random source failed.
    Random,
    /// A call that does not fit the current state (a driver bug, not a wire fault).
    OutOfOrder,
    /// The message is longer than a length field can say.
    TooLong,
}

impl Error {
    /// Key of the alert this error raises, in the spirit of TLS's alerts.
    pub fn alert_key(self) -> &'static str {
        match self {
            Error::Decode(_) => "hybrid.alert.decode_error",
            Error::TagMismatch => "hybrid.alert.bad_record_mac",
            Error::KeyAgreement => "hybrid.alert.illegal_parameter",
            Error::Random | Error::OutOfOrder | Error::TooLong => "hybrid.alert.internal_error",
        }
    }
}

struct Direction {
    key: aead::LessSafeKey,
    iv: [u8; 12],
    sequence: u64,
}

impl Direction {
    fn nonce(&self) -> aead::Nonce {
        let mut n = self.iv;
        for (b, s) in n.iter_mut().skip(4).zip(self.sequence.to_be_bytes()) {
            *b ^= s;
        }
        aead::Nonce::assume_unique_for_key(n)
    }
}

struct Keys {
    send: Direction,
    receive: Direction,
}

enum State {
    Start,
    ExpectShare {
        private: agreement::EphemeralPrivateKey,
        private_bytes: [u8; 32],
        own_share: Vec<u8>,
    },
    Ready(Box<Keys>),
    Closed,
}

/// One end of the exchange.
pub struct Peer {
    side: Side,
    me: ActorId,
    state: State,
}

impl core::fmt::Debug for Peer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Peer")
            .field("side", &self.side)
            .field("state", &self.state_name())
            .finish()
    }
}

impl Peer {
    /// A peer playing `side`, recorded as actor `me`.
    pub fn new(side: Side, me: ActorId) -> Self {
        Peer {
            side,
            me,
            state: State::Start,
        }
    }

    /// Whether the keys are agreed (sealed messages come next).
    pub fn has_keys(&self) -> bool {
        matches!(self.state, State::Ready(_))
    }

    /// Stable key of the state, for the UI.
    pub fn state_name(&self) -> &'static str {
        match self.state {
            State::Start => "hybrid.state.start",
            State::ExpectShare { .. } => "hybrid.state.expect_share",
            State::Ready(_) => "hybrid.state.ready",
            State::Closed => "hybrid.state.closed",
        }
    }

    fn share_type(side: Side) -> u8 {
        match side {
            Side::Alice => wire::TYPE_CLIENT_SHARE,
            Side::Bob => wire::TYPE_SERVER_SHARE,
        }
    }

    /// Generates this peer's X25519 key pair and returns its key share.
    pub fn key_share(
        &mut self,
        rng: &mut dyn RandomSource,
        events: &mut Vec<Event>,
    ) -> Result<Outgoing, Error> {
        if !matches!(self.state, State::Start) {
            return Err(Error::OutOfOrder);
        }
        let mut private_bytes = [0u8; 32];
        rng.fill(&mut private_bytes).map_err(|_| Error::Random)?;
        // ring fills exactly 32 bytes for an X25519 private key.
        let private =
            agreement::EphemeralPrivateKey::generate(&agreement::X25519, &fixed(&private_bytes))
                .map_err(|_| Error::Random)?;
        let public = private.compute_public_key().map_err(|_| Error::Random)?;
        let mut public_key = [0u8; wire::SHARE_LEN];
        public_key.copy_from_slice(public.as_ref());
        self.secret(
            events,
            "hybrid.secret.private_key",
            &private_bytes,
            "formula.random",
            vec![],
        );
        let share = KeyShare {
            msg_type: Self::share_type(self.side),
            public_key,
        };
        let bytes = share.emit();
        self.state = State::ExpectShare {
            private,
            private_bytes,
            own_share: bytes.clone(),
        };
        Ok(Outgoing {
            label: match self.side {
                Side::Alice => "hybrid.msg.client_share",
                Side::Bob => "hybrid.msg.server_share",
            },
            fields: share.fields(),
            bytes,
        })
    }

    /// Reads the other side's key share and derives both directions' keys.
    pub fn receive_share(&mut self, bytes: &[u8], events: &mut Vec<Event>) -> Result<(), Error> {
        let other = match self.side {
            Side::Alice => Side::Bob,
            Side::Bob => Side::Alice,
        };
        let share = KeyShare::parse(bytes, Self::share_type(other)).map_err(Error::Decode)?;
        let State::ExpectShare {
            private,
            private_bytes,
            own_share,
        } = core::mem::replace(&mut self.state, State::Closed)
        else {
            return Err(Error::OutOfOrder);
        };
        let shared = agreement::agree_ephemeral(
            private,
            &agreement::UnparsedPublicKey::new(&agreement::X25519, share.public_key),
            |k| k.to_vec(),
        )
        .map_err(|_| Error::KeyAgreement)?;
        self.secret(
            events,
            "hybrid.secret.shared",
            &shared,
            "formula.x25519",
            vec![
                input("input.own_private_key", &private_bytes),
                input("input.peer_public_key", &share.public_key),
            ],
        );

        // Both shares in the order sent, as this peer saw them.
        let (first, second) = match self.side {
            Side::Alice => (own_share.as_slice(), bytes),
            Side::Bob => (bytes, own_share.as_slice()),
        };
        let mut ctx = digest::Context::new(&digest::SHA256);
        ctx.update(first);
        ctx.update(second);
        let hash = ctx.finish();
        self.secret(
            events,
            "hybrid.secret.transcript_hash",
            hash.as_ref(),
            "formula.sha256",
            vec![
                input("input.client_share", first),
                input("input.server_share", second),
            ],
        );

        let prk = hkdf::extract(hash.as_ref(), &shared);
        self.secret(
            events,
            "hybrid.secret.prk",
            &prk,
            "formula.hkdf_extract",
            vec![
                input("input.salt", hash.as_ref()),
                input("input.ikm", &shared),
            ],
        );

        let a2b = self.direction(events, &prk, "a2b")?;
        let b2a = self.direction(events, &prk, "b2a")?;
        let (send, receive) = match self.side {
            Side::Alice => (a2b, b2a),
            Side::Bob => (b2a, a2b),
        };
        self.state = State::Ready(Box::new(Keys { send, receive }));
        Ok(())
    }

    fn direction(
        &self,
        events: &mut Vec<Event>,
        prk: &[u8],
        dir: &str,
    ) -> Result<Direction, Error> {
        let key_label = format!("cipherstage {dir} key");
        let iv_label = format!("cipherstage {dir} iv");
        let key = hkdf::expand(prk, key_label.as_bytes(), 16).ok_or(Error::OutOfOrder)?;
        let iv = hkdf::expand(prk, iv_label.as_bytes(), 12).ok_or(Error::OutOfOrder)?;
        let key_name = format!("hybrid.secret.{dir}_key");
        let iv_name = format!("hybrid.secret.{dir}_iv");
        for (name, label, bytes) in [(key_name, key_label, &key), (iv_name, iv_label, &iv)] {
            self.secret(
                events,
                &name,
                bytes,
                "formula.hkdf_expand",
                vec![
                    input("input.prk", prk),
                    input("input.label", label.as_bytes()),
                ],
            );
        }
        let unbound =
            aead::UnboundKey::new(&aead::AES_128_GCM, &key).map_err(|_| Error::OutOfOrder)?;
        let mut iv_bytes = [0u8; 12];
        iv_bytes.copy_from_slice(&iv);
        Ok(Direction {
            key: aead::LessSafeKey::new(unbound),
            iv: iv_bytes,
            sequence: 0,
        })
    }

    /// Encrypts `text` into a sealed message.
    pub fn seal(&mut self, text: &str) -> Result<Outgoing, Error> {
        let State::Ready(keys) = &mut self.state else {
            return Err(Error::OutOfOrder);
        };
        let dir = &mut keys.send;
        let payload_len = text.len() + wire::TAG_LEN;
        if payload_len > usize::from(u16::MAX) {
            return Err(Error::TooLong);
        }
        let sequence = dir.sequence;
        let header = Sealed::header(sequence, payload_len);
        let mut body = text.as_bytes().to_vec();
        let tag = dir
            .key
            .seal_in_place_separate_tag(dir.nonce(), aead::Aad::from(&header), &mut body)
            .map_err(|_| Error::TooLong)?;
        dir.sequence += 1;
        let mut bytes = header;
        bytes.extend_from_slice(&body);
        bytes.extend_from_slice(tag.as_ref());
        Ok(Outgoing {
            label: "hybrid.msg.sealed",
            fields: Sealed::fields(sequence, text, text.len()),
            bytes,
        })
    }

    /// Checks and decrypts a sealed message, recording the tag check.
    pub fn open(&mut self, bytes: &[u8], events: &mut Vec<Event>) -> Result<String, Error> {
        let result = self.open_inner(bytes);
        let outcome = match &result {
            Ok(_) => Outcome::Passed,
            Err(Error::TagMismatch) => Outcome::Failed(FailReason::TagMismatch),
            Err(_) => Outcome::Failed(FailReason::Malformed),
        };
        events.push(Event::Check(Check {
            actor: self.me,
            what: "hybrid.check.tag".into(),
            outcome,
        }));
        if result.is_err() {
            self.state = State::Closed;
        }
        result
    }

    fn open_inner(&mut self, bytes: &[u8]) -> Result<String, Error> {
        let sealed = Sealed::parse(bytes).map_err(Error::Decode)?;
        let State::Ready(keys) = &mut self.state else {
            return Err(Error::OutOfOrder);
        };
        let dir = &mut keys.receive;
        // The nonce comes from the receiver's own count, not from the wire, and the
        // header as received is the additional data: a changed, replayed or reordered
        // message fails the tag check.
        let aad_header =
            bytes
                .get(wire::field::SEALED_HEADER)
                .ok_or(Error::Decode(DecodeError {
                    kind: wire::DecodeErrorKind::Truncated,
                    offset: 0,
                }))?;
        let _ = sealed.sequence;
        let mut body = sealed.payload.to_vec();
        let plain = dir
            .key
            .open_in_place(dir.nonce(), aead::Aad::from(aad_header), &mut body)
            .map_err(|_| Error::TagMismatch)?;
        let text = String::from_utf8_lossy(plain).into_owned();
        dir.sequence += 1;
        Ok(text)
    }

    fn secret(
        &self,
        events: &mut Vec<Event>,
        name: &str,
        bytes: &[u8],
        formula: &str,
        inputs: Vec<FormulaInput>,
    ) {
        events.push(Event::Secret(Secret {
            owner: self.me,
            name: name.to_owned(),
            bytes: bytes.to_vec(),
            formula: Formula {
                key: formula.to_owned(),
                inputs,
            },
        }));
    }
}

fn input(name: &str, bytes: &[u8]) -> FormulaInput {
    FormulaInput {
        name: name.to_owned(),
        bytes: bytes.to_vec(),
    }
}
