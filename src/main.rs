use clap::Parser;

// Many small, short-lived allocations across threads: mimalloc keeps them
// off glibc malloc's locks and consolidation passes (about a fifth of a
// request's CPU time in profiles).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use junction::{
    cli::{Cli, Command},
    db, graphql,
    startup::Application,
    telemetry,
};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // A missing .env file is the normal case.
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    telemetry::init(cli.settings.log_format);

    match cli.command.unwrap_or(Command::Serve) {
        Command::Schema => print!("{}", graphql::sdl()),
        Command::Migrate => {
            cli.settings.validate()?;
            let db = db::connect(&cli.settings).await?;
            db::migrate(&db).await?;
            tracing::info!("migrations applied");
        }
        Command::Serve => {
            let app = Application::build(cli.settings).await?;
            let settings = &app.state().settings;
            tracing::info!(
                address = %settings.bind_addr()?.ip(),
                port = app.port(),
                database = %db::redact(&settings.database_url),
                redis = settings.redis_url.is_some(),
                "junction is serving GraphQL at /graphql"
            );
            app.run_until_stopped().await?;
        }
    }
    Ok(())
}
