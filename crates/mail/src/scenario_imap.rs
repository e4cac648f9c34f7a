//! `imap-fetch`: Bob's mail client fetches Alice's S/MIME mail from his provider
//! over IMAP inside TLS from the first byte (port 993, RFC 8314 §3.2); opening it
//! is `smime-encrypted`'s story. Eve on the Internet sees only TLS records.

use cipherstage_pki::{Pki, SCENARIO_NOW};
use cipherstage_smime::mime;
use cipherstage_tls::scenario::EVE_TAMPERS;
use cipherstage_transcript::rand::RandomSource;
use cipherstage_transcript::{
    drive, ActorId, Delivered, Endpoint, Fate, Flow, NarrateFlips, Path, Recorder, Transmit,
};

use crate::imap::{ImapClient, ImapClientSession, ImapServer, ImapServerSession, ImapState};
use crate::scenario::{identity, letter, transmit, Params, CLIENT, MX_HOST, RELAY_HOST, SERVER};
use crate::server::Credentials;

/// Bob's provider's IMAP server.
pub const IMAP_HOST: &str = "imap.example.com";
/// Bob's login.
pub const BOB_USER: &str = "bob@example.com";
/// Bob's password (a demo one).
pub const BOB_PASSWORD: &str = "bobs-imap-password";
const MAX_ROUNDS: usize = 64;

fn bob() -> Credentials {
    Credentials {
        user: BOB_USER.to_owned(),
        password: BOB_PASSWORD.to_owned(),
    }
}

pub(crate) fn tell(
    rec: &mut Recorder,
    p: &Params,
    pki: &Pki,
    crng: Box<dyn RandomSource>,
    srng: Box<dyn RandomSource>,
    rng: &mut dyn RandomSource,
) -> Option<Vec<u8>> {
    let (Some(vhost), Some(mail)) = (identity(pki, IMAP_HOST, rng), letter(p, pki, rng)) else {
        rec.narrate("tls.narr.pki_failed", &[]);
        return None;
    };
    // The mail as Bob's server stored it after the relay's delivery.
    let mut stored = format!(
        "Received: from {RELAY_HOST} by {MX_HOST} with ESMTPS; {}\r\n",
        mime::rfc5322_date(SCENARIO_NOW)
    )
    .into_bytes();
    stored.extend_from_slice(&mail);
    rec.narrate(
        "imap.narr.intro",
        &[("server", &IMAP_HOST), ("user", &BOB_USER)],
    );
    let mut sc = cipherstage_tls::ServerConfig::new(vec![vhost]);
    sc.ticket = None;
    let cc =
        cipherstage_tls::ClientConfig::new(IMAP_HOST, vec![pki.root.der.clone()], SCENARIO_NOW);
    let describe: crate::line::Describe = cipherstage_smime::scenario_encrypted::describe;
    let server = ImapServer::new(IMAP_HOST, bob(), vec![stored], Some(describe));
    let mut server = Mailbox {
        session: ImapServerSession::new(server, sc, srng, SERVER),
    };
    let client = match ImapClientSession::new(ImapClient::new(bob()), cc, crng, CLIENT) {
        Ok(c) => c,
        Err(e) => {
            rec.alert(CLIENT, e.alert.key(), true);
            return None;
        }
    };
    let mut client = Reader { session: client };
    rec.events.extend(client.session.take_events());
    drive(
        &mut [&mut client, &mut server],
        &mut Watch { told: false },
        rec,
        rng,
        MAX_ROUNDS,
    );
    let Some(fetched) = client.session.imap.fetched.clone() else {
        rec.narrate("imap.narr.not_fetched", &[]);
        return None;
    };
    rec.narrate("imap.narr.fetched", &[("bytes", &fetched.len())]);
    // Opening the S/MIME body is the smime-encrypted story's: linking Bob's
    // static-key ECDH and AES-CBC here would put this family's page over its
    // size budget, for steps that scenario already shows byte by byte.
    rec.narrate("imap.narr.bob_opens_next", &[]);
    Some(fetched)
}

/// Bob's mail client.
struct Reader {
    session: ImapClientSession,
}

impl Endpoint for Reader {
    fn actor(&self) -> ActorId {
        CLIENT
    }

    fn step(&mut self, rec: &mut Recorder, _rng: &mut dyn RandomSource, _now: u64) -> bool {
        rec.events.extend(self.session.take_events());
        false
    }

    fn transmit(&mut self, rec: &mut Recorder) -> Vec<Transmit> {
        let out = self.session.take_output();
        rec.events.extend(self.session.take_events());
        out.into_iter().map(|o| transmit(SERVER, o)).collect()
    }

    fn receive(
        &mut self,
        _from: ActorId,
        bytes: &[u8],
        rec: &mut Recorder,
        _rng: &mut dyn RandomSource,
    ) -> Flow {
        self.session.receive(bytes);
        rec.events.extend(self.session.take_events());
        Flow::Continue
    }
}

/// Bob's provider's IMAP server.
struct Mailbox {
    session: ImapServerSession,
}

impl Endpoint for Mailbox {
    fn actor(&self) -> ActorId {
        SERVER
    }

    fn step(&mut self, rec: &mut Recorder, _rng: &mut dyn RandomSource, _now: u64) -> bool {
        rec.events.extend(self.session.take_events());
        false
    }

    fn transmit(&mut self, rec: &mut Recorder) -> Vec<Transmit> {
        let out = self.session.take_output();
        rec.events.extend(self.session.take_events());
        out.into_iter().map(|o| transmit(CLIENT, o)).collect()
    }

    fn receive(
        &mut self,
        _from: ActorId,
        bytes: &[u8],
        rec: &mut Recorder,
        _rng: &mut dyn RandomSource,
    ) -> Flow {
        let before = self.session.imap.state();
        self.session.receive(bytes);
        rec.events.extend(self.session.take_events());
        match (before, self.session.imap.state()) {
            (ImapState::NotAuthenticated, ImapState::Authenticated) => {
                rec.narrate("imap.narr.logged_in", &[("user", &BOB_USER)])
            }
            (ImapState::Authenticated, ImapState::Selected) => {
                rec.narrate("imap.narr.selected", &[])
            }
            _ => {}
        }
        Flow::Continue
    }
}

/// Eve on the Internet link: a flipped bit, and what the records show her.
struct Watch {
    told: bool,
}

impl Path for Watch {
    fn on_wire(
        &mut self,
        rec: &mut Recorder,
        from: ActorId,
        sent: &Transmit,
        arrived: &Delivered,
    ) -> Fate {
        NarrateFlips(EVE_TAMPERS).on_wire(rec, from, sent, arrived);
        if !self.told && sent.label == "imap.msg.login" {
            self.told = true;
            rec.narrate("imap.narr.eve_sees_records", &[]);
        }
        Fate::Deliver
    }
}
