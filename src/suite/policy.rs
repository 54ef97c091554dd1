//! Tool policies: what a suite says replay does with the calls of each tool.

use std::collections::BTreeMap;

/// What the suite says to do with calls of one tool.
#[derive(Debug, Clone, PartialEq)]
pub enum Policy {
    /// Answer from the case's recordings; what to do with a call no recording matches.
    Recorded { unmatched: Unmatched },
    /// Answer with this minijinja template rendered over the call's arguments.
    Mock(String),
    /// Answer the model with this error text (as a failing tool would) and go on.
    MockError(String),
    /// The tool must not be called in replay: a call ends the case as an error.
    Error,
}

impl Default for Policy {
    fn default() -> Self {
        Policy::Recorded { unmatched: Unmatched::Error }
    }
}

/// `unmatched:` of a recorded tool: a call whose arguments match no recording.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Unmatched {
    /// End the case as an error (the default): the agent asked something new.
    #[default]
    Error,
    /// Answer the model with an error text and go on.
    Continue,
    /// Answer with the tool's recording in call order (the n-th call gets the n-th recording).
    ByOrder,
}

/// Per-tool policies, with a default for the tools not named.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Policies {
    pub default: Policy,
    pub tools: BTreeMap<String, Policy>,
}

impl Policies {
    pub fn of(&self, tool: &str) -> &Policy {
        self.tools.get(tool).unwrap_or(&self.default)
    }
}
