//! The story `rdp-direct`: the laptop's plain RDP client reaches the office
//! desktop over TLS; Eve on the link reads the X.224 negotiation and then only
//! TLS records. In the failure variant the desktop requires NLA (CredSSP) and
//! refuses the TLS-only client with HYBRID_REQUIRED_BY_SERVER.

use cipherstage_pki::{
    issue::{issue_server, self_signed},
    Key, Pki, SCENARIO_NOW,
};
use cipherstage_tls::scenario::{build_pki, seeded, EVE_TAMPERS};
use cipherstage_tls::{Identity, Signer, VirtualHost};
use cipherstage_transcript::rand::{RandomSource, Source};
use cipherstage_transcript::{
    drive, Actor, ActorId, Delivered, Endpoint, Fate, Flow, Layer, Link, Path, Recorder, Role,
    TamperAt, Transcript, Transmit, Wire,
};

use crate::bitmap::Framebuffer;
use crate::client::{ClientConfig, ClientEvent};
use crate::fastpath::{self, Input};
use crate::server::{Desktop, Security, ServerConfig, ServerEvent};
use crate::session::{ClientSession, ServerSession};

/// The desktop's host name (its certificate names it).
pub const DESKTOP_HOST: &str = "desktop.office.example";
/// The user at the desktop.
pub const USER: &str = "alice";
/// Her password (a demo one).
pub const PASSWORD: &str = "office-pw-2026";
/// The desktop's size.
pub const WIDTH: u16 = 256;
/// The desktop's height.
pub const HEIGHT: u16 = 160;
const MAX_ROUNDS: usize = 64;
/// At most this many pictures are kept of one run (each is the whole desktop).
const MAX_PICTURES: usize = 4;

const CLIENT: ActorId = 0;
const SERVER: ActorId = 1;
const EVE: ActorId = 2;

/// What the user can change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    /// The desktop requires NLA (the client offers only TLS).
    pub require_nla: bool,
    /// The desktop shows a certificate it signed itself, which the laptop
    /// cannot check against any root it trusts.
    pub self_signed: bool,
    /// Eve flips one byte.
    pub tamper: Option<TamperAt>,
}

/// A run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// The transcript.
    pub transcript: Transcript,
    /// The desktop as the laptop drew it (black if it never arrived).
    pub picture: Framebuffer,
    /// The desktop as drawn at each step that drew bitmaps, with the name the
    /// step's narration gives it (its `picture` argument).
    pub pictures: Vec<(String, Framebuffer)>,
}

fn wire(tls: bool) -> Wire<'static> {
    Wire {
        link: 0,
        protocol: if tls { "tls" } else { "rdp" },
        layer: if tls {
            Layer::Transport
        } else {
            Layer::Application
        },
    }
}

fn transmit(to: ActorId, o: cipherstage_tls::Outgoing) -> Transmit {
    let tls = o.fields.first().is_some_and(|f| f.name.starts_with("tls."));
    Transmit {
        to,
        wire: wire(tls),
        label: o.label,
        bytes: o.bytes,
        fields: o.fields,
    }
}

/// The office desktop: a teal background and a notepad window with lines of text.
pub fn desktop() -> Desktop {
    let (w, h) = (usize::from(WIDTH), usize::from(HEIGHT));
    let mut rgb = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        for x in 0..w {
            let inside = (32..224).contains(&x) && (24..136).contains(&y);
            let p = if !inside {
                [0x00, 0x80, 0x80]
            } else if y < 38 {
                [0x00, 0x30, 0xA0]
            } else if (44..128).contains(&y)
                && (y - 44) % 10 < 3
                && (40..(200 - (y % 7) * 12)).contains(&x)
            {
                [0x20, 0x20, 0x20]
            } else {
                [0xFF, 0xFF, 0xFF]
            };
            rgb.extend_from_slice(&p);
        }
    }
    Desktop {
        width: WIDTH,
        height: HEIGHT,
        rgb,
    }
}

/// Runs the story with `seed` (`None`: live).
pub fn run(scenario: &str, p: &Params, seed: Option<u64>) -> Run {
    let mut master = Source::from_seed(seed);
    let mut rec = Recorder::new(p.tamper, Some(EVE));
    let mut picture = Framebuffer::new(WIDTH.into(), HEIGHT.into());
    let mut pictures = Vec::new();
    match build_pki(&mut master) {
        Ok(pki) => {
            let crng = seeded(&mut master);
            let srng = seeded(&mut master);
            let mut rng = seeded(&mut master);
            let (fb, drawn) = tell(&mut rec, scenario, p, &pki, crng, srng, &mut *rng);
            if let Some(fb) = fb {
                picture = fb;
            }
            pictures = drawn;
        }
        Err(_) => rec.narrate("tls.narr.pki_failed", &[]),
    }
    let actor = |role, name: &str| Actor {
        role,
        name: name.to_owned(),
    };
    Run {
        transcript: Transcript {
            scenario: scenario.to_owned(),
            seed,
            actors: vec![
                actor(Role::Client, "rdp.actor.laptop"),
                actor(Role::Server, "rdp.actor.desktop"),
                actor(Role::Eavesdropper, "rdp.actor.eve"),
            ],
            links: vec![Link {
                a: CLIENT,
                b: SERVER,
                observers: vec![EVE],
            }],
            events: rec.events,
        },
        picture,
        pictures,
    }
}

fn identity(pki: &Pki, own: bool, rng: &mut dyn RandomSource) -> Option<VirtualHost> {
    let key = Key::generate(rng).ok()?;
    let chain = if own {
        vec![self_signed(&key, DESKTOP_HOST, rng).ok()?]
    } else {
        let cert = issue_server(&key, DESKTOP_HOST, &pki.intermediate).ok()?;
        vec![cert, pki.intermediate.der.clone()]
    };
    Some(VirtualHost {
        names: vec![DESKTOP_HOST.to_owned()],
        identity: Identity {
            chain,
            signer: Signer::Key(key),
        },
    })
}

/// The pictures drawn along the way, by name.
type Drawn = Vec<(String, Framebuffer)>;

fn tell(
    rec: &mut Recorder,
    scenario: &str,
    p: &Params,
    pki: &Pki,
    crng: Box<dyn RandomSource>,
    srng: Box<dyn RandomSource>,
    rng: &mut dyn RandomSource,
) -> (Option<Framebuffer>, Drawn) {
    let Some(vhost) = identity(pki, p.self_signed, rng) else {
        rec.narrate("tls.narr.pki_failed", &[]);
        return (None, Vec::new());
    };
    let mut sc = cipherstage_tls::ServerConfig::new(vec![vhost]);
    sc.ticket = None;
    let mut cc =
        cipherstage_tls::ClientConfig::new(DESKTOP_HOST, vec![pki.root.der.clone()], SCENARIO_NOW);
    cc.sni = Some(DESKTOP_HOST.into());
    let mut config = ClientConfig::new(USER, PASSWORD);
    config.width = WIDTH;
    config.height = HEIGHT;
    let server = ServerConfig {
        security: if p.require_nla {
            Security::Nla
        } else {
            Security::Tls
        },
        desktop: desktop(),
        bpp: 16,
        tile: 64,
    };
    rec.narrate(
        "rdp.narr.intro",
        &[("host", &DESKTOP_HOST), ("user", &USER)],
    );
    let mut laptop = Laptop {
        s: ClientSession::new(config, cc, crng, CLIENT),
        typed: false,
        told_tls: false,
        scenario: scenario.to_owned(),
        pictures: Vec::new(),
    };
    let mut office = Office {
        s: ServerSession::new(server, sc, srng, SERVER),
    };
    drive(
        &mut [&mut laptop, &mut office],
        &mut EveWatch {
            saw_negotiation: false,
            saw_tls: false,
        },
        rec,
        rng,
        MAX_ROUNDS,
    );
    let fb = laptop.s.rdp.framebuffer().clone();
    let drawn = std::mem::take(&mut laptop.pictures);
    if laptop.s.rdp.is_active() {
        rec.narrate("rdp.narr.done", &[]);
        (Some(fb), drawn)
    } else {
        if p.self_signed && !laptop.told_tls {
            rec.narrate("rdp.narr.certificate_warning", &[("host", &DESKTOP_HOST)]);
        }
        rec.narrate("rdp.narr.no_session", &[]);
        (None, drawn)
    }
}

struct Laptop {
    s: ClientSession,
    typed: bool,
    told_tls: bool,
    scenario: String,
    pictures: Drawn,
}

impl Endpoint for Laptop {
    fn actor(&self) -> ActorId {
        CLIENT
    }

    fn step(&mut self, rec: &mut Recorder, _rng: &mut dyn RandomSource, _now: u64) -> bool {
        if self.s.tls_connected() && !self.told_tls {
            self.told_tls = true;
            rec.narrate("rdp.narr.tls_up", &[]);
        }
        let mut drawn = false;
        for e in self.s.rdp.take_events() {
            match e {
                ClientEvent::NegotiationFailed(code) => {
                    rec.narrate(crate::x224::failure_name(code), &[("code", &code)])
                }
                ClientEvent::Negotiated(_) => rec.narrate("rdp.narr.negotiated", &[]),
                ClientEvent::Connected(sd) => rec.narrate(
                    "rdp.narr.mcs_connected",
                    &[("channels", &sd.channel_ids.len())],
                ),
                ClientEvent::Licensed => rec.narrate("rdp.narr.licensed", &[]),
                ClientEvent::Active => rec.narrate("rdp.narr.active", &[]),
                ClientEvent::Bitmap(_) => drawn = true,
                ClientEvent::Error(e) => rec.alert(CLIENT, e.kind.key(), true),
                _ => {}
            }
        }
        if drawn && self.pictures.len() < MAX_PICTURES {
            let name = format!("{}-desktop-{}.bmp", self.scenario, self.pictures.len() + 1);
            rec.narrate("rdp.narr.bitmap_drawn", &[("picture", &name)]);
            self.pictures.push((name, self.s.rdp.framebuffer().clone()));
        } else if drawn {
            rec.narrate("rdp.narr.bitmap_drawn", &[]);
        }
        rec.events.extend(self.s.take_events());
        // Once the desktop is drawn, a click into the notepad and a key.
        if self.s.rdp.is_active() && !self.typed && drawn {
            self.typed = self.s.rdp.send_input(&[
                Input::Mouse {
                    flags: fastpath::PTR_BUTTON1 | fastpath::PTR_DOWN,
                    x: 100,
                    y: 80,
                },
                Input::Key {
                    code: 0x1E,
                    release: false,
                },
                Input::Key {
                    code: 0x1E,
                    release: true,
                },
            ]);
            return self.typed;
        }
        false
    }

    fn transmit(&mut self, rec: &mut Recorder) -> Vec<Transmit> {
        let out = self.s.take_output();
        rec.events.extend(self.s.take_events());
        out.into_iter().map(|o| transmit(SERVER, o)).collect()
    }

    fn receive(
        &mut self,
        _from: ActorId,
        bytes: &[u8],
        rec: &mut Recorder,
        _rng: &mut dyn RandomSource,
    ) -> Flow {
        self.s.receive(bytes);
        rec.events.extend(self.s.take_events());
        if self.s.tls_failed() {
            Flow::Halt
        } else {
            Flow::Continue
        }
    }
}

struct Office {
    s: ServerSession,
}

impl Endpoint for Office {
    fn actor(&self) -> ActorId {
        SERVER
    }

    fn step(&mut self, rec: &mut Recorder, _rng: &mut dyn RandomSource, _now: u64) -> bool {
        for e in self.s.rdp.take_events() {
            match e {
                ServerEvent::Logon { user, password } => rec.narrate(
                    "rdp.narr.logon",
                    &[("user", &user), ("password", &password)],
                ),
                ServerEvent::Channels(names) => {
                    rec.narrate("rdp.narr.channels", &[("names", &names.join(", "))])
                }
                ServerEvent::Input(Input::Key { code, release }) => rec.narrate(
                    "rdp.narr.input_key",
                    &[("code", &code), ("release", &release)],
                ),
                ServerEvent::Input(Input::Mouse { x, y, .. }) => {
                    rec.narrate("rdp.narr.input_mouse", &[("x", &x), ("y", &y)])
                }
                ServerEvent::Error(e) => rec.alert(SERVER, e.kind.key(), true),
                _ => {}
            }
        }
        rec.events.extend(self.s.take_events());
        false
    }

    fn transmit(&mut self, rec: &mut Recorder) -> Vec<Transmit> {
        let out = self.s.take_output();
        rec.events.extend(self.s.take_events());
        out.into_iter().map(|o| transmit(CLIENT, o)).collect()
    }

    fn receive(
        &mut self,
        _from: ActorId,
        bytes: &[u8],
        rec: &mut Recorder,
        _rng: &mut dyn RandomSource,
    ) -> Flow {
        self.s.receive(bytes);
        rec.events.extend(self.s.take_events());
        if self.s.tls_failed() {
            Flow::Halt
        } else {
            Flow::Continue
        }
    }
}

/// Eve on the link: she reads the negotiation, then sees only TLS records.
struct EveWatch {
    saw_negotiation: bool,
    saw_tls: bool,
}

impl Path for EveWatch {
    fn on_wire(
        &mut self,
        rec: &mut Recorder,
        _from: ActorId,
        sent: &Transmit,
        arrived: &Delivered,
    ) -> Fate {
        if let Some(at) = arrived.tampered {
            rec.narrate(EVE_TAMPERS, &[]);
            // In the clear negotiation some fields are read by nobody: the
            // routing cookie, the X.224 references and class, the flags.
            if sent.wire.protocol == "rdp" {
                if let Some(leaf) = leaf_at(&sent.fields, at.offset) {
                    if UNCHECKED.contains(&leaf) {
                        rec.narrate("rdp.narr.tamper_unnoticed", &[]);
                    }
                }
            }
        }
        if sent.wire.protocol == "rdp" && !self.saw_negotiation {
            self.saw_negotiation = true;
            rec.narrate("rdp.narr.eve_reads_negotiation", &[("user", &USER)]);
        }
        if sent.wire.protocol == "tls" && sent.label.starts_with("rdp.") && !self.saw_tls {
            self.saw_tls = true;
            rec.narrate("rdp.narr.eve_sees_only_tls", &[]);
        }
        Fate::Deliver
    }
}

/// Fields of the clear negotiation whose change nobody can notice.
const UNCHECKED: &[&str] = &[
    "rdp.field.cookie",
    "rdp.field.x224_dst_ref",
    "rdp.field.x224_src_ref",
    "rdp.field.x224_class",
    "rdp.field.neg_flags",
    "rdp.field.tpkt_reserved",
];

fn leaf_at(fields: &[cipherstage_transcript::Field], offset: usize) -> Option<&str> {
    let f = fields
        .iter()
        .find(|f| f.start <= offset && offset < f.end)?;
    if f.children.is_empty() {
        Some(&f.name)
    } else {
        leaf_at(&f.children, offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cipherstage_transcript::{check_coverage, Event, TamperAt};

    fn default() -> Params {
        Params {
            require_nla: false,
            self_signed: false,
            tamper: None,
        }
    }

    #[test]
    fn the_laptop_draws_the_office_desktop_over_tls_and_every_byte_is_explained() {
        let r = run("rdp-direct", &default(), Some(1));
        check_coverage(&r.transcript).unwrap();
        let want = Framebuffer {
            width: WIDTH.into(),
            height: HEIGHT.into(),
            rgb: desktop().rgb,
        };
        // 16 bpp keeps the top 5/6/5 bits of each colour.
        for (a, b) in r.picture.rgb.iter().zip(&want.rgb) {
            assert!(a.abs_diff(*b) < 8, "{a} {b}");
        }
        let narr: Vec<&str> = r
            .transcript
            .events
            .iter()
            .filter_map(|e| match e {
                Event::Narration(n) => Some(n.key.as_str()),
                _ => None,
            })
            .collect();
        for key in [
            "rdp.narr.eve_reads_negotiation",
            "rdp.narr.eve_sees_only_tls",
            "rdp.narr.logon",
            "rdp.narr.active",
            "rdp.narr.input_key",
            "rdp.narr.input_mouse",
            "rdp.narr.done",
        ] {
            assert!(narr.contains(&key), "{key} missing from {narr:?}");
        }
    }

    #[test]
    fn a_changed_protocol_request_is_caught_by_the_servers_echo() {
        // Eve flips a bit of requestedProtocols' second byte (0x001 becomes
        // 0x101): the server still selects TLS but echoes 0x101 in SC_CORE, and
        // the client gives up.
        let base = run("rdp-direct", &default(), Some(1));
        let cr = base.transcript.messages().next().unwrap();
        let at = cr.bytes.len() - 3;
        let p = Params {
            tamper: Some(TamperAt {
                message: 0,
                offset: at,
            }),
            ..default()
        };
        let r = run("rdp-direct", &p, Some(1));
        check_coverage(&r.transcript).unwrap();
        let keys = r.transcript.text_keys();
        assert!(
            r.transcript.events.iter().any(|e| matches!(e,
            Event::Alert(a) if a.key == "rdp.error.downgrade")),
            "{keys:?}"
        );
        assert!(r.picture.rgb.iter().all(|b| *b == 0), "no desktop drawn");
    }

    #[test]
    fn the_step_that_draws_names_the_picture_it_drew() {
        let r = run("rdp-direct", &default(), Some(1));
        let named: Vec<&str> = r
            .transcript
            .events
            .iter()
            .filter_map(|e| match e {
                Event::Narration(n) if n.key == "rdp.narr.bitmap_drawn" => n
                    .args
                    .iter()
                    .find(|(k, _)| k == "picture")
                    .map(|(_, v)| v.as_str()),
                _ => None,
            })
            .collect();
        assert!(!named.is_empty());
        let names: Vec<&str> = r.pictures.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(named, names);
        assert_eq!(r.pictures.last().map(|(_, fb)| fb), Some(&r.picture));
    }

    #[test]
    fn a_self_signed_desktop_certificate_stops_the_laptop_before_any_rdp_inside_tls() {
        let p = Params {
            self_signed: true,
            ..default()
        };
        let r = run("rdp-direct", &p, Some(1));
        check_coverage(&r.transcript).unwrap();
        let keys = r.transcript.text_keys();
        assert!(keys.contains(&"rdp.narr.certificate_warning"), "{keys:?}");
        assert!(!keys.contains(&"rdp.narr.logon"), "{keys:?}");
        assert!(r.pictures.is_empty());
        assert!(
            r.transcript.events.iter().any(|e| matches!(e,
            Event::Alert(a) if a.from == CLIENT)),
            "{keys:?}"
        );
    }

    #[test]
    fn the_same_seed_gives_the_same_bytes() {
        let a = run("rdp-direct", &default(), Some(7));
        let b = run("rdp-direct", &default(), Some(7));
        assert_eq!(a, b);
    }

    #[test]
    fn a_desktop_that_requires_nla_refuses_the_tls_only_client() {
        let p = Params {
            require_nla: true,
            ..default()
        };
        let r = run("rdp-direct", &p, Some(1));
        check_coverage(&r.transcript).unwrap();
        let msgs = r
            .transcript
            .events
            .iter()
            .filter(|e| matches!(e, Event::Message(_)))
            .count();
        assert_eq!(msgs, 2, "Connection Request and the refusal only");
        assert!(r.transcript.events.iter().any(|e| matches!(e,
            Event::Narration(n) if n.key == "rdp.failure.hybrid_required_by_server")));
    }
}
