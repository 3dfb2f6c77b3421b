//! Console accounts: users and the sites they may see, sessions, API tokens, and sign-in
//! throttling.

use super::{Result, Store, now_ms};

/// A console role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, on every site.
    Admin,
    /// Record-level receipts, exports and notices of their sites.
    Dpo,
    /// Aggregated statistics of their sites only.
    Auditor,
    /// A machine client of one site (a token without an account): the consent-check API
    /// only; no console, no record-level browsing.
    Service,
    /// Another government agency that requests records by official letter (access tier
    /// 3): exports of their sites' receipts, capped, each with a purpose and the letter's
    /// number; no browsing, publishing or audit log.
    Agency,
    /// A partner under a contract or MOU (access tier 2): exports of their sites'
    /// receipts, every field, no cap, each with a purpose and the agreement's number; no
    /// browsing, publishing or audit log.
    Partner,
    /// An academic (access tier 4): exports of their sites' receipts with the tier's few
    /// fields only, no cap, each with a purpose and the letter's number; no browsing,
    /// publishing or audit log.
    Academic,
}

impl Role {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Dpo => "dpo",
            Role::Auditor => "auditor",
            Role::Service => "service",
            Role::Agency => "agency",
            Role::Partner => "partner",
            Role::Academic => "academic",
        }
    }

    /// Every role an account can have (`service` is a token's, never an account's).
    pub const ACCOUNT_ROLES: [Role; 6] = [
        Role::Admin,
        Role::Dpo,
        Role::Auditor,
        Role::Partner,
        Role::Agency,
        Role::Academic,
    ];

    /// The agency's own staff (admins and DPOs): they browse records, publish notices and
    /// upload scans; auditors and requesting agencies do not.
    pub fn is_staff(self) -> bool {
        matches!(self, Role::Admin | Role::Dpo)
    }
}

impl TryFrom<String> for Role {
    type Error = String;

    /// Reads a stored name.
    fn try_from(s: String) -> Result<Self, String> {
        match s.as_str() {
            "admin" => Ok(Role::Admin),
            "dpo" => Ok(Role::Dpo),
            "auditor" => Ok(Role::Auditor),
            "service" => Ok(Role::Service),
            "agency" => Ok(Role::Agency),
            "partner" => Ok(Role::Partner),
            "academic" => Ok(Role::Academic),
            other => Err(format!("unknown role `{other}`")),
        }
    }
}

/// A console account.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    /// Id.
    pub id: i64,
    /// E-mail (the sign-in name).
    pub email: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Role.
    #[sqlx(try_from = "String")]
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
    /// The account it acts as, or `service:<site>` for a service token.
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

/// A service token's name and its one site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceToken {
    /// Its name (the audit log's actor is `service:<name>`).
    pub name: String,
    /// The one site it may ask about.
    pub site: String,
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

/// An `accounts` listing row (without the sites).
#[derive(sqlx::FromRow)]
struct ListedUser {
    id: i64,
    email: String,
    #[sqlx(try_from = "String")]
    role: Role,
    created_at: i64,
    disabled_at: Option<i64>,
}

/// An `api_tokens` row with its account's e-mail.
#[derive(sqlx::FromRow)]
struct StoredToken {
    token_hash: String,
    name: String,
    email: String,
    created_at: i64,
    last_used: Option<i64>,
    expires_at: Option<i64>,
    revoked_at: Option<i64>,
}

/// A session's account and CSRF token.
#[derive(sqlx::FromRow)]
struct SessionRow {
    #[sqlx(flatten)]
    user: UserRow,
    csrf: String,
}

/// An API token's account, name and last use.
#[derive(sqlx::FromRow)]
struct TokenUse {
    #[sqlx(flatten)]
    user: UserRow,
    name: String,
    last_used: Option<i64>,
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
        let now = now_ms();
        on_pool!(self, pool => in_transaction!(pool, |tx| {
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
            Ok(id)
        }))
    }

    /// The enabled account with this e-mail.
    pub async fn user_by_email(&self, email: &str) -> Result<Option<UserRow>> {
        let user = on_pool!(self, pool => sqlx::query_as(
            "select id, email, password_hash, role from users where email = $1 and disabled_at is null",
        )
        .bind(email)
        .fetch_optional(pool)
        .await)?;
        Ok(user)
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
        let rows: Vec<ListedUser> = on_pool!(self, pool => sqlx::query_as(
            "select id, email, role, created_at, disabled_at from users order by email",
        )
        .fetch_all(pool)
        .await)?;
        let mut out = Vec::with_capacity(rows.len());
        for u in rows {
            out.push(AccountRow {
                id: u.id,
                email: u.email,
                role: u.role,
                sites: self.user_sites(u.id).await?,
                created_at: u.created_at,
                disabled_at: u.disabled_at,
            });
        }
        Ok(out)
    }

    /// Gives the account with this e-mail `role`, ending its sessions (a new role takes
    /// effect at the next sign-in); false if there is no such account or it already had it.
    pub async fn set_user_role(&self, email: &str, role: Role) -> Result<bool> {
        on_pool!(self, pool => in_transaction!(pool, |tx| {
            let n = sqlx::query("update users set role = $2 where email = $1 and role <> $2")
                .bind(email)
                .bind(role.as_str())
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if n > 0 {
                sqlx::query("delete from sessions where user_id in (select id from users where email = $1)")
                    .bind(email)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(n > 0)
        }))
    }

    /// Disables (ending its sessions at once) or enables an account; false if there is
    /// no such account or it already was.
    pub async fn set_user_disabled(&self, email: &str, disabled: bool) -> Result<bool> {
        let now = now_ms();
        on_pool!(self, pool => in_transaction!(pool, |tx| {
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
            Ok(n > 0)
        }))
    }

    /// Sets an account's password hash and ends its sessions; false if there is no such
    /// account.
    pub async fn set_password(&self, email: &str, password_hash: &str) -> Result<bool> {
        on_pool!(self, pool => in_transaction!(pool, |tx| {
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
            Ok(n > 0)
        }))
    }

    /// Every API token, newest first.
    pub async fn tokens(&self) -> Result<Vec<TokenRow>> {
        let rows: Vec<StoredToken> = on_pool!(self, pool => sqlx::query_as(
            "select t.token_hash, t.name, coalesce(u.email, 'service:' || t.site_id) as email, t.created_at, t.last_used, t.expires_at, t.revoked_at
             from api_tokens t left join users u on u.id = t.user_id order by t.created_at desc, t.token_hash",
        )
        .fetch_all(pool)
        .await)?;
        Ok(rows
            .into_iter()
            .map(|t| TokenRow {
                id: t
                    .token_hash
                    .get(..TOKEN_ID_LEN)
                    .unwrap_or(&t.token_hash)
                    .to_owned(),
                name: t.name,
                email: t.email,
                created_at: t.created_at,
                last_used: t.last_used,
                expires_at: t.expires_at,
                revoked_at: t.revoked_at,
            })
            .collect())
    }

    /// Revokes the token whose id is `id` (see [`TokenRow::id`]); the revoked token, or
    /// `None` if no unrevoked token has that id.
    pub async fn revoke_token(&self, id: &str) -> Result<Option<TokenRow>> {
        let id = id.trim().to_ascii_lowercase();
        if id.len() != TOKEN_ID_LEN || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let now = now_ms();
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
        let now = now_ms();
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
        let now = now_ms();
        let row: Option<SessionRow> = on_pool!(self, pool => sqlx::query_as(
            "select u.id, u.email, u.password_hash, u.role, s.csrf from sessions s
             join users u on u.id = s.user_id
             where s.token_hash = $1 and s.expires_at > $2 and u.disabled_at is null",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(pool)
        .await)?;
        Ok(row.map(|r| (r.user, r.csrf)))
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
        let now = now_ms();
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
        let now = now_ms();
        let row: Option<TokenUse> = on_pool!(self, pool => sqlx::query_as(
            "select u.id, u.email, u.password_hash, u.role, t.name, t.last_used from api_tokens t
             join users u on u.id = t.user_id
             where t.token_hash = $1 and t.revoked_at is null
               and (t.expires_at is null or t.expires_at > $2) and u.disabled_at is null",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(pool)
        .await)?;
        // Note the use at most once a minute: a read-only request stays read-only.
        if row
            .as_ref()
            .is_some_and(|r| r.last_used.is_none_or(|t| t < now - 60_000))
        {
            on_pool!(self, pool => sqlx::query("update api_tokens set last_used = $1 where token_hash = $2")
                .bind(now)
                .bind(token_hash)
                .execute(pool)
                .await
                .map(|_| ()))?;
        }
        Ok(row.map(|r| (r.user, r.name)))
    }

    /// Stores a service token: no account, one site, the consent-check API only (see
    /// [`Role::Service`]); it stops working at `expires_at` (unix ms) if given.
    pub async fn create_service_token(
        &self,
        token_hash: &str,
        name: &str,
        site: &str,
        expires_at: Option<i64>,
    ) -> Result<()> {
        let now = now_ms();
        on_pool!(self, pool => sqlx::query(
            "insert into api_tokens (token_hash, name, created_at, expires_at, role, site_id)
             values ($1, $2, $3, $4, 'service', $5)",
        )
        .bind(token_hash)
        .bind(name)
        .bind(now)
        .bind(expires_at)
        .bind(site)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// The name and site of a working service token, marking it used.
    pub async fn service_token(&self, token_hash: &str) -> Result<Option<ServiceToken>> {
        let now = now_ms();
        let row: Option<(String, String, Option<i64>)> = on_pool!(self, pool => sqlx::query_as(
            "select name, site_id, last_used from api_tokens
             where token_hash = $1 and role = 'service' and site_id is not null
               and revoked_at is null and (expires_at is null or expires_at > $2)",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(pool)
        .await)?;
        // Noted at most once a minute, as for account tokens: a read stays a read.
        if row
            .as_ref()
            .is_some_and(|r| r.2.is_none_or(|t| t < now - 60_000))
        {
            on_pool!(self, pool => sqlx::query("update api_tokens set last_used = $1 where token_hash = $2")
                .bind(now)
                .bind(token_hash)
                .execute(pool)
                .await
                .map(|_| ()))?;
        }
        Ok(row.map(|(name, site, _)| ServiceToken { name, site }))
    }

    /// Claims a sign-in attempt for `key` in one statement, before the password is
    /// checked (so parallel attempts cannot all pass). An attempt counts until
    /// [`Self::login_succeeded`] takes it back; a refused one writes nothing.
    pub async fn claim_login_attempt(&self, key: &str) -> Result<Claim> {
        let now = now_ms();
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
}
