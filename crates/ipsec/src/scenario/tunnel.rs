//! `ipsec-tunnel`: two gateways join two offices (the site-to-site VPN picture).

use super::*;

/// Gateway-to-gateway tunnel joining two private networks over the internet.
pub(super) fn tunnel(d: &mut Driver, p: &Params) -> Result<(), Stop> {
    let client = d.actor(Role::Client, "ipsec.actor.client");
    let gw_a = d.actor(Role::Gateway, "ipsec.actor.gateway_a");
    let gw_b = d.actor(Role::Gateway, "ipsec.actor.gateway_b");
    let server = d.actor(Role::Server, "ipsec.actor.server");
    let eve = d.actor(Role::Eavesdropper, "ipsec.actor.eve");
    let lan_a = d.link(client, gw_a, &[]);
    let internet = d.link(gw_a, gw_b, &[eve]);
    let lan_b = d.link(gw_b, server, &[]);
    d.export_link = internet;
    let (ga, gb) = (addr(GW_A_OUT), addr(GW_B_OUT));
    let (c, s) = (
        p.addr_a.unwrap_or(addr(LAN_A_CLIENT)),
        p.addr_b.unwrap_or(addr(LAN_B_SERVER)),
    );
    d.narrate(
        "ipsec.narr.intro_site_to_site",
        &[("client", &c), ("server", &s), ("gw_a", &ga), ("gw_b", &gb)],
    );
    let (mut out_a, in_b) = d.esp_sa_for([gw_a, gw_b], p.algorithm, ga, gb, "_fwd")?;
    let (mut out_b, in_a) = d.esp_sa_for([gw_b, gw_a], p.algorithm, gb, ga, "_rev")?;
    let mut sad_b = Sad::new();
    sad_b.insert(in_b);
    let mut sad_a = Sad::new();
    sad_a.insert(in_a);

    let mut flow = Flow::new(d, p.inner, c, s)?;
    let inner = flow.packet(d, p.payload.as_bytes())?;
    narrate_sizes(d, p, inner.len(), false);
    let fields = describe::plain_packet(&inner);
    let arrived = d.send(
        Hop(client, gw_a, lan_a),
        "ipsec.msg.plain",
        "ip",
        inner,
        fields,
    );
    let got = d.receive(gw_a, &arrived)?;
    let fwd = forward(&got);
    d.narrate(
        "ipsec.narr.gateway_encapsulates",
        &[("gw", &ga), ("peer", &gb)],
    );
    let (outer, fields) = tunnel_packet(d, gw_a, &mut out_a, &fwd, ga, gb, false)?;
    let arrived = d.send(
        Hop(gw_a, gw_b, internet),
        "ipsec.msg.esp_tunnel",
        "esp",
        outer,
        fields,
    );
    d.narrate("ipsec.narr.eve_sees_tunnel", &[("src", &ga), ("dst", &gb)]);
    let got = d.receive(gw_b, &arrived)?;
    let opened = d.open(gw_b, &mut sad_b, esp_part(&got))?;
    d.narrate("ipsec.narr.gateway_decapsulates", &[("dst", &s)]);
    let fwd = forward(&opened.payload);
    let fields = describe::plain_packet(&fwd);
    let arrived = d.send(
        Hop(gw_b, server, lan_b),
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
        Hop(server, gw_b, lan_b),
        "ipsec.msg.plain",
        "ip",
        inner,
        fields,
    );
    let got = d.receive(gw_b, &arrived)?;
    let fwd = forward(&got);
    let (outer, fields) = tunnel_packet(d, gw_b, &mut out_b, &fwd, gb, ga, false)?;
    let arrived = d.send(
        Hop(gw_b, gw_a, internet),
        "ipsec.msg.esp_tunnel",
        "esp",
        outer,
        fields,
    );
    let got = d.receive(gw_a, &arrived)?;
    let opened = d.open(gw_a, &mut sad_a, esp_part(&got))?;
    let fwd = forward(&opened.payload);
    let fields = describe::plain_packet(&fwd);
    let arrived = d.send(
        Hop(gw_a, client, lan_a),
        "ipsec.msg.plain",
        "ip",
        fwd,
        fields,
    );
    let got = d.receive(client, &arrived)?;
    d.narrate("ipsec.narr.delivered", &[("text", &ip_text(&got))]);
    d.narrate("ipsec.narr.done_tunnel", &[]);
    Ok(())
}
