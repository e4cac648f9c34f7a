//! Building SA proposals and choosing from them (RFC 7296 §2.7, §3.3).

use crate::consts::{protocol, transform};
use crate::crypto::{Encr, Group};
use crate::wire::{Proposal, Transform};

fn encr_transform(e: Encr) -> Transform {
    let (id, key_bits) = e.wire();
    Transform {
        ty: transform::ENCR,
        id,
        key_bits,
    }
}

/// The IKE SA proposal: every transform of `encrs`, PRF_HMAC_SHA2_256, every group.
pub fn ike_proposal(encrs: &[Encr], groups: &[Group]) -> Proposal {
    let mut transforms: Vec<Transform> = encrs.iter().map(|&e| encr_transform(e)).collect();
    transforms.push(Transform {
        ty: transform::PRF,
        id: transform::PRF_HMAC_SHA2_256,
        key_bits: None,
    });
    transforms.extend(groups.iter().map(|g| Transform {
        ty: transform::DH,
        id: g.number(),
        key_bits: None,
    }));
    Proposal {
        num: 1,
        protocol: protocol::IKE,
        spi: Vec::new(),
        transforms,
    }
}

/// The ESP proposal of a CHILD_SA without PFS: the transforms of `encrs`, no ESN.
pub fn esp_proposal(encrs: &[Encr], spi: u32) -> Proposal {
    let mut transforms: Vec<Transform> = encrs.iter().map(|&e| encr_transform(e)).collect();
    transforms.push(Transform {
        ty: transform::ESN,
        id: transform::ESN_NONE,
        key_bits: None,
    });
    Proposal {
        num: 1,
        protocol: protocol::ESP,
        spi: spi.to_be_bytes().to_vec(),
        transforms,
    }
}

/// The IKE SA the responder accepts: the first offered proposal with an ENCR we allow,
/// PRF_HMAC_SHA2_256 and a group we allow (in the initiator's order).
pub fn choose_ike(
    offered: &[Proposal],
    encrs: &[Encr],
    groups: &[Group],
) -> Option<(u8, Encr, Group)> {
    offered
        .iter()
        .filter(|p| p.protocol == protocol::IKE && p.spi.is_empty())
        .find_map(|p| {
            let e = p
                .of(transform::ENCR)
                .filter_map(|t| Encr::from_wire(t.id, t.key_bits))
                .find(|e| encrs.contains(e))?;
            p.of(transform::PRF)
                .find(|t| t.id == transform::PRF_HMAC_SHA2_256)?;
            if p.of(transform::INTEG).any(|t| t.id != 0) {
                // An integrity transform with an AEAD is not a combination we accept.
                return None;
            }
            let g = p
                .of(transform::DH)
                .filter_map(|t| Group::from_number(t.id))
                .find(|g| groups.contains(g))?;
            Some((p.num, e, g))
        })
}

/// The groups of the proposal numbered `num` that we allow, in offered order.
pub fn offered_groups(offered: &[Proposal], num: u8, groups: &[Group]) -> Vec<Group> {
    offered
        .iter()
        .filter(|p| p.num == num)
        .flat_map(|p| p.of(transform::DH))
        .filter_map(|t| Group::from_number(t.id))
        .filter(|g| groups.contains(g))
        .collect()
}

/// The ESP SA the responder accepts: proposal number, transform, the initiator's SPI.
pub fn choose_esp(offered: &[Proposal], encrs: &[Encr]) -> Option<(u8, Encr, u32)> {
    offered
        .iter()
        .filter(|p| p.protocol == protocol::ESP)
        .find_map(|p| {
            let e = p
                .of(transform::ENCR)
                .filter_map(|t| Encr::from_wire(t.id, t.key_bits))
                .find(|e| encrs.contains(e))?;
            let no_esn = p.of(transform::ESN).next().is_none()
                || p.of(transform::ESN).any(|t| t.id == transform::ESN_NONE);
            if !no_esn || p.of(transform::DH).any(|t| t.id != 0) {
                return None;
            }
            let spi = u32::from_be_bytes(p.spi.as_slice().try_into().ok()?);
            Some((p.num, e, spi))
        })
}

/// A chosen proposal as the responder sends it back: one transform of each type.
pub fn accepted(num: u8, proto: u8, spi: Vec<u8>, encr: Encr, group: Option<Group>) -> Proposal {
    let mut transforms = vec![encr_transform(encr)];
    if proto == protocol::IKE {
        transforms.push(Transform {
            ty: transform::PRF,
            id: transform::PRF_HMAC_SHA2_256,
            key_bits: None,
        });
    }
    if let Some(g) = group {
        transforms.push(Transform {
            ty: transform::DH,
            id: g.number(),
            key_bits: None,
        });
    }
    if proto == protocol::ESP {
        transforms.push(Transform {
            ty: transform::ESN,
            id: transform::ESN_NONE,
            key_bits: None,
        });
    }
    Proposal {
        num,
        protocol: proto,
        spi,
        transforms,
    }
}

/// The single transform of the responder's answer, checked against what we offered.
pub fn check_answer_ike(
    answer: &[Proposal],
    encrs: &[Encr],
    groups: &[Group],
) -> Option<(Encr, Group)> {
    let [p] = answer else { return None };
    let (_, e, g) = choose_ike(core::slice::from_ref(p), encrs, groups)?;
    (p.of(transform::ENCR).count() == 1 && p.of(transform::DH).count() == 1).then_some((e, g))
}

/// The responder's ESP answer, checked against what we offered: transform and its SPI.
pub fn check_answer_esp(answer: &[Proposal], encrs: &[Encr]) -> Option<(Encr, u32)> {
    let [p] = answer else { return None };
    let (_, e, spi) = choose_esp(core::slice::from_ref(p), encrs)?;
    (p.of(transform::ENCR).count() == 1).then_some((e, spi))
}
