//! IKEv2 numbers from the IANA registries RFC 7296 §3 defines, with their stable keys.
//!
//! Unknown values are kept as numbers and named `ike.value.unknown`, so a received
//! message round-trips and the field tree still names every byte.

/// IKE version byte: major 2, minor 0 (§3.1).
pub const VERSION: u8 = 0x20;
/// Length of the IKE header (§3.1).
pub const HEADER_LEN: usize = 28;
/// Length of a generic payload header (§3.2).
pub const PAYLOAD_HEADER_LEN: usize = 4;
/// Largest message we read or write (a UDP datagram's payload on IPv4).
pub const MAX_MESSAGE: usize = 65_507;
/// Most payloads in one message (a chain longer than this is refused).
pub const MAX_PAYLOADS: usize = 64;
/// Most proposals in one SA payload.
pub const MAX_PROPOSALS: usize = 16;
/// Most transforms in one proposal.
pub const MAX_TRANSFORMS: usize = 32;
/// Most selectors in one TS payload, and attributes in one CP payload.
pub const MAX_ITEMS: usize = 16;
/// Nonce length we send (§2.10: at least half the PRF key size, 16 to 256 bytes).
pub const NONCE_LEN: usize = 32;

/// Header flags (§3.1).
pub mod flags {
    /// Sent by the original initiator of the IKE SA.
    pub const INITIATOR: u8 = 0x08;
    /// The message is a response.
    pub const RESPONSE: u8 = 0x20;
}

/// Exchange types (§3.1).
pub mod exchange {
    /// IKE_SA_INIT.
    pub const IKE_SA_INIT: u8 = 34;
    /// IKE_AUTH.
    pub const IKE_AUTH: u8 = 35;
    /// CREATE_CHILD_SA.
    pub const CREATE_CHILD_SA: u8 = 36;
    /// INFORMATIONAL.
    pub const INFORMATIONAL: u8 = 37;
}

/// Stable key of an exchange type.
pub fn exchange_key(v: u8) -> &'static str {
    match v {
        exchange::IKE_SA_INIT => "ike.value.ike_sa_init",
        exchange::IKE_AUTH => "ike.value.ike_auth",
        exchange::CREATE_CHILD_SA => "ike.value.create_child_sa",
        exchange::INFORMATIONAL => "ike.value.informational",
        _ => "ike.value.unknown",
    }
}

/// Payload types (§3.2).
pub mod payload {
    /// No next payload.
    pub const NONE: u8 = 0;
    /// Security Association.
    pub const SA: u8 = 33;
    /// Key Exchange.
    pub const KE: u8 = 34;
    /// Identification — Initiator.
    pub const IDI: u8 = 35;
    /// Identification — Responder.
    pub const IDR: u8 = 36;
    /// Certificate.
    pub const CERT: u8 = 37;
    /// Certificate Request.
    pub const CERTREQ: u8 = 38;
    /// Authentication.
    pub const AUTH: u8 = 39;
    /// Nonce.
    pub const NONCE: u8 = 40;
    /// Notify.
    pub const NOTIFY: u8 = 41;
    /// Delete.
    pub const DELETE: u8 = 42;
    /// Vendor ID.
    pub const VENDOR: u8 = 43;
    /// Traffic Selector — Initiator.
    pub const TSI: u8 = 44;
    /// Traffic Selector — Responder.
    pub const TSR: u8 = 45;
    /// Encrypted and Authenticated.
    pub const SK: u8 = 46;
    /// Configuration.
    pub const CP: u8 = 47;
}

/// Stable id of a payload type, used in field keys (`payload_sa`).
pub fn payload_id(v: u8) -> &'static str {
    match v {
        payload::NONE => "none",
        payload::SA => "sa",
        payload::KE => "ke",
        payload::IDI => "idi",
        payload::IDR => "idr",
        payload::CERT => "cert",
        payload::CERTREQ => "certreq",
        payload::AUTH => "auth",
        payload::NONCE => "nonce",
        payload::NOTIFY => "notify",
        payload::DELETE => "delete",
        payload::VENDOR => "vendor",
        payload::TSI => "tsi",
        payload::TSR => "tsr",
        payload::SK => "sk",
        payload::CP => "cp",
        _ => "unknown",
    }
}

/// Stable key of a payload type as a value (`ike.value.payload_sa`).
pub fn payload_key(v: u8) -> String {
    format!("ike.value.payload_{}", payload_id(v))
}

/// Security protocol ids (§3.3.1).
pub mod protocol {
    /// IKE.
    pub const IKE: u8 = 1;
    /// AH.
    pub const AH: u8 = 2;
    /// ESP.
    pub const ESP: u8 = 3;
}

/// Stable key of a security protocol id.
pub fn protocol_key(v: u8) -> &'static str {
    match v {
        protocol::IKE => "ike.value.proto_ike",
        protocol::AH => "ike.value.proto_ah",
        protocol::ESP => "ike.value.proto_esp",
        _ => "ike.value.unknown",
    }
}

/// Transform types (§3.3.2).
pub mod transform {
    /// Encryption algorithm.
    pub const ENCR: u8 = 1;
    /// Pseudorandom function.
    pub const PRF: u8 = 2;
    /// Integrity algorithm.
    pub const INTEG: u8 = 3;
    /// Diffie-Hellman group.
    pub const DH: u8 = 4;
    /// Extended sequence numbers.
    pub const ESN: u8 = 5;
    /// ENCR_AES_GCM_16 (RFC 5282 / RFC 4106).
    pub const ENCR_AES_GCM_16: u16 = 20;
    /// ENCR_CHACHA20_POLY1305 (RFC 7634).
    pub const ENCR_CHACHA20_POLY1305: u16 = 28;
    /// PRF_HMAC_SHA2_256 (RFC 4868).
    pub const PRF_HMAC_SHA2_256: u16 = 5;
    /// 256-bit random ECP group (RFC 5903).
    pub const DH_ECP256: u16 = 19;
    /// Curve25519 (RFC 8031).
    pub const DH_CURVE25519: u16 = 31;
    /// No extended sequence numbers.
    pub const ESN_NONE: u16 = 0;
    /// The Key Length attribute type with the AF (TV format) bit set (§3.3.5).
    pub const ATTR_KEY_LENGTH: u16 = 0x800e;
}

/// Stable key of a transform type.
pub fn transform_type_key(v: u8) -> &'static str {
    match v {
        transform::ENCR => "ike.value.tt_encr",
        transform::PRF => "ike.value.tt_prf",
        transform::INTEG => "ike.value.tt_integ",
        transform::DH => "ike.value.tt_dh",
        transform::ESN => "ike.value.tt_esn",
        _ => "ike.value.unknown",
    }
}

/// Stable key of a transform id of type `ty`.
pub fn transform_id_key(ty: u8, id: u16) -> &'static str {
    match (ty, id) {
        (transform::ENCR, transform::ENCR_AES_GCM_16) => "ike.value.encr_aes_gcm_16",
        (transform::ENCR, transform::ENCR_CHACHA20_POLY1305) => "ike.value.encr_chacha20_poly1305",
        (transform::PRF, transform::PRF_HMAC_SHA2_256) => "ike.value.prf_hmac_sha2_256",
        (transform::DH, transform::DH_ECP256) => "ike.value.dh_ecp256",
        (transform::DH, transform::DH_CURVE25519) => "ike.value.dh_curve25519",
        (transform::ESN, transform::ESN_NONE) => "ike.value.esn_none",
        (transform::ESN, 1) => "ike.value.esn_yes",
        _ => "ike.value.unknown",
    }
}

/// Notify message types (§3.10.1), the ones this implementation sends or acts on.
pub mod notify {
    /// UNSUPPORTED_CRITICAL_PAYLOAD.
    pub const UNSUPPORTED_CRITICAL_PAYLOAD: u16 = 1;
    /// INVALID_SYNTAX.
    pub const INVALID_SYNTAX: u16 = 7;
    /// NO_PROPOSAL_CHOSEN.
    pub const NO_PROPOSAL_CHOSEN: u16 = 14;
    /// INVALID_KE_PAYLOAD.
    pub const INVALID_KE_PAYLOAD: u16 = 17;
    /// AUTHENTICATION_FAILED.
    pub const AUTHENTICATION_FAILED: u16 = 24;
    /// TS_UNACCEPTABLE.
    pub const TS_UNACCEPTABLE: u16 = 38;
    /// INTERNAL_ADDRESS_FAILURE.
    pub const INTERNAL_ADDRESS_FAILURE: u16 = 36;
    /// INITIAL_CONTACT.
    pub const INITIAL_CONTACT: u16 = 16384;
    /// NAT_DETECTION_SOURCE_IP.
    pub const NAT_DETECTION_SOURCE_IP: u16 = 16388;
    /// NAT_DETECTION_DESTINATION_IP.
    pub const NAT_DETECTION_DESTINATION_IP: u16 = 16389;
    /// USE_TRANSPORT_MODE.
    pub const USE_TRANSPORT_MODE: u16 = 16391;
    /// SIGNATURE_HASH_ALGORITHMS (RFC 7427).
    pub const SIGNATURE_HASH_ALGORITHMS: u16 = 16431;
}

/// Stable key of a notify message type.
pub fn notify_key(v: u16) -> &'static str {
    match v {
        notify::UNSUPPORTED_CRITICAL_PAYLOAD => "ike.value.unsupported_critical_payload",
        notify::INVALID_SYNTAX => "ike.value.invalid_syntax",
        notify::NO_PROPOSAL_CHOSEN => "ike.value.no_proposal_chosen",
        notify::INVALID_KE_PAYLOAD => "ike.value.invalid_ke_payload",
        notify::AUTHENTICATION_FAILED => "ike.value.authentication_failed",
        notify::TS_UNACCEPTABLE => "ike.value.ts_unacceptable",
        notify::INTERNAL_ADDRESS_FAILURE => "ike.value.internal_address_failure",
        notify::INITIAL_CONTACT => "ike.value.initial_contact",
        notify::NAT_DETECTION_SOURCE_IP => "ike.value.nat_detection_source_ip",
        notify::NAT_DETECTION_DESTINATION_IP => "ike.value.nat_detection_destination_ip",
        notify::USE_TRANSPORT_MODE => "ike.value.use_transport_mode",
        notify::SIGNATURE_HASH_ALGORITHMS => "ike.value.signature_hash_algorithms",
        v if v < 16384 => "ike.value.unknown_error",
        _ => "ike.value.unknown_status",
    }
}

/// The notify type's name as RFC 7296 writes it (`NO_PROPOSAL_CHOSEN`), the same in
/// every language; its number for a type we do not name.
pub fn notify_name(v: u16) -> String {
    notify_key(v)
        .strip_prefix("ike.value.")
        .filter(|n| !n.starts_with("unknown"))
        .map_or_else(|| v.to_string(), str::to_ascii_uppercase)
}

/// ID types (§3.5).
pub mod id_type {
    /// A single IPv4 address.
    pub const IPV4_ADDR: u8 = 1;
    /// A fully-qualified domain name.
    pub const FQDN: u8 = 2;
    /// An email address.
    pub const RFC822_ADDR: u8 = 3;
}

/// Stable key of an ID type.
pub fn id_type_key(v: u8) -> &'static str {
    match v {
        id_type::IPV4_ADDR => "ike.value.id_ipv4_addr",
        id_type::FQDN => "ike.value.id_fqdn",
        id_type::RFC822_ADDR => "ike.value.id_rfc822_addr",
        _ => "ike.value.unknown",
    }
}

/// Authentication methods (§3.8).
pub mod auth_method {
    /// Shared Key Message Integrity Code.
    pub const SHARED_KEY_MIC: u8 = 2;
    /// Digital Signature (RFC 7427).
    pub const DIGITAL_SIGNATURE: u8 = 14;
}

/// Stable key of an authentication method.
pub fn auth_method_key(v: u8) -> &'static str {
    match v {
        auth_method::SHARED_KEY_MIC => "ike.value.auth_psk",
        1 => "ike.value.auth_rsa",
        auth_method::DIGITAL_SIGNATURE => "ike.value.auth_digital_signature",
        _ => "ike.value.unknown",
    }
}

/// Configuration payload types and attributes (§3.15).
pub mod cfg {
    /// CFG_REQUEST.
    pub const REQUEST: u8 = 1;
    /// CFG_REPLY.
    pub const REPLY: u8 = 2;
    /// INTERNAL_IP4_ADDRESS.
    pub const INTERNAL_IP4_ADDRESS: u16 = 1;
    /// INTERNAL_IP4_NETMASK.
    pub const INTERNAL_IP4_NETMASK: u16 = 2;
    /// INTERNAL_IP4_DNS.
    pub const INTERNAL_IP4_DNS: u16 = 3;
}

/// Stable key of a CP type.
pub fn cfg_type_key(v: u8) -> &'static str {
    match v {
        cfg::REQUEST => "ike.value.cfg_request",
        cfg::REPLY => "ike.value.cfg_reply",
        3 => "ike.value.cfg_set",
        4 => "ike.value.cfg_ack",
        _ => "ike.value.unknown",
    }
}

/// Stable key of a configuration attribute type.
pub fn cfg_attr_key(v: u16) -> &'static str {
    match v {
        cfg::INTERNAL_IP4_ADDRESS => "ike.value.internal_ip4_address",
        cfg::INTERNAL_IP4_NETMASK => "ike.value.internal_ip4_netmask",
        cfg::INTERNAL_IP4_DNS => "ike.value.internal_ip4_dns",
        _ => "ike.value.unknown",
    }
}

/// Traffic selector type TS_IPV4_ADDR_RANGE (§3.13.1).
pub const TS_IPV4_ADDR_RANGE: u8 = 7;

/// Hash algorithms of SIGNATURE_HASH_ALGORITHMS (RFC 7427 §7).
pub fn hash_key(v: u16) -> &'static str {
    match v {
        1 => "ike.value.hash_sha1",
        2 => "ike.value.hash_sha256",
        3 => "ike.value.hash_sha384",
        4 => "ike.value.hash_sha512",
        5 => "ike.value.hash_identity",
        _ => "ike.value.unknown",
    }
}
