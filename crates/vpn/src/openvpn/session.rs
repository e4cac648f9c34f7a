//! One OpenVPN session (key id 0), client or server, sans-IO: packets in, packets
//! and events out; randomness comes from the TLS side's source, time (ms) is passed in.
//!
//! The reliability layer (`reliable.c`): every control packet but P_ACK_V1 has a
//! packet id counting from 0 per direction; the peer acknowledges it in an ACK array
//! (piggybacked or in P_ACK_V1); unacknowledged packets are sent again after
//! [`Config::rto_ms`]. Received packets are put back in order (a window of
//! [`RECV_WINDOW`] ids), duplicates are acknowledged again and dropped.

use std::collections::{BTreeMap, VecDeque};

use cipherstage_tls::{Client, Connection, Error as TlsError, Outgoing, Server};
use cipherstage_transcript::rand::RandomSource;
use cipherstage_transcript::{Field, FieldsBuilder};

use super::control::{
    ControlError, KeyMethod, PushReply, IV_PROTO_DATA_V2, IV_PROTO_TLS_KEY_EXPORT,
};
use super::data::{Cipher, DataError, Keys, EKM_LABEL, EKM_LEN, OCC_EXIT, OCC_MAGIC, PING};
use super::describe;
use super::wire::{self, Control, Packet, TcpFramer, WireError, MAX_ACKS};
use super::wrap::{ControlProtection, Wrap, WrapError};

/// Received packet ids held for reordering, ahead of the next expected one.
pub const RECV_WINDOW: u32 = 8;
/// Control packets in flight before we wait for ACKs.
pub const SEND_WINDOW: usize = 4;
/// Largest TLS chunk in one P_CONTROL_V1 (openvpn 2.6's tls-mtu is 1250).
pub const MAX_CONTROL_PAYLOAD: usize = 1100;
/// A packet unacknowledged after this many sends fails the session.
pub const MAX_SENDS: u32 = 10;
/// Text control messages kept at most (a peer cannot make us hold more).
const MAX_TEXT: usize = 4096;

/// Which end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `--client`: sends the first reset, pulls its options.
    Client,
    /// `--mode server`: answers, pushes.
    Server,
}

/// What a server pushes (the cipher is chosen from the client's IV_CIPHERS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushConfig {
    /// The client's address and netmask.
    pub ifconfig: (std::net::Ipv4Addr, std::net::Ipv4Addr),
    /// The server's tunnel address.
    pub route_gateway: std::net::Ipv4Addr,
    /// Networks behind the server.
    pub routes: Vec<(std::net::Ipv4Addr, std::net::Ipv4Addr)>,
    /// The peer id the client puts in P_DATA_V2.
    pub peer_id: u32,
    /// Keepalive interval and timeout pushed, seconds.
    pub ping: (u32, u32),
}

/// Settings of one session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Client or server.
    pub role: Role,
    /// Over TCP (2-byte length before each packet) or UDP.
    pub tcp: bool,
    /// Data ciphers, preferred first (client: IV_CIPHERS; server: data-ciphers).
    pub ciphers: Vec<Cipher>,
    /// The options string sent in key method 2.
    pub options: String,
    /// IV_VER … lines the client sends as peer info.
    pub peer_info: String,
    /// The server's push (server only).
    pub push: Option<PushConfig>,
    /// Retransmission timeout, ms.
    pub rto_ms: u64,
    /// tls-auth, tls-crypt or neither on every control packet.
    pub protection: ControlProtection,
    /// The sender's clock (Unix seconds) when `now` is 0: tls-auth's and tls-crypt's
    /// time field.
    pub unix_time: u64,
}

impl Config {
    /// A client's defaults: AES-256-GCM then ChaCha20-Poly1305, peer info of a 2.6
    /// client that can take P_DATA_V2 and tls-ekm.
    pub fn client(tcp: bool) -> Config {
        let ciphers = vec![Cipher::Aes256Gcm, Cipher::Chacha20Poly1305];
        let names: Vec<&str> = ciphers.iter().map(|c| c.name()).collect();
        Config {
            role: Role::Client,
            tcp,
            options: options_string(tcp, false),
            peer_info: format!(
                "IV_VER=2.6.14\nIV_PLAT=linux\nIV_PROTO={}\nIV_CIPHERS={}\nIV_GUI_VER=cipherstage\n",
                IV_PROTO_DATA_V2 | IV_PROTO_TLS_KEY_EXPORT,
                names.join(":")
            ),
            ciphers,
            push: None,
            rto_ms: 2000,
            protection: ControlProtection::None,
            unix_time: 0,
        }
    }

    /// A server's defaults pushing `push`.
    pub fn server(tcp: bool, push: PushConfig) -> Config {
        Config {
            role: Role::Server,
            tcp,
            ciphers: vec![Cipher::Aes256Gcm, Cipher::Chacha20Poly1305],
            options: options_string(tcp, true),
            peer_info: String::new(),
            push: Some(push),
            rto_ms: 2000,
            protection: ControlProtection::None,
            unix_time: 0,
        }
    }
}

impl Config {
    /// The same settings with tls-auth or tls-crypt on the control packets; `unix_time`
    /// is the clock (Unix seconds) at `now` 0. tls-auth also shows in the options
    /// string (`keydir`, `tls-auth`), as openvpn 2.6 writes it (`options_string.c`).
    pub fn protected(mut self, protection: ControlProtection, unix_time: u64) -> Config {
        if let ControlProtection::TlsAuth { direction, .. } = &protection {
            let kd = direction
                .map(|d| format!(",keydir {d}"))
                .unwrap_or_default();
            self.options = self
                .options
                .replace(",cipher ", &format!("{kd},cipher "))
                .replace(",key-method 2", ",tls-auth,key-method 2");
        }
        self.protection = protection;
        self.unix_time = unix_time;
        self
    }
}

/// The options string an openvpn 2.6 peer with these settings sends (OCC).
pub fn options_string(tcp: bool, server: bool) -> String {
    let proto = match (tcp, server) {
        (true, false) => "TCPv4_CLIENT",
        (true, true) => "TCPv4_SERVER",
        (false, _) => "UDPv4",
    };
    format!(
        "V4,dev-type tun,link-mtu 1{},tun-mtu 1500,proto {proto},keydir {},cipher AES-256-GCM,auth [null-digest],keysize 256,key-method 2,tls-{}",
        if tcp { "551" } else { "549" },
        u8::from(server),
        if server { "server" } else { "client" }
    )
    .replace(",keydir 0", "")
    .replace(",keydir 1", "")
}

/// The TLS end the control channel carries.
pub enum Tls {
    /// We are the OpenVPN client.
    Client(Box<Client>),
    /// We are the OpenVPN server.
    Server(Box<Server>),
}

impl Tls {
    fn conn(&mut self) -> &mut dyn Connection {
        match self {
            Tls::Client(c) => c.as_mut(),
            Tls::Server(s) => s.as_mut(),
        }
    }
    fn conn_ref(&self) -> &dyn Connection {
        match self {
            Tls::Client(c) => c.as_ref(),
            Tls::Server(s) => s.as_ref(),
        }
    }
}

/// Where the session is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Waiting for the peer's hard reset.
    ExpectReset,
    /// TLS handshake in progress.
    Handshake,
    /// Key method 2 messages being exchanged.
    KeyExchange,
    /// Client: PUSH_REQUEST sent, waiting for PUSH_REPLY.
    ExpectPushReply,
    /// Data channel up.
    Established,
    /// Over (TLS alert, refused push, retransmissions exhausted, exit).
    Failed,
}

/// What happened, for the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The peer's hard reset arrived; its session id.
    PeerReset([u8; 8]),
    /// TLS handshake done.
    TlsConnected,
    /// TLS failed: the alert we sent or received.
    TlsFailed(String),
    /// The peer's key method 2 message.
    KeyMethod(KeyMethod),
    /// A text control message (PUSH_REQUEST, PUSH_REPLY…, AUTH_FAILED…).
    ControlText(String),
    /// The client's options as pushed.
    Pushed(PushReply),
    /// Data-channel keys installed (the 256 exported bytes).
    DataKeys(Cipher, Vec<u8>),
    /// A keepalive ping arrived on the data channel.
    Ping(u32),
    /// explicit-exit-notify arrived.
    Exit,
    /// An IP packet arrived through the tunnel (packet id, bytes).
    Packet(u32, Vec<u8>),
    /// A packet was dropped, and why.
    Dropped(Drop),
    /// The session failed.
    Failed(&'static str),
}

/// Why an incoming packet was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drop {
    /// Not an OpenVPN packet.
    Wire(WireError),
    /// A session id other than the peer's.
    WrongSession,
    /// An ACK echoing a session id that is not ours.
    WrongRemote,
    /// A reset for another session while one is running.
    UnexpectedReset,
    /// A packet id outside the receive window.
    OutOfWindow(u32),
    /// A duplicate (acknowledged again).
    Duplicate(u32),
    /// Data before keys, or a data packet that did not open.
    Data(Option<DataError>),
    /// A key id we do not have.
    KeyId(u8),
    /// tls-auth's HMAC or tls-crypt's tag did not verify, or a replayed wrapping.
    Wrap(WrapError),
}

/// One packet as sent: its bytes (TCP: with the length), label and field tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The bytes for the socket.
    pub bytes: Vec<u8>,
    /// Message label key (`tls.msg.client_hello`, `vpn.ovpn.msg.ping` …).
    pub label: String,
    /// What every byte means.
    pub fields: Vec<Field>,
}

struct Pending {
    id: u32,
    opcode: u8,
    payload: Vec<u8>,
    /// The whole TLS record the payload is, with its tree (none for a fragment).
    record: Option<Outgoing>,
    sent_at: Option<u64>,
    sends: u32,
}

/// One OpenVPN session.
pub struct Session {
    cfg: Config,
    wrap: Wrap,
    state: State,
    tls: Tls,
    local_sid: [u8; 8],
    remote_sid: Option<[u8; 8]>,
    next_id: u32,
    pending: VecDeque<Pending>,
    expected: u32,
    stash: BTreeMap<u32, (u8, Vec<u8>)>,
    acks: Vec<u32>,
    plain: Vec<u8>,
    km_sent: bool,
    peer_km: Option<KeyMethod>,
    cipher: Option<Cipher>,
    push_replies: u8,
    peer_id: u32,
    keys: Option<Keys>,
    push: Option<PushReply>,
    key_source: Vec<u8>,
    framer: TcpFramer,
    out: Vec<Sent>,
    tls_out: Vec<Outgoing>,
    /// What the next application-data records carry: label, plaintext tree, length.
    notes: VecDeque<(String, Vec<Field>, usize)>,
    events: Vec<Event>,
    tls_events: Vec<cipherstage_transcript::Event>,
}

impl Session {
    /// Starts a session: a client queues its hard reset. `rng` draws the session id
    /// and the key method randoms.
    pub fn new(cfg: Config, tls: Tls, rng: &mut dyn RandomSource) -> Session {
        let mut local_sid = [0u8; 8];
        // A failing live source leaves the id zero, still a valid session id.
        let _ = rng.fill(&mut local_sid);
        // Key method 2's key source: pre_master and two randoms (client), two randoms
        // (server). Sent as openvpn sends them; tls-ekm derives no key from them.
        let mut key_source = vec![0u8; if cfg.role == Role::Client { 112 } else { 64 }];
        let _ = rng.fill(&mut key_source);
        let mut s = Session {
            wrap: Wrap::new(&cfg.protection, cfg.role == Role::Server),
            state: State::ExpectReset,
            tls,
            local_sid,
            remote_sid: None,
            next_id: 0,
            pending: VecDeque::new(),
            expected: 0,
            stash: BTreeMap::new(),
            acks: Vec::new(),
            plain: Vec::new(),
            km_sent: false,
            peer_km: None,
            cipher: None,
            push_replies: 0,
            peer_id: 0,
            keys: None,
            push: None,
            key_source,
            framer: TcpFramer::default(),
            out: Vec::new(),
            tls_out: Vec::new(),
            notes: VecDeque::new(),
            events: Vec::new(),
            tls_events: Vec::new(),
            cfg,
        };
        if s.cfg.role == Role::Client {
            s.queue(wire::HARD_RESET_CLIENT_V2, Vec::new(), None);
        }
        s
    }

    /// Our session id.
    pub fn session_id(&self) -> [u8; 8] {
        self.local_sid
    }

    /// The state.
    pub fn state(&self) -> State {
        self.state
    }

    /// The pushed options (client, once received).
    pub fn pushed(&self) -> Option<&PushReply> {
        self.push.as_ref()
    }

    /// Whether the data channel is up.
    pub fn established(&self) -> bool {
        self.state == State::Established
    }

    /// The TLS connection (for its secrets and key log).
    pub fn tls(&self) -> &dyn Connection {
        self.tls.conn_ref()
    }

    /// Packets to send (TCP: each with its length prefix).
    pub fn take_output(&mut self) -> Vec<Vec<u8>> {
        core::mem::take(&mut self.out)
            .into_iter()
            .map(|s| s.bytes)
            .collect()
    }

    /// Packets to send with their labels and field trees.
    pub fn take_sent(&mut self) -> Vec<Sent> {
        core::mem::take(&mut self.out)
    }

    /// TLS records sent since the last call (what the control packets carried).
    pub fn take_tls_records(&mut self) -> Vec<Outgoing> {
        core::mem::take(&mut self.tls_out)
    }

    /// Events since the last call.
    pub fn take_events(&mut self) -> Vec<Event> {
        core::mem::take(&mut self.events)
    }

    /// The TLS core's transcript events (secrets, checks) since the last call.
    pub fn take_tls_events(&mut self) -> Vec<cipherstage_transcript::Event> {
        core::mem::take(&mut self.tls_events)
    }

    /// Feeds bytes from the socket: for TCP any part of the stream, for UDP one
    /// datagram. `now` is in ms.
    pub fn receive(&mut self, bytes: &[u8], now: u64) {
        if self.cfg.tcp {
            self.framer.push(bytes);
            loop {
                match self.framer.next_packet() {
                    Ok(Some(p)) => self.packet(&p, now),
                    Ok(None) => break,
                    Err(e) => {
                        self.events.push(Event::Dropped(Drop::Wire(e)));
                        self.fail("tcp length");
                        break;
                    }
                }
            }
        } else {
            self.packet(bytes, now);
        }
        self.flush(now);
    }

    /// Sends what is due at `now` (ms): first transmissions and retransmissions.
    pub fn tick(&mut self, now: u64) {
        self.flush(now);
    }

    /// Tunnels an IP packet; `false` before the data channel is up.
    pub fn send_packet(&mut self, ip: &[u8]) -> bool {
        self.send_data(ip)
    }

    /// Sends a keepalive ping on the data channel.
    pub fn send_ping(&mut self) -> bool {
        self.send_data(&PING)
    }

    /// Sends explicit-exit-notify (OCC exit) on the data channel.
    pub fn send_exit(&mut self) -> bool {
        let mut m = OCC_MAGIC.to_vec();
        m.push(OCC_EXIT);
        self.send_data(&m)
    }

    fn send_data(&mut self, plain: &[u8]) -> bool {
        let Some(k) = self.keys.as_mut() else {
            return false;
        };
        let [_, p1, p2, p3] = self.peer_id.to_be_bytes();
        let header = [wire::DATA_V2 << 3, p1, p2, p3];
        match k.seal(&header, plain) {
            Ok(pkt) => {
                let fields = describe::framed(self.cfg.tcp, pkt.len(), |b| {
                    describe::data(b, &header, plain)
                });
                let label = if plain == PING {
                    "vpn.ovpn.msg.ping"
                } else if plain.get(..16) == Some(&OCC_MAGIC[..]) {
                    "vpn.ovpn.msg.exit"
                } else {
                    "vpn.ovpn.msg.data"
                };
                self.emit_raw(pkt, label, fields);
                true
            }
            Err(_) => false,
        }
    }

    fn emit_raw(&mut self, pkt: Vec<u8>, label: &str, fields: Vec<Field>) {
        self.out.push(Sent {
            bytes: if self.cfg.tcp {
                wire::tcp_frame(&pkt)
            } else {
                pkt
            },
            label: label.to_owned(),
            fields,
        });
    }

    fn fail(&mut self, why: &'static str) {
        if self.state != State::Failed {
            self.state = State::Failed;
            self.events.push(Event::Failed(why));
        }
    }

    fn queue(&mut self, opcode: u8, payload: Vec<u8>, record: Option<Outgoing>) {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        self.pending.push_back(Pending {
            id,
            opcode,
            payload,
            record,
            sent_at: None,
            sends: 0,
        });
    }

    fn take_acks(&mut self) -> Vec<u32> {
        let n = self.acks.len().min(MAX_ACKS);
        self.acks.drain(..n).collect()
    }

    fn control(
        &mut self,
        opcode: u8,
        msg_id: Option<u32>,
        payload: Vec<u8>,
        record: Option<Outgoing>,
        now: u64,
    ) {
        let acks = self.take_acks();
        let c = Control {
            opcode,
            key_id: 0,
            session: self.local_sid,
            remote: (!acks.is_empty()).then(|| self.remote_sid.unwrap_or_default()),
            acks,
            msg_id,
            payload,
        };
        let mut bytes = c.emit();
        let mut wrapped = None;
        if self.wrap.active() {
            let unix = self.cfg.unix_time.saturating_add(now / 1000);
            match self.wrap.wrap(&bytes, unix) {
                Some((b, w)) => {
                    bytes = b;
                    wrapped = Some(w);
                }
                None => {
                    self.fail("control packet id exhausted");
                    return;
                }
            }
        }
        let label = match (&record, opcode) {
            (Some(r), _) => r.label.clone(),
            (None, wire::HARD_RESET_CLIENT_V2) => "vpn.ovpn.msg.hard_reset_client".into(),
            (None, wire::HARD_RESET_SERVER_V2) => "vpn.ovpn.msg.hard_reset_server".into(),
            (None, wire::ACK_V1) => "vpn.ovpn.msg.ack".into(),
            (None, _) => "vpn.ovpn.msg.tls_fragment".into(),
        };
        let fields = describe::framed(self.cfg.tcp, bytes.len(), |b| {
            describe::wrapped_control(b, &c, record.map(|r| r.fields), wrapped)
        });
        self.emit_raw(bytes, &label, fields);
    }

    /// Moves TLS output into control packets, sends what the window allows and
    /// what timed out, and the ACKs still owed.
    fn flush(&mut self, now: u64) {
        self.pump_tls();
        let mut sent = Vec::new();
        let mut exhausted = false;
        let rto = self.cfg.rto_ms;
        for (i, p) in self.pending.iter_mut().enumerate() {
            if i >= SEND_WINDOW {
                break;
            }
            let due = match p.sent_at {
                None => true,
                Some(t) => now >= t.saturating_add(rto << p.sends.saturating_sub(1).min(4)),
            };
            if due {
                if p.sends >= MAX_SENDS {
                    exhausted = true;
                    break;
                }
                p.sent_at = Some(now);
                p.sends += 1;
                sent.push((p.opcode, p.id, p.payload.clone(), p.record.clone()));
            }
        }
        if exhausted {
            self.fail("retransmissions exhausted");
            return;
        }
        for (op, id, payload, record) in sent {
            self.control(op, Some(id), payload, record, now);
        }
        while !self.acks.is_empty() && self.remote_sid.is_some() {
            self.control(wire::ACK_V1, None, Vec::new(), None, now);
        }
    }

    fn pump_tls(&mut self) {
        if self.remote_sid.is_none() {
            return;
        }
        let conn = self.tls.conn();
        let records = conn.take_output();
        self.tls_events.extend(conn.take_events());
        for mut r in records {
            if r.label == "tls.msg.application_data" {
                if let Some((label, tree, len)) = self.notes.pop_front() {
                    if describe::graft(&mut r.fields, &tree, len) {
                        r.label = label;
                    }
                }
            }
            self.tls_out.push(r.clone());
            if r.bytes.len() <= MAX_CONTROL_PAYLOAD {
                self.queue(wire::CONTROL_V1, r.bytes.clone(), Some(r));
            } else {
                for chunk in r.bytes.chunks(MAX_CONTROL_PAYLOAD) {
                    self.queue(wire::CONTROL_V1, chunk.to_vec(), None);
                }
            }
        }
    }

    fn packet(&mut self, bytes: &[u8], now: u64) {
        let op = bytes.first().map(|b| b >> 3);
        let unwrapped;
        let bytes = if self.wrap.active() && !matches!(op, Some(wire::DATA_V1 | wire::DATA_V2)) {
            match self.wrap.unwrap(bytes) {
                Ok(b) => {
                    unwrapped = b;
                    &unwrapped[..]
                }
                Err(e) => {
                    self.events.push(Event::Dropped(Drop::Wrap(e)));
                    return;
                }
            }
        } else {
            bytes
        };
        let p = match wire::parse(bytes) {
            Ok(p) => p,
            Err(e) => {
                self.events.push(Event::Dropped(Drop::Wire(e)));
                return;
            }
        };
        match p {
            Packet::Data {
                key_id, header_len, ..
            } => self.data(bytes, key_id, header_len),
            Packet::Control(c) => self.control_in(c, now),
        }
    }

    fn data(&mut self, bytes: &[u8], key_id: u8, header_len: usize) {
        if key_id != 0 {
            self.events.push(Event::Dropped(Drop::KeyId(key_id)));
            return;
        }
        let Some(k) = self.keys.as_mut() else {
            self.events.push(Event::Dropped(Drop::Data(None)));
            return;
        };
        match k.open(bytes, header_len) {
            Ok((id, plain)) => {
                if plain == PING {
                    self.events.push(Event::Ping(id));
                } else if plain.get(..16) == Some(&OCC_MAGIC[..]) {
                    if plain.get(16) == Some(&OCC_EXIT) {
                        self.events.push(Event::Exit);
                    }
                } else {
                    self.events.push(Event::Packet(id, plain));
                }
            }
            Err(e) => self.events.push(Event::Dropped(Drop::Data(Some(e)))),
        }
    }

    fn control_in(&mut self, c: Control, now: u64) {
        if c.key_id != 0 {
            self.events.push(Event::Dropped(Drop::KeyId(c.key_id)));
            return;
        }
        let reset = match self.cfg.role {
            Role::Client => wire::HARD_RESET_SERVER_V2,
            Role::Server => wire::HARD_RESET_CLIENT_V2,
        };
        match self.remote_sid {
            // A session starts with the reset's packet id 0 (openvpn assumes it:
            // `ssl.c` session_skip_to_pre_start); another is not a start.
            None if c.opcode == reset && c.msg_id != Some(0) => {
                self.events.push(Event::Dropped(Drop::UnexpectedReset));
                return;
            }
            None if c.opcode == reset => {
                self.remote_sid = Some(c.session);
                self.events.push(Event::PeerReset(c.session));
                if self.cfg.role == Role::Server {
                    self.queue(wire::HARD_RESET_SERVER_V2, Vec::new(), None);
                }
                self.state = State::Handshake;
            }
            None => {
                self.events.push(Event::Dropped(Drop::WrongSession));
                return;
            }
            Some(sid) if sid != c.session => {
                let why = if c.opcode == reset {
                    Drop::UnexpectedReset
                } else {
                    Drop::WrongSession
                };
                self.events.push(Event::Dropped(why));
                return;
            }
            Some(_) => {}
        }
        if !c.acks.is_empty() {
            if c.remote != Some(self.local_sid) {
                self.events.push(Event::Dropped(Drop::WrongRemote));
                return;
            }
            // Ids we never sent (or already acknowledged) are ignored, as reliable.c does.
            self.pending
                .retain(|p| !(p.sent_at.is_some() && c.acks.contains(&p.id)));
        }
        let Some(id) = c.msg_id else {
            return;
        };
        if id < self.expected {
            self.ack(id);
            self.events.push(Event::Dropped(Drop::Duplicate(id)));
            return;
        }
        if id - self.expected >= RECV_WINDOW {
            self.events.push(Event::Dropped(Drop::OutOfWindow(id)));
            return;
        }
        self.ack(id);
        self.stash.entry(id).or_insert((c.opcode, c.payload));
        while let Some((op, payload)) = self.stash.remove(&self.expected) {
            self.expected = self.expected.wrapping_add(1);
            self.deliver(op, &payload, now);
        }
    }

    fn ack(&mut self, id: u32) {
        if !self.acks.contains(&id) && self.acks.len() < 4 * MAX_ACKS {
            self.acks.push(id);
        }
    }

    fn deliver(&mut self, opcode: u8, payload: &[u8], _now: u64) {
        match opcode {
            wire::CONTROL_V1 if self.state != State::Failed => {
                let conn = self.tls.conn();
                let r: Result<(), TlsError> = conn.receive(payload);
                let app = conn.take_app_data();
                let connected = conn.is_connected();
                let alert = conn.peer_alert();
                self.tls_events.extend(self.tls.conn().take_events());
                if let Err(e) = r {
                    self.events.push(Event::TlsFailed(e.alert.key().to_owned()));
                    self.fail("tls");
                    return;
                }
                if let Some(a) = alert {
                    self.events.push(Event::TlsFailed(a.key().to_owned()));
                    self.fail("tls alert");
                    return;
                }
                if connected && self.state == State::Handshake {
                    self.state = State::KeyExchange;
                    self.events.push(Event::TlsConnected);
                    if self.cfg.role == Role::Client {
                        self.send_key_method();
                    }
                }
                if self.plain.len() + app.len() > MAX_TEXT + 1024 {
                    self.fail("control channel overflow");
                    return;
                }
                self.plain.extend_from_slice(&app);
                self.read_plain();
            }
            wire::CONTROL_V1 => {}
            _ => {
                // The peer's reset (delivered as its packet id 0): the client starts TLS.
                // pump_tls sends the ClientHello queued when the TLS client was made.
            }
        }
    }

    fn send_key_method(&mut self) {
        let client = self.cfg.role == Role::Client;
        let r = &self.key_source;
        let (pre, rest) = if client {
            (
                Some(r.get(..48).unwrap_or_default().to_vec()),
                r.get(48..).unwrap_or_default(),
            )
        } else {
            (None, r.get(..64).unwrap_or_default())
        };
        let km = KeyMethod {
            pre_master: pre,
            random1: rest.get(..32).unwrap_or_default().to_vec(),
            random2: rest.get(32..64).unwrap_or_default().to_vec(),
            options: self.cfg.options.clone(),
            username: String::new(),
            password: String::new(),
            peer_info: self.cfg.peer_info.clone(),
        };
        let bytes = km.emit();
        let mut b = FieldsBuilder::new(0);
        describe::key_method(&mut b, &km);
        self.notes
            .push_back(("vpn.ovpn.msg.key_method".into(), b.finish(), bytes.len()));
        self.send_text_bytes(&bytes);
        self.km_sent = true;
    }

    fn send_text_bytes(&mut self, b: &[u8]) {
        if self.tls.conn().send(b).is_err() {
            self.fail("tls send");
        }
    }

    /// Sends a text control message (NUL added) over the TLS connection, e.g.
    /// `AUTH_FAILED` or `RESTART`, with the next [`Session::tick`]; `false` before
    /// the handshake is done.
    pub fn send_control_text(&mut self, s: &str) -> bool {
        if !self.tls.conn_ref().is_connected() {
            return false;
        }
        self.send_text(s);
        true
    }

    fn send_text(&mut self, s: &str) {
        let kind = match s.split(',').next().unwrap_or_default() {
            "PUSH_REQUEST" => "push_request",
            "PUSH_REPLY" => "push_reply",
            "AUTH_FAILED" => "auth_failed",
            _ => "control_text",
        };
        let mut t = FieldsBuilder::new(0);
        describe::text(&mut t, s);
        self.notes
            .push_back((format!("vpn.ovpn.msg.{kind}"), t.finish(), s.len() + 1));
        let mut b = s.as_bytes().to_vec();
        b.push(0);
        self.send_text_bytes(&b);
    }

    fn read_plain(&mut self) {
        if self.peer_km.is_none() {
            match KeyMethod::parse(&self.plain, self.cfg.role == Role::Server) {
                Ok((km, used)) => {
                    self.plain.drain(..used.min(self.plain.len()));
                    self.events.push(Event::KeyMethod(km.clone()));
                    let server = self.cfg.role == Role::Server;
                    if server {
                        if km.iv_proto() & IV_PROTO_TLS_KEY_EXPORT == 0 {
                            self.send_text("AUTH_FAILED,client does not support tls-ekm");
                            self.fail("peer without tls-ekm");
                            return;
                        }
                        let theirs = km.iv_ciphers();
                        self.cipher = self
                            .cfg
                            .ciphers
                            .iter()
                            .copied()
                            .find(|c| theirs.contains(c));
                        if self.cipher.is_none() {
                            self.send_text("AUTH_FAILED,no common cipher");
                            self.fail("no common cipher");
                            return;
                        }
                        self.peer_km = Some(km);
                        self.send_key_method();
                    } else {
                        self.peer_km = Some(km);
                        self.state = State::ExpectPushReply;
                        self.send_text("PUSH_REQUEST");
                    }
                }
                Err(ControlError::Incomplete) => return,
                Err(_) => {
                    self.fail("key method");
                    return;
                }
            }
        }
        while let Some(nul) = self.plain.iter().position(|b| *b == 0) {
            let msg: Vec<u8> = self.plain.drain(..=nul).collect();
            let text = String::from_utf8_lossy(msg.get(..nul).unwrap_or_default()).into_owned();
            self.events.push(Event::ControlText(text.clone()));
            self.text(&text);
            if self.state == State::Failed {
                return;
            }
        }
        if self.plain.len() > MAX_TEXT {
            self.fail("control message too long");
        }
    }

    fn text(&mut self, t: &str) {
        match self.cfg.role {
            Role::Server if t == "PUSH_REQUEST" => {
                let (Some(push), Some(cipher)) = (self.cfg.push.clone(), self.cipher) else {
                    return;
                };
                if self.push_replies >= 4 {
                    return;
                }
                self.push_replies += 1;
                let reply = PushReply {
                    ifconfig: push.ifconfig,
                    route_gateway: Some(push.route_gateway),
                    routes: push.routes.clone(),
                    peer_id: push.peer_id,
                    cipher,
                    ping: Some(push.ping.0),
                    ping_restart: Some(push.ping.1),
                    other: Vec::new(),
                };
                self.send_text(&reply.emit());
                if self.keys.is_none() {
                    self.peer_id = push.peer_id;
                    self.install_keys(cipher);
                }
            }
            Role::Client if t.starts_with("PUSH_REPLY") && self.keys.is_none() => {
                match PushReply::parse(t) {
                    Ok(r) => {
                        if !self.cfg.ciphers.contains(&r.cipher) {
                            self.fail("pushed cipher not offered");
                            return;
                        }
                        self.peer_id = r.peer_id;
                        let cipher = r.cipher;
                        self.events.push(Event::Pushed(r.clone()));
                        self.push = Some(r);
                        self.install_keys(cipher);
                    }
                    Err(_) => self.fail("bad PUSH_REPLY"),
                }
            }
            Role::Client if t.starts_with("AUTH_FAILED") => self.fail("AUTH_FAILED"),
            _ => {}
        }
    }

    fn install_keys(&mut self, cipher: Cipher) {
        let Some(key2) = self
            .tls
            .conn_ref()
            .export_keying_material(EKM_LABEL, &[], EKM_LEN)
        else {
            self.fail("exporter");
            return;
        };
        match Keys::new(cipher, &key2, self.cfg.role == Role::Client) {
            Some(k) => {
                self.keys = Some(k);
                self.state = State::Established;
                self.events.push(Event::DataKeys(cipher, key2));
            }
            None => self.fail("data keys"),
        }
    }
}
