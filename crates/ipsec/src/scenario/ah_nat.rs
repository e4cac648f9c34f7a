//! `ipsec-ah`: AH authenticates the outer header too, so a NAT breaks it.

use super::*;

/// AH through a NAT (fails) or a router (passes): integrity without confidentiality.
pub(super) fn ah_nat(d: &mut Driver, p: &Params) -> Result<(), Stop> {
    let a = d.actor(Role::Client, "ipsec.actor.host_a");
    let mid = if p.nat {
        d.actor(Role::Nat, "ipsec.actor.nat")
    } else {
        d.actor(Role::Gateway, "ipsec.actor.router")
    };
    let b = d.actor(Role::Server, "ipsec.actor.host_b");
    let eve = d.actor(Role::Eavesdropper, "ipsec.actor.eve");
    let lan = d.link(a, mid, &[]);
    let internet = d.link(mid, b, &[eve]);
    d.export_link = internet;
    let ha = p.addr_a.unwrap_or(addr(HOME_CLIENT));
    let (hb, public) = (p.addr_b.unwrap_or(addr(HOST_B)), addr(HOME_NAT_OUT));
    d.narrate("ipsec.narr.intro_ah", &[]);
    let key = d.random(ah::KEY_LEN)?;
    let spi = d.random_u32()?.max(0x100);
    d.narrate(
        "ipsec.narr.ah_sa",
        &[("spi", &format!("0x{spi:08x}")), ("src", &ha), ("dst", &hb)],
    );
    d.secret(&[a, b], "ipsec.secret.ah_key", &key);
    let mut out = AhSa::new(spi, &key).map_err(|e| d.alert(a, e))?;
    let mut inb = AhSa::new(spi, &key).map_err(|e| d.alert(b, e))?;

    let mut flow = Flow::new(d, p.inner, ha, hb)?;
    let inner = flow.packet(d, p.payload.as_bytes())?;
    let protected = out.protect(&inner).map_err(|e| d.alert(a, e))?;
    let esp_added = esp_len(p.algorithm, Mode::Transport, inner.len(), false) - inner.len();
    d.narrate(
        "ipsec.narr.ah_vs_esp",
        &[("ah", &ah::OVERHEAD), ("esp", &esp_added)],
    );
    let fields = describe::ah_packet(&protected.bytes);
    let arrived = d.send(
        Hop(a, mid, lan),
        "ipsec.msg.ah",
        "ah",
        protected.bytes,
        fields,
    );
    let got = d.receive(mid, &arrived)?;
    let mut fwd = forward(&got);
    if p.nat {
        let mut pk = ipv4::Packet::new_unchecked(fwd);
        pk.set_src_addr(public);
        pk.fill_checksum();
        fwd = pk.into_inner();
        d.narrate("ipsec.narr.nat_rewrites", &[("from", &ha), ("to", &public)]);
    } else {
        d.narrate("ipsec.narr.router_forwards", &[]);
    }
    let fields = describe::ah_packet(&fwd);
    let arrived = d.send(Hop(mid, b, internet), "ipsec.msg.ah", "ah", fwd, fields);
    d.narrate("ipsec.narr.eve_reads_ah", &[("text", &p.payload)]);
    let got = d.receive(b, &arrived)?;
    d.check(b, "ipsec.check.spi", Outcome::Passed);
    match inb.verify(&got) {
        Ok(plain) => {
            d.check(b, "ipsec.check.replay", Outcome::Passed);
            d.check(b, "ipsec.check.ah_icv", Outcome::Passed);
            d.narrate("ipsec.narr.ah_mutable_ok", &[]);
            d.narrate("ipsec.narr.delivered", &[("text", &ip_text(&plain))]);
            Ok(())
        }
        Err(e) => {
            d.check(b, "ipsec.check.replay", Outcome::Passed);
            d.check(
                b,
                "ipsec.check.ah_icv",
                Outcome::Failed(FailReason::TagMismatch),
            );
            d.narrate(
                "ipsec.narr.ah_nat_breaks",
                &[("from", &ha), ("to", &public)],
            );
            Err(d.alert(b, e))
        }
    }
}
