//! `ipsec-nat`: ESP inside UDP 4500 through a home router's NAT (RFC 3948).

use super::*;

/// Remote work: a client behind a home NAT reaches the office through ESP in UDP 4500.
pub(super) fn nat_traversal(d: &mut Driver, p: &Params) -> Result<(), Stop> {
    let client = d.actor(Role::Client, "ipsec.actor.remote_client");
    let nat = d.actor(Role::Nat, "ipsec.actor.home_router");
    let gw = d.actor(Role::Gateway, "ipsec.actor.vpn_gateway");
    let server = d.actor(Role::Server, "ipsec.actor.server");
    let eve = d.actor(Role::Eavesdropper, "ipsec.actor.eve");
    let home = d.link(client, nat, &[]);
    let internet = d.link(nat, gw, &[eve]);
    let office = d.link(gw, server, &[]);
    d.export_link = internet;
    let (c, public, g) = (addr(HOME_CLIENT), addr(HOME_NAT_OUT), addr(GW_B_OUT));
    let (vin, s) = (addr(VPN_INNER), addr(LAN_B_SERVER));
    d.narrate(
        "ipsec.narr.intro_nat",
        &[
            ("client", &c),
            ("public", &public),
            ("gw", &g),
            ("inner", &vin),
        ],
    );
    // The SAs as the internet link sees them: from the NAT's public address.
    let (mut out_c, in_g) = d.esp_sa_for([client, gw], p.algorithm, public, g, "_fwd")?;
    let (mut out_g, in_c) = d.esp_sa_for([gw, client], p.algorithm, g, public, "_rev")?;
    let mut sad_g = Sad::new();
    sad_g.insert(in_g);
    let mut sad_c = Sad::new();
    sad_c.insert(in_c);
    d.narrate("ipsec.narr.why_natt", &[]);

    let mut flow = Flow::new(d, p.inner, vin, s)?;
    let inner = flow.packet(d, p.payload.as_bytes())?;
    narrate_sizes(d, p, inner.len(), true);
    let (outer, fields) = tunnel_packet(d, client, &mut out_c, &inner, c, g, true)?;
    let arrived = d.send(
        Hop(client, nat, home),
        "ipsec.msg.esp_in_udp",
        "esp",
        outer,
        fields.clone(),
    );
    let got = d.receive(nat, &arrived)?;
    let port = 1024 + d.random_u16()? % 60000;
    let rewritten = napt(&got, Some(public), None, Some(port), None);
    d.narrate(
        "ipsec.narr.napt_rewrites",
        &[
            ("from", &format!("{c}:4500")),
            ("to", &format!("{public}:{port}")),
        ],
    );
    let fields = relabel(&rewritten, &fields);
    let arrived = d.send(
        Hop(nat, gw, internet),
        "ipsec.msg.esp_in_udp",
        "esp",
        rewritten,
        fields,
    );
    d.narrate(
        "ipsec.narr.eve_sees_tunnel",
        &[("src", &public), ("dst", &g)],
    );
    let got = d.receive(gw, &arrived)?;
    let opened = d.open(gw, &mut sad_g, esp_part(&got))?;
    d.narrate("ipsec.narr.esp_survives_nat", &[]);
    let fwd = forward(&opened.payload);
    let fields = describe::plain_packet(&fwd);
    let arrived = d.send(
        Hop(gw, server, office),
        "ipsec.msg.plain",
        "ip",
        fwd,
        fields,
    );
    let got = d.receive(server, &arrived)?;
    d.narrate("ipsec.narr.delivered", &[("text", &ip_text(&got))]);

    let mut back = flow.reverse();
    let inner = back.packet(d, flow.answer(&p.payload).as_bytes())?;
    let fields = describe::plain_packet(&inner);
    let arrived = d.send(
        Hop(server, gw, office),
        "ipsec.msg.plain",
        "ip",
        inner,
        fields,
    );
    let got = d.receive(gw, &arrived)?;
    let fwd = forward(&got);
    let (outer, fields) = tunnel_packet(d, gw, &mut out_g, &fwd, g, public, true)?;
    let outer = napt(&outer, None, None, None, Some(port));
    let fields = relabel(&outer, &fields);
    let arrived = d.send(
        Hop(gw, nat, internet),
        "ipsec.msg.esp_in_udp",
        "esp",
        outer,
        fields.clone(),
    );
    let got = d.receive(nat, &arrived)?;
    let back_in = napt(&got, None, Some(c), None, Some(4500));
    d.narrate("ipsec.narr.napt_returns", &[("to", &format!("{c}:4500"))]);
    let fields = relabel(&back_in, &fields);
    let arrived = d.send(
        Hop(nat, client, home),
        "ipsec.msg.esp_in_udp",
        "esp",
        back_in,
        fields,
    );
    let got = d.receive(client, &arrived)?;
    let opened = d.open(client, &mut sad_c, esp_part(&got))?;
    d.narrate("ipsec.narr.delivered", &[("text", &opened_text(&opened))]);
    d.narrate("ipsec.narr.done_nat", &[]);
    Ok(())
}

/// A NAPT's rewrite of an IPv4/UDP packet: addresses and ports, IP checksum recomputed
/// (the UDP checksum is zero for ESP in UDP, so there is none to fix).
pub(super) fn napt(
    packet: &[u8],
    src: Option<Ipv4Addr>,
    dst: Option<Ipv4Addr>,
    sport: Option<u16>,
    dport: Option<u16>,
) -> Vec<u8> {
    let mut p = ipv4::Packet::new_unchecked(packet.to_vec());
    if let Some(a) = src {
        p.set_src_addr(a);
    }
    if let Some(a) = dst {
        p.set_dst_addr(a);
    }
    let payload = p.payload_mut();
    if let Some(port) = sport {
        if let Some(b) = payload.get_mut(udp::field::SRC_PORT) {
            b.copy_from_slice(&port.to_be_bytes());
        }
    }
    if let Some(port) = dport {
        if let Some(b) = payload.get_mut(udp::field::DST_PORT) {
            b.copy_from_slice(&port.to_be_bytes());
        }
    }
    p.fill_checksum();
    p.into_inner()
}

/// The same description with the outer IPv4 and UDP headers re-read from `packet`
/// (after a NAT changed them); ESP is untouched.
pub(super) fn relabel(packet: &[u8], fields: &[Field]) -> Vec<Field> {
    let fresh = {
        let mut b = cipherstage_transcript::FieldsBuilder::new(0);
        let hdr = packet
            .get(..ipv4::HEADER_LEN + udp::HEADER_LEN)
            .unwrap_or(&[]);
        cipherstage_packets::describe::ipv4_header(
            &mut b,
            hdr.get(..ipv4::HEADER_LEN).unwrap_or(&[]),
            cipherstage_transcript::Protection::Plaintext.into(),
        );
        b.group(
            "ipsec.field.udp_encap",
            "ipsec.explain.udp_encap",
            cipherstage_transcript::Protection::Plaintext,
            |b| {
                cipherstage_packets::describe::udp_header(
                    b,
                    hdr.get(ipv4::HEADER_LEN..).unwrap_or(&[]),
                    cipherstage_transcript::Protection::Plaintext,
                );
            },
        );
        b.finish()
    };
    fresh
        .into_iter()
        .chain(
            fields
                .iter()
                .filter(|f| f.start >= ipv4::HEADER_LEN + udp::HEADER_LEN)
                .cloned(),
        )
        .collect()
}
