//! Writes a scenario's capture as pcapng and prints the tshark SA options.
use cipherstage_ipsec::{run_with_export, Algorithm, Params, Story};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let id = args.get(1).map(String::as_str).unwrap_or("ipsec-transport");
    let Some(story) = Story::from_id(id) else {
        eprintln!("unknown scenario {id:?}");
        return;
    };
    let alg = args
        .get(2)
        .and_then(|a| Algorithm::from_id(a))
        .unwrap_or(Algorithm::Aes128Gcm);
    let out = args
        .get(3)
        .cloned()
        .unwrap_or_else(|| "capture.pcapng".into());
    let (_, e) = run_with_export(
        story,
        &Params {
            algorithm: alg,
            ..Params::default()
        },
        Some(1),
    );
    std::fs::write(&out, e.pcapng()).unwrap_or_else(|err| eprintln!("{err}"));
    for sa in &e.sas {
        if let Some(row) = sa.uat_row() {
            println!("-o 'uat:esp_sa:{row}'");
        }
    }
}
