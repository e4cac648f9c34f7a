//! Randomness passed into the cores.
//!
//! Cores never call a global random source. They take a [`RandomSource`]:
//! - [`Seeded`]: a deterministic generator, so the same seed gives byte-identical
//!   transcripts (a teacher gets the same trace every class);
//! - [`Live`]: the operating system's source, which on wasm32 is the browser's
//!   `crypto.getRandomValues` (getrandom's `js` feature).
//!
//! ## Driving ring deterministically
//! ring takes randomness as `&dyn ring::rand::SecureRandom`, a sealed trait we
//! cannot implement. ring does export deterministic implementations for
//! known-answer tests, `ring::test::rand::FixedSliceRandom` (marked deprecated
//! and hidden, but public and stable across 0.17). The cores draw exactly the
//! bytes ring will ask for from their `RandomSource` and hand them to ring via
//! [`fixed`]. `FixedSliceRandom` panics if the lengths differ, so [`fixed`] is
//! only ever used with the exact length ring fills (32 bytes for an X25519 or
//! P-256 private key), which the tests pin with RFC 7748 known answers.

use ring::hmac;

/// A source of random bytes handed to a core.
pub trait RandomSource {
    /// Fills `dest` with random bytes.
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), RandomError>;

    /// `N` random bytes.
    fn array<const N: usize>(&mut self) -> Result<[u8; N], RandomError>
    where
        Self: Sized,
    {
        let mut out = [0u8; N];
        self.fill(&mut out)?;
        Ok(out)
    }
}

/// The random source could not deliver (the browser refused `getRandomValues`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RandomError;

/// Deterministic bytes from a seed: HMAC-SHA-256 in counter mode.
///
/// `K = HMAC(key = "cipherstage seeded random v1", seed as 8 bytes big-endian)`,
/// block `i = HMAC(K, i as 8 bytes big-endian)`. Not for real secrets: its
/// purpose is repeatable classroom traces.
#[derive(Debug, Clone)]
pub struct Seeded {
    key: hmac::Key,
    counter: u64,
    block: [u8; 32],
    used: usize,
}

impl Seeded {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Self {
        let root = hmac::Key::new(hmac::HMAC_SHA256, b"cipherstage seeded random v1");
        let tag = hmac::sign(&root, &seed.to_be_bytes());
        Seeded {
            key: hmac::Key::new(hmac::HMAC_SHA256, tag.as_ref()),
            counter: 0,
            block: [0; 32],
            used: 32,
        }
    }
}

impl RandomSource for Seeded {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), RandomError> {
        for byte in dest.iter_mut() {
            if self.used == self.block.len() {
                let tag = hmac::sign(&self.key, &self.counter.to_be_bytes());
                self.block.copy_from_slice(tag.as_ref());
                self.counter += 1;
                self.used = 0;
            }
            *byte = *self.block.get(self.used).ok_or(RandomError)?;
            self.used += 1;
        }
        Ok(())
    }
}

/// The platform's random source (the browser's crypto in WASM).
#[derive(Debug, Clone, Copy, Default)]
pub struct Live;

impl RandomSource for Live {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), RandomError> {
        getrandom::getrandom(dest).map_err(|_| RandomError)
    }
}

/// Hands exactly these bytes to a ring function that asks for randomness once.
///
/// The caller guarantees `bytes.len()` equals what ring will fill (see module docs).
#[allow(deprecated)]
pub fn fixed(bytes: &[u8]) -> ring::test::rand::FixedSliceRandom<'_> {
    ring::test::rand::FixedSliceRandom { bytes }
}

/// Either kind of source, chosen at run time (the app's "seeded / live" switch).
#[derive(Debug, Clone)]
pub enum Source {
    /// Deterministic.
    Seeded(Box<Seeded>),
    /// Browser or OS randomness.
    Live(Live),
}

impl Source {
    /// A seeded source for `Some(seed)`, a live one for `None`.
    pub fn from_seed(seed: Option<u64>) -> Self {
        match seed {
            Some(s) => Source::Seeded(Box::new(Seeded::new(s))),
            None => Source::Live(Live),
        }
    }
}

impl RandomSource for Source {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), RandomError> {
        match self {
            Source::Seeded(s) => s.fill(dest),
            Source::Live(l) => l.fill(dest),
        }
    }
}
