//! Embeds every file of `<app>/<version>/` into the crate, so the binary carries its catalog
//! and a change to any file rebuilds it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::{env, fs};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?);
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    for app in sorted_dirs(&root)? {
        let app_name = name(&app);
        if matches!(app_name.as_str(), "src" | "tests" | "target") {
            continue;
        }
        for version in sorted_dirs(&app)? {
            println!("cargo:rerun-if-changed={}", version.display());
            let mut version_files = Vec::new();
            collect(&version, &version, &mut version_files)?;
            for (relative, path) in version_files {
                files.push((format!("{app_name}\u{0}{}\u{0}{relative}", name(&version)), path));
            }
        }
    }
    let mut out = String::from("pub(crate) static FILES: &[(&str, &str, &str, &str)] = &[\n");
    for (key, path) in &files {
        let mut parts = key.split('\u{0}');
        let (app, version, relative) =
            (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        writeln!(out, "    ({app:?}, {version:?}, {relative:?}, include_str!({:?})),", path.display().to_string())?;
    }
    out.push_str("];\n");
    fs::write(PathBuf::from(env::var("OUT_DIR")?).join("files.rs"), out)?;
    Ok(())
}

fn name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

fn sorted_dirs(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut dirs: Vec<PathBuf> =
        fs::read_dir(dir)?.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_dir()).collect();
    dirs.sort();
    Ok(dirs)
}

fn collect(base: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)?.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        println!("cargo:rerun-if-changed={}", path.display());
        if path.is_dir() {
            collect(base, &path, files)?;
        } else if let Ok(relative) = path.strip_prefix(base) {
            files.push((relative.to_string_lossy().into_owned(), path.clone()));
        }
    }
    Ok(())
}
