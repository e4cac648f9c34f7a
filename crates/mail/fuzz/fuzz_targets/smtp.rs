//! SMTP lines from anyone: the bounded line reader, the command and reply
//! parsers and their field trees (exact coverage of every byte), dot-stuffing,
//! and our server and client state machines fed the bytes in chunks.
#![no_main]
use cipherstage_mail::line::{self, Item, LineBuffer, MAX_LINE};
use cipherstage_mail::{Client, ClientConfig, Credentials, Server, ServerConfig, TlsPolicy};
use cipherstage_transcript::{check_fields, FieldsBuilder, Protection};
use libfuzzer_sys::fuzz_target;

fn covered(build: impl FnOnce(&mut FieldsBuilder), len: usize) {
    let mut b = FieldsBuilder::new(0);
    build(&mut b);
    check_fields(&b.finish(), 0, len).expect("every byte explained once");
}

fuzz_target!(|data: &[u8]| {
    // The first byte picks a chunk size, so lines arrive split anywhere.
    let (chunk, rest) = match data.split_first() {
        Some((c, r)) => (usize::from(*c).max(1), r),
        None => (1, data),
    };
    let mut lb = LineBuffer::new();
    for piece in rest.chunks(chunk) {
        for item in lb.push(piece) {
            let Item::Line(l) = item else { continue };
            assert!(l.len() <= MAX_LINE && l.ends_with(b"\r\n"));
            let _ = line::parse_command(&l);
            let _ = line::parse_reply_line(&l);
            covered(|b| line::command_fields(b, &l, Protection::Plaintext), l.len());
            covered(|b| line::reply_line_fields(b, &l, true, Protection::Plaintext), l.len());
        }
        assert!(lb.pending() < MAX_LINE, "the buffer stays bounded");
    }
    covered(|b| line::reply_fields(b, rest, true, Protection::Plaintext), rest.len());
    let stuffed = line::dot_stuff(rest);
    assert!(stuffed.ends_with(b".\r\n"));
    covered(
        |b| line::content_fields(b, rest, &stuffed, None, Protection::Plaintext),
        stuffed.len(),
    );

    let mut config = ServerConfig::new("mx.example.com");
    config.auth = Some(Credentials {
        user: "alice".into(),
        password: "pw".into(),
    });
    config.max_message = 4096;
    for secure in [false, true] {
        let mut s = Server::new(config.clone(), secure);
        for piece in rest.chunks(chunk) {
            s.receive(piece);
            for out in s.take_output() {
                check_fields(&out.fields, 0, out.bytes.len()).expect("replies explained");
            }
            if s.wants_tls() {
                s.tls_started();
            }
            for m in s.take_received() {
                assert!(m.data.len() <= 4096);
            }
        }
    }
    let mut c = Client::new(ClientConfig {
        helo: "relay.example.net".into(),
        tls: TlsPolicy::Opportunistic,
        auth: None,
        from: "alice@example.com".into(),
        to: vec!["bob@example.com".into()],
        message: b"Subject: x\r\n\r\n.hi\r\n".to_vec(),
        describe: None,
    });
    for piece in rest.chunks(chunk) {
        c.receive(piece);
        for out in c.take_output() {
            check_fields(&out.fields, 0, out.bytes.len()).expect("commands explained");
        }
        if c.wants_tls() {
            c.tls_started();
        }
    }
});
