//! The Agents SDKs' naming rules that replay and graders must agree on.

/// The tool name the Python Agents SDK gives a handoff to an agent by default: `transfer_to_` and the agent's
/// name in snake case.
pub fn handoff_tool_name(agent: &str) -> String {
    let snake: String =
        agent.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect();
    format!("transfer_to_{snake}")
}

/// The JS Agents SDK's default for the same: `transfer_to_` and the name with every character
/// but ASCII letters and digits made `_`, case kept (`transfer_to_Weather_expert`).
pub fn js_handoff_tool_name(agent: &str) -> String {
    let name: String = agent.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    format!("transfer_to_{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_handoff_names_follow_each_sdk() {
        assert_eq!(handoff_tool_name("Weather expert"), "transfer_to_weather_expert");
        assert_eq!(handoff_tool_name("Billing-Agent"), "transfer_to_billing_agent");
        // As the JS SDK 0.20 names them (checked against its output in tests/fixtures/agents-sdk-js/).
        assert_eq!(js_handoff_tool_name("Weather expert"), "transfer_to_Weather_expert");
        assert_eq!(js_handoff_tool_name("Météo"), "transfer_to_M_t_o");
    }
}
