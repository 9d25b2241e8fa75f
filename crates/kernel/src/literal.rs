//! User text inside pattern languages, matched literally: search boxes become anchored regexes
//! (MongoDB) or `LIKE` patterns (SQL), and a `.` or `%` typed by a user must not be a wildcard.

/// `text` with every regex metacharacter escaped.
pub fn regex_literal(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\^$.|?*+()[]{}-/".contains(c) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// `text` with the `LIKE` wildcards `%` and `_` and the escape character `\` escaped; use the
/// pattern with `ESCAPE '\'`.
pub fn like_literal(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_metacharacters_are_escaped() {
        assert_eq!(regex_literal("a.%*c"), "a\\.%\\*c");
        assert_eq!(regex_literal("a.b*c"), "a\\.b\\*c");
        assert_eq!(regex_literal("plain"), "plain");
    }

    #[test]
    fn like_metacharacters_are_escaped() {
        assert_eq!(like_literal("a.%_\\b"), "a.\\%\\_\\\\b");
        assert_eq!(like_literal(""), "");
    }
}
