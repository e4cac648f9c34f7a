//! The address bar holds the view: scenario, parameters, seed, step, language,
//! so a teacher's link reopens the same moment on any machine.
//!
//! Query keys: `s` scenario id, `seed` number or `live`, `at` the step as the
//! screen counts it (1 = the first), `lang` `en`/`ja`, `p.NAME` scenario
//! parameters, `eve=1` eavesdropper view, `embed` compact layout, `present=1`,
//! `theme`; for embeds, `from`/`to` a step range (1-based, inclusive) the view
//! stays in, `hide` panes to leave out (`title`, `controls`, `diagram`, `detail`,
//! comma-separated) and `play=1` to start playing; `handout=1` the printable
//! handout; `quiz=1`, `compare`/`cseed`; `speaker=1` a lesson's speaker view.
//! Links made before `at` carry `step`, the event index counted from 0
//! (`step=5` is `at=6`): they are still read, and open the step they opened then.
//! Any other key is kept as unknown, so the app can say what it dropped.
//! Parsing here is pure; the browser glue is in `web.rs`.

use crate::i18n::Lang;

/// What the query string asked for, before validation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UrlState {
    /// `s`.
    pub scenario: Option<String>,
    /// `seed`, as written.
    pub seed: Option<String>,
    /// `step`, as written: the old, 0-based event index (read, never written).
    pub step: Option<String>,
    /// `at`, as written: the step as the screen counts it, from 1.
    pub at: Option<String>,
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
    /// `from`, as written: the first step of the range the view stays in (from 1).
    pub from: Option<String>,
    /// `to`, as written: the last step of that range (from 1, inclusive).
    pub to: Option<String>,
    /// `hide`: the panes an embed leaves out, as written (comma-separated).
    pub hide: Vec<String>,
    /// `play=1`: start playing once the run is shown.
    pub play: bool,
    /// `handout=1`: the printable handout of the run.
    pub handout: bool,
    /// `quiz=1`: quiz mode (a question before each step that sends something).
    pub quiz: bool,
    /// `compare`: the scenario shown side by side with this one.
    pub compare: Option<String>,
    /// `cseed`: the seed of that other run (a number; absent: the default seed).
    pub cseed: Option<String>,
    /// `speaker=1`: this window is a lesson's speaker view (the lesson is in the
    /// fragment, see `lesson.rs`).
    pub speaker: bool,
    /// Keys this version does not know (neither ours nor `p.NAME`), as written.
    pub unknown: Vec<String>,
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
                "at" => u.at = Some(v),
                "lang" => u.lang = Lang::from_code(&v),
                "eve" => u.eve = v == "1",
                "embed" => u.embed = true,
                "present" => u.present = v == "1",
                "theme" => u.theme = Some(v),
                "from" => u.from = Some(v),
                "to" => u.to = Some(v),
                "hide" => {
                    u.hide = v
                        .split(',')
                        .map(str::trim)
                        .filter(|p| !p.is_empty())
                        .take(8)
                        .map(|p| p.chars().take(40).collect())
                        .collect()
                }
                "play" => u.play = v == "1",
                "handout" => u.handout = v == "1",
                "quiz" => u.quiz = v == "1",
                "compare" => u.compare = Some(v),
                "cseed" => u.cseed = Some(v),
                "speaker" => u.speaker = v == "1",
                _ => {
                    if let Some(name) = k.strip_prefix("p.") {
                        u.params.push((name.to_owned(), v));
                    } else if !k.is_empty() && u.unknown.len() < 8 {
                        u.unknown.push(k.chars().take(40).collect());
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
        if let Some(at) = &self.at {
            out.push(("at".into(), at.clone()));
        } else if let Some(step) = &self.step {
            out.push(("step".into(), step.clone()));
        }
        if let Some(from) = &self.from {
            out.push(("from".into(), from.clone()));
        }
        if let Some(to) = &self.to {
            out.push(("to".into(), to.clone()));
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
        if !self.hide.is_empty() {
            out.push(("hide".into(), self.hide.join(",")));
        }
        if self.play {
            out.push(("play".into(), "1".into()));
        }
        if self.handout {
            out.push(("handout".into(), "1".into()));
        }
        if self.quiz {
            out.push(("quiz".into(), "1".into()));
        }
        if let Some(c) = &self.compare {
            out.push(("compare".into(), c.clone()));
        }
        if let Some(c) = &self.cseed {
            out.push(("cseed".into(), c.clone()));
        }
        if self.speaker {
            out.push(("speaker".into(), "1".into()));
        }
        if self.embed {
            out.push(("embed".into(), String::new()));
        }
        out
    }
}

/// The event index a URL asks for: `at` counts from 1 as the screen does, the old
/// `step` from 0. `Err` carries the text that names no step.
pub fn step_index(u: &UrlState) -> Option<Result<usize, String>> {
    if let Some(at) = &u.at {
        return Some(
            at.parse::<usize>()
                .ok()
                .and_then(|n| n.checked_sub(1))
                .ok_or_else(|| format!("at={at}")),
        );
    }
    let step = u.step.as_ref()?;
    Some(step.parse::<usize>().map_err(|_| format!("step={step}")))
}

/// The step range a URL asks for, as 0-based event indexes `(first, last)`:
/// `from` and `to` count from 1 as the screen does, either may be left out
/// (from the first step, to the last). `Err` carries the text that names no range.
pub fn step_range(u: &UrlState) -> Option<Result<(usize, usize), String>> {
    if u.from.is_none() && u.to.is_none() {
        return None;
    }
    let asked = || {
        [("from", &u.from), ("to", &u.to)]
            .iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
            .collect::<Vec<_>>()
            .join("&")
    };
    let one = |v: &Option<String>, default: usize| match v {
        None => Some(default),
        Some(v) => v.parse::<usize>().ok().and_then(|n| n.checked_sub(1)),
    };
    match (one(&u.from, 0), one(&u.to, usize::MAX)) {
        (Some(a), Some(b)) if a <= b => Some(Ok((a, b))),
        _ => Some(Err(asked())),
    }
}

/// The panes an embed can leave out.
pub const PANES: [&str; 4] = ["title", "controls", "diagram", "detail"];

/// A seed as written in a URL: a decimal u64 or `live`.
pub fn parse_seed(text: &str) -> Option<Option<u64>> {
    if text == "live" {
        return Some(None);
    }
    text.parse::<u64>().ok().map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(pairs: &[(&str, &str)]) -> UrlState {
        UrlState::from_pairs(pairs.iter().map(|(k, v)| ((*k).into(), (*v).into())))
    }

    #[test]
    fn an_old_step_link_and_a_new_at_link_name_the_same_step() {
        assert_eq!(step_index(&url(&[("step", "5")])), Some(Ok(5)));
        assert_eq!(step_index(&url(&[("at", "6")])), Some(Ok(5)));
        assert_eq!(step_index(&url(&[("at", "0")])), Some(Err("at=0".into())));
        assert_eq!(step_index(&url(&[])), None);
    }

    #[test]
    fn a_step_range_counts_from_one_and_either_end_may_be_left_out() {
        assert_eq!(step_range(&url(&[])), None);
        assert_eq!(
            step_range(&url(&[("from", "3"), ("to", "5")])),
            Some(Ok((2, 4)))
        );
        assert_eq!(
            step_range(&url(&[("from", "3")])),
            Some(Ok((2, usize::MAX)))
        );
        assert_eq!(step_range(&url(&[("to", "2")])), Some(Ok((0, 1))));
        assert_eq!(
            step_range(&url(&[("from", "5"), ("to", "3")])),
            Some(Err("from=5&to=3".into()))
        );
        assert_eq!(
            step_range(&url(&[("from", "0")])),
            Some(Err("from=0".into()))
        );
        assert_eq!(step_range(&url(&[("to", "x")])), Some(Err("to=x".into())));
    }

    #[test]
    fn embed_keys_round_trip() {
        let u = url(&[
            ("s", "tls13"),
            ("from", "2"),
            ("to", "9"),
            ("hide", "diagram, title,,"),
            ("play", "1"),
            ("embed", ""),
        ]);
        assert_eq!(u.hide, vec!["diagram".to_owned(), "title".to_owned()]);
        assert!(u.play && u.embed && u.unknown.is_empty());
        let again = UrlState::from_pairs(u.to_pairs());
        assert_eq!(again, u);
    }

    #[test]
    fn unknown_keys_are_kept_to_be_named() {
        let u = url(&[("s", "hybrid"), ("zoom", "2"), ("p.text", "x")]);
        assert_eq!(u.unknown, vec!["zoom".to_owned()]);
        assert_eq!(u.params, vec![("text".to_owned(), "x".to_owned())]);
    }
}
