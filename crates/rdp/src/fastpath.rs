//! Fast-path input (MS-RDPBCGR §2.2.8.1.2): keyboard and mouse events without
//! the TPKT, X.224, MCS and share headers — with TLS security nothing else is needed.
//!
//! ```text
//! fpInputHeader(1): action(2 bits)=0 numEvents(4 bits) flags(2 bits)
//! length(1 or 2: high bit set means two bytes, big-endian, 15 bits)
//! fpInputEvents: eventHeader(1): eventFlags(5 bits) eventCode(3 bits), then the event
//! ```

use crate::codec::Writer;

/// One input event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// A key by scan code (§2.2.8.1.2.2.1); `release` for key-up.
    Key {
        /// The scan code.
        code: u8,
        /// Key released (KBDFLAGS_RELEASE).
        release: bool,
    },
    /// A mouse event (§2.2.8.1.2.2.3): PTRFLAGS_* and the position.
    Mouse {
        /// PTRFLAGS_MOVE 0x0800, BUTTON1 0x1000, DOWN 0x8000 …
        flags: u16,
        /// X.
        x: u16,
        /// Y.
        y: u16,
    },
}

/// PTRFLAGS_MOVE.
pub const PTR_MOVE: u16 = 0x0800;
/// PTRFLAGS_BUTTON1 (left).
pub const PTR_BUTTON1: u16 = 0x1000;
/// PTRFLAGS_DOWN.
pub const PTR_DOWN: u16 = 0x8000;

/// A fast-path input PDU with up to 15 events.
pub fn input_pdu(events: &[Input]) -> Writer {
    let events = events.get(..events.len().min(15)).unwrap_or(&[]);
    let mut body = Writer::new();
    for e in events {
        match *e {
            Input::Key { code, release } => {
                body.begin_key("fp_event", "rdp.input.scancode")
                    .u8("fp_event_header", u8::from(release))
                    .u8("key_code", code)
                    .end();
            }
            Input::Mouse { flags, x, y } => {
                body.begin_key("fp_event", "rdp.input.mouse")
                    .u8("fp_event_header", 0x01 << 5)
                    .u16le("pointer_flags", flags)
                    .u16le("x_pos", x)
                    .u16le("y_pos", y)
                    .end();
            }
        }
    }
    // One length byte if the whole PDU is under 128 bytes, else two.
    let short = 2 + body.len() < 0x80;
    let total = body.len() + if short { 2 } else { 3 };
    let mut w = Writer::new();
    w.begin("fp_input_header")
        .u8("fp_header", (events.len() as u8) << 2);
    if short {
        w.u8("fp_length", total as u8);
    } else {
        w.u16be("fp_length", 0x8000 | total.min(0x7FFF) as u16);
    }
    w.end();
    w.append(body);
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_press_and_release_is_explained_and_sized() {
        let (b, f) = input_pdu(&[
            Input::Key {
                code: 0x1E,
                release: false,
            },
            Input::Key {
                code: 0x1E,
                release: true,
            },
        ])
        .finish();
        assert_eq!(b, [0x08, 6, 0x00, 0x1E, 0x01, 0x1E]);
        assert!(crate::coverage_ok(&b, &f));
    }

    #[test]
    fn a_mouse_click_is_explained() {
        let (b, f) = input_pdu(&[Input::Mouse {
            flags: PTR_BUTTON1 | PTR_DOWN,
            x: 10,
            y: 20,
        }])
        .finish();
        assert_eq!(b, [0x04, 9, 0x20, 0x00, 0x90, 10, 0, 20, 0]);
        assert!(crate::coverage_ok(&b, &f));
    }
}
