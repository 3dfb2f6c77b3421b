//! `yinyom`: the server and its command line. See `yinyom --help`.

use std::process::ExitCode;
use tracing_subscriber::EnvFilter;
use yinyom_server::{
    admin::auth,
    cli,
    config::parse_time_ms,
    config::{
        Cli, Command, ExportArgs, KeysCommand, LogCommand, ReceiptsCommand, RequestsCommand,
        RetentionCommand, SitesCommand, TokenRoleArg, TokensCommand, UsersCommand, WebhooksCommand,
        WitnessCommand,
    },
    erasure, export, log, receipts, signing, sites,
    store::{AuditAction, Role},
    store::{SearchFilter, Store, now_ms, rfc3339_ms},
    webhooks,
};

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("YINYOM_LOG")
                .unwrap_or_else(|_| EnvFilter::new("info,chromiumoxide=off")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = match parse() {
        Parsed::Server(cli) => cli,
        #[cfg(feature = "scan")]
        Parsed::Scan(args) => return yinyom_scan::main(args).await,
    };
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("yinyom: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The command line: the server's subcommands (`config::Cli`), plus `scan`, which lives in
/// its own crate so that the server library does not depend on a browser driver.
enum Parsed {
    Server(Cli),
    #[cfg(feature = "scan")]
    Scan(yinyom_scan::ScanArgs),
}

fn parse() -> Parsed {
    use clap::{CommandFactory, FromArgMatches};
    let cmd = Cli::command();
    #[cfg(feature = "scan")]
    let cmd = cmd.subcommand(<yinyom_scan::ScanArgs as clap::Args>::augment_args(
        clap::Command::new("scan"),
    ));
    let matches = cmd.get_matches();
    #[cfg(feature = "scan")]
    if let Some(("scan", m)) = matches.subcommand() {
        return match yinyom_scan::ScanArgs::from_arg_matches(m) {
            Ok(args) => Parsed::Scan(args),
            Err(e) => e.exit(),
        };
    }
    match Cli::from_arg_matches(&matches) {
        Ok(cli) => Parsed::Server(cli),
        Err(e) => e.exit(),
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    cli::set_quiet(cli.quiet);
    // Offline verification with a JWKS file needs no database.
    if let Command::Receipts(ReceiptsCommand::Verify {
        file,
        jwks: Some(jwks),
        vkey,
        policy,
    }) = &cli.command
    {
        let jwks: signing::Jwks = serde_json::from_str(&read_file(jwks)?)
            .map_err(|e| anyhow::anyhow!("{}: not a JWKS: {e}", jwks.display()))?;
        return verify_file(file, &jwks, &trust(vkey.as_deref(), policy.as_deref())?);
    }
    // A new key needs no database.
    if let Command::Keys(KeysCommand::Generate {
        out,
        name,
        pkcs11_module,
    }) = &cli.command
    {
        return generate_key(out, name.as_deref(), pkcs11_module.as_deref());
    }
    if let Command::Keys(KeysCommand::GenerateSubject { out }) = &cli.command {
        yinyom_server::subjects::SubjectKey::generate(out)?;
        println!("subject key written to {}", out.display());
        return Ok(());
    }
    let store = Store::connect_with(&cli.database_url, cli.db_pool_size)
        .await
        .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", redact(&cli.database_url)))?;
    match cli.command {
        Command::Serve(args) => yinyom_server::serve(store, args).await,
        Command::Sites(SitesCommand::Import { paths }) => {
            let mut failed = 0;
            let bar = cli::progress(Some(paths.len() as u64), "นำเข้าเว็บไซต์ / importing sites");
            for path in &paths {
                match sites::import(&store, path).await {
                    Ok(done) => bar.suspend(|| println!("{done}")),
                    Err(e) => {
                        bar.suspend(|| eprintln!("yinyom: {e}"));
                        failed += 1;
                    }
                }
                bar.inc(1);
            }
            bar.finish();
            if failed > 0 {
                anyhow::bail!("{failed} of {} site folders were not imported", paths.len());
            }
            Ok(())
        }
        Command::Log(LogCommand::Verify {
            site,
            checkpoint,
            vkey,
            witnesses,
            public_url,
        }) => {
            let read = |path: &std::path::Path| {
                std::fs::read_to_string(path)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
            };
            let mut outside = Vec::new();
            if let Some(path) = checkpoint {
                outside.push(log::Outside {
                    note: read(&path)?,
                    vkey: match vkey {
                        Some(path) => {
                            let text = read(&path)?;
                            let line = text.lines().next().unwrap_or_default();
                            Some(log::note::Vkey::parse(line).map_err(|e| {
                                anyhow::anyhow!("{}: not a vkey: {e}", path.display())
                            })?)
                        }
                        None => None,
                    },
                });
            }
            let witnesses =
                log::witness::Witnesses::parse(&witnesses, None).map_err(|e| anyhow::anyhow!(e))?;
            if !witnesses.list.is_empty() {
                let origin = match public_url {
                    Some(url) => format!("{}/{site}", log::origin_host(&url)),
                    None => match store.latest_checkpoint(&site).await? {
                        Some(cp) => log::signed(&cp)?.checkpoint.origin,
                        None => anyhow::bail!(
                            "{site}: no checkpoint in the database to learn the log's origin from: give --public-url"
                        ),
                    },
                };
                for w in witnesses.list {
                    let (name, origin) = (w.vkey.name.clone(), origin.clone());
                    let fetched = tokio::task::spawn_blocking(move || {
                        log::witness::latest_cosigned(&w, &origin)
                    })
                    .await?
                    .map_err(|e| anyhow::anyhow!("witness {name}: {e}"))?;
                    match fetched {
                        Some(note) => {
                            println!(
                                "{site}: checking against the checkpoint witness {name} cosigned"
                            );
                            outside.push(log::Outside { note, vkey: None });
                        }
                        None => println!("{site}: witness {name} has not cosigned this log yet"),
                    }
                }
            }
            let bar = cli::progress(Some(0), "ตรวจบันทึก / checking the log");
            let report = log::verify_showing(&store, &site, &outside, &bar).await?;
            bar.finish();
            for f in &report.findings {
                println!("TAMPERED: {f}");
            }
            for e in &report.erasures {
                let under = match &e.case_reference {
                    Some(case) => format!("under case {case}"),
                    None => format!("by {}", e.reason),
                };
                println!(
                    "erased: {} receipts {under} at {} (record {}; leaf hashes kept, signature valid)",
                    e.receipts.len(),
                    e.erased_at,
                    e.erasure_id
                );
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
        Command::Log(LogCommand::Checkpoint {
            site,
            public_url,
            log_key,
            pkcs11_module,
        }) => {
            let keys = signing::Keys::load(&[], &log_key, pkcs11_module.as_deref())?;
            let key = signing::Signer::load(&store, signing::KeyPurpose::Log, &keys.log).await?;
            let signer = log::LogSigner::new(&public_url, std::sync::Arc::new(key));
            match log::sequence(&store, &signer, &site).await? {
                Some(cp) => print!("{}", cp.note),
                None => println!("{site}: nothing new to append"),
            }
            Ok(())
        }
        Command::Retention(RetentionCommand::Apply {
            dry_run,
            sites,
            as_of,
            keys,
        }) => {
            let sites = if sites.is_empty() {
                store.site_ids().await?
            } else {
                sites
            };
            let state = if dry_run {
                None
            } else {
                Some(erasing_state(&store, keys).await?)
            };
            let at = as_of.unwrap_or_else(now_ms);
            for site in &sites {
                let bar = cli::progress(Some(0), "ตรวจระยะเวลาเก็บรักษา / checking retention");
                let out = match &state {
                    None => erasure::due_showing(&store, site, at, &bar).await?,
                    Some(state) => erasure::retention_showing(state, site, at, &bar).await?,
                };
                bar.finish();
                let n = out.due.len();
                match &out.erased {
                    None => {
                        println!(
                            "{site}: {n} receipts would be erased (consent ended more than {} days before {})",
                            out.retention_days,
                            rfc3339_ms(at)
                        );
                        for r in &out.due {
                            println!("  {} {} {}", r.receipt_id, rfc3339_ms(r.issued_at), r.event);
                        }
                    }
                    Some(done) => {
                        println!(
                            "{site}: {} receipts erased (consent ended more than {} days ago){}",
                            done.receipts,
                            out.retention_days,
                            done.erasure_id
                                .as_ref()
                                .map(|id| format!("; erasure record {id}"))
                                .unwrap_or_default()
                        );
                        if done.pending > 0 {
                            println!(
                                "{site}: {} receipts not yet in the log were left; run again",
                                done.pending
                            );
                        }
                    }
                }
            }
            Ok(())
        }
        Command::Witness(WitnessCommand::Serve(args)) => {
            let key = yinyom_server::witness::read_key(&args.key)?;
            let witness = yinyom_server::witness::Witness::new(store, &args.name, key, &args.logs)?;
            yinyom_server::witness::serve(witness, args.listen).await
        }
        Command::Keys(KeysCommand::Generate { .. } | KeysCommand::GenerateSubject { .. }) => {
            unreachable!("handled before the store")
        }
        Command::Keys(KeysCommand::Rotate {
            key,
            log,
            now,
            pkcs11_module,
        }) => {
            let purpose = if log {
                signing::KeyPurpose::Log
            } else {
                signing::KeyPurpose::Receipt
            };
            let notice = if now {
                signing::COMPROMISE_NOTICE
            } else {
                signing::ROTATION_NOTICE
            };
            let key = signing::keys::load(&key, pkcs11_module.as_deref())?;
            let r = signing::rotate(&store, purpose, &key.public_key(), notice)
                .await
                .map_err(|e| {
                    anyhow::anyhow!(
                        "{e}: is {} registered already (yinyom keys list), or was another rotation running?",
                        key.location()
                    )
                })?;
            println!(
                "new {} key {} is in the JWKS now and signs from {}; the keys before it sign until then and stay in the JWKS",
                purpose.as_str(),
                r.kid,
                rfc3339_ms(r.activates_at)
            );
            Ok(())
        }
        Command::Keys(KeysCommand::List) => {
            let now = now_ms();
            for k in store.keys().await? {
                let status = match k.retired_at {
                    _ if k.activates_at > now => {
                        format!("published, signs from {}", rfc3339_ms(k.activates_at))
                    }
                    Some(r) if r <= now => format!(
                        "retired: signed from {} until {}",
                        rfc3339_ms(k.activates_at),
                        rfc3339_ms(r)
                    ),
                    Some(r) => format!(
                        "current since {}, until {}",
                        rfc3339_ms(k.activates_at),
                        rfc3339_ms(r)
                    ),
                    None => format!("current since {}", rfc3339_ms(k.activates_at)),
                };
                println!("{:<7}  {}  {status}", k.purpose, k.kid);
            }
            Ok(())
        }
        Command::Keys(KeysCommand::Export { out_dir }) => {
            let done = signing::export_legacy(&store, &out_dir).await?;
            if done.is_empty() {
                println!("the database holds no private keys: nothing to export");
            }
            let now = now_ms();
            for (path, row) in &done {
                println!(
                    "{}  {} key {}{}",
                    path.display(),
                    row.purpose,
                    row.kid,
                    if row.valid_at(now) {
                        " (signs now: give it to `serve --signing-key`)"
                    } else {
                        " (retired: keep it offline or destroy it)"
                    }
                );
            }
            if !done.is_empty() {
                eprintln!(
                    "yinyom: {} key(s) moved out of the database. Database backups made before now still hold them: consider `yinyom keys rotate` to a new key.",
                    done.len()
                );
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
                lang,
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
                subject_alias: None,
                receipt_id: receipt,
            };
            let jwks_url = format!("{}/.well-known/jwks.json", public_url.trim_end_matches('/'));
            let total = store.count_matching(&q).await?;
            let bar = cli::progress(u64::try_from(total).ok(), "ส่งออกใบรับ / exporting receipts");
            let n = match output {
                Some(path) => {
                    let file = std::fs::File::create(&path)
                        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
                    let mut w = std::io::BufWriter::new(file);
                    export::export(&store, &q, format, &jwks_url, lang, &mut w, &bar).await?
                }
                None => {
                    let mut w = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout());
                    export::export(&store, &q, format, &jwks_url, lang, &mut w, &bar).await?
                }
            };
            bar.finish();
            if !cli::quiet() {
                eprintln!("yinyom: exported {n} receipts");
            }
            Ok(())
        }
        Command::Users(UsersCommand::Add { email, role, sites }) => {
            let role = Role::from(role);
            let email = email.trim().to_lowercase();
            if !email.contains('@') || email.len() > auth::MAX_EMAIL_BYTES {
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
            if store.user_exists(&email).await? {
                anyhow::bail!("an account `{email}` already exists");
            }
            let hash = new_password_hash()?;
            store.create_user(&email, &hash, role, &sites).await?;
            store
                .audit(
                    "cli",
                    AuditAction::UserAdd,
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
        Command::Tokens(TokensCommand::Create {
            email: None,
            role: Some(TokenRoleArg::Service),
            site: Some(site),
            name,
            expires_in_days,
        }) => {
            if store.site(&site).await?.is_none() {
                anyhow::bail!("there is no site `{site}` (see `yinyom sites import`)");
            }
            let token = format!("yy_{}", auth::new_secret()?);
            let expires_at =
                expires_in_days.map(|d| now_ms() + i64::from(d) * yinyom_server::dates::DAY_MS);
            store
                .create_service_token(&auth::hash_secret(&token), &name, &site, expires_at)
                .await?;
            let until = expires_at.map_or(String::new(), |t| format!(" until {}", rfc3339_ms(t)));
            store
                .audit(
                    "cli",
                    AuditAction::TokenCreate,
                    Some(&site),
                    &format!("{name} service of {site}{until}"),
                    "local",
                )
                .await?;
            eprintln!(
                "service token `{name}` of site {site} (the consent-check API only){until}; it is shown only once:"
            );
            println!("{token}");
            Ok(())
        }
        Command::Tokens(TokensCommand::Create {
            email: Some(email),
            role: None,
            name,
            expires_in_days,
            ..
        }) => {
            let user = store
                .user_by_email(&email.trim().to_lowercase())
                .await?
                .ok_or_else(|| anyhow::anyhow!("there is no account `{email}`"))?;
            let token = format!("yy_{}", auth::new_secret()?);
            let expires_at =
                expires_in_days.map(|d| now_ms() + i64::from(d) * yinyom_server::dates::DAY_MS);
            store
                .create_token_expiring(&auth::hash_secret(&token), &name, user.id, expires_at)
                .await?;
            store
                .audit(
                    "cli",
                    AuditAction::TokenCreate,
                    None,
                    &format!(
                        "{name} for {}{}",
                        user.email,
                        expires_at.map_or(String::new(), |t| format!(" expires {}", rfc3339_ms(t)))
                    ),
                    "local",
                )
                .await?;
            eprintln!(
                "token `{name}` acts as {} ({}){}; it is shown only once:",
                user.email,
                user.role.as_str(),
                expires_at.map_or(String::new(), |t| format!(" until {}", rfc3339_ms(t)))
            );
            println!("{token}");
            Ok(())
        }
        Command::Tokens(TokensCommand::Create { .. }) => {
            anyhow::bail!("give --email (a token acting as an account) or --role service --site S")
        }
        Command::Webhooks(WebhooksCommand::Add {
            site,
            url,
            subject_key,
        }) => {
            let key = seal_key(&subject_key)?;
            let (id, secret) = webhooks::add(&store, &key, "cli", "local", &site, &url).await?;
            eprintln!(
                "endpoint {id} of site {site} receives its events at {url}; verify them with this secret, shown only once:"
            );
            println!("{secret}");
            Ok(())
        }
        Command::Webhooks(WebhooksCommand::Rotate {
            site,
            id,
            overlap_hours,
            subject_key,
        }) => {
            let key = seal_key(&subject_key)?;
            let overlap = std::time::Duration::from_secs(u64::from(overlap_hours) * 3600);
            let Some(secret) =
                webhooks::rotate(&store, &key, "cli", "local", &site, id, overlap).await?
            else {
                anyhow::bail!(
                    "site {site} has no endpoint {id} in use (see `yinyom webhooks list`)"
                )
            };
            eprintln!(
                "endpoint {id} of site {site} has a new secret, shown only once; the old one signs too for {overlap_hours} h:"
            );
            println!("{secret}");
            Ok(())
        }
        Command::Webhooks(WebhooksCommand::List { site }) => {
            for e in store.webhooks(site.as_deref()).await? {
                println!(
                    "{}  {}  {}  added {}{}",
                    e.id,
                    e.site_id,
                    e.url,
                    rfc3339_ms(e.created_at),
                    e.removed_at
                        .map_or(String::new(), |t| format!("  removed {}", rfc3339_ms(t)))
                );
            }
            Ok(())
        }
        Command::Webhooks(WebhooksCommand::Remove { site, id }) => {
            if webhooks::remove(&store, "cli", "local", &site, id).await? {
                println!("removed endpoint {id} of site {site}");
                Ok(())
            } else {
                anyhow::bail!(
                    "site {site} has no endpoint {id} in use (see `yinyom webhooks list`)"
                )
            }
        }
        Command::Users(UsersCommand::List) => {
            for a in store.accounts().await? {
                println!(
                    "{}  {}  {}  {}",
                    a.email,
                    a.role.as_str(),
                    if a.sites.is_empty() {
                        "-".to_owned()
                    } else {
                        a.sites.join(",")
                    },
                    a.disabled_at.map_or("enabled".to_owned(), |t| format!(
                        "disabled {}",
                        rfc3339_ms(t)
                    ))
                );
            }
            Ok(())
        }
        Command::Users(UsersCommand::Disable { email } | UsersCommand::Enable { email })
            if !store.user_exists(&email.trim().to_lowercase()).await? =>
        {
            anyhow::bail!("there is no account `{email}`")
        }
        Command::Users(UsersCommand::Disable { email }) => {
            let email = email.trim().to_lowercase();
            if store.set_user_disabled(&email, true).await? {
                store
                    .audit("cli", AuditAction::UserDisable, None, &email, "local")
                    .await?;
                println!("disabled {email}: its sessions and tokens no longer work");
            } else {
                println!("{email} was already disabled");
            }
            Ok(())
        }
        Command::Users(UsersCommand::Enable { email }) => {
            let email = email.trim().to_lowercase();
            if store.set_user_disabled(&email, false).await? {
                store
                    .audit("cli", AuditAction::UserEnable, None, &email, "local")
                    .await?;
                println!("enabled {email}");
            } else {
                println!("{email} was not disabled");
            }
            Ok(())
        }
        Command::Users(UsersCommand::Passwd { email }) => {
            let email = email.trim().to_lowercase();
            if !store.user_exists(&email).await? {
                anyhow::bail!("there is no account `{email}`");
            }
            let hash = new_password_hash()?;
            store.set_password(&email, &hash).await?;
            store
                .audit("cli", AuditAction::UserPasswd, None, &email, "local")
                .await?;
            println!("new password set for {email}; its sessions ended");
            Ok(())
        }
        Command::Users(UsersCommand::Unlock { email, address }) => {
            let email = email.trim().to_lowercase();
            let (by_email, by_addr) = auth::throttle_keys(&email, address.as_deref().unwrap_or(""));
            let mut any = store.unlock_login(&by_email).await?;
            if address.is_some() {
                any |= store.unlock_login(&by_addr).await?;
            }
            let detail = match &address {
                Some(a) => format!("{email} from {a}"),
                None => email.clone(),
            };
            store
                .audit("cli", AuditAction::UserUnlock, None, &detail, "local")
                .await?;
            println!(
                "{detail}: {}",
                if any {
                    "failed sign-ins forgotten"
                } else {
                    "there were no failed sign-ins"
                }
            );
            Ok(())
        }
        Command::Requests(cmd) => requests_command(&store, cmd).await,
        Command::Tokens(TokensCommand::List) => {
            for t in store.tokens().await? {
                let state = match (t.revoked_at, t.expires_at) {
                    (Some(r), _) => format!("revoked {}", rfc3339_ms(r)),
                    (None, Some(e)) if e <= now_ms() => format!("expired {}", rfc3339_ms(e)),
                    (None, Some(e)) => format!("until {}", rfc3339_ms(e)),
                    (None, None) => "no expiry".to_owned(),
                };
                println!(
                    "{}  {}  {}  created {}  last used {}  {state}",
                    t.id,
                    t.name,
                    t.email,
                    rfc3339_ms(t.created_at),
                    t.last_used.map_or("never".to_owned(), rfc3339_ms),
                );
            }
            Ok(())
        }
        Command::Tokens(TokensCommand::Revoke { id }) => match store.revoke_token(&id).await? {
            Some(t) => {
                store
                    .audit(
                        "cli",
                        AuditAction::TokenRevoke,
                        None,
                        &format!("{} ({}) of {}", t.name, t.id, t.email),
                        "local",
                    )
                    .await?;
                println!("revoked token `{}` ({}) of {}", t.name, t.id, t.email);
                Ok(())
            }
            None => anyhow::bail!(
                "no token with id `{id}` that is not revoked (see `yinyom tokens list`)"
            ),
        },
        Command::Receipts(ReceiptsCommand::Verify {
            file, vkey, policy, ..
        }) => {
            let jwks = signing::jwks(&store).await?;
            verify_file(&file, &jwks, &trust(vkey.as_deref(), policy.as_deref())?)
        }
    }
}

/// `yinyom keys generate`: a new key file or HSM key; prints its public key.
fn generate_key(
    out: &str,
    name: Option<&str>,
    module: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    if let Some(name) = name {
        anyhow::ensure!(
            signing::keys::valid_note_name(name),
            "`{name}` cannot be a key name: no spaces or `+`"
        );
    }
    let public = signing::keys::generate(out, module)?;
    let jwk = signing::jwk(&public);
    println!("public key: {}", jwk.x);
    println!("kid: {}", jwk.kid);
    if let Some(name) = name {
        println!("vkey: {}", signing::keys::vkey(name, &public));
    }
    Ok(())
}

/// `yinyom requests …`: the same case steps as the console, audited as `cli`.
async fn requests_command(store: &Store, cmd: RequestsCommand) -> anyhow::Result<()> {
    use yinyom_model::request::{Channel, RefusalReason, RequestKind, SubjectRequestBody};
    use yinyom_server::requests::{self, Action, Intake, Outcome};
    let site_exists = |site: String| async move {
        if store.site(&site).await?.is_none() {
            anyhow::bail!("there is no site `{site}`");
        }
        anyhow::Ok(site)
    };
    let print = |r: &yinyom_server::store::RequestRow| {
        println!("reference:      {}", r.reference);
        println!("kind:           {}", r.kind);
        println!("channel:        {}", r.channel);
        println!("status:         {}", r.status);
        println!("subject:        {}", r.subject_id);
        println!(
            "received:       {}",
            yinyom_server::dates::rfc3339_th(r.received_at)
        );
        println!("due:            {} (Thailand time)", r.due);
        for (label, v) in [
            ("identity check", &r.identity_check),
            ("message", &r.message),
            ("contact", &r.contact),
            ("outcome reason", &r.outcome_reason),
        ] {
            if let Some(v) = v {
                println!("{:<15} {v}", format!("{label}:"));
            }
        }
        if let Some(c) = r.closed_at {
            println!("closed:         {}", yinyom_server::dates::rfc3339_th(c));
        }
    };
    match cmd {
        RequestsCommand::Add {
            site,
            subject,
            kind,
            channel,
            identity_check,
            message,
            contact,
            subject_key,
        } => {
            let site = site_exists(site).await?;
            let kind = RequestKind::parse(&kind).ok_or_else(|| {
                anyhow::anyhow!("--kind must be access, portability, objection, erasure, restriction or rectification")
            })?;
            let channel = Channel::parse(&channel)
                .filter(|c| *c != Channel::Web)
                .ok_or_else(|| anyhow::anyhow!("--channel must be post, email or in_person"))?;
            let key = yinyom_server::subjects::SubjectKey::load(&subject_key)?;
            let row = requests::file(
                store,
                &key,
                &site,
                &subject,
                SubjectRequestBody {
                    kind,
                    message,
                    contact,
                },
                Intake::Staff {
                    channel,
                    identity_check: identity_check.as_deref(),
                    actor: "cli",
                    client: "local",
                },
            )
            .await?;
            print(&row);
        }
        RequestsCommand::List { site } => {
            let site = site_exists(site).await?;
            let today =
                yinyom_server::dates::day_name(yinyom_server::dates::thailand_day(now_ms()));
            for r in store.site_requests(&site).await? {
                let open = r.closed_at.is_none();
                let flag = if open && r.due < today {
                    "  OVERDUE"
                } else {
                    ""
                };
                println!(
                    "{}  due {}  {:<16}  {:<13}  {}{flag}",
                    r.reference, r.due, r.status, r.kind, r.channel
                );
            }
        }
        RequestsCommand::Show { site, reference } => {
            let site = site_exists(site).await?;
            let row = store
                .request(&site, &reference)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no request `{reference}` on site `{site}`"))?;
            print(&row);
        }
        RequestsCommand::Check {
            site,
            reference,
            identity_check,
        } => {
            let site = site_exists(site).await?;
            let row = requests::act(
                store,
                &site,
                &reference,
                Action::CheckIdentity(&identity_check),
                "cli",
                "local",
            )
            .await?;
            print(&row);
        }
        RequestsCommand::Close {
            site,
            reference,
            outcome,
            reason,
            keys,
        } => {
            let site = site_exists(site).await?;
            if outcome == "erased" {
                let state = erasing_state(store, keys).await?;
                let (row, done) =
                    requests::close_erased(&state, &site, &reference, "cli", "local").await?;
                println!(
                    "erased: {} receipts (record {}); the log keeps their leaf hashes",
                    done.receipts,
                    done.erasure_id.as_deref().unwrap_or("none")
                );
                print(&row);
                return Ok(());
            }
            let outcome = match outcome.as_str() {
                "answered" => Outcome::Answered,
                "erased" => Outcome::Erased,
                "refused" => Outcome::Refused(
                    reason
                        .as_deref()
                        .and_then(RefusalReason::parse)
                        .ok_or_else(|| {
                            let names: Vec<&str> =
                                RefusalReason::ALL.iter().map(|r| r.as_str()).collect();
                            anyhow::anyhow!(
                                "--outcome refused needs --reason, one of: {} (each kind allows some: the console lists them)",
                                names.join(", ")
                            )
                        })?,
                ),
                other => anyhow::bail!("--outcome must be answered, refused or erased, not `{other}`"),
            };
            let row = requests::act(
                store,
                &site,
                &reference,
                Action::Close(outcome, reason.as_deref()),
                "cli",
                "local",
            )
            .await?;
            print(&row);
        }
    }
    Ok(())
}

/// The server's state for a command that erases (`retention apply`, `requests close
/// --outcome erased`): the same keys `serve` runs with.
async fn erasing_state(
    store: &Store,
    keys: yinyom_server::config::ErasureKeys,
) -> anyhow::Result<yinyom_server::state::AppState> {
    let mut loaded = signing::Keys::load(
        &keys.signing_key,
        &keys.log_key,
        keys.pkcs11_module.as_deref(),
    )?;
    if let Some(path) = &keys.subject_key {
        loaded = loaded.with_subject_key(path)?;
    }
    let settings = yinyom_server::state::Settings {
        public_url: keys.public_url,
        ..Default::default()
    };
    yinyom_server::app_state(store.clone(), settings, &loaded).await
}

/// The key that seals webhook secrets, from the subject key file the server runs with.
fn seal_key(subject_key: &std::path::Path) -> anyhow::Result<webhooks::SealKey> {
    let subjects = yinyom_server::subjects::SubjectKey::load(subject_key)?;
    Ok(webhooks::SealKey::of(&subjects))
}

/// A new password (at least 12 characters, at most the sign-in form's limit), hashed.
fn new_password_hash() -> anyhow::Result<String> {
    let password = read_password()?;
    if password.chars().count() < 12 {
        anyhow::bail!("the password must be at least 12 characters");
    }
    if password.len() > auth::MAX_PASSWORD_BYTES {
        anyhow::bail!(
            "the password must be at most {} bytes",
            auth::MAX_PASSWORD_BYTES
        );
    }
    auth::hash_password(&password).map_err(anyhow::Error::msg)
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

fn read_file(path: &std::path::Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// `receipts verify --vkey F --policy F`: what log proofs are checked against.
fn trust(
    vkey: Option<&std::path::Path>,
    policy: Option<&std::path::Path>,
) -> anyhow::Result<receipts::Trust> {
    Ok(receipts::Trust {
        vkey: vkey
            .map(|p| {
                let text = read_file(p)?;
                log::note::Vkey::parse(text.lines().next().unwrap_or_default())
                    .map_err(|e| anyhow::anyhow!("{}: not a vkey: {e}", p.display()))
            })
            .transpose()?,
        policy: policy
            .map(|p| {
                log::proof::Policy::parse(&read_file(p)?)
                    .map_err(|e| anyhow::anyhow!("{}: not a witness policy: {e}", p.display()))
            })
            .transpose()?,
    })
}

/// `yinyom receipts verify FILE`: prints one line per receipt; fails if any is invalid.
fn verify_file(
    file: &std::path::Path,
    jwks: &signing::Jwks,
    trust: &receipts::Trust,
) -> anyhow::Result<()> {
    let text = if file.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin())?
    } else {
        std::fs::read_to_string(file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?
    };
    let results = receipts::verify_document_with(&text, jwks, trust);
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
