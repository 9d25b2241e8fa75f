//! W3C trace context (`traceparent`) helpers, so a saga's messages share one trace.
//!
//! Format: `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`.

use uuid::Uuid;

/// A child of `parent`: the same trace id and flags with a new span id. Starts a new (sampled)
/// trace when `parent` is missing or invalid, so every message carries a usable context.
pub fn child(parent: Option<&str>) -> String {
    let span = span_id();
    match parent.filter(|p| is_valid(p)) {
        Some(parent) => {
            let trace_id = parent.get(3..35).unwrap_or_default();
            let flags = parent.get(53..55).unwrap_or("01");
            format!("00-{trace_id}-{span}-{flags}")
        }
        None => format!("00-{}-{span}-01", Uuid::new_v4().simple()),
    }
}

/// Whether `value` is a well-formed version-00 `traceparent` with non-zero ids.
pub fn is_valid(value: &str) -> bool {
    let parts: Vec<&str> = value.split('-').collect();
    let [version, trace_id, parent_id, flags] = parts.as_slice() else {
        return false;
    };
    let hex =
        |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    let non_zero = |s: &str| s.bytes().any(|b| b != b'0');
    *version == "00"
        && hex(trace_id, 32)
        && non_zero(trace_id)
        && hex(parent_id, 16)
        && non_zero(parent_id)
        && hex(flags, 2)
}

fn span_id() -> String {
    // 8 random bytes from a v4 UUID; a zero id is invalid, so reroll in that (astronomically rare) case.
    loop {
        let bytes = Uuid::new_v4().into_bytes();
        let id: String = bytes.iter().take(8).map(|b| format!("{b:02x}")).collect();
        if id.bytes().any(|b| b != b'0') {
            return id;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{child, is_valid};

    #[test]
    fn child_keeps_the_trace_id_and_changes_the_span() {
        let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let c = child(Some(parent));
        assert!(is_valid(&c), "{c}");
        assert_eq!(c.get(3..35), parent.get(3..35));
        assert_ne!(c.get(36..52), parent.get(36..52));
    }

    #[test]
    fn missing_or_invalid_parents_start_a_new_trace() {
        assert!(is_valid(&child(None)));
        assert!(is_valid(&child(Some("garbage"))));
        assert!(!is_valid("00-00000000000000000000000000000000-00f067aa0ba902b7-01"));
        assert!(!is_valid("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"));
        assert!(!is_valid("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"));
    }
}
