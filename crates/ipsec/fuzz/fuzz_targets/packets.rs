//! Any bytes into the IPv4, IPv6, UDP, TCP and ICMP decoders, fragmentation and the
//! byte describers: no panic.
#![no_main]

use cipherstage_packets::checksum::PseudoHeader;
use cipherstage_packets::describe;
use cipherstage_packets::{icmpv4, ipv4, ipv6, tcp, udp, IpProtocol, Ipv4Addr};
use cipherstage_transcript::{FieldsBuilder, Protection};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let ph = PseudoHeader::V4 { src: Ipv4Addr::new(192, 0, 2, 1), dst: Ipv4Addr::new(192, 0, 2, 2) };
    if let Ok(p) = ipv4::Packet::new_checked(data) {
        // A whole (unfragmented) packet must survive fragmenting and reassembly.
        if ipv4::Repr::parse(&p).is_ok() && p.frag_offset() == 0 && !p.more_frags() {
            if let Ok(frags) = ipv4::fragment(data, 68 + usize::from(data.len() as u8)) {
                let total = usize::from(p.total_len());
                assert_eq!(ipv4::reassemble(&frags).map(|w| w.len()), Ok(total));
            }
        }
    }
    if let Ok(p) = ipv6::Packet::new_checked(data) {
        let _ = ipv6::Repr::parse(&p);
    }
    if let Ok(p) = udp::Packet::new_checked(data) {
        let _ = udp::Repr::parse(&p, &ph);
    }
    if let Ok(p) = tcp::Packet::new_checked(data) {
        let _ = tcp::Repr::parse(&p, &ph);
    }
    if let Ok(p) = icmpv4::Packet::new_checked(data) {
        let _ = icmpv4::Repr::parse(&p);
    }
    let _ = ipv4::reassemble(&[data.to_vec()]);
    let mut b = FieldsBuilder::new(0);
    describe::ip_packet(&mut b, data, Protection::Plaintext.into(), Protection::Encrypted);
    for proto in [IpProtocol::Tcp, IpProtocol::Udp, IpProtocol::Icmp] {
        describe::transport(&mut b, proto, data, Protection::Encrypted);
    }
    let _ = cipherstage_ipsec::describe::ah_packet(data);
    let _ = cipherstage_ipsec::describe::plain_packet(data);
});
