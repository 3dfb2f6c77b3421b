//! Test helpers: a real database (a fresh SQLite file, or a fresh PostgreSQL database when
//! `YINYOM_TEST_DATABASE_URL` names a server) and the real router.

#![allow(dead_code, unreachable_pub)]

use axum::{
    Router,
    body::Body,
    http::{Request, Response, header},
};
use http_body_util::BodyExt;
use std::path::{Path, PathBuf};
use tower::ServiceExt;
use yinyom_server::{
    app_state,
    routes::router,
    sites,
    state::{AppState, Settings},
    store::Store,
};

pub mod binary;
pub mod console;
pub mod dump;

pub const ORIGIN: &str = "https://www.demo.go.th";

/// The widget build id of the test app's manifest (the format `cargo xtask dist` makes).
pub const BUILD: &str = "0123456789abcdef";

pub struct TestApp {
    pub state: AppState,
    pub router: Router,
    pub dir: tempfile::TempDir,
}

pub fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/demo-site")
}

/// A fresh, empty store on the database under test.
pub async fn store(dir: &Path) -> Store {
    match std::env::var("YINYOM_TEST_DATABASE_URL") {
        Ok(admin) => Store::connect(&new_database(&admin).await)
            .await
            .expect("connect postgres"),
        Err(_) => Store::connect(&format!("sqlite://{}", dir.join("test.db").display()))
            .await
            .expect("open sqlite"),
    }
}

/// A fresh, empty database of the store under test, not migrated: for tests of the
/// migrations themselves.
pub async fn bare_store(dir: &Path) -> Store {
    match std::env::var("YINYOM_TEST_DATABASE_URL") {
        Ok(admin) => Store::Postgres(
            sqlx::PgPool::connect(&new_database(&admin).await)
                .await
                .expect("connect postgres"),
        ),
        Err(_) => Store::Sqlite(
            sqlx::SqlitePool::connect_with(
                Store::sqlite_options(&format!("sqlite://{}", dir.join("bare.db").display()))
                    .expect("options"),
            )
            .await
            .expect("open sqlite"),
        ),
    }
}

/// The URL of a new, empty PostgreSQL database on the server `admin` names.
async fn new_database(admin: &str) -> String {
    let name = format!("yinyom_test_{}", uuid::Uuid::now_v7().simple());
    let pool = sqlx::PgPool::connect(admin)
        .await
        .expect("admin connection");
    sqlx::query(&format!("create database {name}"))
        .execute(&pool)
        .await
        .expect("create test database");
    let base = admin.rsplit_once('/').map_or(admin, |(b, _)| b);
    format!("{base}/{name}")
}

/// The migrations of `store`'s kind.
async fn migrator(store: &Store) -> sqlx::migrate::Migrator {
    let dir = match store {
        Store::Sqlite(_) => "migrations/sqlite",
        Store::Postgres(_) => "migrations/postgres",
    };
    sqlx::migrate::Migrator::new(Path::new(env!("CARGO_MANIFEST_DIR")).join(dir))
        .await
        .expect("migrations")
}

/// The version of `store`'s migration described as `description` (its file name's words).
pub async fn migration_version(store: &Store, description: &str) -> i64 {
    migrator(store)
        .await
        .migrations
        .iter()
        .find(|m| m.description == description)
        .map(|m| m.version)
        .unwrap_or_else(|| panic!("no migration `{description}`"))
}

/// Runs the migrations of `store`'s kind that `keep` keeps (by version and description).
pub async fn migrate(store: &Store, keep: impl Fn(i64, &str) -> bool) {
    let mut m = migrator(store).await;
    m.migrations = m
        .migrations
        .iter()
        .filter(|x| keep(x.version, &x.description))
        .cloned()
        .collect::<Vec<_>>()
        .into();
    match store {
        Store::Sqlite(pool) => m.run(pool).await.expect("migrate"),
        Store::Postgres(pool) => m.run(pool).await.expect("migrate"),
    }
}

/// The test's receipt and log key files in `dir` (made on first use), as `yinyom serve
/// --signing-key` and `--log-key` take them.
pub fn key_files(dir: &Path) -> (PathBuf, PathBuf) {
    let files = (dir.join("receipt-key.pem"), dir.join("log-key.pem"));
    for f in [&files.0, &files.1] {
        if !f.exists() {
            yinyom_server::signing::keys::generate(&f.display().to_string(), None)
                .expect("key file");
        }
    }
    files
}

/// The test's subject key file in `dir` (made on first use), as `yinyom serve
/// --subject-key` takes it.
pub fn subject_key_file(dir: &Path) -> PathBuf {
    let file = dir.join("subject.key");
    if !file.exists() {
        yinyom_server::subjects::SubjectKey::generate(&file).expect("subject key file");
    }
    file
}

/// The test's subject key (see [`subject_key_file`]).
#[allow(dead_code)]
pub fn subject_key(dir: &Path) -> yinyom_server::subjects::SubjectKey {
    yinyom_server::subjects::SubjectKey::load(&subject_key_file(dir)).expect("subject key")
}

/// The keys of [`key_files`] and [`subject_key_file`], opened.
pub fn keys(dir: &Path) -> yinyom_server::signing::Keys {
    let (receipts, log) = key_files(dir);
    yinyom_server::signing::Keys::load(
        &[receipts.display().to_string()],
        &[log.display().to_string()],
        None,
    )
    .and_then(|k| k.with_subject_key(&subject_key_file(dir)))
    .expect("keys")
}

/// The URL of the app's database, for running the real binary against it.
pub async fn database_url(app: &TestApp) -> String {
    url_of(&app.state.store, app.dir.path()).await
}

/// The URL of `store`, made by [`store`] in `dir`: for a second connection (another
/// "process") or the real binary.
pub async fn url_of(store: &Store, dir: &Path) -> String {
    match store {
        Store::Sqlite(_) => format!("sqlite://{}", dir.join("test.db").display()),
        Store::Postgres(pool) => {
            let name: String = sqlx::query_scalar("select current_database()")
                .fetch_one(pool)
                .await
                .expect("database name");
            let admin = std::env::var("YINYOM_TEST_DATABASE_URL").expect("postgres url");
            let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
            format!("{base}/{name}")
        }
    }
}

/// How many of the demo site's requests (a visitor's request id) have more than one
/// receipt: 0 unless an idempotent retry was written twice.
pub async fn requests_stored_twice(store: &Store) -> i64 {
    let sql = "select count(*) from (select 1 from receipts where site_id = 'demo'
               group by subject_id, request_id having count(*) > 1) twice";
    match store {
        Store::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
        Store::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
    }
    .expect("count requests stored twice")
}

/// The app with the fixture site imported and a widget manifest in place.
pub async fn app() -> TestApp {
    app_with_limit(600, 100).await
}

/// The app, allowing `per_minute` receipt posts per client after a burst of `burst`.
pub async fn app_with_limit(per_minute: u32, burst: u32) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store(dir.path()).await;
    app_on(store, dir, per_minute, burst).await
}

/// The app on `store` (made in `dir`), with the fixture site and a widget manifest.
pub async fn app_on(store: Store, dir: tempfile::TempDir, per_minute: u32, burst: u32) -> TestApp {
    sites::import(&store, &fixture())
        .await
        .expect("import fixture");
    let dist = dir.path().join("dist");
    std::fs::create_dir_all(&dist).expect("dist");
    std::fs::write(
        dist.join("manifest.json"),
        r#"{"build":"0123456789abcdef","js":"0123456789abcdef/yinyom_widget.js","wasm":"0123456789abcdef/yinyom_widget_bg.wasm"}"#,
    )
    .expect("manifest");
    let settings = Settings {
        public_url: "http://yinyom.test".into(),
        widget: yinyom_server::state::WidgetBuild::load(&dist).expect("manifest"),
        dist,
        extra_origins: vec![],
        rate_limit_per_minute: per_minute,
        rate_limit_burst: burst,
        trusted_proxies: 1,
        witnesses: Default::default(),
    };
    let state = app_state(store, settings, &keys(dir.path()))
        .await
        .expect("state");
    TestApp {
        router: router(state.clone()),
        state,
        dir,
    }
}

impl TestApp {
    /// The pseudonym receipts carry for the visitor whose browser holds `secret`.
    #[allow(dead_code)]
    pub fn pseudonym(&self, secret: &str) -> String {
        self.state.subjects.pseudonym(secret)
    }

    pub async fn send(&self, req: Request<Body>) -> Response<Body> {
        self.router.clone().oneshot(req).await.expect("infallible")
    }

    pub async fn get(&self, uri: &str) -> Response<Body> {
        self.send(
            Request::get(uri)
                .header(header::ORIGIN, ORIGIN)
                .body(Body::empty())
                .expect("request"),
        )
        .await
    }

    pub async fn post_json(&self, uri: &str, body: &serde_json::Value) -> Response<Body> {
        self.send(
            Request::post(uri)
                .header(header::ORIGIN, ORIGIN)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))
                .expect("request"),
        )
        .await
    }
}

pub async fn body_json(res: Response<Body>) -> serde_json::Value {
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&bytes)))
}

pub async fn body_text(res: Response<Body>) -> String {
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// A valid receipt request for the fixture site.
pub fn choice(
    request_id: &str,
    subject: &str,
    analytics: bool,
    newsletter: bool,
) -> serde_json::Value {
    serde_json::json!({
        "request_id": request_id,
        "subject_id": subject,
        "notice_version": "v1",
        "consent_revision": 1,
        "method": if analytics && newsletter { "accept_all" } else if !analytics && !newsletter { "reject_all" } else { "save_preferences" },
        "lang": "th",
        "categories": { "analytics": analytics },
        "purposes": { "newsletter": newsletter },
        "page_path": "/services",
        "widget": BUILD
    })
}

pub fn uuid() -> String {
    uuid::Uuid::now_v7().to_string()
}
