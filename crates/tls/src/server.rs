//! The server state machine (RFC 9846 §2, server side), with SNI virtual hosts
//! and optional client authentication.

use cipherstage_pki::{verify_signature, Usage};
use cipherstage_transcript::rand::RandomSource;
use cipherstage_transcript::{ActorId, FailReason};

use crate::common::{
    self, err, group_supported, verify_content, Common, Error, Handler, SERVER_CV_CONTEXT,
};
use crate::config::{alert_for, ServerConfig};
use crate::enums::{AlertDescription, ContentType, ExtensionType, NamedGroup};
use crate::keys::Suite;
use crate::msgs::{self, CertificateEntry, ClientHello, Extension, Handshake, ServerHello};
use crate::schedule::Schedule;

/// The message the server waits for; the UI shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerState {
    /// The (first or, after a HelloRetryRequest, second) ClientHello.
    ExpectClientHello,
    /// The client's Certificate (mTLS).
    ExpectCertificate,
    /// The client's CertificateVerify (mTLS).
    ExpectCertificateVerify,
    /// The client's Finished.
    ExpectFinished,
    /// Handshake done.
    Connected,
}

/// A TLS 1.3 server.
pub struct Server {
    c: Common,
    config: ServerConfig,
    state: ServerState,
    retried: Option<NamedGroup>,
    schedule: Option<Schedule>,
    client_chain: Vec<Vec<u8>>,
    sni: Option<String>,
}

impl Server {
    /// A server waiting for a ClientHello.
    pub fn new(config: ServerConfig, rng: Box<dyn RandomSource>, actor: ActorId) -> Server {
        Server {
            c: Common::new(actor, rng, config.coalesce),
            config,
            state: ServerState::ExpectClientHello,
            retried: None,
            schedule: None,
            client_chain: Vec::new(),
            sni: None,
        }
    }

    /// The state, for the UI.
    pub fn state(&self) -> ServerState {
        self.state
    }

    /// The SNI the client sent.
    pub fn sni(&self) -> Option<&str> {
        self.sni.as_deref()
    }

    /// The client's certificate chain, once verified.
    pub fn client_chain(&self) -> &[Vec<u8>] {
        &self.client_chain
    }

    fn client_hello(&mut self, ch: ClientHello, raw: &[u8]) -> Result<(), Error> {
        let cfg = self.config.clone();
        if ch.compression != [0] {
            return err(AlertDescription::IllegalParameter);
        }
        match msgs::find(&ch.extensions, ExtensionType::SupportedVersions) {
            Some(Extension::VersionsClient(v)) if v.contains(&msgs::TLS13) => {}
            _ => return err(AlertDescription::ProtocolVersion),
        }
        let suite = cfg
            .suites
            .iter()
            .find(|s| ch.suites.contains(s))
            .and_then(|s| Suite::find(*s))
            .ok_or(Error::new(AlertDescription::HandshakeFailure))?;
        if self.c.suite.is_some_and(|s| s != suite) {
            return err(AlertDescription::IllegalParameter);
        }
        self.c.suite = Some(suite);
        let Some(Extension::SignatureAlgorithms(schemes)) =
            msgs::find(&ch.extensions, ExtensionType::SignatureAlgorithms)
        else {
            return err(AlertDescription::MissingExtension);
        };
        let shares = match msgs::find(&ch.extensions, ExtensionType::KeyShare) {
            Some(Extension::KeyShareClient(v)) => v.clone(),
            _ => return err(AlertDescription::MissingExtension),
        };
        let offered_groups = match msgs::find(&ch.extensions, ExtensionType::SupportedGroups) {
            Some(Extension::SupportedGroups(v)) => v.clone(),
            _ => return err(AlertDescription::MissingExtension),
        };
        // Virtual host by SNI.
        let sni = match msgs::find(&ch.extensions, ExtensionType::ServerName) {
            Some(Extension::ServerName(Some(n))) => Some(n.clone()),
            _ => None,
        };
        let mut matched = false;
        let host = match &sni {
            Some(name) => {
                let found = cfg.hosts.iter().position(|h| h.names.contains(name));
                match found {
                    Some(i) => {
                        matched = true;
                        Some(i)
                    }
                    None if cfg.reject_unknown_names => {
                        self.c.narrate("tls.narr.sni_unknown", &[("name", name)]);
                        return err(AlertDescription::UnrecognizedName);
                    }
                    None => cfg.default_host,
                }
            }
            None => {
                self.c.narrate("tls.narr.no_sni_default_host", &[]);
                cfg.default_host
            }
        };
        let host = host
            .and_then(|i| cfg.hosts.get(i))
            .ok_or(Error::new(AlertDescription::UnrecognizedName))?
            .clone();
        if let (Some(name), true) = (&sni, matched) {
            self.c.narrate("tls.narr.sni_selected", &[("name", name)]);
        }
        if !schemes.contains(&host.identity.signer.scheme()) {
            return err(AlertDescription::HandshakeFailure);
        }
        // Key exchange: a share we accept, else ask for one (HelloRetryRequest).
        let acceptable = |g: &NamedGroup| offered_groups.contains(g) && group_supported(*g);
        let wanted = cfg.groups.iter().find(|g| acceptable(g)).copied();
        let chosen = if cfg.strict_group_preference {
            wanted.and_then(|w| shares.iter().find(|(g, _)| *g == w))
        } else {
            cfg.groups
                .iter()
                .find_map(|g| shares.iter().find(|(sg, _)| sg == g && group_supported(*g)))
        };
        let Some((group, peer)) = chosen.cloned() else {
            return match (wanted, self.retried) {
                (Some(g), None) => self.retry(&ch, g, raw),
                (_, Some(_)) => err(AlertDescription::IllegalParameter),
                _ => err(AlertDescription::HandshakeFailure),
            };
        };
        if self.retried.is_some_and(|g| g != group) {
            return err(AlertDescription::IllegalParameter);
        }
        self.sni = sni.clone();
        self.c.transcript.extend_from_slice(raw);

        let r = self.c.random("server_random", 32)?;
        let mut random = [0u8; 32];
        random.copy_from_slice(r.get(..32).unwrap_or(&[0; 32]));
        let (private, public) = self.c.key_share(group)?;
        let shared = self.c.agree(group, private, &peer)?;
        let sh = Handshake::ServerHello(ServerHello {
            random,
            session_id: ch.session_id.clone(),
            suite: suite.id,
            extensions: vec![
                Extension::KeyShareServer(group, public),
                Extension::VersionSelected(msgs::TLS13),
            ],
        })
        .encode();
        self.c.send_plain(&sh, 0x0303);
        let s = Schedule::handshake(&mut self.c, &shared)?;
        self.c.write = Some(self.c.traffic_key("server_handshake", &s.server_hs)?);
        self.c.read = Some(self.c.traffic_key("client_handshake", &s.client_hs)?);

        let mut ee = Vec::new();
        if cfg.announce_groups {
            ee.push(Extension::SupportedGroups(cfg.groups.clone()));
        }
        let client_limit = msgs::find(&ch.extensions, ExtensionType::RecordSizeLimit).is_some();
        if let (Some(limit), true) = (cfg.record_size_limit, client_limit) {
            ee.push(Extension::Other(
                ExtensionType::RecordSizeLimit,
                limit.to_be_bytes().to_vec(),
            ));
        }
        if matched {
            ee.push(Extension::ServerName(None));
        }
        self.c.send_hs(&Handshake::EncryptedExtensions(ee).encode());
        if let Some(auth) = &cfg.client_auth {
            let cr = Handshake::CertificateRequest {
                context: Vec::new(),
                extensions: vec![Extension::SignatureAlgorithms(
                    auth.signature_schemes.clone(),
                )],
            };
            self.c.send_hs(&cr.encode());
        }
        let cert = Handshake::Certificate {
            context: Vec::new(),
            entries: host
                .identity
                .chain
                .iter()
                .map(|der| CertificateEntry {
                    der: der.clone(),
                    extensions: Vec::new(),
                })
                .collect(),
        };
        self.c.send_hs(&cert.encode());
        let th = self.c.transcript_hash();
        let content = verify_content(true, &th);
        let signature = host.identity.signer.sign(&content, &mut *self.c.rng)?;
        self.c.secret(
            "server_signed_content",
            &content,
            "signed_content",
            &[
                ("context_string", SERVER_CV_CONTEXT),
                ("transcript_hash", &th),
            ],
        );
        let cv = Handshake::CertificateVerify {
            scheme: host.identity.signer.scheme(),
            signature,
        };
        self.c.send_hs(&cv.encode());
        let fin = s.finished(&mut self.c, false);
        self.c.send_hs(&Handshake::Finished(fin).encode());
        self.c.flush();
        let s = s.application(&mut self.c)?;
        self.c.write = Some(self.c.traffic_key("server_application", &s.server_ap)?);
        self.schedule = Some(s);
        self.state = if cfg.client_auth.is_some() {
            ServerState::ExpectCertificate
        } else {
            ServerState::ExpectFinished
        };
        Ok(())
    }

    fn retry(&mut self, ch: &ClientHello, group: NamedGroup, raw: &[u8]) -> Result<(), Error> {
        self.retried = Some(group);
        let suite = self
            .c
            .suite
            .ok_or(Error::new(AlertDescription::InternalError))?;
        let mut exts = vec![Extension::KeyShareRetry(group)];
        if let Some(c) = &self.config.retry_cookie {
            exts.push(Extension::Cookie(c.clone()));
        }
        exts.push(Extension::VersionSelected(msgs::TLS13));
        let hrr = Handshake::ServerHello(ServerHello {
            random: msgs::HRR_RANDOM,
            session_id: ch.session_id.clone(),
            suite: suite.id,
            extensions: exts,
        })
        .encode();
        self.c.transcript = msgs::message_hash(&suite.hash.digest(raw));
        self.c
            .narrate("tls.narr.retry", &[("group", group.as_str())]);
        self.c.send_plain(&hrr, 0x0303);
        Ok(())
    }

    fn certificate(
        &mut self,
        context: Vec<u8>,
        entries: Vec<CertificateEntry>,
    ) -> Result<(), Error> {
        if !context.is_empty() {
            return err(AlertDescription::IllegalParameter);
        }
        let chain: Vec<Vec<u8>> = entries.into_iter().map(|e| e.der).collect();
        let Some(auth) = self.config.client_auth.clone() else {
            return err(AlertDescription::UnexpectedMessage);
        };
        if chain.is_empty() {
            self.c
                .check("tls.check.client_certificate", Some(FailReason::Untrusted));
            self.c.narrate("tls.narr.client_sent_no_certificate", &[]);
            return err(AlertDescription::CertificateRequired);
        }
        let r = cipherstage_pki::authority::verify_chain_with_crls(
            &chain,
            &auth.roots,
            auth.now,
            Usage::Client,
            &auth.crls,
        );
        let failed = r.as_ref().err().map(|_| FailReason::Untrusted);
        self.c.check("tls.check.client_certificate", failed);
        if let Err(e) = r {
            self.c.narrate(e.key(), &[]);
            return Err(Error::new(alert_for(&e)));
        }
        self.client_chain = chain;
        self.state = ServerState::ExpectCertificateVerify;
        Ok(())
    }

    fn certificate_verify(
        &mut self,
        scheme: crate::enums::SignatureScheme,
        sig: &[u8],
    ) -> Result<(), Error> {
        let offered = self
            .config
            .client_auth
            .as_ref()
            .is_some_and(|a| a.signature_schemes.contains(&scheme));
        if !offered {
            return err(AlertDescription::IllegalParameter);
        }
        let content = verify_content(false, &self.c.transcript_hash());
        let alg = crate::schedule::verify_alg(scheme)
            .ok_or(Error::new(AlertDescription::IllegalParameter))?;
        let leaf = self.client_chain.first().cloned().unwrap_or_default();
        let r = verify_signature(&leaf, alg, &content, sig);
        let failed = r.as_ref().err().map(|_| FailReason::BadSignature);
        self.c.check("tls.check.client_certificate_verify", failed);
        r.map_err(|_| Error::new(AlertDescription::DecryptError))
    }

    fn finished(&mut self, verify: &[u8], raw: &[u8]) -> Result<(), Error> {
        let mut s = self
            .schedule
            .clone()
            .ok_or(Error::new(AlertDescription::InternalError))?;
        let ok = s.check_finished(&mut self.c, true, verify);
        self.c.check(
            "tls.check.client_finished",
            (!ok).then_some(FailReason::TagMismatch),
        );
        if !ok {
            return err(AlertDescription::DecryptError);
        }
        self.c.transcript.extend_from_slice(raw);
        self.c.read = Some(self.c.traffic_key("client_application", &s.client_ap)?);
        s.resumption(&mut self.c);
        self.c.connected = true;
        self.state = ServerState::Connected;
        self.c.narrate("tls.narr.server_connected", &[]);
        if let Some(t) = self.config.ticket.clone() {
            let age = self.c.random("ticket_age_add", 4)?;
            let age_add = age.iter().fold(0u32, |a, x| (a << 8) | u32::from(*x));
            let ticket = match t.ticket {
                Some(b) => b,
                None => self.c.random("ticket", 32)?,
            };
            let extensions = t
                .max_early_data
                .map(|m| {
                    vec![Extension::Other(
                        ExtensionType::EarlyData,
                        m.to_be_bytes().to_vec(),
                    )]
                })
                .unwrap_or_default();
            s.ticket_psk(&mut self.c, &t.nonce);
            let nst = Handshake::NewSessionTicket {
                lifetime: t.lifetime,
                age_add,
                nonce: t.nonce,
                ticket,
                extensions,
            };
            // Sent as its own record, after the handshake transcript is closed.
            self.c.seal(ContentType::Handshake, &nst.encode());
        }
        self.schedule = Some(s);
        Ok(())
    }
}

#[allow(private_interfaces)]
impl crate::connection::Side for Server {
    fn common_ref(&self) -> &Common {
        &self.c
    }
    fn common_mut(&mut self) -> &mut Common {
        &mut self.c
    }
}

impl crate::Connection for Server {
    fn receive(&mut self, data: &[u8]) -> Result<(), Error> {
        common::receive(self, data)
    }
}

impl Handler for Server {
    fn common(&mut self) -> &mut Common {
        &mut self.c
    }

    fn handle(&mut self, msg: Handshake, raw: &[u8]) -> Result<(), Error> {
        use ServerState as S;
        match (self.state, msg) {
            (S::ExpectClientHello, Handshake::ClientHello(ch)) => self.client_hello(ch, raw),
            (S::ExpectCertificate, Handshake::Certificate { context, entries }) => {
                self.certificate(context, entries)?;
                self.c.transcript.extend_from_slice(raw);
                if self.client_chain.is_empty() {
                    self.state = S::ExpectFinished;
                }
                Ok(())
            }
            (S::ExpectCertificateVerify, Handshake::CertificateVerify { scheme, signature }) => {
                self.certificate_verify(scheme, &signature)?;
                self.c.transcript.extend_from_slice(raw);
                self.state = S::ExpectFinished;
                Ok(())
            }
            (S::ExpectFinished, Handshake::Finished(v)) => self.finished(&v, raw),
            _ => err(AlertDescription::UnexpectedMessage),
        }
    }
}
