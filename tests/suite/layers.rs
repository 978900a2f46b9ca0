//! The module layers, kept: every `crate::` path in src/ (in `use` lines and inline) must be an
//! edge of [`ALLOWED`], and every allowed edge goes down the layers, so the graph has no cycle.
//! ARCHITECTURE.md shows the same table; change both together.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Each top-level module, its layer (0 is the bottom), and the modules it may import.
const ALLOWED: &[(&str, u8, &[&str])] = &[
    // Vocabulary: pure, importing at most each other.
    ("exit", 0, &[]),
    ("suggest", 0, &[]),
    ("seeds", 0, &[]),
    ("wire", 0, &[]),
    ("net", 0, &[]),
    ("tls", 0, &[]),
    ("units", 1, &["suggest"]),
    ("ws", 1, &["wire"]),
    // The language.
    ("scenario", 2, &["seeds", "suggest", "tls", "units", "wire", "ws"]),
    // The outcome model and its statistics.
    ("outcome", 3, &["scenario", "units"]),
    // Components.
    ("fault", 4, &["scenario", "seeds", "tls", "units", "ws"]),
    ("server", 4, &["net", "scenario", "seeds", "tls", "units", "wire"]),
    ("client", 4, &["net", "scenario", "seeds", "tls", "units", "wire"]),
    ("proxy", 5, &["fault", "net", "scenario", "seeds", "tls", "units", "wire", "ws"]),
    ("program", 5, &["client", "net", "scenario", "suggest", "units"]),
    // Measurement and rendering.
    ("recorder", 6, &["client", "fault", "outcome", "proxy", "scenario", "units", "ws"]),
    ("report", 6, &["outcome", "scenario", "units"]),
    // Wiring.
    ("stack", 7, &["net", "proxy", "scenario", "seeds", "server", "tls", "wire"]),
    (
        "runner",
        8,
        &[
            "client", "net", "outcome", "program", "proxy", "recorder", "report", "scenario", "seeds",
            "stack", "tls", "units", "wire",
        ],
    ),
    (
        "standalone",
        9,
        &[
            "client", "fault", "net", "outcome", "program", "proxy", "recorder", "runner", "scenario",
            "seeds", "server", "stack", "tls", "units", "ws",
        ],
    ),
    (
        "cli",
        10,
        &[
            "client",
            "exit",
            "net",
            "outcome",
            "proxy",
            "report",
            "runner",
            "scenario",
            "server",
            "stack",
            "standalone",
            "suggest",
            "units",
            "wire",
        ],
    ),
];

/// Items lib.rs re-exports at the crate root, and the module each comes from.
const ROOT_ITEMS: &[(&str, &str)] = &[
    ("Exit", "exit"),
    ("Engine", "scenario"),
    ("Scenario", "scenario"),
    ("ScenarioError", "scenario"),
    ("RunReport", "outcome"),
    ("Verdict", "outcome"),
    ("RunError", "runner"),
    ("run", "runner"),
];

/// The top-level module a file of src/ belongs to (`None` for lib.rs and main.rs).
fn module_of(relative: &Path) -> Option<String> {
    let first = relative.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(name, "lib" | "main")).then(|| name.to_string())
}

/// The code of `text` without its comments (line comments are enough: the crate has no block
/// comments), so a doc link or a remark does not count as an import.
fn code_of(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) if !line[..at].contains('"') => &line[..at],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every module that `code` names through `crate::`, including each member of a
/// `crate::{a, b::c}` group.
fn imports(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        if at > 0 && code[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_') {
            continue; // `wschaos_crate::` and the like
        }
        let rest = &code[at + "crate::".len()..];
        let names: Vec<&str> = match rest.strip_prefix('{') {
            Some(group) => {
                let end = group.find('}').unwrap_or(group.len());
                group[..end].split(',').map(str::trim).collect()
            }
            None => vec![rest],
        };
        for name in names {
            let ident: String = name.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if ident.is_empty() || ident == "self" {
                continue;
            }
            let module =
                ROOT_ITEMS.iter().find(|(item, _)| *item == ident).map_or(ident, |(_, m)| m.to_string());
            found.insert(module);
        }
    }
    found
}

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn the_allowed_edges_go_down_the_layers() {
    let layer: BTreeMap<&str, u8> = ALLOWED.iter().map(|(module, layer, _)| (*module, *layer)).collect();
    for (module, own, imports) in ALLOWED {
        for import in *imports {
            let theirs = layer.get(import).unwrap_or_else(|| panic!("{module} imports unknown {import}"));
            assert!(theirs < own, "{module} (layer {own}) may not import {import} (layer {theirs})");
        }
    }
}

#[test]
fn every_import_in_src_is_an_allowed_edge() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    files.sort();
    let allowed: BTreeMap<&str, BTreeSet<&str>> =
        ALLOWED.iter().map(|(module, _, imports)| (*module, imports.iter().copied().collect())).collect();
    let mut modules_seen = BTreeSet::new();
    let mut wrong = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap();
        let Some(module) = module_of(relative) else { continue };
        let Some(may) = allowed.get(module.as_str()) else {
            wrong.push(format!("{}: module `{module}` is not in the layer table", relative.display()));
            continue;
        };
        modules_seen.insert(module.clone());
        for import in imports(&code_of(&std::fs::read_to_string(file).unwrap())) {
            if import != module && !may.contains(import.as_str()) {
                wrong.push(format!("{}: `{module}` imports `{import}`", relative.display()));
            }
        }
    }
    assert!(wrong.is_empty(), "edges outside the layer table:\n{}", wrong.join("\n"));
    let listed: BTreeSet<String> = allowed.keys().map(|m| m.to_string()).collect();
    assert_eq!(modules_seen, listed, "the table lists exactly the modules src/ has");
}

#[test]
fn the_reader_finds_grouped_and_inline_imports_and_skips_comments() {
    let code = code_of(
        "use crate::{proxy, report::text};\nlet x = crate::runner::run(); // crate::cli\nuse crate::Exit;\n",
    );
    let found: Vec<String> = imports(&code).into_iter().collect();
    assert_eq!(found, ["exit", "proxy", "report", "runner"]);
}
