//! HKDF-SHA-256 (RFC 5869) on ring's HMAC, so the intermediate PRK can be shown.
//!
//! ring's own `hkdf` keeps the PRK opaque; the app's secrets panel needs its bytes.
//! The tests check this against RFC 5869 and against `ring::hkdf`.

use ring::hmac;

/// `HKDF-Extract(salt, IKM) = HMAC-SHA-256(salt, IKM)` (RFC 5869 §2.2).
pub fn extract(salt: &[u8], ikm: &[u8]) -> [u8; 32] {
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, salt), ikm);
    let mut out = [0u8; 32];
    out.copy_from_slice(tag.as_ref());
    out
}

/// `HKDF-Expand(PRK, info, L)` (RFC 5869 §2.3); `None` if `len > 255 * 32`.
pub fn expand(prk: &[u8], info: &[u8], len: usize) -> Option<Vec<u8>> {
    if len > 255 * 32 {
        return None;
    }
    let key = hmac::Key::new(hmac::HMAC_SHA256, prk);
    let mut out = Vec::with_capacity(len);
    let mut previous: Vec<u8> = Vec::new();
    let mut counter: u8 = 1;
    while out.len() < len {
        let mut ctx = hmac::Context::with_key(&key);
        ctx.update(&previous);
        ctx.update(info);
        ctx.update(&[counter]);
        previous = ctx.sign().as_ref().to_vec();
        let take = (len - out.len()).min(previous.len());
        out.extend(previous.iter().take(take));
        counter = counter.wrapping_add(1);
    }
    Some(out)
}
