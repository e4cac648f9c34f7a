//! SFTP version 3 (draft-ietf-secsh-filexfer-02), the file transfer protocol
//! OpenSSH runs as the "sftp" subsystem of a session channel.
//!
//! [`wire`] parses and emits its packets with a field for every byte (nested in
//! the CHANNEL_DATA that carries them); [`fs`] is the server's in-memory file
//! system; [`server`] answers requests on it; [`client`] runs uploads,
//! downloads, listings and resumed transfers one request at a time.

pub mod client;
pub mod fs;
pub mod server;
pub mod wire;

pub use client::{Job, Outcome, SftpClient};
pub use fs::MemFs;
pub use server::SftpServer;
pub use wire::Packet;
