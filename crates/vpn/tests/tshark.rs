//! The captures of a VPN run, read by tshark 4: on the LAN every header and TCP
//! checksum is good and the HTTP request is the laptop's; on the Internet, with the
//! TLS key log, tshark decrypts the records and finds the very same IP packets
//! inside. A missing tshark is a failure, not a skip.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use cipherstage_vpn::{captures, run, Params};

const TSHARK: &str = "/usr/bin/tshark";

fn tshark(args: &[&str]) -> String {
    assert!(
        Path::new(TSHARK).exists(),
        "{TSHARK} is required (apt-get install tshark)"
    );
    let mut child = Command::new(TSHARK)
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > until {
            let _ = child.kill();
            panic!("tshark timed out");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn tshark_reads_the_lan_and_decrypts_the_tunnel_to_the_same_packets() {
    let t = run("vpn-tls", &Params::default(), Some(1));
    let c = captures(&t);
    let dir = std::env::temp_dir().join(format!("cipherstage-vpn-tshark-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let lan = dir.join("lan.pcapng");
    let inet = dir.join("internet.pcapng");
    let keys = dir.join("keys.txt");
    std::fs::write(&lan, &c.lan).unwrap();
    std::fs::write(&inet, &c.internet).unwrap();
    std::fs::write(&keys, &c.keylog).unwrap();
    let fields = |file: &Path| {
        tshark(&[
            "-r",
            file.to_str().unwrap(),
            "-o",
            "ip.check_checksum:TRUE",
            "-o",
            "tcp.check_checksum:TRUE",
            "-T",
            "fields",
            "-e",
            "ip.src",
            "-e",
            "ip.dst",
            "-e",
            "ip.checksum.status",
            "-e",
            "tcp.checksum.status",
            "-e",
            "http.request.uri",
            "-e",
            "http.response.code",
        ])
    };
    // The office LAN: good checksums (status 1), the laptop's request and the answer.
    let expected = "10.8.0.2\t10.0.0.5\t1\t1\t/payroll\t\n10.0.0.5\t10.8.0.2\t1\t1\t\t200\n";
    assert_eq!(fields(&lan), expected);
    // The Internet: tshark decrypts the records with the key log; the application
    // data is the packets themselves, one router hop apart from the LAN's.
    let decrypted: Vec<Vec<u8>> = tshark(&[
        "-r",
        inet.to_str().unwrap(),
        "-o",
        &format!("tls.keylog_file:{}", keys.display()),
        "-d",
        "tls.port==443,data",
        "-T",
        "fields",
        "-e",
        "data.data",
    ])
    .lines()
    .filter(|l| !l.is_empty())
    .map(|l| {
        (0..l.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&l[i..i + 2], 16).unwrap())
            .collect()
    })
    .collect();
    let on_lan: Vec<Vec<u8>> = t
        .messages()
        .filter(|m| m.link == 1)
        .map(|m| m.bytes.clone())
        .collect();
    assert_eq!(decrypted.len(), 2);
    // Request: tunneled with TTL 64, forwarded with 63. Reply: the other way round.
    for (tunneled, lan_pkt, hop) in [
        (&decrypted[0], &on_lan[0], 1u8),
        (&on_lan[1], &decrypted[1], 1u8),
    ] {
        assert_eq!(tunneled.len(), lan_pkt.len());
        assert_eq!(tunneled[8], lan_pkt[8] + hop, "TTL");
        for (i, (a, b)) in tunneled.iter().zip(lan_pkt.iter()).enumerate() {
            if ![8, 10, 11].contains(&i) {
                assert_eq!(a, b, "byte {i}");
            }
        }
    }
    // And tshark itself reads the decrypted bytes as valid IPv4/TCP/HTTP.
    let tunnel = dir.join("tunnel.pcapng");
    std::fs::write(&tunnel, cipherstage_packets::pcapng::raw_ip(&decrypted)).unwrap();
    let expected = "10.8.0.2\t10.0.0.5\t1\t1\t/payroll\t\n10.0.0.5\t10.8.0.2\t1\t1\t\t200\n";
    assert_eq!(fields(&tunnel), expected);
    let _ = std::fs::remove_dir_all(&dir);
}
