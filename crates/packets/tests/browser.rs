//! The packet core in the browser: checksums (RFC 1071's example), fragmentation and
//! reassembly, as natively.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use cipherstage_packets::{checksum, ipv4, IpProtocol, Ipv4Addr};
use cipherstage_testkit::tests;

cipherstage_testkit::in_browser!();

tests! {
    fn the_rfc_1071_example_sums_as_published() {
        // RFC 1071 §3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2 (before the complement).
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(checksum::checksum(&data), !0xddf2);
    }

    fn a_packet_fragments_at_the_mtu_and_reassembles() {
        let payload: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
        let packet = ipv4::Repr::new(
            Ipv4Addr::new(192, 0, 2, 1),
            Ipv4Addr::new(198, 51, 100, 2),
            IpProtocol::Udp,
            payload.len(),
            0x1234,
        )
        .packet(&payload);
        let frags = ipv4::fragment(&packet, 576).unwrap();
        assert!(frags.len() >= 2 && frags.iter().all(|f| f.len() <= 576));
        for f in &frags {
            let p = ipv4::Packet::new_checked(f.as_slice()).unwrap();
            assert!(p.verify_checksum());
        }
        assert_eq!(ipv4::reassemble(&frags).unwrap(), packet);
    }
}
