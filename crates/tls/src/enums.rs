//! Wire enums that keep unknown values (the shape of rustls `enums.rs`).

macro_rules! wire_enum {
    ($(#[$m:meta])* $name:ident: $ty:ty, $prefix:literal { $($var:ident = $val:expr, $s:literal;)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[allow(missing_docs)]
        pub enum $name {
            $($var,)*
            /// A value this code does not know, kept as it was.
            Unknown($ty),
        }

        impl From<$ty> for $name {
            fn from(v: $ty) -> Self {
                match v {
                    $($val => $name::$var,)*
                    other => $name::Unknown(other),
                }
            }
        }

        impl From<$name> for $ty {
            fn from(v: $name) -> $ty {
                match v {
                    $($name::$var => $val,)*
                    $name::Unknown(x) => x,
                }
            }
        }

        impl $name {
            /// The name the RFC gives it (`unknown` if none).
            pub fn as_str(&self) -> &'static str {
                match self {
                    $($name::$var => $s,)*
                    $name::Unknown(_) => "unknown",
                }
            }

            /// The stable key naming the value (`tls.alert.certificate_required`).
            pub fn key(&self) -> String {
                format!("{}.{}", $prefix, self.as_str())
            }

            /// Every known value.
            pub const ALL: &'static [$name] = &[$($name::$var,)*];
        }
    };
}

wire_enum! {
    /// TLSPlaintext.type (RFC 9846 §5.1).
    ContentType: u8, "tls.content" {
        ChangeCipherSpec = 0x14, "change_cipher_spec";
        Alert = 0x15, "alert";
        Handshake = 0x16, "handshake";
        ApplicationData = 0x17, "application_data";
    }
}

wire_enum! {
    /// HandshakeType (RFC 9846 §4).
    HandshakeType: u8, "tls.hs" {
        ClientHello = 0x01, "client_hello";
        ServerHello = 0x02, "server_hello";
        NewSessionTicket = 0x04, "new_session_ticket";
        EndOfEarlyData = 0x05, "end_of_early_data";
        EncryptedExtensions = 0x08, "encrypted_extensions";
        Certificate = 0x0b, "certificate";
        CertificateRequest = 0x0d, "certificate_request";
        CertificateVerify = 0x0f, "certificate_verify";
        Finished = 0x14, "finished";
        KeyUpdate = 0x18, "key_update";
        MessageHash = 0xfe, "message_hash";
    }
}

wire_enum! {
    /// AlertLevel (RFC 9846 §6).
    AlertLevel: u8, "tls.alert_level" {
        Warning = 0x01, "warning";
        Fatal = 0x02, "fatal";
    }
}

wire_enum! {
    /// AlertDescription: every alert of RFC 9846 §6.
    AlertDescription: u8, "tls.alert" {
        CloseNotify = 0, "close_notify";
        UnexpectedMessage = 10, "unexpected_message";
        BadRecordMac = 20, "bad_record_mac";
        RecordOverflow = 22, "record_overflow";
        HandshakeFailure = 40, "handshake_failure";
        BadCertificate = 42, "bad_certificate";
        UnsupportedCertificate = 43, "unsupported_certificate";
        CertificateRevoked = 44, "certificate_revoked";
        CertificateExpired = 45, "certificate_expired";
        CertificateUnknown = 46, "certificate_unknown";
        IllegalParameter = 47, "illegal_parameter";
        UnknownCa = 48, "unknown_ca";
        AccessDenied = 49, "access_denied";
        DecodeError = 50, "decode_error";
        DecryptError = 51, "decrypt_error";
        ProtocolVersion = 70, "protocol_version";
        InsufficientSecurity = 71, "insufficient_security";
        InternalError = 80, "internal_error";
        InappropriateFallback = 86, "inappropriate_fallback";
        UserCanceled = 90, "user_canceled";
        MissingExtension = 109, "missing_extension";
        UnsupportedExtension = 110, "unsupported_extension";
        UnrecognizedName = 112, "unrecognized_name";
        BadCertificateStatusResponse = 113, "bad_certificate_status_response";
        UnknownPskIdentity = 115, "unknown_psk_identity";
        CertificateRequired = 116, "certificate_required";
        NoApplicationProtocol = 120, "no_application_protocol";
    }
}

wire_enum! {
    /// CipherSuite (RFC 9846 §B.4).
    CipherSuite: u16, "tls.suite" {
        Aes128GcmSha256 = 0x1301, "TLS_AES_128_GCM_SHA256";
        Aes256GcmSha384 = 0x1302, "TLS_AES_256_GCM_SHA384";
        Chacha20Poly1305Sha256 = 0x1303, "TLS_CHACHA20_POLY1305_SHA256";
        Aes128CcmSha256 = 0x1304, "TLS_AES_128_CCM_SHA256";
        Aes128Ccm8Sha256 = 0x1305, "TLS_AES_128_CCM_8_SHA256";
    }
}

wire_enum! {
    /// NamedGroup (RFC 9846 §4.3.7).
    NamedGroup: u16, "tls.group" {
        Secp256r1 = 0x0017, "secp256r1";
        Secp384r1 = 0x0018, "secp384r1";
        Secp521r1 = 0x0019, "secp521r1";
        X25519 = 0x001d, "x25519";
        X448 = 0x001e, "x448";
        Ffdhe2048 = 0x0100, "ffdhe2048";
        Ffdhe3072 = 0x0101, "ffdhe3072";
        Ffdhe4096 = 0x0102, "ffdhe4096";
        Ffdhe6144 = 0x0103, "ffdhe6144";
        Ffdhe8192 = 0x0104, "ffdhe8192";
        X25519Mlkem768 = 0x11ec, "X25519MLKEM768";
    }
}

wire_enum! {
    /// SignatureScheme (RFC 9846 §4.3.3).
    SignatureScheme: u16, "tls.sig" {
        RsaPkcs1Sha256 = 0x0401, "rsa_pkcs1_sha256";
        RsaPkcs1Sha384 = 0x0501, "rsa_pkcs1_sha384";
        RsaPkcs1Sha512 = 0x0601, "rsa_pkcs1_sha512";
        EcdsaSecp256r1Sha256 = 0x0403, "ecdsa_secp256r1_sha256";
        EcdsaSecp384r1Sha384 = 0x0503, "ecdsa_secp384r1_sha384";
        EcdsaSecp521r1Sha512 = 0x0603, "ecdsa_secp521r1_sha512";
        RsaPssRsaeSha256 = 0x0804, "rsa_pss_rsae_sha256";
        RsaPssRsaeSha384 = 0x0805, "rsa_pss_rsae_sha384";
        RsaPssRsaeSha512 = 0x0806, "rsa_pss_rsae_sha512";
        Ed25519 = 0x0807, "ed25519";
        Ed448 = 0x0808, "ed448";
        RsaPssPssSha256 = 0x0809, "rsa_pss_pss_sha256";
        RsaPssPssSha384 = 0x080a, "rsa_pss_pss_sha384";
        RsaPssPssSha512 = 0x080b, "rsa_pss_pss_sha512";
        RsaPkcs1Sha1 = 0x0201, "rsa_pkcs1_sha1";
        EcdsaSha1 = 0x0203, "ecdsa_sha1";
        DsaSha1 = 0x0202, "dsa_sha1";
        DsaSha256 = 0x0402, "dsa_sha256";
        DsaSha384 = 0x0502, "dsa_sha384";
        DsaSha512 = 0x0602, "dsa_sha512";
    }
}

wire_enum! {
    /// ExtensionType (RFC 9846 §4.3 and the registry).
    ExtensionType: u16, "tls.ext" {
        ServerName = 0, "server_name";
        MaxFragmentLength = 1, "max_fragment_length";
        StatusRequest = 5, "status_request";
        SupportedGroups = 10, "supported_groups";
        EcPointFormats = 11, "ec_point_formats";
        SignatureAlgorithms = 13, "signature_algorithms";
        UseSrtp = 14, "use_srtp";
        Heartbeat = 15, "heartbeat";
        Alpn = 16, "application_layer_protocol_negotiation";
        SignedCertificateTimestamp = 18, "signed_certificate_timestamp";
        Padding = 21, "padding";
        EncryptThenMac = 22, "encrypt_then_mac";
        ExtendedMasterSecret = 23, "extended_master_secret";
        CompressCertificate = 27, "compress_certificate";
        RecordSizeLimit = 28, "record_size_limit";
        SessionTicket = 35, "session_ticket";
        PreSharedKey = 41, "pre_shared_key";
        EarlyData = 42, "early_data";
        SupportedVersions = 43, "supported_versions";
        Cookie = 44, "cookie";
        PskKeyExchangeModes = 45, "psk_key_exchange_modes";
        CertificateAuthorities = 47, "certificate_authorities";
        OidFilters = 48, "oid_filters";
        PostHandshakeAuth = 49, "post_handshake_auth";
        SignatureAlgorithmsCert = 50, "signature_algorithms_cert";
        KeyShare = 51, "key_share";
        RenegotiationInfo = 0xff01, "renegotiation_info";
    }
}
