//! What travels inside the TLS connection of the control channel (openvpn 2.6
//! `ssl.c` key_method_2_write/read, `push.c`).
//!
//! ```text
//! key method 2:  0x00000000 (4) · key method 2 (1)
//!                · client: pre_master (48) random1 (32) random2 (32)
//!                · server:                 random1 (32) random2 (32)
//!                · options string, username, password, peer info:
//!                  each u16 length (counting the NUL) · bytes · NUL (empty: length 0)
//! then text messages ending in NUL: PUSH_REQUEST, PUSH_REPLY,opt,opt,…, AUTH_FAILED, EXIT
//! ```
//!
//! With `key-derivation tls-ekm` the key source randoms are sent but no key is
//! derived from them: the data-channel keys come from the TLS exporter.

use cipherstage_packets::Ipv4Addr;

use super::data::Cipher;

/// Longest options string openvpn reads (TLS_OPTIONS_LEN).
pub const MAX_OPTIONS: usize = 512;
/// Longest PUSH_REPLY accepted (openvpn's push buffer is smaller).
pub const MAX_PUSH: usize = 4096;
/// IV_PROTO bit: the peer speaks P_DATA_V2.
pub const IV_PROTO_DATA_V2: u32 = 1 << 1;
/// IV_PROTO bit: the server may push without waiting for PUSH_REQUEST.
pub const IV_PROTO_REQUEST_PUSH: u32 = 1 << 2;
/// IV_PROTO bit: data keys from the TLS exporter (`key-derivation tls-ekm`).
pub const IV_PROTO_TLS_KEY_EXPORT: u32 = 1 << 3;

/// Why a control message was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlError {
    /// Not all of it has arrived yet.
    Incomplete,
    /// The leading u32 is not 0 or the key method is not 2.
    KeyMethod(u8),
    /// A string longer than openvpn reads, or not ending in NUL.
    BadString,
    /// PUSH_REPLY missing something we need, or an option with a bad value.
    BadPush(&'static str),
}

/// A key method 2 message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyMethod {
    /// The client's 48-byte pre_master (client only).
    pub pre_master: Option<Vec<u8>>,
    /// random1 (32).
    pub random1: Vec<u8>,
    /// random2 (32).
    pub random2: Vec<u8>,
    /// The options string (OCC), e.g. `V4,dev-type tun,…`.
    pub options: String,
    /// Username (empty: none).
    pub username: String,
    /// Password (empty: none).
    pub password: String,
    /// Peer info lines `IV_VER=…` (client), or empty.
    pub peer_info: String,
}

fn put_string(out: &mut Vec<u8>, s: &str) {
    if s.is_empty() {
        out.extend_from_slice(&[0, 0]);
    } else {
        let len = (s.len() + 1).min(usize::from(u16::MAX));
        out.extend_from_slice(&(len as u16).to_be_bytes());
        out.extend_from_slice(s.as_bytes().get(..len - 1).unwrap_or_default());
        out.push(0);
    }
}

fn get_string(b: &[u8], at: &mut usize, max: usize) -> Result<String, ControlError> {
    let l: [u8; 2] = b
        .get(*at..*at + 2)
        .and_then(|l| l.try_into().ok())
        .ok_or(ControlError::Incomplete)?;
    let len = usize::from(u16::from_be_bytes(l));
    *at += 2;
    if len == 0 {
        return Ok(String::new());
    }
    if len > max {
        return Err(ControlError::BadString);
    }
    let s = b.get(*at..*at + len).ok_or(ControlError::Incomplete)?;
    *at += len;
    let (last, text) = s.split_last().ok_or(ControlError::BadString)?;
    if *last != 0 {
        return Err(ControlError::BadString);
    }
    Ok(String::from_utf8_lossy(text).into_owned())
}

impl KeyMethod {
    /// The bytes.
    pub fn emit(&self) -> Vec<u8> {
        let mut out = vec![0, 0, 0, 0, 2];
        if let Some(p) = &self.pre_master {
            out.extend_from_slice(p);
        }
        out.extend_from_slice(&self.random1);
        out.extend_from_slice(&self.random2);
        put_string(&mut out, &self.options);
        put_string(&mut out, &self.username);
        put_string(&mut out, &self.password);
        put_string(&mut out, &self.peer_info);
        out
    }

    /// Reads one from the start of `b` (`from_client`: with pre_master); returns it
    /// and the bytes used.
    pub fn parse(b: &[u8], from_client: bool) -> Result<(KeyMethod, usize), ControlError> {
        let head: [u8; 5] = b
            .get(..5)
            .and_then(|h| h.try_into().ok())
            .ok_or(ControlError::Incomplete)?;
        let [a, b0, c, d, method] = head;
        if [a, b0, c, d] != [0, 0, 0, 0] || method & 0x0f != 2 {
            return Err(ControlError::KeyMethod(method));
        }
        let mut at = 5;
        let mut take = |n: usize| -> Result<Vec<u8>, ControlError> {
            let s = b.get(at..at + n).ok_or(ControlError::Incomplete)?.to_vec();
            at += n;
            Ok(s)
        };
        let pre_master = if from_client { Some(take(48)?) } else { None };
        let random1 = take(32)?;
        let random2 = take(32)?;
        let options = get_string(b, &mut at, MAX_OPTIONS)?;
        let username = get_string(b, &mut at, 256)?;
        let password = get_string(b, &mut at, 256)?;
        // openvpn 2.6 always writes the peer info field (empty from a server).
        let peer_info = get_string(b, &mut at, MAX_PUSH)?;
        Ok((
            KeyMethod {
                pre_master,
                random1,
                random2,
                options,
                username,
                password,
                peer_info,
            },
            at,
        ))
    }

    /// The value of `KEY=` in the peer info.
    pub fn peer_var(&self, key: &str) -> Option<&str> {
        self.peer_info
            .lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
    }

    /// IV_PROTO as a number (0 if absent or not a number).
    pub fn iv_proto(&self) -> u32 {
        self.peer_var("IV_PROTO")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }

    /// The ciphers of IV_CIPHERS that we know.
    pub fn iv_ciphers(&self) -> Vec<Cipher> {
        self.peer_var("IV_CIPHERS")
            .unwrap_or_default()
            .split(':')
            .filter_map(Cipher::from_name)
            .collect()
    }
}

/// What a PUSH_REPLY gives the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushReply {
    /// ifconfig: our tunnel address and its netmask (topology subnet).
    pub ifconfig: (Ipv4Addr, Ipv4Addr),
    /// route-gateway.
    pub route_gateway: Option<Ipv4Addr>,
    /// route network netmask.
    pub routes: Vec<(Ipv4Addr, Ipv4Addr)>,
    /// peer-id for P_DATA_V2.
    pub peer_id: u32,
    /// The data-channel cipher.
    pub cipher: Cipher,
    /// ping interval in seconds, if pushed.
    pub ping: Option<u32>,
    /// ping-restart in seconds, if pushed.
    pub ping_restart: Option<u32>,
    /// Options we read but do not act on (topology, dhcp-option, …).
    pub other: Vec<String>,
}

fn addr(s: Option<&str>) -> Result<Ipv4Addr, ControlError> {
    s.and_then(|s| s.parse::<Ipv4Addr>().ok())
        .ok_or(ControlError::BadPush("address"))
}

impl PushReply {
    /// Parses `PUSH_REPLY,opt,opt,…` (without the NUL).
    pub fn parse(msg: &str) -> Result<PushReply, ControlError> {
        if msg.len() > MAX_PUSH {
            return Err(ControlError::BadPush("length"));
        }
        let body = msg
            .strip_prefix("PUSH_REPLY")
            .ok_or(ControlError::BadPush("not a PUSH_REPLY"))?;
        let mut ifconfig = None;
        let mut r = PushReply {
            ifconfig: (Ipv4Addr::UNSPECIFIED, Ipv4Addr::UNSPECIFIED),
            route_gateway: None,
            routes: Vec::new(),
            peer_id: 0,
            cipher: Cipher::Aes256Gcm,
            ping: None,
            ping_restart: None,
            other: Vec::new(),
        };
        let mut cipher = None;
        let mut ekm = false;
        for opt in body.split(',').filter(|o| !o.is_empty()) {
            let mut w = opt.split_ascii_whitespace();
            let num = |v: Option<&str>| {
                v.and_then(|v| v.parse::<u32>().ok())
                    .ok_or(ControlError::BadPush("number"))
            };
            match w.next() {
                Some("ifconfig") => ifconfig = Some((addr(w.next())?, addr(w.next())?)),
                Some("route-gateway") => r.route_gateway = Some(addr(w.next())?),
                Some("route") => {
                    let net = addr(w.next())?;
                    let mask = w
                        .next()
                        .map_or(Ok(Ipv4Addr::BROADCAST), |m| addr(Some(m)))?;
                    if r.routes.len() < 64 {
                        r.routes.push((net, mask));
                    }
                }
                Some("peer-id") => {
                    r.peer_id = num(w.next())?;
                    if r.peer_id > 0x00ff_ffff {
                        return Err(ControlError::BadPush("peer-id"));
                    }
                }
                Some("cipher") => {
                    cipher = Some(
                        w.next()
                            .and_then(Cipher::from_name)
                            .ok_or(ControlError::BadPush("cipher"))?,
                    )
                }
                Some("key-derivation") => ekm |= w.next() == Some("tls-ekm"),
                Some("protocol-flags") => ekm |= w.any(|f| f == "tls-ekm"),
                Some("ping") => r.ping = Some(num(w.next())?),
                Some("ping-restart") => r.ping_restart = Some(num(w.next())?),
                _ => {
                    if r.other.len() < 64 {
                        r.other.push(opt.to_owned());
                    }
                }
            }
        }
        r.ifconfig = ifconfig.ok_or(ControlError::BadPush("no ifconfig"))?;
        r.cipher = cipher.ok_or(ControlError::BadPush("no cipher"))?;
        if !ekm {
            return Err(ControlError::BadPush("no key-derivation tls-ekm"));
        }
        Ok(r)
    }

    /// The message a server sends (without the NUL).
    pub fn emit(&self) -> String {
        let mut s = String::from("PUSH_REPLY");
        for (net, mask) in &self.routes {
            s += &format!(",route {net} {mask}");
        }
        if let Some(g) = self.route_gateway {
            s += &format!(",route-gateway {g}");
        }
        s += ",topology subnet";
        if let Some(p) = self.ping {
            s += &format!(",ping {p}");
        }
        if let Some(p) = self.ping_restart {
            s += &format!(",ping-restart {p}");
        }
        s += &format!(
            ",ifconfig {} {},peer-id {},cipher {},key-derivation tls-ekm",
            self.ifconfig.0,
            self.ifconfig.1,
            self.peer_id,
            self.cipher.name()
        );
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_method_round_trip_and_truncation() {
        let km = KeyMethod {
            pre_master: Some(vec![1; 48]),
            random1: vec![2; 32],
            random2: vec![3; 32],
            options: "V4,dev-type tun".into(),
            username: String::new(),
            password: String::new(),
            peer_info: "IV_VER=2.6.14\nIV_PROTO=10\nIV_CIPHERS=AES-256-GCM:CHACHA20-POLY1305\n"
                .into(),
        };
        let b = km.emit();
        assert_eq!(KeyMethod::parse(&b, true), Ok((km.clone(), b.len())));
        for n in 0..b.len() {
            assert!(KeyMethod::parse(&b[..n], true).is_err(), "{n}");
        }
        assert_eq!(km.iv_proto(), 10);
        assert_eq!(
            km.iv_ciphers(),
            vec![Cipher::Aes256Gcm, Cipher::Chacha20Poly1305]
        );
        let mut bad = b.clone();
        bad[4] = 1;
        assert_eq!(
            KeyMethod::parse(&bad, true),
            Err(ControlError::KeyMethod(1))
        );
        let mut nonul = b.clone();
        nonul[5 + 112 + 2 + 15] = b'x';
        assert_eq!(KeyMethod::parse(&nonul, true), Err(ControlError::BadString));
    }

    #[test]
    fn push_reply_as_openvpn_2_6_sends_it() {
        let m = "PUSH_REPLY,route-gateway 10.8.0.1,topology subnet,ping 1,ping-restart 10,\
                 ifconfig 10.8.0.2 255.255.255.0,peer-id 0,cipher AES-256-GCM,\
                 protocol-flags cc-exit tls-ekm dyn-tls-crypt";
        let r = PushReply::parse(m).unwrap();
        assert_eq!(r.ifconfig.0, Ipv4Addr::new(10, 8, 0, 2));
        assert_eq!(r.route_gateway, Some(Ipv4Addr::new(10, 8, 0, 1)));
        assert_eq!((r.ping, r.cipher), (Some(1), Cipher::Aes256Gcm));
        assert_eq!(PushReply::parse(&r.emit()).unwrap().ifconfig, r.ifconfig);
    }

    #[test]
    fn garbage_push_replies_are_refused() {
        for m in [
            "PUSH_REPLY",
            "PUSH_REPLY,ifconfig 10.8.0.2",
            "PUSH_REPLY,ifconfig 999.8.0.2 255.255.255.0,cipher AES-256-GCM,key-derivation tls-ekm",
            "PUSH_REPLY,ifconfig 10.8.0.2 255.255.255.0,cipher DES,key-derivation tls-ekm",
            "PUSH_REPLY,ifconfig 10.8.0.2 255.255.255.0,cipher AES-256-GCM",
            "PUSH_REPLY,ifconfig 10.8.0.2 255.255.255.0,cipher AES-256-GCM,key-derivation tls-ekm,peer-id 99999999",
            "PUSH_REPLY,ifconfig 10.8.0.2 255.255.255.0,cipher AES-256-GCM,key-derivation tls-ekm,ping x",
            "AUTH_FAILED",
            "PUSH_REPLY,\u{0}\u{ff}ifconfig",
        ] {
            assert!(PushReply::parse(m).is_err(), "{m}");
        }
        let long = format!("PUSH_REPLY,{}", "x".repeat(MAX_PUSH));
        assert!(PushReply::parse(&long).is_err());
        let ok = "PUSH_REPLY,junk junk,,, ,ifconfig 10.8.0.2 255.255.255.0,cipher AES-256-GCM,key-derivation tls-ekm";
        assert_eq!(
            PushReply::parse(ok).unwrap().other,
            vec!["junk junk".to_owned(), " ".to_owned()]
        );
    }
}
