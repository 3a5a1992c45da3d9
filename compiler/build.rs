//! Embeds the typed table schemas from `schemas/tables/*.json` and the function declarations
//! from `schemas/functions/*.json` into the binary, so that a user's install needs no files
//! beside it. Each list is sorted by name (byte order), so the catalog can binary-search it.
use std::{env, fs, path::Path};

fn embed(out: &mut String, static_name: &str, dir: &Path) {
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut entries: Vec<(String, std::path::PathBuf)> = fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path())
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| (p.file_stem().unwrap().to_string_lossy().into_owned(), p))
        .collect();
    entries.sort();
    out.push_str(&format!("pub static {static_name}: &[(&str, &str)] = &[\n"));
    for (name, p) in &entries {
        println!("cargo:rerun-if-changed={}", p.display());
        out.push_str(&format!(
            "    ({:?}, include_str!({:?})),\n",
            name,
            p.canonicalize().unwrap().display().to_string()
        ));
    }
    out.push_str("];\n");
}

fn main() {
    let schemas = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas");
    let mut out = String::new();
    embed(&mut out, "EMBEDDED_TABLES", &schemas.join("tables"));
    embed(&mut out, "EMBEDDED_FUNCTIONS", &schemas.join("functions"));
    let dest = Path::new(&env::var("OUT_DIR").unwrap()).join("embedded_tables.rs");
    fs::write(dest, out).unwrap();
}
