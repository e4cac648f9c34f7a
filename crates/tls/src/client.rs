//! The client state machine (RFC 9846 §2, client side).

use cipherstage_pki::{verify_chain, verify_signature, Usage, VerifyError};
use cipherstage_transcript::rand::RandomSource;
use cipherstage_transcript::{ActorId, FailReason};

use crate::common::{self, err, group_supported, verify_content, Common, Error, Handler, Share};
use crate::config::{alert_for, ClientConfig, ServerVerifier};
use crate::enums::{AlertDescription, ExtensionType, NamedGroup};
use crate::keys::Suite;
use crate::msgs::{self, CertificateEntry, ClientHello, Extension, Handshake, ServerHello};
use crate::schedule::Schedule;

/// The message the client waits for; the UI shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientState {
    /// ServerHello or HelloRetryRequest.
    ExpectServerHello,
    /// EncryptedExtensions.
    ExpectEncryptedExtensions,
    /// CertificateRequest or Certificate.
    ExpectCertificateOrRequest,
    /// Certificate (after a CertificateRequest).
    ExpectCertificate,
    /// CertificateVerify.
    ExpectCertificateVerify,
    /// Finished.
    ExpectFinished,
    /// Handshake done: application data, NewSessionTicket.
    Connected,
}

/// A TLS 1.3 client.
pub struct Client {
    c: Common,
    config: ClientConfig,
    state: ClientState,
    random: [u8; 32],
    shares: Vec<(NamedGroup, Share, Vec<u8>)>,
    retried: bool,
    schedule: Option<Schedule>,
    server_chain: Vec<Vec<u8>>,
    cert_request: Option<Vec<u8>>,
}

impl Client {
    /// Starts a handshake: draws the random and key shares and queues the ClientHello.
    pub fn new(
        config: ClientConfig,
        rng: Box<dyn RandomSource>,
        actor: ActorId,
    ) -> Result<Client, Error> {
        let mut c = Common::new(actor, rng, config.coalesce);
        let r = c.random("client_random", 32)?;
        let mut random = [0u8; 32];
        random.copy_from_slice(r.get(..32).unwrap_or(&[0; 32]));
        let mut shares = Vec::new();
        for g in config.key_share_groups.clone() {
            let (k, public) = c.key_share(g)?;
            shares.push((g, k, public));
        }
        let mut client = Client {
            c,
            config,
            state: ClientState::ExpectServerHello,
            random,
            shares,
            retried: false,
            schedule: None,
            server_chain: Vec::new(),
            cert_request: None,
        };
        let ch = client.client_hello(None);
        client.c.send_plain(&ch, 0x0301);
        Ok(client)
    }

    fn client_hello(&self, cookie: Option<Vec<u8>>) -> Vec<u8> {
        let cfg = &self.config;
        let other = |t: ExtensionType, b: &[u8]| Extension::Other(t, b.to_vec());
        let mut exts = Vec::new();
        if let Some(name) = &cfg.sni {
            exts.push(Extension::ServerName(Some(name.clone())));
        }
        if cfg.rfc8448_extensions {
            exts.push(other(ExtensionType::RenegotiationInfo, &[0]));
        }
        exts.push(Extension::SupportedGroups(cfg.supported_groups.clone()));
        if cfg.session_ticket_extension {
            exts.push(other(ExtensionType::SessionTicket, &[]));
        }
        exts.push(Extension::KeyShareClient(
            self.shares
                .iter()
                .map(|(g, _, p)| (*g, p.clone()))
                .collect(),
        ));
        exts.push(Extension::VersionsClient(vec![msgs::TLS13]));
        exts.push(Extension::SignatureAlgorithms(
            cfg.signature_schemes.clone(),
        ));
        if let Some(c) = cookie {
            exts.push(Extension::Cookie(c));
        }
        if cfg.rfc8448_extensions {
            exts.push(other(ExtensionType::PskKeyExchangeModes, &[1, 1]));
            exts.push(other(ExtensionType::RecordSizeLimit, &[0x40, 0x01]));
        } else {
            exts.push(other(ExtensionType::PskKeyExchangeModes, &[1, 1]));
        }
        let mut ch = ClientHello {
            random: self.random,
            session_id: cfg.session_id.clone(),
            suites: cfg.suites.clone(),
            compression: vec![0],
            extensions: exts,
        };
        let len = Handshake::ClientHello(ch.clone()).encode().len();
        if cfg.padding && (256..512).contains(&len) && len + 4 < 512 {
            ch.extensions
                .push(other(ExtensionType::Padding, &vec![0; 512 - len - 4]));
        }
        Handshake::ClientHello(ch).encode()
    }

    /// The state, for the UI.
    pub fn state(&self) -> ClientState {
        self.state
    }

    /// The negotiated suite.
    pub fn suite(&self) -> Option<Suite> {
        self.c.suite
    }

    fn server_hello(&mut self, sh: ServerHello, raw: &[u8]) -> Result<(), Error> {
        let version = msgs::find(&sh.extensions, ExtensionType::SupportedVersions);
        if version != Some(&Extension::VersionSelected(msgs::TLS13)) {
            return err(AlertDescription::ProtocolVersion);
        }
        if !self.config.suites.contains(&sh.suite) || sh.session_id != self.config.session_id {
            return err(AlertDescription::IllegalParameter);
        }
        let suite = Suite::find(sh.suite).ok_or(Error::new(AlertDescription::IllegalParameter))?;
        if self.c.suite.is_some_and(|s| s != suite) {
            return err(AlertDescription::IllegalParameter);
        }
        self.c.suite = Some(suite);
        if sh.is_retry() {
            return self.retry(sh, raw);
        }
        let Some(Extension::KeyShareServer(group, peer)) =
            msgs::find(&sh.extensions, ExtensionType::KeyShare)
        else {
            return err(AlertDescription::MissingExtension);
        };
        let pos = self
            .shares
            .iter()
            .position(|(g, _, _)| g == group)
            .ok_or(Error::new(AlertDescription::IllegalParameter))?;
        let (group, private, _) = self.shares.swap_remove(pos);
        self.shares.clear();
        let peer = peer.clone();
        let shared = self.c.agree(group, private, &peer)?;
        self.c.transcript.extend_from_slice(raw);
        let s = Schedule::handshake(&mut self.c, &shared)?;
        self.c.read = Some(self.c.traffic_key("server_handshake", &s.server_hs)?);
        self.c.write = Some(self.c.traffic_key("client_handshake", &s.client_hs)?);
        self.schedule = Some(s);
        self.state = ClientState::ExpectEncryptedExtensions;
        Ok(())
    }

    fn retry(&mut self, hrr: ServerHello, raw: &[u8]) -> Result<(), Error> {
        if self.retried {
            return err(AlertDescription::UnexpectedMessage);
        }
        self.retried = true;
        let Some(Extension::KeyShareRetry(group)) =
            msgs::find(&hrr.extensions, ExtensionType::KeyShare)
        else {
            return err(AlertDescription::IllegalParameter);
        };
        let group = *group;
        if !self.config.supported_groups.contains(&group)
            || self.shares.iter().any(|(g, _, _)| *g == group)
            || !group_supported(group)
        {
            return err(AlertDescription::IllegalParameter);
        }
        let cookie = match msgs::find(&hrr.extensions, ExtensionType::Cookie) {
            Some(Extension::Cookie(c)) => Some(c.clone()),
            _ => None,
        };
        // Transcript = message_hash(Hash(ClientHello1)) ‖ HelloRetryRequest (§4.1).
        let ch1_hash = self.c.transcript_hash();
        self.c.transcript = msgs::message_hash(&ch1_hash);
        self.c.transcript.extend_from_slice(raw);
        self.c
            .narrate("tls.narr.retry", &[("group", group.as_str())]);
        let (k, public) = self.c.key_share(group)?;
        self.shares = vec![(group, k, public)];
        let ch = self.client_hello(cookie);
        self.c.send_plain(&ch, 0x0303);
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
        if chain.is_empty() {
            return err(AlertDescription::DecodeError);
        }
        let host = self.config.host.clone();
        let result = match &self.config.verifier {
            ServerVerifier::WebPki { roots, now } => {
                match verify_chain(&chain, roots, *now, Usage::Server, None) {
                    Ok(()) => {
                        self.c.check("tls.check.server_chain", None);
                        let leaf = chain.first().map(Vec::as_slice).unwrap_or_default();
                        let r = cipherstage_pki::verify_name(leaf, &host);
                        let failed = r.as_ref().err().map(|_| FailReason::Untrusted);
                        self.c.check("tls.check.server_name", failed);
                        r
                    }
                    Err(e) => {
                        self.c
                            .check("tls.check.server_chain", Some(FailReason::Untrusted));
                        Err(e)
                    }
                }
            }
            ServerVerifier::Pinned { cert, now } => {
                let valid = cipherstage_pki::der::validity(cert)
                    .is_some_and(|(a, b)| a <= *now as i64 && *now as i64 <= b);
                let r = if chain.first() != Some(cert) {
                    Err(VerifyError::UnknownIssuer)
                } else if !valid {
                    Err(VerifyError::Expired)
                } else {
                    Ok(())
                };
                let failed = r.as_ref().err().map(|_| FailReason::Untrusted);
                self.c.check("tls.check.server_pinned", failed);
                r
            }
        };
        if let Err(e) = result {
            self.c.narrate(e.key(), &[]);
            if e == VerifyError::WrongName {
                self.c
                    .narrate("tls.narr.browser_warning", &[("host", &host)]);
            }
            return Err(Error::new(alert_for(&e)));
        }
        self.server_chain = chain;
        self.state = ClientState::ExpectCertificateVerify;
        Ok(())
    }

    fn certificate_verify(
        &mut self,
        scheme: crate::enums::SignatureScheme,
        sig: &[u8],
    ) -> Result<(), Error> {
        if !self.config.signature_schemes.contains(&scheme) {
            return err(AlertDescription::IllegalParameter);
        }
        if let ServerVerifier::Pinned { .. } = self.config.verifier {
            self.c.narrate("tls.narr.signature_not_checked", &[]);
            return Ok(());
        }
        let content = verify_content(true, &self.c.transcript_hash());
        let alg = crate::schedule::verify_alg(scheme)
            .ok_or(Error::new(AlertDescription::IllegalParameter))?;
        let leaf = self.server_chain.first().cloned().unwrap_or_default();
        let r = verify_signature(&leaf, alg, &content, sig);
        let failed = r.as_ref().err().map(|_| FailReason::BadSignature);
        self.c.check("tls.check.server_certificate_verify", failed);
        r.map_err(|_| Error::new(AlertDescription::DecryptError))
    }

    fn finished(&mut self, verify: &[u8], raw: &[u8]) -> Result<(), Error> {
        let s = self
            .schedule
            .clone()
            .ok_or(Error::new(AlertDescription::InternalError))?;
        let ok = s.check_finished(&mut self.c, false, verify);
        self.c.check(
            "tls.check.server_finished",
            (!ok).then_some(FailReason::TagMismatch),
        );
        if !ok {
            return err(AlertDescription::DecryptError);
        }
        self.c.transcript.extend_from_slice(raw);
        let mut s = s.application(&mut self.c)?;
        self.c.read = Some(self.c.traffic_key("server_application", &s.server_ap)?);
        if let Some(context) = self.cert_request.clone() {
            let identity = self.config.identity.clone();
            let entries = identity
                .as_ref()
                .map(|i| {
                    i.chain
                        .iter()
                        .map(|der| CertificateEntry {
                            der: der.clone(),
                            extensions: Vec::new(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            let cert = Handshake::Certificate { context, entries }.encode();
            self.c.send_hs(&cert);
            if let Some(i) = identity {
                let content = verify_content(false, &self.c.transcript_hash());
                let signature = i.signer.sign(&content, &mut *self.c.rng)?;
                let cv = Handshake::CertificateVerify {
                    scheme: i.signer.scheme(),
                    signature,
                }
                .encode();
                self.c.send_hs(&cv);
            } else {
                self.c.narrate("tls.narr.no_client_certificate", &[]);
            }
        }
        let fin = s.finished(&mut self.c, true);
        self.c.send_hs(&Handshake::Finished(fin).encode());
        self.c.flush();
        s.resumption(&mut self.c);
        self.c.write = Some(self.c.traffic_key("client_application", &s.client_ap)?);
        self.schedule = Some(s);
        self.c.connected = true;
        self.state = ClientState::Connected;
        self.c.narrate("tls.narr.client_connected", &[]);
        Ok(())
    }
}

#[allow(private_interfaces)]
impl crate::connection::Side for Client {
    fn common_ref(&self) -> &Common {
        &self.c
    }
    fn common_mut(&mut self) -> &mut Common {
        &mut self.c
    }
}

impl crate::Connection for Client {
    fn receive(&mut self, data: &[u8]) -> Result<(), Error> {
        common::receive(self, data)
    }
}

impl Handler for Client {
    fn common(&mut self) -> &mut Common {
        &mut self.c
    }

    fn handle(&mut self, msg: Handshake, raw: &[u8]) -> Result<(), Error> {
        use ClientState as S;
        match (self.state, msg) {
            (S::ExpectServerHello, Handshake::ServerHello(sh)) => self.server_hello(sh, raw),
            (S::ExpectEncryptedExtensions, Handshake::EncryptedExtensions(e)) => {
                if msgs::find(&e, ExtensionType::ServerName).is_some() {
                    self.c.narrate("tls.narr.sni_acknowledged", &[]);
                }
                self.c.transcript.extend_from_slice(raw);
                self.state = S::ExpectCertificateOrRequest;
                Ok(())
            }
            (S::ExpectCertificateOrRequest, Handshake::CertificateRequest { context, .. }) => {
                self.c.narrate("tls.narr.certificate_requested", &[]);
                self.cert_request = Some(context);
                self.c.transcript.extend_from_slice(raw);
                self.state = S::ExpectCertificate;
                Ok(())
            }
            (
                S::ExpectCertificateOrRequest | S::ExpectCertificate,
                Handshake::Certificate { context, entries },
            ) => {
                self.certificate(context, entries)?;
                self.c.transcript.extend_from_slice(raw);
                Ok(())
            }
            (S::ExpectCertificateVerify, Handshake::CertificateVerify { scheme, signature }) => {
                self.certificate_verify(scheme, &signature)?;
                self.c.transcript.extend_from_slice(raw);
                self.state = S::ExpectFinished;
                Ok(())
            }
            (S::ExpectFinished, Handshake::Finished(v)) => self.finished(&v, raw),
            (S::Connected, Handshake::NewSessionTicket { nonce, .. }) => {
                if let Some(s) = self.schedule.clone() {
                    s.ticket_psk(&mut self.c, &nonce);
                }
                self.c.narrate("tls.narr.ticket_received", &[]);
                Ok(())
            }
            _ => err(AlertDescription::UnexpectedMessage),
        }
    }
}
