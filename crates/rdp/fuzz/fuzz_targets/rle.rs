//! Interleaved RLE (MS-RDPBCGR §3.1.9), ours against IronRDP's on the same bytes:
//! width, height (1–64 each, from the first two bytes), depth (8, 15, 16 or 24 from
//! the third), then the compressed data. Never a panic; where both decode, the
//! pixels are the same.
#![no_main]
use cipherstage_rdp::bitmap::rle;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [w, h, depth, rest @ ..] = data else {
        return;
    };
    let (w, h) = (usize::from(w % 64) + 1, usize::from(h % 64) + 1);
    let bpp = [8u16, 15, 16, 24][usize::from(depth % 4)];
    let ours = rle::decompress(rest, w, h, bpp);
    let mut theirs = Vec::new();
    let theirs_ok = ironrdp_graphics::rle::decompress(rest, &mut theirs, w, h, usize::from(bpp));
    if let (Ok(ours), Ok(_)) = (&ours, theirs_ok) {
        assert_eq!(ours, &theirs, "{w}x{h} at {bpp} bpp");
    }
});
