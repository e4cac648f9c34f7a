//! `ipsec-transport`: two hosts protect their traffic end to end (transport mode).

use super::*;

/// Host-to-host ESP (transport mode, or host-to-host tunnel mode), with a reply.
pub(super) fn transport(d: &mut Driver, p: &Params) -> Result<(), Stop> {
    host_to_host(d, p, Mode::Transport, true)
}

/// Host A and host B on one link that Eve watches (the captured link).
pub(super) struct Hosts {
    pub(super) a: ActorId,
    pub(super) b: ActorId,
    pub(super) eve: ActorId,
    pub(super) link: LinkId,
    pub(super) ha: Ipv4Addr,
    pub(super) hb: Ipv4Addr,
}

pub(super) fn two_hosts(d: &mut Driver, p: &Params) -> Hosts {
    let a = d.actor(Role::Client, "ipsec.actor.host_a");
    let b = d.actor(Role::Server, "ipsec.actor.host_b");
    let eve = d.actor(Role::Eavesdropper, "ipsec.actor.eve");
    let link = d.link(a, b, &[eve]);
    d.export_link = link;
    Hosts {
        a,
        b,
        eve,
        link,
        ha: p.addr_a.unwrap_or(addr(HOST_A)),
        hb: p.addr_b.unwrap_or(addr(HOST_B)),
    }
}

pub(super) fn host_to_host(
    d: &mut Driver,
    p: &Params,
    mode: Mode,
    reply: bool,
) -> Result<(), Stop> {
    let Hosts {
        a,
        b,
        eve: _,
        link,
        ha,
        hb,
    } = two_hosts(d, p);
    d.narrate(
        &format!("ipsec.narr.intro_{}", mode.as_str()),
        &[("a", &ha), ("b", &hb)],
    );
    let (mut out_a, in_b) = d.esp_sa_for([a, b], p.algorithm, ha, hb, "_fwd")?;
    let (mut out_b, in_a) = d.esp_sa_for([b, a], p.algorithm, hb, ha, "_rev")?;
    d.narrate("ipsec.narr.two_sas", &[]);
    let mut sad_b = Sad::new();
    sad_b.insert(in_b);
    let mut sad_a = Sad::new();
    sad_a.insert(in_a);

    let mut flow = Flow::new(d, p.inner, ha, hb)?;
    let inner = flow.packet(d, p.payload.as_bytes())?;
    narrate_sizes(d, p, inner.len(), false);
    let (outer, fields) = match mode {
        Mode::Transport => transport_packet(d, a, &mut out_a, &inner)?,
        Mode::Tunnel => tunnel_packet(d, a, &mut out_a, &inner, ha, hb, false)?,
    };
    let label = format!("ipsec.msg.esp_{}", mode.as_str());
    let arrived = d.send(Hop(a, b, link), &label, "esp", outer, fields);
    d.narrate(
        &format!("ipsec.narr.eve_sees_{}", mode.as_str()),
        &[("src", &ha), ("dst", &hb)],
    );
    let got = d.receive(b, &arrived)?;
    let opened = d.open(b, &mut sad_b, esp_part(&got))?;
    let text = opened_text(&opened);
    d.narrate("ipsec.narr.delivered", &[("text", &text)]);
    if !reply {
        return Ok(());
    }
    let mut back = flow.reverse();
    let inner = back.packet(d, flow.answer(&p.payload).as_bytes())?;
    let (outer, fields) = match mode {
        Mode::Transport => transport_packet(d, b, &mut out_b, &inner)?,
        Mode::Tunnel => tunnel_packet(d, b, &mut out_b, &inner, hb, ha, false)?,
    };
    let arrived = d.send(Hop(b, a, link), &label, "esp", outer, fields);
    let got = d.receive(a, &arrived)?;
    let opened = d.open(a, &mut sad_a, esp_part(&got))?;
    let text = opened_text(&opened);
    d.narrate("ipsec.narr.delivered", &[("text", &text)]);
    d.narrate("ipsec.narr.done", &[]);
    Ok(())
}
