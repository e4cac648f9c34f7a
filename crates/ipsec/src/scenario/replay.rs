//! `ipsec-replay`: Eve replays a packet; the anti-replay window drops it.

use super::*;

/// Three packets accepted, then Eve sends the second one again.
pub(super) fn replay(d: &mut Driver, p: &Params) -> Result<(), Stop> {
    let Hosts {
        a,
        b,
        eve,
        link,
        ha,
        hb,
    } = two_hosts(d, p);
    d.narrate("ipsec.narr.intro_replay", &[]);
    let (mut out_a, in_b) = d.esp_sa([a, b], p.algorithm, ha, hb)?;
    let mut sad_b = Sad::new();
    sad_b.insert(in_b);
    let mut flow = Flow::new(d, p.inner, ha, hb)?;
    let label = format!("ipsec.msg.esp_{}", p.mode.as_str());
    let mut captured = Vec::new();
    for _ in 0..3 {
        let inner = flow.packet(d, p.payload.as_bytes())?;
        let (outer, fields) = match p.mode {
            Mode::Transport => transport_packet(d, a, &mut out_a, &inner)?,
            Mode::Tunnel => tunnel_packet(d, a, &mut out_a, &inner, ha, hb, false)?,
        };
        let arrived = d.send(Hop(a, b, link), &label, "esp", outer, fields.clone());
        captured.push((arrived.clone(), fields));
        let got = d.receive(b, &arrived)?;
        d.open(b, &mut sad_b, esp_part(&got))?;
    }
    d.narrate("ipsec.narr.eve_replays", &[("seq", &"2")]);
    let (copy, fields) = captured.get(1).cloned().unwrap_or_default();
    let mut again = Vec::new();
    let whole = copy.len() == 1;
    for f in copy {
        let ff = if whole {
            fields.clone()
        } else {
            describe::fragment(&f, &fields)
        };
        again.push(d.put(Hop(eve, b, link), "ipsec.msg.replayed", "esp", f, ff));
    }
    let got = d.receive(b, &again)?;
    d.open(b, &mut sad_b, esp_part(&got))?;
    Ok(())
}
