//! SQL of the DPO console: accounts, sessions, tokens, throttling, the audit log, receipt
//! search and statistics.

use super::{Result, Store, StoreError, StoredReceipt, to_u64};
use sqlx::Row;

/// A console role.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, on every site.
    Admin,
    /// Record-level receipts, exports and notices of their sites.
    Dpo,
    /// Aggregated statistics of their sites only.
    Auditor,
}

impl Role {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Dpo => "dpo",
            Role::Auditor => "auditor",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        match s {
            "admin" => Ok(Role::Admin),
            "dpo" => Ok(Role::Dpo),
            "auditor" => Ok(Role::Auditor),
            other => Err(StoreError::Corrupt(format!("unknown role `{other}`"))),
        }
    }
}

/// A console account.
#[derive(Debug, Clone)]
pub struct UserRow {
    /// Id.
    pub id: i64,
    /// E-mail (the sign-in name).
    pub email: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Role.
    pub role: Role,
}

/// A console account as the account list shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AccountRow {
    /// Id.
    pub id: i64,
    /// E-mail.
    pub email: String,
    /// Role.
    pub role: Role,
    /// Sites of a dpo or auditor.
    pub sites: Vec<String>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms, when disabled.
    pub disabled_at: Option<i64>,
}

/// An API token as the token list shows it (never the token itself).
#[derive(Debug, Clone, serde::Serialize)]
pub struct TokenRow {
    /// The first 12 hex digits of the token's SHA-256: what `tokens revoke` takes.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The account it acts as.
    pub email: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms of the last use (noted at most once a minute).
    pub last_used: Option<i64>,
    /// Unix ms after which it no longer works.
    pub expires_at: Option<i64>,
    /// Unix ms, when revoked.
    pub revoked_at: Option<i64>,
}

/// The outcome of [`Store::claim_login_attempt`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// Check the password: this is the n-th attempt counted in the window.
    Go(i64),
    /// Refused: the next attempt is allowed in this many milliseconds.
    Wait(i64),
}

/// Length of a token id (a prefix of the token's hash).
pub const TOKEN_ID_LEN: usize = 12;

/// Sign-in throttling: failures counted within this window…
const THROTTLE_WINDOW_MS: i64 = 15 * 60 * 1000;

/// …and the wait before the next attempt is checked, by the number of attempts counted
/// (the first four: none; then 15 s, 30 s, 1 min, 2 min, and 5 min from the ninth on).
/// Increasing delays rather than a lock: a stranger cannot shut an account out for long,
/// and a guesser gets a dozen tries an hour.
pub fn throttle_delay_ms(attempts: i64) -> i64 {
    match attempts {
        ..=4 => 0,
        5 => 15_000,
        6 => 30_000,
        7 => 60_000,
        8 => 120_000,
        _ => 300_000,
    }
}

/// [`throttle_delay_ms`] as SQL over the integer expression `n`.
fn throttle_delay_sql(n: &str) -> String {
    let steps: Vec<String> = (4..=8)
        .map(|a| format!("when {n} <= {a} then {}", throttle_delay_ms(a)))
        .collect();
    format!(
        "(case {} else {} end)",
        steps.join(" "),
        throttle_delay_ms(9)
    )
}

/// One audit log entry.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditRow {
    /// Id (increasing).
    pub id: i64,
    /// Unix ms.
    pub at: i64,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// Which site.
    pub site_id: Option<String>,
    /// Details (filters, receipt id…).
    pub detail: String,
    /// From where (client address).
    pub client: String,
}

/// A console upload of a site folder waiting for confirmation.
#[derive(Debug, Clone)]
pub struct PendingUpload {
    /// Site id (of the page it was uploaded on).
    pub site_id: String,
    /// `site.toml`.
    pub site_toml: String,
    /// `notice.th.md`, if uploaded.
    pub notice_th: Option<String>,
    /// `notice.en.md`, if uploaded.
    pub notice_en: Option<String>,
}

/// Receipt search filters of the console.
#[derive(Debug, Clone, Default)]
pub struct SearchFilter {
    /// Site id.
    pub site: String,
    /// From (unix ms, inclusive).
    pub from_ms: Option<i64>,
    /// To (unix ms, exclusive).
    pub to_ms: Option<i64>,
    /// Notice version.
    pub notice_version: Option<String>,
    /// Collection method.
    pub method: Option<String>,
    /// Category or purpose id decided…
    pub item: Option<String>,
    /// …granted (true) or denied (false).
    pub granted: Option<bool>,
    /// Subject id.
    pub subject_id: Option<String>,
    /// Receipt id.
    pub receipt_id: Option<String>,
}

impl SearchFilter {
    /// Reads a decision filter: `granted`, `denied`, or `any` / empty for either.
    pub fn decision(v: Option<&str>) -> std::result::Result<Option<bool>, String> {
        match v.map(str::trim) {
            None | Some("" | "any") => Ok(None),
            Some("granted") => Ok(Some(true)),
            Some("denied") => Ok(Some(false)),
            Some(other) => Err(format!(
                "decision must be granted, denied or any, not `{other}`"
            )),
        }
    }
}

/// One day's counts for the statistics.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StatsRow {
    /// Day number since the epoch, in Thailand time (UTC+7).
    pub day: i64,
    /// Notice version.
    pub notice_version: String,
    /// Collection method.
    pub method: String,
    /// Receipts.
    pub count: i64,
}

fn user_of(r: &impl RowLike) -> Result<UserRow> {
    Ok(UserRow {
        id: r.get_i64(0)?,
        email: r.get_string(1)?,
        password_hash: r.get_string(2)?,
        role: Role::parse(&r.get_string(3)?)?,
    })
}

/// Column access shared by both back ends' rows.
trait RowLike {
    fn get_i64(&self, i: usize) -> Result<i64>;
    fn get_string(&self, i: usize) -> Result<String>;
}

impl RowLike for sqlx::sqlite::SqliteRow {
    fn get_i64(&self, i: usize) -> Result<i64> {
        Ok(self.try_get(i)?)
    }
    fn get_string(&self, i: usize) -> Result<String> {
        Ok(self.try_get(i)?)
    }
}

impl RowLike for sqlx::postgres::PgRow {
    fn get_i64(&self, i: usize) -> Result<i64> {
        Ok(self.try_get(i)?)
    }
    fn get_string(&self, i: usize) -> Result<String> {
        Ok(self.try_get(i)?)
    }
}

/// The receipt search as SQL conditions on `receipts r`, with its parameters in order
/// (the same text for both dialects).
fn search_sql(f: &SearchFilter) -> (String, Vec<SearchArg>) {
    let mut sql = String::from("r.site_id = $1");
    let mut args = vec![SearchArg::Text(f.site.clone())];
    let mut push = |cond: &str, arg: SearchArg, args: &mut Vec<SearchArg>| {
        args.push(arg);
        sql.push_str(&cond.replace('?', &format!("${}", args.len())));
    };
    if let Some(v) = f.from_ms {
        push(" and r.issued_at >= ?", SearchArg::Int(v), &mut args);
    }
    if let Some(v) = f.to_ms {
        push(" and r.issued_at < ?", SearchArg::Int(v), &mut args);
    }
    if let Some(v) = &f.notice_version {
        push(
            " and r.notice_version = ?",
            SearchArg::Text(v.clone()),
            &mut args,
        );
    }
    if let Some(v) = &f.method {
        push(" and r.method = ?", SearchArg::Text(v.clone()), &mut args);
    }
    if let Some(v) = &f.subject_id {
        push(
            " and r.subject_id = ?",
            SearchArg::Text(v.clone()),
            &mut args,
        );
    }
    if let Some(v) = &f.receipt_id {
        push(
            " and r.receipt_id = ?",
            SearchArg::Text(v.clone()),
            &mut args,
        );
    }
    if let Some(item) = &f.item {
        // A probe of receipt_decisions' primary key (receipt_id, kind, item) per candidate
        // receipt, newest first: the first page stops after a few dozen probes. Written as
        // a scalar subquery, not EXISTS: PostgreSQL turns EXISTS into a semi-join over every
        // matching decision of the site (300 ms at 1M receipts). (No `d.site_id` either:
        // with it SQLite chose the (site_id, kind, item) index and scanned it per receipt.)
        args.push(SearchArg::Text(item.clone()));
        let mut cond = format!(
            " and (select 1 from receipt_decisions d \
             where d.receipt_id = r.receipt_id and d.kind in ('category', 'purpose') and d.item = ${}",
            args.len()
        );
        if let Some(g) = f.granted {
            args.push(SearchArg::Int(i64::from(g)));
            cond.push_str(&format!(" and d.granted = ${}", args.len()));
        }
        cond.push_str(" limit 1) is not null");
        sql.push_str(&cond);
    }
    (sql, args)
}

/// Thailand's offset from UTC and a day, in milliseconds.
use crate::dates::{DAY_MS, TH_OFFSET_MS};

/// One statement giving the exact number of receipts matching `f` (`cond` and `args` are
/// [`search_sql`]'s). Counting rows would take seconds at millions of receipts, so whole
/// Thailand days come from `receipt_counts` (kept by the log sequencer); receipts not yet
/// in the log, and those in the partial days at the edges of the time range, are counted
/// row by row (few). A subject or receipt id filter is counted directly (it is indexed).
fn total_sql(f: &SearchFilter, cond: &str, args: &[SearchArg]) -> (String, Vec<SearchArg>) {
    let mut args = args.to_vec();
    let exact = format!("select count(*) from receipts r where {cond}");
    if f.subject_id.is_some() || f.receipt_id.is_some() {
        return (exact, args);
    }
    // Whole days [first_day, end_day), and where they start and end.
    let first_day = f
        .from_ms
        .map(|ms| (ms + TH_OFFSET_MS + DAY_MS - 1).div_euclid(DAY_MS));
    let end_day = f.to_ms.map(|ms| (ms + TH_OFFSET_MS).div_euclid(DAY_MS));
    if let (Some(a), Some(b)) = (first_day, end_day)
        && a >= b
    {
        return (exact, args);
    }
    let day_start = |d: i64| d * DAY_MS - TH_OFFSET_MS;
    let arg = |a: SearchArg, args: &mut Vec<SearchArg>| {
        args.push(a);
        format!("${}", args.len())
    };

    let mut counted = String::from("c.site_id = $1");
    if let Some(d) = first_day {
        counted += &format!(" and c.day >= {}", arg(SearchArg::Int(d), &mut args));
    }
    if let Some(d) = end_day {
        counted += &format!(" and c.day < {}", arg(SearchArg::Int(d), &mut args));
    }
    if let Some(v) = &f.notice_version {
        counted += &format!(
            " and c.notice_version = {}",
            arg(SearchArg::Text(v.clone()), &mut args)
        );
    }
    if let Some(m) = &f.method {
        counted += &format!(
            " and c.method = {}",
            arg(SearchArg::Text(m.clone()), &mut args)
        );
    }
    let (item, granted) = match &f.item {
        Some(i) => (i.clone(), f.granted.map_or(-1, i64::from)),
        None => (String::new(), -1),
    };
    counted += &format!(
        " and c.item = {} and c.granted = {}",
        arg(SearchArg::Text(item), &mut args),
        arg(SearchArg::Int(granted), &mut args)
    );
    let mut parts = vec![format!(
        "(select cast(coalesce(sum(c.n), 0) as bigint) from receipt_counts c where {counted})"
    )];
    // Receipts of the whole days that the log has not appended yet: one probe per queued
    // receipt. (A join let PostgreSQL, with a freshly emptied queue and stale statistics,
    // hash-join the whole receipts table: 4 s at 1M; SQLite, without statistics, started
    // from the receipts side.)
    let mut whole = String::new();
    if let Some(d) = first_day {
        whole += &format!(
            " and r.issued_at >= {}",
            arg(SearchArg::Int(day_start(d)), &mut args)
        );
    }
    if let Some(d) = end_day {
        whole += &format!(
            " and r.issued_at < {}",
            arg(SearchArg::Int(day_start(d)), &mut args)
        );
    }
    parts.push(format!(
        "(select count(*) from log_pending p where p.site_id = $1 and \
         (select 1 from receipts r where r.receipt_id = p.receipt_id and {cond}{whole}) is not null)"
    ));
    // The partial days at the edges.
    if let (Some(from), Some(d)) = (f.from_ms, first_day)
        && from < day_start(d)
    {
        let edge = arg(SearchArg::Int(day_start(d)), &mut args);
        parts.push(format!(
            "(select count(*) from receipts r where {cond} and r.issued_at < {edge})"
        ));
    }
    if let (Some(to), Some(d)) = (f.to_ms, end_day)
        && to > day_start(d)
    {
        let edge = arg(SearchArg::Int(day_start(d)), &mut args);
        parts.push(format!(
            "(select count(*) from receipts r where {cond} and r.issued_at >= {edge})"
        ));
    }
    (format!("select {}", parts.join(" + ")), args)
}

#[derive(Debug, Clone)]
enum SearchArg {
    Text(String),
    Int(i64),
}

macro_rules! bind_args {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in $args {
            q = match a {
                SearchArg::Text(t) => q.bind(t.clone()),
                SearchArg::Int(i) => q.bind(*i),
            };
        }
        q
    }};
}

impl Store {
    /// Creates an account with access to `sites`.
    pub async fn create_user(
        &self,
        email: &str,
        password_hash: &str,
        role: Role,
        sites: &[String],
    ) -> Result<i64> {
        let now = super::now_ms();
        let id = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let id: i64 = sqlx::query_scalar(
                "insert into users (email, password_hash, role, created_at) values ($1, $2, $3, $4) returning id",
            )
            .bind(email)
            .bind(password_hash)
            .bind(role.as_str())
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            for site in sites {
                sqlx::query("insert into user_sites (user_id, site_id) values ($1, $2)")
                    .bind(id)
                    .bind(site)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            id
        });
        Ok(id)
    }

    /// The enabled account with this e-mail.
    pub async fn user_by_email(&self, email: &str) -> Result<Option<UserRow>> {
        on_pool!(self, pool => {
            let row = sqlx::query(
                "select id, email, password_hash, role from users where email = $1 and disabled_at is null",
            )
            .bind(email)
            .fetch_optional(pool)
            .await?;
            row.as_ref().map(user_of).transpose()
        })
    }

    /// Whether an account with this e-mail exists (enabled or not).
    pub async fn user_exists(&self, email: &str) -> Result<bool> {
        let n: i64 = on_pool!(self, pool => sqlx::query_scalar(
            "select count(*) from users where email = $1",
        )
        .bind(email)
        .fetch_one(pool)
        .await)?;
        Ok(n > 0)
    }

    /// Every account, by e-mail.
    pub async fn accounts(&self) -> Result<Vec<AccountRow>> {
        let rows = on_pool!(self, pool => {
            sqlx::query("select id, email, role, created_at, disabled_at from users order by email")
                .fetch_all(pool)
                .await?
                .into_iter()
                .map(|r| -> Result<(i64, String, String, i64, Option<i64>)> {
                    Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?))
                })
                .collect::<Result<Vec<_>>>()?
        });
        let mut out = Vec::with_capacity(rows.len());
        for (id, email, role, created_at, disabled_at) in rows {
            out.push(AccountRow {
                id,
                email,
                role: Role::parse(&role)?,
                sites: self.user_sites(id).await?,
                created_at,
                disabled_at,
            });
        }
        Ok(out)
    }

    /// Disables (ending its sessions at once) or enables an account; false if there is
    /// no such account or it already was.
    pub async fn set_user_disabled(&self, email: &str, disabled: bool) -> Result<bool> {
        let now = super::now_ms();
        let changed = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let q = if disabled {
                sqlx::query("update users set disabled_at = $2 where email = $1 and disabled_at is null")
                    .bind(email)
                    .bind(now)
            } else {
                sqlx::query("update users set disabled_at = null where email = $1 and disabled_at is not null")
                    .bind(email)
            };
            let n = q.execute(&mut *tx).await?.rows_affected();
            if disabled {
                sqlx::query("delete from sessions where user_id in (select id from users where email = $1)")
                    .bind(email)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            n > 0
        });
        Ok(changed)
    }

    /// Sets an account's password hash and ends its sessions; false if there is no such
    /// account.
    pub async fn set_password(&self, email: &str, password_hash: &str) -> Result<bool> {
        let changed = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let n = sqlx::query("update users set password_hash = $2 where email = $1")
                .bind(email)
                .bind(password_hash)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            sqlx::query("delete from sessions where user_id in (select id from users where email = $1)")
                .bind(email)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            n > 0
        });
        Ok(changed)
    }

    /// Every API token, newest first.
    pub async fn tokens(&self) -> Result<Vec<TokenRow>> {
        let rows = on_pool!(self, pool => {
            sqlx::query(
                "select t.token_hash, t.name, u.email, t.created_at, t.last_used, t.expires_at, t.revoked_at
                 from api_tokens t join users u on u.id = t.user_id order by t.created_at desc, t.token_hash",
            )
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|r| -> Result<TokenRow> {
                let hash: String = r.try_get(0)?;
                Ok(TokenRow {
                    id: hash.get(..TOKEN_ID_LEN).unwrap_or(&hash).to_owned(),
                    name: r.try_get(1)?,
                    email: r.try_get(2)?,
                    created_at: r.try_get(3)?,
                    last_used: r.try_get(4)?,
                    expires_at: r.try_get(5)?,
                    revoked_at: r.try_get(6)?,
                })
            })
            .collect::<Result<Vec<_>>>()?
        });
        Ok(rows)
    }

    /// Revokes the token whose id is `id` (see [`TokenRow::id`]); the revoked token, or
    /// `None` if no unrevoked token has that id.
    pub async fn revoke_token(&self, id: &str) -> Result<Option<TokenRow>> {
        let id = id.trim().to_ascii_lowercase();
        if id.len() != TOKEN_ID_LEN || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let now = super::now_ms();
        let n = on_pool!(self, pool => sqlx::query(
            "update api_tokens set revoked_at = $2 where substr(token_hash, 1, 12) = $1 and revoked_at is null",
        )
        .bind(&id)
        .bind(now)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        if n == 0 {
            return Ok(None);
        }
        Ok(self.tokens().await?.into_iter().find(|t| t.id == id))
    }

    /// Sites an account may see (empty for an admin, who sees all).
    pub async fn user_sites(&self, user_id: i64) -> Result<Vec<String>> {
        let sites: Vec<String> = on_pool!(self, pool => sqlx::query_scalar(
            "select site_id from user_sites where user_id = $1 order by site_id",
        )
        .bind(user_id)
        .fetch_all(pool)
        .await)?;
        Ok(sites)
    }

    /// Stores a session.
    pub async fn create_session(
        &self,
        token_hash: &str,
        user_id: i64,
        csrf: &str,
        expires_at: i64,
    ) -> Result<()> {
        let now = super::now_ms();
        on_pool!(self, pool => sqlx::query(
            "insert into sessions (token_hash, user_id, csrf, created_at, expires_at) values ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(csrf)
        .bind(now)
        .bind(expires_at)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// The unexpired session with this token hash: its account and CSRF token.
    pub async fn session(&self, token_hash: &str) -> Result<Option<(UserRow, String)>> {
        let now = super::now_ms();
        on_pool!(self, pool => {
            let row = sqlx::query(
                "select u.id, u.email, u.password_hash, u.role, s.csrf from sessions s
                 join users u on u.id = s.user_id
                 where s.token_hash = $1 and s.expires_at > $2 and u.disabled_at is null",
            )
            .bind(token_hash)
            .bind(now)
            .fetch_optional(pool)
            .await?;
            row.map(|r| -> Result<(UserRow, String)> { Ok((user_of(&r)?, r.try_get(4)?)) }).transpose()
        })
    }

    /// Ends a session.
    pub async fn delete_session(&self, token_hash: &str) -> Result<()> {
        on_pool!(self, pool => sqlx::query("delete from sessions where token_hash = $1")
            .bind(token_hash)
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Stores an API token of an account (without expiry).
    pub async fn create_token(&self, token_hash: &str, name: &str, user_id: i64) -> Result<()> {
        self.create_token_expiring(token_hash, name, user_id, None)
            .await
    }

    /// Stores an API token of an account that stops working at `expires_at` (unix ms).
    pub async fn create_token_expiring(
        &self,
        token_hash: &str,
        name: &str,
        user_id: i64,
        expires_at: Option<i64>,
    ) -> Result<()> {
        let now = super::now_ms();
        on_pool!(self, pool => sqlx::query(
            "insert into api_tokens (token_hash, name, user_id, created_at, expires_at) values ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash)
        .bind(name)
        .bind(user_id)
        .bind(now)
        .bind(expires_at)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// The account and name of an API token, marking it used.
    pub async fn token(&self, token_hash: &str) -> Result<Option<(UserRow, String)>> {
        let now = super::now_ms();
        on_pool!(self, pool => {
            let row = sqlx::query(
                "select u.id, u.email, u.password_hash, u.role, t.name, t.last_used from api_tokens t
                 join users u on u.id = t.user_id
                 where t.token_hash = $1 and t.revoked_at is null
                   and (t.expires_at is null or t.expires_at > $2) and u.disabled_at is null",
            )
            .bind(token_hash)
            .bind(now)
            .fetch_optional(pool)
            .await?;
            // Note the use at most once a minute: a read-only request stays read-only.
            let stale = match &row {
                Some(r) => r.try_get::<Option<i64>, _>(5)?.is_none_or(|t| t < now - 60_000),
                None => false,
            };
            if stale {
                sqlx::query("update api_tokens set last_used = $1 where token_hash = $2")
                    .bind(now)
                    .bind(token_hash)
                    .execute(pool)
                    .await?;
            }
            row.map(|r| -> Result<(UserRow, String)> { Ok((user_of(&r)?, r.try_get(4)?)) }).transpose()
        })
    }

    /// Claims a sign-in attempt for `key` in one statement, before the password is
    /// checked (so parallel attempts cannot all pass). An attempt counts until
    /// [`Self::login_succeeded`] takes it back; a refused one writes nothing.
    pub async fn claim_login_attempt(&self, key: &str) -> Result<Claim> {
        let now = super::now_ms();
        let fresh = "login_throttle.last_at < $3";
        let sql = format!(
            "insert into login_throttle (key, failures, last_at, next_at) values ($1, 1, $2, $2)
             on conflict (key) do update set
               failures = case when {fresh} then 1 else login_throttle.failures + 1 end,
               last_at = $2,
               next_at = $2 + case when {fresh} then 0 else {} end
             where login_throttle.next_at <= $2
             returning failures",
            throttle_delay_sql("login_throttle.failures + 1")
        );
        // Keys quiet for a whole window are forgotten (their wait is over, too), so the
        // table holds at most a window's worth of attempts.
        on_pool!(self, pool => sqlx::query("delete from login_throttle where last_at < $1")
            .bind(now - THROTTLE_WINDOW_MS)
            .execute(pool)
            .await
            .map(|_| ()))?;
        let claimed: Option<i64> = on_pool!(self, pool => sqlx::query_scalar(&sql)
            .bind(key)
            .bind(now)
            .bind(now - THROTTLE_WINDOW_MS)
            .fetch_optional(pool)
            .await)?;
        if let Some(n) = claimed {
            return Ok(Claim::Go(n));
        }
        let next: Option<i64> = on_pool!(self, pool => sqlx::query_scalar(
            "select next_at from login_throttle where key = $1",
        )
        .bind(key)
        .fetch_optional(pool)
        .await)?;
        Ok(Claim::Wait(next.map_or(1000, |n| (n - now).max(1000))))
    }

    /// A claimed attempt succeeded: the account's failures are forgotten, and the
    /// address's claim is taken back.
    pub async fn login_succeeded(&self, account_key: &str, address_key: &str) -> Result<()> {
        self.unlock_login(account_key).await?;
        on_pool!(self, pool => sqlx::query(
            "update login_throttle set failures = case when failures > 0 then failures - 1 else 0 end where key = $1",
        )
        .bind(address_key)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// Forgets the failed sign-ins of `key`; whether there were any.
    pub async fn unlock_login(&self, key: &str) -> Result<bool> {
        let n = on_pool!(self, pool => sqlx::query("delete from login_throttle where key = $1")
            .bind(key)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }

    /// Keeps an upload until `expires_at` (unix ms) for its owner to confirm; forgets
    /// expired ones.
    pub async fn put_pending_upload(
        &self,
        id_hash: &str,
        owner_hash: &str,
        upload: &PendingUpload,
        expires_at: i64,
    ) -> Result<()> {
        let now = super::now_ms();
        on_pool!(self, pool => {
            sqlx::query("delete from pending_publications where expires_at <= $1")
                .bind(now)
                .execute(pool)
                .await?;
            sqlx::query(
                "insert into pending_publications
                    (id_hash, owner_hash, site_id, site_toml, notice_th, notice_en, expires_at)
                 values ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(id_hash)
            .bind(owner_hash)
            .bind(&upload.site_id)
            .bind(&upload.site_toml)
            .bind(&upload.notice_th)
            .bind(&upload.notice_en)
            .bind(expires_at)
            .execute(pool)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }

    /// Takes (reads and deletes, at once) the unexpired upload `id_hash` of `owner_hash`
    /// for `site`: a second confirmation finds nothing.
    pub async fn take_pending_upload(
        &self,
        id_hash: &str,
        owner_hash: &str,
        site: &str,
    ) -> Result<Option<PendingUpload>> {
        let now = super::now_ms();
        on_pool!(self, pool => {
            let row = sqlx::query(
                "delete from pending_publications
                 where id_hash = $1 and owner_hash = $2 and site_id = $3 and expires_at > $4
                 returning site_id, site_toml, notice_th, notice_en",
            )
            .bind(id_hash)
            .bind(owner_hash)
            .bind(site)
            .bind(now)
            .fetch_optional(pool)
            .await?;
            row.map(|r| -> Result<PendingUpload> {
                Ok(PendingUpload {
                    site_id: r.try_get(0)?,
                    site_toml: r.try_get(1)?,
                    notice_th: r.try_get(2)?,
                    notice_en: r.try_get(3)?,
                })
            })
            .transpose()
        })
    }

    /// Appends to the audit log.
    pub async fn audit(
        &self,
        actor: &str,
        action: &str,
        site: Option<&str>,
        detail: &str,
        client: &str,
    ) -> Result<()> {
        let now = super::now_ms();
        on_pool!(self, pool => sqlx::query(
            "insert into audit_log (at, actor, action, site_id, detail, client) values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(now)
        .bind(actor)
        .bind(action)
        .bind(site)
        .bind(detail)
        .bind(client)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// Audit entries, newest first, of the given sites (`None`: every entry), before `before_id`.
    pub async fn audit_entries(
        &self,
        sites: Option<&[String]>,
        before_id: Option<i64>,
        limit: i64,
    ) -> Result<Vec<AuditRow>> {
        let mut args = vec![SearchArg::Int(before_id.unwrap_or(i64::MAX))];
        let mut sql = String::from(
            "select id, at, actor, action, site_id, detail, client from audit_log where id < $1",
        );
        if let Some(sites) = sites {
            if sites.is_empty() {
                return Ok(Vec::new());
            }
            let mut marks = Vec::new();
            for site in sites {
                args.push(SearchArg::Text(site.clone()));
                marks.push(format!("${}", args.len()));
            }
            sql.push_str(&format!(" and site_id in ({})", marks.join(", ")));
        }
        args.push(SearchArg::Int(limit));
        sql.push_str(&format!(" order by id desc limit ${}", args.len()));
        let rows = on_pool!(self, pool => {
            bind_args!(sqlx::query(&sql), &args)
                .fetch_all(pool)
                .await?
                .into_iter()
                .map(|r| -> Result<AuditRow> {
                    Ok(AuditRow {
                        id: r.try_get(0)?,
                        at: r.try_get(1)?,
                        actor: r.try_get(2)?,
                        action: r.try_get(3)?,
                        site_id: r.try_get(4)?,
                        detail: r.try_get(5)?,
                        client: r.try_get(6)?,
                    })
                })
                .collect::<Result<Vec<_>>>()?
        });
        Ok(rows)
    }

    /// One page of receipts matching `f`, newest first, after the keyset cursor, and the
    /// total number matching.
    pub async fn search_receipts(
        &self,
        f: &SearchFilter,
        before: Option<(i64, String)>,
        limit: i64,
    ) -> Result<(Vec<StoredReceipt>, i64)> {
        let (cond, args) = search_sql(f);
        let mut page_cond = cond.clone();
        let mut page_args = args.clone();
        if let Some((ms, id)) = &before {
            page_args.push(SearchArg::Int(*ms));
            let a = page_args.len();
            page_args.push(SearchArg::Text(id.clone()));
            let b = page_args.len();
            // The first bound is implied by the second; it lets the index start there.
            page_cond.push_str(&format!(
                " and r.issued_at <= ${a} and (r.issued_at < ${a} or (r.issued_at = ${a} and r.receipt_id < ${b}))"
            ));
        }
        page_args.push(SearchArg::Int(limit));
        let page_sql = format!(
            "select r.receipt_json, r.jws, r.issued_at from receipts r where {page_cond}
             order by r.issued_at desc, r.receipt_id desc limit ${}",
            page_args.len()
        );
        let (count_sql, count_args) = total_sql(f, &cond, &args);
        let (rows, total) = on_pool!(self, pool => {
            let rows = bind_args!(sqlx::query(&page_sql), &page_args)
                .fetch_all(pool)
                .await?
                .into_iter()
                .map(|r| -> Result<(String, String, i64)> { Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)) })
                .collect::<Result<Vec<_>>>()?;
            let total: i64 = bind_args!(sqlx::query_scalar(&count_sql), &count_args)
                .fetch_one(pool)
                .await?;
            (rows, total)
        });
        let receipts = rows
            .into_iter()
            .map(|(json, jws, issued_at_ms)| StoredReceipt::read(json, jws, issued_at_ms))
            .collect::<Result<Vec<_>>>()?;
        Ok((receipts, total))
    }

    /// One page of the receipts matching `f` (every filter of the search), oldest first
    /// ((issue time, id) order), after the keyset cursor `after`: what exports stream.
    pub async fn receipts_page(
        &self,
        f: &SearchFilter,
        after: Option<(i64, String)>,
        limit: i64,
    ) -> Result<Vec<StoredReceipt>> {
        self.export_rows("r.receipt_json, r.jws, r.issued_at", f, after, limit)
            .await?
            .into_iter()
            .map(|(json, jws, issued_at_ms)| StoredReceipt::read(json, jws, issued_at_ms))
            .collect()
    }

    /// [`Self::receipts_page`] without the signatures: each receipt's id, issue time (ms)
    /// and JSON, for exports that do not carry the JWS (half the bytes to read).
    pub async fn receipt_json_page(
        &self,
        f: &SearchFilter,
        after: Option<(i64, String)>,
        limit: i64,
    ) -> Result<Vec<(String, i64, String)>> {
        self.export_rows("r.receipt_id, r.issued_at, r.receipt_json", f, after, limit)
            .await
    }

    async fn export_rows<T>(
        &self,
        columns: &str,
        f: &SearchFilter,
        after: Option<(i64, String)>,
        limit: i64,
    ) -> Result<Vec<T>>
    where
        T: Send
            + Unpin
            + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
            + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
    {
        let (mut cond, mut args) = search_sql(f);
        if let Some((ms, id)) = after {
            args.push(SearchArg::Int(ms));
            let a = args.len();
            args.push(SearchArg::Text(id));
            let b = args.len();
            // The first bound is implied by the second; it lets the index start there.
            cond.push_str(&format!(
                " and r.issued_at >= ${a} and (r.issued_at > ${a} or (r.issued_at = ${a} and r.receipt_id > ${b}))"
            ));
        }
        args.push(SearchArg::Int(limit));
        let sql = format!(
            "select {columns} from receipts r where {cond}
             order by r.issued_at, r.receipt_id limit ${}",
            args.len()
        );
        Ok(on_pool!(self, pool => {
            bind_args!(sqlx::query_as::<_, T>(&sql), &args)
                .fetch_all(pool)
                .await?
        }))
    }

    /// One receipt of a site, and its log position if sequenced.
    pub async fn receipt(
        &self,
        site: &str,
        receipt_id: &str,
    ) -> Result<Option<(StoredReceipt, Option<u64>)>> {
        let row = on_pool!(self, pool => {
            let row = sqlx::query(
                "select r.receipt_json, r.jws, r.issued_at, l.seq
                 from receipts r left join log_leaves l on l.receipt_id = r.receipt_id
                 where r.site_id = $1 and r.receipt_id = $2",
            )
            .bind(site)
            .bind(receipt_id)
            .fetch_optional(pool)
            .await?;
            row.map(|r| -> Result<(String, String, i64, Option<i64>)> {
                Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?))
            })
            .transpose()?
        });
        row.map(|(json, jws, issued_at_ms, seq)| {
            Ok((
                StoredReceipt::read(json, jws, issued_at_ms)?,
                seq.map(to_u64).transpose()?,
            ))
        })
        .transpose()
    }

    /// Receipts per Thailand day, notice version and method, in `[from_ms, to_ms)`.
    pub async fn stats_by_day(
        &self,
        site: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<StatsRow>> {
        let rows = on_pool!(self, pool => {
            sqlx::query(
                "select (issued_at + 25200000) / 86400000 as day, notice_version, method, count(*)
                 from receipts where site_id = $1 and issued_at >= $2 and issued_at < $3
                 group by day, notice_version, method order by day, notice_version, method",
            )
            .bind(site)
            .bind(from_ms)
            .bind(to_ms)
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|r| -> Result<StatsRow> {
                Ok(StatsRow { day: r.try_get(0)?, notice_version: r.try_get(1)?, method: r.try_get(2)?, count: r.try_get(3)? })
            })
            .collect::<Result<Vec<_>>>()?
        });
        Ok(rows)
    }

    /// Granted and denied counts per category or purpose in `[from_ms, to_ms)`.
    pub async fn stats_by_item(
        &self,
        site: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<(String, String, i64, i64)>> {
        let rows = on_pool!(self, pool => {
            sqlx::query(
                "select d.kind, d.item, cast(sum(d.granted) as bigint), cast(count(*) - sum(d.granted) as bigint)
                 from receipt_decisions d join receipts r on r.receipt_id = d.receipt_id
                 where d.site_id = $1 and r.issued_at >= $2 and r.issued_at < $3
                 group by d.kind, d.item order by d.kind, d.item",
            )
            .bind(site)
            .bind(from_ms)
            .bind(to_ms)
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|r| -> Result<(String, String, i64, i64)> {
                Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?))
            })
            .collect::<Result<Vec<_>>>()?
        });
        Ok(rows)
    }
}
