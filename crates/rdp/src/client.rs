//! The RDP client's connection sequence (MS-RDPBCGR §1.3.1.1, §3.2.5.3), one
//! state per awaited PDU, over the clear byte stream (TLS under it is
//! [`crate::session`]'s). Bytes in ([`Client::receive`]), PDUs out
//! ([`Client::take_output`]), each with its field tree; the PDUs received are
//! kept with theirs ([`Client::take_received`]).

use crate::bitmap::Framebuffer;
use crate::codec::Reader;
use crate::fastpath::{self, Input};
use crate::mcs::{self, ChannelDef, ClientData, DomainPdu, ServerData};
use crate::pdu::{self, Caps, Logon, SharePdu};
use crate::x224::{self, Negotiation, PROTOCOL_SSL};
use crate::{Error, ErrorKind, Msg};

/// What the client is told before it connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// The routing cookie's user name (`Cookie: mstshash=…`).
    pub cookie: String,
    /// requestedProtocols in RDP_NEG_REQ (PROTOCOL_SSL: TLS only).
    pub protocols: u32,
    /// Desktop width.
    pub width: u16,
    /// Desktop height.
    pub height: u16,
    /// Colour depth: 15, 16 or 24.
    pub bpp: u16,
    /// The client's computer name.
    pub client_name: String,
    /// The static virtual channels to join.
    pub channels: Vec<ChannelDef>,
    /// The logon in the Client Info PDU.
    pub logon: Logon,
}

impl ClientConfig {
    /// TLS only, 800×600 at 16 bpp, channels cliprdr, rdpsnd and drdynvc.
    pub fn new(user: &str, password: &str) -> ClientConfig {
        ClientConfig {
            cookie: user.to_owned(),
            protocols: PROTOCOL_SSL,
            width: 800,
            height: 600,
            bpp: 16,
            client_name: "LAPTOP".into(),
            channels: vec![
                // CHANNEL_OPTION_INITIALIZED | ENCRYPT_RDP | COMPRESS_RDP | SHOW_PROTOCOL
                ChannelDef {
                    name: "cliprdr".into(),
                    options: 0xC0A0_0000,
                },
                ChannelDef {
                    name: "rdpsnd".into(),
                    options: 0xC000_0000,
                },
                ChannelDef {
                    name: "drdynvc".into(),
                    options: 0xC080_0000,
                },
            ],
            logon: Logon {
                domain: String::new(),
                user: user.to_owned(),
                password: password.to_owned(),
            },
        }
    }
}

/// Where the connection sequence is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientState {
    /// X.224 Connection Request sent.
    ExpectConnectionConfirm,
    /// The server selected TLS: the handshake is due.
    ExpectTls,
    /// MCS Connect Initial sent.
    ExpectConnectResponse(Box<ServerData>),
    /// Erect Domain and Attach User Request sent.
    ExpectAttachUserConfirm,
    /// A Channel Join Request sent; these are still to join.
    ExpectChannelJoinConfirm {
        /// The user channel.
        user: u16,
        /// The channel asked for now.
        asked: u16,
        /// Channels after it.
        left: Vec<u16>,
    },
    /// Client Info sent.
    ExpectLicense {
        /// The user channel.
        user: u16,
    },
    /// Licensing done; waiting for Demand Active.
    ExpectDemandActive {
        /// The user channel.
        user: u16,
    },
    /// Confirm Active and the client's finalization PDUs sent.
    ExpectFinalization {
        /// The user channel.
        user: u16,
        /// The share.
        share_id: u32,
        /// What arrived so far: synchronize, cooperate, granted, font map.
        got: [bool; 4],
    },
    /// The session is up: updates arrive, input may be sent.
    Active {
        /// The user channel.
        user: u16,
        /// The share.
        share_id: u32,
    },
    /// The connection failed or ended.
    Closed,
}

/// What happened, for the story and the tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientEvent {
    /// The server selected this protocol.
    Negotiated(u32),
    /// The server refused: RDP_NEG_FAILURE's code.
    NegotiationFailed(u32),
    /// MCS Connect Response read: the server's data.
    Connected(ServerData),
    /// The user channel id.
    UserAttached(u16),
    /// A channel joined.
    ChannelJoined(u16),
    /// The server's valid-client licensing message.
    Licensed,
    /// Demand Active with this share id.
    DemandActive(u32),
    /// Finalization done: the session is active.
    Active,
    /// A bitmap update drew these rectangles.
    Bitmap(Vec<crate::bitmap::BitmapRect>),
    /// The server's Set Error Info code.
    ErrorInfo(u32),
    /// A PDU from the server did not decode (the connection is given up).
    Error(Error),
    /// The server ended the MCS domain.
    Disconnected,
}

/// Bound on the bytes of one PDU the client buffers (TPKT's own limit).
const MAX_PDU: usize = 0xFFFF;

/// The RDP client.
#[derive(Debug, Clone)]
pub struct Client {
    config: ClientConfig,
    state: ClientState,
    input: Vec<u8>,
    out: Vec<Msg>,
    received: Vec<Msg>,
    events: Vec<ClientEvent>,
    server: ServerData,
    fast_input: bool,
    framebuffer: Framebuffer,
}

impl Client {
    /// A client whose X.224 Connection Request is queued.
    pub fn new(config: ClientConfig) -> Client {
        let (bytes, fields) = x224::connection_request(&config.cookie, config.protocols).finish();
        let fb = Framebuffer::new(config.width.into(), config.height.into());
        Client {
            config,
            state: ClientState::ExpectConnectionConfirm,
            input: Vec::new(),
            out: vec![Msg {
                label: "rdp.msg.connection_request",
                bytes,
                fields,
            }],
            received: Vec::new(),
            events: Vec::new(),
            server: ServerData::default(),
            fast_input: false,
            framebuffer: fb,
        }
    }

    /// Where the sequence is.
    pub fn state(&self) -> &ClientState {
        &self.state
    }

    /// The desktop as drawn so far.
    pub fn framebuffer(&self) -> &Framebuffer {
        &self.framebuffer
    }

    /// PDUs to send, in order.
    pub fn take_output(&mut self) -> Vec<Msg> {
        core::mem::take(&mut self.out)
    }

    /// PDUs received since the last call, with their field trees.
    pub fn take_received(&mut self) -> Vec<Msg> {
        core::mem::take(&mut self.received)
    }

    /// Events since the last call.
    pub fn take_events(&mut self) -> Vec<ClientEvent> {
        core::mem::take(&mut self.events)
    }

    /// Whether the TLS handshake is due.
    pub fn wants_tls(&self) -> bool {
        self.state == ClientState::ExpectTls
    }

    /// Bytes that arrived after the Connection Confirm (the start of TLS).
    pub fn take_leftover(&mut self) -> Vec<u8> {
        core::mem::take(&mut self.input)
    }

    /// The TLS handshake finished: MCS Connect Initial.
    pub fn tls_started(&mut self) {
        if self.state != ClientState::ExpectTls {
            return;
        }
        let data = ClientData {
            width: self.config.width,
            height: self.config.height,
            bpp: self.config.bpp,
            client_name: self.config.client_name.clone(),
            keyboard_layout: 0x409,
            selected_protocol: PROTOCOL_SSL,
            channels: self.config.channels.clone(),
        };
        self.send("rdp.msg.connect_initial", mcs::connect_initial(&data));
        self.state = ClientState::ExpectConnectResponse(Box::default());
    }

    /// Whether the session is active (input may be sent).
    pub fn is_active(&self) -> bool {
        matches!(self.state, ClientState::Active { .. })
    }

    /// Sends input events, fast-path if the server allows it (it said so in its
    /// input capability), returning whether they were queued.
    pub fn send_input(&mut self, events: &[Input]) -> bool {
        if !self.is_active() || !self.fast_input || events.is_empty() {
            return false;
        }
        self.send("rdp.msg.fastpath_input", fastpath::input_pdu(events));
        true
    }

    /// Bytes of the clear stream from the server.
    pub fn receive(&mut self, data: &[u8]) {
        if matches!(self.state, ClientState::Closed | ClientState::ExpectTls) {
            if self.state == ClientState::ExpectTls {
                self.input.extend_from_slice(data);
            }
            return;
        }
        self.input.extend_from_slice(data);
        loop {
            if self.state == ClientState::ExpectTls || self.state == ClientState::Closed {
                return;
            }
            let Some(n) = self.next_len() else { return };
            let n = match n {
                Ok(n) => n,
                Err(e) => return self.fail(e),
            };
            let pdu: Vec<u8> = self.input.drain(..n).collect();
            self.on_pdu(&pdu);
        }
    }

    /// The length of the next whole PDU in the buffer, if it is all there.
    fn next_len(&self) -> Option<Result<usize, Error>> {
        let b0 = *self.input.first()?;
        let b1 = usize::from(*self.input.get(1)?);
        let n = if b0 == 3 {
            let lo = usize::from(*self.input.get(3)?);
            (usize::from(*self.input.get(2)?) << 8) | lo
        } else if b1 & 0x80 != 0 {
            ((b1 & 0x7F) << 8) | usize::from(*self.input.get(2)?)
        } else {
            b1
        };
        let min = if b0 == 3 { x224::TPKT_LEN + 1 } else { 2 };
        if n < min || n > MAX_PDU {
            return Some(Err(Error {
                kind: ErrorKind::BadLength,
                offset: 0,
            }));
        }
        (self.input.len() >= n).then_some(Ok(n))
    }

    fn send(&mut self, label: &'static str, w: crate::codec::Writer) {
        let (bytes, fields) = w.finish();
        self.out.push(Msg {
            label,
            bytes,
            fields,
        });
    }

    fn fail(&mut self, e: Error) {
        self.events.push(ClientEvent::Error(e));
        self.state = ClientState::Closed;
        self.input.clear();
    }

    fn on_pdu(&mut self, pdu: &[u8]) {
        let mut r = Reader::new(pdu, 0);
        let result = if pdu.first() == Some(&3) {
            self.on_slow_path(&mut r)
        } else {
            self.on_fast_path(&mut r)
        };
        match result {
            Ok(label) => self.received.push(Msg {
                label,
                bytes: pdu.to_vec(),
                fields: r.finish(),
            }),
            Err(e) => self.fail(e),
        }
    }

    fn on_slow_path(&mut self, r: &mut Reader<'_>) -> Result<&'static str, Error> {
        let mut body = x224::read_tpkt(r)?;
        if self.state == ClientState::ExpectConnectionConfirm {
            let neg = x224::read_connection_confirm(&mut body)?;
            r.join(body);
            match neg {
                Negotiation::Selected(p) if p == PROTOCOL_SSL => {
                    self.events.push(ClientEvent::Negotiated(p));
                    self.state = ClientState::ExpectTls;
                }
                Negotiation::Failure(c) => {
                    self.events.push(ClientEvent::NegotiationFailed(c));
                    self.state = ClientState::Closed;
                }
                _ => return Err(r.err(ErrorKind::Unexpected)),
            }
            return Ok("rdp.msg.connection_confirm");
        }
        x224::read_data_header(&mut body)?;
        if matches!(self.state, ClientState::ExpectConnectResponse(_)) {
            let sd = mcs::read_connect_response(&mut body)?;
            body.expect_empty()?;
            r.join(body);
            if sd.channel_ids.len() > self.config.channels.len() {
                return Err(r.err(ErrorKind::Unexpected));
            }
            // The server echoes what it read in RDP_NEG_REQ (§5.4.5.1): a
            // difference means the clear negotiation was changed on the way.
            if sd
                .client_requested
                .is_some_and(|p| p != self.config.protocols)
            {
                return Err(r.err(ErrorKind::Downgrade));
            }
            self.server = sd.clone();
            self.events.push(ClientEvent::Connected(sd));
            self.send("rdp.msg.erect_domain", mcs::erect_domain());
            self.send("rdp.msg.attach_user_request", mcs::attach_user_request());
            self.state = ClientState::ExpectAttachUserConfirm;
            return Ok("rdp.msg.connect_response");
        }
        let pdu = mcs::read_domain_pdu(&mut body)?;
        let label = match pdu {
            DomainPdu::AttachUserConfirm { result, user } => {
                if self.state != ClientState::ExpectAttachUserConfirm {
                    return Err(body.err(ErrorKind::Unexpected));
                }
                let user = match (result, user) {
                    (0, Some(u)) => u,
                    _ => return Err(body.err(ErrorKind::McsRefused(result))),
                };
                self.events.push(ClientEvent::UserAttached(user));
                let mut left = vec![self.server.io_channel];
                left.extend(self.server.channel_ids.iter().copied().filter(|c| *c != 0));
                self.send(
                    "rdp.msg.channel_join_request",
                    mcs::channel_join_request(user, user),
                );
                self.state = ClientState::ExpectChannelJoinConfirm {
                    user,
                    asked: user,
                    left,
                };
                "rdp.msg.attach_user_confirm"
            }
            DomainPdu::ChannelJoinConfirm { result, requested } => {
                let ClientState::ExpectChannelJoinConfirm { user, asked, left } = &mut self.state
                else {
                    return Err(body.err(ErrorKind::Unexpected));
                };
                if result != 0 || requested != *asked {
                    return Err(body.err(ErrorKind::McsRefused(result)));
                }
                let user = *user;
                self.events.push(ClientEvent::ChannelJoined(requested));
                if left.is_empty() {
                    let info = pdu::client_info(&self.config.logon);
                    let io = self.server.io_channel;
                    self.send(
                        "rdp.msg.client_info",
                        mcs::send_data_request(user, io, info),
                    );
                    self.state = ClientState::ExpectLicense { user };
                } else {
                    let next = left.remove(0);
                    *asked = next;
                    self.send(
                        "rdp.msg.channel_join_request",
                        mcs::channel_join_request(user, next),
                    );
                }
                "rdp.msg.channel_join_confirm"
            }
            DomainPdu::SendData {
                channel,
                data,
                offset,
            } => {
                let mut s = Reader::new(data, offset);
                let label = self.on_channel_data(channel, &mut s);
                body.push_fields(s.finish());
                label?
            }
            DomainPdu::Disconnect => {
                self.events.push(ClientEvent::Disconnected);
                self.state = ClientState::Closed;
                "rdp.msg.disconnect"
            }
        };
        r.join(body);
        Ok(label)
    }

    fn on_channel_data(&mut self, channel: u16, s: &mut Reader<'_>) -> Result<&'static str, Error> {
        if channel != self.server.io_channel {
            pdu::read_channel_pdu(s)?;
            return Ok("rdp.msg.channel_data");
        }
        match self.state.clone() {
            ClientState::ExpectLicense { user } => {
                return match pdu::read_license(s)? {
                    pdu::License::Request => {
                        let io = self.server.io_channel;
                        self.send(
                            "rdp.msg.license_no_license",
                            mcs::send_data_request(user, io, pdu::license_no_license()),
                        );
                        Ok("rdp.msg.license_request")
                    }
                    pdu::License::ValidClient => {
                        self.events.push(ClientEvent::Licensed);
                        self.state = ClientState::ExpectDemandActive { user };
                        Ok("rdp.msg.license_valid_client")
                    }
                };
            }
            ClientState::Closed | ClientState::ExpectTls => {
                return Err(s.err(ErrorKind::Unexpected));
            }
            _ => {}
        }
        let mut label = "rdp.msg.data_pdu";
        // One Send Data Indication may carry several share PDUs back to back.
        while s.left() > 0 {
            let p = pdu::read_share_pdu(s)?;
            label = self.on_share(p)?;
        }
        Ok(label)
    }

    fn on_share(&mut self, p: SharePdu) -> Result<&'static str, Error> {
        let err = |kind| Error { kind, offset: 0 };
        Ok(match p {
            SharePdu::DemandActive {
                share_id,
                input_flags,
            } => {
                let user = match self.state {
                    ClientState::ExpectDemandActive { user }
                    | ClientState::Active { user, .. }
                    | ClientState::ExpectFinalization { user, .. } => user,
                    _ => return Err(err(ErrorKind::Unexpected)),
                };
                // INPUT_FLAG_FASTPATH_INPUT or INPUT_FLAG_FASTPATH_INPUT2
                self.fast_input = input_flags & 0x0028 != 0;
                self.events.push(ClientEvent::DemandActive(share_id));
                let caps = Caps {
                    bpp: self.config.bpp,
                    width: self.config.width,
                    height: self.config.height,
                    keyboard_layout: 0x409,
                };
                let io = self.server.io_channel;
                let mcs_out = |w| mcs::send_data_request(user, io, w);
                let msgs = [
                    (
                        "rdp.msg.confirm_active",
                        pdu::confirm_active(share_id, user, &caps),
                    ),
                    (
                        "rdp.msg.synchronize",
                        pdu::data_pdu(share_id, user, 31, pdu::synchronize(0x03EA)),
                    ),
                    (
                        "rdp.msg.control_cooperate",
                        pdu::data_pdu(share_id, user, 20, pdu::control(4)),
                    ),
                    (
                        "rdp.msg.control_request",
                        pdu::data_pdu(share_id, user, 20, pdu::control(1)),
                    ),
                    (
                        "rdp.msg.font_list",
                        pdu::data_pdu(share_id, user, 39, pdu::font_list()),
                    ),
                ];
                for (label, w) in msgs {
                    self.send(label, mcs_out(w));
                }
                self.state = ClientState::ExpectFinalization {
                    user,
                    share_id,
                    got: [false; 4],
                };
                "rdp.msg.demand_active"
            }
            SharePdu::DeactivateAll => {
                if let ClientState::Active { user, .. } = self.state {
                    self.state = ClientState::ExpectDemandActive { user };
                }
                "rdp.msg.deactivate_all"
            }
            SharePdu::Synchronize => {
                self.finalized(0);
                "rdp.msg.synchronize"
            }
            SharePdu::Control(a) => {
                match a {
                    4 => self.finalized(1),
                    2 => self.finalized(2),
                    _ => {}
                }
                if a == 2 {
                    "rdp.msg.control_granted"
                } else {
                    "rdp.msg.control_cooperate"
                }
            }
            SharePdu::FontMap => {
                self.finalized(3);
                "rdp.msg.font_map"
            }
            SharePdu::ErrorInfo(c) => {
                self.events.push(ClientEvent::ErrorInfo(c));
                "rdp.msg.set_error_info"
            }
            SharePdu::Bitmap(rects) => {
                for rect in &rects {
                    self.framebuffer.draw(rect)?;
                }
                self.events.push(ClientEvent::Bitmap(rects));
                "rdp.msg.bitmap_update"
            }
            SharePdu::Other(_) => "rdp.msg.data_pdu",
        })
    }

    fn finalized(&mut self, i: usize) {
        if let ClientState::ExpectFinalization {
            user,
            share_id,
            got,
        } = &mut self.state
        {
            if let Some(g) = got.get_mut(i) {
                *g = true;
            }
            if got.iter().all(|g| *g) {
                let (user, share_id) = (*user, *share_id);
                self.state = ClientState::Active { user, share_id };
                self.events.push(ClientEvent::Active);
            }
        }
    }

    fn on_fast_path(&mut self, r: &mut Reader<'_>) -> Result<&'static str, Error> {
        r.begin("fp_output_header");
        let h = r.u8("fp_header")?;
        let b1 = r.u8("fp_length")?;
        if b1 & 0x80 != 0 {
            r.u8("fp_length")?;
        }
        r.end();
        if h & 0xC0 != 0 {
            // Encrypted or salted: not with TLS security.
            return Err(r.err(ErrorKind::Unexpected));
        }
        let mut label = "rdp.msg.fastpath_update";
        while r.left() > 0 {
            r.begin("fp_update");
            let uh = r.u8("fp_update_header")?;
            if uh & 0xC0 != 0 {
                r.u8("fp_compression_flags")?;
            }
            let size = usize::from(r.u16le("fp_update_size")?);
            if size > r.left() {
                return Err(r.err(ErrorKind::BadLength));
            }
            let mut u = r.sub(size)?;
            // updateCode 1: bitmap, unfragmented, uncompressed by bulk compression.
            if uh & 0x0F == 1 && uh & 0xF0 == 0 {
                u.u16le("update_type")?;
                let rects = pdu::read_bitmap_data(&mut u)?;
                u.expect_empty()?;
                for rect in &rects {
                    self.framebuffer.draw(rect)?;
                }
                self.events.push(ClientEvent::Bitmap(rects));
                label = "rdp.msg.bitmap_update";
            } else {
                u.rest("fp_update_data");
            }
            r.join(u);
            r.end();
        }
        Ok(label)
    }
}
