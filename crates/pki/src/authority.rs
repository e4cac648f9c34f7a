//! A CA that issues client certificates from CSRs and revokes them in a CRL
//! (RFC 5280 §5): the VPN product's intermediate CA under the company root, or the
//! test PKI's own intermediate. rcgen writes and signs; rustls-webpki checks
//! chains against the CRLs ([`verify_chain_with_crls`]).

use cipherstage_transcript::rand::RandomSource;
use rcgen::{
    CertificateParams, CertificateRevocationListParams, ExtendedKeyUsagePurpose, Issuer,
    KeyIdMethod, RevocationReason, RevokedCertParams, SerialNumber,
};
use rustls_pki_types::{CertificateDer, UnixTime};

use crate::issue::Csr;
use crate::{map_err, params, Cert, Key, KeyKind, PkiError, PublicKey, Spec, Usage, VerifyError};

fn time(t: i64) -> Result<time::OffsetDateTime, PkiError> {
    time::OffsetDateTime::from_unix_timestamp(t).map_err(|e| PkiError::Generate(e.to_string()))
}

/// A CA: its certificate and key, and the parameters its name and key identifier
/// come from.
#[derive(Debug, Clone)]
pub struct Authority {
    /// The CA's certificate and key.
    pub cert: Cert,
    params: CertificateParams,
}

/// The common name of the VPN product's CA.
pub const VPN_CA_CN: &str = "cipherstage VPN CA";

impl Authority {
    /// The test PKI's intermediate (`pki.intermediate`) as an issuer.
    pub fn intermediate(cert: &Cert) -> Result<Authority, PkiError> {
        Ok(Authority {
            cert: cert.clone(),
            params: crate::intermediate_params()?,
        })
    }

    /// A new intermediate CA, [`VPN_CA_CN`] (serial 10 05), signed by the test PKI's
    /// root `root`, valid as the test PKI's CAs are at `now` (see
    /// [`crate::validity_shift`]). Its Ed25519 key comes from `rng`.
    pub fn vpn_ca(
        rng: &mut dyn RandomSource,
        root: &Cert,
        now: u64,
    ) -> Result<Authority, PkiError> {
        let shift = crate::validity_shift(now);
        let spec = crate::ca(VPN_CA_CN, 5, shift);
        let root_params = params(&crate::ca("cipherstage Root CA", 1, shift))?;
        let key = Key::generate(rng)?;
        let p = params(&spec)?;
        let rkp = root.key.rcgen()?;
        let cert = p
            .signed_by(&key.public()?, &Issuer::from_params(&root_params, &rkp))
            .map_err(|e| PkiError::Generate(e.to_string()))?;
        Ok(Authority {
            cert: Cert {
                der: cert.der().to_vec(),
                key,
            },
            params: p,
        })
    }

    /// A client certificate (clientAuth) for `cn` over the CSR's key, serial
    /// `10 serial`, valid from `from` until `until` (Unix seconds).
    pub fn issue_client(
        &self,
        csr: &Csr,
        cn: &str,
        serial: u8,
        from: i64,
        until: i64,
    ) -> Result<Vec<u8>, PkiError> {
        let p = params(&Spec {
            cn,
            sans: &[],
            from,
            until,
            serial,
            ca: false,
            eku: &[ExtendedKeyUsagePurpose::ClientAuth],
        })?;
        let public = PublicKey {
            raw: csr.key.1.clone(),
            alg: match csr.key.0 {
                KeyKind::Ed25519 => &rcgen::PKCS_ED25519,
                KeyKind::EcdsaP256 => &rcgen::PKCS_ECDSA_P256_SHA256,
                KeyKind::Rsa => &rcgen::PKCS_RSA_SHA256,
            },
        };
        let ikp = self.cert.key.rcgen()?;
        let cert = p
            .signed_by(&public, &Issuer::from_params(&self.params, &ikp))
            .map_err(|e| PkiError::Generate(e.to_string()))?;
        Ok(cert.der().to_vec())
    }

    /// A CRL (v2, number `number`) revoking the certificates with serials `10 s`
    /// for each `s` in `revoked` (reason keyCompromise, revoked at `this_update`),
    /// issued at `this_update`, next due at `next_update`.
    pub fn crl(
        &self,
        revoked: &[u8],
        number: u8,
        this_update: i64,
        next_update: i64,
    ) -> Result<Vec<u8>, PkiError> {
        let revoked_certs = revoked
            .iter()
            .map(|s| {
                Ok(RevokedCertParams {
                    serial_number: SerialNumber::from_slice(&[0x10, *s]),
                    revocation_time: time(this_update)?,
                    reason_code: Some(RevocationReason::KeyCompromise),
                    invalidity_date: None,
                })
            })
            .collect::<Result<Vec<_>, PkiError>>()?;
        let p = CertificateRevocationListParams {
            this_update: time(this_update)?,
            next_update: time(next_update)?,
            crl_number: SerialNumber::from_slice(&[number]),
            issuing_distribution_point: None,
            revoked_certs,
            key_identifier_method: KeyIdMethod::Sha256,
        };
        let ikp = self.cert.key.rcgen()?;
        let crl = p
            .signed_by(&Issuer::from_params(&self.params, &ikp))
            .map_err(|e| PkiError::Generate(e.to_string()))?;
        Ok(crl.der().to_vec())
    }
}

/// [`crate::verify_chain`] for a client or server chain, also checking the leaf
/// against `crls` (RFC 5280 §6.3): a leaf whose serial one of its issuer's CRLs
/// lists is [`VerifyError::Revoked`]. A leaf whose issuer has no CRL here is not
/// checked (openvpn's `--crl-verify` names one file for the CA it trusts).
pub fn verify_chain_with_crls(
    chain: &[Vec<u8>],
    roots: &[Vec<u8>],
    now: u64,
    usage: Usage,
    crls: &[Vec<u8>],
) -> Result<(), VerifyError> {
    if crls.is_empty() {
        return crate::verify_chain(chain, roots, now, usage, None);
    }
    let (leaf, rest) = chain.split_first().ok_or(VerifyError::Malformed)?;
    let leaf_der = CertificateDer::from(leaf.as_slice());
    let ee = webpki::EndEntityCert::try_from(&leaf_der).map_err(map_err)?;
    let root_ders: Vec<CertificateDer> = roots
        .iter()
        .map(|r| CertificateDer::from(r.as_slice()))
        .collect();
    let anchors = root_ders
        .iter()
        .map(|r| webpki::anchor_from_trusted_cert(r).map(|a| a.to_owned()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(map_err)?;
    let inters: Vec<CertificateDer> = rest
        .iter()
        .map(|c| CertificateDer::from(c.as_slice()))
        .collect();
    let lists = crls
        .iter()
        .map(|c| {
            webpki::BorrowedCertRevocationList::from_der(c)
                .map(webpki::CertRevocationList::from)
                .map_err(map_err)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let refs: Vec<&webpki::CertRevocationList> = lists.iter().collect();
    let revocation = webpki::RevocationOptionsBuilder::new(&refs)
        .map_err(|_| VerifyError::Malformed)?
        .with_depth(webpki::RevocationCheckDepth::EndEntity)
        .with_status_policy(webpki::UnknownStatusPolicy::Allow)
        .build();
    let eku = match usage {
        Usage::Server => webpki::KeyUsage::server_auth(),
        Usage::Client => webpki::KeyUsage::client_auth(),
    };
    ee.verify_for_usage(
        crate::ALGORITHMS,
        &anchors,
        &inters,
        UnixTime::since_unix_epoch(core::time::Duration::from_secs(now)),
        eku,
        Some(revocation),
        None,
    )
    .map(|_| ())
    .map_err(map_err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::issue::{make_csr, read_csr};
    use crate::{verify_chain, Pki, SCENARIO_NOW};
    use cipherstage_transcript::rand::Seeded;

    #[test]
    fn a_vpn_ca_issues_from_a_csr_and_revokes_in_a_crl() {
        let mut rng = Seeded::new(5);
        let p = Pki::build(&mut rng).unwrap();
        let ca = Authority::vpn_ca(&mut rng, &p.root, SCENARIO_NOW).unwrap();
        let key = Key::generate_ecdsa_p256(&mut rng).unwrap();
        let csr = read_csr(&make_csr(&key, "laptop", &mut rng).unwrap()).unwrap();
        let now = SCENARIO_NOW as i64;
        let leaf = ca
            .issue_client(&csr, "alice", 40, now - 86_400, now + 365 * 86_400)
            .unwrap();
        let chain = vec![leaf, ca.cert.der.clone()];
        let roots = vec![p.root.der.clone()];
        verify_chain(&chain, &roots, SCENARIO_NOW, Usage::Client, None).unwrap();
        let clean = ca.crl(&[], 1, now - 3_600, now + 86_400).unwrap();
        let revoking = ca.crl(&[40], 2, now - 3_600, now + 86_400).unwrap();
        let other = ca.crl(&[41], 3, now - 3_600, now + 86_400).unwrap();
        let v = |crl: &Vec<u8>| {
            verify_chain_with_crls(
                &chain,
                &roots,
                SCENARIO_NOW,
                Usage::Client,
                std::slice::from_ref(crl),
            )
        };
        assert_eq!(v(&clean), Ok(()));
        assert_eq!(v(&other), Ok(()));
        assert_eq!(v(&revoking), Err(VerifyError::Revoked));
        // The same chain under the other intermediate is not its business.
        let inter = Authority::intermediate(&p.intermediate).unwrap();
        let theirs = inter.crl(&[40], 1, now - 3_600, now + 86_400).unwrap();
        assert_eq!(v(&theirs), Ok(()));
        // A CRL that does not parse is refused, not ignored.
        assert!(v(&vec![0x30, 0]).is_err());
    }
}

#[cfg(test)]
mod annotate_tests {
    use super::*;
    use crate::der::annotate_crl;
    use crate::Pki;
    use cipherstage_transcript::rand::Seeded;
    use cipherstage_transcript::{FieldsBuilder, Protection};

    fn leaves(f: &[cipherstage_transcript::Field], out: &mut Vec<(String, usize, usize)>) {
        for x in f {
            if x.children.is_empty() {
                out.push((x.name.clone(), x.start, x.end));
            } else {
                leaves(&x.children, out);
            }
        }
    }

    #[test]
    fn every_byte_of_a_crl_is_a_named_leaf() {
        let mut rng = Seeded::new(5);
        let p = Pki::build(&mut rng).unwrap();
        let ca = Authority::vpn_ca(&mut rng, &p.root, crate::SCENARIO_NOW).unwrap();
        let now = crate::SCENARIO_NOW as i64;
        for revoked in [&[][..], &[40][..], &[40, 41][..]] {
            let der = ca.crl(revoked, 2, now - 3_600, now + 86_400).unwrap();
            let mut b = FieldsBuilder::new(0);
            annotate_crl(&mut b, &der, Protection::Plaintext);
            let mut l = Vec::new();
            leaves(&b.finish(), &mut l);
            let mut at = 0;
            for (name, s, e) in &l {
                assert_eq!(*s, at, "{name}");
                assert!(
                    !name.contains("malformed") && !name.ends_with("trailing"),
                    "{name}"
                );
                at = *e;
            }
            assert_eq!(at, der.len());
            let serials = l
                .iter()
                .filter(|x| x.0 == "pki.field.revoked_serial")
                .count();
            assert_eq!(serials, revoked.len());
            for want in ["pki.field.this_update", "pki.field.next_update"] {
                assert!(l.iter().any(|x| x.0 == want), "{want}");
            }
        }
        // Cut or flipped, it never panics.
        let der = ca.crl(&[40], 2, now - 3_600, now + 86_400).unwrap();
        for n in 0..der.len() {
            let mut b = FieldsBuilder::new(0);
            annotate_crl(&mut b, &der[..n], Protection::Plaintext);
            let mut f = der.clone();
            f[n] ^= 0xff;
            annotate_crl(&mut b, &f, Protection::Plaintext);
        }
    }
}
