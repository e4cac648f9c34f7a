//! The stories: Alice's mail client hands her S/MIME-encrypted mail to her
//! provider's submission server (`smtp-submission`), and that provider's relay
//! passes it to Bob's provider over the Internet (`smtp-relay`), where Eve may
//! strip STARTTLS from the EHLO reply.

use cipherstage_pki::{issue::issue_server, Key, Pki, SCENARIO_NOW};
use cipherstage_smime::envelope::Cipher;
use cipherstage_smime::{encrypted::encrypt_mail, mime, outer_header, text_part, Letter};
use cipherstage_tls::scenario::{build_pki, seeded, EVE_TAMPERS};
use cipherstage_tls::{Identity, Signer, VirtualHost};
use cipherstage_transcript::rand::{RandomSource, Source};
use cipherstage_transcript::{
    drive, Actor, ActorId, Delivered, Endpoint, Fate, Field, FieldsBuilder, Flow, Layer, Link,
    NarrateFlips, Path, Protection, Recorder, Role, TamperAt, Transcript, Transmit, Wire,
};

use crate::client::{ClientConfig, ClientEvent, Outcome, TlsPolicy};
use crate::server::{Credentials, ServerConfig};
use crate::session::{ClientSession, ServerSession};
use crate::{export, line};

/// Alice's provider's submission server.
pub const SUBMISSION_HOST: &str = "smtp.example.net";
/// Alice's provider's relay (its outgoing MTA).
pub const RELAY_HOST: &str = "relay.example.net";
/// Bob's provider's mail exchanger (the MX of example.com).
pub const MX_HOST: &str = "mx.example.com";
/// Alice's login at her provider.
pub const ALICE_USER: &str = "alice@example.com";
/// Alice's password (a demo one).
pub const ALICE_PASSWORD: &str = "correct-horse-battery";
/// The name Alice's client gives in EHLO.
pub const ALICE_HELO: &str = "alice-laptop.example.com";
/// Upper bound on delivery rounds (a whole session needs about 20).
const MAX_ROUNDS: usize = 64;

/// Which actor is which in both stories.
pub(crate) const CLIENT: ActorId = 0;
pub(crate) const SERVER: ActorId = 1;
pub(crate) const EVE: ActorId = 2;

/// The Internet link between the two SMTP parties, watched by Eve.
const LINK: usize = 0;

pub(crate) fn wire(protocol: &'static str) -> Wire<'static> {
    Wire {
        link: LINK,
        protocol,
        layer: if protocol == "tls" {
            Layer::Transport
        } else {
            Layer::Application
        },
    }
}

/// How Alice's client reaches the submission server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Port {
    /// Port 587: SMTP in clear, then STARTTLS (RFC 3207, RFC 6409).
    Starttls587,
    /// Port 465: TLS from the first byte (RFC 8314 §3.3).
    Implicit465,
}

impl Port {
    /// The TCP port.
    pub fn number(self) -> u16 {
        match self {
            Port::Starttls587 => 587,
            Port::Implicit465 => 465,
        }
    }
}

/// What the mail's body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// S/MIME EnvelopedData to Bob and Alice (AES-256-CBC), from the S/MIME core.
    Smime,
    /// A plain text part: anyone who reads the connection reads it.
    Plain,
}

/// What the user can change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    /// Submission: 587 with STARTTLS or 465 with implicit TLS.
    pub port: Port,
    /// Relay: Eve removes STARTTLS from the EHLO reply.
    pub strip_starttls: bool,
    /// The body.
    pub body: Body,
    /// The subject (always readable outside TLS).
    pub subject: String,
    /// The body text.
    pub text: String,
    /// Eve flips one byte on the Internet link.
    pub tamper: Option<TamperAt>,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            port: Port::Starttls587,
            strip_starttls: false,
            body: Body::Smime,
            subject: "Salary review".into(),
            text: "Hi Bob,\nthe new salary bands are attached to the HR system.\nAlice".into(),
            tamper: None,
        }
    }
}

/// Which story.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Story {
    /// Alice's client → submission server.
    Submission,
    /// Relay → Bob's MX.
    Relay,
    /// Bob's client fetches the mail from his provider over IMAPS (993).
    ImapFetch,
}

/// A run and what it offers for download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// The transcript.
    pub transcript: Transcript,
    /// The capture of the Internet link (pcapng).
    pub pcapng: Vec<u8>,
    /// The TLS key log (empty when no TLS ran).
    pub keylog: String,
    /// The message as the server received it, if it did.
    pub eml: Option<Vec<u8>>,
}

/// Runs `story` under scenario id `scenario` with `seed` (`None`: live).
pub fn run(scenario: &str, story: Story, p: &Params, seed: Option<u64>) -> Run {
    let mut master = Source::from_seed(seed);
    let mut rec = Recorder::new(p.tamper, Some(EVE));
    let mut eml = None;
    match build_pki(&mut master) {
        Ok(pki) => {
            let crng = seeded(&mut master);
            let srng = seeded(&mut master);
            let mut rng = seeded(&mut master);
            eml = match story {
                Story::ImapFetch => {
                    crate::scenario_imap::tell(&mut rec, p, &pki, crng, srng, &mut *rng)
                }
                _ => tell(&mut rec, story, p, &pki, crng, srng, &mut *rng),
            };
        }
        Err(_) => rec.narrate("tls.narr.pki_failed", &[]),
    }
    let actor = |role, name: &str| Actor {
        role,
        name: name.to_owned(),
    };
    let actors = match story {
        Story::Submission => vec![
            actor(Role::Client, "smtp.actor.alice_client"),
            actor(Role::Server, "smtp.actor.submission"),
            actor(Role::Eavesdropper, "smtp.actor.eve"),
        ],
        Story::Relay => vec![
            actor(Role::Client, "smtp.actor.relay"),
            actor(Role::Server, "smtp.actor.bob_server"),
            actor(Role::Eavesdropper, "smtp.actor.eve"),
        ],
        Story::ImapFetch => vec![
            actor(Role::Client, "imap.actor.bob_client"),
            actor(Role::Server, "imap.actor.bob_server"),
            actor(Role::Eavesdropper, "smtp.actor.eve"),
        ],
    };
    let transcript = Transcript {
        scenario: scenario.to_owned(),
        seed,
        actors,
        links: vec![Link {
            a: CLIENT,
            b: SERVER,
            observers: vec![EVE],
        }],
        events: rec.events,
    };
    let port = match story {
        Story::Submission => p.port.number(),
        Story::Relay => 25,
        Story::ImapFetch => 993,
    };
    Run {
        pcapng: export::pcapng(&transcript, LINK, CLIENT, port),
        keylog: export::keylog(&transcript),
        transcript,
        eml,
    }
}

/// The mail: Alice's letter, its body encrypted to Bob and to her (S/MIME), or plain.
pub fn letter(p: &Params, pki: &Pki, rng: &mut dyn RandomSource) -> Option<Vec<u8>> {
    let l = Letter {
        from: cipherstage_smime::FROM,
        to: cipherstage_smime::TO,
        subject: &p.subject,
        body: &p.text,
        time: SCENARIO_NOW,
    };
    match p.body {
        Body::Smime => {
            let recipients: [&[u8]; 2] = [&pki.bob_mail.der, &pki.alice_mail.der];
            encrypt_mail(&l, &text_part(&p.text), &recipients, Cipher::Aes256Cbc, rng)
                .ok()
                .map(|(m, _)| m)
        }
        Body::Plain => {
            let mut m = outer_header(&l);
            m.extend_from_slice(&text_part(&p.text));
            Some(m)
        }
    }
}

/// A TLS server identity for `host`, issued by the test PKI's intermediate.
pub fn identity(pki: &Pki, host: &str, rng: &mut dyn RandomSource) -> Option<VirtualHost> {
    let key = Key::generate(rng).ok()?;
    let cert = issue_server(&key, host, &pki.intermediate).ok()?;
    Some(VirtualHost {
        names: vec![host.to_owned()],
        identity: Identity {
            chain: vec![cert, pki.intermediate.der.clone()],
            signer: Signer::Key(key),
        },
    })
}

fn tell(
    rec: &mut Recorder,
    story: Story,
    p: &Params,
    pki: &Pki,
    crng: Box<dyn RandomSource>,
    srng: Box<dyn RandomSource>,
    rng: &mut dyn RandomSource,
) -> Option<Vec<u8>> {
    let host = match story {
        Story::Submission => SUBMISSION_HOST,
        Story::Relay | Story::ImapFetch => MX_HOST,
    };
    let (Some(vhost), Some(mut mail)) = (identity(pki, host, rng), letter(p, pki, rng)) else {
        rec.narrate("tls.narr.pki_failed", &[]);
        return None;
    };
    let mut sc = cipherstage_tls::ServerConfig::new(vec![vhost]);
    sc.ticket = None;
    let cc = cipherstage_tls::ClientConfig::new(host, vec![pki.root.der.clone()], SCENARIO_NOW);
    let (mut smtp_s, policy, helo, auth, implicit) = match story {
        Story::Submission => {
            let mut c = ServerConfig::new(SUBMISSION_HOST);
            c.auth = Some(credentials());
            c.require_auth = true;
            let (policy, implicit) = match p.port {
                Port::Starttls587 => (TlsPolicy::Require, false),
                Port::Implicit465 => (TlsPolicy::Implicit, true),
            };
            let key = match p.port {
                Port::Starttls587 => "smtp.narr.submission_587",
                Port::Implicit465 => "smtp.narr.submission_465",
            };
            rec.narrate(key, &[("server", &SUBMISSION_HOST), ("user", &ALICE_USER)]);
            (c, policy, ALICE_HELO, Some(credentials()), implicit)
        }
        // Told by crate::scenario_imap.
        Story::ImapFetch => return None,
        Story::Relay => {
            let received = format!(
                "Received: from {ALICE_HELO} by {SUBMISSION_HOST} with ESMTPSA; {}\r\n",
                mime::rfc5322_date(SCENARIO_NOW)
            );
            let mut m = received.into_bytes();
            m.extend_from_slice(&mail);
            mail = m;
            rec.narrate(
                "smtp.narr.relay_intro",
                &[
                    ("relay", &RELAY_HOST),
                    ("mx", &MX_HOST),
                    ("to", &cipherstage_smime::TO),
                ],
            );
            (
                ServerConfig::new(MX_HOST),
                TlsPolicy::Opportunistic,
                RELAY_HOST,
                None,
                false,
            )
        }
    };
    smtp_s.starttls = true;
    let describe: Option<line::Describe> = match p.body {
        Body::Smime => Some(cipherstage_smime::scenario_encrypted::describe),
        Body::Plain => None,
    };
    let config = ClientConfig {
        helo: helo.to_owned(),
        tls: policy,
        auth,
        from: cipherstage_smime::FROM.to_owned(),
        to: vec![cipherstage_smime::TO.to_owned()],
        message: mail.clone(),
        describe,
    };
    let client = match ClientSession::new(config, Some(cc), crng, CLIENT) {
        Ok(c) => c,
        Err(e) => {
            rec.alert(CLIENT, e.alert.key(), true);
            return None;
        }
    };
    let mut client = Sender {
        session: client,
        tls_told: false,
    };
    let mut server = Receiver {
        session: ServerSession::new(smtp_s, Some(sc), implicit, srng, SERVER),
        divert_ehlo: story == Story::Relay && p.strip_starttls,
        got: None,
    };
    let mut eve = Eve { intercepted: None };
    rec.events.extend(client.session.take_events());
    drive(
        &mut [&mut client, &mut eve, &mut server],
        &mut EveWatch {
            told: Vec::new(),
            body: p.body,
        },
        rec,
        rng,
        MAX_ROUNDS,
    );
    let got = server.got.take();
    match (&got, story, p.strip_starttls) {
        (Some(_), Story::Relay, true) => {
            rec.narrate("smtp.narr.mta_sts_would_refuse", &[("mx", &MX_HOST)]);
            rec.narrate("smtp.narr.dane_would_refuse", &[("mx", &MX_HOST)]);
        }
        (Some(_), Story::Relay, false) => rec.narrate("smtp.narr.relay_done", &[]),
        (Some(_), Story::ImapFetch, _) => {}
        (Some(_), Story::Submission, _) => rec.narrate(
            "smtp.narr.submission_done",
            &[("relay", &RELAY_HOST), ("mx", &MX_HOST)],
        ),
        (None, ..) => rec.narrate("smtp.narr.not_delivered", &[]),
    }
    got
}

fn credentials() -> Credentials {
    Credentials {
        user: ALICE_USER.to_owned(),
        password: ALICE_PASSWORD.to_owned(),
    }
}

/// A wire message from an SMTP session: a clear SMTP line, or a TLS record.
pub(crate) fn transmit(to: ActorId, o: cipherstage_tls::Outgoing) -> Transmit {
    let protocol = if o.label.starts_with("smtp.") && !is_record(&o.fields) {
        "smtp"
    } else {
        "tls"
    };
    Transmit {
        to,
        wire: wire(protocol),
        label: o.label,
        bytes: o.bytes,
        fields: o.fields,
    }
}

fn is_record(fields: &[Field]) -> bool {
    fields.first().is_some_and(|f| f.name.starts_with("tls."))
}

/// The sending side: Alice's client, or the relay.
struct Sender {
    session: ClientSession,
    tls_told: bool,
}

impl Endpoint for Sender {
    fn actor(&self) -> ActorId {
        CLIENT
    }

    fn step(&mut self, rec: &mut Recorder, _rng: &mut dyn RandomSource, _now: u64) -> bool {
        for e in self.session.smtp.take_events() {
            narrate_client(rec, &e);
        }
        if self.session.tls_connected() && !self.tls_told {
            self.tls_told = true;
            rec.narrate("smtp.narr.tls_up", &[]);
        }
        rec.events.extend(self.session.take_events());
        false
    }

    fn transmit(&mut self, rec: &mut Recorder) -> Vec<Transmit> {
        let wanted = self.session.smtp.wants_tls() && !self.session.tls_connected();
        let out = self.session.take_output();
        if wanted && out.iter().any(|o| o.label == "tls.msg.client_hello") {
            rec.narrate("smtp.narr.tls_starts", &[]);
        }
        rec.events.extend(self.session.take_events());
        out.into_iter().map(|o| transmit(SERVER, o)).collect()
    }

    fn receive(
        &mut self,
        _from: ActorId,
        bytes: &[u8],
        rec: &mut Recorder,
        _rng: &mut dyn RandomSource,
    ) -> Flow {
        self.session.receive(bytes);
        rec.events.extend(self.session.take_events());
        Flow::Continue
    }
}

fn narrate_client(rec: &mut Recorder, e: &ClientEvent) {
    match e {
        ClientEvent::Ehlo {
            starttls: true,
            secure: false,
        } => rec.narrate("smtp.narr.starttls_offered", &[]),
        ClientEvent::Ehlo {
            starttls: false,
            secure: false,
        } => rec.narrate("smtp.narr.no_starttls_offered", &[]),
        ClientEvent::Ehlo { secure: true, .. } => rec.narrate("smtp.narr.ehlo_in_tls", &[]),
        ClientEvent::SendingInClear => rec.narrate("smtp.narr.sending_in_clear", &[]),
        ClientEvent::Authenticated => {
            rec.narrate("smtp.narr.authenticated", &[("user", &ALICE_USER)])
        }
        ClientEvent::Finished(Outcome::Sent(text)) => {
            rec.narrate("smtp.narr.queued", &[("text", text)])
        }
        ClientEvent::Finished(Outcome::Refused(code, text)) => {
            rec.narrate("smtp.narr.refused", &[("code", code), ("text", text)])
        }
        ClientEvent::Finished(Outcome::NoStartTls) => {
            rec.narrate("smtp.narr.tls_required_not_offered", &[])
        }
        ClientEvent::Finished(Outcome::Malformed) => rec.narrate("smtp.narr.malformed_reply", &[]),
    }
}

/// The receiving side: the submission server, or Bob's MX.
struct Receiver {
    session: ServerSession,
    /// Eve intercepts the first EHLO reply (she is in the path, not only on it).
    divert_ehlo: bool,
    got: Option<Vec<u8>>,
}

impl Endpoint for Receiver {
    fn actor(&self) -> ActorId {
        SERVER
    }

    fn step(&mut self, rec: &mut Recorder, _rng: &mut dyn RandomSource, _now: u64) -> bool {
        for m in self.session.smtp.take_received() {
            let user = m.user.clone().unwrap_or_else(|| "-".into());
            let key = if m.secure {
                "smtp.narr.server_accepted_tls"
            } else {
                "smtp.narr.server_accepted_clear"
            };
            rec.narrate(
                key,
                &[
                    ("from", &m.from),
                    ("to", &m.to.join(", ")),
                    ("bytes", &m.data.len()),
                    ("user", &user),
                ],
            );
            self.got = Some(m.data);
        }
        rec.events.extend(self.session.take_events());
        false
    }

    fn transmit(&mut self, rec: &mut Recorder) -> Vec<Transmit> {
        let out = self.session.take_output();
        rec.events.extend(self.session.take_events());
        out.into_iter()
            .map(|o| {
                let to = if self.divert_ehlo && o.label == "smtp.msg.ehlo_reply" {
                    self.divert_ehlo = false;
                    EVE
                } else {
                    CLIENT
                };
                transmit(to, o)
            })
            .collect()
    }

    fn receive(
        &mut self,
        _from: ActorId,
        bytes: &[u8],
        rec: &mut Recorder,
        _rng: &mut dyn RandomSource,
    ) -> Flow {
        self.session.receive(bytes);
        rec.events.extend(self.session.take_events());
        Flow::Continue
    }
}

/// Eve in the path (`smtp-relay`, strip): she takes the EHLO reply, removes the
/// STARTTLS line and passes the rest on.
struct Eve {
    intercepted: Option<Vec<u8>>,
}

impl Endpoint for Eve {
    fn actor(&self) -> ActorId {
        EVE
    }

    fn transmit(&mut self, rec: &mut Recorder) -> Vec<Transmit> {
        let Some(reply) = self.intercepted.take() else {
            return Vec::new();
        };
        let stripped: Vec<u8> = line::split_lines(&reply)
            .into_iter()
            .filter(|l| !l.eq_ignore_ascii_case(b"250-STARTTLS\r\n"))
            .flat_map(|l| l.iter().copied())
            .collect();
        rec.narrate("smtp.narr.eve_strips_starttls", &[]);
        let mut b = FieldsBuilder::new(0);
        line::reply_fields(&mut b, &stripped, true, Protection::Plaintext);
        vec![Transmit {
            to: CLIENT,
            wire: wire("smtp"),
            label: "smtp.msg.ehlo_reply_stripped".into(),
            bytes: stripped,
            fields: b.finish(),
        }]
    }

    fn receive(
        &mut self,
        _from: ActorId,
        bytes: &[u8],
        _rec: &mut Recorder,
        _rng: &mut dyn RandomSource,
    ) -> Flow {
        self.intercepted = Some(bytes.to_vec());
        Flow::Continue
    }
}

/// Eve on the link: what each message shows her, said once per kind.
struct EveWatch {
    told: Vec<&'static str>,
    body: Body,
}

impl EveWatch {
    fn once(
        &mut self,
        rec: &mut Recorder,
        key: &'static str,
        args: &[(&str, &dyn core::fmt::Display)],
    ) {
        if !self.told.contains(&key) {
            self.told.push(key);
            rec.narrate(key, args);
        }
    }
}

impl Path for EveWatch {
    fn on_wire(
        &mut self,
        rec: &mut Recorder,
        from: ActorId,
        sent: &Transmit,
        arrived: &Delivered,
    ) -> Fate {
        let clear = sent.wire.protocol == "smtp";
        if clear && arrived.tampered.is_some() {
            // SMTP itself has no integrity check: only TLS under it would notice.
            rec.narrate("smtp.narr.clear.tamper_unnoticed", &[]);
        } else {
            NarrateFlips(EVE_TAMPERS).on_wire(rec, from, sent, arrived);
        }
        match sent.label.as_str() {
            "smtp.msg.mail" if clear => self.once(
                rec,
                "smtp.narr.eve_reads_envelope",
                &[
                    ("from", &cipherstage_smime::FROM),
                    ("to", &cipherstage_smime::TO),
                ],
            ),
            "smtp.msg.content" if clear => {
                self.once(rec, "smtp.narr.eve_reads_headers", &[]);
                match self.body {
                    Body::Smime => self.once(rec, "smtp.narr.eve_cannot_read_smime", &[]),
                    Body::Plain => self.once(rec, "smtp.narr.eve_reads_body", &[]),
                }
            }
            "smtp.msg.content" | "smtp.msg.auth" => {
                self.once(rec, "smtp.narr.eve_sees_records", &[]);
            }
            _ => {}
        }
        Fate::Deliver
    }
}
