//! Shared by the checker tests (`#[path]`-included): the rule files `detc` would collect.

use std::path::{Path, PathBuf};

/// Rule files under `dir`, sorted: YAML rules (not `.tests.yaml`) and `.kql` files, skipping
/// `fixtures/` folders, as `detc` collects them.
pub fn rule_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for e in entries {
        let name = e.file_name().unwrap().to_string_lossy().to_string();
        if e.is_dir() {
            if name != "fixtures" {
                rule_files(&e, out);
            }
        } else if ((name.ends_with(".yaml") || name.ends_with(".yml"))
            && !name.ends_with(".tests.yaml"))
            || detc::pipeline::is_kql(&e)
        {
            out.push(e);
        }
    }
}
