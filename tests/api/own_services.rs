//! A Redis and a PostgreSQL server of a test's own, which it may kill and
//! start again without touching the servers the rest of the suite shares.
//! Both come from the machine's own binaries (`redis-server`, PostgreSQL's
//! `initdb` and `pg_ctl`); a test that cannot find them is skipped, or
//! fails under `CI=true` (see [`services::missing_in`]).

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

use crate::{helpers::free_port, services};

/// Waits until something accepts connections on `port` of loopback.
async fn listening(port: u16, within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "nothing listens on {port} after {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A `redis-server` on a port of its own that keeps nothing on disk, as
/// the suite's shared one: killed, it comes back empty.
pub struct OwnRedis {
    pub port: u16,
    server: Option<Child>,
}

impl OwnRedis {
    pub async fn start(test: &str) -> Option<Self> {
        if let Err(e) = Command::new("redis-server").arg("--version").output() {
            return services::missing_in(test, "redis-server", &e.to_string());
        }
        let mut redis = Self {
            port: free_port(),
            server: None,
        };
        redis.start_again().await;
        Some(redis)
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// SIGKILL: what it held is gone.
    pub fn kill(&mut self) {
        if let Some(mut server) = self.server.take() {
            server.kill().unwrap();
            server.wait().unwrap();
        }
    }

    pub async fn start_again(&mut self) {
        let port = self.port.to_string();
        let server = Command::new("redis-server")
            .args(["--port", &port, "--bind", "127.0.0.1", "--save", ""])
            .args(["--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        self.server = Some(server);
        listening(self.port, Duration::from_secs(10)).await;
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A PostgreSQL cluster in a temporary directory, on a port of its own.
/// PostgreSQL refuses to run as root; as root its commands run as the
/// `postgres` user.
pub struct OwnPostgres {
    pub port: u16,
    bin: PathBuf,
    dir: tempfile::TempDir,
}

impl OwnPostgres {
    pub async fn start(test: &str) -> Option<Self> {
        let Some(bin) = postgres_bin() else {
            return services::missing_in(
                test,
                "PostgreSQL's server programs (initdb, pg_ctl)",
                "none in PATH or /usr/lib/postgresql/*/bin",
            );
        };
        let dir = tempfile::tempdir().unwrap();
        let postgres = Self {
            port: free_port(),
            bin,
            dir,
        };
        if as_root() {
            let chowned = Command::new("chown")
                .args(["-R", "postgres"])
                .arg(postgres.dir.path())
                .status()
                .unwrap();
            assert!(chowned.success());
        }
        let data = postgres.data().display().to_string();
        postgres.run("initdb", &["-D", &data, "-A", "trust", "-U", "postgres"]);
        postgres.start_again().await;
        Some(postgres)
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// A fast shutdown, as a restart or a failover does it: open sessions
    /// are ended, and the server takes no new ones until started again.
    pub fn stop(&self) {
        let data = self.data().display().to_string();
        self.run("pg_ctl", &["-D", &data, "-m", "fast", "-w", "stop"]);
    }

    /// Starts it and waits until it accepts connections.
    pub async fn start_again(&self) {
        let data = self.data().display().to_string();
        let log = self.dir.path().join("log").display().to_string();
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
            self.port,
            self.dir.path().display()
        );
        self.run(
            "pg_ctl",
            &["-D", &data, "-o", &options, "-l", &log, "-w", "start"],
        );
        listening(self.port, Duration::from_secs(10)).await;
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// PostgreSQL's `program`, run as the `postgres` user when this is root.
    fn command(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        match as_root() {
            true => {
                let mut command = Command::new("runuser");
                command.args(["-u", "postgres", "--"]).arg(&program);
                command
            }
            false => Command::new(&program),
        }
    }

    fn run(&self, program: &str, args: &[&str]) {
        let output = self
            .command(program)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{program} runs: {e}"));
        assert!(
            output.status.success(),
            "{program} {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

impl Drop for OwnPostgres {
    /// Stops it without asserting anything: a panic while a failed test
    /// unwinds would abort the whole test binary.
    fn drop(&mut self) {
        let data = self.data().display().to_string();
        let mut command = self.command("pg_ctl");
        let _ = command
            .args(["-D", &data, "-m", "immediate", "stop"])
            .output();
    }
}

fn as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.starts_with(b"0\n"))
}

/// Where `initdb` and `pg_ctl` are: on PATH, else Debian's versioned
/// directory (its packages put only the clients on PATH).
fn postgres_bin() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>());
    let debian = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|version| version.path().join("bin"));
    on_path
        .chain(debian)
        .find(|dir| dir.join("initdb").exists() && dir.join("pg_ctl").exists())
}
