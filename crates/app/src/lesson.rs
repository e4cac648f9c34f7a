//! Lessons: a list of stops (a view of a scenario — parameters, seed, step, an
//! optional step range and quiz — with a note in English and Japanese) that a
//! teacher plays through with the stepping keys. Pure: no DOM here.
//!
//! A lesson is kept as text, one line per item, its fields separated by a tab
//! (tabs, line breaks and backslashes in a field escaped as `\t`, `\n`, `\\`):
//! the line `cipherstage-lesson 1`; `title`, the English title, the Japanese
//! title; then per stop `stop`, its view, `1` or `0` (quiz), the English note and
//! the Japanese note — `stop⇥s=tls13&seed=1&at=5⇥1⇥A note⇥メモ`, ⇥ a tab.
//!
//! A stop's view is the query string a link to it would carry (see `url.rs`), so
//! opening a stop is opening a link, stale parts and all. That text is the file a
//! teacher saves; a share link carries it deflated in the URL's fragment (never
//! sent to a server). Reading is bounded: at most [`MAX_STOPS`] stops, notes of
//! [`MAX_NOTE`] bytes, [`MAX_TEXT`] bytes in all.

use crate::i18n::Lang;
use crate::url::UrlState;

/// The first line of a lesson file.
pub const MAGIC: &str = "cipherstage-lesson 1";
/// Most stops a lesson may have.
pub const MAX_STOPS: usize = 100;
/// Longest note (bytes, per language) and longest title.
pub const MAX_NOTE: usize = 2000;
/// Longest lesson text read (bytes).
pub const MAX_TEXT: usize = 256 * 1024;
/// Longest stop view (a query string).
const MAX_QUERY: usize = 2048;

/// A note: a catalogue key (the shipped lessons) or the teacher's own words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// Text from the catalogue, in the page's language.
    Key(&'static str),
    /// A teacher's note: English and Japanese (either may be empty).
    Text { en: String, ja: String },
}

impl Note {
    /// The note in `lang`, falling back to the other language's text.
    pub fn text(&self, lang: Lang) -> String {
        match self {
            Note::Key(k) => crate::i18n::tr(lang, k),
            Note::Text { en, ja } => {
                let (first, second) = match lang {
                    Lang::Ja => (ja, en),
                    Lang::En => (en, ja),
                };
                if first.trim().is_empty() {
                    second.clone()
                } else {
                    first.clone()
                }
            }
        }
    }

    /// The note as text in both languages (a shipped note's other language is its
    /// catalogue text if that catalogue is loaded, else left empty).
    fn into_text(self) -> (String, String) {
        match self {
            Note::Text { en, ja } => (en, ja),
            Note::Key(k) => {
                let get = |l| {
                    if crate::i18n::has(l, k) {
                        crate::i18n::tr(l, k)
                    } else {
                        String::new()
                    }
                };
                (get(Lang::En), get(Lang::Ja))
            }
        }
    }
}

/// One stop of a lesson.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stop {
    /// The view, as a link's query string (`s=tls13&seed=1&at=5`).
    pub query: String,
    /// Quiz mode on at this stop.
    pub quiz: bool,
    /// What the teacher says here.
    pub note: Note,
}

impl Stop {
    /// The view as a link would ask for it.
    pub fn url(&self) -> UrlState {
        UrlState::from_pairs(query_pairs(&self.query))
    }

    /// The scenario this stop opens.
    pub fn scenario(&self) -> Option<String> {
        self.url().scenario
    }
}

/// A lesson.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lesson {
    /// Which shipped lesson this is (`None`: the teacher's own).
    pub shipped: Option<&'static str>,
    /// Its title.
    pub title: Note,
    /// Its stops, in order.
    pub stops: Vec<Stop>,
}

/// Why a lesson text was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LessonError {
    /// It does not start with [`MAGIC`].
    NotALesson,
    /// Longer than [`MAX_TEXT`], more than [`MAX_STOPS`] stops, or a field too long.
    TooLong,
    /// A line that is neither a title nor a stop, or a stop without a scenario.
    Malformed,
    /// No stops.
    Empty,
}

impl LessonError {
    /// Catalogue key of the message.
    pub fn key(self) -> &'static str {
        match self {
            LessonError::NotALesson => "ui.lesson.error.not_a_lesson",
            LessonError::TooLong => "ui.lesson.error.too_long",
            LessonError::Malformed => "ui.lesson.error.malformed",
            LessonError::Empty => "ui.lesson.error.empty",
        }
    }
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// A query string's pairs, percent- and plus-decoded (the way a browser reads one).
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    let decode = |s: &str| -> String {
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while let Some(&b) = bytes.get(i) {
            let hex = |j: usize| bytes.get(j).and_then(|c| (*c as char).to_digit(16));
            match b {
                b'+' => out.push(b' '),
                b'%' => match (hex(i + 1), hex(i + 2)) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => out.push(b),
                },
                _ => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    query
        .trim_start_matches('?')
        .split('&')
        .filter(|p| !p.is_empty())
        .take(64)
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(p), String::new()),
        })
        .collect()
}

/// A view as the query string a stop keeps: its scenario, parameters, seed, step
/// and range, and nothing of the page around it (language, theme, presenter).
pub fn stop_query(u: &UrlState) -> String {
    let keep = UrlState {
        scenario: u.scenario.clone(),
        seed: u.seed.clone(),
        at: u.at.clone(),
        params: u.params.clone(),
        eve: u.eve,
        from: u.from.clone(),
        to: u.to.clone(),
        ..UrlState::default()
    };
    let enc = |s: &str| {
        let mut out = String::new();
        for b in s.bytes() {
            if b.is_ascii_alphanumeric() || b"-_.~:,".contains(&b) {
                out.push(b as char);
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        out
    };
    keep.to_pairs()
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

impl Lesson {
    /// The lesson as the text of its file (shipped notes become text).
    pub fn to_text(&self) -> String {
        let mut out = String::from(MAGIC);
        out.push('\n');
        let (en, ja) = self.title.clone().into_text();
        out.push_str(&format!("title\t{}\t{}\n", escape(&en), escape(&ja)));
        for s in &self.stops {
            let (en, ja) = s.note.clone().into_text();
            out.push_str(&format!(
                "stop\t{}\t{}\t{}\t{}\n",
                escape(&s.query),
                u8::from(s.quiz),
                escape(&en),
                escape(&ja)
            ));
        }
        out
    }

    /// Reads a lesson file's text (bounded; a `\r\n` file is read too).
    pub fn from_text(text: &str) -> Result<Lesson, LessonError> {
        if text.len() > MAX_TEXT {
            return Err(LessonError::TooLong);
        }
        let text = text.trim_start_matches('\u{feff}');
        let mut lines = text.lines();
        if lines.next().map(str::trim_end) != Some(MAGIC) {
            return Err(LessonError::NotALesson);
        }
        let mut lesson = Lesson {
            shipped: None,
            title: Note::Text {
                en: String::new(),
                ja: String::new(),
            },
            stops: Vec::new(),
        };
        for line in lines {
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() {
                continue;
            }
            let fields: Vec<&str> = line.split('\t').collect();
            let field = |i: usize| fields.get(i).map(|f| unescape(f)).unwrap_or_default();
            let long = |s: &str| s.len() > MAX_NOTE;
            match fields.first().copied() {
                Some("title") => {
                    let (en, ja) = (field(1), field(2));
                    if long(&en) || long(&ja) {
                        return Err(LessonError::TooLong);
                    }
                    lesson.title = Note::Text { en, ja };
                }
                Some("stop") => {
                    if lesson.stops.len() >= MAX_STOPS {
                        return Err(LessonError::TooLong);
                    }
                    let (query, en, ja) = (field(1), field(3), field(4));
                    if query.len() > MAX_QUERY || long(&en) || long(&ja) {
                        return Err(LessonError::TooLong);
                    }
                    let stop = Stop {
                        query,
                        quiz: field(2) == "1",
                        note: Note::Text { en, ja },
                    };
                    if stop.scenario().is_none() {
                        return Err(LessonError::Malformed);
                    }
                    lesson.stops.push(stop);
                }
                _ => return Err(LessonError::Malformed),
            }
        }
        if lesson.stops.is_empty() {
            return Err(LessonError::Empty);
        }
        Ok(lesson)
    }

    /// A copy the teacher can change: the shipped notes become text.
    pub fn editable(&self) -> Lesson {
        let text = |n: &Note| {
            let (en, ja) = n.clone().into_text();
            Note::Text { en, ja }
        };
        Lesson {
            shipped: None,
            title: text(&self.title),
            stops: self
                .stops
                .iter()
                .map(|s| Stop {
                    note: text(&s.note),
                    ..s.clone()
                })
                .collect(),
        }
    }

    /// The name of its file: `<title>-lesson.txt`, the title cut to letters,
    /// digits and hyphens (`lesson.txt` when nothing is left).
    pub fn file_name(&self, lang: Lang) -> String {
        let title = self.title.text(lang);
        let mut name = String::new();
        for c in title.chars().take(40) {
            if c.is_alphanumeric() {
                name.extend(c.to_lowercase());
            } else if !name.ends_with('-') && !name.is_empty() {
                name.push('-');
            }
        }
        let name = name.trim_end_matches('-');
        if name.is_empty() {
            "lesson.txt".to_owned()
        } else {
            format!("{name}-lesson.txt")
        }
    }
}

/// A shipped lesson's stop: the view and the catalogue key of its note.
fn shipped_stop(query: &str, quiz: bool, note: &'static str) -> Stop {
    Stop {
        query: query.to_owned(),
        quiz,
        note: Note::Key(note),
    }
}

/// The shipped lessons' ids, in the order the map lists them.
pub const SHIPPED: [&str; 3] = ["application", "transport", "network"];

/// A shipped lesson: the seed's three layers, over the scenarios that exist.
pub fn shipped(id: &str) -> Option<Lesson> {
    let (key, stops): (&'static str, Vec<Stop>) = match id {
        "application" => (
            "ui.lesson.application.title",
            vec![
                shipped_stop("s=smime-signed&seed=1", false, "ui.lesson.application.1"),
                shipped_stop("s=smime-encrypted&seed=1", false, "ui.lesson.application.2"),
                shipped_stop("s=ssh-pubkey&seed=1", true, "ui.lesson.application.3"),
                shipped_stop("s=ssh-bastion&seed=1", false, "ui.lesson.application.4"),
                shipped_stop("s=sftp-upload&seed=1", false, "ui.lesson.application.5"),
                shipped_stop("s=rdp-direct&seed=1", false, "ui.lesson.application.6"),
            ],
        ),
        "transport" => (
            "ui.lesson.transport.title",
            vec![
                shipped_stop("s=hybrid&seed=1", false, "ui.lesson.transport.1"),
                shipped_stop("s=tls13&seed=1", true, "ui.lesson.transport.2"),
                shipped_stop("s=tls-sni-default&seed=1", false, "ui.lesson.transport.3"),
                shipped_stop("s=mtls&seed=1", false, "ui.lesson.transport.4"),
                shipped_stop("s=tls-wrong-host&seed=1", false, "ui.lesson.transport.5"),
            ],
        ),
        "network" => (
            "ui.lesson.network.title",
            vec![
                shipped_stop("s=ipsec-transport&seed=1", false, "ui.lesson.network.1"),
                shipped_stop("s=ipsec-tunnel&seed=1", false, "ui.lesson.network.2"),
                shipped_stop("s=ikev2-remote-access&seed=1", false, "ui.lesson.network.3"),
                shipped_stop("s=vpn-openvpn&seed=1", false, "ui.lesson.network.4"),
            ],
        ),
        _ => return None,
    };
    let shipped = SHIPPED.iter().copied().find(|s| *s == id);
    Some(Lesson {
        shipped,
        title: Note::Key(key),
        stops,
    })
}

/// Base64url without padding (the share link's alphabet).
pub fn b64url(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            let idx = ((n >> (18 - 6 * i)) & 63) as usize;
            out.push(A.get(idx).copied().unwrap_or(b'A') as char);
        }
    }
    out
}

/// Reads base64url (padding and line breaks ignored); `None` on any other byte.
pub fn from_b64url(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            b'=' | b'\n' | b'\r' => continue,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// The fragment's `lesson=` and `stop=` values (`#lesson=transport&stop=2`).
pub fn from_fragment(hash: &str) -> (Option<String>, Option<usize>) {
    let mut lesson = None;
    let mut stop = None;
    for (k, v) in query_pairs(hash.trim_start_matches('#')) {
        match k.as_str() {
            "lesson" if v.len() <= MAX_TEXT => lesson = Some(v),
            "stop" => stop = v.parse::<usize>().ok().filter(|n| *n >= 1).map(|n| n - 1),
            _ => {}
        }
    }
    (lesson, stop)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mine() -> Lesson {
        Lesson {
            shipped: None,
            title: Note::Text {
                en: "Week 3: TLS".into(),
                ja: "第3週 TLS".into(),
            },
            stops: vec![
                Stop {
                    query: "s=tls13&seed=7&at=5".into(),
                    quiz: true,
                    note: Note::Text {
                        en: "Look at the\tkey share.\nThen\\the rest.".into(),
                        ja: "鍵共有を見る".into(),
                    },
                },
                Stop {
                    query: "s=mtls&p.client_cert=none&seed=1".into(),
                    quiz: false,
                    note: Note::Text {
                        en: String::new(),
                        ja: "証明書なし".into(),
                    },
                },
            ],
        }
    }

    #[test]
    fn a_lesson_round_trips_through_its_text() {
        let l = mine();
        let text = l.to_text();
        assert!(text.starts_with("cipherstage-lesson 1\ntitle\tWeek 3: TLS\t第3週 TLS\n"));
        assert_eq!(Lesson::from_text(&text), Ok(l.clone()));
        assert_eq!(
            Lesson::from_text(&text.replace('\n', "\r\n")),
            Ok(l.clone())
        );
        assert_eq!(Lesson::from_text(&format!("\u{feff}{text}")), Ok(l));
    }

    #[test]
    fn a_note_falls_back_to_the_other_language() {
        let l = mine();
        assert_eq!(l.stops[1].note.text(Lang::En), "証明書なし");
        assert_eq!(l.stops[1].note.text(Lang::Ja), "証明書なし");
        assert_eq!(l.stops[0].note.text(Lang::Ja), "鍵共有を見る");
    }

    #[test]
    fn bad_lesson_texts_are_refused_with_a_reason() {
        assert_eq!(Lesson::from_text("hello"), Err(LessonError::NotALesson));
        assert_eq!(Lesson::from_text(MAGIC), Err(LessonError::Empty));
        assert_eq!(
            Lesson::from_text(&format!("{MAGIC}\nslide\tx")),
            Err(LessonError::Malformed)
        );
        assert_eq!(
            Lesson::from_text(&format!("{MAGIC}\nstop\tseed=1\t0\ta\tb")),
            Err(LessonError::Malformed),
            "a stop without a scenario"
        );
        let many = format!(
            "{MAGIC}\n{}",
            "stop\ts=tls13\t0\t\t\n".repeat(MAX_STOPS + 1)
        );
        assert_eq!(Lesson::from_text(&many), Err(LessonError::TooLong));
        let long = format!("{MAGIC}\nstop\ts=tls13\t0\t{}\t", "a".repeat(MAX_NOTE + 1));
        assert_eq!(Lesson::from_text(&long), Err(LessonError::TooLong));
        assert_eq!(
            Lesson::from_text(&"x".repeat(MAX_TEXT + 1)),
            Err(LessonError::TooLong)
        );
    }

    #[test]
    fn a_stop_keeps_the_view_and_not_the_page_around_it() {
        let u = UrlState::from_pairs(query_pairs(
            "s=tls13&p.suite=TLS_AES_256_GCM_SHA384&seed=live&at=4&lang=ja&present=1&theme=dark",
        ));
        let q = stop_query(&u);
        assert_eq!(q, "s=tls13&p.suite=TLS_AES_256_GCM_SHA384&seed=live&at=4");
        let back = UrlState::from_pairs(query_pairs(&q));
        assert_eq!(back.scenario.as_deref(), Some("tls13"));
        assert_eq!(back.at.as_deref(), Some("4"));
        assert_eq!(back.lang, None);
        let odd = UrlState::from_pairs(vec![("s".into(), "a b&c=d".into())]);
        assert_eq!(
            UrlState::from_pairs(query_pairs(&stop_query(&odd)))
                .scenario
                .as_deref(),
            Some("a b&c=d")
        );
    }

    #[test]
    fn base64url_round_trips_and_refuses_other_bytes() {
        for n in 0..70u8 {
            let bytes: Vec<u8> = (0..n).map(|i| i.wrapping_mul(37)).collect();
            assert_eq!(from_b64url(&b64url(&bytes)), Some(bytes));
        }
        assert_eq!(b64url(b"\xfb\xff"), "-_8");
        assert_eq!(from_b64url("ab$c"), None);
    }

    #[test]
    fn the_fragment_names_a_lesson_and_a_stop_counted_from_one() {
        assert_eq!(
            from_fragment("#lesson=transport&stop=2"),
            (Some("transport".into()), Some(1))
        );
        assert_eq!(from_fragment("#stop=0"), (None, None));
        assert_eq!(from_fragment(""), (None, None));
    }

    #[test]
    fn every_shipped_lesson_opens_scenarios_that_exist() {
        for id in SHIPPED {
            let l = shipped(id).expect("shipped");
            assert!(l.stops.len() >= 4, "{id}");
            for s in &l.stops {
                let sc = s.scenario().expect("scenario");
                assert!(cipherstage_scenarios::find(&sc).is_some(), "{id}: {sc}");
            }
        }
        assert!(shipped("nope").is_none());
    }
}
