//! yinyom-scan: `yinyom scan URL… --site SITE`, the cookie scanner.
//!
//! Headless Chromium (Debian's `/usr/bin/chromium`, driven through the DevTools protocol
//! by `chromiumoxide`) visits the pages three times, each in a fresh profile: before any
//! choice, after the banner's Reject all, after its Accept all. Each phase records every
//! cookie of the profile (third-party ones too, with who set it), the pages' web-storage
//! keys and the third-party hosts contacted. [`compare`] matches that against the site's
//! declared categories and cookie tables (a site folder, or the server's published
//! notice) and [`render`] prints it. The report's types and matching rules are
//! `yinyom_model::scan`, which the server's console reads too.
//!
//! This crate is separate from the server library so that the server and its tests do not
//! compile the DevTools protocol; only the `yinyom` binary links it.
//!
//! - [`browser`]: Chromium, one profile per phase, the events it reports.
//! - [`declared`]: the declared tables, from a site folder or a server.
//! - [`compare`]: what was seen → phases and findings.
//! - [`render`]: the terminal table (Thai or English), the draft cookie table.

mod browser;
pub mod compare;
pub mod declared;
pub mod render;

use clap::Args;
use std::{path::PathBuf, process::ExitCode};
use yinyom_model::{
    Lang,
    scan::{FORMAT, PhaseKind, ScanReport},
};

/// Scan pages in headless Chromium before any choice, after Reject all and after Accept
/// all, and compare with the declared cookie tables (exit code 1 on a violation, 2 when
/// the scan cannot run).
#[derive(Debug, Clone, Args)]
pub struct ScanArgs {
    /// The pages to scan (each must carry the site's Yinyom tag).
    #[arg(required = true)]
    pub urls: Vec<String>,
    /// The site id the pages' Yinyom tag uses.
    #[arg(long)]
    pub site: String,
    /// Also visit up to N same-origin pages linked from the given ones.
    #[arg(long, default_value_t = 0)]
    pub crawl: usize,
    /// The language of the report: th (default) or en.
    #[arg(long, default_value = "th", value_parser = ["th", "en"])]
    pub lang: String,
    /// Print the report as JSON (for machines) instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Compare with this site folder (its site.toml) instead of the published notice.
    #[arg(long, value_name = "DIR", conflicts_with = "server")]
    pub site_dir: Option<PathBuf>,
    /// Compare with the notice this Yinyom server publishes (default: the server the
    /// pages' tag loads from).
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
    /// A third-party host the site needs before consent (its own CDN, say); contacting it
    /// is listed but is no violation. Repeat for several.
    #[arg(long = "allow-host", value_name = "HOST")]
    pub allow_hosts: Vec<String>,
    /// Also write the JSON report to this file.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The Chromium to run (default: /usr/bin/chromium, else `chromium` on the PATH).
    #[arg(long, env = "YINYOM_CHROMIUM", value_name = "PATH")]
    pub chromium: Option<PathBuf>,
}

impl ScanArgs {
    fn lang(&self) -> Lang {
        Lang::from_tag(&self.lang).unwrap_or(Lang::Th)
    }
}

/// Why a scan could not run. Nothing is reported as complete after one of these.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// No Chromium at the path.
    #[error("Chromium is not installed ({0}): install it with `apt-get install chromium`")]
    NoChromium(String),
    /// Chromium failed.
    #[error("Chromium failed: {0}")]
    Browser(String),
    /// A URL is not an http(s) URL.
    #[error("`{0}` is not an http:// or https:// address")]
    BadUrl(String),
    /// A page could not be loaded.
    #[error("cannot open {0}: {1}")]
    Unreachable(String, String),
    /// A page has no Yinyom tag.
    #[error("{0} has no Yinyom tag (<script src=\"…/v1/sites/SITE/yinyom.js\">)")]
    NoTag(String),
    /// A page's tag is for other sites.
    #[error("{0} uses the Yinyom site {1}, not `{2}`")]
    WrongSite(String, String, String),
    /// The banner's button never appeared.
    #[error("the banner's `{0}` button did not appear within 15 s")]
    NoBanner(String),
    /// The choice did not set the consent cookie.
    #[error("after `{0}` the consent cookie was not set within 15 s")]
    ChoiceNotSaved(String),
    /// The declared tables could not be read.
    #[error("cannot read the declared cookie tables: {0}")]
    Declared(String),
    /// The report could not be written.
    #[error("cannot write {0}: {1}")]
    Output(String, String),
}

impl ScanError {
    /// The message in `lang` (Thai first by default; addresses the reader as ท่าน).
    pub fn message(&self, lang: Lang) -> String {
        if lang == Lang::En {
            return self.to_string();
        }
        match self {
            ScanError::NoChromium(p) => {
                format!("ไม่พบ Chromium ({p}) ท่านติดตั้งได้ด้วยคำสั่ง `apt-get install chromium`")
            }
            ScanError::Browser(e) => format!("Chromium ทำงานผิดพลาด: {e}"),
            ScanError::BadUrl(u) => format!("`{u}` ไม่ใช่ที่อยู่ http:// หรือ https://"),
            ScanError::Unreachable(u, e) => format!("เปิด {u} ไม่ได้: {e}"),
            ScanError::NoTag(u) => {
                format!("หน้า {u} ไม่มีแท็กของยินยอม (<script src=\"…/v1/sites/SITE/yinyom.js\">)")
            }
            ScanError::WrongSite(u, found, want) => {
                format!("หน้า {u} ใช้เว็บไซต์ {found} ในยินยอม ไม่ใช่ `{want}`")
            }
            ScanError::NoBanner(a) => format!("ปุ่ม `{a}` ของแบนเนอร์ไม่ปรากฏภายใน 15 วินาที"),
            ScanError::ChoiceNotSaved(a) => {
                format!("หลังกด `{a}` คุกกี้ความยินยอมไม่ถูกบันทึกภายใน 15 วินาที")
            }
            ScanError::Declared(e) => format!("อ่านตารางคุกกี้ที่ประกาศไว้ไม่ได้: {e}"),
            ScanError::Output(f, e) => format!("เขียน {f} ไม่ได้: {e}"),
        }
    }
}

/// A step of the scan, for the progress lines.
#[derive(Debug, Clone)]
pub enum Step {
    /// A phase starts.
    Phase(PhaseKind),
    /// A page was visited in the current phase.
    Page(String),
    /// The banner's button was clicked.
    Clicked(&'static str),
    /// The declared tables were read from here.
    Declared(String),
}

/// `yinyom scan`: runs the scan, prints the report, and answers the exit code: 0 when
/// clean, 1 on a violation, 2 when the scan could not run.
pub async fn main(args: ScanArgs) -> ExitCode {
    let lang = args.lang();
    let progress = |s: Step| eprintln!("{}", render::step(&s, lang));
    match scan(&args, &progress).await {
        Ok(report) => {
            let json = match serde_json::to_string_pretty(&report) {
                Ok(j) => j,
                Err(e) => {
                    eprintln!("yinyom: {e}");
                    return ExitCode::from(2);
                }
            };
            if let Some(out) = &args.output
                && let Err(e) = std::fs::write(out, &json)
            {
                let e = ScanError::Output(out.display().to_string(), e.to_string());
                eprintln!("yinyom: {}", e.message(lang));
                return ExitCode::from(2);
            }
            if args.json {
                println!("{json}");
            } else {
                print!("{}", render::report(&report, lang));
            }
            ExitCode::from(exit_code(&report))
        }
        Err(e) => {
            eprintln!("yinyom: {}", e.message(lang));
            ExitCode::from(2)
        }
    }
}

/// Scans the pages and compares them with the declared tables.
pub async fn scan(args: &ScanArgs, progress: &dyn Fn(Step)) -> Result<ScanReport, ScanError> {
    let chromium = browser::find_chromium(args.chromium.as_deref())?;
    for u in &args.urls {
        if !(u.starts_with("http://") || u.starts_with("https://")) {
            return Err(ScanError::BadUrl(u.clone()));
        }
    }
    let mut declared = match &args.site_dir {
        Some(dir) => Some(declared::from_dir(dir, &args.site)?),
        None => None,
    };
    let started_at = compare::now_rfc3339();
    let cookie = yinyom_model::cookie::COOKIE_PREFIX.to_owned() + &args.site;

    // Before any choice: also finds the pages to crawl and the Yinyom server.
    progress(Step::Phase(PhaseKind::BeforeChoice));
    let session = browser::Session::start(&chromium).await?;
    let chromium_version = session.version().await;
    let before = async {
        let (pages, facts, server) = discover(&session, args, progress).await?;
        let declared = match declared.take() {
            Some(d) => d,
            None => {
                let from = args.server.clone().unwrap_or_else(|| server.clone());
                declared::from_server(&from, &args.site).await?
            }
        };
        progress(Step::Declared(declared.from.clone()));
        let ctx = compare::Context::new(&args.site, &declared, &facts, &server, &args.allow_hosts);
        let phase = ctx.phase(PhaseKind::BeforeChoice, &session, &facts).await?;
        Ok::<_, ScanError>((pages, declared, ctx, phase))
    }
    .await;
    session.close().await;
    let (pages, declared, ctx, before) = before?;
    let mut phases = vec![before];

    for (kind, action) in [
        (PhaseKind::AfterRejectAll, "reject-all"),
        (PhaseKind::AfterAcceptAll, "accept-all"),
    ] {
        progress(Step::Phase(kind));
        let session = browser::Session::start(&chromium).await?;
        let phase = async {
            session.visit(&pages[0]).await?;
            session.choose(action, &cookie).await?;
            progress(Step::Clicked(action));
            session.forget_requests();
            let mut facts = Vec::new();
            for url in &pages {
                let f = session.visit(url).await?;
                progress(Step::Page(f.href.clone()));
                facts.push(f);
            }
            ctx.phase(kind, &session, &facts).await
        }
        .await;
        session.close().await;
        phases.push(phase?);
    }

    let findings = ctx.findings(&phases);
    Ok(ScanReport {
        format: FORMAT,
        site: args.site.clone(),
        started_at,
        finished_at: compare::now_rfc3339(),
        tool: format!("yinyom {} ({chromium_version})", env!("CARGO_PKG_VERSION")),
        declared_from: declared.from.clone(),
        notice_version: declared.version.clone(),
        pages,
        phases,
        findings,
    })
}

/// Visits the given pages, then up to `--crawl` same-origin pages linked from them;
/// answers the pages, what each showed, and the Yinyom server's origin.
async fn discover(
    session: &browser::Session,
    args: &ScanArgs,
    progress: &dyn Fn(Step),
) -> Result<(Vec<String>, Vec<browser::PageFacts>, String), ScanError> {
    let mut pages: Vec<String> = Vec::new();
    let mut facts = Vec::new();
    let mut to_crawl: Vec<String> = Vec::new();
    let mut server: Option<String> = None;
    for url in &args.urls {
        let f = session.visit(url).await?;
        let origin = check_tag(&f, url, &args.site)?;
        server.get_or_insert(origin);
        progress(Step::Page(f.href.clone()));
        for l in &f.links {
            if to_crawl.len() < args.crawl && !args.urls.contains(l) && !to_crawl.contains(l) {
                to_crawl.push(l.clone());
            }
        }
        pages.push(url.clone());
        facts.push(f);
    }
    for url in &to_crawl {
        let f = session.visit(url).await?;
        check_tag(&f, url, &args.site)?;
        progress(Step::Page(f.href.clone()));
        pages.push(url.clone());
        facts.push(f);
    }
    let server = server.ok_or_else(|| ScanError::NoTag(args.urls.join(" ")))?;
    Ok((pages, facts, server))
}

/// The exit code for a finished scan: 1 when there is a violation, else 0. (A scan that
/// cannot run exits with 2.)
pub fn exit_code(report: &ScanReport) -> u8 {
    u8::from(report.violations() > 0)
}

/// Checks the page carries a Yinyom tag for `site`; answers the Yinyom server's origin.
fn check_tag(f: &browser::PageFacts, url: &str, site: &str) -> Result<String, ScanError> {
    if f.tags.is_empty() {
        return Err(ScanError::NoTag(url.to_owned()));
    }
    let mut found = Vec::new();
    for src in &f.tags {
        let Some((origin, rest)) = src.split_once("/v1/sites/") else {
            continue;
        };
        let id = rest.split('/').next().unwrap_or_default();
        if id == site {
            return Ok(origin.to_owned());
        }
        found.push(format!("`{id}`"));
    }
    Err(ScanError::WrongSite(
        url.to_owned(),
        found.join(", "),
        site.to_owned(),
    ))
}
