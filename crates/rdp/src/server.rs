//! The RDP server's side of the connection sequence (MS-RDPBCGR §3.3.5.3), over
//! the clear byte stream (TLS under it is [`crate::session`]'s): it answers the
//! client's PDUs, then sends its desktop as uncompressed bitmap updates and
//! reads the client's fast-path input. What it writes carries field trees;
//! what it reads is checked (bounded, typed errors) — the client's own trees
//! explain those bytes in the transcript.

use crate::bitmap::BitmapRect;
use crate::codec::{Reader, Writer};
use crate::fastpath::Input;
use crate::mcs::{self, IO_CHANNEL, USER_BASE};
use crate::pdu::{self, Caps};
use crate::x224::{self, Negotiation, PROTOCOL_HYBRID, PROTOCOL_SSL};
use crate::{Error, ErrorKind, Msg};

/// What the server insists on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// TLS (PROTOCOL_SSL) is enough.
    Tls,
    /// Network Level Authentication (CredSSP, PROTOCOL_HYBRID) is required.
    Nla,
}

/// The desktop the server shows: RGB, 3 bytes per pixel, top-down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desktop {
    /// Width.
    pub width: u16,
    /// Height.
    pub height: u16,
    /// The pixels.
    pub rgb: Vec<u8>,
}

/// What the server is told before it listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// TLS only, or NLA required.
    pub security: Security,
    /// The desktop it draws.
    pub desktop: Desktop,
    /// Colour depth of its bitmaps: 16 or 24.
    pub bpp: u16,
    /// Tile size of its bitmap updates.
    pub tile: u16,
}

/// Where the server is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerState {
    /// Waiting for the X.224 Connection Request.
    ExpectConnectionRequest,
    /// TLS selected: the handshake is due.
    ExpectTls,
    /// Waiting for MCS Connect Initial.
    ExpectConnectInitial,
    /// Waiting for Erect Domain.
    ExpectErectDomain,
    /// Waiting for Attach User Request.
    ExpectAttachUser,
    /// Waiting for this many Channel Join Requests.
    ExpectChannelJoins(usize),
    /// Waiting for the Client Info PDU.
    ExpectClientInfo,
    /// Demand Active sent.
    ExpectConfirmActive,
    /// Waiting for the client's Font List (the last finalization PDU).
    ExpectFontList,
    /// The desktop is shown; input arrives.
    Active,
    /// Refused or ended.
    Closed,
}

/// What happened on the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerEvent {
    /// It refused the negotiation with this failure code.
    Refused(u32),
    /// It selected TLS.
    Negotiated,
    /// The client joined its channels; their names.
    Channels(Vec<String>),
    /// The Client Info PDU's user name and password (visible here, inside TLS).
    Logon {
        /// User name.
        user: String,
        /// Password.
        password: String,
    },
    /// The session is active and the desktop sent.
    Active,
    /// An input event from the client.
    Input(Input),
    /// The client's bytes did not decode (the connection is given up).
    Error(Error),
}

const SHARE_ID: u32 = 0x0001_03EA;
const USER: u16 = 1007;

/// The RDP server.
#[derive(Debug, Clone)]
pub struct Server {
    config: ServerConfig,
    state: ServerState,
    input: Vec<u8>,
    out: Vec<Msg>,
    events: Vec<ServerEvent>,
    channels: Vec<String>,
    /// RDP_NEG_REQ's requestedProtocols, echoed in SC_CORE.
    requested: u32,
}

impl Server {
    /// A server waiting for its client.
    pub fn new(config: ServerConfig) -> Server {
        Server {
            config,
            state: ServerState::ExpectConnectionRequest,
            input: Vec::new(),
            out: Vec::new(),
            events: Vec::new(),
            channels: Vec::new(),
            requested: 0,
        }
    }

    /// Where it is.
    pub fn state(&self) -> &ServerState {
        &self.state
    }

    /// PDUs to send.
    pub fn take_output(&mut self) -> Vec<Msg> {
        core::mem::take(&mut self.out)
    }

    /// Events since the last call.
    pub fn take_events(&mut self) -> Vec<ServerEvent> {
        core::mem::take(&mut self.events)
    }

    /// Whether the TLS handshake is due.
    pub fn wants_tls(&self) -> bool {
        self.state == ServerState::ExpectTls
    }

    /// Bytes that arrived after the Connection Request (the ClientHello).
    pub fn take_leftover(&mut self) -> Vec<u8> {
        core::mem::take(&mut self.input)
    }

    /// The TLS handshake finished.
    pub fn tls_started(&mut self) {
        if self.state == ServerState::ExpectTls {
            self.state = ServerState::ExpectConnectInitial;
        }
    }

    fn send(&mut self, label: &'static str, w: Writer) {
        let (bytes, fields) = w.finish();
        self.out.push(Msg {
            label,
            bytes,
            fields,
        });
    }

    /// Bytes of the clear stream from the client.
    pub fn receive(&mut self, data: &[u8]) {
        if matches!(self.state, ServerState::Closed | ServerState::ExpectTls) {
            if self.state == ServerState::ExpectTls {
                self.input.extend_from_slice(data);
            }
            return;
        }
        self.input.extend_from_slice(data);
        while !matches!(self.state, ServerState::Closed | ServerState::ExpectTls) {
            let Some(b0) = self.input.first().copied() else {
                return;
            };
            let len = |i: usize| self.input.get(i).copied().map(usize::from);
            let n = if b0 == 3 {
                match (len(2), len(3)) {
                    (Some(h), Some(l)) => (h << 8) | l,
                    _ => return,
                }
            } else {
                match len(1) {
                    Some(b) if b & 0x80 != 0 => match len(2) {
                        Some(l) => ((b & 0x7F) << 8) | l,
                        None => return,
                    },
                    Some(b) => b,
                    None => return,
                }
            };
            if n < 2 || (b0 == 3 && n < 5) {
                return self.fail(Error {
                    kind: ErrorKind::BadLength,
                    offset: 0,
                });
            }
            if self.input.len() < n {
                return;
            }
            let pdu: Vec<u8> = self.input.drain(..n).collect();
            if let Err(e) = self.on_pdu(&pdu) {
                return self.fail(e);
            }
        }
    }

    fn fail(&mut self, e: Error) {
        self.events.push(ServerEvent::Error(e));
        self.state = ServerState::Closed;
        self.input.clear();
    }

    fn on_pdu(&mut self, pdu: &[u8]) -> Result<(), Error> {
        let mut r = Reader::new(pdu, 0);
        if pdu.first() != Some(&3) {
            return self.on_fast_path(&mut r);
        }
        let mut body = x224::read_tpkt(&mut r)?;
        if self.state == ServerState::ExpectConnectionRequest {
            return self.on_connection_request(&mut body);
        }
        x224::read_data_header(&mut body)?;
        if self.state == ServerState::ExpectConnectInitial {
            let ci = mcs::read_connect_initial(&mut body)?;
            // The client echoes the protocol selected in the Connection Confirm
            // (§5.4.5.1): a difference means the negotiation was changed.
            if ci.server_selected.is_some_and(|p| p != PROTOCOL_SSL) {
                return Err(body.err(ErrorKind::Downgrade));
            }
            self.channels = ci.channels;
            let w = mcs::connect_response(self.requested, self.channels.len());
            self.send("rdp.msg.connect_response", w);
            self.state = ServerState::ExpectErectDomain;
            return Ok(());
        }
        let choice = body.u8("mcs_choice")? >> 2;
        match (choice, self.state.clone()) {
            (1, ServerState::ExpectErectDomain) => {
                body.rest("mcs_erect_domain");
                self.state = ServerState::ExpectAttachUser;
            }
            (10, ServerState::ExpectAttachUser) => {
                body.expect_empty()?;
                self.send(
                    "rdp.msg.attach_user_confirm",
                    mcs::attach_user_confirm(USER),
                );
                self.state = ServerState::ExpectChannelJoins(2 + self.channels.len());
            }
            (14, ServerState::ExpectChannelJoins(n)) => {
                let user = body.u16be("mcs_initiator")?.wrapping_add(USER_BASE);
                let channel = body.u16be("mcs_channel_id")?;
                body.expect_empty()?;
                if user != USER {
                    return Err(body.err(ErrorKind::Unexpected));
                }
                let w = mcs::channel_join_confirm(USER, channel);
                self.send("rdp.msg.channel_join_confirm", w);
                self.state = if n <= 1 {
                    self.events
                        .push(ServerEvent::Channels(self.channels.clone()));
                    ServerState::ExpectClientInfo
                } else {
                    ServerState::ExpectChannelJoins(n - 1)
                };
            }
            (25, _) => {
                body.u16be("mcs_initiator")?;
                let channel = body.u16be("mcs_channel_id")?;
                body.u8("mcs_priority_segmentation")?;
                let b = body.u8("per_length")?;
                let n = if b & 0x80 != 0 {
                    (usize::from(b & 0x3F) << 8) | usize::from(body.u8("per_length")?)
                } else {
                    usize::from(b)
                };
                if n != body.left() {
                    return Err(body.err(ErrorKind::BadLength));
                }
                if channel == IO_CHANNEL {
                    self.on_io(&mut body)?;
                }
            }
            _ => return Err(body.err(ErrorKind::Unexpected)),
        }
        Ok(())
    }

    fn on_connection_request(&mut self, r: &mut Reader<'_>) -> Result<(), Error> {
        let li = usize::from(r.u8("x224_li")?);
        if li != r.left() || r.u8("x224_cr_code")? & 0xF0 != 0xE0 {
            return Err(r.err(ErrorKind::BadEncoding));
        }
        r.raw(5)?;
        // The cookie (or routing token) ends with CR LF; RDP_NEG_REQ follows.
        let rest = r.raw(r.left())?;
        let neg = match rest.windows(2).position(|w| w == b"\r\n") {
            Some(i) => rest.get(i + 2..).unwrap_or(&[]),
            None => rest,
        };
        let mut n = Reader::new(neg, 0);
        let requested = if n.left() >= 8 {
            if n.u8("neg_type")? != 0x01 {
                return Err(n.err(ErrorKind::Unexpected));
            }
            n.raw(3)?;
            n.u32le("requested_protocols")?
        } else {
            0
        };
        self.requested = requested;
        let refuse = match self.config.security {
            Security::Nla if requested & PROTOCOL_HYBRID == 0 => Some(5),
            Security::Tls if requested & PROTOCOL_SSL == 0 => Some(1),
            _ => None,
        };
        match refuse {
            Some(code) => {
                let w = x224::connection_confirm(Negotiation::Failure(code));
                self.send("rdp.msg.connection_confirm", w);
                self.events.push(ServerEvent::Refused(code));
                self.state = ServerState::Closed;
            }
            None if self.config.security == Security::Tls => {
                let w = x224::connection_confirm(Negotiation::Selected(PROTOCOL_SSL));
                self.send("rdp.msg.connection_confirm", w);
                self.events.push(ServerEvent::Negotiated);
                self.state = ServerState::ExpectTls;
            }
            // CredSSP is not implemented: an NLA server with a client that
            // offers it goes no further.
            None => self.state = ServerState::Closed,
        }
        Ok(())
    }

    fn on_io(&mut self, r: &mut Reader<'_>) -> Result<(), Error> {
        match self.state {
            ServerState::ExpectClientInfo => {
                let flags = r.u16le("sec_flags")?;
                r.u16le("sec_flags_hi")?;
                if flags & 0x0040 == 0 {
                    return Err(r.err(ErrorKind::Unexpected));
                }
                r.raw(8)?;
                let mut lens = [0usize; 5];
                for l in &mut lens {
                    *l = usize::from(r.u16le("cb")?);
                }
                let text = |n: usize, r: &mut Reader<'_>| -> Result<String, Error> {
                    let b = r.raw(n.checked_add(2).ok_or(r.err(ErrorKind::BadLength))?)?;
                    let units: Vec<u16> = b
                        .chunks_exact(2)
                        .map(|c| {
                            u16::from_le_bytes([
                                c.first().copied().unwrap_or(0),
                                c.get(1).copied().unwrap_or(0),
                            ])
                        })
                        .take(n / 2)
                        .collect();
                    Ok(String::from_utf16_lossy(&units))
                };
                let [d, u, p, _, _] = lens;
                text(d, r)?;
                let user = text(u, r)?;
                let password = text(p, r)?;
                self.events.push(ServerEvent::Logon { user, password });
                let lic = mcs::send_data_indication(IO_CHANNEL, pdu::license_valid_client());
                self.send("rdp.msg.license_valid_client", lic);
                let caps = self.caps();
                let da = mcs::send_data_indication(IO_CHANNEL, pdu::demand_active(SHARE_ID, &caps));
                self.send("rdp.msg.demand_active", da);
                self.state = ServerState::ExpectConfirmActive;
            }
            ServerState::ExpectConfirmActive => {
                r.u16le("total_length")?;
                if r.u16le("pdu_type")? & 0x0F != 3 {
                    return Err(r.err(ErrorKind::Unexpected));
                }
                self.state = ServerState::ExpectFontList;
            }
            ServerState::ExpectFontList | ServerState::Active => {
                r.u16le("total_length")?;
                if r.u16le("pdu_type")? & 0x0F != 7 {
                    return Err(r.err(ErrorKind::Unexpected));
                }
                r.raw(10)?;
                let t = r.u8("pdu_type2")?;
                if t == 39 && self.state == ServerState::ExpectFontList {
                    self.finalize();
                }
            }
            _ => return Err(r.err(ErrorKind::Unexpected)),
        }
        Ok(())
    }

    fn caps(&self) -> Caps {
        Caps {
            bpp: self.config.bpp,
            width: self.config.desktop.width,
            height: self.config.desktop.height,
            keyboard_layout: 0,
        }
    }

    fn finalize(&mut self) {
        let src = mcs::SERVER_CHANNEL;
        let msgs = [
            (
                "rdp.msg.synchronize",
                pdu::data_pdu(SHARE_ID, src, 31, pdu::synchronize(USER)),
            ),
            (
                "rdp.msg.control_cooperate",
                pdu::data_pdu(SHARE_ID, src, 20, pdu::control(4)),
            ),
            (
                "rdp.msg.control_granted",
                pdu::data_pdu(SHARE_ID, src, 20, pdu::control(2)),
            ),
            (
                "rdp.msg.font_map",
                pdu::data_pdu(SHARE_ID, src, 40, pdu::font_map()),
            ),
        ];
        for (label, w) in msgs {
            self.send(label, mcs::send_data_indication(IO_CHANNEL, w));
        }
        for rect in self.tiles() {
            let w = pdu::data_pdu(SHARE_ID, src, 2, pdu::bitmap_update(&[rect]));
            self.send(
                "rdp.msg.bitmap_update",
                mcs::send_data_indication(IO_CHANNEL, w),
            );
        }
        self.events.push(ServerEvent::Active);
        self.state = ServerState::Active;
    }

    /// The desktop cut into tiles of uncompressed bitmap data: bottom-up rows,
    /// each padded to four bytes (§2.2.9.1.1.3.1.2.2).
    fn tiles(&self) -> Vec<BitmapRect> {
        let d = &self.config.desktop;
        let tile = self.config.tile.max(4);
        let bpp = self.config.bpp;
        let mut out = Vec::new();
        for top in (0..d.height).step_by(usize::from(tile)) {
            for left in (0..d.width).step_by(usize::from(tile)) {
                let w = tile.min(d.width - left);
                let h = tile.min(d.height - top);
                let bytes = if bpp == 24 { 3 } else { 2 };
                let row = usize::from(w) * bytes;
                let stride = row.div_ceil(4) * 4;
                let mut data = Vec::with_capacity(stride * usize::from(h));
                for y in (0..h).rev() {
                    for x in 0..w {
                        let i = ((usize::from(top + y)) * usize::from(d.width)
                            + usize::from(left + x))
                            * 3;
                        let p = d.rgb.get(i..i + 3).unwrap_or(&[0, 0, 0]);
                        let [r, g, b] = [0, 1, 2].map(|i| p.get(i).copied().unwrap_or(0));
                        if bpp == 24 {
                            data.extend_from_slice(&[b, g, r]);
                        } else {
                            let v = (u16::from(r >> 3) << 11)
                                | (u16::from(g >> 2) << 5)
                                | u16::from(b >> 3);
                            data.extend_from_slice(&v.to_le_bytes());
                        }
                    }
                    data.resize(data.len() + stride - row, 0);
                }
                out.push(BitmapRect {
                    left,
                    top,
                    right: left + w - 1,
                    bottom: top + h - 1,
                    width: w,
                    height: h,
                    bpp,
                    compressed: false,
                    data,
                });
            }
        }
        out
    }

    fn on_fast_path(&mut self, r: &mut Reader<'_>) -> Result<(), Error> {
        if self.state != ServerState::Active {
            return Err(r.err(ErrorKind::Unexpected));
        }
        let h = r.u8("fp_header")?;
        let b1 = r.u8("fp_length")?;
        if b1 & 0x80 != 0 {
            r.u8("fp_length")?;
        }
        if h & 0x03 != 0 {
            return Err(r.err(ErrorKind::Unexpected));
        }
        for _ in 0..(h >> 2) & 0x0F {
            let eh = r.u8("fp_event_header")?;
            let ev = match eh >> 5 {
                0 => Input::Key {
                    code: r.u8("key_code")?,
                    release: eh & 0x01 != 0,
                },
                1 => Input::Mouse {
                    flags: r.u16le("pointer_flags")?,
                    x: r.u16le("x_pos")?,
                    y: r.u16le("y_pos")?,
                },
                _ => return Err(r.err(ErrorKind::Unexpected)),
            };
            self.events.push(ServerEvent::Input(ev));
        }
        r.expect_empty()
    }
}
