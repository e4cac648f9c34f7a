//! `cargo xtask zip [OUT]`: the built site (`dist/`, after a release build) as one zip
//! file a teacher can copy to a USB stick, under a folder `cipherstage/` with a
//! README.txt on how to serve it locally. Browsers refuse workers and service
//! workers on `file://`, so opening index.html from the stick does not work: the
//! README says so and gives a one-line local server instead.
//!
//! The zip is written here (deflate from flate2, CRC-32 from flate2), and checked by
//! `cargo xtask test` with an independent reader: Python's `zipfile` extracts it and
//! every file must equal the one in `dist/`.

use std::io::Write as _;
use std::path::Path;

/// The README placed beside the site in the zip.
pub const README: &str = "\
cipherstage — offline copy / オフライン版
=========================================

English
-------
Browsers do not run this site from file:// (they refuse its workers), so serve the
folder on this computer with one command, then open the address it prints:

    python3 -m http.server 8000 --bind 127.0.0.1 --directory cipherstage

    (Windows: py -m http.server 8000 --bind 127.0.0.1 --directory cipherstage)

and open http://127.0.0.1:8000/ . Any static web server works, under any sub-path.
After the first visit the site also works with no network at all.

日本語
------
ブラウザーは file:// からこのサイトを動かしません（ワーカーを拒否するため）。
このコンピューター上で次の 1 行を実行してフォルダーを配信し、表示されたアドレスを開いてください。

    python3 -m http.server 8000 --bind 127.0.0.1 --directory cipherstage

    （Windows: py -m http.server 8000 --bind 127.0.0.1 --directory cipherstage）

http://127.0.0.1:8000/ を開きます。どの静的 Web サーバーでも、どのサブパスでも動きます。
一度開いた後は、ネットワークがなくても動きます。
";

struct Entry {
    name: String,
    crc: u32,
    size: u32,
    packed: u32,
    offset: u32,
}

fn le16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}
fn le32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// The zip of `files` (name, bytes): deflated entries, UTF-8 names (flag bit 11),
/// a fixed time stamp so the same build gives the same zip.
pub fn zip(files: &[(String, Vec<u8>)]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut entries = Vec::new();
    let big = |n: usize| u32::try_from(n).map_err(|_| "a file over 4 GB".to_string());
    // 1980-01-01 00:00, DOS format.
    let (time, date) = (0u16, (1 << 5) | 1);
    for (name, data) in files {
        let mut crc = flate2::Crc::new();
        crc.update(data);
        let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(data).map_err(|e| e.to_string())?;
        let packed = enc.finish().map_err(|e| e.to_string())?;
        let e = Entry {
            name: name.clone(),
            crc: crc.sum(),
            size: big(data.len())?,
            packed: big(packed.len())?,
            offset: big(out.len())?,
        };
        le32(&mut out, 0x0403_4b50);
        le16(&mut out, 20);
        le16(&mut out, 1 << 11);
        le16(&mut out, 8);
        le16(&mut out, time);
        le16(&mut out, date);
        le32(&mut out, e.crc);
        le32(&mut out, e.packed);
        le32(&mut out, e.size);
        le16(
            &mut out,
            u16::try_from(name.len()).map_err(|e| e.to_string())?,
        );
        le16(&mut out, 0);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&packed);
        entries.push(e);
    }
    let dir_at = big(out.len())?;
    for e in &entries {
        le32(&mut out, 0x0201_4b50);
        le16(&mut out, 20);
        le16(&mut out, 20);
        le16(&mut out, 1 << 11);
        le16(&mut out, 8);
        le16(&mut out, time);
        le16(&mut out, date);
        le32(&mut out, e.crc);
        le32(&mut out, e.packed);
        le32(&mut out, e.size);
        le16(
            &mut out,
            u16::try_from(e.name.len()).map_err(|e| e.to_string())?,
        );
        le16(&mut out, 0);
        le16(&mut out, 0);
        le16(&mut out, 0);
        le16(&mut out, 0);
        le32(&mut out, 0o100_644 << 16);
        le32(&mut out, e.offset);
        out.extend_from_slice(e.name.as_bytes());
    }
    let dir_len = big(out.len())? - dir_at;
    let n = u16::try_from(entries.len()).map_err(|_| "over 65535 files".to_string())?;
    le32(&mut out, 0x0605_4b50);
    le16(&mut out, 0);
    le16(&mut out, 0);
    le16(&mut out, n);
    le16(&mut out, n);
    le32(&mut out, dir_len);
    le32(&mut out, dir_at);
    le16(&mut out, 0);
    Ok(out)
}

/// Every file of `dist` (flat, as the build writes it) under `cipherstage/`, and the README.
pub fn site(dist: &Path) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut names: Vec<String> = std::fs::read_dir(dist)
        .map_err(|e| format!("{}: {e} (build the site first)", dist.display()))?
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    let mut files = vec![("README.txt".to_owned(), README.as_bytes().to_vec())];
    for n in names {
        let data = std::fs::read(dist.join(&n)).map_err(|e| format!("{n}: {e}"))?;
        files.push((format!("cipherstage/{n}"), data));
    }
    Ok(files)
}

/// Writes the zip of `dist` to `out`; returns the number of files and the zip's size.
pub fn write(dist: &Path, out: &Path) -> Result<(usize, usize), String> {
    let files = site(dist)?;
    let data = zip(&files)?;
    std::fs::write(out, &data).map_err(|e| format!("{}: {e}", out.display()))?;
    Ok((files.len(), data.len()))
}

/// Extracts `zip` with Python's zipfile (an independent reader) into a fresh folder
/// and checks every file equals the one in `dist`, and the README is there.
pub fn check(dist: &Path, zip: &Path) -> Result<usize, String> {
    let tmp = std::env::temp_dir().join(format!("cipherstage-zip-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let status = std::process::Command::new("python3")
        .args(["-m", "zipfile", "-e"])
        .arg(zip)
        .arg(&tmp)
        .status()
        .map_err(|e| format!("python3: {e}"))?;
    if !status.success() {
        return Err(format!("python3 -m zipfile -e failed on {}", zip.display()));
    }
    let files = site(dist)?;
    for (name, data) in &files {
        let got =
            std::fs::read(tmp.join(name)).map_err(|e| format!("{name} not in the zip: {e}"))?;
        if &got != data {
            return Err(format!("{name}: the zip's copy differs from the build's"));
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(files.len())
}
