//! Our client and server fed any bytes after they start: errors, never a panic.
#![no_main]
use cipherstage_ssh::scenario::{peers, Params};
use cipherstage_transcript::rand::Seeded;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok((mut client, mut server)) = peers(&Params::default()) else {
        return;
    };
    let mut rng = Seeded::new(1);
    let mut events = Vec::new();
    let _ = client.start(&mut rng);
    let _ = server.start(&mut rng);
    // A valid version line first, so the packet decoders are reached too.
    let mut input = b"SSH-2.0-fuzz\r\n".to_vec();
    input.extend_from_slice(data);
    for chunk in input.chunks(97) {
        if client.receive(chunk, &mut rng, &mut events).is_err() {
            break;
        }
    }
    for chunk in input.chunks(97) {
        if server.receive(chunk, &mut rng, &mut events).is_err() {
            break;
        }
    }
});
