//! ESP and AH headers in the smoltcp `wire` style.
//!
//! After `Packet::new_checked` succeeds no accessor panics; accessors read through
//! `get`, so even an unchecked view of a short buffer returns zeros, never panics.

pub mod ah;
pub mod esp;

fn u32_at(data: &[u8], f: core::ops::Range<usize>) -> u32 {
    let mut a = [0u8; 4];
    for (d, s) in a.iter_mut().zip(data.get(f).unwrap_or(&[])) {
        *d = *s;
    }
    u32::from_be_bytes(a)
}
