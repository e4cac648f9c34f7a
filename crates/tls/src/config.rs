//! What each side is told before it starts.

use cipherstage_pki::{Key, KeyKind, VerifyError};
use cipherstage_transcript::rand::RandomSource;

use crate::common::Error;
use crate::enums::{AlertDescription, CipherSuite, NamedGroup, SignatureScheme};

/// Who signs CertificateVerify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signer {
    /// A private key: Ed25519 (deterministic signatures) or ECDSA P-256 (whose
    /// per-signature nonce input comes from the side's random source).
    Key(Key),
    /// A signature recorded elsewhere, replayed as is (RSA-PSS is randomised, so a
    /// replay of a published trace must send the recorded value).
    Recorded {
        /// The scheme it was made with.
        scheme: SignatureScheme,
        /// The signature.
        signature: Vec<u8>,
    },
}

impl Signer {
    /// The scheme it signs with.
    pub fn scheme(&self) -> SignatureScheme {
        match self {
            Signer::Key(k) => match k.kind {
                KeyKind::Ed25519 => SignatureScheme::Ed25519,
                KeyKind::EcdsaP256 => SignatureScheme::EcdsaSecp256r1Sha256,
                KeyKind::Rsa => SignatureScheme::RsaPssRsaeSha256,
            },
            Signer::Recorded { scheme, .. } => *scheme,
        }
    }

    pub(crate) fn sign(&self, msg: &[u8], rng: &mut dyn RandomSource) -> Result<Vec<u8>, Error> {
        match self {
            Signer::Key(k) => k
                .sign(msg, rng)
                .map_err(|_| Error::new(AlertDescription::InternalError)),
            Signer::Recorded { signature, .. } => Ok(signature.clone()),
        }
    }
}

/// A certificate chain (leaf first) and the key that signs for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// DER certificates, leaf first.
    pub chain: Vec<Vec<u8>>,
    /// The signer.
    pub signer: Signer,
}

/// How the client decides whether to trust the server's certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerVerifier {
    /// rustls-webpki chain building to `roots` at `now` (seconds), then the name.
    WebPki {
        /// Trusted root certificates, DER.
        roots: Vec<Vec<u8>>,
        /// Verification time, seconds since the epoch.
        now: u64,
    },
    /// Trust exactly this certificate if `now` is inside its validity; its
    /// CertificateVerify signature is not checked. Only for replaying RFC 8448,
    /// whose 1024-bit RSA key ring refuses to verify.
    Pinned {
        /// The one certificate accepted, DER.
        cert: Vec<u8>,
        /// Seconds since the epoch.
        now: u64,
    },
}

/// Client settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// Offered suites, preferred first.
    pub suites: Vec<CipherSuite>,
    /// supported_groups, preferred first (may list groups without a share).
    pub supported_groups: Vec<NamedGroup>,
    /// Groups to send a key share for in the first ClientHello.
    pub key_share_groups: Vec<NamedGroup>,
    /// signature_algorithms.
    pub signature_schemes: Vec<SignatureScheme>,
    /// The SNI sent (None: no server_name extension).
    pub sni: Option<String>,
    /// The host the user wants: the certificate must name it.
    pub host: String,
    /// How to check the server.
    pub verifier: ServerVerifier,
    /// Certificate for client authentication, if asked.
    pub identity: Option<Identity>,
    /// Send the extra extensions of RFC 8448's client (renegotiation_info,
    /// session_ticket, psk_key_exchange_modes, record_size_limit) in its order.
    pub rfc8448_extensions: bool,
    /// Also send an empty session_ticket extension (RFC 8448 §3's client does).
    pub session_ticket_extension: bool,
    /// Pad a ClientHello of 256–511 bytes to 512 with the padding extension (RFC 7685),
    /// as RFC 8448 §5's client does.
    pub padding: bool,
    /// legacy_session_id (32 bytes for middlebox compatibility, or empty).
    pub session_id: Vec<u8>,
    /// Send each flight's handshake messages in one record.
    pub coalesce: bool,
}

impl ClientConfig {
    /// A client for `host` trusting `roots`, verifying at `now`.
    pub fn new(host: &str, roots: Vec<Vec<u8>>, now: u64) -> ClientConfig {
        ClientConfig {
            suites: vec![
                CipherSuite::Aes128GcmSha256,
                CipherSuite::Aes256GcmSha384,
                CipherSuite::Chacha20Poly1305Sha256,
            ],
            supported_groups: vec![NamedGroup::X25519, NamedGroup::Secp256r1],
            key_share_groups: vec![NamedGroup::X25519],
            signature_schemes: vec![
                SignatureScheme::Ed25519,
                SignatureScheme::EcdsaSecp256r1Sha256,
                SignatureScheme::RsaPssRsaeSha256,
            ],
            sni: Some(host.to_owned()),
            host: host.to_owned(),
            verifier: ServerVerifier::WebPki { roots, now },
            identity: None,
            rfc8448_extensions: false,
            session_ticket_extension: false,
            padding: false,
            session_id: Vec::new(),
            coalesce: false,
        }
    }
}

/// One virtual host of the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualHost {
    /// Names it answers to (matched exactly against SNI).
    pub names: Vec<String>,
    /// Its certificate and key.
    pub identity: Identity,
}

/// Client authentication (mTLS) settings of the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAuth {
    /// Roots client certificates must chain to, DER.
    pub roots: Vec<Vec<u8>>,
    /// Verification time, seconds since the epoch.
    pub now: u64,
    /// signature_algorithms in CertificateRequest.
    pub signature_schemes: Vec<SignatureScheme>,
    /// CRLs (DER) the client's leaf is checked against (openvpn's `--crl-verify`).
    pub crls: Vec<Vec<u8>>,
}

/// What the server puts in its NewSessionTicket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketConfig {
    /// ticket_lifetime, seconds.
    pub lifetime: u32,
    /// ticket_nonce.
    pub nonce: Vec<u8>,
    /// The ticket; `None` draws 32 random bytes (an opaque lookup key).
    pub ticket: Option<Vec<u8>>,
    /// early_data max_early_data_size, if offered.
    pub max_early_data: Option<u32>,
}

/// Server settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// Acceptable suites, preferred first.
    pub suites: Vec<CipherSuite>,
    /// Acceptable groups, preferred first.
    pub groups: Vec<NamedGroup>,
    /// Virtual hosts.
    pub hosts: Vec<VirtualHost>,
    /// Index of the host served without SNI (and for unknown names unless rejected).
    pub default_host: Option<usize>,
    /// Abort with unrecognized_name when SNI names no host.
    pub reject_unknown_names: bool,
    /// Ask for and check a client certificate.
    pub client_auth: Option<ClientAuth>,
    /// Send a NewSessionTicket after the handshake.
    pub ticket: Option<TicketConfig>,
    /// List supported_groups in EncryptedExtensions.
    pub announce_groups: bool,
    /// Answer the client's record_size_limit with this value.
    pub record_size_limit: Option<u16>,
    /// Insist on the most preferred group the client supports, asking for it with a
    /// HelloRetryRequest if the client sent no share for it (otherwise any offered share
    /// of an acceptable group is taken).
    pub strict_group_preference: bool,
    /// Cookie to put in a HelloRetryRequest.
    pub retry_cookie: Option<Vec<u8>>,
    /// Send each flight's handshake messages in one record.
    pub coalesce: bool,
}

impl ServerConfig {
    /// A server with these hosts; the first is the default.
    pub fn new(hosts: Vec<VirtualHost>) -> ServerConfig {
        ServerConfig {
            suites: vec![
                CipherSuite::Aes128GcmSha256,
                CipherSuite::Aes256GcmSha384,
                CipherSuite::Chacha20Poly1305Sha256,
            ],
            groups: vec![NamedGroup::X25519, NamedGroup::Secp256r1],
            hosts,
            default_host: Some(0),
            reject_unknown_names: false,
            client_auth: None,
            ticket: Some(TicketConfig {
                lifetime: 7200,
                nonce: vec![0, 0],
                ticket: None,
                max_early_data: None,
            }),
            announce_groups: false,
            record_size_limit: None,
            strict_group_preference: false,
            retry_cookie: None,
            coalesce: false,
        }
    }
}

/// The alert RFC 9846 §6.2 gives for a rejected certificate.
pub fn alert_for(e: &VerifyError) -> AlertDescription {
    match e {
        VerifyError::UnknownIssuer => AlertDescription::UnknownCa,
        VerifyError::Expired | VerifyError::NotValidYet => AlertDescription::CertificateExpired,
        VerifyError::WrongUsage => AlertDescription::UnsupportedCertificate,
        VerifyError::Revoked => AlertDescription::CertificateRevoked,
        VerifyError::WrongName
        | VerifyError::BadSignature
        | VerifyError::Malformed
        | VerifyError::Other(_) => AlertDescription::BadCertificate,
    }
}
