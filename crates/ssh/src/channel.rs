//! One channel of the connection protocol (RFC 4254 §5) as the server keeps it:
//! the two channel numbers, the peer's window and largest packet, and an ordered
//! queue of what is still to go out (data, extended data, exit-status, EOF,
//! CLOSE), sent as far as the peer's window allows.
//!
//! ```text
//! CHANNEL_OPEN ─► CONFIRMATION ─► DATA … (WINDOW_ADJUST) … ─► EOF ─► CLOSE ◄─► CLOSE
//! ```
//! Either side may send EOF and CLOSE first; a channel is gone once both CLOSE
//! messages have been sent.

use std::collections::VecDeque;

use cipherstage_transcript::Field;

use crate::session::MAX_PACKET;
use crate::wire::{ChannelRequestKind, Msg};

/// Our receive window on every channel; topped up when half of it is used.
pub(crate) const WINDOW: u32 = 2 * 1024 * 1024;

/// Channels open at once on one connection; another open gets RESOURCE_SHORTAGE.
pub(crate) const MAX_CHANNELS: usize = 64;

/// Channel data that carries a protocol of its own (SFTP, SCP): its label and the
/// fields of its bytes, nested inside the CHANNEL_DATA's field tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Note {
    pub label: &'static str,
    pub fields: Vec<Field>,
}

/// One thing still to send on a channel, in order.
#[derive(Debug)]
enum Out {
    Data {
        /// SSH_EXTENDED_DATA_STDERR (1) for standard error, none for data.
        code: Option<u32>,
        bytes: Vec<u8>,
        /// Bytes of `bytes` already sent.
        sent: usize,
        note: Option<Note>,
    },
    Exit(u32),
    Eof,
    Close,
}

/// A packet a flush produced.
#[derive(Debug)]
pub(crate) enum Packet {
    Msg(Msg),
    /// CHANNEL_DATA whose bytes have fields of their own.
    Noted {
        recipient: u32,
        data: Vec<u8>,
        note: Note,
    },
}

/// One channel.
#[derive(Debug)]
pub(crate) struct Channel {
    /// Our number.
    pub local: u32,
    /// The peer's number.
    pub remote: u32,
    /// CHANNEL_OPEN_CONFIRMATION sent.
    pub open: bool,
    window: u32,
    max_packet: u32,
    queue: VecDeque<Out>,
    /// EOF queued or sent (nothing more may be queued after it).
    pub eof_queued: bool,
    /// CLOSE queued or sent.
    pub close_queued: bool,
    /// CLOSE sent.
    pub close_sent: bool,
    /// The peer sent EOF.
    pub peer_eof: bool,
    /// Bytes received since our last window adjustment.
    consumed: u32,
}

impl Channel {
    pub fn new(local: u32, remote: u32, window: u32, max_packet: u32) -> Self {
        Channel {
            local,
            remote,
            open: false,
            window,
            max_packet,
            queue: VecDeque::new(),
            eof_queued: false,
            close_queued: false,
            close_sent: false,
            peer_eof: false,
            consumed: 0,
        }
    }

    /// The peer's CHANNEL_OPEN_CONFIRMATION: its number, window and largest packet.
    pub fn confirm(&mut self, remote: u32, window: u32, max_packet: u32) {
        self.remote = remote;
        self.window = window;
        self.max_packet = max_packet;
        self.open = true;
    }

    /// Whether nothing more may be queued.
    pub fn done_sending(&self) -> bool {
        self.eof_queued || self.close_queued
    }

    /// Queues bytes (merged with queued plain bytes of the same stream).
    pub fn push_data(&mut self, code: Option<u32>, data: &[u8], note: Option<Note>) {
        if data.is_empty() || self.done_sending() {
            return;
        }
        if note.is_none() {
            if let Some(Out::Data {
                code: c,
                bytes,
                note: None,
                ..
            }) = self.queue.back_mut()
            {
                if *c == code {
                    bytes.extend_from_slice(data);
                    return;
                }
            }
        }
        self.queue.push_back(Out::Data {
            code,
            bytes: data.to_vec(),
            sent: 0,
            note,
        });
    }

    /// Queues exit-status.
    pub fn push_exit(&mut self, status: u32) {
        if !self.done_sending() {
            self.queue.push_back(Out::Exit(status));
        }
    }

    /// Queues EOF.
    pub fn push_eof(&mut self) {
        if !self.done_sending() {
            self.eof_queued = true;
            self.queue.push_back(Out::Eof);
        }
    }

    /// Queues CLOSE.
    pub fn push_close(&mut self) {
        if !self.close_queued {
            self.close_queued = true;
            self.queue.push_back(Out::Close);
        }
    }

    /// The peer's WINDOW_ADJUST.
    pub fn add_window(&mut self, bytes: u32) {
        self.window = self.window.saturating_add(bytes);
    }

    /// Counts received bytes; the WINDOW_ADJUST to send, if one is due.
    pub fn received(&mut self, n: usize) -> Option<Msg> {
        self.consumed = self
            .consumed
            .saturating_add(u32::try_from(n).unwrap_or(u32::MAX));
        (self.consumed >= WINDOW / 2).then(|| Msg::ChannelWindowAdjust {
            recipient: self.remote,
            bytes: core::mem::take(&mut self.consumed),
        })
    }

    /// Takes what can go out now: data as far as the window allows (each packet at
    /// most the peer's largest), then what follows it in the queue.
    pub fn flush(&mut self) -> Vec<Packet> {
        let mut out = Vec::new();
        if !self.open {
            return out;
        }
        let remote = self.remote;
        while let Some(front) = self.queue.front_mut() {
            match front {
                Out::Data {
                    code,
                    bytes,
                    sent,
                    note,
                } => {
                    let left = bytes.len().saturating_sub(*sent);
                    let n = left
                        .min(self.window as usize)
                        .min(self.max_packet.clamp(1, MAX_PACKET) as usize);
                    if left > 0 && n == 0 {
                        break;
                    }
                    let end = *sent + n;
                    let chunk = bytes.get(*sent..end).unwrap_or_default().to_vec();
                    self.window = self.window.saturating_sub(n as u32);
                    let whole = *sent == 0 && end == bytes.len();
                    let piece = match (note, code) {
                        (Some(note), None) => Packet::Noted {
                            recipient: remote,
                            data: chunk,
                            note: Note {
                                label: note.label,
                                fields: if whole {
                                    note.fields.clone()
                                } else {
                                    clip(&note.fields, *sent, end)
                                },
                            },
                        },
                        (_, Some(code)) => Packet::Msg(Msg::ChannelExtendedData {
                            recipient: remote,
                            code: *code,
                            data: chunk,
                        }),
                        (None, None) => Packet::Msg(Msg::ChannelData {
                            recipient: remote,
                            data: chunk,
                        }),
                    };
                    out.push(piece);
                    *sent = end;
                    if *sent >= bytes.len() {
                        self.queue.pop_front();
                    }
                }
                Out::Exit(status) => {
                    out.push(Packet::Msg(Msg::ChannelRequest {
                        recipient: remote,
                        want_reply: false,
                        kind: ChannelRequestKind::ExitStatus { status: *status },
                    }));
                    self.queue.pop_front();
                }
                Out::Eof => {
                    out.push(Packet::Msg(Msg::ChannelEof { recipient: remote }));
                    self.queue.pop_front();
                }
                Out::Close => {
                    out.push(Packet::Msg(Msg::ChannelClose { recipient: remote }));
                    self.close_sent = true;
                    self.queue.clear();
                }
            }
        }
        out
    }
}

/// The fields of `fields` that overlap bytes `a..b`, cut to that range and moved
/// so that `a` is offset 0 (a packet split over several CHANNEL_DATA messages).
/// A field that covered its range still covers the cut one.
pub(crate) fn clip(fields: &[Field], a: usize, b: usize) -> Vec<Field> {
    fields
        .iter()
        .filter(|f| f.start < b && f.end > a)
        .map(|f| {
            let cut = f.start < a || f.end > b;
            Field {
                name: f.name.clone(),
                start: f.start.max(a) - a,
                end: f.end.min(b) - a,
                // A value read from bytes partly in another message is not shown.
                value: if cut { None } else { f.value.clone() },
                explain: f.explain.clone(),
                protection: f.protection,
                children: clip(&f.children, a, b),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use cipherstage_transcript::{check_fields, FieldsBuilder, Protection};

    #[test]
    fn data_waits_for_window_and_is_split_at_max_packet() {
        let mut c = Channel::new(0, 7, 10, 4);
        c.open = true;
        c.push_data(None, b"0123456789abcdef", None);
        c.push_eof();
        c.push_close();
        let sizes: Vec<usize> = c
            .flush()
            .iter()
            .map(|p| match p {
                Packet::Msg(Msg::ChannelData { data, .. }) => data.len(),
                _ => 0,
            })
            .collect();
        assert_eq!(sizes, [4, 4, 2]);
        c.add_window(100);
        let rest = c.flush();
        assert_eq!(rest.len(), 4, "{rest:?}");
        assert!(matches!(
            rest[2],
            Packet::Msg(Msg::ChannelEof { recipient: 7 })
        ));
        assert!(matches!(
            rest[3],
            Packet::Msg(Msg::ChannelClose { recipient: 7 })
        ));
        assert!(c.close_sent);
    }

    #[test]
    fn a_split_packet_keeps_every_byte_explained() {
        let mut b = FieldsBuilder::new(0);
        b.leaf("a", 3, None, "a", Protection::Plaintext);
        b.group("g", "g", Protection::Plaintext, |b| {
            b.leaf("b", 5, None, "b", Protection::Plaintext);
            b.leaf("c", 4, None, "c", Protection::Plaintext);
        });
        let fields = b.finish();
        for (a, e) in [(0, 5), (5, 9), (9, 12), (2, 3)] {
            check_fields(&clip(&fields, a, e), 0, e - a).unwrap();
        }
    }
}
