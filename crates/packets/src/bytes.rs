//! Bounds-checked big-endian reads and writes: short buffers give zeros / no write,
//! never a panic. Callers check lengths first; these only keep the promise.

use crate::Field;

pub(crate) fn get(data: &[u8], f: Field) -> &[u8] {
    data.get(f).unwrap_or(&[])
}

pub(crate) fn u8_at(data: &[u8], at: usize) -> u8 {
    data.get(at).copied().unwrap_or(0)
}

pub(crate) fn u16_at(data: &[u8], f: Field) -> u16 {
    let b = get(data, f);
    u16::from_be_bytes([
        b.first().copied().unwrap_or(0),
        b.get(1).copied().unwrap_or(0),
    ])
}

pub(crate) fn u32_at(data: &[u8], f: Field) -> u32 {
    let b = get(data, f);
    let mut a = [0u8; 4];
    for (d, s) in a.iter_mut().zip(b) {
        *d = *s;
    }
    u32::from_be_bytes(a)
}

pub(crate) fn array<const N: usize>(data: &[u8], f: Field) -> [u8; N] {
    let mut a = [0u8; N];
    for (d, s) in a.iter_mut().zip(get(data, f)) {
        *d = *s;
    }
    a
}

pub(crate) fn put(data: &mut [u8], f: Field, value: &[u8]) {
    if let Some(dst) = data.get_mut(f) {
        for (d, s) in dst.iter_mut().zip(value) {
            *d = *s;
        }
    }
}

pub(crate) fn put_u8(data: &mut [u8], at: usize, v: u8) {
    if let Some(d) = data.get_mut(at) {
        *d = v;
    }
}

pub(crate) fn put_u16(data: &mut [u8], f: Field, v: u16) {
    put(data, f, &v.to_be_bytes());
}

pub(crate) fn put_u32(data: &mut [u8], f: Field, v: u32) {
    put(data, f, &v.to_be_bytes());
}
