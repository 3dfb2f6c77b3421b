//! `cargo xtask`: Yinyom's build and dev commands.
//!
//! - `cargo xtask dist`: build the widget (wasm32, size-optimised, wasm-bindgen, wasm-opt),
//!   content-hash it and precompress it into `dist/`.
//! - `cargo xtask demo`: dist, then run the server on `yinyom-demo.db` with every example
//!   site imported and the example host pages on a second origin.
//! - `cargo xtask test`: every check and test, on SQLite and PostgreSQL, in Chromium.
//! - `cargo xtask bench [--quick] [--only PARTS]`: the measurements behind BENCHMARKS.md.
//!
//! Each installs what it needs and is missing (the wasm32 target, wasm-bindgen-cli at the
//! Cargo.lock version, wasm-opt, Chromium) or says exactly what to install.

mod bench;
mod demo;
mod dist;
mod pg;
mod test;
mod tools;

use clap::{Parser, Subcommand};
use std::{
    path::{Path, PathBuf},
    process::ExitCode,
};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Yinyom's build and dev commands")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Build the widget into dist/ (hashed, precompressed) and print its sizes.
    Dist,
    /// Build everything and run the demo: server, example sites, example pages.
    Demo {
        /// Port of the API (the examples' script tags use 8080).
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Port of the example host pages.
        #[arg(long, default_value_t = 8081)]
        pages_port: u16,
    },
    /// Run every check and test (fmt, clippy, unit, SQLite, PostgreSQL, Chromium, e2e).
    Test,
    /// Measure the widget against vanilla-cookieconsent and the server against bare axum;
    /// write BENCHMARKS.md.
    Bench {
        /// A short smoke run on debug builds (writes target/bench/BENCHMARKS.quick.md).
        #[arg(long)]
        quick: bool,
        /// Receipts seeded for the console-at-scale measurement.
        #[arg(long, default_value_t = 1_000_000)]
        receipts: u64,
        /// Only these parts, comma-separated: widget, server, c15t (ingest against c15t's
        /// backend), durability, scale, proofs (inclusion and consistency proofs and `log
        /// verify` on the scale part's stores), failover (a Patroni cluster loses its primary). A
        /// partial run writes target/bench/BENCHMARKS.partial.md, never BENCHMARKS.md.
        #[arg(long, value_delimiter = ',', value_parser = ["widget", "server", "c15t", "durability", "scale", "proofs", "failover"])]
        only: Vec<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Cmd::Dist => dist::run().map(|_| ()),
        Cmd::Demo { port, pages_port } => demo::run(port, pages_port),
        Cmd::Test => test::run(),
        Cmd::Bench {
            quick,
            receipts,
            only,
        } => bench::run(quick, receipts, &only),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}
