//! Tool policies: what a suite says replay does with the calls of each tool.

use std::collections::BTreeMap;

/// What the suite says to do with calls of one tool.
#[derive(Debug, Clone, PartialEq)]
pub enum Policy {
    /// Answer from the case's recordings; an unmatched call ends the case as an error, or
    /// (`continue_unmatched`) is answered with an error text and the loop goes on.
    Recorded { continue_unmatched: bool },
    /// Answer with this minijinja template rendered over the call's arguments.
    Mock(String),
    /// Answer the model with this error text (as a failing tool would) and go on.
    MockError(String),
    /// The tool must not be called in replay: a call ends the case as an error.
    Error,
}

impl Default for Policy {
    fn default() -> Self {
        Policy::Recorded { continue_unmatched: false }
    }
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
