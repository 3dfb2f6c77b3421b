//! Command line and environment configuration (`yinyom --help`).

use clap::{Args, Parser, Subcommand, ValueEnum};
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

    /// Database connections this process keeps at most (default: 8 for SQLite, 16 for
    /// PostgreSQL). With several processes on one PostgreSQL, keep their sum under its
    /// `max_connections` (docs/OPERATIONS.md).
    #[arg(long, env = "YINYOM_DB_POOL_SIZE", global = true)]
    pub db_pool_size: Option<u32>,

    /// No progress bars and no summary lines on standard error (errors still print).
    /// Progress bars show only on a terminal anyway.
    #[arg(long, short, env = "YINYOM_QUIET", global = true)]
    pub quiet: bool,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The `yinyom` subcommands.
#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per run
pub enum Command {
    /// Run the HTTP server.
    Serve(ServeArgs),
    /// Manage sites.
    #[command(subcommand)]
    Sites(SitesCommand),
    /// The tamper-evident receipt log.
    #[command(subcommand)]
    Log(LogCommand),
    /// Receipt signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Consent receipts.
    #[command(subcommand)]
    Receipts(ReceiptsCommand),
    /// Console accounts.
    #[command(subcommand)]
    Users(UsersCommand),
    /// API tokens for /v1/admin.
    #[command(subcommand)]
    Tokens(TokensCommand),
    /// A site's webhook endpoints (Standard Webhooks).
    #[command(subcommand)]
    Webhooks(WebhooksCommand),
    /// A C2SP tlog-witness, run by another body, that cosigns logs' checkpoints.
    #[command(subcommand)]
    Witness(WitnessCommand),
    /// Retention of consent records (`[retention]` in the site file).
    #[command(subcommand)]
    Retention(RetentionCommand),
    /// Data-subject request cases (PDPA s.30-36).
    #[command(subcommand)]
    Requests(RequestsCommand),
}

/// `yinyom retention …`
#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// Erase the receipts whose consent ended longer ago than the site keeps consent
    /// records (`yinyom serve` does this once a day). The log keeps their leaf hashes
    /// and a signed erasure record, so `yinyom log verify` still passes.
    Apply {
        /// Only print what would be erased, per site; change nothing (needs no keys).
        #[arg(long)]
        dry_run: bool,
        /// A site (repeat for several; default: every site).
        #[arg(long = "site")]
        sites: Vec<String>,
        /// With --dry-run: what would be erased on this date (YYYY-MM-DD, Thailand) or
        /// time (RFC 3339) instead of now.
        #[arg(long, requires = "dry_run", value_parser = parse_time_ms)]
        as_of: Option<i64>,
        /// The keys erasing needs.
        #[command(flatten)]
        keys: ErasureKeys,
    },
}

/// What a command that erases needs beside the database (`retention apply`, `requests close
/// --outcome erased`): the keys `serve` runs with (the erasure record is signed with the
/// receipt key, and waiting receipts are appended to the log first) and the public URL
/// (the log's origin).
#[derive(Debug, Clone, clap::Args)]
pub struct ErasureKeys {
    /// The server's public base URL (the log's origin).
    #[arg(
        long,
        env = "YINYOM_PUBLIC_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub public_url: String,
    /// The receipt signing key (signs the erasure record), as for `serve`.
    #[arg(
        long = "signing-key",
        env = "YINYOM_SIGNING_KEY",
        value_delimiter = ','
    )]
    pub signing_key: Vec<String>,
    /// The log key (appends waiting receipts first), as for `serve`.
    #[arg(long = "log-key", env = "YINYOM_LOG_KEY", value_delimiter = ',')]
    pub log_key: Vec<String>,
    /// The PKCS#11 library for `pkcs11:` keys whose URI has no `module-path`.
    #[arg(long, env = "YINYOM_PKCS11_MODULE")]
    pub pkcs11_module: Option<PathBuf>,
    /// The subject key, as for `serve`.
    #[arg(long = "subject-key", env = "YINYOM_SUBJECT_KEY")]
    pub subject_key: Option<PathBuf>,
}

/// `yinyom requests …`
#[derive(Debug, Subcommand)]
pub enum RequestsCommand {
    /// Enter a request that came by post, e-mail or in person. Prints its reference and
    /// due date.
    Add {
        /// The site.
        #[arg(long)]
        site: String,
        /// The requester's subject id: the secret their browser shows under "My consent",
        /// or the pseudonym printed on their receipt.
        #[arg(long)]
        subject: String,
        /// access, portability, objection, erasure, restriction or rectification.
        #[arg(long)]
        kind: String,
        /// post, email or in_person.
        #[arg(long)]
        channel: String,
        /// How the identity was checked (e.g. "บัตรประชาชน ตรวจที่เคาน์เตอร์"); the case
        /// starts as identity_checked.
        #[arg(long)]
        identity_check: Option<String>,
        /// What the requester asked, in their words.
        #[arg(long)]
        message: Option<String>,
        /// How to reach the requester.
        #[arg(long)]
        contact: Option<String>,
        /// The subject key the server uses (`serve --subject-key`).
        #[arg(long = "subject-key", env = "YINYOM_SUBJECT_KEY")]
        subject_key: PathBuf,
    },
    /// The site's cases: open ones first by due date (OVERDUE marked), then closed ones.
    List {
        /// The site.
        #[arg(long)]
        site: String,
    },
    /// One case in full.
    Show {
        /// The site.
        #[arg(long)]
        site: String,
        /// The case reference, e.g. 2569-000123.
        #[arg(long)]
        reference: String,
    },
    /// Record how the requester's identity was checked.
    Check {
        /// The site.
        #[arg(long)]
        site: String,
        /// The case reference.
        #[arg(long)]
        reference: String,
        /// How the identity was checked.
        #[arg(long)]
        identity_check: String,
    },
    /// Close a case: answered, refused (with a reason PDPA allows: law_or_court_order,
    /// harms_others, legal_claims, public_task, identity_not_established) or erased.
    Close {
        /// The site.
        #[arg(long)]
        site: String,
        /// The case reference.
        #[arg(long)]
        reference: String,
        /// answered, refused or erased.
        #[arg(long)]
        outcome: String,
        /// For refused: the reason; for answered: an optional note.
        #[arg(long)]
        reason: Option<String>,
        /// With `--outcome erased`: the keys erasing needs (as for `serve`).
        #[command(flatten)]
        keys: ErasureKeys,
    },
}

/// `yinyom witness …`
#[derive(Debug, Subcommand)]
pub enum WitnessCommand {
    /// Serve a C2SP tlog-witness (`POST /add-checkpoint`, `GET /vkey`): for each log it
    /// follows it keeps the newest checkpoint it cosigned (in --database-url), checks that
    /// each new one extends it, and cosigns with its own key. Prints its vkey at start.
    Serve(WitnessArgs),
}

/// `yinyom witness serve` options.
#[derive(Debug, Clone, Args)]
pub struct WitnessArgs {
    /// Address to listen on.
    #[arg(long, env = "YINYOM_WITNESS_LISTEN", default_value = "127.0.0.1:8090")]
    pub listen: SocketAddr,
    /// The witness's Ed25519 key: a PKCS#8 PEM file (`yinyom keys generate --out FILE`).
    #[arg(long, env = "YINYOM_WITNESS_KEY")]
    pub key: PathBuf,
    /// The witness's name, e.g. `witness.dga.go.th/1` (no spaces, no `+`).
    #[arg(long, env = "YINYOM_WITNESS_NAME")]
    pub name: String,
    /// A log to follow: its origin and its vkey, as its `/log/vkey` serves it
    /// (`consent.example.go.th/site=consent.example.go.th/site+1234abcd+A…`). Repeatable.
    #[arg(long = "log", required = true)]
    pub logs: Vec<String>,
}

/// `yinyom users …`
#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Add a console account. The password is asked at the prompt, or read from the first
    /// line of standard input when it is not a terminal.
    Add {
        /// E-mail, used to sign in.
        #[arg(long)]
        email: String,
        /// admin (every site), dpo (record-level for its sites), auditor (statistics
        /// only), or a requester of records by access tier: partner (tier 2), agency
        /// (tier 3: five fields, at most 1,000 records an export), academic (tier 4: five
        /// fields, no cap).
        #[arg(long, value_enum)]
        role: RoleArg,
        /// A site this account may see (repeat for several).
        #[arg(long = "site")]
        sites: Vec<String>,
    },
    /// List the accounts: e-mail, role, sites, whether disabled.
    List,
    /// Disable an account: it cannot sign in, and its sessions and tokens stop working
    /// at once.
    Disable {
        /// The account's e-mail.
        #[arg(long)]
        email: String,
    },
    /// Enable a disabled account again (its revoked tokens stay revoked).
    Enable {
        /// The account's e-mail.
        #[arg(long)]
        email: String,
    },
    /// Set an account's password (asked as for `users add`); its sessions end.
    Passwd {
        /// The account's e-mail.
        #[arg(long)]
        email: String,
    },
    /// Forget an account's failed sign-ins, so it may sign in at once.
    Unlock {
        /// The account's e-mail.
        #[arg(long)]
        email: String,
        /// Also forget the failed sign-ins from this client address.
        #[arg(long)]
        address: Option<String>,
    },
}

/// `yinyom tokens …`
#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// Create an API token acting as an account (same role and sites), or with `--role
    /// service --site S` a service token of one site (no account: the consent-check API
    /// only). Shown once.
    Create {
        /// The account's e-mail (not with `--role service`).
        #[arg(long, required_unless_present = "role", conflicts_with = "role")]
        email: Option<String>,
        /// `service`: a token for an agency's back-office system, without an account.
        #[arg(long, value_enum, requires = "site")]
        role: Option<TokenRoleArg>,
        /// The one site of a service token.
        #[arg(long, requires = "role")]
        site: Option<String>,
        /// A name for the token (shown in the audit log).
        #[arg(long)]
        name: String,
        /// Days until the token stops working (default: until revoked).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=3650))]
        expires_in_days: Option<u32>,
    },
    /// List the tokens (id, name, account, last use, expiry); never the tokens themselves.
    List,
    /// Revoke a token at once.
    Revoke {
        /// The token's id, as `tokens list` shows it.
        id: String,
    },
}

/// `yinyom webhooks …`
#[derive(Debug, Subcommand)]
pub enum WebhooksCommand {
    /// Add an endpoint: the site's events (`consent.recorded`, `consent.withdrawn`,
    /// `request.created`, `request.closed`) are posted to it, signed. Prints the
    /// endpoint's `whsec_…` secret, once.
    Add {
        /// The site.
        #[arg(long)]
        site: String,
        /// Where to post (https://…, or http:// on an internal network).
        #[arg(long)]
        url: String,
        /// The subject key the server runs with (`serve --subject-key`): the secret is
        /// stored sealed under a key derived from it.
        #[arg(long = "subject-key", env = "YINYOM_SUBJECT_KEY")]
        subject_key: PathBuf,
    },
    /// Give an endpoint a new secret and print it, once. The old secret keeps signing
    /// beside it (two signatures per delivery) for the overlap, so the receiving system
    /// can switch without missing an event.
    Rotate {
        /// The site.
        #[arg(long)]
        site: String,
        /// The endpoint's id, as `webhooks list` shows it.
        #[arg(long)]
        id: i64,
        /// Hours the old secret keeps signing too (0: it stops at once).
        #[arg(long, default_value_t = 24, value_parser = clap::value_parser!(u32).range(0..=720))]
        overlap_hours: u32,
        /// The subject key the server runs with (`serve --subject-key`).
        #[arg(long = "subject-key", env = "YINYOM_SUBJECT_KEY")]
        subject_key: PathBuf,
    },
    /// List a site's endpoints (id, URL, added, removed); never their secrets.
    List {
        /// The site (default: every site).
        #[arg(long)]
        site: Option<String>,
    },
    /// Remove an endpoint: nothing more is sent to it; its pending deliveries are given up.
    Remove {
        /// The site.
        #[arg(long)]
        site: String,
        /// The endpoint's id, as `webhooks list` shows it.
        #[arg(long)]
        id: i64,
    },
}

/// `yinyom log …`
#[derive(Debug, Subcommand)]
pub enum LogCommand {
    /// Recompute a site's log from its receipts and check every signed checkpoint; names any
    /// receipt that was edited, deleted or reordered. Exits non-zero if anything is wrong.
    Verify {
        /// Site id.
        #[arg(long)]
        site: String,
        /// A checkpoint note kept outside the database (exactly as served at
        /// `…/log/checkpoint`): the log must still contain its tree.
        #[arg(long)]
        checkpoint: Option<PathBuf>,
        /// The log's vkey (as served at `…/log/vkey`) to check `--checkpoint` with; without
        /// it, the log keys in the database.
        #[arg(long, requires = "checkpoint")]
        vkey: Option<PathBuf>,
        /// A witness of the log, `VKEY=URL` as `serve --witness` takes it (repeatable;
        /// by default the configured witnesses, YINYOM_WITNESSES): the newest checkpoint
        /// it cosigned is fetched, its cosignature checked, and the log must still
        /// contain its tree.
        #[arg(long = "witness", env = "YINYOM_WITNESSES", value_delimiter = ',')]
        witnesses: Vec<String>,
        /// The server's public base URL, for the log's origin asked of the witnesses
        /// (default: the origin of the newest checkpoint in the database).
        #[arg(long, env = "YINYOM_PUBLIC_URL")]
        public_url: Option<String>,
    },
    /// Append pending receipts to the site's log now and sign a checkpoint
    /// (`yinyom serve` does this every second).
    Checkpoint {
        /// Site id.
        #[arg(long)]
        site: String,
        /// The server's public base URL: the log's origin is its host and the site id.
        #[arg(
            long,
            env = "YINYOM_PUBLIC_URL",
            default_value = "http://127.0.0.1:8080"
        )]
        public_url: String,
        /// The log key, as for `serve --log-key`.
        #[arg(
            long = "log-key",
            env = "YINYOM_LOG_KEY",
            value_delimiter = ',',
            required = true
        )]
        log_key: Vec<String>,
        /// The PKCS#11 library for `pkcs11:` keys whose URI has no `module-path`.
        #[arg(long, env = "YINYOM_PKCS11_MODULE")]
        pkcs11_module: Option<PathBuf>,
    },
}

/// `yinyom keys …`
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Make a new Ed25519 key: a PKCS#8 PEM file (mode 0600; an existing file is never
    /// overwritten) or, for a `pkcs11:` URI, a key pair inside the HSM (the private key
    /// cannot be extracted). Prints its public key and key id. Needs no database.
    Generate {
        /// A file path, or a `pkcs11:` URI (RFC 7512) naming the token and the new key's
        /// label (`object=`), with `pin-source=FILE`.
        #[arg(long)]
        out: String,
        /// Also print the key's C2SP signed-note verifier key (vkey) under this name
        /// (e.g. the log's origin, or a witness's name).
        #[arg(long)]
        name: Option<String>,
        /// The PKCS#11 library for a `pkcs11:` URI without `module-path`.
        #[arg(long, env = "YINYOM_PKCS11_MODULE")]
        pkcs11_module: Option<PathBuf>,
    },
    /// Make a new subject key (32 random bytes, hexadecimal, mode 0600; an existing file
    /// is never overwritten) for `serve --subject-key`. Keep it with the signing keys and
    /// back it up: without it, visitors can no longer reach their history.
    GenerateSubject {
        /// The new file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Register the next key: its public key is published in the JWKS at once and it
    /// signs 6 minutes later (after every cached copy of the JWKS has it); the current
    /// key's validity period ends then. Give every server the new key (`serve
    /// --signing-key CURRENT --signing-key NEXT`) before running this.
    Rotate {
        /// The new key (a file or `pkcs11:` URI, as `serve --signing-key` takes it): it
        /// is opened to read its public key and prove it signs.
        #[arg(long)]
        key: String,
        /// Rotate the log checkpoint key (`serve --log-key`) instead of the receipt key.
        #[arg(long)]
        log: bool,
        /// After a key compromise: the new key signs within 5 seconds. Verifiers holding
        /// a cached JWKS may not know it for up to 5 minutes.
        #[arg(long)]
        now: bool,
        /// The PKCS#11 library for a `pkcs11:` URI without `module-path`.
        #[arg(long, env = "YINYOM_PKCS11_MODULE")]
        pkcs11_module: Option<PathBuf>,
    },
    /// List the registered keys: what each signs and its validity period.
    List,
    /// Upgrade from a version that kept private keys in the database: write each stored
    /// seed as a PEM file in DIR (mode 0600) and delete it from the database.
    Export {
        /// Folder for the key files (created if missing).
        #[arg(long)]
        out_dir: PathBuf,
    },
}

/// `yinyom receipts …`
#[derive(Debug, Subcommand)]
pub enum ReceiptsCommand {
    /// Verify receipts offline: FILE holds `{"receipt":…,"jws":…,"proof":…}` objects (one
    /// JSON document or JSON Lines, as exported or as a visitor's bundles) or bare compact
    /// JWS strings, one per line. An entry's `proof` (C2SP tlog-proof) is checked too.
    Verify {
        /// The receipts file (`-` for standard input).
        file: PathBuf,
        /// A JWKS file (as served at /.well-known/jwks.json). Without it, the keys in the
        /// database are used.
        #[arg(long)]
        jwks: Option<PathBuf>,
        /// The log's vkey file (as served at /v1/sites/{site}/log/vkey): a proof's
        /// checkpoint must be signed by it.
        #[arg(long)]
        vkey: Option<PathBuf>,
        /// The witness policy file (C2SP tlog-policy, as served at
        /// /v1/sites/{site}/log/policy): a proof's checkpoint must be signed by its log
        /// and cosigned by its quorum of witnesses.
        #[arg(long)]
        policy: Option<PathBuf>,
    },
    /// Export a site's receipts, streamed (bounded memory), oldest first, with the
    /// console search's filters.
    Export(Box<ExportArgs>),
}

/// `yinyom receipts export` options.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Site id.
    #[arg(long)]
    pub site: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "jsonl")]
    pub format: crate::export::Format,
    /// From this time: RFC 3339, or a date YYYY-MM-DD (00:00 Thailand time), inclusive.
    #[arg(long)]
    pub from: Option<String>,
    /// Up to this time: RFC 3339, or a date YYYY-MM-DD (00:00 Thailand time), exclusive.
    #[arg(long)]
    pub to: Option<String>,
    /// Only receipts given under this notice version.
    #[arg(long)]
    pub notice_version: Option<String>,
    /// Only this visitor's receipts (their subject id): for a data subject's request.
    #[arg(long)]
    pub subject: Option<String>,
    /// Only the receipt with this id.
    #[arg(long)]
    pub receipt: Option<String>,
    /// Only receipts of this method (accept_all, reject_all, save_preferences, withdraw).
    #[arg(long)]
    pub method: Option<String>,
    /// Only receipts that decided this category or purpose id…
    #[arg(long)]
    pub item: Option<String>,
    /// …with this decision: granted, denied or any (with --item).
    #[arg(long, requires = "item")]
    pub decision: Option<String>,
    /// Write to this file instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Public base URL of the server (for the JWKS reference in Kantara receipts).
    #[arg(
        long,
        env = "YINYOM_PUBLIC_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub public_url: String,
    /// Language of a CSV's column labels and decisions: th or en.
    #[arg(long, default_value = "en", value_parser = parse_lang)]
    pub lang: yinyom_model::Lang,
}

/// Reads `--lang`: th or en.
fn parse_lang(s: &str) -> Result<yinyom_model::Lang, String> {
    yinyom_model::Lang::from_tag(s).ok_or_else(|| format!("`{s}` is not th or en"))
}

/// Reads `--from`/`--to`: RFC 3339, or YYYY-MM-DD meaning midnight in Thailand (UTC+7).
pub fn parse_time_ms(s: &str) -> Result<i64, String> {
    use time::{OffsetDateTime, format_description::well_known::Rfc3339};
    let t = if yinyom_model::site::is_date(s) {
        OffsetDateTime::parse(&format!("{s}T00:00:00+07:00"), &Rfc3339)
    } else {
        OffsetDateTime::parse(s, &Rfc3339)
    }
    .map_err(|_| format!("`{s}` is not a date (YYYY-MM-DD) or an RFC 3339 time"))?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).map_err(|e| e.to_string())
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

    /// Demo only, with `--pages`: a file of `site secret` lines (the secrets `webhooks add`
    /// printed). The pages server then also receives those sites' webhooks at
    /// `/_webhooks/{site}`, checks their signatures, and shows them at `/_webhooks`.
    #[arg(long, env = "YINYOM_PAGES_WEBHOOK_SECRETS", requires = "pages")]
    pub pages_webhook_secrets: Option<PathBuf>,

    /// Receipt posts allowed per client address per minute (0: no limit). Per process.
    #[arg(long, env = "YINYOM_RATE_LIMIT", default_value_t = 60)]
    pub rate_limit: u32,

    /// Receipt posts a client may send at once before the per-minute rate applies.
    #[arg(long, env = "YINYOM_RATE_BURST", default_value_t = 20)]
    pub rate_burst: u32,

    /// Behind N reverse proxies that each append the address they received the request
    /// from to X-Forwarded-For: the client address is the N-th entry from the right
    /// (entries further left are written by the client and ignored). 0: use the peer.
    #[arg(long, env = "YINYOM_TRUSTED_PROXIES", default_value_t = 0)]
    pub trusted_proxies: u8,

    /// The same as `--trusted-proxies 1` (kept for existing setups).
    #[arg(long, env = "YINYOM_TRUST_FORWARDED_FOR")]
    pub trust_forwarded_for: bool,

    /// Seconds a client has to send a request's head (line and headers); also how long an
    /// idle keep-alive connection stays open.
    #[arg(long, env = "YINYOM_HEADER_TIMEOUT_SECS", default_value_t = 10)]
    pub header_timeout_secs: u64,

    /// Seconds a client has to send a request's body.
    #[arg(long, env = "YINYOM_BODY_TIMEOUT_SECS", default_value_t = 30)]
    pub body_timeout_secs: u64,

    /// The receipt signing key: an Ed25519 PKCS#8 PEM file (mode 0600, from `yinyom keys
    /// generate`) or a `pkcs11:` URI (RFC 7512) of a key in an HSM. Give it twice during a
    /// rotation (the current key and the next one); each signs within its validity period.
    #[arg(
        long = "signing-key",
        env = "YINYOM_SIGNING_KEY",
        value_delimiter = ',',
        required = true
    )]
    pub signing_key: Vec<String>,

    /// The log checkpoint key (a file or `pkcs11:` URI, as `--signing-key`); never the
    /// same key as `--signing-key`.
    #[arg(
        long = "log-key",
        env = "YINYOM_LOG_KEY",
        value_delimiter = ',',
        required = true
    )]
    pub log_key: Vec<String>,

    /// The subject key: 32 random bytes in hexadecimal (mode 0600, from `yinyom keys
    /// generate-subject`). Visitors' secrets are kept only as HMAC-SHA256 pseudonyms
    /// under this key; never stored in the database.
    #[arg(long = "subject-key", env = "YINYOM_SUBJECT_KEY")]
    pub subject_key: PathBuf,

    /// The PKCS#11 library for `pkcs11:` keys whose URI has no `module-path`, e.g.
    /// /usr/lib/softhsm/libsofthsm2.so.
    #[arg(long, env = "YINYOM_PKCS11_MODULE")]
    pub pkcs11_module: Option<PathBuf>,

    /// Seconds between log checkpoints (pending receipts are appended in one batch; each
    /// new checkpoint is then submitted to the witnesses).
    #[arg(
        long,
        alias = "checkpoint-interval",
        env = "YINYOM_CHECKPOINT_SECS",
        default_value_t = 1
    )]
    pub checkpoint_secs: u64,

    /// Seconds between the background self-checks: every site's store is checked as
    /// `yinyom log verify` does, and disagreement is logged and shown in `/metrics`
    /// (`yinyom_store_consistent{site}`). Each check reads the whole log: on a large
    /// store keep it at an hour or more. 0: off.
    #[arg(long, env = "YINYOM_SELF_CHECK_INTERVAL", default_value_t = 3600)]
    pub self_check_interval: u64,

    /// A witness that cosigns the log's checkpoints: its vkey (as `yinyom witness serve`
    /// prints it) and its URL, `VKEY=URL`. Repeatable; comma-separated in the environment.
    #[arg(long = "witness", env = "YINYOM_WITNESSES", value_delimiter = ',')]
    pub witnesses: Vec<String>,

    /// How many of the witnesses must cosign a checkpoint before it is served
    /// (default: 1).
    #[arg(long, env = "YINYOM_WITNESS_QUORUM")]
    pub witness_quorum: Option<usize>,
}

/// A console role as `users add --role` takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    /// Everything, on every site.
    Admin,
    /// Record-level receipts, exports and notices of their sites.
    Dpo,
    /// Aggregated statistics of their sites only.
    Auditor,
    /// A contract or MOU partner (tier 2): exports of their sites' receipts.
    Partner,
    /// Another government agency (tier 3): capped exports of a few fields.
    Agency,
    /// An academic (tier 4): exports of a few fields, no cap.
    Academic,
}

/// The role of a token made without an account (`tokens create --role`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TokenRoleArg {
    /// The consent-check API of one site; no console, no record-level browsing.
    Service,
}

impl From<RoleArg> for crate::store::Role {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Admin => Self::Admin,
            RoleArg::Dpo => Self::Dpo,
            RoleArg::Auditor => Self::Auditor,
            RoleArg::Partner => Self::Partner,
            RoleArg::Agency => Self::Agency,
            RoleArg::Academic => Self::Academic,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Role;

    #[test]
    fn users_add_takes_every_role_by_its_stored_name() {
        for role in Role::ACCOUNT_ROLES {
            let cli = Cli::try_parse_from([
                "yinyom",
                "users",
                "add",
                "--email",
                "dpo@example.go.th",
                "--role",
                role.as_str(),
            ])
            .expect("parses");
            let Command::Users(UsersCommand::Add { role: arg, .. }) = cli.command else {
                panic!("users add")
            };
            assert_eq!(Role::from(arg), role);
        }
        assert!(
            Cli::try_parse_from(["yinyom", "users", "add", "--email", "a@b", "--role", "root"])
                .is_err()
        );
    }
}
