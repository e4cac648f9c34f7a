//! Arbitrary bytes as records into a fresh server, and into a client that has sent
//! its ClientHello: no panic, and every received record gets a field tree.
#![no_main]
use cipherstage_pki::SCENARIO_NOW;
use cipherstage_tls::{Client, ClientConfig, Connection, Server, ServerConfig};
use cipherstage_transcript::rand::Seeded;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut server = Server::new(ServerConfig::new(Vec::new()), Box::new(Seeded::new(1)), 1);
    let _ = server.receive(data);
    let _ = server.take_output();
    let _ = server.take_received();
    let cc = ClientConfig::new("www.example.com", Vec::new(), SCENARIO_NOW);
    if let Ok(mut client) = Client::new(cc, Box::new(Seeded::new(2)), 0) {
        let _ = client.receive(data);
        let _ = client.take_output();
        let _ = client.take_received();
    }
});
