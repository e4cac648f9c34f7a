//! The address bar holds the view: scenario, parameters, seed, step, language,
//! so a teacher's link reopens the same moment on any machine.
//!
//! Query keys: `s` scenario id, `seed` number or `live`, `step` event index,
//! `lang` `en`/`ja`, `p.NAME` scenario parameters, `eve=1` eavesdropper view,
//! `embed` compact layout. Parsing here is pure; the browser glue is in `lib.rs`.

use crate::i18n::Lang;

/// What the query string asked for, before validation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UrlState {
    /// `s`.
    pub scenario: Option<String>,
    /// `seed`, as written.
    pub seed: Option<String>,
    /// `step`, as written.
    pub step: Option<String>,
    /// `lang`, if it names one of ours.
    pub lang: Option<Lang>,
    /// `p.NAME` values.
    pub params: Vec<(String, String)>,
    /// `eve=1`.
    pub eve: bool,
    /// `embed` present.
    pub embed: bool,
    /// `present=1`: presenter mode.
    pub present: bool,
    /// `theme`, as written (`light`, `dark`, `projector`).
    pub theme: Option<String>,
}

/// Longest value we keep from a URL pair; longer ones are cut (never trusted to be small).
const MAX_VALUE: usize = 4096;

impl UrlState {
    /// Reads decoded query pairs.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        let mut u = UrlState::default();
        for (k, mut v) in pairs.into_iter().take(64) {
            if v.len() > MAX_VALUE {
                let mut cut = MAX_VALUE;
                while !v.is_char_boundary(cut) {
                    cut -= 1;
                }
                v.truncate(cut);
            }
            match k.as_str() {
                "s" => u.scenario = Some(v),
                "seed" => u.seed = Some(v),
                "step" => u.step = Some(v),
                "lang" => u.lang = Lang::from_code(&v),
                "eve" => u.eve = v == "1",
                "embed" => u.embed = true,
                "present" => u.present = v == "1",
                "theme" => u.theme = Some(v),
                _ => {
                    if let Some(name) = k.strip_prefix("p.") {
                        u.params.push((name.to_owned(), v));
                    }
                }
            }
        }
        u
    }

    /// The pairs to write back, in a stable order.
    pub fn to_pairs(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if let Some(s) = &self.scenario {
            out.push(("s".into(), s.clone()));
        }
        for (n, v) in &self.params {
            out.push((format!("p.{n}"), v.clone()));
        }
        if let Some(seed) = &self.seed {
            out.push(("seed".into(), seed.clone()));
        }
        if let Some(step) = &self.step {
            out.push(("step".into(), step.clone()));
        }
        if let Some(l) = self.lang {
            out.push(("lang".into(), l.code().into()));
        }
        if self.eve {
            out.push(("eve".into(), "1".into()));
        }
        if self.present {
            out.push(("present".into(), "1".into()));
        }
        if let Some(t) = &self.theme {
            out.push(("theme".into(), t.clone()));
        }
        if self.embed {
            out.push(("embed".into(), String::new()));
        }
        out
    }
}

/// A seed as written in a URL: a decimal u64 or `live`.
pub fn parse_seed(text: &str) -> Option<Option<u64>> {
    if text == "live" {
        return Some(None);
    }
    text.parse::<u64>().ok().map(Some)
}
