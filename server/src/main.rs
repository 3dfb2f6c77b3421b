//! `yinyom`: the server and its command line. See `yinyom --help`.

use clap::Parser;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;
use yinyom_server::{
    config::{Cli, Command, SitesCommand},
    sites,
    store::Store,
};

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("YINYOM_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("yinyom: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let store = Store::connect(&cli.database_url)
        .await
        .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", redact(&cli.database_url)))?;
    match cli.command {
        Command::Serve(args) => yinyom_server::serve(store, args).await,
        Command::Sites(SitesCommand::Import { paths }) => {
            let mut failed = 0;
            for path in &paths {
                match sites::import(&store, path).await {
                    Ok(done) => println!("{done}"),
                    Err(e) => {
                        eprintln!("yinyom: {e}");
                        failed += 1;
                    }
                }
            }
            if failed > 0 {
                anyhow::bail!("{failed} of {} site folders were not imported", paths.len());
            }
            Ok(())
        }
    }
}

/// Hides a password in a database URL.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}
