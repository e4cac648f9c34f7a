//! The IPsec core against published vectors and against itself.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used)]

use cipherstage_ipsec::ah::AhSa;
use cipherstage_ipsec::wire::esp::Trailer;
use cipherstage_ipsec::{
    run, run_with_export, Algorithm, Discard, EspSa, Inner, Mode, Params, Sad, Story, TamperAt,
};
use cipherstage_packets::{ipv4, tcp, IpProtocol, Ipv4Addr};
use cipherstage_transcript::*;
use ring::{aead, hmac};

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use cipherstage_testkit::tests;

const VECTORS: &str = include_str!("../testdata/esp-known-answers.vec");

struct Case {
    name: String,
    fields: Vec<(String, Vec<u8>)>,
}

impl Case {
    fn get(&self, k: &str) -> &[u8] {
        &self
            .fields
            .iter()
            .find(|(n, _)| n == k)
            .unwrap_or_else(|| panic!("{} lacks {k}", self.name))
            .1
    }
    fn u32(&self, k: &str) -> u32 {
        u32::from_be_bytes(self.get(k).try_into().unwrap())
    }
}

fn cases() -> Vec<Case> {
    let mut out: Vec<Case> = Vec::new();
    for line in VECTORS.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            out.push(Case {
                name: line.trim_matches(|c| c == '[' || c == ']').to_owned(),
                fields: Vec::new(),
            });
        } else if let Some((k, v)) = line.split_once('=') {
            if line.starts_with('#') {
                continue;
            }
            let hex: String = v.chars().filter(|c| !c.is_whitespace()).collect();
            out.last_mut()
                .unwrap()
                .fields
                .push((k.trim().to_owned(), hex_decode(&hex).unwrap()));
        }
    }
    out
}

fn algorithm_of(c: &Case) -> Algorithm {
    match (c.name.contains("ChaCha20"), c.get("key").len()) {
        (true, 32) => Algorithm::ChaCha20Poly1305,
        (false, 16) => Algorithm::Aes128Gcm,
        (false, 32) => Algorithm::Aes256Gcm,
        _ => panic!("unknown algorithm in {}", c.name),
    }
}

fn all_scenarios() -> [Story; 6] {
    [
        Story::Transport,
        Story::Tunnel,
        Story::Replay,
        Story::Tamper,
        Story::Ah,
        Story::Nat,
    ]
}

fn checks(t: &Transcript) -> Vec<(usize, String, Outcome)> {
    t.events
        .iter()
        .filter_map(|e| match e {
            Event::Check(c) => Some((c.actor, c.what.clone(), c.outcome.clone())),
            _ => None,
        })
        .collect()
}

fn narrations(t: &Transcript) -> Vec<&Narration> {
    t.events
        .iter()
        .filter_map(|e| match e {
            Event::Narration(n) => Some(n),
            _ => None,
        })
        .collect()
}

fn delivered(t: &Transcript) -> Vec<String> {
    narrations(t)
        .iter()
        .filter(|n| n.key == "ipsec.narr.delivered")
        .map(|n| n.args[0].1.clone())
        .collect()
}

fn failed(t: &Transcript) -> Vec<(String, FailReason)> {
    checks(t)
        .into_iter()
        .filter_map(|(_, w, o)| match o {
            Outcome::Failed(r) => Some((w, r)),
            _ => None,
        })
        .collect()
}

tests! {
    fn esp_known_answers_are_reproduced_byte_for_byte() {
        let cases = cases();
        assert_eq!(cases.len(), 2);
        for c in &cases {
            let alg = algorithm_of(c);
            let salt: [u8; 4] = c.get("salt").try_into().unwrap();
            let iv: [u8; 8] = c.get("iv").try_into().unwrap();
            let plaintext = c.get("plaintext");
            let (payload, trailer) = Trailer::split(plaintext).unwrap();
            let sa = EspSa::new(c.u32("spi"), alg, c.get("key"), salt).unwrap();
            let sealed = sa.seal_with_sequence(c.u32("seq"), trailer.next_header, payload, iv).unwrap();
            assert_eq!(hex_encode(&sealed.bytes), hex_encode(c.get("esp")), "{}", c.name);
            assert_eq!(sealed.trailer, trailer, "{}", c.name);
            // And the receiving side opens the published packet to the published plaintext.
            let mut inbound = EspSa::new(c.u32("spi"), alg, c.get("key"), salt).unwrap();
            let opened = inbound.open(c.get("esp")).unwrap();
            assert_eq!(opened.payload, payload);
            assert_eq!(opened.sequence, c.u32("seq"));
            assert_eq!(inbound.window().top(), c.u32("seq"));
            assert_eq!(inbound.open(c.get("esp")), Err(Discard::Replay(c.u32("seq"))));
        }
    }

    fn known_answer_inner_packets_parse_with_valid_checksums() {
        let cases = cases();
        // draft-mcgrew case 2 carries an IPv4/UDP DNS query; RFC 7634 an IPv4 ICMP echo.
        for (c, proto) in cases.iter().zip([IpProtocol::Udp, IpProtocol::Icmp]) {
            let (payload, _) = Trailer::split(c.get("plaintext")).unwrap();
            let p = ipv4::Packet::new_checked(payload).unwrap();
            let r = ipv4::Repr::parse(&p).unwrap();
            assert_eq!(r.protocol, proto);
        }
    }

    fn every_flipped_bit_of_a_known_answer_packet_fails_the_icv() {
        let c = &cases()[1];
        let salt: [u8; 4] = c.get("salt").try_into().unwrap();
        let esp = c.get("esp");
        for i in 8..esp.len() {
            let mut bad = esp.to_vec();
            bad[i] ^= 0x80;
            let mut sa = EspSa::new(c.u32("spi"), Algorithm::ChaCha20Poly1305, c.get("key"), salt).unwrap();
            let r = sa.open(&bad);
            if (4..8).contains(&i) { continue; }
            assert_eq!(r, Err(Discard::IcvMismatch), "byte {i}");
        }
    }

    fn unknown_spi_and_truncation_are_discarded_without_panic() {
        let c = &cases()[0];
        let salt: [u8; 4] = c.get("salt").try_into().unwrap();
        let mut sad = Sad::new();
        sad.insert(EspSa::new(0x1234, Algorithm::Aes128Gcm, c.get("key"), salt).unwrap());
        assert_eq!(sad.open(c.get("esp")), Err(Discard::UnknownSpi(0xa5f8)));
        for cut in 0..c.get("esp").len() {
            assert!(sad.open(&c.get("esp")[..cut]).is_err());
        }
        assert!(EspSa::new(1, Algorithm::Aes256Gcm, &[0; 16], salt).is_err());
    }

    fn seal_then_open_round_trips_for_every_algorithm_and_length() {
        for alg in Algorithm::ALL {
            let key = vec![7u8; alg.key_len()];
            let mut tx = EspSa::new(0x100, alg, &key, [1, 2, 3, 4]).unwrap();
            let mut rx = EspSa::new(0x100, alg, &key, [1, 2, 3, 4]).unwrap();
            for len in 0..40usize {
                let payload: Vec<u8> = (0..len as u8).collect();
                let s = tx.seal(6, &payload, [len as u8; 8]).unwrap();
                assert_eq!((s.bytes.len() - 16 - 16) % 4, 0);
                assert_eq!(s.bytes.len(), len + alg.overhead(len));
                let o = rx.open(&s.bytes).unwrap();
                assert_eq!(o.payload, payload);
                assert_eq!(o.sequence, len as u32 + 1);
            }
        }
    }

    fn ah_icv_is_hmac_sha256_128_over_the_header_with_mutable_fields_zeroed() {
        let key = [0x0bu8; 32];
        let inner = ipv4::Repr::new(Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(192, 0, 2, 2), IpProtocol::Udp, 0, 7)
            .packet(&[0, 1, 0, 2, 0, 8, 0, 0]);
        let mut tx = AhSa::new(0x4242, &key).unwrap();
        let p = tx.protect(&inner).unwrap();
        // Recompute independently: TOS, flags/offset, TTL, checksum and ICV set to zero.
        let mut m = p.bytes.clone();
        m[1] = 0;
        m[6..8].fill(0);
        m[8] = 0;
        m[10..12].fill(0);
        m[32..48].fill(0);
        let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &key), &m);
        assert_eq!(&p.bytes[32..48], &tag.as_ref()[..16]);
        assert_eq!(p.bytes[9], 51);
        assert_eq!(&p.bytes[20..24], &[17, 5, 0, 0]);
        // A router changing the TTL does not matter; a NAT changing the source does.
        let mut rx = AhSa::new(0x4242, &key).unwrap();
        let mut routed = ipv4::Packet::new_unchecked(p.bytes.clone());
        routed.set_ttl(3);
        routed.fill_checksum();
        let out = rx.verify(&routed.into_inner()).unwrap();
        assert_eq!(ipv4::Packet::new_checked(&out[..]).unwrap().payload(), &inner[20..]);
        assert_eq!(ipv4::Packet::new_checked(&out[..]).unwrap().protocol(), IpProtocol::Udp);
        let mut natted = ipv4::Packet::new_unchecked(p.bytes.clone());
        natted.set_src_addr(Ipv4Addr::new(203, 0, 113, 7));
        natted.fill_checksum();
        let mut rx = AhSa::new(0x4242, &key).unwrap();
        assert_eq!(rx.verify(&natted.into_inner()), Err(Discard::IcvMismatch));
    }

    fn every_scenario_explains_every_byte_for_every_algorithm_mode_and_mtu() {
        for id in all_scenarios() {
            for alg in Algorithm::ALL {
                for mode in [Mode::Transport, Mode::Tunnel] {
                    for mtu in [1500, 68, 120] {
                        for (nat, inner) in [(true, Inner::Http), (false, Inner::Ping)] {
                            let p = Params { algorithm: alg, mode, mtu, nat, inner, ..Params::default() };
                            let t = run(id, &p, Some(11));
                            assert_eq!(check_coverage(&t), Ok(()), "{id} {alg:?} {mode:?} {mtu}");
                            assert!(t.messages().count() >= 1);
                            for m in t.messages() {
                                assert!(m.bytes.len() <= mtu.max(68), "{id} {mtu}");
                            }
                        }
                    }
                }
            }
        }
    }

    fn same_seed_same_json_other_seed_other_bytes() {
        for id in all_scenarios() {
            let p = Params::default();
            let a = run(id, &p, Some(42));
            let b = run(id, &p, Some(42));
            let c = run(id, &p, Some(43));
            assert_eq!(a.to_json(), b.to_json(), "{id}");
            assert_ne!(a.messages().next().unwrap().bytes, c.messages().next().unwrap().bytes, "{id}");
        }
    }

    fn happy_scenarios_deliver_the_payload_and_pass_every_check() {
        for id in [Story::Transport, Story::Tunnel, Story::Nat] {
            for alg in Algorithm::ALL {
                for mtu in [1500, 96] {
                    let p = Params { algorithm: alg, payload: "こんにちは、サーバー".into(), mtu, ..Params::default() };
                    let t = run(id, &p, Some(5));
                    assert_eq!(failed(&t), vec![], "{id}");
                    assert_eq!(delivered(&t), vec![p.payload.clone(), "HTTP/1.1 200 OK".to_owned()], "{id} {alg:?} {mtu}");
                    assert!(!t.events.iter().any(|e| matches!(e, Event::Alert(_))));
                }
            }
        }
    }

    fn the_eavesdropper_never_sees_the_payload_in_esp() {
        for id in [Story::Transport, Story::Tunnel, Story::Nat] {
            let p = Params { payload: "secret salary table".into(), ..Params::default() };
            let t = run(id, &p, Some(9));
            let mut plain_seen = 0;
            for m in t.messages() {
                let watched = t.links[m.link].observers.contains(&t.actors.iter().position(|a| a.role == Role::Eavesdropper).unwrap());
                let visible = m.bytes.windows(p.payload.len()).any(|w| w == p.payload.as_bytes());
                assert!(!(watched && visible), "{id}: {}", m.label);
                if m.protocol == "ip" && visible {
                    plain_seen += 1;
                }
            }
            if id != Story::Transport {
                assert!(plain_seen >= 1, "{id}: the private networks carry the plain packet");
            }
        }
        // AH does not encrypt: the payload is readable on the internet link.
        let t = run(Story::Ah, &Params { payload: "secret salary table".into(), ..Params::default() }, Some(9));
        assert!(t.messages().all(|m| m.bytes.windows(19).any(|w| w == b"secret salary table")));
    }

    fn transport_keeps_the_header_tunnel_hides_the_inner_addresses() {
        let t = run(Story::Transport, &Params::default(), Some(3));
        let m = t.messages().next().unwrap();
        assert_eq!(m.bytes[9], 50);
        assert_eq!(&m.bytes[12..20], &[192, 0, 2, 10, 198, 51, 100, 20]);
        let t = run(Story::Tunnel, &Params::default(), Some(3));
        let esp: Vec<&Message> = t.messages().filter(|m| m.protocol == "esp").collect();
        assert_eq!(esp.len(), 2);
        assert_eq!(&esp[0].bytes[12..20], &[203, 0, 113, 1, 198, 51, 100, 1]);
        assert!(!esp[0].bytes.windows(4).any(|w| w == [10, 2, 0, 20]));
        // Overhead: transport adds ESP only; tunnel adds a second IPv4 header too.
        let plain = t.messages().next().unwrap().bytes.len();
        let n = narrations(&t).into_iter().find(|n| n.key == "ipsec.narr.overhead").unwrap();
        let arg = |k: &str| n.args.iter().find(|(a, _)| a == k).unwrap().1.parse::<usize>().unwrap();
        assert_eq!(arg("inner"), plain);
        assert_eq!(arg("tunnel"), esp[0].bytes.len());
        // Tunnel mode adds the 20-byte outer header; padding to 4 bytes moves it by up to 3.
        let diff = arg("tunnel_added") - arg("transport_added");
        assert!((17..=23).contains(&diff), "{diff}");
        // Transport: 16 (SPI, SN, IV) + padding + 2 + 16 (ICV), i.e. 34..=37 bytes.
        assert!((34..=37).contains(&arg("transport_added")), "{}", arg("transport_added"));
    }

    fn the_replayed_packet_is_refused_by_the_window_not_the_icv() {
        for mode in [Mode::Transport, Mode::Tunnel] {
            let t = run(Story::Replay, &Params { mode, ..Params::default() }, Some(4));
            let c = checks(&t);
            let accepted = c.iter().filter(|(_, w, o)| w == "ipsec.check.icv" && *o == Outcome::Passed).count();
            assert_eq!(accepted, 3);
            assert_eq!(failed(&t), vec![("ipsec.check.replay".to_owned(), FailReason::Replay)]);
            let msgs: Vec<&Message> = t.messages().collect();
            assert_eq!(msgs.len(), 4);
            assert_eq!(msgs[3].bytes, msgs[1].bytes);
            assert_eq!(msgs[3].from, 2);
            assert!(t.events.iter().any(|e| matches!(e, Event::Alert(a) if a.key == "ipsec.alert.replay")));
        }
    }

    fn every_flipped_byte_is_caught_by_the_right_check() {
        for mode in [Mode::Transport, Mode::Tunnel] {
            let len = run(Story::Tamper, &Params { mode, ..Params::default() }, Some(8)).messages().next().unwrap().bytes.len();
            for offset in 0..len {
                let p = Params { mode, tamper: Some(TamperAt { message: 0, offset }), ..Params::default() };
                let t = run(Story::Tamper, &p, Some(8));
                assert_eq!(check_coverage(&t), Ok(()));
                let expected = match offset {
                    0..=19 => ("ipsec.check.ip_header", FailReason::Malformed),
                    20..=23 => ("ipsec.check.spi", FailReason::Untrusted),
                    _ => ("ipsec.check.icv", FailReason::TagMismatch),
                };
                let f = failed(&t);
                // Sequence number 1 with its low bit flipped is 0, which is never valid.
                if offset == 27 {
                    assert_eq!(f, vec![("ipsec.check.replay".to_owned(), FailReason::Replay)]);
                } else {
                    assert_eq!(f, vec![(expected.0.to_owned(), expected.1)], "{mode:?} offset {offset}");
                }
                assert!(delivered(&t).is_empty());
                assert_eq!(t.messages().next().unwrap().tampered.unwrap().offset, offset);
            }
        }
    }

    fn ah_survives_a_router_but_not_a_nat() {
        let t = run(Story::Ah, &Params { nat: false, ..Params::default() }, Some(2));
        assert_eq!(failed(&t), vec![]);
        assert_eq!(delivered(&t), vec![Params::default().payload]);
        let t = run(Story::Ah, &Params { nat: true, ..Params::default() }, Some(2));
        assert_eq!(failed(&t), vec![("ipsec.check.ah_icv".to_owned(), FailReason::TagMismatch)]);
        let msgs: Vec<&Message> = t.messages().collect();
        assert_eq!(&msgs[1].bytes[12..16], &[203, 0, 113, 7]);
    }

    fn esp_in_udp_uses_port_4500_and_the_nat_rewrites_the_outer_header_only() {
        let t = run(Story::Nat, &Params::default(), Some(6));
        let msgs: Vec<&Message> = t.messages().collect();
        let (home, internet) = (msgs[0], msgs[1]);
        assert_eq!(home.bytes[9], 17);
        assert_eq!(&home.bytes[20..24], &[0x11, 0x94, 0x11, 0x94]);
        assert_eq!(&internet.bytes[12..16], &[203, 0, 113, 7]);
        assert_eq!(&home.bytes[28..], &internet.bytes[28..], "ESP bytes unchanged by the NAT");
        assert_eq!(&internet.bytes[26..28], &[0, 0], "UDP checksum zero (RFC 3948)");
    }

    fn transcript_secrets_open_the_wire_bytes_with_ring_directly() {
        for alg in Algorithm::ALL {
            let t = run(Story::Transport, &Params { algorithm: alg, ..Params::default() }, Some(12));
            let secret = |name: &str| t.events.iter().find_map(|e| match e {
                Event::Secret(s) if s.name == name => Some(s.bytes.clone()),
                _ => None,
            }).unwrap();
            let (key, salt) = (secret("ipsec.secret.esp_key_fwd"), secret("ipsec.secret.esp_salt_fwd"));
            let m = t.messages().next().unwrap();
            let esp = &m.bytes[20..];
            let ring_alg = match alg {
                Algorithm::Aes128Gcm => &aead::AES_128_GCM,
                Algorithm::Aes256Gcm => &aead::AES_256_GCM,
                Algorithm::ChaCha20Poly1305 => &aead::CHACHA20_POLY1305,
            };
            let k = aead::LessSafeKey::new(aead::UnboundKey::new(ring_alg, &key).unwrap());
            let mut nonce = [0u8; 12];
            nonce[..4].copy_from_slice(&salt);
            nonce[4..].copy_from_slice(&esp[8..16]);
            let mut body = esp[16..].to_vec();
            let plain = k.open_in_place(aead::Nonce::assume_unique_for_key(nonce), aead::Aad::from(&esp[..8]), &mut body).unwrap();
            let seg = tcp::Packet::new_checked(&plain[..plain.len() - 2 - plain[plain.len() - 2] as usize]).unwrap();
            assert_eq!(seg.payload(), Params::default().payload.as_bytes());
            assert_eq!(plain[plain.len() - 1], 6, "next header TCP");
        }
    }

    fn export_lists_the_sas_of_the_captured_link() {
        let (t, e) = run_with_export(Story::Nat, &Params::default(), Some(1));
        assert_eq!(e.sas.len(), 2);
        assert_eq!(e.sas[0].src, Ipv4Addr::new(203, 0, 113, 7));
        assert_eq!(e.packets.len(), t.messages().filter(|m| m.link == 1).count());
        let pcap = e.pcapng();
        assert_eq!(&pcap[..4], &[0x0a, 0x0d, 0x0d, 0x0a]);
        assert_eq!(pcap.len() % 4, 0);
    }
}

tests! {
    fn a_ping_is_echoed_through_every_happy_scenario() {
        for id in [Story::Transport, Story::Tunnel, Story::Nat] {
            let p = Params { inner: Inner::Ping, payload: "ping 0123456789".into(), ..Params::default() };
            let t = run(id, &p, Some(5));
            assert_eq!(failed(&t), vec![], "{id}");
            assert_eq!(delivered(&t), vec![p.payload.clone(), p.payload.clone()], "{id}");
            assert_eq!(check_coverage(&t), Ok(()));
        }
    }

    fn the_same_inner_packet_costs_more_in_tunnel_mode() {
        for alg in Algorithm::ALL {
            let t = run(Story::Compare, &Params { algorithm: alg, ..Params::default() }, Some(5));
            assert_eq!(failed(&t), vec![]);
            let m: Vec<&Message> = t.messages().collect();
            assert_eq!(m.len(), 2);
            assert_eq!((m[0].bytes[9], m[1].bytes[9]), (50, 50));
            // Tunnel mode carries the whole 20-byte inner header too; padding may differ by up to 3.
            let diff = m[1].bytes.len() - m[0].bytes.len();
            assert!((17..=23).contains(&diff) && (m[1].bytes.len() - 20 - 16 - 16) & 3 == 0, "{diff}");
            let n = narrations(&t).into_iter().find(|n| n.key == "ipsec.narr.compare").unwrap();
            assert_eq!(n.args[3].1, diff.to_string());
            assert_eq!(delivered(&t), vec![Params::default().payload; 2]);
        }
    }
}

tests! {
    fn chosen_addresses_are_used_outside_in_transport_and_inside_in_tunnel_mode() {
        let (a, b) = (Ipv4Addr::new(172, 16, 0, 1), Ipv4Addr::new(172, 16, 9, 9));
        let p = Params { addr_a: Some(a), addr_b: Some(b), ..Params::default() };
        let t = run(Story::Transport, &p, Some(1));
        let m = t.messages().next().unwrap();
        assert_eq!(&m.bytes[12..20], &[172, 16, 0, 1, 172, 16, 9, 9]);
        let t = run(Story::Tunnel, &p, Some(1));
        let m: Vec<&Message> = t.messages().collect();
        assert_eq!(&m[0].bytes[12..20], &[172, 16, 0, 1, 172, 16, 9, 9], "LAN A: plain inner packet");
        assert!(!m[1].bytes.windows(4).any(|w| w == [172, 16, 9, 9]), "internet: inner addresses encrypted");
        assert_eq!(failed(&t), vec![]);
        assert_eq!(check_coverage(&t), Ok(()));
    }
}

tests! {
    fn live_randomness_runs_succeed_and_differ() {
        let a = run(Story::Tunnel, &Params::default(), None);
        let b = run(Story::Tunnel, &Params::default(), None);
        assert_eq!(a.seed, None);
        assert_eq!(failed(&a), vec![]);
        assert_eq!(delivered(&a).len(), 2);
        let esp = |t: &Transcript| t.messages().find(|m| m.protocol == "esp").unwrap().bytes.clone();
        assert_ne!(esp(&a), esp(&b));
    }
}
