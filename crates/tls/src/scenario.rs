//! The scenario driver: a browser and a server with virtual hosts over an
//! in-memory link watched by Eve, recorded as a transcript.

use cipherstage_pki::{Cert, KeyKind, Pki, SCENARIO_NOW};
use cipherstage_transcript::rand::{RandomSource, Seeded, Source};
use cipherstage_transcript::{
    drive, Actor, Delivered, Endpoint, Fate, Flow, Layer, Link, NarrateFlips, Path, Recorder, Role,
    Transcript, Transmit, Wire,
};

use crate::common::Outgoing;
use crate::config::{ClientAuth, ClientConfig, Identity, ServerConfig, Signer, VirtualHost};
use crate::enums::{CipherSuite, NamedGroup, SignatureScheme};
use crate::{Client, Connection, Server};

pub use cipherstage_transcript::TamperAt;

const CLIENT: usize = 0;
const SERVER: usize = 1;
const EVE: usize = 2;
const LINK: usize = 0;
/// Upper bound on delivery rounds (a handshake needs fewer than 10).
const MAX_ROUNDS: usize = 32;

/// Which story to tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A full handshake with SNI, then HTTP.
    Success,
    /// No SNI: the default host's certificate, which the browser rejects.
    SniDefault,
    /// An SNI no host answers to: unrecognized_name.
    SniUnknown,
    /// The client's key share is not one the server accepts: HelloRetryRequest.
    Retry,
    /// Mutual TLS that succeeds.
    Mtls,
    /// mTLS, no client certificate: certificate_required.
    MtlsNoCert,
    /// mTLS, client certificate from an untrusted CA: unknown_ca.
    MtlsUntrusted,
    /// mTLS, expired client certificate: certificate_expired.
    MtlsExpired,
    /// mTLS, client certificate without clientAuth: unsupported_certificate.
    MtlsWrongEku,
    /// mTLS, CertificateVerify by another key: decrypt_error.
    MtlsBadCv,
    /// Self-signed server certificate: unknown_ca.
    SelfSigned,
    /// The certificate names another host: bad_certificate.
    WrongHost,
    /// Expired server certificate: certificate_expired.
    ExpiredServer,
    /// Eve flips a byte: bad_record_mac (or what the RFC says for that byte).
    Tamper,
}

impl Kind {
    /// Every story, in the picker's order.
    pub const ALL: [Kind; 14] = [
        Kind::Success,
        Kind::SniDefault,
        Kind::SniUnknown,
        Kind::Retry,
        Kind::Mtls,
        Kind::MtlsNoCert,
        Kind::MtlsUntrusted,
        Kind::MtlsExpired,
        Kind::MtlsWrongEku,
        Kind::MtlsBadCv,
        Kind::SelfSigned,
        Kind::WrongHost,
        Kind::ExpiredServer,
        Kind::Tamper,
    ];

    /// The scenario id (kept in URLs).
    pub const fn id(self) -> &'static str {
        match self {
            Kind::Success => "tls13",
            Kind::SniDefault => "tls-sni-default",
            Kind::SniUnknown => "tls-sni-unknown",
            Kind::Retry => "tls-hrr",
            Kind::Mtls => "mtls",
            Kind::MtlsNoCert => "mtls-no-cert",
            Kind::MtlsUntrusted => "mtls-untrusted",
            Kind::MtlsExpired => "mtls-expired",
            Kind::MtlsWrongEku => "mtls-wrong-eku",
            Kind::MtlsBadCv => "mtls-bad-cv",
            Kind::SelfSigned => "tls-self-signed",
            Kind::WrongHost => "tls-wrong-host",
            Kind::ExpiredServer => "tls-expired-server",
            Kind::Tamper => "tls-tamper",
        }
    }

    /// The story with scenario id `id`.
    pub fn from_id(id: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.id() == id)
    }
}

/// What the user can change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    /// The host the browser wants (sent as SNI unless the story omits it).
    pub sni: String,
    /// The suite the client offers (alone).
    pub suite: CipherSuite,
    /// The group of the client's key share.
    pub group: NamedGroup,
    /// Eve's change (message 0 = the ClientHello, counting both directions).
    pub tamper: Option<TamperAt>,
    /// The virtual hosts the server serves besides its default host (names from
    /// [`VHOST_NAMES`]; others are ignored).
    pub vhosts: Vec<String>,
    /// The certificate the browser holds in the `mtls` story.
    pub client_cert: ClientCert,
    /// The kind of key behind www.example.com's certificate (what CertificateVerify
    /// is signed with).
    pub server_key: KeyKind,
}

/// Host names the test PKI has certificates for.
pub const VHOST_NAMES: &[&str] = &["www.example.com", "shop.example.com"];

/// Which certificate the browser presents when asked (the `mtls` story).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientCert {
    /// alice, issued by the trusted intermediate, clientAuth.
    Alice,
    /// alice with an ECDSA P-256 key.
    AliceEcdsa,
    /// alice, expired.
    Expired,
    /// alice, serverAuth only.
    WrongEku,
    /// alice, issued by an untrusted root.
    Untrusted,
    /// alice's certificate with a key that is not hers.
    Stolen,
    /// No certificate.
    None,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            sni: "www.example.com".into(),
            suite: CipherSuite::Aes128GcmSha256,
            group: NamedGroup::X25519,
            tamper: None,
            vhosts: VHOST_NAMES.iter().map(|n| (*n).to_owned()).collect(),
            client_cert: ClientCert::Alice,
            server_key: KeyKind::Ed25519,
        }
    }
}

const WIRE: Wire<'static> = Wire {
    link: LINK,
    protocol: "tls",
    layer: Layer::Transport,
};

/// A sub-generator drawn from `master` (seeded: from its next 8 bytes; live: live).
pub fn seeded(master: &mut Source) -> Box<dyn RandomSource> {
    match master {
        Source::Seeded(s) => {
            let mut b = [0u8; 8];
            // Seeded never fails.
            let _ = s.fill(&mut b);
            Box::new(Seeded::new(u64::from_be_bytes(b)))
        }
        Source::Live(l) => Box::new(*l),
    }
}

std::thread_local! {
    /// The last PKI built from a seed: re-running a scenario with other parameters
    /// and the same seed reuses it (building 14 certificates is most of a run).
    static PKI_CACHE: core::cell::RefCell<Option<(u64, Pki)>> = const { core::cell::RefCell::new(None) };
}

/// The test PKI for a run, built from `master`'s next draw (cached per seed).
pub fn build_pki(master: &mut Source) -> Result<Pki, cipherstage_pki::PkiError> {
    match master {
        Source::Seeded(s) => {
            let mut b = [0u8; 8];
            // Seeded never fails.
            let _ = s.fill(&mut b);
            let sub = u64::from_be_bytes(b);
            let cached = PKI_CACHE.with(|c| {
                c.borrow()
                    .as_ref()
                    .filter(|(k, _)| *k == sub)
                    .map(|(_, p)| p.clone())
            });
            if let Some(p) = cached {
                return Ok(p);
            }
            let p = Pki::build(&mut Seeded::new(sub))?;
            PKI_CACHE.with(|c| *c.borrow_mut() = Some((sub, p.clone())));
            Ok(p)
        }
        Source::Live(l) => Pki::build(l),
    }
}

fn chain(c: &Cert, pki: &Pki) -> Vec<Vec<u8>> {
    vec![c.der.clone(), pki.intermediate.der.clone()]
}

fn identity(c: &Cert, pki: &Pki) -> Identity {
    Identity {
        chain: chain(c, pki),
        signer: Signer::Key(c.key.clone()),
    }
}

/// The request the browser sends.
pub fn http_request(host: &str) -> String {
    format!(
        "GET / HTTP/1.1\r\nHost: {host}\r\nUser-Agent: cipherstage\r\nAccept: text/html\r\n\r\n"
    )
}

/// The answer of the virtual host `name`.
pub fn http_response(name: &str) -> String {
    let body = format!("<h1>Hello from {name}</h1>\n");
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// The test PKI a seeded run of any TLS scenario uses (built from the seed's first
/// draw, exactly as [`run`] does), for exporting its certificates and keys.
pub fn pki_of(seed: u64) -> Result<Pki, cipherstage_pki::PkiError> {
    build_pki(&mut Source::from_seed(Some(seed)))
}

/// Runs scenario `kind` (recorded under id `scenario`) with `seed` (`None`: live randomness).
pub fn run(scenario: &str, kind: Kind, params: &Params, seed: Option<u64>) -> Transcript {
    let mut master = Source::from_seed(seed);
    let mut d = Recorder::new(params.tamper, Some(EVE));
    match build_pki(&mut master) {
        Ok(pki) => {
            let crng = seeded(&mut master);
            let srng = seeded(&mut master);
            exchange(&mut d, kind, params, &pki, crng, srng);
        }
        Err(_) => d.narrate("tls.narr.pki_failed", &[]),
    }
    Transcript {
        scenario: scenario.to_owned(),
        seed,
        actors: vec![
            Actor {
                role: Role::Client,
                name: "tls.actor.browser".into(),
            },
            Actor {
                role: Role::Server,
                name: "tls.actor.server".into(),
            },
            Actor {
                role: Role::Eavesdropper,
                name: "tls.actor.eve".into(),
            },
        ],
        links: vec![Link {
            a: CLIENT,
            b: SERVER,
            observers: vec![EVE],
        }],
        events: d.events,
    }
}

fn exchange(
    d: &mut Recorder,
    kind: Kind,
    p: &Params,
    pki: &Pki,
    crng: Box<dyn RandomSource>,
    srng: Box<dyn RandomSource>,
) {
    use Kind as K;
    let host = p.sni.clone();
    let mut cc = ClientConfig::new(&host, vec![pki.root.der.clone()], SCENARIO_NOW);
    cc.suites = vec![p.suite];
    cc.key_share_groups = vec![p.group];
    if kind == K::SniDefault {
        cc.sni = None;
    }
    if kind == K::Retry {
        cc.key_share_groups = vec![NamedGroup::X25519];
    }
    let vhost = |names: &[&str], c: &Cert| VirtualHost {
        names: names.iter().map(|n| (*n).to_owned()).collect(),
        identity: identity(c, pki),
    };
    let www = match kind {
        K::SelfSigned => VirtualHost {
            names: vec!["www.example.com".into(), "example.com".into()],
            identity: Identity {
                chain: vec![pki.www_self_signed.der.clone()],
                signer: Signer::Key(pki.www_self_signed.key.clone()),
            },
        },
        K::ExpiredServer => vhost(&["www.example.com", "example.com"], &pki.www_expired),
        _ if p.server_key == KeyKind::EcdsaP256 => {
            vhost(&["www.example.com", "example.com"], &pki.www_ecdsa)
        }
        _ => vhost(&["www.example.com", "example.com"], &pki.www),
    };
    let served = |name: &str| p.vhosts.iter().any(|v| v == name);
    let mut hosts = vec![vhost(&["default.example.net"], &pki.default_host)];
    if served("www.example.com") {
        hosts.push(www);
    }
    if served("shop.example.com") {
        hosts.push(vhost(&["shop.example.com"], &pki.shop));
    }
    if kind == K::WrongHost {
        // The server answers every name with www's certificate.
        hosts = vec![vhost(&["www.example.com", "example.com"], &pki.www)];
    }
    let mut sc = ServerConfig::new(hosts);
    sc.suites = vec![
        CipherSuite::Aes128GcmSha256,
        CipherSuite::Aes256GcmSha384,
        CipherSuite::Chacha20Poly1305Sha256,
    ];
    if kind == K::SniUnknown {
        sc.reject_unknown_names = true;
    }
    if kind == K::Retry {
        sc.groups = vec![NamedGroup::Secp256r1];
    }
    let mtls = matches!(
        kind,
        K::Mtls
            | K::MtlsNoCert
            | K::MtlsUntrusted
            | K::MtlsExpired
            | K::MtlsWrongEku
            | K::MtlsBadCv
    );
    if mtls {
        sc.client_auth = Some(ClientAuth {
            roots: vec![pki.root.der.clone()],
            now: SCENARIO_NOW,
            signature_schemes: vec![
                SignatureScheme::Ed25519,
                SignatureScheme::EcdsaSecp256r1Sha256,
                SignatureScheme::RsaPssRsaeSha256,
            ],
            crls: Vec::new(),
        });
        let kind = match (kind, p.client_cert) {
            (K::Mtls, ClientCert::Expired) => K::MtlsExpired,
            (K::Mtls, ClientCert::WrongEku) => K::MtlsWrongEku,
            (K::Mtls, ClientCert::Untrusted) => K::MtlsUntrusted,
            (K::Mtls, ClientCert::Stolen) => K::MtlsBadCv,
            (K::Mtls, ClientCert::None) => K::MtlsNoCert,
            (k, _) => k,
        };
        cc.identity = match kind {
            K::Mtls if p.client_cert == ClientCert::AliceEcdsa => {
                Some(identity(&pki.alice_ecdsa, pki))
            }
            K::Mtls => Some(identity(&pki.alice, pki)),
            K::MtlsExpired => Some(identity(&pki.alice_expired, pki)),
            K::MtlsWrongEku => Some(identity(&pki.alice_wrong_eku, pki)),
            K::MtlsUntrusted => Some(Identity {
                chain: vec![pki.alice_untrusted.der.clone()],
                signer: Signer::Key(pki.alice_untrusted.key.clone()),
            }),
            K::MtlsBadCv => Some(Identity {
                chain: chain(&pki.alice, pki),
                signer: Signer::Key(pki.stray_key.clone()),
            }),
            _ => None,
        };
    }

    d.narrate(intro(kind), &[("host", &host)]);
    let client = match Client::new(cc, crng, CLIENT) {
        Ok(c) => c,
        Err(e) => {
            d.alert(CLIENT, e.alert.key(), true);
            return;
        }
    };
    let mut browser = Browser {
        conn: client,
        request: http_request(&host),
        ready: false,
        request_sent: false,
    };
    let mut server = WebServer {
        conn: Server::new(sc, srng, SERVER),
        response_sent: false,
    };
    d.events.extend(browser.conn.take_events());
    let mut eve = Eve {
        sni: (kind != K::SniDefault).then_some(host),
        sni_told: false,
    };
    // Both ends own their generators: the run's source is not drawn from.
    let mut unused = Seeded::new(0);
    drive(
        &mut [&mut browser, &mut server],
        &mut eve,
        d,
        &mut unused,
        MAX_ROUNDS,
    );
    if browser.conn.peer_closed() && server.conn.peer_closed() {
        d.narrate("tls.narr.done", &[]);
    }
}

/// A record as the driver sends it.
pub fn transmit(to: usize, wire: Wire<'static>, out: Outgoing) -> Transmit {
    Transmit {
        to,
        wire,
        label: out.label,
        bytes: out.bytes,
        fields: out.fields,
    }
}

/// The records `conn` has to send, for `to` on `wire`.
pub fn records<C: Connection>(conn: &mut C, to: usize, wire: Wire<'static>) -> Vec<Transmit> {
    conn.take_output()
        .into_iter()
        .map(|out| transmit(to, wire, out))
        .collect()
}

/// Takes `bytes` into `conn` and records its events. A TLS error ends in an alert
/// the peer receives, so the run goes on until it is quiet.
pub fn take<C: Connection>(conn: &mut C, bytes: &[u8], d: &mut Recorder) -> Flow {
    let _ = conn.receive(bytes);
    d.events.extend(conn.take_events());
    Flow::Continue
}

/// The browser: connects, asks for `/` once connected, reads the answer and closes.
struct Browser {
    conn: Client,
    request: String,
    /// Connected for a round: the request goes out a round after the client's
    /// Finished, so the server's NewSessionTicket comes first, as it usually does.
    ready: bool,
    request_sent: bool,
}

impl Endpoint for Browser {
    fn actor(&self) -> usize {
        CLIENT
    }

    fn step(&mut self, d: &mut Recorder, _rng: &mut dyn RandomSource, _now: u64) -> bool {
        let mut acted = false;
        if self.conn.is_connected() && !self.conn.is_closed() && !self.request_sent {
            if self.ready {
                let _ = self.conn.send(self.request.as_bytes());
                self.request_sent = true;
            }
            self.ready = true;
            acted = true;
        }
        let got = self.conn.take_app_data();
        if !got.is_empty() {
            let text = String::from_utf8_lossy(&got).into_owned();
            d.narrate("tls.narr.client_reads", &[("text", &text)]);
            self.conn.close();
            acted = true;
        }
        d.events.extend(self.conn.take_events());
        acted
    }

    fn transmit(&mut self, _d: &mut Recorder) -> Vec<Transmit> {
        records(&mut self.conn, SERVER, WIRE)
    }

    fn receive(
        &mut self,
        _from: usize,
        bytes: &[u8],
        d: &mut Recorder,
        _rng: &mut dyn RandomSource,
    ) -> Flow {
        take(&mut self.conn, bytes, d)
    }
}

/// The web server: answers the first request with its virtual host's page and
/// closes when the browser does.
struct WebServer {
    conn: Server,
    response_sent: bool,
}

impl Endpoint for WebServer {
    fn actor(&self) -> usize {
        SERVER
    }

    fn step(&mut self, d: &mut Recorder, _rng: &mut dyn RandomSource, _now: u64) -> bool {
        let mut acted = false;
        let got = self.conn.take_app_data();
        if !got.is_empty() && !self.response_sent {
            let text = String::from_utf8_lossy(&got).into_owned();
            d.narrate("tls.narr.server_reads", &[("text", &text)]);
            let name = self.conn.sni().unwrap_or("default.example.net").to_owned();
            let _ = self.conn.send(http_response(&name).as_bytes());
            self.response_sent = true;
            acted = true;
        }
        acted |= self.conn.answer_close();
        d.events.extend(self.conn.take_events());
        acted
    }

    fn transmit(&mut self, _d: &mut Recorder) -> Vec<Transmit> {
        records(&mut self.conn, CLIENT, WIRE)
    }

    fn receive(
        &mut self,
        _from: usize,
        bytes: &[u8],
        d: &mut Recorder,
        _rng: &mut dyn RandomSource,
    ) -> Flow {
        take(&mut self.conn, bytes, d)
    }
}

/// What Eve says when she flipped a byte of a TLS record.
pub const EVE_TAMPERS: &str = "tls.narr.eve_tampers";

/// Eve on the link: says when she flipped a byte, and what the first ClientHello
/// tells her (the server name in the clear, or none).
struct Eve {
    sni: Option<String>,
    sni_told: bool,
}

impl Path for Eve {
    fn on_wire(
        &mut self,
        d: &mut Recorder,
        from: usize,
        sent: &Transmit,
        arrived: &Delivered,
    ) -> Fate {
        NarrateFlips(EVE_TAMPERS).on_wire(d, from, sent, arrived);
        if from == CLIENT && !self.sni_told {
            self.sni_told = true;
            match &self.sni {
                Some(name) => d.narrate("tls.narr.eve_sees_sni", &[("name", name)]),
                None => d.narrate("tls.narr.eve_sees_no_sni", &[]),
            }
        }
        Fate::Deliver
    }
}

fn intro(kind: Kind) -> &'static str {
    use Kind as K;
    match kind {
        K::Success => "tls.narr.intro.success",
        K::SniDefault => "tls.narr.intro.sni_default",
        K::SniUnknown => "tls.narr.intro.sni_unknown",
        K::Retry => "tls.narr.intro.retry",
        K::Mtls => "tls.narr.intro.mtls",
        K::MtlsNoCert => "tls.narr.intro.mtls_no_cert",
        K::MtlsUntrusted => "tls.narr.intro.mtls_untrusted",
        K::MtlsExpired => "tls.narr.intro.mtls_expired",
        K::MtlsWrongEku => "tls.narr.intro.mtls_wrong_eku",
        K::MtlsBadCv => "tls.narr.intro.mtls_bad_cv",
        K::SelfSigned => "tls.narr.intro.self_signed",
        K::WrongHost => "tls.narr.intro.wrong_host",
        K::ExpiredServer => "tls.narr.intro.expired_server",
        K::Tamper => "tls.narr.intro.tamper",
    }
}
