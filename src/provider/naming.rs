//! The Agents SDKs' naming rules that replay and graders must agree on.

/// The tool name the Agents SDK gives a handoff to an agent: `transfer_to_` and the agent's
/// name in snake case.
pub fn handoff_tool_name(agent: &str) -> String {
    let snake: String =
        agent.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect();
    format!("transfer_to_{snake}")
}
