use std::process::ExitCode;

use clap::Parser;

// Many small, short-lived allocations across threads: mimalloc keeps them
// off glibc malloc's locks and consolidation passes (about a fifth of a
// request's CPU time in profiles).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use junction::{
    cli::{Cli, Command},
    db, graphql,
    jobs::worker,
    startup::{self, Application},
    telemetry,
};

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{}", telemetry::error_chain(&error));
            ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    junction::allocator::without_transparent_huge_pages();
    junction::allocator::purge_freed_memory_sooner();
    // A missing .env file is the normal case.
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    telemetry::init(cli.settings.log_format);

    match cli.command.unwrap_or(Command::Serve) {
        Command::Schema => print!("{}", graphql::sdl()),
        Command::Migrate => {
            cli.settings.validate()?;
            startup::open_sealed(&cli.settings).await?;
            tracing::info!("migrations applied");
        }
        Command::RotateSecretKey => {
            cli.settings.validate()?;
            println!("{}", startup::rotate_secret_key(&cli.settings).await?);
        }
        Command::Worker => {
            cli.settings.validate()?;
            anyhow::ensure!(
                cli.settings.redis_url.is_some(),
                "`junction worker` needs REDIS_URL: without Redis the queue lives inside \
                 `junction serve`, whose in-process workers deliver"
            );
            let (state, jobs) = startup::build_state(cli.settings).await?;
            tracing::info!(
                database = %db::redact(&state.settings.database_url),
                queue = jobs.name(),
                concurrency = state.settings.worker_concurrency,
                "junction worker is delivering"
            );
            let (stop, stopped) = worker::stop_channel();
            tokio::spawn(async move {
                shutdown_signal().await;
                tracing::info!("stopping: finishing in-flight delivery attempts");
                let _ = stop.send(true);
            });
            worker::run(state.ctx, jobs, stopped).await?;
        }
        Command::Serve => {
            let app = Application::build(cli.settings).await?;
            let settings = &app.state().settings;
            tracing::info!(
                address = %app.address(),
                database = %db::redact(&settings.database_url),
                redis = settings.redis_url.is_some(),
                "junction is serving GraphQL at /graphql"
            );
            app.run_until_stopped().await?;
        }
    }
    Ok(())
}

/// SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("installing the SIGTERM handler");
        tokio::select! {
            _ = interrupt => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}
