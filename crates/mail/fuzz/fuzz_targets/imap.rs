//! IMAP from anyone: command lines (parser and field tree, exact coverage), our
//! server fed any bytes in chunks (every response explained), and our client fed
//! any server bytes in chunks (literals bounded).
#![no_main]
use cipherstage_mail::imap::{command_fields, parse_command, ImapClient, ImapServer};
use cipherstage_mail::line::{split_lines, MAX_LINE};
use cipherstage_mail::Credentials;
use cipherstage_transcript::{check_fields, FieldsBuilder};
use libfuzzer_sys::fuzz_target;

fn bob() -> Credentials {
    Credentials {
        user: "bob@example.com".into(),
        password: "pw".into(),
    }
}

fuzz_target!(|data: &[u8]| {
    let (chunk, rest) = match data.split_first() {
        Some((c, r)) => (usize::from(*c).max(1), r),
        None => (1, data),
    };
    for l in split_lines(rest) {
        let _ = parse_command(l);
        if l.ends_with(b"\r\n") && l.len() <= MAX_LINE {
            let mut b = FieldsBuilder::new(0);
            command_fields(&mut b, l);
            check_fields(&b.finish(), 0, l.len()).expect("every byte explained once");
        }
    }
    let mut s = ImapServer::new("imap.example.com", bob(), vec![b"Subject: x\r\n\r\nhi\r\n".to_vec()], None);
    let mut c = ImapClient::new(bob());
    for piece in rest.chunks(chunk) {
        s.receive(piece);
        for out in s.take_output() {
            check_fields(&out.fields, 0, out.bytes.len()).expect("responses explained");
        }
        c.receive(piece);
        for out in c.take_output() {
            check_fields(&out.fields, 0, out.bytes.len()).expect("commands explained");
        }
    }
});
