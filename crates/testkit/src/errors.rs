//! The test that every variant of a context's error enum is produced somewhere (Lemmy's
//! error-type test is the model): a variant nothing produces is a code path that was removed
//! or never written, and the code it promises clients is a promise nobody keeps.
//!
//! Sources are read as text. A variant built by hand counts when `Enum::Variant` or
//! `Self::Variant` appears in the crate's sources; a variant made by `?` (`#[from]`) counts when
//! some function in the workspace returns its source error type (`Result<_, SourceError>`),
//! since that is what `?` converts.

use std::path::{Path, PathBuf};

use shop_kernel::error::CodedError;

/// Every `.rs` file under `dir`.
fn sources(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if path.is_dir() && name != "target" && name != "node_modules" && !name.to_string_lossy().starts_with('.') {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs")
                && let Ok(text) = std::fs::read_to_string(&path)
            {
                found.push((path, text));
            }
        }
    }
    found
}

/// Whether `text` has `needle` not followed by more of an identifier.
fn mentions(text: &str, needle: &str) -> bool {
    text.match_indices(needle)
        .any(|(at, _)| text[at + needle.len()..].chars().next().is_none_or(|c| !(c.is_alphanumeric() || c == '_')))
}

/// The folder of the checkout being tested: the nearest one above `crate_dir` whose
/// `Cargo.toml` declares the workspace.
fn workspace_root(crate_dir: &Path) -> PathBuf {
    crate_dir
        .ancestors()
        .find(|dir| std::fs::read_to_string(dir.join("Cargo.toml")).is_ok_and(|text| text.contains("[workspace]")))
        .unwrap_or(crate_dir)
        .to_path_buf()
}

/// Panics, naming them, if some variants of `E` are never produced. `crate_dir` is the crate's
/// `CARGO_MANIFEST_DIR` as compiled in; the one cargo sets when it runs the test wins, because
/// with a target folder shared between checkouts a compiled-in path can name another checkout
/// (or one deleted since).
pub fn assert_every_variant_produced<E: CodedError>(crate_dir: &str) {
    let crate_dir = std::env::var("CARGO_MANIFEST_DIR").map_or_else(|_| PathBuf::from(crate_dir), PathBuf::from);
    let own = sources(&crate_dir.join("src"));
    let workspace = sources(&workspace_root(&crate_dir));
    assert!(!workspace.is_empty(), "no sources found above {}", crate_dir.display());
    let unproduced: Vec<&str> = E::VARIANTS
        .iter()
        .filter(|variant| {
            if variant.field_attributes.split_whitespace().any(|a| a == "from") {
                let source = variant.fields.rsplit("::").next().unwrap_or(variant.fields).trim();
                let returned = format!("{source}>");
                !workspace.iter().any(|(_, text)| text.contains(&returned))
            } else {
                let by_name = format!("{}::{}", E::NAME, variant.name);
                let by_self = format!("Self::{}", variant.name);
                !own.iter().any(|(_, text)| mentions(text, &by_name) || mentions(text, &by_self))
            }
        })
        .map(|variant| variant.name)
        .collect();
    assert!(
        unproduced.is_empty(),
        "{} has variants nothing produces (remove them, or produce them where they belong): {unproduced:?}",
        E::NAME
    );
}
