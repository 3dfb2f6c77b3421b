//! Command line and environment configuration (`yinyom --help`).

use clap::{Args, Parser, Subcommand};
use std::{net::SocketAddr, path::PathBuf};

/// Yinyom (ยินยอม): consent receipts and privacy notices for Thai government websites.
#[derive(Debug, Parser)]
#[command(name = "yinyom", version, about)]
pub struct Cli {
    /// Database: `sqlite://PATH` (embedded, created if missing) or `postgres://…`.
    #[arg(
        long,
        env = "YINYOM_DATABASE_URL",
        default_value = "sqlite://yinyom.db",
        global = true
    )]
    pub database_url: String,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The `yinyom` subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server.
    Serve(ServeArgs),
    /// Manage sites.
    #[command(subcommand)]
    Sites(SitesCommand),
}

/// `yinyom sites …`
#[derive(Debug, Subcommand)]
pub enum SitesCommand {
    /// Register a site and publish its notice from a folder holding `site.toml` and
    /// `notice.<lang>.md`. A new notice version is published only when the content changed.
    Import {
        /// Site folders to import.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
}

/// `yinyom serve` options.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "YINYOM_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// The server's public base URL, used in receipts' notice links
    /// (default: http://LISTEN).
    #[arg(long, env = "YINYOM_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Folder with the built widget (`cargo xtask dist` writes `dist/`).
    #[arg(long, env = "YINYOM_DIST", default_value = "dist")]
    pub dist: PathBuf,

    /// Demo and development only: serve the example host pages of this folder on
    /// `--pages-listen`, and trust that origin for every site.
    #[arg(long, env = "YINYOM_PAGES")]
    pub pages: Option<PathBuf>,

    /// Address for `--pages`.
    #[arg(long, env = "YINYOM_PAGES_LISTEN", default_value = "127.0.0.1:8081")]
    pub pages_listen: SocketAddr,
}
