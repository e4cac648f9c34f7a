//! Bitmap updates to pixels: uncompressed bitmap data (MS-RDPBCGR
//! §2.2.9.1.1.3.1.2.2: bottom-up rows, each padded to four bytes) and
//! interleaved RLE (§3.1.9, [`crate::bitmap::rle`]) at 15, 16 and 24 bits per pixel, drawn
//! into a [`Framebuffer`] of the desktop's size.

use crate::{Error, ErrorKind};

/// One rectangle of a bitmap update, as the server sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BitmapRect {
    /// Left edge on the desktop.
    pub left: u16,
    /// Top edge.
    pub top: u16,
    /// Right edge (inclusive).
    pub right: u16,
    /// Bottom edge (inclusive).
    pub bottom: u16,
    /// Width of the bitmap data (may be padded past right − left + 1).
    pub width: u16,
    /// Height of the bitmap data.
    pub height: u16,
    /// Bits per pixel.
    pub bpp: u16,
    /// Interleaved-RLE compressed.
    pub compressed: bool,
    /// The bitmap data.
    pub data: Vec<u8>,
}

/// The desktop as the client has drawn it: RGB, 3 bytes per pixel, top-down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Framebuffer {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// The pixels.
    pub rgb: Vec<u8>,
}

/// Most pixels one rectangle may have (a 2048×2048 desktop's worth): a compressed
/// rectangle's size comes from the wire and RLE runs multiply bytes, so without a
/// bound a few bytes would ask for gigabytes (and overflow `usize` on wasm32).
pub const MAX_RECT_PIXELS: usize = 1 << 22;

/// `width × height × bytes`, or `None` past [`MAX_RECT_PIXELS`].
fn rect_bytes(width: usize, height: usize, bytes: usize) -> Option<usize> {
    let pixels = width.checked_mul(height)?;
    (pixels <= MAX_RECT_PIXELS).then_some(pixels * bytes)
}

/// Bytes per pixel of a colour depth we decode.
fn bytes_per_pixel(bpp: u16) -> Option<usize> {
    match bpp {
        15 | 16 => Some(2),
        24 => Some(3),
        32 => Some(4),
        _ => None,
    }
}

/// One pixel's RGB from its little-endian bytes.
pub fn to_rgb(bpp: u16, px: &[u8]) -> [u8; 3] {
    let b0 = px.first().copied().unwrap_or(0);
    let b1 = px.get(1).copied().unwrap_or(0);
    let b2 = px.get(2).copied().unwrap_or(0);
    match bpp {
        16 => {
            let v = u16::from_le_bytes([b0, b1]);
            let (r, g, b) = ((v >> 11) & 0x1F, (v >> 5) & 0x3F, v & 0x1F);
            [
                ((r << 3) | (r >> 2)) as u8,
                ((g << 2) | (g >> 4)) as u8,
                ((b << 3) | (b >> 2)) as u8,
            ]
        }
        15 => {
            let v = u16::from_le_bytes([b0, b1]);
            let (r, g, b) = ((v >> 10) & 0x1F, (v >> 5) & 0x1F, v & 0x1F);
            [
                ((r << 3) | (r >> 2)) as u8,
                ((g << 3) | (g >> 2)) as u8,
                ((b << 3) | (b >> 2)) as u8,
            ]
        }
        // 24 and 32 bpp are blue, green, red (and an unused byte).
        _ => [b2, b1, b0],
    }
}

/// Decodes a rectangle to top-down pixel bytes at its own depth
/// (`width * height * bytes_per_pixel`, no row padding).
pub fn decode(rect: &BitmapRect) -> Result<Vec<u8>, Error> {
    let err = |kind| Error { kind, offset: 0 };
    let bpp = bytes_per_pixel(rect.bpp).ok_or(err(ErrorKind::BitmapSize))?;
    let (w, h) = (usize::from(rect.width), usize::from(rect.height));
    rect_bytes(w, h, bpp).ok_or(err(ErrorKind::BitmapSize))?;
    let row = w * bpp;
    if rect.compressed {
        let bottom_up = rle::decompress(&rect.data, w, h, rect.bpp)?;
        let mut out = vec![0; row * h];
        for y in 0..h {
            let src = bottom_up
                .get((h - 1 - y) * row..(h - y) * row)
                .ok_or(err(ErrorKind::BadRle))?;
            if let Some(dst) = out.get_mut(y * row..(y + 1) * row) {
                dst.copy_from_slice(src);
            }
        }
        return Ok(out);
    }
    let stride = row.div_ceil(4) * 4;
    if rect.data.len() != stride * h {
        return Err(err(ErrorKind::BitmapSize));
    }
    let mut out = Vec::with_capacity(row * h);
    for y in (0..h).rev() {
        let src = rect
            .data
            .get(y * stride..y * stride + row)
            .ok_or(err(ErrorKind::BitmapSize))?;
        out.extend_from_slice(src);
    }
    Ok(out)
}

impl Framebuffer {
    /// A black desktop.
    pub fn new(width: usize, height: usize) -> Framebuffer {
        Framebuffer {
            width,
            height,
            rgb: vec![0; width * height * 3],
        }
    }

    /// The picture as a 24-bit Windows bitmap file (BITMAPFILEHEADER and
    /// BITMAPINFOHEADER, then the rows bottom-up in BGR, each padded to 4
    /// bytes), which a browser shows as it is. `None` if it would not fit the
    /// format's 32-bit sizes or `rgb` is shorter than the dimensions say.
    pub fn to_bmp(&self) -> Option<Vec<u8>> {
        let row = self.width.checked_mul(3)?;
        let padded = row.checked_add(3)? & !3;
        let data = padded.checked_mul(self.height)?;
        let total = data.checked_add(54)?;
        let (w, h) = (
            i32::try_from(self.width).ok()?,
            i32::try_from(self.height).ok()?,
        );
        let (data32, total32) = (u32::try_from(data).ok()?, u32::try_from(total).ok()?);
        if self.rgb.len() < row.checked_mul(self.height)? {
            return None;
        }
        let mut out = Vec::with_capacity(total);
        out.extend_from_slice(b"BM");
        out.extend_from_slice(&total32.to_le_bytes());
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&54u32.to_le_bytes());
        out.extend_from_slice(&40u32.to_le_bytes());
        out.extend_from_slice(&w.to_le_bytes());
        out.extend_from_slice(&h.to_le_bytes());
        out.extend_from_slice(&1u16.to_le_bytes());
        out.extend_from_slice(&24u16.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&data32.to_le_bytes());
        out.extend_from_slice(&2835i32.to_le_bytes());
        out.extend_from_slice(&2835i32.to_le_bytes());
        out.extend_from_slice(&[0; 8]);
        for line in self.rgb.chunks_exact(row.max(1)).take(self.height).rev() {
            for px in line.chunks_exact(3) {
                if let [r, g, b] = px {
                    out.extend_from_slice(&[*b, *g, *r]);
                }
            }
            out.resize(out.len() + (padded - row), 0);
        }
        Some(out)
    }

    /// Draws a rectangle; its destination must lie on the desktop.
    pub fn draw(&mut self, rect: &BitmapRect) -> Result<(), Error> {
        let err = |kind| Error { kind, offset: 0 };
        let (l, t) = (usize::from(rect.left), usize::from(rect.top));
        let (r, b) = (usize::from(rect.right), usize::from(rect.bottom));
        if r < l || b < t || r >= self.width || b >= self.height {
            return Err(err(ErrorKind::BitmapSize));
        }
        let px = decode(rect)?;
        let bpp = bytes_per_pixel(rect.bpp).unwrap_or(2);
        let w = usize::from(rect.width);
        let cols = (r - l + 1).min(w);
        let rows = (b - t + 1).min(usize::from(rect.height));
        for y in 0..rows {
            for x in 0..cols {
                let s = (y * w + x) * bpp;
                let d = ((t + y) * self.width + l + x) * 3;
                if let (Some(src), Some(dst)) = (px.get(s..s + bpp), self.rgb.get_mut(d..d + 3)) {
                    dst.copy_from_slice(&to_rgb(rect.bpp, src));
                }
            }
        }
        Ok(())
    }

    /// The picture as a binary PPM (P6) file.
    pub fn ppm(&self) -> Vec<u8> {
        let mut out = format!("P6\n{} {}\n255\n", self.width, self.height).into_bytes();
        out.extend_from_slice(&self.rgb);
        out
    }
}

pub mod rle {
    //! Interleaved RLE bitmap decompression (MS-RDPBCGR §3.1.9): order codes
    //! of regular, MEGA_MEGA and lite forms; background and foreground runs
    //! against the previous scanline (a black line above the first).

    use crate::{Error, ErrorKind};

    fn bad() -> Error {
        Error {
            kind: ErrorKind::BadRle,
            offset: 0,
        }
    }

    struct Src<'a> {
        data: &'a [u8],
        pos: usize,
    }

    impl Src<'_> {
        fn u8(&mut self) -> Result<u8, Error> {
            let b = self.data.get(self.pos).copied().ok_or_else(bad)?;
            self.pos += 1;
            Ok(b)
        }
        fn u16(&mut self) -> Result<usize, Error> {
            Ok(usize::from(self.u8()?) | (usize::from(self.u8()?) << 8))
        }
        fn pixel(&mut self, bpp: usize) -> Result<u32, Error> {
            let mut v = 0u32;
            for i in 0..bpp {
                v |= u32::from(self.u8()?) << (8 * i);
            }
            Ok(v)
        }
    }

    struct Dst {
        out: Vec<u8>,
        row: usize,
        bpp: usize,
        limit: usize,
        /// Still on the first scanline (as of the start of the current order).
        first: bool,
    }

    impl Dst {
        fn put(&mut self, v: u32) -> Result<(), Error> {
            if self.out.len() + self.bpp > self.limit {
                return Err(bad());
            }
            for i in 0..self.bpp {
                self.out.push((v >> (8 * i)) as u8);
            }
            Ok(())
        }
        /// The pixel one scanline above the next one (black on the first line).
        fn above(&self) -> u32 {
            let at = self.out.len();
            if self.first || at < self.row {
                return 0;
            }
            let mut v = 0u32;
            for i in 0..self.bpp {
                v |= u32::from(self.out.get(at - self.row + i).copied().unwrap_or(0)) << (8 * i);
            }
            v
        }
        fn first_line(&self) -> bool {
            self.first
        }
    }

    /// Decompresses interleaved RLE data to bottom-up rows of `width * bpp` bytes.
    pub fn decompress(
        data: &[u8],
        width: usize,
        height: usize,
        bpp: u16,
    ) -> Result<Vec<u8>, Error> {
        let (bytes, white): (usize, u32) = match bpp {
            8 => (1, 0xFF),
            15 => (2, 0x7FFF),
            16 => (2, 0xFFFF),
            24 => (3, 0xFF_FFFF),
            _ => return Err(bad()),
        };
        let total = super::rect_bytes(width, height, bytes).ok_or(Error {
            kind: ErrorKind::BitmapSize,
            offset: 0,
        })?;
        let mut dst = Dst {
            out: Vec::with_capacity(total),
            row: width * bytes,
            bpp: bytes,
            limit: total,
            first: true,
        };
        let mut src = Src { data, pos: 0 };
        let mut fg: u32 = white;
        let mut insert_fg = false;
        while src.pos < data.len() {
            if dst.first && dst.out.len() >= dst.row {
                dst.first = false;
                insert_fg = false;
            }
            let code = src.u8()?;
            // Regular (top three bits), lite (top four) and special (whole byte) codes.
            let (kind, mut run, mask_bits) = order(code, &mut src)?;
            match kind {
                Kind::Bg => {
                    if insert_fg {
                        let v = if dst.first_line() {
                            fg
                        } else {
                            dst.above() ^ fg
                        };
                        dst.put(v)?;
                        run = run.saturating_sub(1);
                    }
                    for _ in 0..run {
                        let v = dst.above();
                        dst.put(v)?;
                    }
                    insert_fg = true;
                    continue;
                }
                Kind::Fg | Kind::SetFg => {
                    if kind == Kind::SetFg {
                        fg = src.pixel(bytes)?;
                    }
                    for _ in 0..run {
                        let v = if dst.first_line() {
                            fg
                        } else {
                            dst.above() ^ fg
                        };
                        dst.put(v)?;
                    }
                }
                Kind::Color => {
                    let v = src.pixel(bytes)?;
                    for _ in 0..run {
                        dst.put(v)?;
                    }
                }
                Kind::Dither => {
                    let a = src.pixel(bytes)?;
                    let b = src.pixel(bytes)?;
                    for _ in 0..run {
                        dst.put(a)?;
                        dst.put(b)?;
                    }
                }
                Kind::Image => {
                    for _ in 0..run {
                        let v = src.pixel(bytes)?;
                        dst.put(v)?;
                    }
                }
                Kind::FgBg | Kind::SetFgBg => {
                    if kind == Kind::SetFgBg {
                        fg = src.pixel(bytes)?;
                    }
                    let mut left = run;
                    while left > 0 {
                        let mask = match mask_bits {
                            Some(m) if left == run => m,
                            _ => src.u8()?,
                        };
                        for bit in 0..8.min(left) {
                            let above = dst.above();
                            let v = if mask & (1 << bit) != 0 {
                                above ^ fg
                            } else {
                                above
                            };
                            dst.put(v)?;
                        }
                        left = left.saturating_sub(8);
                    }
                }
                Kind::White => dst.put(white)?,
                Kind::Black => dst.put(0)?,
            }
            insert_fg = false;
        }
        if dst.out.len() != total {
            return Err(bad());
        }
        Ok(dst.out)
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Kind {
        Bg,
        Fg,
        SetFg,
        Color,
        Dither,
        Image,
        FgBg,
        SetFgBg,
        White,
        Black,
    }

    /// An order code's kind, run length (pixels), and for the special FGBG
    /// codes their fixed mask.
    fn order(code: u8, src: &mut Src<'_>) -> Result<(Kind, usize, Option<u8>), Error> {
        match code {
            0xF0 => Ok((Kind::Bg, src.u16()?, None)),
            0xF1 => Ok((Kind::Fg, src.u16()?, None)),
            0xF2 => Ok((Kind::FgBg, src.u16()?, None)),
            0xF3 => Ok((Kind::Color, src.u16()?, None)),
            0xF4 => Ok((Kind::Image, src.u16()?, None)),
            0xF6 => Ok((Kind::SetFg, src.u16()?, None)),
            0xF7 => Ok((Kind::SetFgBg, src.u16()?, None)),
            0xF8 => Ok((Kind::Dither, src.u16()?, None)),
            0xF9 => Ok((Kind::FgBg, 8, Some(0x03))),
            0xFA => Ok((Kind::FgBg, 8, Some(0x05))),
            0xFD => Ok((Kind::White, 1, None)),
            0xFE => Ok((Kind::Black, 1, None)),
            _ => {
                let lite = code >> 4;
                if (0xC..=0xE).contains(&lite) {
                    // Lite codes: 4-bit run (0: next byte + 16; FGBG counts 8s: + 1).
                    let (kind, fgbg) = match lite {
                        0xC => (Kind::SetFg, false),
                        0xD => (Kind::SetFgBg, true),
                        _ => (Kind::Dither, false),
                    };
                    let n = usize::from(code & 0x0F);
                    let run = if fgbg {
                        if n == 0 {
                            usize::from(src.u8()?) + 1
                        } else {
                            n * 8
                        }
                    } else if n == 0 {
                        usize::from(src.u8()?) + 16
                    } else {
                        n
                    };
                    return Ok((kind, run, None));
                }
                if code >= 0xF0 {
                    return Err(bad());
                }
                let kind = match code >> 5 {
                    0 => Kind::Bg,
                    1 => Kind::Fg,
                    2 => Kind::FgBg,
                    3 => Kind::Color,
                    4 => Kind::Image,
                    _ => return Err(bad()),
                };
                let n = usize::from(code & 0x1F);
                let run = if kind == Kind::FgBg {
                    if n == 0 {
                        usize::from(src.u8()?) + 1
                    } else {
                        n * 8
                    }
                } else if n == 0 {
                    usize::from(src.u8()?) + 32
                } else {
                    n
                };
                Ok((kind, run, None))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bitmap_file_has_its_headers_and_bottom_up_padded_bgr_rows() {
        // 1x2: top red, bottom blue; each 3-byte row padded to 4.
        let fb = Framebuffer {
            width: 1,
            height: 2,
            rgb: vec![0xFF, 0, 0, 0, 0, 0xFF],
        };
        let bmp = fb.to_bmp().unwrap();
        assert_eq!(bmp.len(), 54 + 8);
        assert_eq!(&bmp[..2], b"BM");
        assert_eq!(u32::from_le_bytes(bmp[2..6].try_into().unwrap()), 62);
        assert_eq!(u32::from_le_bytes(bmp[10..14].try_into().unwrap()), 54);
        assert_eq!(i32::from_le_bytes(bmp[18..22].try_into().unwrap()), 1);
        assert_eq!(i32::from_le_bytes(bmp[22..26].try_into().unwrap()), 2);
        assert_eq!(u16::from_le_bytes(bmp[28..30].try_into().unwrap()), 24);
        assert_eq!(&bmp[54..], &[0xFF, 0, 0, 0, 0, 0, 0xFF, 0]);
        // Too few pixels for the dimensions: no file, no panic.
        let short = Framebuffer {
            width: 4,
            height: 4,
            rgb: vec![0; 5],
        };
        assert_eq!(short.to_bmp(), None);
    }

    /// Seen while writing the rdp fuzz target: a compressed 65535×65535 rectangle of a few
    /// bytes asked for a 12.9 GB buffer before reading them (and its size overflowed
    /// `usize` on wasm32). Past MAX_RECT_PIXELS it is refused first.
    #[test]
    fn a_huge_rectangle_from_the_wire_is_refused_before_any_allocation() {
        for compressed in [true, false] {
            let rect = BitmapRect {
                left: 0,
                top: 0,
                right: 0,
                bottom: 0,
                width: u16::MAX,
                height: u16::MAX,
                bpp: 24,
                compressed,
                data: vec![0xF0, 0xFF, 0xFF, 0xFF, 0xFF],
            };
            assert_eq!(decode(&rect).unwrap_err().kind, ErrorKind::BitmapSize);
            let mut fb = Framebuffer::new(8, 8);
            assert!(fb.draw(&rect).is_err());
        }
        assert_eq!(
            rle::decompress(&[0xF0, 0xFF, 0xFF, 0xFF, 0xFF], 65535, 65535, 24)
                .unwrap_err()
                .kind,
            ErrorKind::BitmapSize
        );
        // At the bound itself the size is allowed (the data then decides).
        assert!(rect_bytes(2048, 2048, 4).is_some());
        assert!(rect_bytes(2049, 2048, 4).is_none());
    }

    #[test]
    fn uncompressed_rows_are_bottom_up_and_padded() {
        // 1x2 at 16 bpp: each row is 2 pixel bytes + 2 padding. Bottom row red, top blue.
        let rect = BitmapRect {
            left: 0,
            top: 0,
            right: 0,
            bottom: 1,
            width: 1,
            height: 2,
            bpp: 16,
            compressed: false,
            data: vec![0x00, 0xF8, 0, 0, 0x1F, 0x00, 0, 0],
        };
        let mut fb = Framebuffer::new(2, 2);
        fb.draw(&rect).unwrap();
        assert_eq!(&fb.rgb[0..3], &[0, 0, 255]);
        assert_eq!(&fb.rgb[6..9], &[255, 0, 0]);
    }

    #[test]
    fn a_bitmap_whose_size_does_not_match_its_dimensions_is_an_error() {
        let rect = BitmapRect {
            left: 0,
            top: 0,
            right: 3,
            bottom: 3,
            width: 4,
            height: 4,
            bpp: 16,
            compressed: false,
            data: vec![0; 31],
        };
        assert_eq!(decode(&rect).unwrap_err().kind, ErrorKind::BitmapSize);
        let mut fb = Framebuffer::new(2, 2);
        let big = BitmapRect {
            data: vec![0; 32],
            ..rect
        };
        assert_eq!(fb.draw(&big).unwrap_err().kind, ErrorKind::BitmapSize);
    }

    #[test]
    fn rle_that_overruns_its_dimensions_is_an_error() {
        // A colour run of 100 pixels into a 4x1 bitmap.
        assert!(rle::decompress(&[0xF3, 100, 0, 1, 2], 4, 1, 16).is_err());
        // A colour run of 4: exactly right.
        let out = rle::decompress(&[0x64, 0x34, 0x12], 4, 1, 16).unwrap();
        assert_eq!(out, [0x34, 0x12].repeat(4));
    }
}
