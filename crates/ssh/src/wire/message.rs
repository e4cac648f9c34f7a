//! SSH messages (the payload of one binary packet), RFC 4253 §7–12, RFC 4252, RFC 4254.
//!
//! ```text
//! byte      message type
//! ....      fields of that message
//! ```
//! [`Msg::parse`] decodes a payload and rejects trailing bytes; [`Msg::emit`]
//! writes one through a [`Writer`], which records a field for every byte.

use cipherstage_transcript::Protection;

use super::codec::{DecodeError, DecodeErrorKind, Reader, Writer};

/// Message numbers (RFC 4250 §4.1).
pub mod num {
    #![allow(missing_docs)]
    pub const DISCONNECT: u8 = 0x01;
    pub const IGNORE: u8 = 0x02;
    pub const UNIMPLEMENTED: u8 = 0x03;
    pub const DEBUG: u8 = 0x04;
    pub const SERVICE_REQUEST: u8 = 0x05;
    pub const SERVICE_ACCEPT: u8 = 0x06;
    pub const EXT_INFO: u8 = 0x07;
    pub const KEXINIT: u8 = 0x14;
    pub const NEWKEYS: u8 = 0x15;
    pub const KEX_ECDH_INIT: u8 = 0x1e;
    pub const KEX_ECDH_REPLY: u8 = 0x1f;
    pub const USERAUTH_REQUEST: u8 = 0x32;
    pub const USERAUTH_FAILURE: u8 = 0x33;
    pub const USERAUTH_SUCCESS: u8 = 0x34;
    pub const USERAUTH_BANNER: u8 = 0x35;
    pub const USERAUTH_PK_OK: u8 = 0x3c;
    pub const GLOBAL_REQUEST: u8 = 0x50;
    pub const REQUEST_SUCCESS: u8 = 0x51;
    pub const REQUEST_FAILURE: u8 = 0x52;
    pub const CHANNEL_OPEN: u8 = 0x5a;
    pub const CHANNEL_OPEN_CONFIRMATION: u8 = 0x5b;
    pub const CHANNEL_OPEN_FAILURE: u8 = 0x5c;
    pub const CHANNEL_WINDOW_ADJUST: u8 = 0x5d;
    pub const CHANNEL_DATA: u8 = 0x5e;
    pub const CHANNEL_EXTENDED_DATA: u8 = 0x5f;
    pub const CHANNEL_EOF: u8 = 0x60;
    pub const CHANNEL_CLOSE: u8 = 0x61;
    pub const CHANNEL_REQUEST: u8 = 0x62;
    pub const CHANNEL_SUCCESS: u8 = 0x63;
    pub const CHANNEL_FAILURE: u8 = 0x64;
}

/// The channel type of TCP port forwarding from the client side (`ssh -L`, `ssh -W`).
pub const DIRECT_TCPIP: &str = "direct-tcpip";
/// The channel type of remote forwarding (`ssh -R`): a connection to a port the
/// server listens on for the client (RFC 4254 §7.2).
pub const FORWARDED_TCPIP: &str = "forwarded-tcpip";

/// Reason codes of CHANNEL_OPEN_FAILURE (RFC 4254 §5.1).
pub mod open_failure {
    /// SSH_OPEN_ADMINISTRATIVELY_PROHIBITED: policy forbids it.
    pub const ADMINISTRATIVELY_PROHIBITED: u32 = 1;
    /// SSH_OPEN_CONNECT_FAILED: the target could not be reached.
    pub const CONNECT_FAILED: u32 = 2;
    /// SSH_OPEN_UNKNOWN_CHANNEL_TYPE.
    pub const UNKNOWN_CHANNEL_TYPE: u32 = 3;
    /// SSH_OPEN_RESOURCE_SHORTAGE.
    pub const RESOURCE_SHORTAGE: u32 = 4;
}

/// SSH_MSG_KEXINIT (RFC 4253 §7.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KexInit {
    /// 16 random bytes.
    pub cookie: [u8; 16],
    /// kex_algorithms.
    pub kex: Vec<String>,
    /// server_host_key_algorithms.
    pub host_key: Vec<String>,
    /// encryption_algorithms_client_to_server.
    pub cipher_c2s: Vec<String>,
    /// encryption_algorithms_server_to_client.
    pub cipher_s2c: Vec<String>,
    /// mac_algorithms_client_to_server.
    pub mac_c2s: Vec<String>,
    /// mac_algorithms_server_to_client.
    pub mac_s2c: Vec<String>,
    /// compression_algorithms_client_to_server.
    pub comp_c2s: Vec<String>,
    /// compression_algorithms_server_to_client.
    pub comp_s2c: Vec<String>,
    /// languages_client_to_server.
    pub lang_c2s: Vec<String>,
    /// languages_server_to_client.
    pub lang_s2c: Vec<String>,
    /// first_kex_packet_follows.
    pub first_kex_follows: bool,
    /// reserved uint32 (0).
    pub reserved: u32,
}

/// The method part of SSH_MSG_USERAUTH_REQUEST (RFC 4252 §5, §7, §8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthMethod {
    /// "none": asks which methods can continue.
    None,
    /// "publickey", without a signature (a query) or with one.
    PublicKey {
        /// Public key algorithm name.
        algorithm: String,
        /// Public key blob.
        key: Vec<u8>,
        /// Signature blob, if this is the signed request.
        signature: Option<Vec<u8>>,
    },
    /// "password".
    Password {
        /// The password (sent inside the encrypted transport).
        password: String,
    },
    /// Any other method name; its fields kept opaque.
    Other {
        /// Method name.
        name: String,
        /// The rest of the message.
        rest: Vec<u8>,
    },
}

/// The type-specific part of SSH_MSG_CHANNEL_REQUEST (RFC 4254 §6.5, §6.10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelRequestKind {
    /// "exec": run a command.
    Exec {
        /// The command line.
        command: String,
    },
    /// "subsystem": start a named service such as "sftp" (RFC 4254 §6.5).
    Subsystem {
        /// The subsystem's name.
        name: String,
    },
    /// "exit-status": how the command ended.
    ExitStatus {
        /// The exit status.
        status: u32,
    },
    /// Any other request type; its fields kept opaque.
    Other {
        /// Request type.
        name: String,
        /// The rest of the message.
        rest: Vec<u8>,
    },
}

/// The type-specific part of a "direct-tcpip" CHANNEL_OPEN (RFC 4254 §7.2): where
/// the server should open a TCP connection, and who asked for it on the client side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectTcpip {
    /// Host to connect to (a name or an address, as text).
    pub host: String,
    /// Port to connect to.
    pub port: u32,
    /// Address of the program that connected to the client's forwarded port.
    pub originator: String,
    /// Its port.
    pub originator_port: u32,
}

/// One SSH message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Msg {
    Disconnect {
        reason: u32,
        description: String,
        language: String,
    },
    Ignore {
        data: Vec<u8>,
    },
    Unimplemented {
        sequence: u32,
    },
    ServiceRequest {
        service: String,
    },
    ServiceAccept {
        service: String,
    },
    KexInit(Box<KexInit>),
    NewKeys,
    KexEcdhInit {
        client_public: Vec<u8>,
    },
    KexEcdhReply {
        host_key: Vec<u8>,
        server_public: Vec<u8>,
        signature: Vec<u8>,
    },
    UserauthRequest {
        user: String,
        service: String,
        method: AuthMethod,
    },
    UserauthFailure {
        methods: Vec<String>,
        partial: bool,
    },
    UserauthSuccess,
    UserauthBanner {
        message: String,
        language: String,
    },
    UserauthPkOk {
        algorithm: String,
        key: Vec<u8>,
    },
    GlobalRequest {
        name: String,
        want_reply: bool,
        rest: Vec<u8>,
    },
    /// SSH_MSG_REQUEST_SUCCESS; `rest` holds request-specific data (a bound port).
    RequestSuccess {
        rest: Vec<u8>,
    },
    RequestFailure,
    /// SSH_MSG_EXT_INFO (RFC 8308 §2.3): extension names and values.
    ExtInfo {
        extensions: Vec<(String, Vec<u8>)>,
    },
    /// CHANNEL_OPEN of any type but "direct-tcpip"; `rest` holds the type-specific
    /// fields (empty for "session").
    ChannelOpen {
        kind: String,
        sender: u32,
        window: u32,
        max_packet: u32,
        rest: Vec<u8>,
    },
    /// CHANNEL_OPEN of type "direct-tcpip" (port forwarding, RFC 4254 §7.2).
    ChannelOpenDirectTcpip {
        sender: u32,
        window: u32,
        max_packet: u32,
        target: DirectTcpip,
    },
    /// CHANNEL_OPEN of type "forwarded-tcpip" (remote forwarding, RFC 4254 §7.2):
    /// `target.host`/`port` are the address and port that were connected.
    ChannelOpenForwardedTcpip {
        sender: u32,
        window: u32,
        max_packet: u32,
        target: DirectTcpip,
    },
    ChannelOpenConfirmation {
        recipient: u32,
        sender: u32,
        window: u32,
        max_packet: u32,
    },
    ChannelOpenFailure {
        recipient: u32,
        reason: u32,
        description: String,
        language: String,
    },
    ChannelWindowAdjust {
        recipient: u32,
        bytes: u32,
    },
    ChannelData {
        recipient: u32,
        data: Vec<u8>,
    },
    ChannelExtendedData {
        recipient: u32,
        code: u32,
        data: Vec<u8>,
    },
    ChannelEof {
        recipient: u32,
    },
    ChannelClose {
        recipient: u32,
    },
    ChannelRequest {
        recipient: u32,
        want_reply: bool,
        kind: ChannelRequestKind,
    },
    ChannelSuccess {
        recipient: u32,
    },
    ChannelFailure {
        recipient: u32,
    },
    /// A message we do not interpret (kept for SSH_MSG_UNIMPLEMENTED).
    Unknown {
        number: u8,
        body: Vec<u8>,
    },
}

impl Msg {
    /// The message number.
    pub fn number(&self) -> u8 {
        use num::*;
        match self {
            Msg::Disconnect { .. } => DISCONNECT,
            Msg::Ignore { .. } => IGNORE,
            Msg::Unimplemented { .. } => UNIMPLEMENTED,
            Msg::ServiceRequest { .. } => SERVICE_REQUEST,
            Msg::ServiceAccept { .. } => SERVICE_ACCEPT,
            Msg::KexInit(_) => KEXINIT,
            Msg::NewKeys => NEWKEYS,
            Msg::KexEcdhInit { .. } => KEX_ECDH_INIT,
            Msg::KexEcdhReply { .. } => KEX_ECDH_REPLY,
            Msg::UserauthRequest { .. } => USERAUTH_REQUEST,
            Msg::UserauthFailure { .. } => USERAUTH_FAILURE,
            Msg::UserauthSuccess => USERAUTH_SUCCESS,
            Msg::UserauthBanner { .. } => USERAUTH_BANNER,
            Msg::UserauthPkOk { .. } => USERAUTH_PK_OK,
            Msg::GlobalRequest { .. } => GLOBAL_REQUEST,
            Msg::RequestSuccess { .. } => REQUEST_SUCCESS,
            Msg::RequestFailure => REQUEST_FAILURE,
            Msg::ExtInfo { .. } => EXT_INFO,
            Msg::ChannelOpen { .. }
            | Msg::ChannelOpenDirectTcpip { .. }
            | Msg::ChannelOpenForwardedTcpip { .. } => CHANNEL_OPEN,
            Msg::ChannelOpenConfirmation { .. } => CHANNEL_OPEN_CONFIRMATION,
            Msg::ChannelOpenFailure { .. } => CHANNEL_OPEN_FAILURE,
            Msg::ChannelWindowAdjust { .. } => CHANNEL_WINDOW_ADJUST,
            Msg::ChannelData { .. } => CHANNEL_DATA,
            Msg::ChannelExtendedData { .. } => CHANNEL_EXTENDED_DATA,
            Msg::ChannelEof { .. } => CHANNEL_EOF,
            Msg::ChannelClose { .. } => CHANNEL_CLOSE,
            Msg::ChannelRequest { .. } => CHANNEL_REQUEST,
            Msg::ChannelSuccess { .. } => CHANNEL_SUCCESS,
            Msg::ChannelFailure { .. } => CHANNEL_FAILURE,
            Msg::Unknown { number, .. } => *number,
        }
    }

    /// Stable key of the message's label (also the value of its type byte).
    pub fn label(&self) -> &'static str {
        match self {
            Msg::Disconnect { .. } => "ssh.msg.disconnect",
            Msg::Ignore { .. } => "ssh.msg.ignore",
            Msg::Unimplemented { .. } => "ssh.msg.unimplemented",
            Msg::ServiceRequest { .. } => "ssh.msg.service_request",
            Msg::ServiceAccept { .. } => "ssh.msg.service_accept",
            Msg::KexInit(_) => "ssh.msg.kexinit",
            Msg::NewKeys => "ssh.msg.newkeys",
            Msg::KexEcdhInit { .. } => "ssh.msg.kex_ecdh_init",
            Msg::KexEcdhReply { .. } => "ssh.msg.kex_ecdh_reply",
            Msg::UserauthRequest { method, .. } => match method {
                AuthMethod::None => "ssh.msg.userauth_request_none",
                AuthMethod::PublicKey {
                    signature: None, ..
                } => "ssh.msg.userauth_request_pk_query",
                AuthMethod::PublicKey { .. } => "ssh.msg.userauth_request_pk_signed",
                AuthMethod::Password { .. } => "ssh.msg.userauth_request_password",
                AuthMethod::Other { .. } => "ssh.msg.userauth_request",
            },
            Msg::UserauthFailure { .. } => "ssh.msg.userauth_failure",
            Msg::UserauthSuccess => "ssh.msg.userauth_success",
            Msg::UserauthBanner { .. } => "ssh.msg.userauth_banner",
            Msg::UserauthPkOk { .. } => "ssh.msg.userauth_pk_ok",
            Msg::GlobalRequest { .. } => "ssh.msg.global_request",
            Msg::RequestSuccess { .. } => "ssh.msg.request_success",
            Msg::RequestFailure => "ssh.msg.request_failure",
            Msg::ExtInfo { .. } => "ssh.msg.ext_info",
            Msg::ChannelOpen { .. } => "ssh.msg.channel_open",
            Msg::ChannelOpenDirectTcpip { .. } => "ssh.msg.channel_open_direct_tcpip",
            Msg::ChannelOpenForwardedTcpip { .. } => "ssh.msg.channel_open_forwarded_tcpip",
            Msg::ChannelOpenConfirmation { .. } => "ssh.msg.channel_open_confirmation",
            Msg::ChannelOpenFailure { .. } => "ssh.msg.channel_open_failure",
            Msg::ChannelWindowAdjust { .. } => "ssh.msg.channel_window_adjust",
            Msg::ChannelData { .. } => "ssh.msg.channel_data",
            Msg::ChannelExtendedData { .. } => "ssh.msg.channel_extended_data",
            Msg::ChannelEof { .. } => "ssh.msg.channel_eof",
            Msg::ChannelClose { .. } => "ssh.msg.channel_close",
            Msg::ChannelRequest { kind, .. } => match kind {
                ChannelRequestKind::Exec { .. } => "ssh.msg.channel_request_exec",
                ChannelRequestKind::ExitStatus { .. } => "ssh.msg.channel_request_exit_status",
                ChannelRequestKind::Subsystem { .. } => "ssh.msg.channel_request_subsystem",
                ChannelRequestKind::Other { .. } => "ssh.msg.channel_request",
            },
            Msg::ChannelSuccess { .. } => "ssh.msg.channel_success",
            Msg::ChannelFailure { .. } => "ssh.msg.channel_failure",
            Msg::Unknown { .. } => "ssh.msg.unknown",
        }
    }

    /// Writes the payload, recording every field.
    pub fn emit(&self, w: &mut Writer) {
        w.msg_type(self.number(), self.label());
        let km = Protection::KeyMaterial;
        match self {
            Msg::Disconnect {
                reason,
                description,
                language,
            } => {
                w.u32("reason_code", *reason);
                w.text("description", description);
                w.text("language", language);
            }
            Msg::Ignore { data } => w.string("ignore_data", data, Protection::Plaintext),
            Msg::Unimplemented { sequence } => w.u32("rejected_sequence", *sequence),
            Msg::ServiceRequest { service } | Msg::ServiceAccept { service } => {
                w.text("service_name", service)
            }
            Msg::KexInit(k) => {
                w.raw("cookie", &k.cookie, None, Protection::Plaintext);
                w.name_list("kex_algorithms", &k.kex);
                w.name_list("host_key_algorithms", &k.host_key);
                w.name_list("cipher_c2s", &k.cipher_c2s);
                w.name_list("cipher_s2c", &k.cipher_s2c);
                w.name_list("mac_c2s", &k.mac_c2s);
                w.name_list("mac_s2c", &k.mac_s2c);
                w.name_list("comp_c2s", &k.comp_c2s);
                w.name_list("comp_s2c", &k.comp_s2c);
                w.name_list("lang_c2s", &k.lang_c2s);
                w.name_list("lang_s2c", &k.lang_s2c);
                w.bool("first_kex_follows", k.first_kex_follows);
                w.u32("reserved", k.reserved);
            }
            Msg::NewKeys | Msg::UserauthSuccess | Msg::RequestFailure => {}
            Msg::RequestSuccess { rest } => {
                if !rest.is_empty() {
                    w.raw("request_fields", rest, None, Protection::Plaintext);
                }
            }
            Msg::ExtInfo { extensions } => {
                w.u32("nr_extensions", extensions.len() as u32);
                for (name, value) in extensions {
                    w.text("extension_name", name);
                    match core::str::from_utf8(value) {
                        Ok(v) if name == "server-sig-algs" => w.text("server_sig_algs", v),
                        _ => w.string("extension_value", value, Protection::Plaintext),
                    }
                }
            }
            Msg::KexEcdhInit { client_public } => w.string("q_c", client_public, km),
            Msg::KexEcdhReply {
                host_key,
                server_public,
                signature,
            } => {
                blob(w, "host_key", host_key, km);
                w.string("q_s", server_public, km);
                blob(w, "exchange_signature", signature, Protection::Signature);
            }
            Msg::UserauthRequest {
                user,
                service,
                method,
            } => {
                w.text("user_name", user);
                w.text("service_name", service);
                match method {
                    AuthMethod::None => w.text("method_name", "none"),
                    AuthMethod::PublicKey {
                        algorithm,
                        key,
                        signature,
                    } => {
                        w.text("method_name", "publickey");
                        w.bool("has_signature", signature.is_some());
                        w.text("pk_algorithm", algorithm);
                        blob(w, "user_key", key, km);
                        if let Some(s) = signature {
                            blob(w, "user_signature", s, Protection::Signature);
                        }
                    }
                    AuthMethod::Password { password } => {
                        w.text("method_name", "password");
                        w.bool("change_password", false);
                        w.text("password", password);
                    }
                    AuthMethod::Other { name, rest } => {
                        w.text("method_name", name);
                        w.raw("method_fields", rest, None, Protection::Plaintext);
                    }
                }
            }
            Msg::UserauthFailure { methods, partial } => {
                w.name_list("auth_can_continue", methods);
                w.bool("partial_success", *partial);
            }
            Msg::UserauthBanner { message, language } => {
                w.text("banner", message);
                w.text("language", language);
            }
            Msg::UserauthPkOk { algorithm, key } => {
                w.text("pk_algorithm", algorithm);
                blob(w, "user_key", key, km);
            }
            Msg::GlobalRequest {
                name,
                want_reply,
                rest,
            } => {
                w.text("request_name", name);
                w.bool("want_reply", *want_reply);
                w.raw("request_fields", rest, None, Protection::Plaintext);
            }
            Msg::ChannelOpen {
                kind,
                sender,
                window,
                max_packet,
                rest,
            } => {
                w.text("channel_type", kind);
                w.u32("sender_channel", *sender);
                w.u32("initial_window", *window);
                w.u32("max_packet", *max_packet);
                if !rest.is_empty() {
                    w.raw("channel_fields", rest, None, Protection::Plaintext);
                }
            }
            Msg::ChannelOpenDirectTcpip {
                sender,
                window,
                max_packet,
                target,
            } => {
                w.text("channel_type", DIRECT_TCPIP);
                w.u32("sender_channel", *sender);
                w.u32("initial_window", *window);
                w.u32("max_packet", *max_packet);
                w.text("host_to_connect", &target.host);
                w.u32("port_to_connect", target.port);
                w.text("originator_address", &target.originator);
                w.u32("originator_port", target.originator_port);
            }
            Msg::ChannelOpenForwardedTcpip {
                sender,
                window,
                max_packet,
                target,
            } => {
                w.text("channel_type", FORWARDED_TCPIP);
                w.u32("sender_channel", *sender);
                w.u32("initial_window", *window);
                w.u32("max_packet", *max_packet);
                w.text("connected_address", &target.host);
                w.u32("connected_port", target.port);
                w.text("originator_address", &target.originator);
                w.u32("originator_port", target.originator_port);
            }
            Msg::ChannelOpenConfirmation {
                recipient,
                sender,
                window,
                max_packet,
            } => {
                w.u32("recipient_channel", *recipient);
                w.u32("sender_channel", *sender);
                w.u32("initial_window", *window);
                w.u32("max_packet", *max_packet);
            }
            Msg::ChannelOpenFailure {
                recipient,
                reason,
                description,
                language,
            } => {
                w.u32("recipient_channel", *recipient);
                w.u32("reason_code", *reason);
                w.text("description", description);
                w.text("language", language);
            }
            Msg::ChannelWindowAdjust { recipient, bytes } => {
                w.u32("recipient_channel", *recipient);
                w.u32("bytes_to_add", *bytes);
            }
            Msg::ChannelData { recipient, data } => {
                w.u32("recipient_channel", *recipient);
                text_or_bytes(w, "channel_data", data);
            }
            Msg::ChannelExtendedData {
                recipient,
                code,
                data,
            } => {
                w.u32("recipient_channel", *recipient);
                w.u32("data_type_code", *code);
                text_or_bytes(w, "channel_data", data);
            }
            Msg::ChannelEof { recipient }
            | Msg::ChannelClose { recipient }
            | Msg::ChannelSuccess { recipient }
            | Msg::ChannelFailure { recipient } => w.u32("recipient_channel", *recipient),
            Msg::ChannelRequest {
                recipient,
                want_reply,
                kind,
            } => {
                w.u32("recipient_channel", *recipient);
                match kind {
                    ChannelRequestKind::Exec { command } => {
                        w.text("request_type", "exec");
                        w.bool("want_reply", *want_reply);
                        w.text("command", command);
                    }
                    ChannelRequestKind::ExitStatus { status } => {
                        w.text("request_type", "exit-status");
                        w.bool("want_reply", *want_reply);
                        w.u32("exit_status", *status);
                    }
                    ChannelRequestKind::Subsystem { name } => {
                        w.text("request_type", "subsystem");
                        w.bool("want_reply", *want_reply);
                        w.text("subsystem_name", name);
                    }
                    ChannelRequestKind::Other { name, rest } => {
                        w.text("request_type", name);
                        w.bool("want_reply", *want_reply);
                        w.raw("request_fields", rest, None, Protection::Plaintext);
                    }
                }
            }
            Msg::Unknown { body, .. } => w.raw("unknown_body", body, None, Protection::Plaintext),
        }
    }

    /// The payload bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new();
        self.emit(&mut w);
        w.finish().0
    }

    /// Decodes one payload.
    pub fn parse(payload: &[u8]) -> Result<Msg, DecodeError> {
        use num::*;
        let mut r = Reader::new(payload);
        let number = r.u8()?;
        let msg = match number {
            DISCONNECT => Msg::Disconnect {
                reason: r.u32()?,
                description: r.text()?,
                language: r.text()?,
            },
            IGNORE => Msg::Ignore {
                data: r.string()?.to_vec(),
            },
            UNIMPLEMENTED => Msg::Unimplemented { sequence: r.u32()? },
            SERVICE_REQUEST => Msg::ServiceRequest { service: r.text()? },
            SERVICE_ACCEPT => Msg::ServiceAccept { service: r.text()? },
            KEXINIT => Msg::KexInit(Box::new(KexInit {
                cookie: r.array()?,
                kex: r.name_list()?,
                host_key: r.name_list()?,
                cipher_c2s: r.name_list()?,
                cipher_s2c: r.name_list()?,
                mac_c2s: r.name_list()?,
                mac_s2c: r.name_list()?,
                comp_c2s: r.name_list()?,
                comp_s2c: r.name_list()?,
                lang_c2s: r.name_list()?,
                lang_s2c: r.name_list()?,
                first_kex_follows: r.bool()?,
                reserved: r.u32()?,
            })),
            NEWKEYS => Msg::NewKeys,
            KEX_ECDH_INIT => Msg::KexEcdhInit {
                client_public: r.string()?.to_vec(),
            },
            KEX_ECDH_REPLY => Msg::KexEcdhReply {
                host_key: r.string()?.to_vec(),
                server_public: r.string()?.to_vec(),
                signature: r.string()?.to_vec(),
            },
            USERAUTH_REQUEST => {
                let user = r.text()?;
                let service = r.text()?;
                let name = r.text()?;
                let method = match name.as_str() {
                    "none" => AuthMethod::None,
                    "publickey" => {
                        let has_sig = r.bool()?;
                        let algorithm = r.text()?;
                        let key = r.string()?.to_vec();
                        let signature = if has_sig {
                            Some(r.string()?.to_vec())
                        } else {
                            None
                        };
                        AuthMethod::PublicKey {
                            algorithm,
                            key,
                            signature,
                        }
                    }
                    "password" => {
                        let at = r.offset();
                        if r.bool()? {
                            return Err(DecodeError {
                                kind: DecodeErrorKind::BadValue,
                                offset: at,
                            });
                        }
                        AuthMethod::Password {
                            password: r.text()?,
                        }
                    }
                    _ => AuthMethod::Other {
                        name,
                        rest: r.rest().to_vec(),
                    },
                };
                Msg::UserauthRequest {
                    user,
                    service,
                    method,
                }
            }
            USERAUTH_FAILURE => Msg::UserauthFailure {
                methods: r.name_list()?,
                partial: r.bool()?,
            },
            USERAUTH_SUCCESS => Msg::UserauthSuccess,
            USERAUTH_BANNER => Msg::UserauthBanner {
                message: r.text()?,
                language: r.text()?,
            },
            USERAUTH_PK_OK => Msg::UserauthPkOk {
                algorithm: r.text()?,
                key: r.string()?.to_vec(),
            },
            GLOBAL_REQUEST => Msg::GlobalRequest {
                name: r.text()?,
                want_reply: r.bool()?,
                rest: r.rest().to_vec(),
            },
            REQUEST_SUCCESS => Msg::RequestSuccess {
                rest: r.rest().to_vec(),
            },
            REQUEST_FAILURE => Msg::RequestFailure,
            EXT_INFO => {
                let n = r.u32()?;
                let mut extensions = Vec::new();
                for _ in 0..n {
                    // Each entry reads at least 8 bytes, so the input bounds the loop.
                    extensions.push((r.text()?, r.string()?.to_vec()));
                }
                Msg::ExtInfo { extensions }
            }
            CHANNEL_OPEN => {
                let kind = r.text()?;
                let sender = r.u32()?;
                let window = r.u32()?;
                let max_packet = r.u32()?;
                if kind == DIRECT_TCPIP || kind == FORWARDED_TCPIP {
                    let target = DirectTcpip {
                        host: r.text()?,
                        port: r.u32()?,
                        originator: r.text()?,
                        originator_port: r.u32()?,
                    };
                    if kind == DIRECT_TCPIP {
                        Msg::ChannelOpenDirectTcpip {
                            sender,
                            window,
                            max_packet,
                            target,
                        }
                    } else {
                        Msg::ChannelOpenForwardedTcpip {
                            sender,
                            window,
                            max_packet,
                            target,
                        }
                    }
                } else {
                    Msg::ChannelOpen {
                        kind,
                        sender,
                        window,
                        max_packet,
                        rest: r.rest().to_vec(),
                    }
                }
            }
            CHANNEL_OPEN_CONFIRMATION => Msg::ChannelOpenConfirmation {
                recipient: r.u32()?,
                sender: r.u32()?,
                window: r.u32()?,
                max_packet: r.u32()?,
            },
            CHANNEL_OPEN_FAILURE => Msg::ChannelOpenFailure {
                recipient: r.u32()?,
                reason: r.u32()?,
                description: r.text()?,
                language: r.text()?,
            },
            CHANNEL_WINDOW_ADJUST => Msg::ChannelWindowAdjust {
                recipient: r.u32()?,
                bytes: r.u32()?,
            },
            CHANNEL_DATA => Msg::ChannelData {
                recipient: r.u32()?,
                data: r.string()?.to_vec(),
            },
            CHANNEL_EXTENDED_DATA => Msg::ChannelExtendedData {
                recipient: r.u32()?,
                code: r.u32()?,
                data: r.string()?.to_vec(),
            },
            CHANNEL_EOF => Msg::ChannelEof {
                recipient: r.u32()?,
            },
            CHANNEL_CLOSE => Msg::ChannelClose {
                recipient: r.u32()?,
            },
            CHANNEL_REQUEST => {
                let recipient = r.u32()?;
                let name = r.text()?;
                let want_reply = r.bool()?;
                let kind = match name.as_str() {
                    "exec" => ChannelRequestKind::Exec { command: r.text()? },
                    "exit-status" => ChannelRequestKind::ExitStatus { status: r.u32()? },
                    "subsystem" => ChannelRequestKind::Subsystem { name: r.text()? },
                    _ => ChannelRequestKind::Other {
                        name,
                        rest: r.rest().to_vec(),
                    },
                };
                Msg::ChannelRequest {
                    recipient,
                    want_reply,
                    kind,
                }
            }
            CHANNEL_SUCCESS => Msg::ChannelSuccess {
                recipient: r.u32()?,
            },
            CHANNEL_FAILURE => Msg::ChannelFailure {
                recipient: r.u32()?,
            },
            _ => Msg::Unknown {
                number,
                body: r.rest().to_vec(),
            },
        };
        r.expect_empty()?;
        Ok(msg)
    }
}

/// A nested blob: `string type` then the algorithm's fields, described for Ed25519
/// and ECDSA P-256 keys and signatures; anything else stays one opaque string.
fn blob(w: &mut Writer, id: &str, bytes: &[u8], p: Protection) {
    let is_sig = id.contains("signature");
    let mut r = Reader::new(bytes);
    let parsed = (|| {
        let t = r.text()?;
        let mut parts = vec![r.string()?.to_vec()];
        if t == "ecdsa-sha2-nistp256" && !is_sig {
            parts.push(r.string()?.to_vec());
        }
        r.expect_empty()?;
        Ok::<_, DecodeError>((t, parts))
    })();
    let Ok((t, parts)) = parsed else {
        w.string(id, bytes, p);
        return;
    };
    w.nested(id, |w| {
        w.text("key_type", &t);
        match (t.as_str(), is_sig, parts.as_slice()) {
            ("ecdsa-sha2-nistp256", false, [curve, q]) => {
                w.text("curve_name", &String::from_utf8_lossy(curve));
                w.string("ec_point", q, p);
            }
            ("ecdsa-sha2-nistp256", true, [inner]) => {
                let mut ir = Reader::new(inner);
                match (ir.string(), ir.string(), ir.expect_empty()) {
                    (Ok(a), Ok(b), Ok(())) => w.nested("ecdsa_signature", |w| {
                        w.mpint_raw("ecdsa_r", a, p);
                        w.mpint_raw("ecdsa_s", b, p);
                    }),
                    _ => w.string("signature_bytes", inner, p),
                }
            }
            (_, true, [body]) => w.string("signature_bytes", body, p),
            (_, _, [body, ..]) => w.string("public_key_bytes", body, p),
            _ => {}
        }
    });
}

/// Channel data as text when it is printable UTF-8, else as opaque bytes.
fn text_or_bytes(w: &mut Writer, id: &str, data: &[u8]) {
    match core::str::from_utf8(data) {
        Ok(s) => w.text(id, s),
        Err(_) => w.string(id, data, Protection::Plaintext),
    }
}
