//! tshark, an independent implementation, checks our IPv4, UDP, TCP (IPv4 and IPv6
//! pseudo headers) and ICMP checksums and reassembles our IPv4 fragments.
//! tshark must be installed (`apt-get install tshark`); a missing tshark fails.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used)]

use std::process::Command;

use cipherstage_packets::checksum::PseudoHeader;
use cipherstage_packets::*;

/// A classic libpcap file, link type 101 (raw IP).
fn pcap(packets: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    for v in [0u32, 0, 65535, 101] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    for (i, p) in packets.iter().enumerate() {
        for v in [i as u32, 0, p.len() as u32, p.len() as u32] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(p);
    }
    out
}

fn packets() -> Vec<Vec<u8>> {
    let (a, b) = (Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(198, 51, 100, 2));
    let ph4 = PseudoHeader::V4 { src: a, dst: b };
    let (a6, b6): (Ipv6Addr, Ipv6Addr) = (
        "2001:db8::1".parse().unwrap(),
        "2001:db8::2".parse().unwrap(),
    );
    let ph6 = PseudoHeader::V6 { src: a6, dst: b6 };
    let seg = |ph: &PseudoHeader, odd: bool| {
        tcp::Repr {
            src_port: 50000,
            dst_port: 80,
            seq_number: 0x1234_5678,
            ack_number: 0x9abc_def0,
            flags: tcp::FLAG_PSH | tcp::FLAG_ACK,
            window_len: 502,
            urgent_at: 0,
            options: vec![1, 1, 1, 1],
        }
        .emit(
            if odd {
                b"GET / HTTP/1.1"
            } else {
                b"GET /x HTTP/1.1"
            },
            ph,
        )
    };
    let udp4 = udp::Repr {
        src_port: 5353,
        dst_port: 53,
    }
    .emit(b"odd-length query", udp::ChecksumMode::Compute(ph4));
    let udp6 = udp::Repr {
        src_port: 5353,
        dst_port: 53,
    }
    .emit(b"query", udp::ChecksumMode::Compute(ph6));
    let ping = icmpv4::Repr {
        request: true,
        ident: 0x1234,
        seq: 7,
    }
    .emit(b"abcdefghijklmnopqrstuvwxyz");
    let v4 = |proto, body: &[u8], id| ipv4::Repr::new(a, b, proto, body.len(), id).packet(body);
    let v6 = |proto, body: &[u8]| {
        ipv6::Repr {
            src_addr: a6,
            dst_addr: b6,
            next_header: proto,
            payload_len: body.len(),
            hop_limit: 64,
            traffic_class: 0,
            flow_label: 0x12345,
        }
        .packet(body)
    };
    let big: Vec<u8> = (0..600u32).map(|i| (i % 251) as u8).collect();
    let big = icmpv4::Repr {
        request: true,
        ident: 9,
        seq: 1,
    }
    .emit(&big);
    let mut out = vec![
        v4(IpProtocol::Tcp, &seg(&ph4, true), 1),
        v4(IpProtocol::Tcp, &seg(&ph4, false), 2),
        v4(IpProtocol::Udp, &udp4, 3),
        v4(IpProtocol::Icmp, &ping, 4),
        v6(IpProtocol::Tcp, &seg(&ph6, true)),
        v6(IpProtocol::Udp, &udp6),
    ];
    out.extend(ipv4::fragment(&v4(IpProtocol::Icmp, &big, 5), 200).unwrap());
    out
}

#[test]
fn tshark_finds_every_checksum_good_and_reassembles_fragments() {
    let packets = packets();
    let path =
        std::env::temp_dir().join(format!("cipherstage-packets-{}.pcap", std::process::id()));
    std::fs::write(&path, pcap(&packets)).unwrap();
    let mut cmd = Command::new("tshark");
    cmd.arg("-r").arg(&path);
    for o in [
        "ip.check_checksum:TRUE",
        "tcp.check_checksum:TRUE",
        "udp.check_checksum:TRUE",
    ] {
        cmd.args(["-o", o]);
    }
    cmd.args(["-T", "fields", "-E", "separator=/t"]);
    for f in [
        "ip.checksum.status",
        "tcp.checksum.status",
        "udp.checksum.status",
        "icmp.checksum.status",
        "ipv6.flow",
        "ip.reassembled.length",
        "tcp.len",
    ] {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().expect(
        "tshark is required for this test (apt-get install -y tshark); it is not installed",
    );
    let _ = std::fs::remove_file(&path);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(rows.len(), packets.len());
    for (i, r) in rows.iter().enumerate() {
        for status in &r[..4] {
            assert!(
                status.is_empty() || status.split(',').all(|s| s == "1"),
                "frame {}: {r:?}",
                i + 1
            );
        }
    }
    // TCP over IPv4 and IPv6, UDP over both, ICMP: each verified (status 1) where present.
    assert_eq!(rows[0][1], "1");
    assert_eq!(rows[1][1], "1");
    assert_eq!(rows[2][2], "1");
    assert_eq!(rows[3][3], "1");
    assert_eq!(rows[4][1], "1");
    assert_eq!(rows[5][2], "1");
    assert_eq!(rows[0][6], "14");
    assert_eq!(
        u32::from_str_radix(rows[4][4].trim_start_matches("0x"), 16).unwrap(),
        0x12345
    );
    // The fragments: tshark reassembles 628 bytes of ICMP and verifies its checksum.
    let last = rows.last().unwrap();
    assert_eq!(last[5], "608");
    assert_eq!(last[3], "1");
}
