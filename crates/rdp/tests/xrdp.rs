//! Our RDP client against xrdp (Debian `xrdp` 0.9.21), started here on a
//! loopback port with its own ini file, TLS certificate and log in a scratch
//! directory, killed by its PID. The client negotiates TLS in the X.224
//! exchange, runs the TLS 1.3 handshake, MCS Connect Initial / Response with
//! GCC, Erect Domain, Attach User, joins its user channel, the I/O channel and
//! cliprdr / rdpsnd / drdynvc, sends the Client Info PDU, is licensed, answers
//! Demand Active and finalizes; then it draws xrdp's login screen from the
//! bitmap updates, types into the login box with fast-path input and sees the
//! box redrawn. Every PDU xrdp sent is explained byte for byte by our field
//! trees. The picture is saved as `login.ppm` in the scratch directory.
//! A missing xrdp fails the test, never skips it.
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cipherstage_pki::{issue::issue_server, pem, Key, Pki, SCENARIO_NOW};
use cipherstage_rdp::fastpath::Input;
use cipherstage_rdp::{explained, ClientConfig, ClientEvent, ClientSession};
use cipherstage_transcript::rand::{Live, Seeded};

const XRDP: &str = "/usr/sbin/xrdp";
const HOST: &str = "rdp.example.net";
const DEADLINE: Duration = Duration::from_secs(30);

/// A child killed (by its PID) and reaped when dropped.
struct Peer(Child);

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The scratch directory: the test PKI's root, xrdp's certificate chain and key
/// (ECDSA P-256, issued by the intermediate for rdp.example.net), and xrdp.ini.
fn scratch(port: u16, tag: &str, bpp: u16, compression: bool) -> (PathBuf, Vec<u8>) {
    let dir =
        std::env::temp_dir().join(format!("cipherstage-rdp-xrdp-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut rng = Seeded::new(17);
    let p = Pki::build(&mut rng).unwrap();
    let key = Key::generate_ecdsa_p256(&mut rng).unwrap();
    let leaf = issue_server(&key, HOST, &p.intermediate).unwrap();
    std::fs::write(
        dir.join("cert.pem"),
        pem::encode("CERTIFICATE", &leaf) + &pem::encode("CERTIFICATE", &p.intermediate.der),
    )
    .unwrap();
    std::fs::write(
        dir.join("key.pem"),
        pem::encode("PRIVATE KEY", &key.pkcs8_v1()),
    )
    .unwrap();
    let d = dir.display();
    let ini = format!(
        "[Globals]\n\
         ini_version=1\n\
         fork=false\n\
         port={port}\n\
         address=127.0.0.1\n\
         security_layer=tls\n\
         crypt_level=none\n\
         certificate={d}/cert.pem\n\
         key_file={d}/key.pem\n\
         ssl_protocols=TLSv1.3\n\
         allow_channels=true\n\
         allow_multimon=false\n\
         bitmap_cache=false\n\
         bitmap_compression={compression}\n\
         bulk_compression=false\n\
         max_bpp={bpp}\n\
         new_cursors=false\n\
         use_fastpath=input\n\
         require_credentials=false\n\
         [Logging]\n\
         LogFile={d}/xrdp.log\n\
         LogLevel=DEBUG\n\
         EnableSyslog=false\n\
         [Channels]\n\
         rdpdr=true\nrdpsnd=true\ndrdynvc=true\ncliprdr=true\nrail=true\nxrdpvr=true\n\
         [Xorg]\n\
         name=Xorg\nlib=libxup.so\nusername=ask\npassword=ask\nip=127.0.0.1\nport=-1\ncode=20\n"
    );
    std::fs::write(dir.join("xrdp.ini"), ini).unwrap();
    (dir, p.root.der.clone())
}

fn start_xrdp(dir: &Path, port: u16) -> Peer {
    assert!(
        Path::new(XRDP).exists(),
        "{XRDP} is required: apt-get install xrdp (cargo xtask setup lists it)"
    );
    let child = Command::new(XRDP)
        .arg("-n")
        .arg("-p")
        .arg(port.to_string())
        .arg("-c")
        .arg(dir.join("xrdp.ini"))
        .stdin(Stdio::null())
        .stdout(Stdio::from(
            std::fs::File::create(dir.join("xrdp.stdout")).unwrap(),
        ))
        .stderr(Stdio::from(
            std::fs::File::create(dir.join("xrdp.stderr")).unwrap(),
        ))
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {XRDP}: {e}"));
    Peer(child)
}

fn connect(peer: &mut Peer, port: u16, dir: &Path) -> TcpStream {
    let until = Instant::now() + DEADLINE;
    loop {
        if let Ok(s) = TcpStream::connect(("127.0.0.1", port)) {
            return s;
        }
        if let Some(status) = peer.0.try_wait().unwrap() {
            let log = std::fs::read_to_string(dir.join("xrdp.stdout")).unwrap_or_default();
            panic!("xrdp exited ({status}) before listening:\n{log}");
        }
        assert!(Instant::now() < until, "xrdp did not listen in time");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// What one run against xrdp gave.
struct Run {
    dir: PathBuf,
    events: Vec<ClientEvent>,
    received: Vec<cipherstage_rdp::Msg>,
    fb: cipherstage_rdp::bitmap::Framebuffer,
    typed: bool,
    bitmaps_after_typing: usize,
}

fn run(tag: &str, bpp: u16, compression: bool) -> Run {
    let port = free_port();
    let (dir, root) = scratch(port, tag, bpp, compression);
    let mut peer = start_xrdp(&dir, port);
    let mut sock = connect(&mut peer, port, &dir);
    sock.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();

    let mut tls = cipherstage_tls::ClientConfig::new(HOST, vec![root], SCENARIO_NOW);
    tls.sni = Some(HOST.into());
    let mut config = ClientConfig::new("alice", "pw-rdp");
    config.bpp = bpp;
    let mut s = ClientSession::new(config, tls, Box::new(Live), 0);

    let mut events: Vec<ClientEvent> = Vec::new();
    let mut received: Vec<cipherstage_rdp::Msg> = Vec::new();
    let mut typed_at: Option<usize> = None;
    let mut bitmaps_after_typing = 0;
    let until = Instant::now() + DEADLINE;
    let mut buf = vec![0u8; 65536];
    // Reads that timed out in a row once the typed key was drawn (100 ms each).
    let mut quiet = 0;
    while Instant::now() < until {
        for o in s.take_output() {
            sock.write_all(&o.bytes).unwrap();
        }
        match sock.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                quiet = 0;
                s.receive(&buf[..n]);
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                quiet += 1;
            }
            Err(e) => panic!("read: {e}"),
        }
        assert!(!s.tls_failed(), "TLS failed: {:?}", s.take_events());
        for e in s.rdp.take_events() {
            if let ClientEvent::Bitmap(_) = &e {
                if typed_at.is_some() {
                    bitmaps_after_typing += 1;
                }
            }
            assert!(
                !matches!(e, ClientEvent::Error(_)),
                "{e:?} after {:?}",
                events
            );
            events.push(e);
        }
        received.extend(s.rdp.take_received());
        let bitmaps = events
            .iter()
            .filter(|e| matches!(e, ClientEvent::Bitmap(_)))
            .count();
        // Once the login screen is drawn (the updates have paused), type "a" into
        // the focused user-name box with fast-path input.
        if typed_at.is_none() && s.rdp.is_active() && bitmaps >= 5 {
            assert!(s.rdp.send_input(&[
                Input::Key {
                    code: 0x1E,
                    release: false
                },
                Input::Key {
                    code: 0x1E,
                    release: true
                },
            ]));
            typed_at = Some(received.len());
        }
        if bitmaps_after_typing > 0 && quiet >= 15 {
            break;
        }
    }

    let fb = s.rdp.framebuffer().clone();
    std::fs::write(dir.join("login.ppm"), fb.ppm()).unwrap();
    eprintln!(
        "xrdp's login screen as our client drew it: {}",
        dir.join("login.ppm").display()
    );
    drop(peer);
    Run {
        dir,
        events,
        received,
        fb,
        typed: typed_at.is_some(),
        bitmaps_after_typing,
    }
}

/// The checks both runs share: every step of the sequence, every byte explained,
/// xrdp's colours on the picture.
fn check(r: &Run) {
    let events = &r.events;
    let fb = &r.fb;

    assert!(events.contains(&ClientEvent::Negotiated(1)), "{events:?}");
    let connected = events
        .iter()
        .find_map(|e| match e {
            ClientEvent::Connected(sd) => Some(sd.clone()),
            _ => None,
        })
        .expect("MCS Connect Response");
    assert_eq!(connected.io_channel, 1003);
    assert_eq!(connected.channel_ids.len(), 3, "{connected:?}");
    let joined = events
        .iter()
        .filter(|e| matches!(e, ClientEvent::ChannelJoined(_)))
        .count();
    assert_eq!(joined, 5, "user, I/O and three static channels");
    assert!(events.contains(&ClientEvent::Licensed));
    assert!(events.contains(&ClientEvent::Active));
    assert!(r.typed, "no login screen: {events:?}");
    assert!(r.bitmaps_after_typing > 0, "the typed key drew nothing");

    // Every byte xrdp sent is explained.
    for m in &r.received {
        assert_eq!(
            explained(m.bytes.len(), &m.fields),
            Ok(()),
            "{} {:02x?}",
            m.label,
            &m.bytes[..m.bytes.len().min(64)]
        );
    }
    assert!(r
        .received
        .iter()
        .any(|m| m.label == "rdp.msg.bitmap_update"));

    // xrdp's login screen: its blue (#009cb5) background and grey (#dedede)
    // login box, as 16-bpp colours widen back to 24 bits.
    let count = |want: [u8; 3]| {
        fb.rgb
            .chunks(3)
            .filter(|p| p.iter().zip(want).all(|(a, b)| a.abs_diff(b) <= 8))
            .count()
    };
    let total = fb.width * fb.height;
    assert!(count([0x00, 0x9c, 0xb5]) > total / 2, "not xrdp's blue");
    assert!(count([0xde, 0xde, 0xde]) > total / 10, "no grey login box");
}

#[test]
fn our_client_reaches_xrdps_login_screen_over_tls_and_draws_it() {
    let r = run("plain", 24, false);
    check(&r);
    // Uncompressed: every rectangle is raw pixels.
    assert!(r
        .events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::Bitmap(rects) => Some(rects),
            _ => None,
        })
        .flatten()
        .all(|b| !b.compressed && b.bpp == 24));
    let _ = &r.dir;
}

#[test]
fn xrdps_interleaved_rle_decodes_as_ironrdp_decodes_it() {
    let r = run("rle", 16, true);
    check(&r);
    let rects: Vec<_> = r
        .events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::Bitmap(rects) => Some(rects),
            _ => None,
        })
        .flatten()
        .collect();
    let compressed: Vec<_> = rects.iter().filter(|b| b.compressed).collect();
    assert!(
        compressed.len() > 10,
        "xrdp sent {} compressed of {}",
        compressed.len(),
        rects.len()
    );
    for b in &compressed {
        let (w, h) = (usize::from(b.width), usize::from(b.height));
        let ours = cipherstage_rdp::bitmap::rle::decompress(&b.data, w, h, b.bpp).unwrap();
        let mut theirs = Vec::new();
        ironrdp_graphics::rle::decompress(&b.data, &mut theirs, w, h, usize::from(b.bpp)).unwrap();
        assert_eq!(ours, theirs, "{w}x{h} at {},{}", b.left, b.top);
    }
    eprintln!(
        "{} of {} rectangles were interleaved RLE; ours and IronRDP's pixels agree",
        compressed.len(),
        rects.len()
    );
}
