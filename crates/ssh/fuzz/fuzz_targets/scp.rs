//! SCP: any bytes as control lines, exec commands, and into our sink, source and
//! client. Never panics; the file system never grows past its limit.
#![no_main]
use cipherstage_ssh::scp::{parse_command, parse_line, ScpClient, ScpSink, ScpSource};
use cipherstage_ssh::sftp::fs::MAX_TOTAL;
use cipherstage_ssh::sftp::MemFs;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse_line(data);
    if let Ok(s) = core::str::from_utf8(data) {
        let _ = parse_command(s);
    }
    let mut fs = MemFs::demo("alice", 0);
    let mut sink = ScpSink::new("upload", true);
    let _ = sink.receive(&mut fs, data);
    let _ = sink.finish();
    assert!(fs.files().map(|(_, d)| d.len()).sum::<usize>() <= MAX_TOTAL);
    let mut source = ScpSource::new("notes.txt");
    let _ = source.receive(&fs, data);
    let _ = ScpClient::download().receive(data);
    let _ = ScpClient::upload("a", vec![7; 10]).receive(data);
});
