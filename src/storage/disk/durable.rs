//! The file-system steps the disk backend is built from: each one durable (fsynced,
//! directory included) and atomic where it matters (a rename), plus the temp file that
//! cleans up after a failed or cancelled write and the helpers that run blocking work and
//! word I/O errors.
//!
//! None of this knows about buckets, objects or uploads; the parent module and its
//! siblings compose these steps (see the parent's "Writes" section).

use std::fmt::Display;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::error::S3Error;

/// A temp file that is removed unless it was renamed into place.
pub(super) struct TempFile {
    pub(super) path: PathBuf,
    armed: bool,
}

impl TempFile {
    pub(super) fn new(path: PathBuf) -> TempFile {
        TempFile { path, armed: true }
    }

    /// The file was renamed away: nothing to remove.
    fn keep(&mut self) {
        self.armed = false;
    }

    /// Ends a write: on success the file was renamed away; on failure it is removed.
    pub(super) async fn settle<T>(mut self, result: Result<T, S3Error>) -> Result<T, S3Error> {
        match result {
            Ok(value) => {
                self.keep();
                Ok(value)
            }
            Err(e) => {
                self.discard().await;
                Err(e)
            }
        }
    }

    /// Removes the file now (the normal error path).
    async fn discard(mut self) {
        if self.armed {
            self.armed = false;
            if let Err(e) = tokio::fs::remove_file(&self.path).await
                && e.kind() != io::ErrorKind::NotFound
            {
                tracing::warn!(path = %self.path.display(), error = %e, "cannot remove temp file");
            }
        }
    }
}

impl Drop for TempFile {
    /// Reached only when a put is cancelled (its future dropped) mid-way; the file would
    /// also be removed at the next open.
    fn drop(&mut self) {
        if self.armed {
            let path = std::mem::take(&mut self.path);
            match tokio::runtime::Handle::try_current() {
                Ok(rt) => drop(rt.spawn_blocking(move || fs::remove_file(path))),
                Err(_) => drop(fs::remove_file(path)),
            }
        }
    }
}

// ---- async helpers ----

/// Runs blocking file-system work off the async threads.
pub(super) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, S3Error> + Send + 'static,
) -> Result<T, S3Error> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| S3Error::internal(format!("storage task failed: {e}")))?
}

/// Maps an I/O error to `InternalError`, saying what was being done to which path. The
/// path is formatted only if there is an error (this runs on every GET's open).
pub(super) fn io_context<'a>(
    what: &'static str,
    path: &'a Path,
) -> impl FnOnce(io::Error) -> S3Error + 'a {
    move |e| S3Error::internal(format!("{what} {}: {e}", path.display()))
}

pub(super) fn internal(what: impl Display) -> S3Error {
    S3Error::internal(what.to_string())
}

/// Runs blocking file-system work (a sync) from async code that must not `.await`
/// meanwhile (it is in the middle of a commit): on tokio's multi-threaded runtime through
/// `block_in_place`, so the worker's other tasks move to another worker while it blocks;
/// anywhere else (a current-thread runtime, a blocking thread) directly.
pub(super) fn off_worker<T>(f: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

// ---- durable file-system steps (blocking) ----

pub(super) fn sync_dir(dir: &Path) -> Result<(), S3Error> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_context("fsync directory", dir))
}

/// The parent directory of a path this module built (always has one).
pub(super) fn parent(path: &Path) -> Result<&Path, S3Error> {
    path.parent()
        .ok_or_else(|| internal(format!("{} has no parent directory", path.display())))
}

/// Creates `dir` (a child of `parent_dir`) durably if it does not exist.
pub(super) fn ensure_dir(dir: &Path, parent_dir: &Path) -> Result<(), S3Error> {
    match fs::create_dir(dir) {
        Ok(()) => sync_dir(parent_dir),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(io_context("create directory", dir)(e)),
    }
}

/// Writes a new file and fsyncs it.
pub(super) fn write_synced(path: &Path, contents: &[u8]) -> Result<(), S3Error> {
    File::create(path)
        .and_then(|mut f| f.write_all(contents).and_then(|_| f.sync_all()))
        .map_err(io_context("write", path))
}

/// write → fsync → rename → fsync dir: a small file replaced atomically and durably.
pub(super) fn write_atomic(temp: &Path, dest: &Path, contents: &[u8]) -> Result<(), S3Error> {
    let written = write_synced(temp, contents)
        .and_then(|_| fs::rename(temp, dest).map_err(io_context("rename into", dest)));
    if written.is_err() {
        let _ = fs::remove_file(temp);
    }
    written?;
    sync_dir(parent(dest)?)
}

/// Removes a file and fsyncs its directory; `false` if it was not there.
pub(super) fn remove_durably(path: &Path) -> Result<bool, S3Error> {
    let removed = remove_if_present(path)?;
    if removed {
        sync_dir(parent(path)?)?;
    }
    Ok(removed)
}

/// Removes a file, not yet durably (the caller syncs its directory); `false` if it was
/// not there.
pub(super) fn remove_if_present(path: &Path) -> Result<bool, S3Error> {
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io_context("remove", path)(e)),
    }
}

/// Builds a directory in `staging` (`build` fills it), then renames it to `dir` in one
/// step: a bucket or an upload appears whole or not at all.
pub(super) fn create_dir_atomic(
    staging: &Path,
    dir: &Path,
    build: impl FnOnce(&Path) -> Result<(), S3Error>,
) -> Result<(), S3Error> {
    let built = fs::create_dir(staging)
        .map_err(io_context("create directory", staging))
        .and_then(|_| build(staging))
        .and_then(|_| sync_dir(staging))
        .and_then(|_| fs::rename(staging, dir).map_err(io_context("rename into", dir)));
    if built.is_err() {
        let _ = fs::remove_dir_all(staging);
    }
    built?;
    sync_dir(parent(dir)?)
}

/// Removes a directory already moved into `tmp/`.
pub(super) fn remove_moved_dir(grave: &Path) {
    if let Err(e) = fs::remove_dir_all(grave) {
        // Harmless: tmp/ is emptied at the next open.
        tracing::warn!(path = %grave.display(), error = %e, "cannot remove a deleted directory");
    }
}

pub(super) fn read_dir_paths(dir: &Path) -> Result<Vec<PathBuf>, S3Error> {
    fs::read_dir(dir)
        .and_then(|entries| entries.map(|e| e.map(|e| e.path())).collect())
        .map_err(io_context("read directory", dir))
}

pub(super) fn file_name(path: &Path) -> &str {
    path.file_name().and_then(|n| n.to_str()).unwrap_or("")
}
