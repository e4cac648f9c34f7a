//! SFTP: any bytes into the framer, the packet parser, our server (on the demo
//! in-memory file system) and our client. Never panics; a parsed packet re-emits
//! to bytes that parse to the same packet, with every byte explained.
#![no_main]
use cipherstage_ssh::sftp::wire::{Framer, Packet};
use cipherstage_ssh::sftp::{Job, MemFs, SftpClient, SftpServer};
use cipherstage_transcript::check_fields;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = Packet::parse(data) {
        let (bytes, fields) = p.emit();
        assert!(check_fields(&fields, 0, bytes.len()).is_ok());
        let mut f = Framer::default();
        f.feed(&bytes);
        let body = f.next_body().ok().flatten().unwrap_or_default();
        assert_eq!(Packet::parse(&body).ok(), Some(p));
    }
    // The same bytes as a stream: to the server, then its replies to a client.
    let mut fs = MemFs::demo("alice", 0);
    let mut server = SftpServer::new();
    let _ = server.receive(&mut fs, data);
    let mut client = SftpClient::new(
        vec![
            Job::Upload {
                remote: "upload/x".into(),
                data: vec![1; 3000],
                resume: true,
            },
            Job::Download {
                remote: "notes.txt".into(),
                have: vec![0; 5],
            },
            Job::List { dir: ".".into() },
        ],
        1024,
    );
    let _ = client.start();
    let _ = client.receive(data);
});
