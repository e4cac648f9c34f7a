//! Pure app state and its reducer: no DOM here, so it is testable natively.

use std::rc::Rc;

use cipherstage_scenarios::{self as scenarios, ExportFile, RunError, ScenarioInfo};
use cipherstage_transcript::{check_coverage, Event, Transcript};
use yew::Reducible;

use crate::i18n::Lang;
use crate::url::{parse_seed, UrlState};

/// Playback speeds, as milliseconds per step.
pub const SPEEDS: [u32; 4] = [2400, 1400, 800, 400];
/// The seed a fresh scenario starts with, so every class sees the same trace.
pub const DEFAULT_SEED: u64 = 1;

/// Colour theme; `Auto` follows the system's light or dark preference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Theme {
    /// Follow `prefers-color-scheme`.
    Auto,
    /// Light.
    Light,
    /// Dark.
    Dark,
    /// High contrast for projectors.
    Projector,
}

impl Theme {
    /// The name kept in the URL and `<html data-theme>`.
    pub fn code(self) -> &'static str {
        match self {
            Theme::Auto => "auto",
            Theme::Light => "light",
            Theme::Dark => "dark",
            Theme::Projector => "projector",
        }
    }

    fn from_code(s: &str) -> Option<Theme> {
        [Theme::Auto, Theme::Light, Theme::Dark, Theme::Projector]
            .into_iter()
            .find(|t| t.code() == s)
    }

    /// The next theme (the T key).
    pub fn next(self) -> Theme {
        match self {
            Theme::Auto => Theme::Light,
            Theme::Light => Theme::Dark,
            Theme::Dark => Theme::Projector,
            Theme::Projector => Theme::Auto,
        }
    }
}

/// A message for the user, as a catalogue key and arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// Catalogue key (`ui.notice.unknown_scenario`).
    pub key: &'static str,
    /// `{name}` arguments.
    pub args: Vec<(String, String)>,
}

impl Notice {
    fn new(key: &'static str, args: &[(&str, String)]) -> Self {
        Notice {
            key,
            args: args
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
        }
    }
}

/// Everything the app shows.
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    /// Display language.
    pub lang: Lang,
    /// The open scenario; `None` shows the picker (or an imported transcript).
    pub scenario: Option<&'static ScenarioInfo>,
    /// Parameter values as the user typed them.
    pub params: Vec<(String, String)>,
    /// `Some` = deterministic, `None` = live randomness.
    pub seed: Option<u64>,
    /// The run being shown.
    pub transcript: Option<Rc<Transcript>>,
    /// The files made from that same run (captures, keys, certificates).
    pub exports: Rc<Vec<ExportFile>>,
    /// Whether the transcript came from a JSON file.
    pub imported: bool,
    /// Index of the current event.
    pub step: usize,
    /// Autoplay on.
    pub playing: bool,
    /// Index into [`SPEEDS`].
    pub speed: usize,
    /// Eavesdropper view.
    pub eve: bool,
    /// Compact embed layout.
    pub embed: bool,
    /// Selected field in the current message, as a path of child indexes.
    pub selected: Option<Vec<usize>>,
    /// A message to show.
    pub notice: Option<Notice>,
    /// Keyboard help overlay.
    pub help: bool,
    /// Presenter mode: full screen, large text, projector colours, chrome hidden.
    pub presenter: bool,
    /// Colour theme.
    pub theme: Theme,
    /// Embed snippet dialog open.
    pub snippet: bool,
    /// The diagram pane shows the key schedule instead of the sequence diagram.
    pub schedule: bool,
}

/// What can happen.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Open a scenario with its defaults.
    Open(&'static str),
    /// Back to the picker.
    Picker,
    /// Change one parameter and re-run.
    SetParam(String, String),
    /// A new seed (`None`: live) and re-run.
    SetSeed(Option<u64>),
    /// Re-run (a live run gets fresh randomness).
    Rerun,
    /// Next step.
    Next,
    /// Previous step.
    Prev,
    /// First step.
    First,
    /// Last step.
    Last,
    /// Jump to a step.
    Goto(usize),
    /// Play or pause.
    TogglePlay,
    /// Timer tick while playing.
    Tick,
    /// Set speed index.
    SetSpeed(usize),
    /// Switch language.
    ToggleLang,
    /// Eavesdropper view on or off.
    ToggleEve,
    /// Select a field of the current message.
    Select(Vec<usize>),
    /// Show a transcript read from JSON text.
    Import(String),
    /// Hide the notice.
    DismissNotice,
    /// Show or hide the keyboard help.
    ToggleHelp,
    /// Presenter mode on or off.
    TogglePresenter,
    /// Next colour theme.
    NextTheme,
    /// Show or hide the embed snippet.
    ToggleSnippet,
    /// Sequence diagram or key schedule.
    ToggleSchedule,
}

impl State {
    /// The state a URL asks for; anything invalid opens the picker with a notice.
    pub fn from_url(u: &UrlState, browser_lang: Lang) -> State {
        let mut s = State {
            lang: u.lang.unwrap_or(browser_lang),
            scenario: None,
            params: Vec::new(),
            seed: Some(DEFAULT_SEED),
            transcript: None,
            exports: Rc::default(),
            imported: false,
            step: 0,
            playing: false,
            speed: 1,
            eve: u.eve,
            embed: u.embed,
            selected: None,
            notice: None,
            help: false,
            presenter: u.present,
            theme: u
                .theme
                .as_deref()
                .and_then(Theme::from_code)
                .unwrap_or(Theme::Auto),
            snippet: false,
            schedule: false,
        };
        let Some(id) = &u.scenario else {
            return s;
        };
        let Some(info) = scenarios::find(id) else {
            s.notice = Some(Notice::new(
                "ui.notice.unknown_scenario",
                &[("id", id.clone())],
            ));
            return s;
        };
        if let Some(text) = &u.seed {
            match parse_seed(text) {
                Some(seed) => s.seed = seed,
                None => {
                    s.notice = Some(Notice::new("ui.notice.bad_seed", &[("seed", text.clone())]));
                    return s;
                }
            }
        }
        s.params = u.params.clone();
        match run(info, &s.params, s.seed) {
            Ok((t, files)) => {
                let last = t.events.len().saturating_sub(1);
                if let Some(text) = &u.step {
                    match text.parse::<usize>() {
                        Ok(n) if n <= last => s.step = n,
                        _ => {
                            s.notice = Some(Notice::new(
                                "ui.notice.bad_step",
                                &[("step", text.clone()), ("max", last.to_string())],
                            ));
                            s.params.clear();
                            return s;
                        }
                    }
                }
                s.scenario = Some(info);
                s.transcript = Some(Rc::new(t));
                s.exports = Rc::new(files);
            }
            Err(n) => {
                s.notice = Some(n);
                s.params.clear();
            }
        }
        s
    }

    /// The URL state this view should be shared as.
    pub fn to_url(&self) -> UrlState {
        UrlState {
            scenario: self.scenario.map(|i| i.id.to_owned()),
            seed: self.scenario.map(|_| match self.seed {
                Some(s) => s.to_string(),
                None => "live".to_owned(),
            }),
            step: self.scenario.map(|_| self.step.to_string()),
            lang: Some(self.lang),
            params: if self.scenario.is_some() {
                self.params.clone()
            } else {
                Vec::new()
            },
            eve: self.eve,
            embed: self.embed,
            present: self.presenter,
            theme: (self.theme != Theme::Auto).then(|| self.theme.code().to_owned()),
        }
    }

    /// Number of steps (events) of the shown run.
    pub fn steps(&self) -> usize {
        self.transcript.as_ref().map_or(0, |t| t.events.len())
    }

    /// The current event.
    pub fn current(&self) -> Option<&Event> {
        self.transcript.as_ref()?.events.get(self.step)
    }

    /// The value of parameter `name` as shown in its editor.
    pub fn param(&self, name: &str) -> String {
        self.params
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .or_else(|| {
                self.scenario?
                    .params
                    .iter()
                    .find(|p| p.name == name)
                    .map(|p| p.default.to_owned())
            })
            .unwrap_or_default()
    }

    fn rerun(&mut self) {
        let Some(info) = self.scenario else { return };
        match run(info, &self.params, self.seed) {
            Ok((t, files)) => {
                self.step = self.step.min(t.events.len().saturating_sub(1));
                self.transcript = Some(Rc::new(t));
                self.exports = Rc::new(files);
                self.selected = None;
                self.notice = None;
            }
            // Keep the last good run on screen; say what is wrong with the input.
            Err(n) => self.notice = Some(n),
        }
    }
}

/// Runs a scenario in this tab (real bytes, computed here) and checks its coverage;
/// the files it offers come from the same run.
fn run(
    info: &ScenarioInfo,
    params: &[(String, String)],
    seed: Option<u64>,
) -> Result<(Transcript, Vec<ExportFile>), Notice> {
    let (t, files) = scenarios::run_with_exports(info.id, params, seed).map_err(|e| match e {
        RunError::UnknownScenario(id) => Notice::new("ui.notice.unknown_scenario", &[("id", id)]),
        RunError::BadParam { name } => Notice::new("ui.notice.bad_param", &[("name", name)]),
    })?;
    check_coverage(&t)
        .map_err(|e| Notice::new("ui.notice.unexplained", &[("offset", e.offset.to_string())]))?;
    Ok((t, files))
}

impl Reducible for State {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut s = (*self).clone();
        let last = s.steps().saturating_sub(1);
        match action {
            Action::Open(id) => {
                let u = UrlState {
                    scenario: Some(id.to_owned()),
                    lang: Some(s.lang),
                    embed: s.embed,
                    eve: s.eve,
                    present: s.presenter,
                    theme: (s.theme != Theme::Auto).then(|| s.theme.code().to_owned()),
                    ..UrlState::default()
                };
                s = State::from_url(&u, s.lang);
            }
            Action::Picker => {
                s.scenario = None;
                s.transcript = None;
                s.exports = Rc::default();
                s.imported = false;
                s.playing = false;
                s.params.clear();
                s.step = 0;
            }
            Action::SetParam(name, value) => {
                s.params.retain(|(n, _)| *n != name);
                s.params.push((name, value));
                s.rerun();
            }
            Action::SetSeed(seed) => {
                s.seed = seed;
                s.rerun();
            }
            Action::Rerun => s.rerun(),
            Action::Next => s.step = (s.step + 1).min(last),
            Action::Prev => s.step = s.step.saturating_sub(1),
            Action::First => s.step = 0,
            Action::Last => s.step = last,
            Action::Goto(n) => s.step = n.min(last),
            Action::TogglePlay => {
                if !s.playing && s.step >= last {
                    s.step = 0;
                }
                s.playing = !s.playing && s.steps() > 0;
            }
            Action::Tick => {
                if s.step >= last {
                    s.playing = false;
                } else {
                    s.step += 1;
                }
            }
            Action::SetSpeed(i) => s.speed = i.min(SPEEDS.len() - 1),
            Action::ToggleLang => s.lang = s.lang.other(),
            Action::ToggleEve => s.eve = !s.eve,
            Action::Select(path) => s.selected = Some(path),
            Action::Import(text) => match Transcript::from_json(&text) {
                Ok(t) => match check_coverage(&t) {
                    Ok(()) => {
                        s.scenario = None;
                        s.exports = Rc::default();
                        s.imported = true;
                        s.step = 0;
                        s.playing = false;
                        s.notice = None;
                        s.transcript = Some(Rc::new(t));
                    }
                    Err(e) => {
                        s.notice = Some(Notice::new(
                            "ui.notice.unexplained",
                            &[("offset", e.offset.to_string())],
                        ))
                    }
                },
                // Line 0: well-formed JSON whose actors or links do not add up.
                Err(e) if e.line == 0 => {
                    s.notice = Some(Notice::new("ui.notice.import_inconsistent", &[]))
                }
                Err(e) => {
                    s.notice = Some(Notice::new(
                        "ui.notice.import_failed",
                        &[
                            ("line", e.line.to_string()),
                            ("column", e.column.to_string()),
                        ],
                    ))
                }
            },
            Action::DismissNotice => s.notice = None,
            Action::ToggleHelp => s.help = !s.help,
            Action::TogglePresenter => s.presenter = !s.presenter,
            Action::NextTheme => s.theme = s.theme.next(),
            Action::ToggleSnippet => s.snippet = !s.snippet,
            Action::ToggleSchedule => s.schedule = !s.schedule,
        }
        if !action_kind_keeps_selection(&s, &self) {
            s.selected = None;
        }
        Rc::new(s)
    }
}

/// A selection belongs to one step of one run; anything else clears it.
fn action_kind_keeps_selection(new: &State, old: &State) -> bool {
    new.step == old.step
        && match (&new.transcript, &old.transcript) {
            (Some(a), Some(b)) => Rc::ptr_eq(a, b),
            // On the map, a selection belongs to the inspected paste.
            (None, None) => true,
            _ => false,
        }
}
