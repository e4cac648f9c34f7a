//! Hybrid-encryption scenarios.

use cipherstage_hybrid::Params;
use cipherstage_transcript::Transcript;

#[allow(unused_imports)]
use crate::catalog::hybrid::*;
use crate::{RunError, ScenarioInfo, Values};

pub(crate) fn run(
    info: &ScenarioInfo,
    v: &Values,
    seed: Option<u64>,
) -> Result<Transcript, RunError> {
    let tamper = crate::tamper_param(info, v)?;
    let p = Params {
        text: v.text("text")?,
        reply: v.text("reply")?,
        tamper,
    };
    Ok(cipherstage_hybrid::run(info.id, &p, seed))
}
