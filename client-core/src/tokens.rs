//! Where a device keeps its session tokens. A refresh token signs its holder in for 60
//! days, so it belongs in the platform's secret store (Android Keystore, iOS Keychain),
//! not in the app's database file: the app passes a [`TokenStore`] when it opens the
//! client. Tools and tests may keep them in the database ([`ClientOptions::default`]) or,
//! like the command-line client, in a file only its owner can read ([`FileTokens`]).

use crate::error::{CoreError, Result};
use std::path::PathBuf;
use std::sync::Arc;

/// A session's tokens.
#[derive(Clone, PartialEq, Eq)]
pub struct Tokens {
    /// Sent as `Authorization: Bearer`; lives 15 minutes.
    pub access: String,
    /// Spent for a new pair; lives 60 days.
    pub refresh: String,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tokens(…)")
    }
}

/// Keeps the tokens of the one session this device holds.
pub trait TokenStore: Send + Sync {
    /// The stored tokens, if any.
    fn load(&self) -> Result<Option<Tokens>>;
    /// Replaces them (`None`: signed out).
    fn save(&self, tokens: Option<&Tokens>) -> Result<()>;
}

/// How a client is opened.
#[derive(Clone, Default)]
pub struct ClientOptions {
    /// Where the tokens live; `None` keeps them in the device database (tools, tests).
    pub tokens: Option<Arc<dyn TokenStore>>,
    /// Allow a plain `http://` server that is not on this machine. Off: tokens and
    /// people's data must not cross a network unencrypted; use `https://`.
    pub allow_insecure_http: bool,
}

/// Refuses a plain-HTTP server URL that leaves this machine, unless allowed.
pub fn check_server_url(url: &str, allow_insecure_http: bool) -> Result<()> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| CoreError::Protocol(format!("invalid server URL {url:?}: {e}")))?;
    match parsed.scheme() {
        "https" => Ok(()),
        "http" => {
            let local = match parsed.host() {
                Some(url::Host::Domain(d)) => d == "localhost",
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                None => false,
            };
            if local || allow_insecure_http {
                Ok(())
            } else {
                Err(CoreError::Protocol(format!(
                    "refusing plain http:// to {url}: tokens and people's data would cross the \
                     network unencrypted; use https:// (or allow insecure http for development)"
                )))
            }
        }
        other => Err(CoreError::Protocol(format!(
            "unsupported server URL scheme {other:?}; use https://"
        ))),
    }
}

/// Tokens in a file only its owner may read or write (mode 0600), for the command line.
#[derive(Debug, Clone)]
pub struct FileTokens {
    path: PathBuf,
}

impl FileTokens {
    /// Tokens kept at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileTokens { path: path.into() }
    }
}

impl TokenStore for FileTokens {
    fn load(&self) -> Result<Option<Tokens>> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(CoreError::Storage(format!("reading tokens: {e}"))),
        };
        let mut lines = text.lines();
        Ok(match (lines.next(), lines.next()) {
            (Some(access), Some(refresh)) => Some(Tokens {
                access: access.to_owned(),
                refresh: refresh.to_owned(),
            }),
            _ => None,
        })
    }

    fn save(&self, tokens: Option<&Tokens>) -> Result<()> {
        let Some(t) = tokens else {
            return match std::fs::remove_file(&self.path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    Err(CoreError::Storage(format!("removing tokens: {e}")))
                }
                _ => Ok(()),
            };
        };
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options
            .open(&self.path)
            .map_err(|e| CoreError::Storage(format!("writing tokens: {e}")))?;
        // A file created earlier with wider permissions is narrowed too.
        #[cfg(unix)]
        std::fs::set_permissions(
            &self.path,
            std::os::unix::fs::PermissionsExt::from_mode(0o600),
        )
        .map_err(|e| CoreError::Storage(format!("narrowing token file: {e}")))?;
        std::io::Write::write_all(
            &mut file,
            format!("{}\n{}\n", t.access, t.refresh).as_bytes(),
        )
        .map_err(|e| CoreError::Storage(format!("writing tokens: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_is_for_this_machine_only() {
        for ok in [
            "https://sync.example.org",
            "http://127.0.0.1:8080",
            "http://localhost:8080",
            "http://[::1]:8080",
        ] {
            assert!(check_server_url(ok, false).is_ok(), "{ok}");
        }
        for refused in ["http://sync.example.org", "http://10.0.2.2:8080", "ftp://x"] {
            assert!(check_server_url(refused, false).is_err(), "{refused}");
        }
        assert!(check_server_url("http://10.0.2.2:8080", true).is_ok());
    }

    #[cfg(unix)]
    #[test]
    fn the_token_file_is_private_to_its_owner() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens");
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let store = FileTokens::new(&path);
        let t = Tokens {
            access: "a".into(),
            refresh: "r".into(),
        };
        store.save(Some(&t)).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(store.load().unwrap(), Some(t));
        store.save(None).unwrap();
        assert_eq!(store.load().unwrap(), None);
    }
}
