//! A picture a run made, drawn at the step whose narration names it: the RDP
//! desktop as the laptop decoded and drew the bitmaps the desktop sent. The
//! worker computes the file (a bitmap image) in the same run as the transcript;
//! the narration's `picture` argument names it. This links no core: it only
//! shows the file's bytes as an image.

use std::rc::Rc;

use cipherstage_scenarios::wire::File;
use yew::prelude::*;

/// The longest picture file shown (a 1920×1200 24-bit bitmap and its headers).
pub const MAX_PICTURE: usize = 1920 * 1200 * 3 + 54;

/// The image file a narration names with its `picture` argument, if this run made it.
pub fn named<'a>(args: &[(String, String)], files: &'a [File]) -> Option<&'a File> {
    let (_, name) = args.iter().find(|(k, _)| k == "picture")?;
    files
        .iter()
        .find(|f| &f.name == name && f.mime.starts_with("image/") && f.bytes.len() <= MAX_PICTURE)
}

/// Standard base64 with padding (RFC 4648 §4), for a `data:` address (the page's
/// CSP allows images from `data:`).
pub fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let sym = |v: u32| char::from(A.get((v & 63) as usize).copied().unwrap_or(b'A'));
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let b = |i: usize| u32::from(c.get(i).copied().unwrap_or(0));
        let n = (b(0) << 16) | (b(1) << 8) | b(2);
        out.push(sym(n >> 18));
        out.push(sym(n >> 12));
        out.push(if c.len() > 1 { sym(n >> 6) } else { '=' });
        out.push(if c.len() > 2 { sym(n) } else { '=' });
    }
    out
}

/// Props of [`Picture`].
#[derive(Properties, PartialEq)]
pub struct PictureProps {
    /// The run's files.
    pub files: Rc<Vec<File>>,
    /// The picture's file name.
    pub name: AttrValue,
    /// What it shows, in words (the narration).
    pub alt: AttrValue,
}

/// The picture, scaled up without smoothing so each desktop pixel stays a square.
#[component]
pub fn Picture(p: &PictureProps) -> Html {
    let src = use_memo((p.files.clone(), p.name.clone()), |(files, name)| {
        files
            .iter()
            .find(|f| f.name == name.as_str())
            .map(|f| format!("data:{};base64,{}", f.mime, base64(&f.bytes)))
    });
    let Some(src) = (*src).clone() else {
        return html! {};
    };
    html! {
        <figure class="run-picture" id="run-picture">
            <img src={src} alt={p.alt.clone()} data-name={p.name.clone()} />
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_is_rfc_4648s_test_vectors() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }

    #[test]
    fn only_an_image_file_of_this_run_named_by_the_narration_is_shown() {
        let file = |name: &str, mime: &str| File {
            name: name.into(),
            mime: mime.into(),
            label: "rdp.export.desktop".into(),
            bytes: b"BM".to_vec(),
        };
        let files = vec![
            file("a.pcapng", "application/vnd.tcpdump.pcap"),
            file("d.bmp", "image/bmp"),
        ];
        let args = |v: &str| vec![("picture".to_owned(), v.to_owned())];
        assert_eq!(
            named(&args("d.bmp"), &files).map(|f| f.name.as_str()),
            Some("d.bmp")
        );
        assert!(named(&args("a.pcapng"), &files).is_none());
        assert!(named(&args("other.bmp"), &files).is_none());
        assert!(named(&[], &files).is_none());
    }
}
