//! What was on the wire, as a pcapng file Wireshark can open, with the SAs it needs to
//! decrypt the ESP packets (Edit › Preferences › Protocols › ESP, or tshark's
//! `-o uat:esp_sa:…`).
//!
//! pcapng (draft-ietf-opsawg-pcapng): a Section Header Block, one Interface Description
//! Block with link type 101 (LINKTYPE_RAW: each packet starts with its IP header), and
//! one Enhanced Packet Block per packet; little-endian.

use cipherstage_packets::Ipv4Addr;

use crate::sa::Algorithm;

pub use cipherstage_packets::pcapng::LINKTYPE_RAW;

/// One ESP SA as Wireshark's ESP SA table wants it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaExport {
    /// Outer source address as seen on the captured link.
    pub src: Ipv4Addr,
    /// Outer destination address.
    pub dst: Ipv4Addr,
    /// SPI.
    pub spi: u32,
    /// Algorithm.
    pub algorithm: Algorithm,
    /// Cipher key.
    pub key: Vec<u8>,
    /// The 4-byte salt (RFC 4106 §8.1: the last 4 bytes of the keying material).
    pub salt: [u8; 4],
}

impl SaExport {
    /// Wireshark's encryption algorithm name, if its ESP dissector knows the transform
    /// (tshark 4.0 has no ChaCha20-Poly1305 for ESP).
    pub fn wireshark_algorithm(&self) -> Option<&'static str> {
        match self.algorithm {
            Algorithm::Aes128Gcm | Algorithm::Aes256Gcm => {
                Some("AES-GCM with 16 octet ICV [RFC4106]")
            }
            Algorithm::ChaCha20Poly1305 => None,
        }
    }

    /// Key then salt, in hex, as Wireshark wants the encryption key.
    pub fn key_and_salt_hex(&self) -> String {
        self.key
            .iter()
            .chain(self.salt.iter())
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// One `esp_sa` table row: `"IPv4","SRC","DST","0xSPI","ALG","0xKEYSALT","NULL",""`,
    /// for `tshark -o uat:esp_sa:ROW`.
    pub fn uat_row(&self) -> Option<String> {
        let alg = self.wireshark_algorithm()?;
        Some(format!(
            "\"IPv4\",\"{}\",\"{}\",\"0x{:08x}\",\"{}\",\"0x{}\",\"NULL\",\"\"",
            self.src,
            self.dst,
            self.spi,
            alg,
            self.key_and_salt_hex()
        ))
    }
}

/// A capture: the packets of one link and the SAs that protect them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Export {
    /// IP packets in the order they crossed the link.
    pub packets: Vec<Vec<u8>>,
    /// The ESP SAs in use on that link.
    pub sas: Vec<SaExport>,
}

impl Export {
    /// The packets as a pcapng file, one millisecond apart from time zero.
    pub fn pcapng(&self) -> Vec<u8> {
        pcapng(&self.packets)
    }
}

/// Raw IP packets as a pcapng file (link type [`LINKTYPE_RAW`], microsecond timestamps
/// 0, 1000, 2000 …: deterministic, no clock).
pub fn pcapng(packets: &[Vec<u8>]) -> Vec<u8> {
    cipherstage_packets::pcapng::raw_ip(packets)
}
