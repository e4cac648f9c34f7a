//! What the RDP fuzz targets share: our client and server (a small desktop) and
//! the ways of feeding them bytes.
#![allow(dead_code)]
use cipherstage_rdp::codec::Reader;
use cipherstage_rdp::fastpath::Input;
use cipherstage_rdp::server::{Desktop, Security};
use cipherstage_rdp::{bitmap, mcs, pdu, x224, Client, ClientConfig, Msg, Server, ServerConfig};
use cipherstage_transcript::check_fields;

fn explained(msgs: Vec<Msg>) -> Vec<Vec<u8>> {
    msgs.into_iter()
        .map(|m| {
            check_fields(&m.fields, 0, m.bytes.len())
                .unwrap_or_else(|e| panic!("{}: {e:?}", m.label));
            m.bytes
        })
        .collect()
}

fn server() -> Server {
    let (w, h) = (64u16, 48u16);
    let rgb = (0..usize::from(w) * usize::from(h) * 3)
        .map(|i| (i * 7) as u8)
        .collect();
    Server::new(ServerConfig {
        security: Security::Tls,
        desktop: Desktop {
            width: w,
            height: h,
            rgb,
        },
        bpp: 16,
        tile: 32,
    })
}

fn client() -> Client {
    let mut c = ClientConfig::new("alice", "pw-rdp");
    c.width = 64;
    c.height = 48;
    Client::new(c)
}

pub fn decoders(d: &[u8]) {
    let run = |f: &dyn Fn(&mut Reader<'_>)| {
        let mut r = Reader::new(d, 0);
        f(&mut r);
        let _ = r.finish();
    };
    run(&|r| {
        if let Ok(mut body) = x224::read_tpkt(r) {
            let _ = x224::read_connection_confirm(&mut body);
        }
    });
    run(&|r| {
        if x224::read_data_header(r).is_ok() {
            let _ = mcs::read_domain_pdu(r);
        }
    });
    run(&|r| {
        let _ = mcs::read_connect_response(r);
    });
    run(&|r| {
        let _ = mcs::read_connect_initial(r);
    });
    run(&|r| {
        let _ = mcs::read_domain_pdu(r);
    });
    run(&|r| {
        let _ = pdu::read_license(r);
    });
    run(&|r| {
        let _ = pdu::read_share_pdu(r);
    });
    run(&|r| {
        let _ = pdu::read_channel_pdu(r);
    });
    run(&|r| {
        if let Ok(rects) = pdu::read_bitmap_data(r) {
            let mut fb = bitmap::Framebuffer::new(64, 48);
            for rect in &rects {
                let _ = bitmap::decode(rect);
                let _ = fb.draw(rect);
            }
        }
    });
}

/// Feeds `stream` to a client or server in pieces, skipping TLS when it is due.
pub fn fresh(server_side: bool, d: &[u8]) {
    let (chunk, stream) = d
        .split_first()
        .map_or((1, d), |(c, r)| (usize::from(*c).max(1), r));
    if server_side {
        let mut s = server();
        for piece in stream.chunks(chunk) {
            s.receive(piece);
            if s.wants_tls() {
                s.tls_started();
                let early = s.take_leftover();
                s.receive(&early);
            }
            let _ = explained(s.take_output());
            let _ = s.take_events();
        }
    } else {
        let mut c = client();
        let _ = explained(c.take_output());
        for piece in stream.chunks(chunk) {
            c.receive(piece);
            if c.wants_tls() {
                c.tls_started();
                let early = c.take_leftover();
                c.receive(&early);
            }
            let _ = explained(c.take_output());
            let _ = explained(c.take_received());
            let _ = c.take_events();
        }
    }
}

fn mutate(p: &mut Vec<u8>, how: u8, with: &[u8]) {
    match how % 3 {
        0 => {
            for (b, x) in p.iter_mut().zip(with.iter().cycle()) {
                *b ^= *x;
            }
        }
        1 => *p = with.to_vec(),
        _ => p.truncate(with.first().map_or(0, |n| usize::from(*n))),
    }
}

pub fn pair(d: &[u8]) {
    let [at, how, with @ ..] = d else { return };
    let (mut c, mut s) = (client(), server());
    let mut n = 0u8;
    // What each side received, for seeding the single-side modes (RDP_SEED_DIR).
    let (mut to_client, mut to_server) = (vec![1u8, 255], vec![2u8, 255]);
    for _ in 0..64 {
        let mut quiet = true;
        for p in explained(c.take_output()) {
            quiet = false;
            let mut p = p;
            if n == *at {
                if how & 0x80 != 0 {
                    s.receive(with);
                } else {
                    mutate(&mut p, *how, with);
                }
            }
            n = n.wrapping_add(1);
            to_server.extend_from_slice(&p);
            s.receive(&p);
        }
        for p in explained(s.take_output()) {
            quiet = false;
            let mut p = p;
            if n == *at {
                if how & 0x80 != 0 {
                    c.receive(with);
                } else {
                    mutate(&mut p, *how, with);
                }
            }
            n = n.wrapping_add(1);
            to_client.extend_from_slice(&p);
            c.receive(&p);
        }
        // Both skip TLS when it is due: what follows is the clear stream inside it.
        if c.wants_tls() {
            c.tls_started();
            quiet = false;
        }
        if s.wants_tls() {
            s.tls_started();
        }
        let _ = explained(c.take_received());
        let _ = (c.take_events(), s.take_events());
        if quiet {
            break;
        }
    }
    if let Some(dir) = std::env::var_os("RDP_SEED_DIR") {
        let dir = std::path::PathBuf::from(dir);
        let _ = std::fs::write(dir.join("client-stream"), &to_client);
        let _ = std::fs::write(dir.join("server-stream"), &to_server);
    }
    if c.is_active() {
        let events: Vec<Input> = with
            .chunks(5)
            .map(|e| match e {
                [k, x0, x1, y0, y1] if k & 1 == 0 => Input::Mouse {
                    flags: u16::from(*k) << 8,
                    x: u16::from_le_bytes([*x0, *x1]),
                    y: u16::from_le_bytes([*y0, *y1]),
                },
                [k, r, ..] => Input::Key {
                    code: *k,
                    release: r & 1 != 0,
                },
                [k] => Input::Key {
                    code: *k,
                    release: false,
                },
                [] => Input::Key {
                    code: 0,
                    release: false,
                },
            })
            .collect();
        let _ = c.send_input(&events);
        for p in explained(c.take_output()) {
            s.receive(&p);
        }
        let _ = explained(s.take_output());
        let _ = s.take_events();
    }
}
