//! `ipsec-compare`: the same inner packet in transport and in tunnel mode.

use super::*;

/// The same inner packet in transport mode and in tunnel mode, one after the other.
pub(super) fn compare(d: &mut Driver, p: &Params) -> Result<(), Stop> {
    let Hosts {
        a,
        b,
        eve: _,
        link,
        ha,
        hb,
    } = two_hosts(d, p);
    d.narrate("ipsec.narr.intro_compare", &[("a", &ha), ("b", &hb)]);
    // The mode is a property of the SA, so each mode gets its own.
    let (mut transport_sa, in_t) = d.esp_sa_for([a, b], p.algorithm, ha, hb, "_transport")?;
    let (mut tunnel_sa, in_u) = d.esp_sa_for([a, b], p.algorithm, ha, hb, "_tunnel")?;
    d.narrate("ipsec.narr.mode_per_sa", &[]);
    let mut sad_b = Sad::new();
    sad_b.insert(in_t);
    sad_b.insert(in_u);
    let mut flow = Flow::new(d, p.inner, ha, hb)?;
    let inner = flow.packet(d, p.payload.as_bytes())?;
    narrate_sizes(d, p, inner.len(), false);

    let (outer, fields) = transport_packet(d, a, &mut transport_sa, &inner)?;
    let t_len = outer.len();
    let arrived = d.send(
        Hop(a, b, link),
        "ipsec.msg.esp_transport",
        "esp",
        outer,
        fields,
    );
    d.narrate(
        "ipsec.narr.eve_sees_transport",
        &[("src", &ha), ("dst", &hb)],
    );
    let got = d.receive(b, &arrived)?;
    let opened = d.open(b, &mut sad_b, esp_part(&got))?;
    d.narrate("ipsec.narr.delivered", &[("text", &opened_text(&opened))]);

    let (outer, fields) = tunnel_packet(d, a, &mut tunnel_sa, &inner, ha, hb, false)?;
    let u_len = outer.len();
    let arrived = d.send(
        Hop(a, b, link),
        "ipsec.msg.esp_tunnel",
        "esp",
        outer,
        fields,
    );
    d.narrate("ipsec.narr.tunnel_between_hosts", &[]);
    let got = d.receive(b, &arrived)?;
    let opened = d.open(b, &mut sad_b, esp_part(&got))?;
    d.narrate("ipsec.narr.delivered", &[("text", &opened_text(&opened))]);
    d.narrate(
        "ipsec.narr.compare",
        &[
            ("inner", &inner.len()),
            ("transport", &t_len),
            ("tunnel", &u_len),
            ("diff", &u_len.saturating_sub(t_len)),
        ],
    );
    Ok(())
}
