use clap::Parser;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = gateway::config::Cli::parse();
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx::postgres::notice=warn"));
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if cli.config.log_json {
        subscriber.json().init();
    } else {
        subscriber.init();
    }
    gateway::run(cli).await
}

/// mimalloc rather than the system allocator: a request allocates and
/// frees many small values (rows, answers, JSON) on whichever worker
/// thread polls it, and glibc's malloc spent a third of a large page's CPU
/// time in its arena locks and consolidation. Version 2 (the crate's `v2`
/// feature): version 3 backs its arenas with transparent huge pages, and
/// one process taken through every benchmark workload peaked at 150 MiB
/// against 93 with version 2 and 80 with glibc; the throughput gain is the
/// same (W5 at concurrency 64: 45-51 -> 68-86 rps; BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
