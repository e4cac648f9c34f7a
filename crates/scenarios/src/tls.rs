//! tls scenarios (none yet: the core is being built).

use cipherstage_transcript::Transcript;

use crate::{RunError, ScenarioInfo, Values};

pub(crate) const SCENARIOS: &[ScenarioInfo] = &[];

pub(crate) fn run(
    info: &ScenarioInfo,
    _v: &Values,
    _seed: Option<u64>,
) -> Result<Transcript, RunError> {
    Err(RunError::UnknownScenario(info.id.to_owned()))
}
