//! Pure app state and its reducer: no DOM here, so it is testable natively.

use std::rc::Rc;

use cipherstage_scenarios::wire::{File, HkdfLabel, Ran, Refusal, Request, Response};
use cipherstage_scenarios::{self as scenarios, ParamKind, ScenarioInfo};
use cipherstage_transcript::{check_coverage, Event, Transcript};

use crate::bridge::Heard;
use yew::Reducible;

use crate::i18n::Lang;
use crate::lesson::{stop_query, Lesson, Note, Stop};
use crate::url::{parse_seed, step_index, step_range, UrlState, PANES};
use cipherstage_transcript::quiz::{self, Question};

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
    /// Items the message lists (what a link asked for and did not get), shown
    /// joined in place of `{what}`.
    pub parts: Vec<Notice>,
}

impl Notice {
    fn new(key: &'static str, args: &[(&str, String)]) -> Self {
        Notice {
            key,
            args: args
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
            parts: Vec::new(),
        }
    }

    /// "This link asked for …, which this scenario does not have": the scenario
    /// opened without them.
    fn dropped(parts: Vec<Notice>) -> Option<Self> {
        (!parts.is_empty()).then(|| Notice {
            parts,
            ..Notice::new("ui.notice.dropped", &[])
        })
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
    pub exports: Rc<Vec<File>>,
    /// The HkdfLabel of each HKDF-Expand-Label secret of that run, from its core.
    pub hkdf_labels: Rc<Vec<HkdfLabel>>,
    /// The run the worker is making, if any (the last good run stays on screen).
    pub pending: Option<Pending>,
    /// Numbers requests, so an answer to a superseded one is ignored.
    pub generation: u64,
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
    /// The steps the view stays in (0-based, inclusive; `to` may pass the run's
    /// end): an embed's `from`/`to`. `None`: the whole run.
    pub range: Option<(usize, usize)>,
    /// The range a link asked for, checked against the run when it arrives.
    pub range_asked: Option<Result<(usize, usize), String>>,
    /// The panes an embed leaves out (names from [`PANES`]).
    pub hidden: Vec<&'static str>,
    /// Start playing once the run is shown (`play=1`).
    pub autoplay: bool,
    /// The printable handout of the run is shown instead of the stage.
    pub handout: bool,
    /// Quiz mode: stepping on to something sent first asks what it will be.
    pub quiz: bool,
    /// The question on screen, and the option picked so far.
    pub asking: Option<(Question, Option<usize>)>,
    /// The last question answered by stepping on: its question and the pick.
    pub verdict: Option<(Question, Option<usize>)>,
    /// Quiz score in this browser: (right, answered); kept in localStorage.
    pub score: (u32, u32),
    /// The run shown side by side with this one: its scenario and seed.
    pub compare: Option<(String, Option<u64>)>,
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
    /// The QR code of the current view is shown.
    pub qr: bool,
    /// The downloads menu or the settings/share panel, when one is open.
    pub menu: Option<Menu>,
    /// The diagram pane shows the key schedule instead of the sequence diagram.
    pub schedule: bool,
    /// The page is full screen (the browser says so; see `fullscreenchange`).
    pub fullscreen: bool,
    /// Presenter mode came from a link, without the key press a browser needs for
    /// full screen: the screen says "press F".
    pub fullscreen_hint: bool,
    /// How many times full screen was asked for by a key or a click (an effect
    /// asks the browser each time this grows; never on load, which would be refused).
    pub fullscreen_asks: u32,
    /// The lesson being played or edited, if any.
    pub lesson: Option<LessonView>,
    /// This window is a lesson's speaker view (notes, next stop, timer).
    pub speaker: bool,
    /// How many times the speaker window was asked for (S); an effect opens it.
    pub speaker_asks: u32,
}

/// A lesson on screen: which stop is shown, and whether the teacher is editing it.
#[derive(Debug, Clone, PartialEq)]
pub struct LessonView {
    /// The lesson.
    pub lesson: Rc<Lesson>,
    /// The current stop.
    pub at: usize,
    /// The editor is open (the stepping keys step inside the run then).
    pub editing: bool,
    /// Grows with every change, so the share link is made again.
    pub revision: u64,
    /// The fragment value of the teacher's own lesson (deflated text), with the
    /// revision it was made from; shipped lessons are named instead.
    pub encoded: Option<(u64, String)>,
    /// Grows when the speaker window asks where the stage is.
    pub announce: u32,
    /// In the speaker window: the stop it last asked the stage to go to, numbered.
    pub go: Option<(u32, usize)>,
}

impl LessonView {
    /// A lesson shown at stop `at`.
    pub fn new(lesson: Rc<Lesson>, at: usize) -> Self {
        let at = at.min(lesson.stops.len().saturating_sub(1));
        LessonView {
            lesson,
            at,
            editing: false,
            revision: 0,
            encoded: None,
            announce: 0,
            go: None,
        }
    }

    /// What the URL's fragment carries: `lesson=…&stop=N` (from 1).
    pub fn fragment(&self) -> Option<String> {
        let value = match self.lesson.shipped {
            Some(id) => id.to_owned(),
            None => self.encoded.as_ref()?.1.clone(),
        };
        Some(format!("lesson={value}&stop={}", self.at + 1))
    }

    fn edit(&mut self, f: impl FnOnce(&mut Lesson)) {
        let mut l = self.lesson.editable();
        f(&mut l);
        self.lesson = Rc::new(l);
        self.revision += 1;
        self.at = self.at.min(self.lesson.stops.len().saturating_sub(1));
    }
}

/// What the lesson editor and player can do.
#[derive(Debug, Clone, PartialEq)]
pub enum LessonAction {
    /// Show this lesson at this stop. `open`: open the stop's view too (not when
    /// the address already shows a view, as after a reload).
    Load(Rc<Lesson>, usize, bool),
    /// A lesson link or file could not be read (a catalogue key).
    Failed(&'static str),
    /// Go to stop `n`.
    Go(usize),
    /// Next or previous stop.
    Step(bool),
    /// The speaker view heard the stage is at stop `n` (shows it; opens nothing).
    Heard(usize),
    /// The speaker view asks where the stage is.
    Announce,
    /// The speaker view asks the stage to go to stop `n`.
    Ask(usize),
    /// Start a new lesson from the current view.
    New,
    /// Add the current view as a stop after the current one.
    AddHere,
    /// Move stop `n` up (`true`) or down.
    Move(usize, bool),
    /// Remove stop `n`.
    Remove(usize),
    /// Set stop `n`'s note in a language.
    Note(usize, Lang, String),
    /// Set the title in a language.
    Title(Lang, String),
    /// Stop `n` stays until step `to` (from 1; `None`: one view).
    Until(usize, Option<usize>),
    /// Quiz mode at stop `n`.
    Quiz(usize, bool),
    /// Open or close the editor.
    ToggleEdit,
    /// The share link's fragment value for revision `r` is ready.
    Encoded(u64, String),
    /// Leave the lesson.
    Leave,
    /// Open the speaker window.
    Speaker,
}

/// The control bar's two folded groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Menu {
    /// Files made from the run: transcript, captures, keys, certificates.
    Downloads,
    /// Seed and live randomness, import, embed.
    Settings,
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
    /// Play (`true`) or pause: the embedding page's `cipherstage:play`/`pause`.
    SetPlaying(bool),
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
    /// Show or hide the QR code of the current view.
    ToggleQr,
    /// The printable handout of the run, or back to the stage.
    ToggleHandout,
    /// Quiz mode on or off.
    ToggleQuiz,
    /// Pick option `n` of the question on screen.
    Answer(usize),
    /// Compare with another run (scenario, seed), or back to the stage.
    SetCompare(Option<(String, Option<u64>)>),
    /// Sequence diagram or key schedule.
    ToggleSchedule,
    /// Open a menu of the control bar, or close it if it is open.
    ToggleMenu(Menu),
    /// Close the open menu.
    CloseMenu,
    /// Escape: closes the top overlay, else the notice, else leaves presenter mode.
    Escape,
    /// The browser entered or left full screen.
    FullscreenChanged(bool),
    /// Leave presenter mode (its visible exit control).
    ExitPresenter,
    /// The worker said something about request `generation`.
    Worker(u64, Heard),
    /// Stop the run in progress (the worker is terminated).
    Cancel,
    /// Lessons: playing, editing, sharing.
    Lesson(LessonAction),
}

/// A run the worker is making for the app.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    /// Which request this is (see [`State::generation`]).
    pub generation: u64,
    /// What was asked.
    pub request: Request,
    /// What the answer is for.
    pub purpose: Purpose,
    /// How far it is: `None` until the worker reports (its module may be loading).
    pub progress: Option<f64>,
    /// The field selected when a flip asked for this run: the new run keeps it, so
    /// the flipped byte stays selected (and focused) on the same step.
    pub keep_selection: Option<Vec<usize>>,
}

/// What a run's answer is for.
#[derive(Debug, Clone, PartialEq)]
pub enum Purpose {
    /// Opening a scenario from a link: a refused value is dropped and named, and
    /// the scenario is asked again without it.
    Open {
        /// What the link asked for and does not get.
        dropped: Vec<Notice>,
        /// The step the link asked for (`at=` 1-based or old `step=`), as parsed.
        step: Option<Result<usize, String>>,
        /// That part of the link as written (`at=40`), for the notice if it is dropped.
        asked: String,
        /// Whether a flip the run could not make was already dropped.
        flip_dropped: bool,
    },
    /// A re-run after a change: a refusal keeps the last good run on screen.
    Rerun,
}

impl Action {
    /// Whether an open overlay (help, embed dialog) holds this action back, so
    /// nothing moves behind it.
    fn held_by_overlay(&self) -> bool {
        matches!(
            self,
            Action::Next
                | Action::Prev
                | Action::First
                | Action::Last
                | Action::Goto(_)
                | Action::Tick
                | Action::TogglePlay
                | Action::SetPlaying(_)
                | Action::SetSpeed(_)
                | Action::ToggleLang
                | Action::ToggleEve
                | Action::TogglePresenter
                | Action::NextTheme
                | Action::ToggleSchedule
        )
    }
}

impl State {
    /// The state a URL asks for. A link to a scenario opens it even when parts of
    /// the link are stale (a step, seed, parameter or key this version does not
    /// have): those fall back to their defaults, and a notice names them. Only a
    /// scenario that does not exist opens the map.
    pub fn from_url(u: &UrlState, browser_lang: Lang) -> State {
        let mut s = State {
            lang: u.lang.unwrap_or(browser_lang),
            scenario: None,
            params: Vec::new(),
            seed: Some(DEFAULT_SEED),
            transcript: None,
            exports: Rc::default(),
            hkdf_labels: Rc::default(),
            pending: None,
            generation: 0,
            imported: false,
            step: 0,
            playing: false,
            speed: 1,
            eve: u.eve,
            embed: u.embed,
            range: None,
            range_asked: None,
            hidden: Vec::new(),
            autoplay: u.play,
            handout: u.handout,
            quiz: u.quiz,
            asking: None,
            verdict: None,
            score: (0, 0),
            compare: None,
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
            qr: false,
            menu: None,
            schedule: false,
            fullscreen: false,
            fullscreen_hint: u.present,
            fullscreen_asks: 0,
            lesson: None,
            speaker: u.speaker,
            speaker_asks: 0,
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
        let mut dropped: Vec<Notice> = u
            .unknown
            .iter()
            .map(|k| Notice::new("ui.notice.drop.key", &[("key", k.clone())]))
            .collect();
        if let Some(text) = &u.seed {
            match parse_seed(text) {
                Some(seed) => s.seed = seed,
                None => dropped.push(Notice::new(
                    "ui.notice.drop.seed",
                    &[("seed", text.clone())],
                )),
            }
        }
        for (name, value) in &u.params {
            if info.params.iter().any(|p| p.name == name) {
                s.params.push((name.clone(), value.clone()));
            } else {
                dropped.push(Notice::new(
                    "ui.notice.drop.unknown_param",
                    &[("name", name.clone()), ("value", value.clone())],
                ));
            }
        }
        if let Some(id) = &u.compare {
            match scenarios::find(id) {
                Some(other) => {
                    let seed = match u.cseed.as_deref().map(parse_seed) {
                        Some(Some(seed)) => seed,
                        Some(None) => {
                            dropped.push(Notice::new(
                                "ui.notice.drop.seed",
                                &[("seed", u.cseed.clone().unwrap_or_default())],
                            ));
                            Some(DEFAULT_SEED)
                        }
                        None => Some(DEFAULT_SEED),
                    };
                    s.compare = Some((other.id.to_owned(), seed));
                }
                None => dropped.push(Notice::new(
                    "ui.notice.drop.key",
                    &[("key", format!("compare={id}"))],
                )),
            }
        }
        s.range_asked = step_range(u);
        for pane in &u.hide {
            match PANES.iter().find(|p| **p == pane.as_str()) {
                Some(p) if !s.hidden.contains(p) => s.hidden.push(p),
                Some(_) => {}
                None => dropped.push(Notice::new(
                    "ui.notice.drop.hide",
                    &[("pane", pane.clone())],
                )),
            }
        }
        s.scenario = Some(info);
        let asked =
            u.at.as_ref()
                .map(|v| format!("at={v}"))
                .or_else(|| u.step.as_ref().map(|v| format!("step={v}")))
                .unwrap_or_default();
        s.ask(Purpose::Open {
            dropped,
            step: step_index(u),
            asked,
            flip_dropped: false,
        });
        s
    }

    /// Asks the worker for a run of the open scenario with the current parameters.
    fn ask(&mut self, purpose: Purpose) {
        let Some(info) = self.scenario else { return };
        self.generation += 1;
        self.pending = Some(Pending {
            generation: self.generation,
            request: Request::Run {
                id: info.id.to_owned(),
                params: self.params.clone(),
                seed: self.seed,
            },
            purpose,
            progress: None,
            keep_selection: None,
        });
    }

    /// The open scenario could not be opened: back to the map, saying why.
    fn not_opened(&mut self, notice: Notice) {
        self.notice = Some(notice);
        self.params.clear();
        self.scenario = None;
        self.transcript = None;
        self.exports = Rc::default();
        self.hkdf_labels = Rc::default();
    }

    /// Applies the worker's answer to a run asked for `purpose`.
    fn answered(&mut self, purpose: Purpose, response: Response) {
        let Some(info) = self.scenario else { return };
        let ran = match response {
            Response::Ran(ran) => match check_coverage(&ran.transcript) {
                Ok(()) => ran,
                Err(e) => {
                    let n =
                        Notice::new("ui.notice.unexplained", &[("offset", e.offset.to_string())]);
                    match purpose {
                        Purpose::Open { .. } => self.not_opened(n),
                        Purpose::Rerun => self.notice = Some(n),
                    }
                    return;
                }
            },
            Response::Refused(why) => return self.refused(purpose, why),
            Response::Inspected(_) | Response::InspectFailed(_) => {
                return self.refused(purpose, Refusal::Malformed)
            }
        };
        match purpose {
            Purpose::Open {
                mut dropped,
                step,
                asked,
                flip_dropped,
            } => {
                // A flip the run could not make as asked is dropped: the scenario runs
                // with its default flip (none, or the one a *-tamper scenario starts with).
                if !flip_dropped {
                    if let Some(part) = unapplied_flip(info, &self.params, &ran.transcript) {
                        self.params.retain(|(n, _)| n != "flip");
                        dropped.push(part);
                        return self.ask(Purpose::Open {
                            dropped,
                            step,
                            asked,
                            flip_dropped: true,
                        });
                    }
                }
                let last = ran.transcript.events.len().saturating_sub(1);
                let max = ran.transcript.events.len().to_string();
                self.range = None;
                match self.range_asked.take() {
                    Some(Ok((a, b))) if a <= last => self.range = Some((a, b)),
                    Some(Ok((a, _))) => dropped.push(Notice::new(
                        "ui.notice.drop.range",
                        &[("range", format!("from={}", a + 1)), ("max", max.clone())],
                    )),
                    Some(Err(text)) => dropped.push(Notice::new(
                        "ui.notice.drop.range",
                        &[("range", text), ("max", max.clone())],
                    )),
                    None => {}
                }
                self.step = 0;
                match step {
                    Some(Ok(n)) if n <= last => self.step = n,
                    Some(_) => dropped.push(Notice::new(
                        "ui.notice.drop.step",
                        &[("step", asked), ("max", max)],
                    )),
                    None => {}
                }
                self.notice = Notice::dropped(dropped);
                self.show(*ran);
                let (lo, hi) = self.bounds();
                if step.is_none() {
                    self.step = lo;
                }
                self.step = self.step.max(lo).min(hi);
                if self.autoplay && self.step < hi {
                    self.playing = true;
                }
            }
            Purpose::Rerun => {
                self.notice = unapplied_flip(info, &self.params, &ran.transcript)
                    .and_then(|part| Notice::dropped(vec![part]));
                self.show(*ran);
                let (lo, hi) = self.bounds();
                self.step = self.step.max(lo).min(hi);
            }
        }
    }

    fn show(&mut self, ran: Ran) {
        self.transcript = Some(Rc::new(ran.transcript));
        self.exports = Rc::new(ran.files);
        self.hkdf_labels = Rc::new(ran.hkdf_labels);
        self.selected = None;
    }

    /// A run was refused: a link's bad value is dropped and the scenario asked
    /// again; a change's bad value is named and the last good run stays.
    fn refused(&mut self, purpose: Purpose, why: Refusal) {
        match (purpose, why) {
            (
                Purpose::Open {
                    mut dropped,
                    step,
                    asked,
                    flip_dropped,
                },
                Refusal::BadParam { name },
            ) if self.params.iter().any(|(n, _)| *n == name) => {
                let value = self.param(&name);
                self.params.retain(|(n, _)| *n != name);
                dropped.push(Notice::new(
                    "ui.notice.drop.param",
                    &[("name", name), ("value", value)],
                ));
                self.ask(Purpose::Open {
                    dropped,
                    step,
                    asked,
                    flip_dropped,
                });
            }
            (purpose, why) => {
                let n = match why {
                    Refusal::BadParam { name } => {
                        Notice::new("ui.notice.bad_param", &[("name", name)])
                    }
                    Refusal::UnknownScenario { id } => {
                        Notice::new("ui.notice.unknown_scenario", &[("id", id)])
                    }
                    Refusal::Absent { family } => {
                        Notice::new("ui.notice.worker_failed", &[("why", family)])
                    }
                    Refusal::Malformed => {
                        Notice::new("ui.notice.worker_failed", &[("why", "request".into())])
                    }
                };
                match purpose {
                    Purpose::Open { .. } => self.not_opened(n),
                    Purpose::Rerun => self.notice = Some(n),
                }
            }
        }
    }

    /// The URL state this view should be shared as.
    pub fn to_url(&self) -> UrlState {
        UrlState {
            scenario: self.scenario.map(|i| i.id.to_owned()),
            seed: self.scenario.map(|_| match self.seed {
                Some(s) => s.to_string(),
                None => "live".to_owned(),
            }),
            step: None,
            at: self.scenario.map(|_| (self.step + 1).to_string()),
            unknown: Vec::new(),
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
            from: self.range.map(|(a, _)| (a + 1).to_string()),
            to: self
                .range
                .and_then(|(_, b)| (b < usize::MAX).then(|| (b + 1).to_string())),
            hide: self.hidden.iter().map(|p| (*p).to_owned()).collect(),
            play: self.autoplay,
            handout: self.handout,
            quiz: self.quiz,
            compare: self.compare.as_ref().map(|(id, _)| id.clone()),
            cseed: self.compare.as_ref().map(|(_, seed)| match seed {
                Some(n) => n.to_string(),
                None => "live".to_owned(),
            }),
            speaker: false,
        }
    }

    /// In a lesson being played, whether stepping this way leaves the stop: a stop
    /// is one view, unless it has a step range or a quiz, which are stepped through
    /// first.
    fn leaves_stop(&self, forward: bool) -> bool {
        let Some(l) = &self.lesson else { return false };
        if l.editing || self.speaker || self.transcript.is_none() {
            return false;
        }
        let (lo, hi) = self.bounds();
        let stays = self.range.is_some() || self.quiz;
        !stays
            || if forward {
                self.step >= hi
            } else {
                self.step <= lo
            }
    }

    /// This page at stop `k` of `view`'s lesson: the stop's view opened as its link
    /// would open it, in this page's language, theme and presenter mode.
    fn at_stop(&self, mut view: LessonView, k: usize) -> State {
        view.at = k.min(view.lesson.stops.len().saturating_sub(1));
        let Some(stop) = view.lesson.stops.get(view.at) else {
            return self.clone();
        };
        let mut u = stop.url();
        u.lang = Some(self.lang);
        u.present = self.presenter;
        u.embed = self.embed;
        u.theme = (self.theme != Theme::Auto).then(|| self.theme.code().to_owned());
        u.quiz = stop.quiz;
        let mut s = State::from_url(&u, self.lang);
        s.generation += self.generation;
        if let Some(p) = s.pending.as_mut() {
            p.generation = s.generation;
        }
        s.fullscreen = self.fullscreen;
        s.fullscreen_hint = self.fullscreen_hint;
        s.fullscreen_asks = self.fullscreen_asks;
        s.score = self.score;
        s.speaker_asks = self.speaker_asks;
        s.lesson = Some(view);
        s
    }

    /// Applies a lesson action (`before`: the state it came to).
    fn lesson_action(mut self, a: LessonAction, before: &Rc<State>) -> Rc<State> {
        let here = || Stop {
            query: stop_query(&self.to_url()),
            quiz: self.quiz,
            note: Note::Text {
                en: String::new(),
                ja: String::new(),
            },
        };
        match a {
            LessonAction::Load(lesson, k, open) => {
                let view = LessonView::new(lesson, k);
                let at = view.at;
                if open && !self.speaker {
                    return Rc::new(self.at_stop(view, at));
                }
                self.lesson = Some(view);
            }
            LessonAction::Failed(key) => self.notice = Some(Notice::new(key, &[])),
            LessonAction::Go(k) => {
                let Some(view) = self.lesson.clone() else {
                    return before.clone();
                };
                if self.speaker {
                    return before.clone();
                }
                return Rc::new(self.at_stop(view, k));
            }
            LessonAction::Step(forward) => {
                let Some(view) = self.lesson.clone() else {
                    return before.clone();
                };
                let k = if forward {
                    view.at + 1
                } else {
                    match view.at.checked_sub(1) {
                        Some(k) => k,
                        None => return before.clone(),
                    }
                };
                if k >= view.lesson.stops.len() {
                    return before.clone();
                }
                return Rc::new(self.at_stop(view, k));
            }
            LessonAction::Heard(k) => {
                if let Some(l) = self.lesson.as_mut() {
                    l.at = k.min(l.lesson.stops.len().saturating_sub(1));
                }
            }
            LessonAction::Announce => {
                if let Some(l) = self.lesson.as_mut() {
                    l.announce += 1;
                }
            }
            LessonAction::Ask(k) => {
                let Some(l) = self.lesson.as_mut() else {
                    return before.clone();
                };
                if k >= l.lesson.stops.len() {
                    return before.clone();
                }
                let n = l.go.map_or(0, |(n, _)| n.wrapping_add(1));
                l.go = Some((n, k));
            }
            LessonAction::New => {
                if self.scenario.is_none() {
                    return before.clone();
                }
                let lesson = Lesson {
                    shipped: None,
                    title: Note::Text {
                        en: String::new(),
                        ja: String::new(),
                    },
                    stops: vec![here()],
                };
                let mut view = LessonView::new(Rc::new(lesson), 0);
                view.editing = true;
                view.revision = 1;
                self.lesson = Some(view);
                self.menu = None;
            }
            LessonAction::AddHere => {
                if self.scenario.is_none() {
                    return before.clone();
                }
                let stop = here();
                let Some(l) = self.lesson.as_mut() else {
                    return before.clone();
                };
                if l.lesson.stops.len() >= crate::lesson::MAX_STOPS {
                    self.notice = Some(Notice::new("ui.lesson.error.too_long", &[]));
                    return Rc::new(self);
                }
                let at = (l.at + 1).min(l.lesson.stops.len());
                l.edit(|x| x.stops.insert(at, stop));
                l.at = at;
            }
            LessonAction::Move(n, up) => {
                let Some(l) = self.lesson.as_mut() else {
                    return before.clone();
                };
                let len = l.lesson.stops.len();
                let other = if up { n.checked_sub(1) } else { Some(n + 1) };
                let Some(other) = other.filter(|o| *o < len && n < len) else {
                    return before.clone();
                };
                l.edit(|x| x.stops.swap(n, other));
                if l.at == n {
                    l.at = other;
                } else if l.at == other {
                    l.at = n;
                }
            }
            LessonAction::Remove(n) => {
                let Some(l) = self.lesson.as_mut() else {
                    return before.clone();
                };
                if n >= l.lesson.stops.len() || l.lesson.stops.len() == 1 {
                    return before.clone();
                }
                l.edit(|x| {
                    x.stops.remove(n);
                });
                if l.at > n {
                    l.at -= 1;
                }
            }
            LessonAction::Note(n, lang, text) => {
                let Some(l) = self.lesson.as_mut() else {
                    return before.clone();
                };
                let text: String = text.chars().take(crate::lesson::MAX_NOTE / 4).collect();
                l.edit(|x| {
                    if let Some(Stop {
                        note: Note::Text { en, ja },
                        ..
                    }) = x.stops.get_mut(n)
                    {
                        *(if lang == Lang::Ja { ja } else { en }) = text;
                    }
                });
            }
            LessonAction::Title(lang, text) => {
                let Some(l) = self.lesson.as_mut() else {
                    return before.clone();
                };
                let text: String = text.chars().take(200).collect();
                l.edit(|x| {
                    if let Note::Text { en, ja } = &mut x.title {
                        *(if lang == Lang::Ja { ja } else { en }) = text;
                    }
                });
            }
            LessonAction::Until(n, to) => {
                let Some(l) = self.lesson.as_mut() else {
                    return before.clone();
                };
                l.edit(|x| {
                    if let Some(stop) = x.stops.get_mut(n) {
                        let mut u = stop.url();
                        let at = crate::url::step_index(&u).and_then(Result::ok).unwrap_or(0);
                        match to {
                            Some(to) => {
                                let to = to.max(at + 1);
                                u.from = Some((at + 1).to_string());
                                u.to = Some(to.to_string());
                            }
                            None => {
                                u.from = None;
                                u.to = None;
                            }
                        }
                        stop.query = stop_query(&u);
                    }
                });
            }
            LessonAction::Quiz(n, on) => {
                let Some(l) = self.lesson.as_mut() else {
                    return before.clone();
                };
                l.edit(|x| {
                    if let Some(stop) = x.stops.get_mut(n) {
                        stop.quiz = on;
                    }
                });
            }
            LessonAction::ToggleEdit => {
                let Some(l) = self.lesson.as_mut() else {
                    return before.clone();
                };
                if !l.editing && l.lesson.shipped.is_some() {
                    // Editing a shipped lesson makes it the teacher's own copy.
                    l.edit(|_| {});
                }
                l.editing = !l.editing;
            }
            LessonAction::Encoded(r, text) => {
                let Some(l) = self.lesson.as_mut() else {
                    return before.clone();
                };
                if r != l.revision {
                    return before.clone();
                }
                l.encoded = Some((r, text));
            }
            LessonAction::Leave => self.lesson = None,
            LessonAction::Speaker => {
                if self.lesson.is_none() {
                    return before.clone();
                }
                self.speaker_asks += 1;
            }
        }
        Rc::new(self)
    }

    /// The first and last step the view may show: the whole run, or the range an
    /// embed asked for, cut to the run.
    pub fn bounds(&self) -> (usize, usize) {
        let last = self.steps().saturating_sub(1);
        match self.range {
            Some((a, b)) => {
                let a = a.min(last);
                (a, b.min(last).max(a))
            }
            None => (0, last),
        }
    }

    /// The question quiz mode asks before stepping on from the current step, unless
    /// it was just answered.
    fn quiz_question(&self) -> Option<Question> {
        if !self.quiz
            || self
                .verdict
                .as_ref()
                .is_some_and(|(q, _)| q.about == self.step + 1)
        {
            return None;
        }
        let t = self.transcript.as_ref()?;
        let lang = self.lang;
        let q = quiz::question(t, self.step, &|prefix| {
            crate::i18n::keys_with_prefix(lang, prefix)
        })?;
        (q.about <= self.bounds().1).then_some(q)
    }

    /// Steps on with quiz mode: asks first, then reveals by moving to the answer.
    /// Returns whether it did something (otherwise the caller steps as usual).
    fn quiz_step(&mut self) -> bool {
        if let Some((q, pick)) = self.asking.take() {
            self.step = q.about;
            if let Some(p) = pick {
                self.score.1 += 1;
                if p == q.right {
                    self.score.0 += 1;
                }
            }
            self.verdict = Some((q, pick));
            return true;
        }
        if let Some(q) = self.quiz_question() {
            self.asking = Some((q, None));
            self.playing = false;
            return true;
        }
        false
    }

    /// Whether the embed leaves pane `name` out.
    pub fn hides(&self, name: &str) -> bool {
        self.embed && self.hidden.contains(&name)
    }

    /// Whether an eavesdropper is on one of the run's links.
    pub fn has_eve(&self) -> bool {
        self.transcript
            .as_ref()
            .is_some_and(|t| t.links.iter().any(|l| !l.observers.is_empty()))
    }

    /// Whether the run has secrets, so a key schedule to draw.
    pub fn has_secrets(&self) -> bool {
        self.transcript.as_ref().is_some_and(|t| {
            t.events
                .iter()
                .any(|e| matches!(e, cipherstage_transcript::Event::Secret(_)))
        })
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
        self.ask(Purpose::Rerun);
    }
}

/// A flip (`message:offset`) that the run did not carry out, said as what was
/// wrong with it: no such message, no such byte in it, or no attacker on its link.
fn unapplied_flip(
    info: &ScenarioInfo,
    params: &[(String, String)],
    t: &Transcript,
) -> Option<Notice> {
    let spec = info.params.iter().find(|p| p.name == "flip")?;
    if !matches!(spec.kind, ParamKind::Tamper) {
        return None;
    }
    let value = params
        .iter()
        .rev()
        .find(|(n, _)| n == "flip")
        .map_or(spec.default, |(_, v)| v.as_str())
        .trim()
        .to_owned();
    if value.is_empty() {
        return None;
    }
    let messages: Vec<_> = t
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Message(m) => Some(m),
            _ => None,
        })
        .collect();
    let (m, o) = value.split_once(':')?;
    let (m, o) = (
        m.trim().parse::<usize>().ok()?,
        o.trim().parse::<usize>().ok()?,
    );
    // Made as asked (a core may move an offset past the end onto the last byte:
    // that is not what the link asked for).
    if messages
        .iter()
        .any(|x| x.tampered.is_some_and(|t| t.offset == o))
    {
        return None;
    }
    let part = match messages.get(m) {
        None => Notice::new(
            "ui.notice.drop.flip_message",
            &[
                ("flip", value.clone()),
                ("count", messages.len().to_string()),
            ],
        ),
        Some(msg) if o >= msg.bytes.len() => Notice::new(
            "ui.notice.drop.flip_offset",
            &[
                ("flip", value.clone()),
                ("len", msg.bytes.len().to_string()),
            ],
        ),
        Some(_) => Notice::new("ui.notice.drop.flip_unwatched", &[("flip", value.clone())]),
    };
    Some(part)
}

impl Reducible for State {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut s = (*self).clone();
        let (first, last) = s.bounds();
        if (s.help || s.snippet || s.qr) && action.held_by_overlay() {
            return self;
        }
        // A flip re-runs the scenario but stays on the byte it was made from.
        let flipping = matches!(&action, Action::SetParam(n, _) if n == "flip");
        // The selection a flip's run brings back when it arrives on the same step.
        let mut restore: Option<Vec<usize>> = None;
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
                let (fullscreen, hint, asks) = (s.fullscreen, s.fullscreen_hint, s.fullscreen_asks);
                let generation = s.generation;
                let (lesson, score, speaker_asks) = (s.lesson.take(), s.score, s.speaker_asks);
                s = State::from_url(&u, s.lang);
                (s.lesson, s.score, s.speaker_asks) = (lesson, score, speaker_asks);
                s.generation += generation;
                if let Some(p) = s.pending.as_mut() {
                    p.generation = s.generation;
                }
                s.fullscreen = fullscreen;
                s.fullscreen_hint = hint;
                s.fullscreen_asks = asks;
            }
            Action::Picker => {
                s.scenario = None;
                s.transcript = None;
                s.pending = None;
                s.exports = Rc::default();
                s.hkdf_labels = Rc::default();
                s.imported = false;
                s.playing = false;
                s.params.clear();
                s.step = 0;
                s.range = None;
                s.handout = false;
                s.compare = None;
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
            Action::Next if s.speaker => {
                let Some(at) = s.lesson.as_ref().map(|l| l.at) else {
                    return self;
                };
                return s.lesson_action(LessonAction::Ask(at + 1), &self);
            }
            Action::Prev if s.speaker => {
                let Some(k) = s.lesson.as_ref().and_then(|l| l.at.checked_sub(1)) else {
                    return self;
                };
                return s.lesson_action(LessonAction::Ask(k), &self);
            }
            Action::Next if s.leaves_stop(true) => {
                if let Some(l) = s.lesson.clone() {
                    let k = l.at + 1;
                    if k < l.lesson.stops.len() {
                        return Rc::new(s.at_stop(l, k));
                    }
                }
                // The last stop: its run steps on.
                s.step = (s.step + 1).min(last);
            }
            Action::Prev if s.leaves_stop(false) => {
                if let Some(l) = s.lesson.clone() {
                    if let Some(k) = l.at.checked_sub(1) {
                        return Rc::new(s.at_stop(l, k));
                    }
                }
                s.step = s.step.saturating_sub(1).max(first);
            }
            Action::Next if s.quiz_step() => {}
            Action::Next => s.step = (s.step + 1).min(last),
            Action::Prev => s.step = s.step.saturating_sub(1).max(first),
            Action::First => s.step = first,
            Action::Last => s.step = last,
            Action::Goto(n) => s.step = n.max(first).min(last),
            Action::TogglePlay => {
                if !s.playing && s.step >= last {
                    s.step = first;
                }
                s.playing = !s.playing && s.steps() > 0;
            }
            Action::SetPlaying(on) => {
                if on != s.playing {
                    if on && s.step >= last {
                        s.step = first;
                    }
                    s.playing = on && s.steps() > 0;
                } else {
                    return self;
                }
            }
            Action::Tick if s.quiz && s.quiz_step() => {}
            Action::Tick => {
                if s.step >= last {
                    s.playing = false;
                } else {
                    s.step += 1;
                }
            }
            Action::SetSpeed(i) => s.speed = i.min(SPEEDS.len() - 1),
            Action::ToggleLang => s.lang = s.lang.other(),
            // Only where they mean something: an eavesdropper on a link, secrets to draw.
            Action::ToggleEve if s.has_eve() => s.eve = !s.eve,
            Action::ToggleEve => return self,
            Action::Select(path) => s.selected = Some(path),
            Action::Import(text) => match Transcript::from_json(&text) {
                Ok(t) => match check_coverage(&t) {
                    Ok(()) => {
                        s.scenario = None;
                        s.pending = None;
                        s.exports = Rc::default();
                        s.hkdf_labels = Rc::default();
                        s.imported = true;
                        s.range = None;
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
            Action::ToggleHelp => {
                s.help = !s.help;
                s.playing = false;
            }
            // F: on (asking for full screen); from a link, the first F asks for full
            // screen and stays; otherwise off.
            Action::TogglePresenter => {
                if s.presenter && s.fullscreen_hint && !s.fullscreen {
                    s.fullscreen_hint = false;
                    s.fullscreen_asks += 1;
                } else if s.presenter {
                    s.presenter = false;
                    s.fullscreen_hint = false;
                } else {
                    s.presenter = true;
                    s.fullscreen_asks += 1;
                }
            }
            Action::NextTheme => s.theme = s.theme.next(),
            Action::ToggleSnippet => {
                s.snippet = !s.snippet;
                s.playing = false;
            }
            Action::ToggleQr => {
                s.qr = !s.qr;
                s.playing = false;
                s.menu = None;
            }
            Action::ToggleQuiz => {
                s.quiz = !s.quiz;
                s.asking = None;
                s.verdict = None;
            }
            Action::Answer(n) => match s.asking.as_mut() {
                Some((q, pick)) if n < q.options.len() => *pick = Some(n),
                _ => return self,
            },
            Action::SetCompare(c) => {
                s.compare = c.filter(|_| s.transcript.is_some());
                s.playing = false;
                s.menu = None;
                s.handout = false;
            }
            Action::ToggleHandout => {
                s.handout = !s.handout && (s.transcript.is_some() || s.scenario.is_some());
                s.playing = false;
                s.menu = None;
            }
            Action::ToggleSchedule if s.has_secrets() || s.schedule => s.schedule = !s.schedule,
            Action::ToggleSchedule => return self,
            Action::ToggleMenu(m) => {
                s.menu = if s.menu == Some(m) { None } else { Some(m) };
            }
            Action::CloseMenu => s.menu = None,
            Action::Escape => {
                if s.help {
                    s.help = false;
                } else if s.snippet {
                    s.snippet = false;
                } else if s.qr {
                    s.qr = false;
                } else if s.menu.is_some() {
                    s.menu = None;
                } else if let Some(l) = s.lesson.as_mut().filter(|l| l.editing) {
                    l.editing = false;
                } else if s.handout {
                    s.handout = false;
                } else if s.compare.is_some() {
                    s.compare = None;
                } else if s.notice.is_some() {
                    s.notice = None;
                } else if s.presenter {
                    s.presenter = false;
                    s.fullscreen_hint = false;
                }
            }
            Action::ExitPresenter => {
                s.presenter = false;
                s.fullscreen_hint = false;
            }
            // Leaving full screen (Esc, F11, the browser's own control) leaves
            // presenter mode too, so the chrome-less layout never stays behind.
            Action::Worker(generation, heard) => {
                let Some(p) = s.pending.clone() else {
                    return self;
                };
                if p.generation != generation {
                    return self;
                }
                match heard {
                    Heard::Qr(_) => return self,
                    Heard::Progress(f) => {
                        if let Some(p) = s.pending.as_mut() {
                            p.progress = f;
                        }
                        return Rc::new(s);
                    }
                    Heard::Failed(why) => {
                        s.pending = None;
                        let n = Notice::new("ui.notice.worker_failed", &[("why", why)]);
                        match p.purpose {
                            Purpose::Open { .. } => s.not_opened(n),
                            Purpose::Rerun => s.notice = Some(n),
                        }
                    }
                    Heard::Answer(r) => {
                        s.pending = None;
                        s.answered(p.purpose, r);
                        if s.step == self.step {
                            restore = p.keep_selection;
                        }
                    }
                }
            }
            Action::Lesson(a) => return s.lesson_action(a, &self),
            Action::Cancel => {
                if let Some(p) = s.pending.take() {
                    if matches!(p.purpose, Purpose::Open { .. }) && s.transcript.is_none() {
                        s.not_opened(Notice::new("ui.notice.cancelled", &[]));
                    } else {
                        s.notice = Some(Notice::new("ui.notice.cancelled", &[]));
                    }
                }
            }
            Action::FullscreenChanged(on) => {
                // The handler reads the page's state when it runs, so a quick exit can
                // make the "entered" event read false too: leaving counts whenever
                // presenter mode had asked for full screen.
                let asked = s.presenter && s.fullscreen_asks > 0 && !s.fullscreen_hint;
                if !on && (s.fullscreen || asked) {
                    s.presenter = false;
                    s.fullscreen_hint = false;
                }
                s.fullscreen = on;
            }
        }
        // A question belongs to the step it was asked at; a verdict to its answer's step.
        if s.step != self.step || !same_run(&s, &self) {
            s.asking = None;
        }
        if s.verdict.as_ref().is_some_and(|(q, _)| q.about != s.step) || !same_run(&s, &self) {
            s.verdict = None;
        }
        if flipping && s.step == self.step {
            s.selected = self.selected.clone();
            if let Some(p) = s.pending.as_mut() {
                p.keep_selection = self.selected.clone();
            }
        } else if restore.is_some() {
            s.selected = restore;
        } else if !action_kind_keeps_selection(&s, &self) {
            s.selected = None;
        }
        Rc::new(s)
    }
}

/// Whether two states show the same run (the same transcript, or none).
fn same_run(new: &State, old: &State) -> bool {
    match (&new.transcript, &old.transcript) {
        (Some(a), Some(b)) => Rc::ptr_eq(a, b),
        (None, None) => true,
        _ => false,
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
