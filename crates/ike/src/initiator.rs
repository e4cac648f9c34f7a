//! The original initiator of an IKE SA: IKE_SA_INIT (retried with the group the
//! responder asks for), then IKE_AUTH with a pre-shared key, CP and the first CHILD_SA.

use cipherstage_transcript::rand::RandomSource;
use cipherstage_transcript::FailReason;

use crate::auth::{self, CertAuth, Trust};
use crate::consts::{self, cfg, exchange, flags, notify};
use crate::crypto::{DhPrivate, Encr, Group};
use crate::keys::{child_keymat, psk_auth, IkeKeys, Schedule};
use crate::negotiate;
use crate::wire::{self, Header, Payload, Selector};
use crate::{nat_hash, Addr, ChildSa, Error, Established, Identity, Note, Outgoing};

/// What the initiator offers and who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitiatorConfig {
    /// IKE SA encryption transforms offered, in preference order.
    pub encrs: Vec<Encr>,
    /// DH groups offered; the first one's KE is sent first.
    pub groups: Vec<Group>,
    /// ESP transforms offered for the CHILD_SA.
    pub child_encrs: Vec<Encr>,
    /// Our identity (IDi).
    pub id: Identity,
    /// The identity we expect the responder to prove (sent as IDr too), if any.
    pub peer_id: Option<Identity>,
    /// The pre-shared key (for our AUTH when `cert` is `None`, for the peer's when
    /// `trust` is `None`).
    pub psk: Vec<u8>,
    /// Our certificate and key: AUTH by digital signature instead of the PSK.
    pub cert: Option<CertAuth>,
    /// The roots the peer's certificate must chain to: its AUTH must be a signature.
    pub trust: Option<Trust>,
    /// Whether to ask for a virtual address and DNS server (CP CFG_REQUEST).
    pub request_address: bool,
    /// Our side of the tunnel as proposed (TSi).
    pub tsi: Selector,
    /// The far side (TSr).
    pub tsr: Selector,
    /// Our address and port, as we send from.
    pub local: Addr,
    /// The responder's address and port, as we send to.
    pub remote: Addr,
}

/// Waiting for the IKE_SA_INIT response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectSaInitResponse {
    spi_i: [u8; 8],
    ni: Vec<u8>,
    dh: DhPrivate,
    /// The request as sent (RealMessage1 of the AUTH computation).
    request: Vec<u8>,
    /// How many times the responder asked for another group (one retry allowed).
    retries: u8,
}

/// Waiting for the IKE_AUTH response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectAuthResponse {
    spi_i: [u8; 8],
    spi_r: [u8; 8],
    ni: Vec<u8>,
    nr: Vec<u8>,
    group: Group,
    keys: IkeKeys,
    /// The IKE_SA_INIT response as received (RealMessage2).
    sa_init_response: Vec<u8>,
    /// Our inbound ESP SPI.
    esp_spi: u32,
    nat: bool,
}

/// Where the initiator is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InitiatorState {
    /// Nothing sent yet.
    Idle,
    /// IKE_SA_INIT sent.
    ExpectSaInitResponse(ExpectSaInitResponse),
    /// IKE_AUTH sent.
    ExpectAuthResponse(Box<ExpectAuthResponse>),
    /// The IKE SA and its first CHILD_SA are up.
    Established(Box<Established>),
    /// The exchange ended with this notify.
    Failed {
        /// Notify message type.
        notify: u16,
    },
}

impl InitiatorState {
    /// Stable key naming the state (`ike.state.expect_sa_init_response`).
    pub fn key(&self) -> &'static str {
        match self {
            InitiatorState::Idle => "ike.state.idle",
            InitiatorState::ExpectSaInitResponse(_) => "ike.state.expect_sa_init_response",
            InitiatorState::ExpectAuthResponse(_) => "ike.state.expect_auth_response",
            InitiatorState::Established(_) => "ike.state.established",
            InitiatorState::Failed { .. } => "ike.state.failed",
        }
    }
}

/// An IKEv2 initiator: datagrams in, datagrams and notes out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Initiator {
    config: InitiatorConfig,
    state: InitiatorState,
    out: Vec<Outgoing>,
    notes: Vec<Note>,
    /// The last request, for retransmission.
    last_request: Option<Outgoing>,
}

impl Initiator {
    /// An initiator that has sent nothing.
    pub fn new(config: InitiatorConfig) -> Self {
        Initiator {
            config,
            state: InitiatorState::Idle,
            out: Vec::new(),
            notes: Vec::new(),
            last_request: None,
        }
    }

    /// Its state.
    pub fn state(&self) -> &InitiatorState {
        &self.state
    }

    /// The established SA, once there is one.
    pub fn established(&self) -> Option<&Established> {
        match &self.state {
            InitiatorState::Established(e) => Some(e),
            _ => None,
        }
    }

    /// The datagrams queued since the last call.
    pub fn take_outgoing(&mut self) -> Vec<Outgoing> {
        core::mem::take(&mut self.out)
    }

    /// The notes recorded since the last call.
    pub fn take_notes(&mut self) -> Vec<Note> {
        core::mem::take(&mut self.notes)
    }

    /// Sends the last request again (the retransmission timer fired); false if there
    /// is nothing awaiting an answer.
    pub fn retransmit(&mut self) -> bool {
        let waiting = matches!(
            self.state,
            InitiatorState::ExpectSaInitResponse(_) | InitiatorState::ExpectAuthResponse(_)
        );
        match (&self.last_request, waiting) {
            (Some(r), true) => {
                self.out.push(r.clone());
                self.notes.push(Note::Say {
                    key: "ike.narr.retransmit",
                    args: Vec::new(),
                });
                true
            }
            _ => false,
        }
    }

    /// Starts the exchange: queues IKE_SA_INIT with a KE for the first group.
    pub fn start(&mut self, rng: &mut dyn RandomSource) -> Result<(), Error> {
        if self.state != InitiatorState::Idle {
            return Err(Error::Unexpected);
        }
        let mut spi_i = [0u8; 8];
        rng.fill(&mut spi_i)?;
        let mut ni = vec![0u8; consts::NONCE_LEN];
        rng.fill(&mut ni)?;
        let group = *self.config.groups.first().ok_or(Error::Syntax)?;
        let dh = DhPrivate::generate(group, rng)?;
        self.send_sa_init(spi_i, ni, dh, 0);
        Ok(())
    }

    fn send_sa_init(&mut self, spi_i: [u8; 8], ni: Vec<u8>, dh: DhPrivate, retries: u8) {
        let c = &self.config;
        let zero = [0u8; 8];
        let header = Header {
            spi_i,
            spi_r: zero,
            next: 0,
            exchange: exchange::IKE_SA_INIT,
            flags: flags::INITIATOR,
            message_id: 0,
            length: 0,
        };
        let payloads = vec![
            Payload::Sa(vec![negotiate::ike_proposal(&c.encrs, &c.groups)]),
            Payload::Ke {
                group: dh.group().number(),
                data: dh.public().to_vec(),
            },
            Payload::Nonce(ni.clone()),
            Payload::notify(
                notify::NAT_DETECTION_SOURCE_IP,
                nat_hash(&spi_i, &zero, c.local),
            ),
            Payload::notify(
                notify::NAT_DETECTION_DESTINATION_IP,
                nat_hash(&spi_i, &zero, c.remote),
            ),
            Payload::notify(notify::SIGNATURE_HASH_ALGORITHMS, vec![0, 2, 0, 3, 0, 4]),
        ];
        let (bytes, fields) = wire::emit_plain(header, &payloads);
        self.notes.push(Note::Say {
            key: "ike.narr.sa_init_sent",
            args: vec![("group", dh.group().as_str().to_owned())],
        });
        let msg = Outgoing {
            label: "ike.msg.ike_sa_init_request",
            bytes: bytes.clone(),
            fields,
        };
        self.last_request = Some(msg.clone());
        self.out.push(msg);
        self.state = InitiatorState::ExpectSaInitResponse(ExpectSaInitResponse {
            spi_i,
            ni,
            dh,
            request: bytes,
            retries,
        });
    }

    /// A datagram from the responder.
    pub fn receive(&mut self, bytes: &[u8], rng: &mut dyn RandomSource) -> Result<(), Error> {
        let state = core::mem::replace(&mut self.state, InitiatorState::Idle);
        let (next, result) = match state {
            InitiatorState::ExpectSaInitResponse(s) => self.on_sa_init(s, bytes, rng),
            InitiatorState::ExpectAuthResponse(s) => self.on_auth(*s, bytes),
            other => (other, Err(Error::Unexpected)),
        };
        self.state = next;
        result
    }

    fn fail(&mut self, notify: u16) -> InitiatorState {
        self.notes.push(Note::Failed { notify });
        InitiatorState::Failed { notify }
    }

    fn on_sa_init(
        &mut self,
        s: ExpectSaInitResponse,
        bytes: &[u8],
        rng: &mut dyn RandomSource,
    ) -> (InitiatorState, Result<(), Error>) {
        let parsed = match wire::parse(bytes, None) {
            Ok(p) => p,
            Err(e) => {
                self.notes.push(Note::Check {
                    what: "ike.check.decode",
                    failed: Some(FailReason::Malformed),
                });
                return (InitiatorState::ExpectSaInitResponse(s), Err(e.into()));
            }
        };
        let h = parsed.header;
        if !h.is_response()
            || h.exchange != exchange::IKE_SA_INIT
            || h.spi_i != s.spi_i
            || h.message_id != 0
        {
            return (
                InitiatorState::ExpectSaInitResponse(s),
                Err(Error::Unexpected),
            );
        }
        let c = self.config.clone();
        // An error notify answers instead of an SA (§2.21.1).
        for p in &parsed.payloads {
            if let Payload::Notify { ty, data, .. } = p {
                if *ty == notify::INVALID_KE_PAYLOAD {
                    let wanted = data
                        .as_slice()
                        .try_into()
                        .ok()
                        .map(u16::from_be_bytes)
                        .and_then(Group::from_number)
                        .filter(|g| c.groups.contains(g) && *g != s.dh.group());
                    return match (wanted, s.retries) {
                        (Some(g), 0) => {
                            self.notes.push(Note::Say {
                                key: "ike.narr.invalid_ke",
                                args: vec![("group", g.as_str().to_owned())],
                            });
                            match DhPrivate::generate(g, rng) {
                                Ok(dh) => {
                                    self.send_sa_init(s.spi_i, s.ni, dh, 1);
                                    let st =
                                        core::mem::replace(&mut self.state, InitiatorState::Idle);
                                    (st, Ok(()))
                                }
                                Err(e) => (self.fail(notify::INVALID_KE_PAYLOAD), Err(e.into())),
                            }
                        }
                        _ => (self.fail(notify::INVALID_KE_PAYLOAD), Err(Error::Syntax)),
                    };
                }
                if *ty < 16384 {
                    self.notes.push(Note::Say {
                        key: "ike.narr.error_notify",
                        args: vec![("notify", consts::notify_name(*ty))],
                    });
                    return (self.fail(*ty), Err(Error::Syntax));
                }
            }
        }
        let mut answer = None;
        let mut ke = None;
        let mut nr = None;
        let (mut nat_src, mut nat_dst) = (None, None);
        for p in &parsed.payloads {
            match p {
                Payload::Sa(props) => answer = Some(props.clone()),
                Payload::Ke { group, data } => ke = Some((*group, data.clone())),
                Payload::Nonce(n) => nr = Some(n.clone()),
                Payload::Notify { ty, data, .. } if *ty == notify::NAT_DETECTION_SOURCE_IP => {
                    nat_src = Some(data.clone())
                }
                Payload::Notify { ty, data, .. } if *ty == notify::NAT_DETECTION_DESTINATION_IP => {
                    nat_dst = Some(data.clone())
                }
                _ => {}
            }
        }
        let (Some(answer), Some((ke_group, ke_data)), Some(nr)) = (answer, ke, nr) else {
            return (self.fail(notify::INVALID_SYNTAX), Err(Error::Syntax));
        };
        let chosen = negotiate::check_answer_ike(&answer, &c.encrs, &c.groups)
            .filter(|(_, g)| *g == s.dh.group() && g.number() == ke_group);
        self.notes.push(Note::Check {
            what: "ike.check.sa_answer",
            failed: chosen.is_none().then_some(FailReason::Malformed),
        });
        let Some((encr, group)) = chosen else {
            return (self.fail(notify::NO_PROPOSAL_CHOSEN), Err(Error::Syntax));
        };
        self.notes.push(Note::Say {
            key: "ike.narr.chose",
            args: vec![
                ("encr", encr.esp().name().to_owned()),
                ("group", group.as_str().to_owned()),
            ],
        });
        // NAT detection (§2.23): our own address as the responder saw it, and theirs.
        let nat = self.nat_checks(&h, nat_src, nat_dst);
        let shared = match s.dh.agree(&ke_data) {
            Ok(k) => k,
            Err(e) => {
                self.notes.push(Note::Check {
                    what: "ike.check.ke",
                    failed: Some(FailReason::Malformed),
                });
                return (self.fail(notify::INVALID_SYNTAX), Err(e.into()));
            }
        };
        self.notes.push(Note::Secret {
            name: "ike.secret.g_ir".into(),
            bytes: shared.clone(),
            formula: cipherstage_transcript::Formula {
                key: format!("ike.formula.dh_{}", group.as_str()),
                inputs: vec![
                    cipherstage_transcript::FormulaInput {
                        name: "ike.input.own_private".into(),
                        bytes: s.dh.seed().to_vec(),
                    },
                    cipherstage_transcript::FormulaInput {
                        name: "ike.input.ke_r".into(),
                        bytes: ke_data.clone(),
                    },
                ],
            },
        });
        let keys = match IkeKeys::derive(
            Schedule {
                encr,
                ni: &s.ni,
                nr: &nr,
                spi_i: s.spi_i,
                spi_r: h.spi_r,
                shared: &shared,
            },
            &mut self.notes,
        ) {
            Ok(k) => k,
            Err(e) => return (self.fail(notify::INVALID_SYNTAX), Err(e.into())),
        };
        let next = ExpectAuthResponse {
            spi_i: s.spi_i,
            spi_r: h.spi_r,
            ni: s.ni,
            nr,
            group,
            keys,
            sa_init_response: bytes.to_vec(),
            esp_spi: 0,
            nat,
        };
        match self.send_auth(next, &s.request, rng) {
            Ok(st) => (InitiatorState::ExpectAuthResponse(Box::new(st)), Ok(())),
            Err(e) => (self.fail(notify::INVALID_SYNTAX), Err(e)),
        }
    }

    fn nat_checks(&mut self, h: &Header, src: Option<Vec<u8>>, dst: Option<Vec<u8>>) -> bool {
        let (Some(src), Some(dst)) = (src, dst) else {
            return false;
        };
        let dst_ok = dst == nat_hash(&h.spi_i, &h.spi_r, self.config.local);
        let src_ok = src == nat_hash(&h.spi_i, &h.spi_r, self.config.remote);
        self.notes.push(Note::Check {
            what: "ike.check.nat_destination",
            failed: (!dst_ok).then_some(FailReason::Malformed),
        });
        self.notes.push(Note::Check {
            what: "ike.check.nat_source",
            failed: (!src_ok).then_some(FailReason::Malformed),
        });
        let nat = !(dst_ok && src_ok);
        self.notes.push(Note::Say {
            key: if nat {
                "ike.narr.nat_detected"
            } else {
                "ike.narr.no_nat"
            },
            args: Vec::new(),
        });
        nat
    }

    fn send_auth(
        &mut self,
        mut s: ExpectAuthResponse,
        sa_init_request: &[u8],
        rng: &mut dyn RandomSource,
    ) -> Result<ExpectAuthResponse, Error> {
        let c = &self.config;
        let mut spi = [0u8; 4];
        rng.fill(&mut spi)?;
        // SPIs 1–255 are reserved (RFC 4303 §2.1).
        s.esp_spi = u32::from_be_bytes(spi) | 0x0000_0100;
        let mut iv = [0u8; 8];
        rng.fill(&mut iv)?;
        let (method, auth) = match &c.cert {
            Some(cert) => {
                let octets =
                    auth::signed_octets(sa_init_request, &s.nr, &s.keys.sk_pi, &c.id.body());
                let sig = auth::sign(cert, &octets, rng)
                    .ok_or(Error::Crypto(crate::crypto::CryptoError::Internal))?;
                (consts::auth_method::DIGITAL_SIGNATURE, sig)
            }
            None => (
                consts::auth_method::SHARED_KEY_MIC,
                psk_auth(&c.psk, sa_init_request, &s.nr, &s.keys.sk_pi, &c.id.body()).to_vec(),
            ),
        };
        let mut inner = vec![Payload::Id {
            initiator: true,
            ty: c.id.ty,
            data: c.id.data.clone(),
        }];
        for der in c.cert.iter().flat_map(|k| &k.chain) {
            inner.push(Payload::Cert {
                encoding: auth::X509_SIGNATURE,
                data: der.clone(),
            });
        }
        if let Some(peer) = &c.peer_id {
            inner.push(Payload::Id {
                initiator: false,
                ty: peer.ty,
                data: peer.data.clone(),
            });
        }
        inner.push(Payload::Auth { method, data: auth });
        if c.request_address {
            inner.push(Payload::Cp {
                ty: cfg::REQUEST,
                attrs: vec![
                    (cfg::INTERNAL_IP4_ADDRESS, Vec::new()),
                    (cfg::INTERNAL_IP4_DNS, Vec::new()),
                ],
            });
        }
        inner.push(Payload::Sa(vec![negotiate::esp_proposal(
            &c.child_encrs,
            s.esp_spi,
        )]));
        inner.push(Payload::Ts {
            initiator: true,
            selectors: vec![c.tsi],
        });
        inner.push(Payload::Ts {
            initiator: false,
            selectors: vec![c.tsr],
        });
        let header = Header {
            spi_i: s.spi_i,
            spi_r: s.spi_r,
            next: 0,
            exchange: exchange::IKE_AUTH,
            flags: flags::INITIATOR,
            message_id: 1,
            length: 0,
        };
        let (bytes, fields) = wire::emit_encrypted(header, &inner, s.keys.encr, &s.keys.sk_ei, iv)?;
        self.notes.push(Note::Say {
            key: "ike.narr.auth_sent",
            args: Vec::new(),
        });
        let msg = Outgoing {
            label: "ike.msg.ike_auth_request",
            bytes,
            fields,
        };
        self.last_request = Some(msg.clone());
        self.out.push(msg);
        Ok(s)
    }

    fn on_auth(
        &mut self,
        s: ExpectAuthResponse,
        bytes: &[u8],
    ) -> (InitiatorState, Result<(), Error>) {
        let keep = |s: ExpectAuthResponse| InitiatorState::ExpectAuthResponse(Box::new(s));
        let header_ok = Header::parse(bytes).is_ok_and(|h| {
            h.is_response()
                && h.exchange == exchange::IKE_AUTH
                && h.spi_i == s.spi_i
                && h.spi_r == s.spi_r
                && h.message_id == 1
        });
        if !header_ok {
            return (keep(s), Err(Error::Unexpected));
        }
        let parsed = match wire::parse(bytes, Some((s.keys.encr, &s.keys.sk_er))) {
            Ok(p) => p,
            Err(e) => {
                let integrity = e == wire::ReadError::Integrity;
                self.notes.push(Note::Check {
                    what: "ike.check.sk_icv",
                    failed: Some(if integrity {
                        FailReason::TagMismatch
                    } else {
                        FailReason::Malformed
                    }),
                });
                self.notes.push(Note::Say {
                    key: "ike.narr.sk_dropped",
                    args: Vec::new(),
                });
                return (keep(s), Err(e.into()));
            }
        };
        self.notes.push(Note::Check {
            what: "ike.check.sk_icv",
            failed: None,
        });
        let c = self.config.clone();
        let mut idr = None;
        let mut auth = None;
        let mut cp = None;
        let mut certs = Vec::new();
        let mut sa = None;
        let (mut tsi, mut tsr) = (None, None);
        for p in &parsed.payloads {
            match p {
                Payload::Notify { ty, .. } if *ty < 16384 => {
                    self.notes.push(Note::Say {
                        key: "ike.narr.error_notify",
                        args: vec![("notify", consts::notify_name(*ty))],
                    });
                    return (self.fail(*ty), Err(Error::Syntax));
                }
                Payload::Id {
                    initiator: false,
                    ty,
                    data,
                } => {
                    idr = Some(Identity {
                        ty: *ty,
                        data: data.clone(),
                    })
                }
                Payload::Auth { method, data } => auth = Some((*method, data.clone())),
                Payload::Cp { ty, attrs } if *ty == cfg::REPLY => cp = Some(attrs.clone()),
                Payload::Cert { encoding, data } if *encoding == auth::X509_SIGNATURE => {
                    certs.push(data.clone())
                }
                Payload::Sa(props) => sa = Some(props.clone()),
                Payload::Ts {
                    initiator: true,
                    selectors,
                } => tsi = Some(selectors.clone()),
                Payload::Ts {
                    initiator: false,
                    selectors,
                } => tsr = Some(selectors.clone()),
                _ => {}
            }
        }
        let (Some(idr), Some((method, auth))) = (idr, auth) else {
            return (self.fail(notify::INVALID_SYNTAX), Err(Error::Syntax));
        };
        let id_ok = c.peer_id.as_ref().is_none_or(|p| *p == idr);
        self.notes.push(Note::Check {
            what: "ike.check.peer_id",
            failed: (!id_ok).then_some(FailReason::Untrusted),
        });
        let octets = auth::signed_octets(&s.sa_init_response, &s.ni, &s.keys.sk_pr, &idr.body());
        let auth_ok = id_ok
            && crate::auth::check_peer(
                &mut self.notes,
                &c.psk,
                c.trust.as_ref(),
                &certs,
                &idr,
                method,
                &auth,
                &octets,
            );
        if !auth_ok {
            return (self.fail(notify::AUTHENTICATION_FAILED), Err(Error::Syntax));
        }
        let child = sa.and_then(|a| negotiate::check_answer_esp(&a, &c.child_encrs));
        let (Some((encr, spi_r)), Some(tsi), Some(tsr)) = (child, tsi, tsr) else {
            return (self.fail(notify::NO_PROPOSAL_CHOSEN), Err(Error::Syntax));
        };
        let assigned = cp.and_then(|attrs| {
            let get = |t| {
                attrs
                    .iter()
                    .find(|(a, v)| *a == t && v.len() == 4)
                    .and_then(|(_, v)| <[u8; 4]>::try_from(v.as_slice()).ok())
            };
            get(cfg::INTERNAL_IP4_ADDRESS).map(|a| (a, get(cfg::INTERNAL_IP4_DNS)))
        });
        if c.request_address && assigned.is_none() {
            return (
                self.fail(notify::INTERNAL_ADDRESS_FAILURE),
                Err(Error::Syntax),
            );
        }
        if let Some((a, _)) = assigned {
            self.notes.push(Note::Say {
                key: "ike.narr.address_assigned",
                args: vec![("address", wire::ipv4(&a))],
            });
        }
        let (key_i, key_r) = match child_keymat(encr, &s.keys.sk_d, &s.ni, &s.nr, &mut self.notes) {
            Ok(k) => k,
            Err(e) => return (self.fail(notify::INVALID_SYNTAX), Err(e.into())),
        };
        self.notes.push(Note::Say {
            key: "ike.narr.established",
            args: vec![
                ("spi_i", format!("0x{:08x}", s.esp_spi)),
                ("spi_r", format!("0x{spi_r:08x}")),
                ("encr", encr.esp().name().to_owned()),
            ],
        });
        let est = Established {
            spi_i: s.spi_i,
            spi_r: s.spi_r,
            group: s.group,
            keys: s.keys,
            child: ChildSa {
                encr,
                spi_i: s.esp_spi,
                spi_r,
                key_i,
                key_r,
                tsi,
                tsr,
            },
            assigned,
            nat: s.nat,
        };
        self.last_request = None;
        (InitiatorState::Established(Box::new(est)), Ok(()))
    }
}
