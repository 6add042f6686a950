//! Where the key comes from: `SECRET_KEY`, or a key file made on first
//! start (beside the SQLite file by default), or, for an in-memory
//! database, a key that lives as long as the process.

use std::{
    io::Write,
    path::{Path, PathBuf},
    str::FromStr,
};

use anyhow::Context;
use base64::{Engine, engine::general_purpose::STANDARD};
use rand::RngCore;

use super::Secrets;
use crate::config::Settings;

/// The key file's name when `SECRET_KEY_FILE` is unset.
const DEFAULT_FILE: &str = "junction.key";

/// The key `settings` name, made and stored in its file if there is none.
pub fn load(settings: &Settings) -> anyhow::Result<Secrets> {
    if let Some(key) = &settings.secret_key {
        return Ok(Secrets::new(&decode(key.expose()).context("SECRET_KEY")?));
    }
    match file(settings)? {
        Some(path) => Ok(Secrets::new(&read_or_create(&path)?)),
        None => Ok(Secrets::new(&generate())),
    }
}

/// The key file `settings` name: `SECRET_KEY_FILE`, else `junction.key`
/// beside the SQLite file; none for an in-memory database. PostgreSQL
/// needs the key named: its processes run on other hosts, or in
/// containers whose working directory goes away with them, and a key made
/// there would take every secret with it.
pub fn file(settings: &Settings) -> anyhow::Result<Option<PathBuf>> {
    if let Some(path) = &settings.secret_key_file {
        return Ok(Some(path.clone()));
    }
    anyhow::ensure!(
        settings.is_sqlite(),
        "with PostgreSQL, set SECRET_KEY (32 bytes in base64: `openssl rand -base64 32`) or \
         SECRET_KEY_FILE, the same for every process: it encrypts the secrets the database keeps"
    );
    let url = &settings.database_url;
    if url.contains(":memory:") || url.contains("mode=memory") {
        return Ok(None);
    }
    let options = sea_orm::sqlx::sqlite::SqliteConnectOptions::from_str(url)
        .with_context(|| format!("DATABASE_URL {url:?}"))?;
    let database = options.get_filename();
    let beside = database.parent().unwrap_or(Path::new("."));
    Ok(Some(beside.join(DEFAULT_FILE)))
}

pub fn generate() -> [u8; 32] {
    let mut key = [0u8; 32];
    rand::rng().fill_bytes(&mut key);
    key
}

pub fn encode(key: &[u8; 32]) -> String {
    STANDARD.encode(key)
}

fn decode(text: &str) -> anyhow::Result<[u8; 32]> {
    let bytes = STANDARD
        .decode(text.trim())
        .context("is not base64 (make one with `openssl rand -base64 32`)")?;
    bytes.try_into().map_err(|bytes: Vec<u8>| {
        anyhow::anyhow!(
            "holds {} bytes, not 32 (`openssl rand -base64 32`)",
            bytes.len()
        )
    })
}

fn read(path: &Path) -> anyhow::Result<[u8; 32]> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the secret key file {}", path.display()))?;
    decode(&text).with_context(|| format!("the secret key file {}", path.display()))
}

/// Reads the key file, or makes it (readable by its owner only) with a new
/// key. Two processes starting at once agree: the file appears whole or
/// not at all, and only one of them makes it.
fn read_or_create(path: &Path) -> anyhow::Result<[u8; 32]> {
    if path.exists() {
        return read(path);
    }
    let key = generate();
    match write_new(path, &key) {
        Ok(()) => {
            tracing::warn!(
                file = %path.display(),
                "made a new secret key; back it up apart from the database, which cannot be read without it"
            );
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read(path),
        Err(e) => {
            Err(e).with_context(|| format!("creating the secret key file {}", path.display()))
        }
    }
}

/// Writes `key` to a new file at `path`, readable by its owner only: to a
/// file of this process's own first, then linked into place, which fails
/// if `path` exists meanwhile. A reader never sees it half written.
pub fn write_new(path: &Path, key: &[u8; 32]) -> std::io::Result<()> {
    let draft = path.with_extension(format!("draft-{}", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&draft).and_then(|mut file| {
        writeln!(file, "{}", encode(key))?;
        file.sync_all()
    });
    let linked = written.and_then(|()| std::fs::hard_link(&draft, path));
    let _ = std::fs::remove_file(&draft);
    linked?;
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    fn settings(args: &[&str]) -> Settings {
        let mut all = vec!["junction"];
        all.extend(args);
        crate::cli::Cli::try_parse_from(all).unwrap().settings
    }

    #[test]
    fn the_key_file_sits_beside_the_sqlite_file_unless_named() {
        let file = |settings: &Settings| file(settings).unwrap();
        let beside = settings(&[
            "--database-url",
            "sqlite:///var/lib/junction/data.db?mode=rwc",
        ]);
        assert_eq!(
            file(&beside),
            Some(PathBuf::from("/var/lib/junction/junction.key"))
        );
        let named = settings(&["--secret-key-file", "/etc/junction/key"]);
        assert_eq!(file(&named), Some(PathBuf::from("/etc/junction/key")));
        assert_eq!(
            file(&settings(&["--database-url", "sqlite::memory:"])),
            None
        );
    }

    #[test]
    fn a_key_file_is_made_once_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("j.db").display());
        let settings = settings(&["--database-url", &url]);
        let first = load(&settings).unwrap();
        assert!(dir.path().join("junction.key").exists());
        assert_eq!(load(&settings).unwrap().kid(), first.kid());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("junction.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_key_in_the_environment_must_be_32_bytes_of_base64() {
        let good = encode(&[7; 32]);
        assert!(load(&settings(&["--secret-key", &good])).is_ok());
        for bad in ["short", "not base64 !!", &STANDARD.encode([1u8; 16])] {
            assert!(load(&settings(&["--secret-key", bad])).is_err(), "{bad}");
        }
    }
}
