//! Where the hub is and the token to use: flags first, then `FLOTILLA_SERVER` and
//! `FLOTILLA_TOKEN`, then what `flotillactl login` saved (`$FLOTILLA_CONFIG`, else
//! `$XDG_CONFIG_HOME/flotilla/cli.toml` or `~/.config/flotilla/cli.toml`, readable by its
//! owner only).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::Failure;

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Saved {
    pub server: Option<String>,
    pub token: Option<String>,
}

pub fn path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("FLOTILLA_CONFIG") {
        return Some(PathBuf::from(p));
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("flotilla").join("cli.toml"))
}

pub fn load() -> Result<Saved, Failure> {
    let Some(path) = path() else { return Ok(Saved::default()) };
    match std::fs::read_to_string(&path) {
        Ok(text) => toml::from_str(&text).map_err(|e| Failure::usage(format!("{} is not valid: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Saved::default()),
        Err(e) => Err(Failure::local(format!("cannot read {}: {e}", path.display()))),
    }
}

/// Saves `saved`, readable and writable by its owner only.
pub fn save(saved: &Saved) -> Result<PathBuf, Failure> {
    let path = path().ok_or_else(|| Failure::usage("no home directory: set FLOTILLA_CONFIG"))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Failure::local(format!("cannot create {}: {e}", dir.display())))?;
    }
    let text = toml::to_string(saved).map_err(|e| Failure::local(e.to_string()))?;
    let write = || -> std::io::Result<()> {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&path)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
        file.write_all(text.as_bytes())
    };
    write().map_err(|e| Failure::local(format!("cannot write {}: {e}", path.display())))?;
    Ok(path)
}
