//! Our IKEv2 initiator against strongSwan's charon (Debian strongSwan 5.9.8) as
//! responder, over UDP on 127.0.0.1 with pre-shared keys: the IKE SA and the CHILD_SA
//! come up, `swanctl --list-sas` shows our SPIs and algorithms, and charon's own log
//! (`ike = 4`, `chd = 4`) prints SKEYSEED, every SK_* and the CHILD_SA keys — each
//! equal to ours. A missing charon fails the test; it never skips.
//!
//! Then charon initiates to our responder: it is assigned our pool's address and both
//! hold the same keys. A wrong PSK is AUTHENTICATION_FAILED; a KE of a group charon does
//! not take is answered INVALID_KE_PAYLOAD and our retry succeeds.
//!
//! The test starts charon itself with its own strongswan.conf (private ports, a private
//! vici socket, userspace ESP through kernel-libipsec, as no kernel IPsec is needed),
//! inside a network namespace it creates (so charon's TUN device, routes and virtual IP
//! stay there), and kills it by its PID when done. On a port other than 500 charon
//! frames IKE as on port 4500 (the non-ESP marker) and fakes a NAT to force UDP
//! encapsulation; our NAT detection must see that.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cipherstage_ike::{
    frame_nat_t, unframe_nat_t, Addr, Encr, Established, Group, Identity, Initiator,
    InitiatorConfig, Responder, ResponderConfig, Selector,
};
use cipherstage_transcript::rand::Seeded;
use cipherstage_transcript::{check_fields, hex_encode};

const CHARON: &str = "/usr/lib/ipsec/charon";
const SWANCTL: &str = "/usr/sbin/swanctl";
const PACKAGES: &str = "strongswan-charon strongswan-swanctl libstrongswan-standard-plugins \
                        libstrongswan-extra-plugins libcharon-extra-plugins";
const PSK: &str = "correct horse battery staple";

/// A charon started for one test, killed (by PID) when dropped.
struct Charon {
    child: Child,
    dir: PathBuf,
    port: u16,
}

impl Drop for Charon {
    fn drop(&mut self) {
        // SIGTERM by PID so charon removes its PID file, then SIGKILL if it lingers.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Set in the re-executed test process that runs inside the network namespace.
const INSIDE: &str = "CIPHERSTAGE_IKE_NETNS";

/// A network namespace the test creates (and removes when dropped).
struct Netns(String);

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

fn ip(ns: &str, args: &str) {
    let mut full = vec!["netns", "exec", ns, "ip"];
    full.extend(args.split(' '));
    let st = Command::new("ip")
        .args(&full)
        .status()
        .expect("ip (iproute2) runs");
    assert!(st.success(), "ip {args} in {ns}");
}

/// Runs the test `name` again, alone, inside a fresh network namespace with loopback up
/// and the office LAN address 10.0.0.1/24 on it: charon's userspace ESP
/// (kernel-libipsec) installs its TUN device, routes and rules there, never on the host.
/// Returns false in that inner run, which then does the work.
fn outside_netns(name: &str) -> bool {
    if std::env::var_os(INSIDE).is_some() {
        return false;
    }
    let _one = ONE_CHARON.lock().unwrap_or_else(|e| e.into_inner());
    let ns = Netns(
        format!("cs-ike-{}-{name}", std::process::id())
            .chars()
            .take(40)
            .collect(),
    );
    let st = Command::new("ip")
        .args(["netns", "add", &ns.0])
        .status()
        .expect("ip (iproute2) runs");
    assert!(st.success(), "ip netns add {}", ns.0);
    ip(&ns.0, "link set lo up");
    // The gateway's office-LAN address (no dummy-interface module here: on lo).
    ip(&ns.0, "addr add 10.0.0.1/24 dev lo");
    let exe = std::env::current_exe().unwrap();
    let out = Command::new("ip")
        .args(["netns", "exec", &ns.0])
        .arg(exe)
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(INSIDE, "1")
        .output()
        .expect("the test re-runs inside the namespace");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && text.contains("1 passed"),
        "inside {}:\n{text}",
        ns.0
    );
    // Shown with --nocapture: what the run inside printed.
    println!("{text}");
    true
}

/// Two distinct free UDP ports (both sockets held while asking, so they differ).
fn free_udp_ports() -> (u16, u16) {
    let a = UdpSocket::bind("127.0.0.1:0").unwrap();
    let b = UdpSocket::bind("127.0.0.1:0").unwrap();
    (
        a.local_addr().unwrap().port(),
        b.local_addr().unwrap().port(),
    )
}

impl Charon {
    fn vici(&self) -> String {
        format!("unix://{}", self.dir.join("charon.vici").display())
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("charon.log")).unwrap_or_default()
    }

    fn swanctl(&self, args: &[&str]) -> String {
        let out = Command::new(SWANCTL)
            .args(args)
            .args(["--uri", &self.vici()])
            .output()
            .expect("swanctl runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "swanctl {args:?} failed:\n{text}");
        text
    }

    /// Starts charon with `connections` and the PSK loaded, and waits for its vici socket.
    fn start(name: &str, connections: &str) -> Charon {
        Charon::start_with(name, connections, &[])
    }

    /// As [`Charon::start`], with credential files (`x509/…`, `x509ca/…`, `private/…`)
    /// written beside swanctl.conf before it is loaded.
    fn start_with(name: &str, connections: &str, files: &[(&str, String)]) -> Charon {
        for tool in [CHARON, SWANCTL] {
            assert!(
                Path::new(tool).exists(),
                "{tool} is missing: install the Debian packages {PACKAGES} \
                 (cargo xtask test does)"
            );
        }
        let dir =
            std::env::temp_dir().join(format!("cipherstage-ike-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let (port, nat_port) = free_udp_ports();
        let conf = format!(
            r#"charon {{
  port = {port}
  port_nat_t = {nat_port}
  install_routes = no
  install_virtual_ip = yes
  retransmit_tries = 2
  retransmit_timeout = 1
  load = random nonce aes sha1 sha2 hmac gcm chapoly curve25519 openssl kdf pem pkcs1 pkcs8 x509 pubkey constraints vici socket-default kernel-libipsec kernel-netlink attr
  plugins {{
    vici {{
      socket = unix://{dir}/charon.vici
    }}
  }}
  filelog {{
    log {{
      path = {dir}/charon.log
      default = 1
      ike = 4
      chd = 4
      cfg = 2
      net = 1
      enc = 1
      flush_line = yes
    }}
  }}
}}
"#,
            dir = dir.display()
        );
        std::fs::write(dir.join("strongswan.conf"), conf).unwrap();
        std::fs::write(
            dir.join("swanctl.conf"),
            format!(
                "{connections}\nsecrets {{\n  ike-home {{\n    id-a = vpn.example.com\n    id-b = home.example.com\n    secret = \"{PSK}\"\n  }}\n}}\n"
            ),
        )
        .unwrap();
        let child = Command::new(CHARON)
            .env("STRONGSWAN_CONF", dir.join("strongswan.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("charon starts");
        let charon = Charon { child, dir, port };
        let deadline = Instant::now() + Duration::from_secs(15);
        while !charon.dir.join("charon.vici").exists() {
            assert!(
                Instant::now() < deadline,
                "charon did not open its vici socket; its log:\n{}",
                charon.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        for (path, text) in files {
            let p = charon.dir.join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        let conf = charon.dir.join("swanctl.conf");
        let loaded =
            charon.swanctl(&["--load-all", "--noprompt", "--file", conf.to_str().unwrap()]);
        assert!(loaded.contains("loaded connection"), "{loaded}");
        charon
    }
}

/// The bytes charon's `%B` printed after `label => N bytes @ …` (its hex dump lines).
fn logged(log: &str, label: &str) -> Vec<Vec<u8>> {
    let lines: Vec<&str> = log.lines().collect();
    let mut found = Vec::new();
    for (n, line) in lines.iter().enumerate() {
        let Some(rest) = line.split_once(&format!("{label} => ")).map(|(_, r)| r) else {
            continue;
        };
        let Some(len) = rest.split(' ').next().and_then(|l| l.parse::<usize>().ok()) else {
            continue;
        };
        let mut bytes = Vec::new();
        for dump in &lines[n + 1..] {
            if bytes.len() == len {
                break;
            }
            // `NN[IKE]    0: 9D 2C …  ascii`: take at most 16 hex pairs after the offset.
            let Some((_, hex)) = dump.split_once(": ") else {
                break;
            };
            let want = (len - bytes.len()).min(16);
            for tok in hex.split(' ').filter(|t| !t.is_empty()).take(want) {
                bytes.push(u8::from_str_radix(tok, 16).expect("hex dump byte"));
            }
        }
        assert_eq!(bytes.len(), len, "{label}: a whole hex dump");
        found.push(bytes);
    }
    found
}

/// Runs our initiator against charon at `remote` from `sock`, at most 8 datagrams each way.
fn initiate(sock: &UdpSocket, remote: Addr, config: InitiatorConfig, seed: u64) -> Initiator {
    let mut rng = Seeded::new(seed);
    let mut i = Initiator::new(config);
    i.start(&mut rng).unwrap();
    let to = std::net::SocketAddr::from((remote.ip, remote.port));
    sock.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    for _ in 0..8 {
        let out = i.take_outgoing();
        if out.is_empty() {
            break;
        }
        for o in out {
            check_fields(&o.fields, 0, o.bytes.len()).unwrap();
            // charon on a port other than 500 speaks IKE as on 4500: marker first.
            sock.send_to(&frame_nat_t(&o.bytes), to).unwrap();
        }
        let mut buf = vec![0u8; 65_536];
        let Ok((n, _)) = sock.recv_from(&mut buf) else {
            break;
        };
        let ike = unframe_nat_t(&buf[..n]).expect("charon answers with the non-ESP marker");
        let _ = i.receive(ike, &mut rng);
    }
    i
}

/// One charon at a time: it keeps a PID file and a TUN device of fixed names.
static ONE_CHARON: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A socket for our end and the two addresses NAT detection hashes.
fn endpoints(charon: &Charon) -> (UdpSocket, Addr, Addr) {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let local = Addr {
        ip: [127, 0, 0, 1],
        port: sock.local_addr().unwrap().port(),
    };
    let remote = Addr {
        ip: [127, 0, 0, 1],
        port: charon.port,
    };
    (sock, local, remote)
}

const RESPONDER_CONN: &str = r#"connections {
  rw {
    version = 2
    local_addrs = 127.0.0.1
    proposals = PROPOSALS
    pools = vpool
    local {
      auth = psk
      id = vpn.example.com
    }
    remote {
      auth = psk
      id = home.example.com
    }
    children {
      net {
        local_ts = 10.0.0.0/24
        esp_proposals = ESP
        mode = tunnel
      }
    }
  }
}
pools {
  vpool {
    addrs = 10.10.0.1-10.10.0.20
    dns = 10.10.0.53
  }
}"#;

fn config(local: Addr, remote: Addr, encr: Encr, group: Group) -> InitiatorConfig {
    InitiatorConfig {
        encrs: vec![encr],
        groups: vec![group],
        child_encrs: vec![encr],
        id: Identity::fqdn("home.example.com"),
        peer_id: Some(Identity::fqdn("vpn.example.com")),
        psk: PSK.as_bytes().to_vec(),
        cert: None,
        trust: None,
        request_address: true,
        tsi: Selector::ANY,
        tsr: Selector::ANY,
        local,
        remote,
    }
}

/// charon's name of a transform in `--list-sas`.
fn suite_name(encr: Encr, group: Group) -> String {
    let e = match encr {
        Encr::AesGcm128 => "AES_GCM_16-128",
        Encr::AesGcm256 => "AES_GCM_16-256",
        Encr::ChaCha20Poly1305 => "CHACHA20_POLY1305",
    };
    let g = match group {
        Group::Curve25519 => "CURVE_25519",
        Group::Ecp256 => "ECP_256",
    };
    format!("{e}/PRF_HMAC_SHA2_256/{g}")
}

fn assert_charon_agrees(charon: &Charon, est: &Established, encr: Encr, group: Group) {
    let sas = charon.swanctl(&["--list-sas"]);
    let spi_i = hex_encode(&est.spi_i);
    let spi_r = hex_encode(&est.spi_r);
    assert!(sas.contains("ESTABLISHED, IKEv2"), "{sas}");
    assert!(
        sas.contains(&format!("{spi_i}_i")) && sas.contains(&format!("{spi_r}_r")),
        "IKE SPIs {spi_i} {spi_r}:\n{sas}"
    );
    assert!(
        sas.contains(&suite_name(encr, group)),
        "{}:\n{sas}",
        suite_name(encr, group)
    );
    assert!(sas.contains("INSTALLED, TUNNEL"), "{sas}");
    let esp = suite_name(encr, group)
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    assert!(sas.contains(&format!("ESP:{esp}")), "{esp}:\n{sas}");
    // charon receives on the SPI it chose (our spi_r) and sends on ours (spi_i).
    assert!(
        sas.contains(&format!("in  {:08x}", est.child.spi_r)),
        "in SPI:\n{sas}"
    );
    assert!(
        sas.contains(&format!("out {:08x}", est.child.spi_i)),
        "out SPI:\n{sas}"
    );
    let (addr, dns) = est.assigned.expect("charon assigned an address");
    assert!(addr[..3] == [10, 10, 0], "from the pool: {addr:?}");
    assert_eq!(dns, Some([10, 10, 0, 53]));
    let ip = format!("{}.{}.{}.{}", addr[0], addr[1], addr[2], addr[3]);
    assert!(
        sas.contains(&format!("remote {ip}/32")),
        "TSi narrowed to {ip}:\n{sas}"
    );
    assert!(sas.contains("local  10.0.0.0/24"), "{sas}");
    assert_eq!(est.child.tsi, vec![Selector::host(addr)]);
    assert_eq!(est.child.tsr, vec![Selector::subnet([10, 0, 0, 0], 24)]);

    let log = charon.log();
    let last = |label: &str| {
        logged(&log, label)
            .pop()
            .unwrap_or_else(|| panic!("charon's log has no {label}"))
    };
    assert_eq!(last("SKEYSEED"), est.keys.skeyseed, "SKEYSEED");
    assert_eq!(last("Sk_d secret"), est.keys.sk_d, "SK_d");
    assert_eq!(last("Sk_ei secret"), est.keys.sk_ei, "SK_ei");
    assert_eq!(last("Sk_er secret"), est.keys.sk_er, "SK_er");
    assert_eq!(last("Sk_pi secret"), est.keys.sk_pi, "SK_pi");
    assert_eq!(last("Sk_pr secret"), est.keys.sk_pr, "SK_pr");
    assert!(logged(&log, "Sk_ai secret")
        .pop()
        .is_none_or(|k| k.is_empty()));
    assert_eq!(
        last("encryption initiator key"),
        est.child.key_i,
        "CHILD_SA i→r key ‖ salt"
    );
    assert_eq!(
        last("encryption responder key"),
        est.child.key_r,
        "CHILD_SA r→i key ‖ salt"
    );
}

#[test]
fn our_initiator_brings_up_ike_and_child_sa_with_charon_and_charon_logs_our_keys() {
    if outside_netns(
        "our_initiator_brings_up_ike_and_child_sa_with_charon_and_charon_logs_our_keys",
    ) {
        return;
    }
    for (n, (encr, group)) in [
        (Encr::AesGcm256, Group::Curve25519),
        (Encr::AesGcm128, Group::Ecp256),
        (Encr::ChaCha20Poly1305, Group::Curve25519),
    ]
    .into_iter()
    .enumerate()
    {
        let ike = match (encr, group) {
            (Encr::AesGcm256, Group::Curve25519) => "aes256gcm16-prfsha256-x25519",
            (Encr::AesGcm128, Group::Ecp256) => "aes128gcm16-prfsha256-ecp256",
            _ => "chacha20poly1305-prfsha256-x25519",
        };
        let esp = match encr {
            Encr::AesGcm256 => "aes256gcm16",
            Encr::AesGcm128 => "aes128gcm16",
            Encr::ChaCha20Poly1305 => "chacha20poly1305",
        };
        let conn = RESPONDER_CONN.replace("PROPOSALS", ike).replace("ESP", esp);
        let charon = Charon::start(&format!("r{n}"), &conn);
        let (sock, local, remote) = endpoints(&charon);
        let i = initiate(
            &sock,
            remote,
            config(local, remote, encr, group),
            11 + n as u64,
        );
        let est = i.established().unwrap_or_else(|| {
            panic!(
                "{encr:?}/{group:?}: not established ({:?}); charon:\n{}",
                i.state().key(),
                charon.log()
            )
        });
        // On a port other than 500 charon forces UDP encapsulation by sending NAT
        // detection hashes that cannot match: our NAT detection must notice.
        assert!(charon
            .log()
            .contains("faking NAT situation to enforce UDP encapsulation"));
        assert!(est.nat, "our NAT detection sees charon's faked NAT");
        assert_charon_agrees(&charon, est, encr, group);
    }
}

#[test]
fn a_wrong_psk_is_refused_by_charon_with_authentication_failed() {
    if outside_netns("a_wrong_psk_is_refused_by_charon_with_authentication_failed") {
        return;
    }
    let conn = RESPONDER_CONN
        .replace("PROPOSALS", "aes256gcm16-prfsha256-x25519")
        .replace("ESP", "aes256gcm16");
    let charon = Charon::start("psk", &conn);
    let (sock, local, remote) = endpoints(&charon);
    let mut c = config(local, remote, Encr::AesGcm256, Group::Curve25519);
    c.psk = b"not the secret".to_vec();
    let i = initiate(&sock, remote, c, 3);
    assert_eq!(
        i.state(),
        &cipherstage_ike::InitiatorState::Failed {
            notify: cipherstage_ike::consts::notify::AUTHENTICATION_FAILED
        },
        "charon's log:\n{}",
        charon.log()
    );
    assert!(
        charon.log().contains(
            "tried 1 shared key for 'vpn.example.com' - 'home.example.com', but MAC mismatched"
        ),
        "{}",
        charon.log()
    );
}

#[test]
fn charon_without_our_group_asks_for_its_own_and_we_retry() {
    if outside_netns("charon_without_our_group_asks_for_its_own_and_we_retry") {
        return;
    }
    let conn = RESPONDER_CONN
        .replace("PROPOSALS", "aes256gcm16-prfsha256-x25519")
        .replace("ESP", "aes256gcm16");
    let charon = Charon::start("ke", &conn);
    let (sock, local, remote) = endpoints(&charon);
    let mut c = config(local, remote, Encr::AesGcm256, Group::Ecp256);
    // KE for ECP-256 first, Curve25519 also offered: charon answers INVALID_KE_PAYLOAD.
    c.groups = vec![Group::Ecp256, Group::Curve25519];
    let i = initiate(&sock, remote, c, 5);
    let est = i
        .established()
        .unwrap_or_else(|| panic!("not established; charon:\n{}", charon.log()));
    assert_eq!(est.group, Group::Curve25519);
    assert!(
        charon
            .log()
            .contains("DH group ECP_256 unacceptable, requesting CURVE_25519"),
        "{}",
        charon.log()
    );
    assert_charon_agrees(&charon, est, Encr::AesGcm256, Group::Curve25519);
}

const INITIATOR_CONN: &str = r#"connections {
  home {
    version = 2
    local_addrs = 127.0.0.1
    remote_addrs = 127.0.0.1
    remote_port = PORT
    proposals = aes256gcm16-prfsha256-x25519
    vips = 0.0.0.0
    local {
      auth = psk
      id = home.example.com
    }
    remote {
      auth = psk
      id = vpn.example.com
    }
    children {
      net {
        remote_ts = 10.0.0.0/24
        esp_proposals = aes256gcm16
        mode = tunnel
      }
    }
  }
}"#;

#[test]
fn charon_initiates_to_our_responder_and_both_hold_the_same_keys() {
    if outside_netns("charon_initiates_to_our_responder_and_both_hold_the_same_keys") {
        return;
    }
    charon_initiator_case("init", INITIATOR_CONN, &[], None, None);
}

/// charon initiates `conn` (its `remote_port` set to our socket's) to our responder,
/// which authenticates with `cert` (or the PSK) and checks charon with `trust` (or the PSK):
/// charon installs our pool's address, shows our SPIs and narrowed TS, and logs the same
/// SKEYSEED, SK_* and CHILD_SA keys our responder holds.
fn charon_initiator_case(
    name: &str,
    conn: &str,
    files: &[(&str, String)],
    cert: Option<cipherstage_ike::auth::CertAuth>,
    trust: Option<cipherstage_ike::auth::Trust>,
) -> String {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = sock.local_addr().unwrap().port();
    let charon = Charon::start_with(name, &conn.replace("PORT", &port.to_string()), files);
    let mut r = Responder::new(ResponderConfig {
        encrs: vec![Encr::AesGcm256, Encr::AesGcm128],
        groups: vec![Group::Curve25519, Group::Ecp256],
        child_encrs: vec![Encr::AesGcm256, Encr::AesGcm128],
        id: Identity::fqdn("vpn.example.com"),
        peer_id: Some(Identity::fqdn("home.example.com")),
        psk: PSK.as_bytes().to_vec(),
        cert,
        trust,
        pool: Some(([10, 10, 0, 2], Some([10, 10, 0, 53]))),
        local_ts: Selector::subnet([10, 0, 0, 0], 24),
        remote_ts: Selector::ANY,
        local: Addr {
            ip: [127, 0, 0, 1],
            port,
        },
    });
    let mut initiate = Command::new(SWANCTL)
        .args([
            "--initiate",
            "--child",
            "net",
            "--timeout",
            "20",
            "--uri",
            &charon.vici(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("swanctl --initiate runs");
    let mut rng = Seeded::new(21);
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    for _ in 0..8 {
        let mut buf = vec![0u8; 65_536];
        let Ok((n, from)) = sock.recv_from(&mut buf) else {
            break;
        };
        let Some(ike) = unframe_nat_t(&buf[..n]) else {
            continue;
        };
        let std::net::SocketAddr::V4(v4) = from else {
            panic!("IPv4 only")
        };
        let from_addr = Addr {
            ip: v4.ip().octets(),
            port: v4.port(),
        };
        let _ = r.receive(ike, from_addr, &mut rng);
        for o in r.take_outgoing() {
            check_fields(&o.fields, 0, o.bytes.len()).unwrap();
            sock.send_to(&frame_nat_t(&o.bytes), from).unwrap();
        }
        if r.established().is_some() {
            break;
        }
    }
    let deadline = Instant::now() + Duration::from_secs(25);
    let status = loop {
        if let Some(st) = initiate.try_wait().unwrap() {
            break st;
        }
        assert!(
            Instant::now() < deadline,
            "swanctl --initiate did not finish"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let est = r.established().unwrap_or_else(|| {
        panic!(
            "our responder: {:?}; charon:\n{}",
            r.state().key(),
            charon.log()
        )
    });
    assert!(
        status.success(),
        "swanctl --initiate failed; charon:\n{}",
        charon.log()
    );
    assert_eq!(est.assigned, Some(([10, 10, 0, 2], Some([10, 10, 0, 53]))));
    let log = charon.log();
    assert!(log.contains("installing new virtual IP 10.10.0.2"), "{log}");
    // charon takes INTERNAL_IP4_DNS (it logs processing it; without a resolve plugin it
    // installs nothing and prints no address).
    assert!(
        log.contains("processing INTERNAL_IP4_DNS attribute"),
        "{log}"
    );
    let sas = charon.swanctl(&["--list-sas"]);
    assert!(sas.contains("ESTABLISHED, IKEv2"), "{sas}");
    let (spi_i, spi_r) = (hex_encode(&est.spi_i), hex_encode(&est.spi_r));
    assert!(
        sas.contains(&format!("{spi_i}_i*")) && sas.contains(&format!("{spi_r}_r")),
        "{sas}"
    );
    assert!(
        sas.contains("AES_GCM_16-256/PRF_HMAC_SHA2_256/CURVE_25519"),
        "{sas}"
    );
    assert!(
        sas.contains("INSTALLED, TUNNEL") && sas.contains("ESP:AES_GCM_16-256"),
        "{sas}"
    );
    // charon, the initiator, receives on its own SPI and sends on ours.
    assert!(
        sas.contains(&format!("in  {:08x}", est.child.spi_i)),
        "{sas}"
    );
    assert!(
        sas.contains(&format!("out {:08x}", est.child.spi_r)),
        "{sas}"
    );
    assert!(
        sas.contains("local  10.10.0.2/32") && sas.contains("remote 10.0.0.0/24"),
        "{sas}"
    );
    let last = |label: &str| {
        logged(&log, label)
            .pop()
            .unwrap_or_else(|| panic!("charon's log has no {label}"))
    };
    assert_eq!(last("SKEYSEED"), est.keys.skeyseed, "SKEYSEED");
    assert_eq!(last("Sk_d secret"), est.keys.sk_d, "SK_d");
    assert_eq!(last("Sk_ei secret"), est.keys.sk_ei, "SK_ei");
    assert_eq!(last("Sk_er secret"), est.keys.sk_er, "SK_er");
    assert_eq!(last("Sk_pi secret"), est.keys.sk_pi, "SK_pi");
    assert_eq!(last("Sk_pr secret"), est.keys.sk_pr, "SK_pr");
    assert_eq!(
        last("encryption initiator key"),
        est.child.key_i,
        "CHILD_SA i→r"
    );
    assert_eq!(
        last("encryption responder key"),
        est.child.key_r,
        "CHILD_SA r→i"
    );
    log
}

#[test]
fn a_ping_through_the_tunnel_reaches_charons_side_and_its_reply_opens_with_our_keys() {
    use cipherstage_packets::{icmpv4, ipv4, IpProtocol, Ipv4Addr};
    if outside_netns(
        "a_ping_through_the_tunnel_reaches_charons_side_and_its_reply_opens_with_our_keys",
    ) {
        return;
    }
    let conn = RESPONDER_CONN
        .replace("PROPOSALS", "aes256gcm16-prfsha256-x25519")
        .replace("ESP", "aes256gcm16");
    let charon = Charon::start("ping", &conn);
    let (sock, local, remote) = endpoints(&charon);
    let i = initiate(
        &sock,
        remote,
        config(local, remote, Encr::AesGcm256, Group::Curve25519),
        31,
    );
    let est = i
        .established()
        .unwrap_or_else(|| panic!("not established; charon:\n{}", charon.log()));
    let (addr, _) = est.assigned.expect("an address from charon's pool");
    // An echo request from our virtual address to the gateway's office-LAN address,
    // in ESP tunnel mode inside UDP (charon forces encapsulation off port 500).
    let (src, dst) = (Ipv4Addr::from(addr), Ipv4Addr::new(10, 0, 0, 1));
    let icmp = icmpv4::Repr {
        request: true,
        ident: 0x4b45,
        seq: 1,
    }
    .emit(b"cipherstage through strongSwan");
    let inner = ipv4::Repr::new(src, dst, IpProtocol::Icmp, icmp.len(), 7).packet(&icmp);
    let mut out = est.child.esp_i_to_r().unwrap();
    let sealed = out.seal(4, &inner, [7; 8]).unwrap();
    let to = std::net::SocketAddr::from((remote.ip, remote.port));
    sock.send_to(&sealed.bytes, to).unwrap();
    // charon's libipsec opens it, the namespace's kernel answers the ping, and the reply
    // comes back sealed with the responder-to-initiator key.
    let mut back = est.child.esp_r_to_i().unwrap();
    let mut buf = vec![0u8; 65_536];
    let mut reply = None;
    for _ in 0..5 {
        let Ok((n, _)) = sock.recv_from(&mut buf) else {
            break;
        };
        if unframe_nat_t(&buf[..n]).is_some() {
            continue; // an IKE message (none expected), not ESP
        }
        reply = Some(
            back.open(&buf[..n])
                .expect("the reply opens with our r→i key"),
        );
        break;
    }
    let reply = reply.unwrap_or_else(|| panic!("no ESP reply; charon:\n{}", charon.log()));
    assert_eq!(reply.spi, est.child.spi_i, "sent to the SPI we chose");
    let ip = ipv4::Packet::new_checked(&reply.payload[..]).unwrap();
    assert_eq!((ip.src_addr(), ip.dst_addr()), (dst, src));
    assert_eq!(ip.protocol(), IpProtocol::Icmp);
    let echo = icmpv4::Packet::new_checked(ip.payload()).unwrap();
    let r = icmpv4::Repr::parse(&echo).unwrap();
    assert!(!r.request && r.ident == 0x4b45 && r.seq == 1, "{r:?}");
    assert_eq!(echo.data(), b"cipherstage through strongSwan");
    // charon counted one packet of our inner packet's length each way on this CHILD_SA.
    let sas = charon.swanctl(&["--list-sas"]);
    let line = |dir: &str, spi: u32| {
        sas.lines()
            .map(str::trim)
            .find(|l| l.starts_with(&format!("{dir} {spi:08x},")))
            .unwrap_or_else(|| panic!("no {dir} line for {spi:08x}:\n{sas}"))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    let n = inner.len();
    assert!(
        sas.contains("INSTALLED, TUNNEL-in-UDP, ESP:AES_GCM_16-256"),
        "{sas}"
    );
    assert!(
        line("in ", est.child.spi_r).contains(&format!(", {n} bytes, 1 packets")),
        "{sas}"
    );
    assert!(
        line("out", est.child.spi_i).contains(&format!(", {n} bytes, 1 packets")),
        "{sas}"
    );
}

const CERT_CONN: &str = r#"connections {
  rw {
    version = 2
    local_addrs = 127.0.0.1
    proposals = aes256gcm16-prfsha256-x25519
    pools = vpool
    send_cert = always
    local {
      auth = pubkey
      certs = vpn.pem
      id = vpn.example.com
    }
    remote {
      auth = pubkey
      id = home.example.com
    }
    children {
      net {
        local_ts = 10.0.0.0/24
        esp_proposals = aes256gcm16
        mode = tunnel
      }
    }
  }
}
pools {
  vpool {
    addrs = 10.10.0.1-10.10.0.20
    dns = 10.10.0.53
  }
}"#;

/// The machine's clock in seconds since the epoch: what charon checks certificates
/// against.
fn wall_clock() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn certificates_from_our_pki_authenticate_us_to_charon_and_charon_to_us() {
    use cipherstage_ike::auth::{CertAuth, Trust};
    use cipherstage_pki::{issue, pem, Key, Pki};
    if outside_netns("certificates_from_our_pki_authenticate_us_to_charon_and_charon_to_us") {
        return;
    }
    // Our test PKI: charon's certificate for vpn.example.com and ours for
    // home.example.com, both from the intermediate CA. charon checks them against the
    // machine's clock (it cannot be told another time), so the PKI is built for that
    // clock (the scenarios' dates moved by whole days) and we verify at it too.
    let now = wall_clock();
    let mut rng = Seeded::new(41);
    let pki = Pki::build_at(&mut rng, now).unwrap();
    let vpn_key = Key::generate_ecdsa_p256(&mut rng).unwrap();
    let vpn = issue::issue_server_at(&vpn_key, "vpn.example.com", &pki.intermediate, now).unwrap();
    let home_key = Key::generate_ecdsa_p256(&mut rng).unwrap();
    let home =
        issue::issue_server_at(&home_key, "home.example.com", &pki.intermediate, now).unwrap();
    let files = [
        ("x509ca/root.pem", pem::encode("CERTIFICATE", &pki.root.der)),
        (
            "x509ca/intermediate.pem",
            pem::encode("CERTIFICATE", &pki.intermediate.der),
        ),
        ("x509/vpn.pem", pem::encode("CERTIFICATE", &vpn)),
        (
            "private/vpn.pem",
            pem::encode("PRIVATE KEY", &vpn_key.pkcs8_v1()),
        ),
    ];
    let charon = Charon::start_with("cert", CERT_CONN, &files);
    let (sock, local, remote) = endpoints(&charon);
    let mut c = config(local, remote, Encr::AesGcm256, Group::Curve25519);
    c.cert = Some(CertAuth {
        chain: vec![home, pki.intermediate.der.clone()],
        key: home_key,
    });
    c.trust = Some(Trust {
        roots: vec![pki.root.der.clone()],
        now,
    });
    let i = initiate(&sock, remote, c, 43);
    let est = i.established().unwrap_or_else(|| {
        panic!(
            "not established ({:?}); charon:\n{}",
            i.state().key(),
            charon.log()
        )
    });
    let log = charon.log();
    // charon verified our chain and RFC 7427 ECDSA signature; it signed with the same
    // scheme, which our initiator verified (or it would not be established).
    assert!(
        log.contains("authentication of 'home.example.com' with ECDSA_WITH_SHA256_DER successful"),
        "{log}"
    );
    assert!(
        log.contains(
            "authentication of 'vpn.example.com' (myself) with ECDSA_WITH_SHA256_DER successful"
        ),
        "{log}"
    );
    assert!(log.contains("reached self-signed root ca"), "{log}");
    assert_charon_agrees(&charon, est, Encr::AesGcm256, Group::Curve25519);
}

/// charon checks dates by the machine's clock: our certificate issued for a moment a
/// year ago (so it expired about five months ago, whatever today is) is refused for its
/// dates, where the same chain issued for today is accepted above.
#[test]
fn charon_refuses_our_expired_certificate_for_its_dates() {
    use cipherstage_ike::auth::{CertAuth, Trust};
    use cipherstage_pki::{issue, pem, Key, Pki};
    if outside_netns("charon_refuses_our_expired_certificate_for_its_dates") {
        return;
    }
    let now = wall_clock();
    let year_ago = now - 365 * 86_400;
    let mut rng = Seeded::new(41);
    let pki = Pki::build_at(&mut rng, now).unwrap();
    let vpn_key = Key::generate_ecdsa_p256(&mut rng).unwrap();
    let vpn = issue::issue_server_at(&vpn_key, "vpn.example.com", &pki.intermediate, now).unwrap();
    let home_key = Key::generate_ecdsa_p256(&mut rng).unwrap();
    let home =
        issue::issue_server_at(&home_key, "home.example.com", &pki.intermediate, year_ago).unwrap();
    // Our own check agrees: expired today (and nothing else is wrong with it).
    let chain = vec![home, pki.intermediate.der.clone()];
    let roots = [pki.root.der.clone()];
    let usage = cipherstage_pki::Usage::Server;
    assert_eq!(
        cipherstage_pki::verify_chain(&chain, &roots, now, usage, None),
        Err(cipherstage_pki::VerifyError::Expired)
    );
    let files = [
        ("x509ca/root.pem", pem::encode("CERTIFICATE", &pki.root.der)),
        (
            "x509ca/intermediate.pem",
            pem::encode("CERTIFICATE", &pki.intermediate.der),
        ),
        ("x509/vpn.pem", pem::encode("CERTIFICATE", &vpn)),
        (
            "private/vpn.pem",
            pem::encode("PRIVATE KEY", &vpn_key.pkcs8_v1()),
        ),
    ];
    let charon = Charon::start_with("cert-expired", CERT_CONN, &files);
    let (sock, local, remote) = endpoints(&charon);
    let mut c = config(local, remote, Encr::AesGcm256, Group::Curve25519);
    c.cert = Some(CertAuth {
        chain,
        key: home_key,
    });
    c.trust = Some(Trust {
        roots: vec![pki.root.der.clone()],
        now,
    });
    let i = initiate(&sock, remote, c, 43);
    let log = charon.log();
    assert_eq!(
        i.state(),
        &cipherstage_ike::InitiatorState::Failed {
            notify: cipherstage_ike::consts::notify::AUTHENTICATION_FAILED
        },
        "charon's log:\n{log}"
    );
    assert!(log.contains("invalid (valid from"), "{log}");
    assert!(
        !log.contains("authentication of 'home.example.com' with ECDSA_WITH_SHA256_DER successful"),
        "{log}"
    );
}

#[test]
fn charon_initiates_with_certificates_and_our_responder_proves_itself_with_ours() {
    use cipherstage_ike::auth::{CertAuth, Trust};
    use cipherstage_pki::{issue, pem, Key, Pki};
    if outside_netns("charon_initiates_with_certificates_and_our_responder_proves_itself_with_ours")
    {
        return;
    }
    // Built for the machine's clock, which charon checks against; we verify at it too.
    let now = wall_clock();
    let mut rng = Seeded::new(51);
    let pki = Pki::build_at(&mut rng, now).unwrap();
    let home_key = Key::generate_ecdsa_p256(&mut rng).unwrap();
    let home =
        issue::issue_server_at(&home_key, "home.example.com", &pki.intermediate, now).unwrap();
    let vpn_key = Key::generate_ecdsa_p256(&mut rng).unwrap();
    let vpn = issue::issue_server_at(&vpn_key, "vpn.example.com", &pki.intermediate, now).unwrap();
    let files = [
        ("x509ca/root.pem", pem::encode("CERTIFICATE", &pki.root.der)),
        (
            "x509ca/intermediate.pem",
            pem::encode("CERTIFICATE", &pki.intermediate.der),
        ),
        ("x509/home.pem", pem::encode("CERTIFICATE", &home)),
        (
            "private/home.pem",
            pem::encode("PRIVATE KEY", &home_key.pkcs8_v1()),
        ),
    ];
    let conn = INITIATOR_CONN
        .replace(
            "    version = 2\n",
            "    version = 2\n    send_cert = always\n",
        )
        .replace(
            "      auth = psk\n      id = home.example.com",
            "      auth = pubkey\n      certs = home.pem\n      id = home.example.com",
        )
        .replace(
            "      auth = psk\n      id = vpn.example.com",
            "      auth = pubkey\n      id = vpn.example.com",
        );
    assert!(
        conn.contains("certs = home.pem") && !conn.contains("auth = psk"),
        "{conn}"
    );
    let log = charon_initiator_case(
        "init-cert",
        &conn,
        &files,
        Some(CertAuth {
            chain: vec![vpn, pki.intermediate.der.clone()],
            key: vpn_key,
        }),
        Some(Trust {
            roots: vec![pki.root.der.clone()],
            now,
        }),
    );
    assert!(
        log.contains("authentication of 'vpn.example.com' with ECDSA_WITH_SHA256_DER successful"),
        "charon verified our responder's RFC 7427 signature:\n{log}"
    );
    assert!(
        log.contains(
            "authentication of 'home.example.com' (myself) with ECDSA_WITH_SHA256_DER successful"
        ),
        "{log}"
    );
}
