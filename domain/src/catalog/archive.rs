//! A tenant's own app version arrives as an archive of the catalog's layout: a tar file,
//! gzip-compressed or not (`tar czf podinfo-6.7.2.tgz -C catalog/podinfo 6.7.2`), holding
//! `app.yaml`, `templates/*.yaml` and an optional `README.md`, at the top or in one
//! directory (`6.7.2/app.yaml`, `podinfo/6.7.2/app.yaml`).
//!
//! Reading is bounded before anything is parsed: the archive's size, what it inflates to,
//! how many entries it holds. Only plain files and directories are taken (a link or a
//! device is refused, as is a path that climbs out with `..`), every file must be UTF-8
//! text, and the files then pass [`parse_definition`]'s checks like the built-in catalog's.

use std::io::Read;

use super::definition::{APP_FILE, AppDefinition, MAX_DEFINITION_BYTES, MAX_TEMPLATE_FILES, parse_definition};
pub use crate::limits::MAX_APP_ARCHIVE_BYTES as MAX_ARCHIVE_BYTES;
use crate::limits::size_text;
use crate::{Error, Result};
/// The most a tar stream may inflate to: the definition's files plus their tar headers.
const MAX_TAR_BYTES: u64 = (MAX_DEFINITION_BYTES + 1024 * 1024) as u64;
/// The most entries (files and directories) one archive may hold.
const MAX_ENTRIES: usize = MAX_TEMPLATE_FILES + 16;

fn invalid(reason: impl Into<String>) -> Error {
    Error::invalid("archive", reason)
}

/// Reads an app version from an uploaded archive (`.tar.gz`, `.tgz` or `.tar`).
pub fn read_archive(bytes: &[u8]) -> Result<AppDefinition> {
    let files = archive_files(bytes)?;
    let root = version_root(&files)?;
    let mut inside = Vec::with_capacity(files.len());
    for (path, text) in &files {
        let Some(relative) = path.strip_prefix(root.as_str()) else {
            return Err(invalid(format!(
                "`{path}` is outside the version's directory `{}`: the archive holds one app version",
                root.trim_end_matches('/')
            )));
        };
        inside.push((relative, text.as_str()));
    }
    parse_definition(inside).map_err(|e| invalid(e.reason()))
}

/// The archive's files as `(path, text)`, directories left out, in the archive's order.
fn archive_files(bytes: &[u8]) -> Result<Vec<(String, String)>> {
    if bytes.is_empty() {
        return Err(invalid("the file is empty"));
    }
    if bytes.len() > MAX_ARCHIVE_BYTES {
        return Err(invalid(format!("an app archive holds at most {}", size_text(MAX_ARCHIVE_BYTES))));
    }
    let gzipped = bytes.starts_with(&[0x1f, 0x8b]);
    let tar_stream: Box<dyn Read + '_> =
        if gzipped { Box::new(flate2::read::GzDecoder::new(bytes)) } else { Box::new(bytes) };
    // One byte past the bound tells an archive that is too large from one that fits exactly.
    let mut archive = tar::Archive::new(tar_stream.take(MAX_TAR_BYTES + 1));
    let not_tar = |e: std::io::Error| {
        if gzipped {
            invalid(format!("not a gzip-compressed tar archive ({e})"))
        } else {
            invalid("not a tar archive: upload a .tar.gz (tar czf app.tgz <version directory>)")
        }
    };
    let mut files = Vec::new();
    let mut total = 0u64;
    for (count, entry) in archive.entries().map_err(not_tar)?.enumerate() {
        if count >= MAX_ENTRIES {
            return Err(invalid(format!("an app archive holds at most {MAX_ENTRIES} files and directories")));
        }
        let mut entry = entry.map_err(not_tar)?;
        let raw_path = entry.path().map_err(not_tar)?.to_string_lossy().into_owned();
        let path = clean_path(&raw_path)?;
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            continue;
        }
        if !kind.is_file() {
            return Err(invalid(format!("`{raw_path}` is not a plain file (links and devices are not taken)")));
        }
        let size = entry.header().size().map_err(not_tar)?;
        total = total.saturating_add(size);
        if total > MAX_DEFINITION_BYTES as u64 {
            return Err(invalid(format!(
                "an app version's files hold at most {} uncompressed",
                size_text(MAX_DEFINITION_BYTES)
            )));
        }
        let mut content = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        entry.read_to_end(&mut content).map_err(not_tar)?;
        let text = String::from_utf8(content).map_err(|_| invalid(format!("`{path}` is not UTF-8 text")))?;
        if path.is_empty() {
            return Err(invalid(format!("`{raw_path}` has no file name")));
        }
        files.push((path, text));
    }
    if files.is_empty() {
        return Err(invalid("the archive holds no files"));
    }
    Ok(files)
}

/// `path` without a leading `./`; a path that is absolute or climbs with `..` is refused.
fn clean_path(path: &str) -> Result<String> {
    let mut parts = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(invalid(format!("`{path}` climbs out of the archive with `..`"))),
            _ => parts.push(part),
        }
    }
    if path.starts_with('/') {
        return Err(invalid(format!("`{path}` is an absolute path")));
    }
    Ok(parts.join("/"))
}

/// The directory holding the version (`""`, `6.7.2/` or `podinfo/6.7.2/`): where the
/// shallowest `app.yaml` is.
fn version_root(files: &[(String, String)]) -> Result<String> {
    let app_file = files
        .iter()
        .map(|(path, _)| path.as_str())
        .filter(|path| *path == APP_FILE || path.ends_with(&format!("/{APP_FILE}")))
        .min_by_key(|path| path.matches('/').count())
        .ok_or_else(|| invalid(format!("the archive holds no {APP_FILE}")))?;
    Ok(app_file[..app_file.len() - APP_FILE.len()].to_owned())
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    const META: &str = "name: demo\nversion: 1.2.0\nappVersion: '1.2'\ndisplayName: Demo\nscope: project\n";
    const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: '{{ install.name }}'}\n";

    fn tar_of(entries: &[(&str, tar::EntryType, &[u8])]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (path, kind, data) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(*kind);
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            // `set_path` refuses `..`; an attacker's archive would not, so write the bytes.
            let name = header.as_old_mut().name.as_mut_slice();
            name[..path.len()].copy_from_slice(path.as_bytes());
            if kind.is_symlink() {
                header.set_link_name("/etc/passwd").unwrap();
            }
            header.set_cksum();
            builder.append(&header, *data).unwrap();
        }
        builder.into_inner().unwrap()
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    fn file<'a>(path: &'a str, text: &'static str) -> (&'a str, tar::EntryType, &'static [u8]) {
        (path, tar::EntryType::Regular, text.as_bytes())
    }

    fn error(bytes: &[u8]) -> String {
        read_archive(bytes).unwrap_err().reason().to_owned()
    }

    #[test]
    fn a_version_reads_from_a_tgz_at_the_top_or_in_its_directory() {
        for prefix in ["", "./", "1.2.0/", "demo/1.2.0/"] {
            let app = format!("{prefix}app.yaml");
            let cm = format!("{prefix}templates/cm.yaml");
            let dir = format!("{prefix}templates/");
            let tar = tar_of(&[
                (&dir, tar::EntryType::Directory, b""),
                file(&app, META),
                file(&cm, CM),
                file(&format!("{prefix}README.md"), "# Demo"),
            ]);
            for bytes in [gzip(&tar), tar.clone()] {
                let def = read_archive(&bytes).unwrap_or_else(|e| panic!("{prefix}: {e}"));
                assert_eq!((def.meta.name.as_str(), def.templates.len()), ("demo", 1), "{prefix}");
            }
        }
    }

    #[test]
    fn what_is_not_a_plain_version_is_refused_with_the_reason() {
        assert!(error(b"").contains("empty"));
        assert!(error(b"name: demo\n").contains("not a tar archive"));
        assert!(error(&gzip(b"not a tar")).contains("gzip-compressed tar"));
        assert!(error(&[0x1f, 0x8b, 0, 1, 2]).contains("gzip-compressed tar"));
        let link = tar_of(&[file("app.yaml", META), ("templates/cm.yaml", tar::EntryType::Symlink, b"")]);
        assert!(error(&gzip(&link)).contains("not a plain file"), "{}", error(&gzip(&link)));
        let climb = tar_of(&[file("app.yaml", META), file("templates/../../../etc/cm.yaml", CM)]);
        assert!(error(&gzip(&climb)).contains("climbs out"));
        let absolute = tar_of(&[file("/app.yaml", META), file("templates/cm.yaml", CM)]);
        assert!(error(&gzip(&absolute)).contains("absolute"));
        let none = tar_of(&[file("templates/cm.yaml", CM)]);
        assert!(error(&gzip(&none)).contains("no app.yaml"));
        let two = tar_of(&[file("a/app.yaml", META), file("a/templates/cm.yaml", CM), file("b/templates/x.yaml", CM)]);
        assert!(error(&gzip(&two)).contains("`b/templates/x.yaml` is outside"));
        let binary = tar_of(&[file("app.yaml", META), ("templates/cm.yaml", tar::EntryType::Regular, &[0xff, 0xfe])]);
        assert!(error(&gzip(&binary)).contains("not UTF-8"));
        let stray = tar_of(&[file("app.yaml", META), file("templates/cm.yaml", CM), file("install.sh", "rm -rf /")]);
        assert!(error(&gzip(&stray)).contains("`install.sh` is not part of an app version"));
    }

    #[test]
    fn size_is_bounded_before_and_after_inflating() {
        assert!(error(&vec![0u8; MAX_ARCHIVE_BYTES + 1]).contains("at most 1 MiB"));
        // A gzip bomb: 8 MiB of zeros in a file inflates far past the bound from a few KiB.
        let zeros: &'static [u8] = Box::leak(vec![b'#'; 8 * 1024 * 1024].into_boxed_slice());
        let bomb = gzip(&tar_of(&[file("app.yaml", META), ("templates/cm.yaml", tar::EntryType::Regular, zeros)]));
        assert!(bomb.len() < 64 * 1024);
        assert!(error(&bomb).contains("uncompressed"), "{}", error(&bomb));
        let many: Vec<(String, &'static str)> = (0..MAX_ENTRIES).map(|i| (format!("templates/{i}.yaml"), CM)).collect();
        let mut entries = vec![file("app.yaml", META)];
        entries.extend(many.iter().map(|(p, t)| file(p, t)));
        assert!(error(&gzip(&tar_of(&entries))).contains("at most"));
    }
}
