//! IronRDP's decoders (`ironrdp-pdu` 0.11, a native dev-dependency) read every
//! PDU our client writes, made by the same functions the client sends them
//! with, and find in them what we put there.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use cipherstage_rdp::fastpath::{self, Input};
use cipherstage_rdp::mcs::{self, ChannelDef, ClientData};
use cipherstage_rdp::pdu::{self, Caps, Logon};
use cipherstage_rdp::x224;
use ironrdp_pdu::mcs::{ConnectInitial, McsMessage};
use ironrdp_pdu::nego::ConnectionRequest;
use ironrdp_pdu::rdp::headers::{ShareControlHeader, ShareControlPdu, ShareDataPdu};
use ironrdp_pdu::rdp::ClientInfoPdu;
use ironrdp_pdu::x224::{X224Data, X224};

fn bytes(w: cipherstage_rdp::codec::Writer) -> Vec<u8> {
    w.finish().0
}

fn client_data() -> ClientData {
    ClientData {
        width: 800,
        height: 600,
        bpp: 16,
        client_name: "LAPTOP".into(),
        keyboard_layout: 0x409,
        selected_protocol: x224::PROTOCOL_SSL,
        channels: ["cliprdr", "rdpsnd", "drdynvc"]
            .into_iter()
            .map(|n| ChannelDef {
                name: n.into(),
                options: 0xC000_0000,
            })
            .collect(),
    }
}

/// The MCS Send Data Request's user data, as IronRDP reads the PDU.
fn send_data_payload(b: &[u8]) -> (u16, u16, Vec<u8>) {
    match ironrdp_pdu::decode::<X224<McsMessage<'_>>>(b).unwrap().0 {
        McsMessage::SendDataRequest(r) => (r.initiator_id, r.channel_id, r.user_data.to_vec()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn ironrdp_reads_our_connection_request() {
    let b = bytes(x224::connection_request("alice", x224::PROTOCOL_SSL));
    let cr = ironrdp_pdu::decode::<X224<ConnectionRequest>>(&b)
        .unwrap()
        .0;
    assert_eq!(cr.protocol.bits(), x224::PROTOCOL_SSL);
    assert_eq!(
        format!("{:?}", cr.nego_data),
        format!(
            "{:?}",
            Some(ironrdp_pdu::nego::NegoRequestData::cookie("alice".into()))
        )
    );
}

#[test]
fn ironrdp_reads_our_mcs_connect_initial_and_its_gcc_blocks() {
    let b = bytes(mcs::connect_initial(&client_data()));
    let data = ironrdp_pdu::decode::<X224<X224Data<'_>>>(&b).unwrap().0;
    let ci = ironrdp_pdu::decode::<ConnectInitial>(&data.data).unwrap();
    let gcc = ci.conference_create_request.gcc_blocks();
    assert_eq!(gcc.core.desktop_width, 800);
    assert_eq!(gcc.core.desktop_height, 600);
    assert_eq!(gcc.core.client_name, "LAPTOP");
    let names: Vec<String> = ci
        .channel_names()
        .unwrap()
        .iter()
        .map(|c| c.name.as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(names, ["cliprdr", "rdpsnd", "drdynvc"]);
    assert!(gcc.cluster.is_some());
}

#[test]
fn ironrdp_reads_our_domain_pdus() {
    let b = bytes(mcs::erect_domain());
    assert!(matches!(
        ironrdp_pdu::decode::<X224<McsMessage<'_>>>(&b).unwrap().0,
        McsMessage::ErectDomainRequest(_)
    ));
    let b = bytes(mcs::attach_user_request());
    assert!(matches!(
        ironrdp_pdu::decode::<X224<McsMessage<'_>>>(&b).unwrap().0,
        McsMessage::AttachUserRequest(_)
    ));
    let b = bytes(mcs::channel_join_request(1007, 1004));
    match ironrdp_pdu::decode::<X224<McsMessage<'_>>>(&b).unwrap().0 {
        McsMessage::ChannelJoinRequest(j) => {
            assert_eq!((j.initiator_id, j.channel_id), (1007, 1004));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn ironrdp_reads_our_client_info_with_the_credentials() {
    let logon = Logon {
        domain: String::new(),
        user: "alice".into(),
        password: "pw-rdp".into(),
    };
    let b = bytes(mcs::send_data_request(1007, 1003, pdu::client_info(&logon)));
    let (user, channel, payload) = send_data_payload(&b);
    assert_eq!((user, channel), (1007, 1003));
    let info = ironrdp_pdu::decode::<ClientInfoPdu>(&payload).unwrap();
    assert_eq!(info.client_info.credentials.username, "alice");
    assert_eq!(info.client_info.credentials.password, "pw-rdp");
}

#[test]
fn ironrdp_reads_our_confirm_active_and_finalization_pdus() {
    let caps = Caps {
        bpp: 16,
        width: 800,
        height: 600,
        keyboard_layout: 0x409,
    };
    let share = 0x0001_03EA;
    let b = bytes(mcs::send_data_request(
        1007,
        1003,
        pdu::confirm_active(share, 1007, &caps),
    ));
    let (_, _, payload) = send_data_payload(&b);
    let h = ironrdp_pdu::decode::<ShareControlHeader>(&payload).unwrap();
    assert_eq!((h.share_id, h.pdu_source), (share, 1007));
    match h.share_control_pdu {
        ShareControlPdu::ClientConfirmActive(c) => {
            assert_eq!(c.pdu.capability_sets.len(), 6);
        }
        other => panic!("{other:?}"),
    }
    let pdus = [
        (31, pdu::synchronize(0x03EA)),
        (20, pdu::control(4)),
        (20, pdu::control(1)),
        (39, pdu::font_list()),
    ];
    let mut seen = Vec::new();
    for (t, body) in pdus {
        let b = bytes(mcs::send_data_request(
            1007,
            1003,
            pdu::data_pdu(share, 1007, t, body),
        ));
        let (_, _, payload) = send_data_payload(&b);
        let h = ironrdp_pdu::decode::<ShareControlHeader>(&payload).unwrap();
        let ShareControlPdu::Data(d) = h.share_control_pdu else {
            panic!("not a data PDU")
        };
        seen.push(match d.share_data_pdu {
            ShareDataPdu::Synchronize(_) => "synchronize",
            ShareDataPdu::Control(_) => "control",
            ShareDataPdu::FontList(_) => "font_list",
            _ => "other",
        });
    }
    assert_eq!(seen, ["synchronize", "control", "control", "font_list"]);
}

#[test]
fn ironrdp_reads_our_fast_path_input() {
    let b = bytes(fastpath::input_pdu(&[
        Input::Key {
            code: 0x1E,
            release: false,
        },
        Input::Mouse {
            flags: fastpath::PTR_MOVE,
            x: 100,
            y: 200,
        },
    ]));
    let fp = ironrdp_pdu::decode::<ironrdp_pdu::input::fast_path::FastPathInput>(&b).unwrap();
    assert_eq!(fp.input_events().len(), 2);
}
