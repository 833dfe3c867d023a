//! The history as JSON Lines: one object per event, `{"at_us", "node", "kind", ...fields}`.

use super::Event;

/// One event as a JSON line (no trailing newline).
pub fn to_json_line(e: &Event) -> String {
    let value = serde_json::json!({
        "at_us": e.at_us,
        "node": e.node.to_string(),
        "event": e.kind,
    });
    value.to_string()
}
