//! Durable state: the store saved as a JSON state document, written
//! atomically (temporary file, fsync, rename, fsync of the folder) on a timer
//! and at shutdown, and read back at start.
//!
//! The file holds passwords in clear text, so it is created readable by its
//! owner only.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::state_doc::StateDoc;

/// What reading the state file found.
pub(crate) enum Loaded {
    /// No file yet: the first run.
    Missing,
    /// A readable document.
    Doc(StateDoc),
    /// A file that could not be read; it was renamed to the path given, so it
    /// is neither lost nor overwritten.
    MovedAside(PathBuf, String),
}

/// Reads the state file, moving a corrupt one aside.
pub(crate) fn load(path: &Path) -> io::Result<Loaded> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Loaded::Missing),
        Err(error) if error.kind() == io::ErrorKind::InvalidData => {
            return move_aside(path, error.to_string())
        }
        Err(error) => return Err(error),
    };
    match serde_json::from_str::<StateDoc>(&text) {
        Ok(doc) => Ok(Loaded::Doc(doc)),
        Err(error) => move_aside(path, error.to_string()),
    }
}

fn move_aside(path: &Path, reason: String) -> io::Result<Loaded> {
    let stamp = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut aside = path.as_os_str().to_owned();
    aside.push(format!(".corrupt-{stamp}"));
    let aside = PathBuf::from(aside);
    fs::rename(path, &aside)?;
    Ok(Loaded::MovedAside(aside, reason))
}

/// Writes `doc` to `path` so that a crash at any point leaves either the old
/// file or the new one, never a mix.
pub(crate) fn save(path: &Path, doc: &StateDoc) -> io::Result<()> {
    let json = serde_json::to_vec_pretty(doc).map_err(io::Error::other)?;
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    let temporary = PathBuf::from(temporary);

    let mut file =
        owner_only(OpenOptions::new().write(true).create(true).truncate(true)).open(&temporary)?;
    file.write_all(&json)?;
    file.write_all(b"\n")?;
    file.sync_all()?;
    drop(file);
    fs::rename(&temporary, path)?;

    // The rename is durable only once the folder itself is synced.
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    File::open(folder)?.sync_all()
}

#[cfg(unix)]
fn owner_only(options: &mut OpenOptions) -> &mut OpenOptions {
    use std::os::unix::fs::OpenOptionsExt;
    options.mode(0o600)
}

#[cfg(not(unix))]
fn owner_only(options: &mut OpenOptions) -> &mut OpenOptions {
    options
}
