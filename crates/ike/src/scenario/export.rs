//! What a capture of a scenario's Internet link needs to be read in Wireshark: the
//! packets, and the keys of the IKE SA and the CHILD_SA as tshark's
//! `ikev2_decryption_table` and `esp_sa` tables want them.

use crate::Encr;

/// The IKE SA's keys as tshark's IKEv2 decryption table wants them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IkeSaKeys {
    /// SPIi.
    pub spi_i: [u8; 8],
    /// SPIr.
    pub spi_r: [u8; 8],
    /// The SK payload's transform.
    pub encr: Encr,
    /// SK_ei (key ‖ salt).
    pub sk_ei: Vec<u8>,
    /// SK_er (key ‖ salt).
    pub sk_er: Vec<u8>,
}

/// What a capture of the Internet link needs to be read in Wireshark: the packets and
/// the keys of the IKE SA and the CHILD_SA that protect them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Export {
    /// The IP packets of the Internet link, in order.
    pub packets: Vec<Vec<u8>>,
    /// The IKE SA, once keys were derived.
    pub ike: Option<IkeSaKeys>,
    /// The ESP SAs of the CHILD_SA, as Wireshark's ESP SA table wants them.
    pub esp: Vec<cipherstage_ipsec::export::SaExport>,
}

impl Export {
    /// The packets as pcapng (raw IPv4, deterministic timestamps).
    pub fn pcapng(&self) -> Vec<u8> {
        cipherstage_ipsec::export::pcapng(&self.packets)
    }

    /// The tshark `-o` options that decrypt the capture: one `ikev2_decryption_table`
    /// row (AES-GCM only: tshark 4.0 has no ChaCha20-Poly1305 for IKE) and one `esp_sa`
    /// row per direction.
    pub fn tshark_options(&self) -> Vec<String> {
        let hex = cipherstage_transcript::hex_encode;
        let mut out = Vec::new();
        if let Some(k) = &self.ike {
            let alg = match k.encr {
                Encr::AesGcm128 => Some("AES-GCM-128 with 16 octet ICV [RFC5282]"),
                Encr::AesGcm256 => Some("AES-GCM-256 with 16 octet ICV [RFC5282]"),
                Encr::ChaCha20Poly1305 => None,
            };
            if let Some(alg) = alg {
                // Byte fields are bare hex in a UAT row; text fields are quoted.
                out.push(format!(
                    "uat:ikev2_decryption_table:{},{},{},{},\"{alg}\",,,\"NONE [RFC4306]\"",
                    hex(&k.spi_i),
                    hex(&k.spi_r),
                    hex(&k.sk_ei),
                    hex(&k.sk_er)
                ));
            }
        }
        if !self.esp.is_empty() {
            out.push("esp.enable_encryption_decode:TRUE".into());
        }
        for sa in &self.esp {
            if let Some(row) = sa.uat_row() {
                out.push(format!("uat:esp_sa:{row}"));
            }
        }
        out
    }
}
