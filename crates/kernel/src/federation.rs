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

/// A subgraph's federation SDL with `@authenticated` imported from the federation spec.
pub fn subgraph_sdl(sdl: &str) -> String {
    let uses_authenticated = sdl.contains(LOCAL_DEFINITION);
    let mut out = String::with_capacity(sdl.len() + 32);
    for line in sdl.lines() {
        if line.trim() == LOCAL_DEFINITION {
            continue;
        }
        if uses_authenticated && line.trim_start().starts_with("import:") && line.ends_with(IMPORT_ANCHOR) {
            out.push_str(line.trim_end_matches(']'));
            out.push_str(", \"@authenticated\"]");
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authenticated_is_imported_not_defined() {
        let raw = "directive @authenticated on FIELD_DEFINITION | OBJECT\nextend schema @link(\n\turl: \"https://specs.apollo.dev/federation/v2.5\",\n\timport: [\"@key\", \"@requiresScopes\"]\n)\ntype Query { me: Int @authenticated }\n";
        let sdl = subgraph_sdl(raw);
        assert!(!sdl.contains("directive @authenticated"));
        assert!(sdl.contains("import: [\"@key\", \"@requiresScopes\", \"@authenticated\"]"));
        assert!(sdl.contains("me: Int @authenticated"));
    }

    #[test]
    fn schemas_without_it_are_unchanged() {
        let raw = "extend schema @link(\n\timport: [\"@key\", \"@requiresScopes\"]\n)\n";
        assert_eq!(subgraph_sdl(raw), raw);
    }
}
