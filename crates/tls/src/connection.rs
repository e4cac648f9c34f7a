//! What a TLS client and a TLS server have in common, written once: feeding bytes,
//! draining records, events and application data, sending, closing, and the
//! connection's flags. [`crate::Client`] and [`crate::Server`] implement it; their
//! own methods are what differs (the state, the SNI, the suite).

use cipherstage_transcript::Event;

use crate::common::{Error, Outgoing};
use crate::enums::AlertDescription;

mod sealed {
    /// Only this crate's two sides are connections (they share one `Common`). The
    /// module is private, so `Common` never leaves the crate.
    #[allow(private_interfaces)]
    pub trait Side {
        fn common_ref(&self) -> &crate::common::Common;
        fn common_mut(&mut self) -> &mut crate::common::Common;
    }
}

pub(crate) use sealed::Side;

/// One end of a TLS 1.3 connection, sans-IO: bytes in, records and events out.
pub trait Connection: sealed::Side {
    /// Feeds bytes received from the peer; on a fatal error the alert is already
    /// queued to send.
    fn receive(&mut self, data: &[u8]) -> Result<(), Error>;

    /// Records to send, in order.
    fn take_output(&mut self) -> Vec<Outgoing> {
        core::mem::take(&mut self.common_mut().out)
    }

    /// Records received since the last call, annotated as far as they could be read.
    fn take_received(&mut self) -> Vec<Outgoing> {
        core::mem::take(&mut self.common_mut().received)
    }

    /// Transcript events since the last call.
    fn take_events(&mut self) -> Vec<Event> {
        core::mem::take(&mut self.common_mut().events)
    }

    /// Application data received so far.
    fn take_app_data(&mut self) -> Vec<u8> {
        core::mem::take(&mut self.common_mut().app)
    }

    /// Sends application data (after the handshake).
    fn send(&mut self, data: &[u8]) -> Result<(), Error> {
        self.common_mut().send_app_data(data)
    }

    /// Sends close_notify.
    fn close(&mut self) {
        self.common_mut().close();
    }

    /// Whether the handshake finished.
    fn is_connected(&self) -> bool {
        self.common_ref().connected
    }

    /// Whether the connection is over (alert sent or received, or closed).
    fn is_closed(&self) -> bool {
        let c = self.common_ref();
        c.closed || c.close_sent
    }

    /// Whether the peer sent close_notify.
    fn peer_closed(&self) -> bool {
        self.common_ref().peer_closed
    }

    /// Answers the peer's close_notify with ours (RFC 9846 §6.1: each party sends
    /// close_notify before closing its write side); returns whether it did.
    fn answer_close(&mut self) -> bool {
        let due = self.peer_closed() && !self.is_closed();
        if due {
            self.close();
        }
        due
    }

    /// TLS-Exporter(label, context, len) (RFC 9846 §7.5):
    /// HKDF-Expand-Label(Derive-Secret(exporter_master_secret, label, ""), "exporter",
    /// Hash(context), len); `None` before the exporter secret is known or for a `len`
    /// HKDF cannot give (more than 255 hash lengths).
    fn export_keying_material(&self, label: &[u8], context: &[u8], len: usize) -> Option<Vec<u8>> {
        let c = self.common_ref();
        let h = c.hash();
        if c.exporter.is_empty() || len > 255 * h.len() {
            return None;
        }
        let secret = h.derive_secret(&c.exporter, label, &h.digest(&[]));
        Some(h.expand_label(&secret, b"exporter", &h.digest(context), len))
    }

    /// The alert the peer sent, if any.
    fn peer_alert(&self) -> Option<AlertDescription> {
        self.common_ref().peer_alert
    }
}
