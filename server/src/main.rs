//! `yinyom`: the server and its command line. See `yinyom --help`.

use clap::Parser;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;
use yinyom_server::{
    admin::auth,
    config::parse_time_ms,
    config::{
        Cli, Command, ExportArgs, KeysCommand, LogCommand, ReceiptsCommand, SitesCommand,
        TokensCommand, UsersCommand,
    },
    export, log, receipts, signing, sites,
    store::Role,
    store::{SearchFilter, Store},
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
    // Offline verification with a JWKS file needs no database.
    if let Command::Receipts(ReceiptsCommand::Verify {
        file,
        jwks: Some(jwks),
    }) = &cli.command
    {
        let jwks: signing::Jwks = serde_json::from_str(
            &std::fs::read_to_string(jwks)
                .map_err(|e| anyhow::anyhow!("{}: {e}", jwks.display()))?,
        )
        .map_err(|e| anyhow::anyhow!("{}: not a JWKS: {e}", jwks.display()))?;
        return verify_file(file, &jwks);
    }
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
        Command::Log(LogCommand::Verify { site }) => {
            let report = log::verify(&store, &site).await?;
            for f in &report.findings {
                println!("TAMPERED: {f}");
            }
            println!(
                "{site}: {} leaves, {} checkpoints checked; {} receipts not yet in the log",
                report.leaves, report.checkpoints, report.unsequenced
            );
            if !report.findings.is_empty() {
                anyhow::bail!(
                    "{} problems found in the log of {site}",
                    report.findings.len()
                );
            }
            println!("{site}: the log is intact");
            Ok(())
        }
        Command::Log(LogCommand::Checkpoint { site }) => {
            let signer = signing::Signer::load_or_create(&store).await?;
            match log::sequence(&store, &signer, &site).await? {
                Some(cp) => println!(
                    "{site}: checkpoint at tree size {} root {}",
                    cp.checkpoint.tree_size, cp.checkpoint.root
                ),
                None => println!("{site}: nothing new to append"),
            }
            Ok(())
        }
        Command::Keys(KeysCommand::Rotate) => {
            let kid = signing::rotate(&store).await?;
            println!("new signing key {kid}; older keys are retired and stay in the JWKS");
            Ok(())
        }
        Command::Keys(KeysCommand::List) => {
            for k in store.keys().await? {
                let status = if k.retired_at.is_some() {
                    "retired"
                } else {
                    "current"
                };
                println!("{}  {status}", k.kid);
            }
            Ok(())
        }
        Command::Receipts(ReceiptsCommand::Export(args)) => {
            let ExportArgs {
                site,
                format,
                from,
                to,
                notice_version,
                subject,
                receipt,
                method,
                item,
                decision,
                output,
                public_url,
            } = *args;
            if store.site(&site).await?.is_none() {
                anyhow::bail!("there is no site `{site}`");
            }
            let time = |v: Option<String>| {
                v.as_deref()
                    .map(parse_time_ms)
                    .transpose()
                    .map_err(anyhow::Error::msg)
            };
            let q = SearchFilter {
                site,
                from_ms: time(from)?,
                to_ms: time(to)?,
                notice_version,
                method,
                item,
                granted: SearchFilter::decision(decision.as_deref()).map_err(anyhow::Error::msg)?,
                subject_id: subject,
                receipt_id: receipt,
            };
            let jwks_url = format!("{}/.well-known/jwks.json", public_url.trim_end_matches('/'));
            let n = match output {
                Some(path) => {
                    let file = std::fs::File::create(&path)
                        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
                    let mut w = std::io::BufWriter::new(file);
                    export::export(&store, &q, format, &jwks_url, &mut w).await?
                }
                None => {
                    let mut w = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout());
                    export::export(&store, &q, format, &jwks_url, &mut w).await?
                }
            };
            eprintln!("yinyom: exported {n} receipts");
            Ok(())
        }
        Command::Users(UsersCommand::Add { email, role, sites }) => {
            let email = email.trim().to_lowercase();
            if !email.contains('@') {
                anyhow::bail!("`{email}` is not an e-mail address");
            }
            if role != Role::Admin && sites.is_empty() {
                anyhow::bail!("a {} needs at least one --site", role.as_str());
            }
            for site in &sites {
                if store.site(site).await?.is_none() {
                    anyhow::bail!(
                        "there is no site `{site}`: import it first (yinyom sites import)"
                    );
                }
            }
            if store.user_by_email(&email).await?.is_some() {
                anyhow::bail!("an account `{email}` already exists");
            }
            let password = read_password()?;
            if password.chars().count() < 12 {
                anyhow::bail!("the password must be at least 12 characters");
            }
            let hash = auth::hash_password(&password).map_err(anyhow::Error::msg)?;
            store.create_user(&email, &hash, role, &sites).await?;
            store
                .audit(
                    "cli",
                    "user.add",
                    None,
                    &format!("{email} {}", role.as_str()),
                    "local",
                )
                .await?;
            println!(
                "added {email} as {}{}",
                role.as_str(),
                if sites.is_empty() {
                    String::new()
                } else {
                    format!(" of {}", sites.join(", "))
                }
            );
            Ok(())
        }
        Command::Tokens(TokensCommand::Create { email, name }) => {
            let user = store
                .user_by_email(&email.trim().to_lowercase())
                .await?
                .ok_or_else(|| anyhow::anyhow!("there is no account `{email}`"))?;
            let token = format!("yy_{}", auth::new_secret()?);
            store
                .create_token(&auth::hash_secret(&token), &name, user.id)
                .await?;
            store
                .audit(
                    "cli",
                    "token.create",
                    None,
                    &format!("{name} for {}", user.email),
                    "local",
                )
                .await?;
            eprintln!(
                "token `{name}` acts as {} ({}); it is shown only once:",
                user.email,
                user.role.as_str()
            );
            println!("{token}");
            Ok(())
        }
        Command::Receipts(ReceiptsCommand::Verify { file, .. }) => {
            let jwks = signing::jwks(&store).await?;
            verify_file(&file, &jwks)
        }
    }
}

/// The new account's password: from the prompt on a terminal, else stdin's first line.
fn read_password() -> anyhow::Result<String> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("รหัสผ่าน / Password: ")?;
        let again = rpassword::prompt_password("อีกครั้ง / Again: ")?;
        if first != again {
            anyhow::bail!("the two passwords differ");
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }
}

/// `yinyom receipts verify FILE`: prints one line per receipt; fails if any is invalid.
fn verify_file(file: &std::path::Path, jwks: &signing::Jwks) -> anyhow::Result<()> {
    let text = if file.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin())?
    } else {
        std::fs::read_to_string(file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?
    };
    let results = receipts::verify_document(&text, jwks);
    if results.is_empty() {
        anyhow::bail!("{}: no receipts found", file.display());
    }
    let mut bad = 0;
    for r in &results {
        let id = r.receipt_id.as_deref().unwrap_or("?");
        match &r.outcome {
            Ok(summary) => println!("VALID    #{} {id}: {summary}", r.item),
            Err(why) => {
                bad += 1;
                println!("INVALID  #{} {id}: {why}", r.item);
            }
        }
    }
    if bad > 0 {
        anyhow::bail!("{bad} of {} receipts are not valid", results.len());
    }
    Ok(())
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
