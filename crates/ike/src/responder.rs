//! The responder of an IKE SA: answers IKE_SA_INIT (or refuses it with
//! NO_PROPOSAL_CHOSEN / INVALID_KE_PAYLOAD), checks the initiator's AUTH, assigns an
//! address from its pool, narrows the traffic selectors and sets up the CHILD_SA.

use cipherstage_transcript::rand::RandomSource;
use cipherstage_transcript::{FailReason, Formula, FormulaInput};

use crate::auth::{self, CertAuth, Trust};
use crate::consts::{self, cfg, exchange, flags, notify, protocol};
use crate::crypto::{DhPrivate, Encr, Group};
use crate::keys::{child_keymat, psk_auth, IkeKeys, Schedule};
use crate::negotiate;
use crate::wire::{self, Header, Payload, Selector};
use crate::{nat_hash, Addr, ChildSa, Error, Established, Identity, Note, Outgoing};

/// What the responder accepts and who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponderConfig {
    /// IKE SA encryption transforms accepted.
    pub encrs: Vec<Encr>,
    /// DH groups accepted, in preference order (the first is asked for when the
    /// initiator's KE is of a group we do not accept).
    pub groups: Vec<Group>,
    /// ESP transforms accepted.
    pub child_encrs: Vec<Encr>,
    /// Our identity (IDr).
    pub id: Identity,
    /// The identity the initiator must prove, if restricted.
    pub peer_id: Option<Identity>,
    /// The pre-shared key (for our AUTH when `cert` is `None`, for the peer's when
    /// `trust` is `None`).
    pub psk: Vec<u8>,
    /// Our certificate and key: AUTH by digital signature instead of the PSK.
    pub cert: Option<CertAuth>,
    /// The roots the initiator's certificate must chain to: its AUTH must be a signature.
    pub trust: Option<Trust>,
    /// The virtual address to hand out (and the DNS server), for CP requests.
    pub pool: Option<([u8; 4], Option<[u8; 4]>)>,
    /// What may be reached through us (narrows TSr).
    pub local_ts: Selector,
    /// What may be on the initiator's side when no address is assigned (narrows TSi).
    pub remote_ts: Selector,
    /// Our address and port.
    pub local: Addr,
}

/// IKE_SA_INIT answered; waiting for IKE_AUTH.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectAuthRequest {
    spi_i: [u8; 8],
    spi_r: [u8; 8],
    ni: Vec<u8>,
    nr: Vec<u8>,
    group: Group,
    keys: IkeKeys,
    /// The IKE_SA_INIT request as received (RealMessage1).
    sa_init_request: Vec<u8>,
    /// Our IKE_SA_INIT response as sent (RealMessage2).
    sa_init_response: Vec<u8>,
    nat: bool,
}

/// Where the responder is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResponderState {
    /// Waiting for an IKE_SA_INIT request (it keeps no state for refused ones).
    ExpectSaInit,
    /// Waiting for IKE_AUTH.
    ExpectAuthRequest(Box<ExpectAuthRequest>),
    /// The IKE SA and its first CHILD_SA are up.
    Established(Box<Established>),
    /// The exchange ended with this notify.
    Failed {
        /// Notify message type.
        notify: u16,
    },
}

impl ResponderState {
    /// Stable key naming the state.
    pub fn key(&self) -> &'static str {
        match self {
            ResponderState::ExpectSaInit => "ike.state.expect_sa_init",
            ResponderState::ExpectAuthRequest(_) => "ike.state.expect_auth_request",
            ResponderState::Established(_) => "ike.state.established",
            ResponderState::Failed { .. } => "ike.state.failed",
        }
    }
}

/// An IKEv2 responder: datagrams in, datagrams and notes out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Responder {
    config: ResponderConfig,
    state: ResponderState,
    out: Vec<Outgoing>,
    notes: Vec<Note>,
    /// The last request answered and our answer, to answer a retransmission the same.
    last: Option<(Vec<u8>, Outgoing)>,
    /// The keys of an IKE SA whose IKE_AUTH we refused (the refusal is encrypted with them).
    refused: Option<([u8; 8], [u8; 8], IkeKeys)>,
}

impl Responder {
    /// A responder waiting for IKE_SA_INIT.
    pub fn new(config: ResponderConfig) -> Self {
        Responder {
            config,
            state: ResponderState::ExpectSaInit,
            out: Vec::new(),
            notes: Vec::new(),
            last: None,
            refused: None,
        }
    }

    /// Its state.
    pub fn state(&self) -> &ResponderState {
        &self.state
    }

    /// The established SA, once there is one.
    pub fn established(&self) -> Option<&Established> {
        match &self.state {
            ResponderState::Established(e) => Some(e),
            _ => None,
        }
    }

    /// SPIi, SPIr and the IKE SA's keys, once derived (also after a failed IKE_AUTH).
    pub fn keys(&self) -> Option<([u8; 8], [u8; 8], &IkeKeys)> {
        match &self.state {
            ResponderState::ExpectAuthRequest(s) => Some((s.spi_i, s.spi_r, &s.keys)),
            ResponderState::Established(e) => Some((e.spi_i, e.spi_r, &e.keys)),
            ResponderState::Failed { .. } => self.refused.as_ref().map(|(i, r, k)| (*i, *r, k)),
            ResponderState::ExpectSaInit => None,
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

    /// A datagram from `from`.
    pub fn receive(
        &mut self,
        bytes: &[u8],
        from: Addr,
        rng: &mut dyn RandomSource,
    ) -> Result<(), Error> {
        if let Some((req, resp)) = &self.last {
            if req == bytes {
                // A retransmitted request gets the same answer (§2.1).
                self.out.push(resp.clone());
                return Ok(());
            }
        }
        let state = core::mem::replace(&mut self.state, ResponderState::ExpectSaInit);
        let (next, result) = match state {
            ResponderState::ExpectSaInit => self.on_sa_init(bytes, from, rng),
            ResponderState::ExpectAuthRequest(s) => self.on_auth(*s, bytes, rng),
            other => (other, Err(Error::Unexpected)),
        };
        self.state = next;
        if result.is_ok() {
            if let Some(resp) = self.out.last() {
                self.last = Some((bytes.to_vec(), resp.clone()));
            }
        }
        result
    }

    /// Queues an IKE_SA_INIT response carrying only `ty` (an error, §2.21.1).
    fn refuse_sa_init(&mut self, h: &Header, ty: u16, data: Vec<u8>) {
        let header = Header {
            spi_i: h.spi_i,
            spi_r: [0; 8],
            next: 0,
            exchange: exchange::IKE_SA_INIT,
            flags: flags::RESPONSE,
            message_id: 0,
            length: 0,
        };
        let (bytes, fields) = wire::emit_plain(header, &[Payload::notify(ty, data)]);
        self.out.push(Outgoing {
            label: "ike.msg.ike_sa_init_response",
            bytes,
            fields,
        });
    }

    fn on_sa_init(
        &mut self,
        bytes: &[u8],
        from: Addr,
        rng: &mut dyn RandomSource,
    ) -> (ResponderState, Result<(), Error>) {
        let idle = ResponderState::ExpectSaInit;
        let parsed = match wire::parse(bytes, None) {
            Ok(p) => p,
            Err(e) => {
                // A broken IKE_SA_INIT request is dropped: nothing is established yet.
                self.notes.push(Note::Check {
                    what: "ike.check.decode",
                    failed: Some(FailReason::Malformed),
                });
                return (idle, Err(e.into()));
            }
        };
        let h = parsed.header;
        if h.is_response()
            || h.exchange != exchange::IKE_SA_INIT
            || h.spi_r != [0; 8]
            || h.message_id != 0
            || h.flags & flags::INITIATOR == 0
        {
            return (idle, Err(Error::Unexpected));
        }
        let c = self.config.clone();
        let mut offered = None;
        let mut ke = None;
        let mut ni = None;
        let (mut nat_src, mut nat_dst) = (None, None);
        let mut sig_hash = false;
        for p in &parsed.payloads {
            match p {
                Payload::Sa(props) => offered = Some(props.clone()),
                Payload::Ke { group, data } => ke = Some((*group, data.clone())),
                Payload::Nonce(n) => ni = Some(n.clone()),
                Payload::Notify { ty, data, .. } => match *ty {
                    notify::NAT_DETECTION_SOURCE_IP => nat_src = Some(data.clone()),
                    notify::NAT_DETECTION_DESTINATION_IP => nat_dst = Some(data.clone()),
                    notify::SIGNATURE_HASH_ALGORITHMS => sig_hash = true,
                    _ => {}
                },
                _ => {}
            }
        }
        let (Some(offered), Some((ke_group, ke_data)), Some(ni)) = (offered, ke, ni) else {
            self.refuse_sa_init(&h, notify::INVALID_SYNTAX, Vec::new());
            return (idle, Err(Error::Syntax));
        };
        let Some((num, encr, _)) = negotiate::choose_ike(&offered, &c.encrs, &c.groups) else {
            self.notes.push(Note::Say {
                key: "ike.narr.no_proposal",
                args: Vec::new(),
            });
            self.refuse_sa_init(&h, notify::NO_PROPOSAL_CHOSEN, Vec::new());
            self.notes.push(Note::Failed {
                notify: notify::NO_PROPOSAL_CHOSEN,
            });
            return (idle, Ok(()));
        };
        let acceptable = negotiate::offered_groups(&offered, num, &c.groups);
        let ke_ok = Group::from_number(ke_group).filter(|g| acceptable.contains(g));
        let Some(group) = ke_ok else {
            // The KE is of a group we do not take: name the one we want (§1.2).
            let want = c
                .groups
                .iter()
                .find(|g| acceptable.contains(g))
                .copied()
                .unwrap_or(Group::Curve25519);
            self.notes.push(Note::Say {
                key: "ike.narr.ask_group",
                args: vec![("group", want.as_str().to_owned())],
            });
            self.refuse_sa_init(
                &h,
                notify::INVALID_KE_PAYLOAD,
                want.number().to_be_bytes().to_vec(),
            );
            return (idle, Ok(()));
        };
        self.notes.push(Note::Say {
            key: "ike.narr.chose",
            args: vec![
                ("encr", encr.esp().name().to_owned()),
                ("group", group.as_str().to_owned()),
            ],
        });
        let mut spi_r = [0u8; 8];
        let mut nr = vec![0u8; consts::NONCE_LEN];
        let dh = match rng
            .fill(&mut spi_r)
            .and_then(|()| rng.fill(&mut nr))
            .map_err(Error::from)
            .and_then(|()| DhPrivate::generate(group, rng).map_err(Error::from))
        {
            Ok(dh) => dh,
            Err(e) => return (idle, Err(e)),
        };
        let shared = match dh.agree(&ke_data) {
            Ok(s) => s,
            Err(e) => {
                self.notes.push(Note::Check {
                    what: "ike.check.ke",
                    failed: Some(FailReason::Malformed),
                });
                self.refuse_sa_init(&h, notify::INVALID_SYNTAX, Vec::new());
                return (idle, Err(e.into()));
            }
        };
        // NAT detection on the request (its SPIr is zero).
        let nat = match (nat_src, nat_dst) {
            (Some(src), Some(dst)) => {
                let src_ok = src == nat_hash(&h.spi_i, &h.spi_r, from);
                let dst_ok = dst == nat_hash(&h.spi_i, &h.spi_r, c.local);
                self.notes.push(Note::Check {
                    what: "ike.check.nat_source",
                    failed: (!src_ok).then_some(FailReason::Malformed),
                });
                self.notes.push(Note::Check {
                    what: "ike.check.nat_destination",
                    failed: (!dst_ok).then_some(FailReason::Malformed),
                });
                let nat = !(src_ok && dst_ok);
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
            _ => false,
        };
        let header = Header {
            spi_i: h.spi_i,
            spi_r,
            next: 0,
            exchange: exchange::IKE_SA_INIT,
            flags: flags::RESPONSE,
            message_id: 0,
            length: 0,
        };
        let mut payloads = vec![
            Payload::Sa(vec![negotiate::accepted(
                num,
                protocol::IKE,
                Vec::new(),
                encr,
                Some(group),
            )]),
            Payload::Ke {
                group: group.number(),
                data: dh.public().to_vec(),
            },
            Payload::Nonce(nr.clone()),
            Payload::notify(
                notify::NAT_DETECTION_SOURCE_IP,
                nat_hash(&h.spi_i, &spi_r, c.local),
            ),
            Payload::notify(
                notify::NAT_DETECTION_DESTINATION_IP,
                nat_hash(&h.spi_i, &spi_r, from),
            ),
        ];
        if sig_hash {
            payloads.push(Payload::notify(
                notify::SIGNATURE_HASH_ALGORITHMS,
                vec![0, 2, 0, 3, 0, 4],
            ));
        }
        let (resp, fields) = wire::emit_plain(header, &payloads);
        self.notes.push(Note::Secret {
            name: "ike.secret.g_ir".into(),
            bytes: shared.clone(),
            formula: Formula {
                key: format!("ike.formula.dh_{}", group.as_str()),
                inputs: vec![
                    FormulaInput {
                        name: "ike.input.own_private".into(),
                        bytes: dh.seed().to_vec(),
                    },
                    FormulaInput {
                        name: "ike.input.ke_i".into(),
                        bytes: ke_data.clone(),
                    },
                ],
            },
        });
        let keys = match IkeKeys::derive(
            Schedule {
                encr,
                ni: &ni,
                nr: &nr,
                spi_i: h.spi_i,
                spi_r,
                shared: &shared,
            },
            &mut self.notes,
        ) {
            Ok(k) => k,
            Err(e) => return (idle, Err(e.into())),
        };
        self.out.push(Outgoing {
            label: "ike.msg.ike_sa_init_response",
            bytes: resp.clone(),
            fields,
        });
        let next = ExpectAuthRequest {
            spi_i: h.spi_i,
            spi_r,
            ni,
            nr,
            group,
            keys,
            sa_init_request: bytes.to_vec(),
            sa_init_response: resp,
            nat,
        };
        (ResponderState::ExpectAuthRequest(Box::new(next)), Ok(()))
    }

    fn answer(
        &mut self,
        s: &ExpectAuthRequest,
        inner: &[Payload],
        rng: &mut dyn RandomSource,
    ) -> Result<(), Error> {
        let mut iv = [0u8; 8];
        rng.fill(&mut iv)?;
        let header = Header {
            spi_i: s.spi_i,
            spi_r: s.spi_r,
            next: 0,
            exchange: exchange::IKE_AUTH,
            flags: flags::RESPONSE,
            message_id: 1,
            length: 0,
        };
        let (bytes, fields) = wire::emit_encrypted(header, inner, s.keys.encr, &s.keys.sk_er, iv)?;
        self.out.push(Outgoing {
            label: "ike.msg.ike_auth_response",
            bytes,
            fields,
        });
        Ok(())
    }

    fn refuse_auth(
        &mut self,
        s: ExpectAuthRequest,
        ty: u16,
        rng: &mut dyn RandomSource,
    ) -> (ResponderState, Result<(), Error>) {
        let sent = self.answer(&s, &[Payload::notify(ty, Vec::new())], rng);
        self.notes.push(Note::Failed { notify: ty });
        self.refused = Some((s.spi_i, s.spi_r, s.keys));
        (ResponderState::Failed { notify: ty }, sent)
    }

    fn on_auth(
        &mut self,
        s: ExpectAuthRequest,
        bytes: &[u8],
        rng: &mut dyn RandomSource,
    ) -> (ResponderState, Result<(), Error>) {
        let keep = |s: ExpectAuthRequest| ResponderState::ExpectAuthRequest(Box::new(s));
        let header_ok = Header::parse(bytes).is_ok_and(|h| {
            !h.is_response()
                && h.exchange == exchange::IKE_AUTH
                && h.spi_i == s.spi_i
                && h.spi_r == s.spi_r
                && h.message_id == 1
        });
        if !header_ok {
            return (keep(s), Err(Error::Unexpected));
        }
        let parsed = match wire::parse(bytes, Some((s.keys.encr, &s.keys.sk_ei))) {
            Ok(p) => p,
            Err(wire::ReadError::Integrity) => {
                self.notes.push(Note::Check {
                    what: "ike.check.sk_icv",
                    failed: Some(FailReason::TagMismatch),
                });
                self.notes.push(Note::Say {
                    key: "ike.narr.sk_dropped",
                    args: Vec::new(),
                });
                return (keep(s), Err(Error::Integrity));
            }
            Err(wire::ReadError::Decode(e)) => {
                // It decrypted, so it is the peer's: answer INVALID_SYNTAX (§2.21.2).
                self.notes.push(Note::Check {
                    what: "ike.check.decode",
                    failed: Some(FailReason::Malformed),
                });
                let (st, _) = self.refuse_auth(s, notify::INVALID_SYNTAX, rng);
                return (st, Err(Error::Decode(e)));
            }
        };
        self.notes.push(Note::Check {
            what: "ike.check.sk_icv",
            failed: None,
        });
        let c = self.config.clone();
        let mut idi = None;
        let mut auth = None;
        let mut cp_request = false;
        let mut certs = Vec::new();
        let mut sa = None;
        let (mut tsi, mut tsr) = (None, None);
        for p in &parsed.payloads {
            match p {
                Payload::Id {
                    initiator: true,
                    ty,
                    data,
                } => {
                    idi = Some(Identity {
                        ty: *ty,
                        data: data.clone(),
                    })
                }
                Payload::Auth { method, data } => auth = Some((*method, data.clone())),
                Payload::Cp { ty, .. } if *ty == cfg::REQUEST => cp_request = true,
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
        let (Some(idi), Some((method, auth)), Some(sa), Some(tsi), Some(tsr)) =
            (idi, auth, sa, tsi, tsr)
        else {
            return self.refuse_auth(s, notify::INVALID_SYNTAX, rng);
        };
        let id_ok = c.peer_id.as_ref().is_none_or(|p| *p == idi);
        self.notes.push(Note::Check {
            what: "ike.check.peer_id",
            failed: (!id_ok).then_some(FailReason::Untrusted),
        });
        let octets = auth::signed_octets(&s.sa_init_request, &s.nr, &s.keys.sk_pi, &idi.body());
        let auth_ok = id_ok
            && auth::check_peer(
                &mut self.notes,
                &c.psk,
                c.trust.as_ref(),
                &certs,
                &idi,
                method,
                &auth,
                &octets,
            );
        if !auth_ok {
            self.notes.push(Note::Say {
                key: "ike.narr.auth_failed",
                args: Vec::new(),
            });
            return self.refuse_auth(s, notify::AUTHENTICATION_FAILED, rng);
        }
        let Some((num, encr, spi_i)) = negotiate::choose_esp(&sa, &c.child_encrs) else {
            return self.refuse_auth(s, notify::NO_PROPOSAL_CHOSEN, rng);
        };
        let assigned = if cp_request { c.pool } else { None };
        if cp_request && assigned.is_none() {
            return self.refuse_auth(s, notify::INTERNAL_ADDRESS_FAILURE, rng);
        }
        // Narrowing (§2.9): the initiator's side is its assigned address, if it has one.
        let tsi_limit = assigned.map_or(c.remote_ts, |(a, _)| Selector::host(a));
        let tsi_n: Vec<Selector> = tsi.iter().filter_map(|t| t.intersect(&tsi_limit)).collect();
        let tsr_n: Vec<Selector> = tsr
            .iter()
            .filter_map(|t| t.intersect(&c.local_ts))
            .collect();
        if tsi_n.is_empty() || tsr_n.is_empty() {
            return self.refuse_auth(s, notify::TS_UNACCEPTABLE, rng);
        }
        let mut spi = [0u8; 4];
        if let Err(e) = rng.fill(&mut spi) {
            return (keep(s), Err(e.into()));
        }
        let spi_r = u32::from_be_bytes(spi) | 0x0000_0100;
        let mut inner = vec![Payload::Id {
            initiator: false,
            ty: c.id.ty,
            data: c.id.data.clone(),
        }];
        for der in c.cert.iter().flat_map(|k| &k.chain) {
            inner.push(Payload::Cert {
                encoding: auth::X509_SIGNATURE,
                data: der.clone(),
            });
        }
        let (method, data) = match &c.cert {
            Some(cert) => {
                let octets =
                    auth::signed_octets(&s.sa_init_response, &s.ni, &s.keys.sk_pr, &c.id.body());
                match auth::sign(cert, &octets, rng) {
                    Some(sig) => (consts::auth_method::DIGITAL_SIGNATURE, sig),
                    None => {
                        return (
                            keep(s),
                            Err(Error::Crypto(crate::crypto::CryptoError::Internal)),
                        )
                    }
                }
            }
            None => (
                consts::auth_method::SHARED_KEY_MIC,
                psk_auth(
                    &c.psk,
                    &s.sa_init_response,
                    &s.ni,
                    &s.keys.sk_pr,
                    &c.id.body(),
                )
                .to_vec(),
            ),
        };
        inner.push(Payload::Auth { method, data });
        if let Some((addr, dns)) = assigned {
            let mut attrs = vec![(cfg::INTERNAL_IP4_ADDRESS, addr.to_vec())];
            if let Some(d) = dns {
                attrs.push((cfg::INTERNAL_IP4_DNS, d.to_vec()));
            }
            inner.push(Payload::Cp {
                ty: cfg::REPLY,
                attrs,
            });
            self.notes.push(Note::Say {
                key: "ike.narr.address_assigned",
                args: vec![("address", wire::ipv4(&addr))],
            });
        }
        inner.push(Payload::Sa(vec![negotiate::accepted(
            num,
            protocol::ESP,
            spi_r.to_be_bytes().to_vec(),
            encr,
            None,
        )]));
        inner.push(Payload::Ts {
            initiator: true,
            selectors: tsi_n.clone(),
        });
        inner.push(Payload::Ts {
            initiator: false,
            selectors: tsr_n.clone(),
        });
        let (key_i, key_r) = match child_keymat(encr, &s.keys.sk_d, &s.ni, &s.nr, &mut self.notes) {
            Ok(k) => k,
            Err(e) => return (keep(s), Err(e.into())),
        };
        if let Err(e) = self.answer(&s, &inner, rng) {
            return (keep(s), Err(e));
        }
        self.notes.push(Note::Say {
            key: "ike.narr.established",
            args: vec![
                ("spi_i", format!("0x{spi_i:08x}")),
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
                spi_i,
                spi_r,
                key_i,
                key_r,
                tsi: tsi_n,
                tsr: tsr_n,
            },
            assigned,
            nat: s.nat,
        };
        (ResponderState::Established(Box::new(est)), Ok(()))
    }
}
