//! `ipsec-tamper`: Eve flips a byte; the ICV check drops the packet.

use super::*;

/// One packet; Eve flips one byte on the way.
pub(super) fn tamper(d: &mut Driver, p: &Params) -> Result<(), Stop> {
    let Hosts {
        a,
        b,
        eve: _,
        link,
        ha,
        hb,
    } = two_hosts(d, p);
    d.narrate("ipsec.narr.intro_tamper", &[]);
    let (mut out_a, in_b) = d.esp_sa([a, b], p.algorithm, ha, hb)?;
    let mut sad_b = Sad::new();
    sad_b.insert(in_b);
    let mut flow = Flow::new(d, p.inner, ha, hb)?;
    let inner = flow.packet(d, p.payload.as_bytes())?;
    let (outer, fields) = match p.mode {
        Mode::Transport => transport_packet(d, a, &mut out_a, &inner)?,
        Mode::Tunnel => tunnel_packet(d, a, &mut out_a, &inner, ha, hb, false)?,
    };
    let label = format!("ipsec.msg.esp_{}", p.mode.as_str());
    let arrived = d.send(Hop(a, b, link), &label, "esp", outer, fields);
    let got = d.receive(b, &arrived)?;
    let opened = d.open(b, &mut sad_b, esp_part(&got))?;
    let text = opened_text(&opened);
    d.narrate("ipsec.narr.delivered", &[("text", &text)]);
    d.narrate("ipsec.narr.untouched", &[]);
    Ok(())
}
