//! What client and server share: version lines, KEXINIT, the key exchange
//! arithmetic and the recording of its secrets.

use cipherstage_transcript::rand::{fixed, RandomSource};
use cipherstage_transcript::{
    ActorId, Check, Event, FailReason, Formula, FormulaInput, Narration, Outcome, Secret,
};
use ring::agreement;

use crate::kex::{self, Chosen, Cipher, Negotiated, Why};
use crate::transport::{DirectionKeys, Outgoing, Transport};
use crate::wire::{self, KexInit, Msg};
use crate::Error;

/// Which end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Client,
    Server,
}

/// Algorithm preferences of one end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Algorithms {
    /// Key exchange methods in preference order.
    pub kex: Vec<String>,
    /// Host key algorithms in preference order (a server lists the one its key has).
    pub host_keys: Vec<String>,
    /// Ciphers in preference order.
    pub ciphers: Vec<String>,
    /// Whether to offer strict key exchange.
    pub strict: bool,
}

impl Default for Algorithms {
    fn default() -> Self {
        Algorithms {
            kex: names(&[
                kex::KEX_CURVE25519,
                kex::KEX_CURVE25519_LIBSSH,
                kex::KEX_ECDH_P256,
            ]),
            host_keys: names(&[crate::keys::ED25519, crate::keys::ECDSA_P256]),
            ciphers: vec![kex::CHACHA.into(), kex::AES256_GCM.into()],
            strict: true,
        }
    }
}

pub(crate) struct Session {
    pub side: Side,
    pub me: ActorId,
    pub t: Transport,
    pub own_version: String,
    pub peer_version: Option<String>,
    pub own_kexinit: Vec<u8>,
    pub peer_kexinit: Vec<u8>,
    pub negotiated: Option<Negotiated>,
    pub session_id: Option<[u8; 32]>,
    pub c2s: Option<DirectionKeys>,
    pub s2c: Option<DirectionKeys>,
    /// Set once the peer's NEWKEYS arrived (the initial key exchange is over).
    pub kex_done: bool,
    pub out: Vec<Outgoing>,
    /// The client's KEXINIT cookie and X25519 private key (for an SSH key log).
    pub keylog: Option<([u8; 16], [u8; 32])>,
    /// The peer guessed its first key-exchange packet wrong: drop it (RFC 4253 §7).
    pub skip_guess: bool,
    /// The peer's KEXINIT offered "ext-info-c" (RFC 8308 §2.1).
    pub peer_wants_ext_info: bool,
    /// Our KEXINIT of a re-exchange is out: connection messages wait (RFC 4253 §9).
    pub holding: bool,
    /// Connection messages that wait for NEWKEYS: label, payload, fields.
    held: Vec<(&'static str, Vec<u8>, Vec<cipherstage_transcript::Field>)>,
    /// Bytes sent and received since the last NEWKEYS (for a re-key limit).
    pub since_kex: u64,
    /// Key exchanges finished on this connection (1 after the first).
    pub exchanges: u32,
}

/// An SSH endpoint's state machine as the shared receive loop drives it: the client
/// and the server differ only in how they handle each message.
pub(crate) trait Machine {
    /// The session the machine runs on.
    fn session(&mut self) -> &mut Session;
    /// Whether the peer's version line is still to come.
    fn awaiting_version(&self) -> bool;
    /// The version line arrived: KEXINIT is next.
    fn version_read(&mut self);
    /// Whether the connection is over (later messages are ignored).
    fn closed(&self) -> bool;
    /// Handles one decrypted message.
    fn handle(
        &mut self,
        msg: Msg,
        rng: &mut dyn RandomSource,
        events: &mut Vec<Event>,
    ) -> Result<(), Error>;
}

/// Takes received bytes into `m`; returns what to send (also what was queued before
/// an error, so the peer still gets a DISCONNECT).
pub(crate) fn receive<M: Machine>(
    m: &mut M,
    bytes: &[u8],
    rng: &mut dyn RandomSource,
    events: &mut Vec<Event>,
) -> Result<Vec<Outgoing>, Error> {
    m.session().t.feed(bytes);
    let r = process(m, rng, events);
    let out = core::mem::take(&mut m.session().out);
    r.map(|()| out)
}

fn process<M: Machine>(
    m: &mut M,
    rng: &mut dyn RandomSource,
    events: &mut Vec<Event>,
) -> Result<(), Error> {
    if m.awaiting_version() {
        if !m.session().read_version()? {
            return Ok(());
        }
        m.version_read();
    }
    while let Some(msg) = m.session().next_msg(events)? {
        if m.closed() {
            break;
        }
        m.handle(msg, rng, events)?;
    }
    Ok(())
}

/// Largest CHANNEL_DATA payload either side sends or accepts (the window granted too).
pub(crate) const MAX_PACKET: u32 = 32768;

pub(crate) fn narrate(events: &mut Vec<Event>, key: &str, args: &[(&str, String)]) {
    events.push(Event::Narration(Narration {
        key: key.to_owned(),
        args: args
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect(),
    }));
}

pub(crate) fn check(events: &mut Vec<Event>, actor: ActorId, what: &str, ok: Option<FailReason>) {
    events.push(Event::Check(Check {
        actor,
        what: what.to_owned(),
        outcome: match ok {
            None => Outcome::Passed,
            Some(r) => Outcome::Failed(r),
        },
    }));
}

pub(crate) fn secret(
    events: &mut Vec<Event>,
    owner: ActorId,
    name: &str,
    bytes: &[u8],
    formula: &str,
    inputs: &[(&str, &[u8])],
) {
    events.push(Event::Secret(Secret {
        owner,
        name: name.to_owned(),
        bytes: bytes.to_vec(),
        formula: Formula {
            key: formula.to_owned(),
            inputs: inputs
                .iter()
                .map(|(n, b)| FormulaInput {
                    name: (*n).to_owned(),
                    bytes: b.to_vec(),
                })
                .collect(),
        },
    }));
}

fn names(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

impl Session {
    pub fn new(side: Side, me: ActorId, version: &str) -> Self {
        Session {
            side,
            me,
            t: Transport::default(),
            own_version: version.to_owned(),
            peer_version: None,
            own_kexinit: Vec::new(),
            peer_kexinit: Vec::new(),
            negotiated: None,
            session_id: None,
            c2s: None,
            s2c: None,
            kex_done: false,
            out: Vec::new(),
            keylog: None,
            skip_guess: false,
            peer_wants_ext_info: false,
            holding: false,
            held: Vec::new(),
            since_kex: 0,
            exchanges: 0,
        }
    }

    pub fn send(&mut self, msg: &Msg, rng: &mut dyn RandomSource) -> Result<(), Error> {
        let mut w = wire::Writer::new();
        msg.emit(&mut w);
        let (payload, fields) = w.finish();
        self.send_payload(msg.label(), payload, fields, rng)
    }

    /// Seals a payload, or holds it while a re-exchange is under way and it is a
    /// connection message (number 50 and up: RFC 4253 §9 allows only transport
    /// messages between KEXINIT and NEWKEYS).
    fn send_payload(
        &mut self,
        label: &'static str,
        payload: Vec<u8>,
        fields: Vec<cipherstage_transcript::Field>,
        rng: &mut dyn RandomSource,
    ) -> Result<(), Error> {
        if self.holding && payload.first().is_some_and(|n| *n >= 50) {
            self.held.push((label, payload, fields));
            return Ok(());
        }
        let o = self.t.seal_payload(label, &payload, fields, rng)?;
        self.since_kex = self.since_kex.saturating_add(o.bytes.len() as u64);
        self.out.push(o);
        Ok(())
    }

    /// Starts a re-exchange (RFC 4253 §9): a fresh KEXINIT (`initiator`: ours
    /// comes first, not in answer to the peer's); connection messages wait until
    /// our NEWKEYS is out.
    pub fn start_rekey(
        &mut self,
        algs: &Algorithms,
        initiator: bool,
        rng: &mut dyn RandomSource,
        events: &mut Vec<Event>,
    ) -> Result<(), Error> {
        if initiator {
            narrate(events, "ssh.narr.rekey_start", &[]);
        }
        self.holding = true;
        self.send_kexinit(algs, false, rng)
    }

    /// After our NEWKEYS of a re-exchange: what waited goes out under the new keys.
    pub fn release_held(&mut self, rng: &mut dyn RandomSource) -> Result<(), Error> {
        self.holding = false;
        for (label, payload, fields) in core::mem::take(&mut self.held) {
            self.send_payload(label, payload, fields, rng)?;
        }
        Ok(())
    }

    /// Sends what a channel flush produced.
    pub fn send_packets(
        &mut self,
        packets: Vec<crate::channel::Packet>,
        rng: &mut dyn RandomSource,
    ) -> Result<(), Error> {
        use crate::channel::Packet;
        for p in packets {
            match p {
                Packet::Msg(m) => self.send(&m, rng)?,
                Packet::Noted {
                    recipient,
                    data,
                    note,
                } => {
                    let mut w = wire::Writer::new();
                    w.msg_type(wire::message::num::CHANNEL_DATA, "ssh.msg.channel_data");
                    w.u32("recipient_channel", recipient);
                    w.string_group("channel_data", &data, note.fields);
                    let (payload, fields) = w.finish();
                    self.send_payload(note.label, payload, fields, rng)?;
                }
            }
        }
        Ok(())
    }

    /// Sends the version line and KEXINIT.
    pub fn start(&mut self, algs: &Algorithms, rng: &mut dyn RandomSource) -> Result<(), Error> {
        let (bytes, fields) = wire::version_line(&self.own_version);
        self.out.push(Outgoing {
            label: "ssh.msg.version",
            bytes,
            fields,
        });
        self.send_kexinit(algs, algs.strict, rng)
    }

    /// Sends KEXINIT; `markers` adds the strict-KEX marker (only in the first).
    fn send_kexinit(
        &mut self,
        algs: &Algorithms,
        markers: bool,
        rng: &mut dyn RandomSource,
    ) -> Result<(), Error> {
        let mut cookie = [0u8; 16];
        rng.fill(&mut cookie).map_err(|_| Error::Random)?;
        let mut kex = algs.kex.clone();
        if markers {
            kex.push(
                match self.side {
                    Side::Client => kex::STRICT_CLIENT,
                    Side::Server => kex::STRICT_SERVER,
                }
                .into(),
            );
        }
        let k = KexInit {
            cookie,
            kex,
            host_key: algs.host_keys.clone(),
            cipher_c2s: algs.ciphers.clone(),
            cipher_s2c: algs.ciphers.clone(),
            mac_c2s: names(&[kex::HMAC_SHA256]),
            mac_s2c: names(&[kex::HMAC_SHA256]),
            comp_c2s: names(&["none"]),
            comp_s2c: names(&["none"]),
            lang_c2s: Vec::new(),
            lang_s2c: Vec::new(),
            first_kex_follows: false,
            reserved: 0,
        };
        let msg = Msg::KexInit(Box::new(k));
        self.own_kexinit = msg.to_bytes();
        self.send(&msg, rng)
    }

    /// Reads the peer's version line if not done yet; false while more bytes are needed.
    pub fn read_version(&mut self) -> Result<bool, Error> {
        if self.peer_version.is_some() {
            return Ok(true);
        }
        match wire::parse_version(self.t.buffered())? {
            Some((line, used)) => {
                self.t.take_front(used);
                self.peer_version = Some(line);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// The next message, if a whole packet is buffered; enforces strict KEX.
    pub fn next_msg(&mut self, events: &mut Vec<Event>) -> Result<Option<Msg>, Error> {
        loop {
            let encrypted_before = self.kex_done;
            let payload = match self.open_payload(events)? {
                Some(p) => p,
                None => return Ok(None),
            };
            self.since_kex = self.since_kex.saturating_add(payload.len() as u64);
            // A wrongly guessed first key-exchange packet is ignored (RFC 4253 §7):
            // the first message numbered 30–49 after KEXINIT.
            if self.skip_guess && payload.first().is_some_and(|n| (30..=49).contains(n)) {
                self.skip_guess = false;
                continue;
            }
            return self.checked(&payload, encrypted_before).map(Some);
        }
    }

    fn open_payload(&mut self, events: &mut Vec<Event>) -> Result<Option<Vec<u8>>, Error> {
        match self.t.open() {
            Ok(p) => Ok(p),
            Err(Error::Mac) => {
                check(
                    events,
                    self.me,
                    "ssh.check.packet_tag",
                    Some(FailReason::TagMismatch),
                );
                Err(Error::Mac)
            }
            Err(e) => Err(e),
        }
    }

    /// Parses a payload and enforces strict KEX.
    fn checked(&mut self, payload: &[u8], encrypted_before: bool) -> Result<Msg, Error> {
        let msg = Msg::parse(payload)?;
        let strict = self.negotiated.as_ref().is_some_and(|n| n.strict);
        if strict && !encrypted_before {
            // Strict KEX (OpenSSH PROTOCOL §1.10): nothing but KEX messages until NEWKEYS.
            let n = msg.number();
            let allowed = matches!(
                n,
                wire::message::num::KEXINIT
                    | wire::message::num::NEWKEYS
                    | wire::message::num::KEX_ECDH_INIT
                    | wire::message::num::KEX_ECDH_REPLY
            );
            if !allowed {
                return Err(Error::Unexpected(n));
            }
        }
        Ok(msg)
    }

    /// Takes the peer's KEXINIT and negotiates.
    pub fn peer_kexinit(
        &mut self,
        msg: &Msg,
        events: &mut Vec<Event>,
    ) -> Result<Negotiated, Error> {
        let Msg::KexInit(peer) = msg else {
            return Err(Error::Unexpected(msg.number()));
        };
        // Strict KEX requires KEXINIT to be the very first packet.
        let rekey = self.kex_done;
        let first = self.t.recv_seq == 1 || rekey;
        self.peer_kexinit = msg.to_bytes();
        let own = Msg::parse(&self.own_kexinit)?;
        let Msg::KexInit(own) = own else {
            return Err(Error::Internal);
        };
        let (c, s) = match self.side {
            Side::Client => (&*own, &**peer),
            Side::Server => (&**peer, &*own),
        };
        let mut n = kex::negotiate(c, s).map_err(|e| Error::Negotiation(e.0))?;
        if rekey {
            // Strict KEX is decided by the first exchange and holds for the connection.
            n.strict = self.negotiated.as_ref().is_some_and(|p| p.strict);
        }
        // RFC 4253 §7: a guess is right when both sides' first key exchange and
        // host key algorithms are the same (OpenSSH's proposals_match).
        let first_same = |a: &[String], b: &[String]| a.first() == b.first();
        self.skip_guess = peer.first_kex_follows
            && !(first_same(&c.kex, &s.kex) && first_same(&c.host_key, &s.host_key));
        self.peer_wants_ext_info =
            !rekey && self.side == Side::Server && peer.kex.iter().any(|k| k == "ext-info-c");
        if n.strict && !first {
            return Err(Error::Unexpected(wire::message::num::KEXINIT));
        }
        if self.side == Side::Client {
            for (key, ch) in [
                ("ssh.narr.neg.kex", &n.kex),
                ("ssh.narr.neg.host_key", &n.host_key),
                ("ssh.narr.neg.cipher_c2s", &n.cipher_c2s),
                ("ssh.narr.neg.cipher_s2c", &n.cipher_s2c),
                ("ssh.narr.neg.comp", &n.comp_c2s),
            ] {
                narrate_choice(events, key, ch);
            }
            // AEAD ciphers authenticate each packet themselves: the MAC lists are ignored.
            narrate(
                events,
                "ssh.narr.neg.mac_implicit",
                &[("cipher", n.cipher_c2s.name.clone())],
            );
            // Terrapin (CVE-2023-48795) works against chacha20-poly1305 and CBC with an -etm
            // MAC, not against AES-GCM; this core offers no CBC cipher.
            let exposed = [&n.cipher_c2s.name, &n.cipher_s2c.name]
                .into_iter()
                .find(|c| c.starts_with("chacha20-poly1305"));
            match (n.strict, exposed) {
                (true, _) => narrate(events, "ssh.narr.strict_on", &[]),
                (false, Some(c)) => {
                    narrate(events, "ssh.narr.strict_off", &[("cipher", c.clone())])
                }
                (false, None) => narrate(
                    events,
                    "ssh.narr.strict_off_unaffected",
                    &[("cipher", n.cipher_c2s.name.clone())],
                ),
            }
        }
        self.negotiated = Some(n.clone());
        Ok(n)
    }

    /// The ring agreement algorithm of the negotiated key exchange.
    fn kex_alg(&self) -> Result<&'static agreement::Algorithm, Error> {
        match self.negotiated.as_ref().map(|n| n.kex.name.as_str()) {
            Some(kex::KEX_ECDH_P256) => Ok(&agreement::ECDH_P256),
            Some(_) => Ok(&agreement::X25519),
            None => Err(Error::Internal),
        }
    }

    /// Generates this side's ephemeral key pair (X25519 or P-256).
    pub fn ephemeral(
        &mut self,
        rng: &mut dyn RandomSource,
        events: &mut Vec<Event>,
    ) -> Result<(agreement::EphemeralPrivateKey, [u8; 32], Vec<u8>), Error> {
        let mut private = [0u8; 32];
        rng.fill(&mut private).map_err(|_| Error::Random)?;
        // ring fills exactly 32 bytes for an X25519 or a P-256 private key.
        let key = agreement::EphemeralPrivateKey::generate(self.kex_alg()?, &fixed(&private))
            .map_err(|_| Error::Random)?;
        let public = key
            .compute_public_key()
            .map_err(|_| Error::Internal)?
            .as_ref()
            .to_vec();
        secret(
            events,
            self.me,
            "ssh.secret.ephemeral_private",
            &private,
            "formula.random",
            &[],
        );
        if self.side == Side::Client {
            let mut cookie = [0u8; 16];
            if let Some(c) = self.own_kexinit.get(1..17) {
                cookie.copy_from_slice(c);
            }
            self.keylog = Some((cookie, private));
        }
        Ok((key, private, public))
    }

    /// Computes K, H and (on the first exchange) the session id and keys A–F.
    #[allow(clippy::too_many_arguments)]
    pub fn finish_kex(
        &mut self,
        private: agreement::EphemeralPrivateKey,
        private_bytes: &[u8; 32],
        peer_public: &[u8],
        host_key_blob: &[u8],
        q_c: &[u8],
        q_s: &[u8],
        events: &mut Vec<Event>,
    ) -> Result<[u8; 32], Error> {
        let alg = self.kex_alg()?;
        let k = agreement::agree_ephemeral(
            private,
            &agreement::UnparsedPublicKey::new(alg, peer_public),
            |k| k.to_vec(),
        )
        .map_err(|_| Error::KeyAgreement)?;
        // RFC 8731 §3: an all-zero shared secret must be rejected.
        if k.iter().all(|b| *b == 0) {
            return Err(Error::KeyAgreement);
        }
        secret(
            events,
            self.me,
            "ssh.secret.shared_k",
            &k,
            if alg == &agreement::X25519 {
                "formula.x25519"
            } else {
                "ssh.formula.ecdh_p256"
            },
            &[
                ("input.own_private_key", private_bytes),
                ("input.peer_public_key", peer_public),
            ],
        );
        let peer_version = self.peer_version.clone().ok_or(Error::Internal)?;
        let (v_c, v_s, i_c, i_s) = match self.side {
            Side::Client => (
                self.own_version.as_bytes(),
                peer_version.as_bytes(),
                &self.own_kexinit,
                &self.peer_kexinit,
            ),
            Side::Server => (
                peer_version.as_bytes(),
                self.own_version.as_bytes(),
                &self.peer_kexinit,
                &self.own_kexinit,
            ),
        };
        let inputs = kex::HashInputs {
            v_c,
            v_s,
            i_c,
            i_s,
            k_s: host_key_blob,
            q_c,
            q_s,
            k: &k,
        };
        let h = kex::exchange_hash(&inputs);
        let k_mpint = wire::codec::mpint(&k);
        secret(
            events,
            self.me,
            "ssh.secret.exchange_hash",
            &h,
            "ssh.formula.exchange_hash",
            &[
                ("ssh.input.v_c", v_c),
                ("ssh.input.v_s", v_s),
                ("ssh.input.i_c", i_c),
                ("ssh.input.i_s", i_s),
                ("ssh.input.k_s", host_key_blob),
                ("ssh.input.q_c", q_c),
                ("ssh.input.q_s", q_s),
                ("ssh.input.k", &k_mpint),
            ],
        );
        let sid = *self.session_id.get_or_insert(h);
        let n = self.negotiated.clone().ok_or(Error::Internal)?;
        let c2s = Cipher::from_name(&n.cipher_c2s.name).ok_or(Error::Negotiation("cipher_c2s"))?;
        let s2c = Cipher::from_name(&n.cipher_s2c.name).ok_or(Error::Negotiation("cipher_s2c"))?;
        let mut derive = |letter: u8, len: usize, name: &str| {
            let out = kex::derive(&k, &h, letter, &sid, len);
            if self.side == Side::Client {
                secret(
                    events,
                    self.me,
                    name,
                    &out,
                    "ssh.formula.derive_key",
                    &[
                        ("ssh.input.k", &k_mpint),
                        ("ssh.input.h", &h),
                        ("ssh.input.letter", &[letter]),
                        ("ssh.input.session_id", &sid),
                    ],
                );
            }
            out
        };
        let iv_c2s = derive(b'A', c2s.iv_len(), "ssh.secret.iv_c2s");
        let iv_s2c = derive(b'B', s2c.iv_len(), "ssh.secret.iv_s2c");
        let key_c2s = derive(b'C', c2s.key_len(), "ssh.secret.key_c2s");
        let key_s2c = derive(b'D', s2c.key_len(), "ssh.secret.key_s2c");
        // E and F are integrity keys; AEAD ciphers use none, so their length is 0
        // (RFC 4253 §7.2 derives "as many bytes as the MAC needs").
        derive(b'E', 0, "ssh.secret.mac_c2s");
        derive(b'F', 0, "ssh.secret.mac_s2c");
        self.c2s = Some(DirectionKeys {
            cipher: c2s,
            key: key_c2s,
            iv: iv_c2s,
        });
        self.s2c = Some(DirectionKeys {
            cipher: s2c,
            key: key_s2c,
            iv: iv_s2c,
        });
        Ok(h)
    }

    /// After sending NEWKEYS: protect outgoing packets.
    pub fn activate_send(&mut self) -> Result<(), Error> {
        let strict = self.negotiated.as_ref().is_some_and(|n| n.strict);
        let k = match self.side {
            Side::Client => self.c2s.clone(),
            Side::Server => self.s2c.clone(),
        }
        .ok_or(Error::Internal)?;
        self.t.rekey_send(&k, strict)
    }

    /// After receiving NEWKEYS: open incoming packets.
    pub fn activate_recv(&mut self) -> Result<(), Error> {
        let strict = self.negotiated.as_ref().is_some_and(|n| n.strict);
        let k = match self.side {
            Side::Client => self.s2c.clone(),
            Side::Server => self.c2s.clone(),
        }
        .ok_or(Error::Internal)?;
        self.kex_done = true;
        self.since_kex = 0;
        self.exchanges = self.exchanges.saturating_add(1);
        self.t.rekey_recv(&k, strict)
    }
}

fn narrate_choice(events: &mut Vec<Event>, key: &str, c: &Chosen) {
    match c.why {
        Why::ClientFirstChoice => narrate(events, key, &[("alg", c.name.clone())]),
        Why::FirstCommon { skipped } => {
            let k = format!("{key}_skipped");
            narrate(
                events,
                &k,
                &[("alg", c.name.clone()), ("skipped", skipped.to_string())],
            )
        }
    }
}
