//! The test PKI in the browser: built from a seed with rcgen and checked with
//! rustls-webpki at the scenarios' fixed time, as natively.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use cipherstage_pki::{verify_chain, Pki, Usage, VerifyError, SCENARIO_NOW};
use cipherstage_testkit::tests;
use cipherstage_transcript::rand::Seeded;

cipherstage_testkit::in_browser!();

tests! {
    fn the_seeded_pki_verifies_and_its_broken_certificates_fail() {
        let a = Pki::build(&mut Seeded::new(7)).unwrap();
        let b = Pki::build(&mut Seeded::new(7)).unwrap();
        assert_eq!(a.root.der, b.root.der, "the same seed gives the same root");
        let roots = vec![a.root.der.clone()];
        let chain = |leaf: &[u8]| vec![leaf.to_vec(), a.intermediate.der.clone()];
        verify_chain(&chain(&a.www.der), &roots, SCENARIO_NOW, Usage::Server, Some("www.example.com")).unwrap();
        verify_chain(&chain(&a.alice.der), &roots, SCENARIO_NOW, Usage::Client, None).unwrap();
        assert!(verify_chain(&chain(&a.www_expired.der), &roots, SCENARIO_NOW, Usage::Server, None).is_err());
        assert_eq!(
            verify_chain(&chain(&a.www.der), &roots, SCENARIO_NOW, Usage::Server, Some("shop.example.com")),
            Err(VerifyError::WrongName)
        );
        assert!(verify_chain(std::slice::from_ref(&a.alice_untrusted.der), &roots, SCENARIO_NOW, Usage::Client, None).is_err());
    }
}
