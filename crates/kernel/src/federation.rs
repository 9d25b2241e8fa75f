//! Federation directives async-graphql does not emit by itself, and the SDL fix-up that
//! makes composition recognise them.
//!
//! async-graphql imports `@requiresScopes` from the federation spec (fields take
//! `#[graphql(requires_scopes = "admin")]`) but not `@authenticated`. We declare it as a type
//! directive so fields can carry it, then [`subgraph_sdl`] imports it from the federation
//! link instead of defining it locally; composition then treats it as the federation
//! directive and the router enforces it.

use async_graphql::TypeDirective;

/// Marks a field or type that only a caller with a valid access token may select. The router
/// enforces it before planning; the resolver still checks who the caller is.
#[TypeDirective(location = "FieldDefinition", location = "Object")]
pub fn authenticated() {}

const LOCAL_DEFINITION: &str = "directive @authenticated on FIELD_DEFINITION | OBJECT";
const IMPORT_ANCHOR: &str = "\"@requiresScopes\"]";

/// A subgraph's federation SDL with `@authenticated` imported from the federation spec
/// (its local definition, and the description above it, removed).
pub fn subgraph_sdl(sdl: &str) -> String {
    let uses_authenticated = sdl.contains(LOCAL_DEFINITION);
    let mut lines: Vec<String> = Vec::new();
    for line in sdl.lines() {
        if line.trim() == LOCAL_DEFINITION {
            if lines.last().is_some_and(|l| l.trim() == "\"\"\"") {
                lines.pop();
                while let Some(previous) = lines.pop() {
                    if previous.trim() == "\"\"\"" {
                        break;
                    }
                }
            }
            continue;
        }
        if uses_authenticated && line.trim_start().starts_with("import:") && line.ends_with(IMPORT_ANCHOR) {
            lines.push(format!("{}, \"@authenticated\"]", line.trim_end_matches(']')));
        } else {
            lines.push(line.to_owned());
        }
    }
    let mut out = lines.join("\n");
    if sdl.ends_with('\n') {
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authenticated_is_imported_not_defined() {
        let raw = "type A { b: Int }\n\"\"\"\nOnly for\nsigned-in callers.\n\"\"\"\ndirective @authenticated on FIELD_DEFINITION | OBJECT\nextend schema @link(\n\turl: \"https://specs.apollo.dev/federation/v2.5\",\n\timport: [\"@key\", \"@requiresScopes\"]\n)\ntype Query { me: Int @authenticated }\n";
        let sdl = subgraph_sdl(raw);
        assert!(!sdl.contains("directive @authenticated"));
        assert!(!sdl.contains("signed-in callers"), "its description goes with it");
        assert!(sdl.starts_with("type A { b: Int }\nextend schema"));
        assert!(sdl.contains("import: [\"@key\", \"@requiresScopes\", \"@authenticated\"]"));
        assert!(sdl.contains("me: Int @authenticated"));
    }

    #[test]
    fn schemas_without_it_are_unchanged() {
        let raw = "extend schema @link(\n\timport: [\"@key\", \"@requiresScopes\"]\n)\n";
        assert_eq!(subgraph_sdl(raw), raw);
    }
}
