//! AMQP topic matching, so the in-memory bus routes exactly like a RabbitMQ topic exchange.

/// Whether routing key `key` matches binding `pattern` (`*` is one word, `#` zero or more).
pub fn matches(pattern: &str, key: &str) -> bool {
    let pattern: Vec<&str> = pattern.split('.').collect();
    let key: Vec<&str> = key.split('.').collect();
    matches_words(&pattern, &key)
}

fn matches_words(pattern: &[&str], key: &[&str]) -> bool {
    match pattern.split_first() {
        None => key.is_empty(),
        Some((&"#", rest)) => (0..=key.len()).any(|skip| key.get(skip..).is_some_and(|tail| matches_words(rest, tail))),
        Some((word, rest)) => match key.split_first() {
            Some((first, tail)) => (*word == "*" || word == first) && matches_words(rest, tail),
            None => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn stars_match_one_word_and_hashes_any_number() {
        assert!(matches("inventory.reserve.*", "inventory.reserve.v1"));
        assert!(!matches("inventory.reserve.*", "inventory.reserve.v1.x"));
        assert!(!matches("inventory.*", "inventory.reserve.v1"));
        assert!(matches("inventory.#", "inventory.reserve.v1"));
        assert!(matches("inventory.#", "inventory"));
        assert!(matches("#", "a.b.c"));
        assert!(matches("#.v1", "order.updated.v1"));
        assert!(matches("*.updated.#", "order.updated.v1"));
        assert!(!matches("order.updated.v1", "order.updated.v2"));
    }
}
