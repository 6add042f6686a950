//! The `junction` command line: one binary, its subcommands.

use clap::{Parser, Subcommand};

use crate::config::Settings;

#[derive(Debug, Parser)]
#[command(
    name = "junction",
    version,
    about = "Self-hosted integration hub for team-collaboration workspaces"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub settings: Settings,
}

#[derive(Debug, Clone, Copy, Subcommand)]
pub enum Command {
    /// Run the HTTP server: GraphQL, health and metrics (the default).
    Serve,
    /// Run delivery workers only (no HTTP): scale deliveries apart from the
    /// API. Needs REDIS_URL, the queue the servers push to.
    Worker,
    /// Apply database migrations and exit.
    Migrate,
    /// Print the GraphQL schema (SDL) to standard output.
    Schema,
    /// Re-encrypt every stored secret and token under a new secret key,
    /// written to the key file (or printed, when the key comes from
    /// SECRET_KEY). Stop every other junction process first.
    RotateSecretKey,
}

/// Settings as `junction` takes them from `args`, for unit tests.
#[cfg(test)]
pub fn settings(args: &[&str]) -> Settings {
    use clap::Parser;
    let argv = std::iter::once("junction").chain(args.iter().copied());
    Cli::try_parse_from(argv)
        .expect("test settings parse")
        .settings
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::Cli;

    fn allow_private(args: &[&str]) -> bool {
        let mut argv = vec!["junction"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv)
            .unwrap()
            .settings
            .allow_private_targets
    }

    #[test]
    fn allow_private_targets_takes_a_bare_flag_or_a_boolish_value() {
        assert!(!allow_private(&[]));
        assert!(allow_private(&["--allow-private-targets"]));
        assert!(allow_private(&["--allow-private-targets=1"]));
        assert!(allow_private(&["--allow-private-targets=yes"]));
        assert!(!allow_private(&["--allow-private-targets=off"]));
        assert!(Cli::try_parse_from(["junction", "--allow-private-targets=maybe"]).is_err());
    }

    #[test]
    fn cors_origins_are_origins_and_redis_urls_have_a_scheme() {
        let valid = |args: &[&str]| super::settings(args).validate().is_ok();
        assert!(valid(&[
            "--cors-allowed-origins",
            "https://a.example.com,http://b.example:8443"
        ]));
        assert!(valid(&["--cors-allowed-origins", "*"]));
        for origin in [
            "https://a.example.com/",
            "https://a.example.com/app",
            "a.example.com",
            "ftp://a.example.com",
        ] {
            assert!(!valid(&["--cors-allowed-origins", origin]), "{origin}");
        }
        assert!(valid(&["--redis-url", "redis://127.0.0.1:6379"]));
        assert!(!valid(&["--redis-url", "127.0.0.1:6379"]));
        assert!(valid(&["--bind", "localhost:0"]));
        assert!(!valid(&["--bind", "localhost"]));
    }
}
