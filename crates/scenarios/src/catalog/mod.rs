//! What every scenario is, without what runs it: ids, layers and parameters of
//! every family, always compiled. The app lists and describes scenarios from
//! here and links no protocol core; the runners (one module per family, each
//! behind its feature) live beside this module and run in the worker.

pub(crate) mod hybrid;
pub(crate) mod ike;
pub(crate) mod ipsec;
pub(crate) mod smime;
pub(crate) mod ssh;
pub(crate) mod tls;
pub(crate) mod vpn;
