//! The anti-replay window (RFC 4303 §3.4.3 and Appendix A2's bitmap): the receiver
//! remembers the highest sequence number it accepted and which of the 63 before it
//! it has seen. A number to the left of the window, or one already marked, is dropped.

/// Width of the window in sequence numbers (RFC 4303 §3.4.3: at least 32, 64 recommended).
pub const WINDOW: u32 = 64;

/// Why a sequence number is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Zero is never sent: the counter starts at 1 (§3.3.3).
    Zero,
    /// Already received.
    Duplicate,
    /// Older than the window's left edge.
    TooOld,
}

/// A 64-packet sliding window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReplayWindow {
    top: u32,
    bitmap: u64,
}

impl ReplayWindow {
    /// A window that has seen nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// The highest sequence number accepted so far (the right edge).
    pub fn top(&self) -> u32 {
        self.top
    }

    /// Bit `i` set: `top - i` was received.
    pub fn bitmap(&self) -> u64 {
        self.bitmap
    }

    /// Whether `seq` may be processed further. Checked before the ICV, so a flood of
    /// replays costs no cryptography; the window moves only after the ICV verified.
    pub fn check(&self, seq: u32) -> Result<(), Refusal> {
        if seq == 0 {
            return Err(Refusal::Zero);
        }
        if seq > self.top {
            return Ok(());
        }
        let diff = self.top - seq;
        if diff >= WINDOW {
            return Err(Refusal::TooOld);
        }
        if self.bitmap & (1u64 << diff) != 0 {
            return Err(Refusal::Duplicate);
        }
        Ok(())
    }

    /// Marks `seq` as received (after its ICV verified), sliding the window right if new.
    pub fn accept(&mut self, seq: u32) {
        if seq > self.top {
            let shift = seq - self.top;
            self.bitmap = if shift >= WINDOW {
                0
            } else {
                self.bitmap << shift
            };
            self.bitmap |= 1;
            self.top = seq;
        } else if self.top - seq < WINDOW {
            self.bitmap |= 1u64 << (self.top - seq);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_and_old_numbers_are_refused_out_of_order_ones_accepted() {
        let mut w = ReplayWindow::new();
        assert_eq!(w.check(0), Err(Refusal::Zero));
        for seq in [1, 2, 5, 3] {
            assert_eq!(w.check(seq), Ok(()));
            w.accept(seq);
        }
        assert_eq!(w.top(), 5);
        assert_eq!(w.bitmap(), 0b11101);
        assert_eq!(w.check(2), Err(Refusal::Duplicate));
        assert_eq!(w.check(4), Ok(()));
        w.accept(200);
        assert_eq!(w.check(200 - 64), Err(Refusal::TooOld));
        assert_eq!(w.check(200 - 63), Ok(()));
        assert_eq!(w.check(200), Err(Refusal::Duplicate));
        assert_eq!(w.bitmap(), 1);
    }
}
