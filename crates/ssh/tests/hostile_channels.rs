//! Our server after login, fed 20,000 messages built from random bytes (every
//! connection-protocol message type, channel numbers near the ones in use, SFTP
//! and SCP bytes inside channel data): it never panics, answers or ends with a
//! typed error, and never holds more than its channel limit.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used)]

use cipherstage_ssh::scenario::{peers, Params};
use cipherstage_ssh::sftp::MemFs;
use cipherstage_ssh::wire::Msg;
use cipherstage_transcript::rand::{RandomSource, Seeded};

#[test]
fn random_connection_messages_never_panic_the_server() {
    let mut rng = Seeded::new(21);
    let mut ended = 0;
    for round in 0..20u32 {
        let (mut client, mut server) = peers(&Params {
            command: "cat".into(),
            ..Params::default()
        })
        .unwrap();
        server.serve_sftp(MemFs::demo("alice", 0));
        server.allow_forwarding(true);
        let mut events = Vec::new();
        let mut to_server: Vec<u8> = client
            .start(&mut rng)
            .unwrap()
            .into_iter()
            .flat_map(|o| o.bytes)
            .collect();
        let mut to_client: Vec<u8> = server
            .start(&mut rng)
            .unwrap()
            .into_iter()
            .flat_map(|o| o.bytes)
            .collect();
        // Log in and open the `cat` session.
        for _ in 0..50 {
            let out = client
                .receive(&core::mem::take(&mut to_client), &mut rng, &mut events)
                .unwrap();
            to_server.extend(out.into_iter().flat_map(|o| o.bytes));
            let out = server
                .receive(&core::mem::take(&mut to_server), &mut rng, &mut events)
                .unwrap();
            to_client.extend(out.into_iter().flat_map(|o| o.bytes));
        }
        assert_eq!(server.open_channels(), 1, "round {round}");
        // Two more sessions: the sftp subsystem and `scp -t upload`, so random data
        // reaches the SFTP and SCP decoders too.
        use cipherstage_ssh::wire::ChannelRequestKind;
        for (sender, kind) in [
            (
                1,
                ChannelRequestKind::Subsystem {
                    name: "sftp".into(),
                },
            ),
            (
                2,
                ChannelRequestKind::Exec {
                    command: "scp -t upload".into(),
                },
            ),
        ] {
            for m in [
                Msg::ChannelOpen {
                    kind: "session".into(),
                    sender,
                    window: 1 << 20,
                    max_packet: 32768,
                    rest: Vec::new(),
                },
                Msg::ChannelRequest {
                    recipient: sender,
                    want_reply: true,
                    kind,
                },
            ] {
                let out = client.send_raw(&m, &mut rng).unwrap();
                let bytes: Vec<u8> = out.into_iter().flat_map(|o| o.bytes).collect();
                server.receive(&bytes, &mut rng, &mut events).unwrap();
            }
        }
        assert_eq!(server.open_channels(), 3, "round {round}");
        // Now anything, 1,000 messages per round.
        let numbers = [
            80u8, 81, 82, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100, 2, 4, 20, 77,
        ];
        for i in 0..1000u32 {
            let mut body = vec![0u8; (i % 70) as usize + 1];
            rng.fill(&mut body).unwrap();
            body[0] = numbers[(i as usize) % numbers.len()];
            // Channel numbers near 0, so they hit open channels.
            if body.len() >= 5 && i % 3 != 0 {
                body[1..5].copy_from_slice(&(i % 4).to_be_bytes());
            }
            // Every other message: the random bytes as data on channel 0 (cat), 1
            // (sftp) or 2 (scp -t), sometimes framed as an SFTP packet.
            let msg = match Msg::parse(&body) {
                Ok(m) if i % 2 == 0 => m,
                _ => {
                    let mut data = body.clone();
                    if i % 4 == 1 {
                        let mut framed = (data.len() as u32).to_be_bytes().to_vec();
                        framed.append(&mut data);
                        data = framed;
                    }
                    Msg::ChannelData {
                        recipient: i % 3,
                        data,
                    }
                }
            };
            let out = client.send_raw(&msg, &mut rng).unwrap();
            let bytes: Vec<u8> = out.into_iter().flat_map(|o| o.bytes).collect();
            match server.receive(&bytes, &mut rng, &mut events) {
                Ok(_) => {}
                Err(e) => {
                    ended += 1;
                    eprintln!("round {round}: {e:?} after {i} messages ({msg:?})");
                    break;
                }
            }
            assert!(server.open_channels() <= 64);
            events.clear();
        }
    }
    // Some rounds end with a typed error (a message that does not belong); none panicked.
    eprintln!("{ended} of 20 rounds ended with a typed error");
}
