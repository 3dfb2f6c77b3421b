//! The report for people: progress lines, tables per phase, findings, a draft cookie
//! table for `site.toml`. Thai (default) or English.

use crate::Step;
use std::fmt::Write as _;
use yinyom_model::{
    Lang,
    scan::{Finding, PhaseKind, ScanReport, SeenCookie, SetBy},
};

fn t(lang: Lang, th: &'static str, en: &'static str) -> &'static str {
    if lang == Lang::En { en } else { th }
}

/// A phase's name.
pub fn phase_name(kind: PhaseKind, lang: Lang) -> &'static str {
    match kind {
        PhaseKind::BeforeChoice => t(lang, "ก่อนผู้เข้าชมเลือก", "Before any choice"),
        PhaseKind::AfterRejectAll => t(lang, "หลังกด \"ปฏิเสธทั้งหมด\"", "After Reject all"),
        PhaseKind::AfterAcceptAll => t(lang, "หลังกด \"ยอมรับทั้งหมด\"", "After Accept all"),
    }
}

/// One progress line.
pub fn step(s: &Step, lang: Lang) -> String {
    match s {
        Step::Phase(k) => format!(
            "== {} ({}) ==",
            phase_name(*k, lang),
            t(lang, "โปรไฟล์ใหม่", "fresh profile")
        ),
        Step::Page(url) => format!("   {} {url}", t(lang, "เปิดหน้า", "visited")),
        Step::Clicked(a) => format!(
            "   {} `{a}`",
            t(lang, "กดปุ่มแบนเนอร์", "clicked the banner's")
        ),
        Step::Declared(from) => format!(
            "   {} {from}",
            t(lang, "ตารางคุกกี้ที่ประกาศไว้จาก", "declared cookie tables from")
        ),
    }
}

/// A duration in words.
fn lifetime(secs: Option<i64>, lang: Lang) -> String {
    match secs {
        None => t(lang, "จนปิดเบราว์เซอร์", "session").to_owned(),
        Some(s) if s >= 2 * 86_400 => {
            format!("{} {}", (s + 43_200) / 86_400, t(lang, "วัน", "days"))
        }
        Some(s) if s >= 3_600 => format!("{} {}", (s + 1_800) / 3_600, t(lang, "ชม.", "hours")),
        Some(s) => format!("{} {}", s.max(0) / 60, t(lang, "นาที", "min")),
    }
}

fn set_by(s: &SetBy, lang: Lang) -> String {
    match s {
        SetBy::Script { url } => format!(
            "{} {}",
            t(lang, "สคริปต์", "script"),
            url.as_deref().unwrap_or("?")
        ),
        SetBy::Response { url } => format!("{} {url}", t(lang, "การตอบกลับ", "response")),
        SetBy::Unknown => t(lang, "ไม่ทราบ", "unknown").to_owned(),
    }
}

fn flags(c: &SeenCookie) -> String {
    let mut f = Vec::new();
    if c.http_only {
        f.push("HttpOnly".to_owned());
    }
    if c.secure {
        f.push("Secure".to_owned());
    }
    if let Some(s) = &c.same_site {
        f.push(format!("SameSite={s}"));
    }
    f.join(" ")
}

/// Lays out rows in columns (widths by characters; Thai combining marks make some rows a
/// little short, which a terminal forgives).
fn table(out: &mut String, head: &[&str], rows: &[Vec<String>]) {
    let mut w: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let line = |out: &mut String, cells: Vec<&str>| {
        let mut s = String::from("  ");
        for (i, c) in cells.iter().enumerate() {
            s.push_str(c);
            if i + 1 < cells.len() {
                s.push_str(&" ".repeat(w[i] - c.chars().count() + 2));
            }
        }
        out.push_str(s.trim_end());
        out.push('\n');
    };
    line(out, head.to_vec());
    line(
        out,
        w.iter()
            .map(|n| "-".repeat(*n))
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str)
            .collect(),
    );
    for r in rows {
        line(out, r.iter().map(String::as_str).collect());
    }
}

/// The whole report as text.
pub fn report(r: &ScanReport, lang: Lang) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n{} `{}` — {} {} ({} {})",
        t(lang, "ผลการตรวจคุกกี้ของเว็บไซต์", "Cookie scan of site"),
        r.site,
        t(lang, "ประกาศฉบับ", "notice version"),
        r.notice_version,
        t(lang, "จาก", "from"),
        r.declared_from
    );
    let _ = writeln!(out, "{}:", t(lang, "หน้าที่ตรวจ", "Pages"));
    for p in &r.pages {
        let _ = writeln!(out, "  {p}");
    }
    let mark = |violation: bool, category: &Option<String>| -> String {
        match (violation, category) {
            (true, _) => t(lang, "✗ ละเมิด", "✗ violation").to_owned(),
            (false, None) => t(lang, "? ไม่ได้ประกาศ", "? undeclared").to_owned(),
            (false, Some(_)) => "✓".to_owned(),
        }
    };
    for p in &r.phases {
        let _ = writeln!(out, "\n## {}", phase_name(p.kind, lang));
        let violates = |name: &str| {
            r.findings.iter().any(|f| {
                matches!(f, Finding::CookieBeforeConsent { phase, name: n, .. } if *phase == p.kind && n == name)
            })
        };
        let _ = writeln!(out, "{} ({})", t(lang, "คุกกี้", "Cookies"), p.cookies.len());
        let rows: Vec<Vec<String>> = p
            .cookies
            .iter()
            .map(|c| {
                vec![
                    mark(violates(&c.name), &c.category),
                    c.name.clone(),
                    c.domain.clone(),
                    c.category.clone().unwrap_or_else(|| "-".into()),
                    lifetime(c.lifetime_secs, lang),
                    flags(c),
                    set_by(&c.set_by, lang),
                ]
            })
            .collect();
        table(
            &mut out,
            &[
                "",
                t(lang, "ชื่อ", "name"),
                t(lang, "โดเมน", "domain"),
                t(lang, "หมวด", "category"),
                t(lang, "อายุ", "lifetime"),
                t(lang, "คุณสมบัติ", "attributes"),
                t(lang, "ผู้ตั้ง", "set by"),
            ],
            &rows,
        );
        if !p.storage.is_empty() {
            let _ = writeln!(
                out,
                "{} ({})",
                t(lang, "ที่เก็บข้อมูลในเบราว์เซอร์", "Web storage"),
                p.storage.len()
            );
            let rows: Vec<Vec<String>> = p
                .storage
                .iter()
                .map(|s| {
                    let v = r.findings.iter().any(|f| matches!(f, Finding::StorageBeforeConsent { phase, key, .. } if *phase == p.kind && *key == s.key));
                    vec![
                        mark(v, &s.category),
                        s.key.clone(),
                        s.area.clone(),
                        s.origin.clone(),
                        s.category.clone().unwrap_or_else(|| "-".into()),
                    ]
                })
                .collect();
            table(
                &mut out,
                &[
                    "",
                    t(lang, "คีย์", "key"),
                    t(lang, "ชนิด", "area"),
                    t(lang, "ต้นทาง", "origin"),
                    t(lang, "หมวด", "category"),
                ],
                &rows,
            );
        }
        let _ = writeln!(
            out,
            "{} ({})",
            t(lang, "บุคคลที่สามที่ติดต่อ", "Third parties contacted"),
            p.third_parties.len()
        );
        let rows: Vec<Vec<String>> = p
            .third_parties
            .iter()
            .map(|h| {
                vec![
                    if h.allowed {
                        t(lang, "อนุญาต", "allowed").to_owned()
                    } else if p.kind.only_necessary() {
                        t(lang, "✗ ละเมิด", "✗ violation").to_owned()
                    } else {
                        String::new()
                    },
                    h.host.clone(),
                    h.requests.to_string(),
                    h.first_url.clone(),
                    h.initiator.clone().unwrap_or_default(),
                ]
            })
            .collect();
        table(
            &mut out,
            &[
                "",
                t(lang, "โฮสต์", "host"),
                t(lang, "คำขอ", "requests"),
                t(lang, "คำขอแรก", "first request"),
                t(lang, "เริ่มโดย", "started by"),
            ],
            &rows,
        );
    }

    let _ = writeln!(out, "\n## {}", t(lang, "สิ่งที่พบ", "Findings"));
    if r.findings.is_empty() {
        let _ = writeln!(
            out,
            "  {}",
            t(
                lang,
                "ไม่พบสิ่งที่ต่างจากที่ประกาศไว้",
                "Nothing differs from the declaration"
            )
        );
    }
    for f in &r.findings {
        let _ = writeln!(out, "  {}", finding(f, lang));
    }
    let draft = draft_table(r);
    if !draft.is_empty() {
        let _ = writeln!(
            out,
            "\n## {}\n{}\n",
            t(
                lang,
                "ร่างตารางคุกกี้สำหรับ site.toml",
                "Draft cookie table for site.toml"
            ),
            t(
                lang,
                "# ท่านต้องเลือกหมวด (categories) และเขียนวัตถุประสงค์เอง ก่อนวางในไฟล์",
                "# Choose each cookie's category and write its purpose before pasting"
            )
        );
        out.push_str(&draft);
    }
    let v = r.violations();
    let _ = writeln!(
        out,
        "\n{}: {v} {}, {} {}",
        t(lang, "สรุป", "Summary"),
        t(lang, "รายการที่ละเมิด", "violations"),
        r.findings.len() - v,
        t(lang, "ข้อสังเกตอื่น", "other findings")
    );
    out
}

/// One finding in words.
pub fn finding(f: &Finding, lang: Lang) -> String {
    let cat = |c: &Option<String>| -> String {
        match c {
            Some(c) => format!("{} `{c}`", t(lang, "หมวด", "category")),
            None => t(lang, "ไม่ได้ประกาศ", "undeclared").to_owned(),
        }
    };
    match f {
        Finding::CookieBeforeConsent {
            phase,
            name,
            domain,
            category,
        } => format!(
            "✗ {}: {} `{name}` ({domain}, {})",
            phase_name(*phase, lang),
            t(lang, "มีคุกกี้ที่ไม่จำเป็น", "a cookie that is not necessary"),
            cat(category)
        ),
        Finding::StorageBeforeConsent {
            phase,
            key,
            area,
            category,
        } => format!(
            "✗ {}: {} `{key}` ({area}Storage, {})",
            phase_name(*phase, lang),
            t(
                lang,
                "มีข้อมูลในที่เก็บของเบราว์เซอร์ที่ไม่จำเป็น",
                "a storage key that is not necessary"
            ),
            cat(category)
        ),
        Finding::ThirdPartyBeforeConsent {
            phase,
            host,
            first_url,
        } => format!(
            "✗ {}: {} {host} ({first_url})",
            phase_name(*phase, lang),
            t(lang, "ติดต่อบุคคลที่สาม", "contacted a third party")
        ),
        Finding::Undeclared {
            name,
            domain,
            phases,
        } => format!(
            "? {} `{name}` ({domain}) — {}",
            t(lang, "คุกกี้ที่ไม่ได้ประกาศในตาราง", "cookie not in any table"),
            phases
                .iter()
                .map(|p| phase_name(*p, lang))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Finding::NeverSeen { name, category } => format!(
            "· {} `{name}` ({} `{category}`) {}",
            t(lang, "คุกกี้ที่ประกาศไว้", "declared cookie"),
            t(lang, "หมวด", "category"),
            t(
                lang,
                "ไม่พบในหน้าที่ตรวจ",
                "was never seen on the pages scanned"
            )
        ),
        Finding::LongerThanDeclared {
            name,
            declared,
            seen_secs,
            ..
        } => format!(
            "! `{name}`: {} {} ({} \"{declared}\")",
            t(lang, "อยู่นาน", "lives"),
            lifetime(Some(*seen_secs), lang),
            t(lang, "นานกว่าที่ประกาศไว้", "longer than declared")
        ),
        Finding::DurationNotUnderstood { name, declared } => format!(
            "· `{name}`: {} \"{declared}\"",
            t(
                lang,
                "อ่านอายุที่ประกาศไม่ออก จึงไม่ได้ตรวจอายุ",
                "lifetime not checked, cannot read"
            )
        ),
    }
}

fn toml_str(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

/// `[[categories.cookies]]` rows for every cookie no table names, to fill in and paste
/// into `site.toml` under the right category.
pub fn draft_table(r: &ScanReport) -> String {
    let mut out = String::new();
    let mut done: Vec<&str> = Vec::new();
    for p in &r.phases {
        for c in p.cookies.iter().filter(|c| c.category.is_none()) {
            if done.contains(&c.name.as_str()) {
                continue;
            }
            done.push(&c.name);
            let seen: Vec<&str> = r
                .phases
                .iter()
                .filter(|q| q.cookies.iter().any(|k| k.name == c.name))
                .map(|q| phase_name(q.kind, Lang::En))
                .collect();
            let provider = match &c.set_by {
                SetBy::Script { url: Some(u) } | SetBy::Response { url: u } => {
                    crate::compare::host_port(u).unwrap_or_else(|| c.domain.clone())
                }
                _ => c.domain.trim_start_matches('.').to_owned(),
            };
            let (th, en) = match c.lifetime_secs {
                None => (
                    "จนปิดเบราว์เซอร์".to_owned(),
                    "Until you close the browser".to_owned(),
                ),
                Some(s) => {
                    let days = ((s + 43_200) / 86_400).max(1);
                    (format!("{days} วัน"), format!("{days} days"))
                }
            };
            let _ = writeln!(
                out,
                "# {} ({}); seen: {}\n[[categories.cookies]]\nname = {}\nprovider = {}\nduration = {{ th = {}, en = {} }}\npurpose = {{ th = \"…\", en = \"…\" }}\n",
                c.domain,
                set_by(&c.set_by, Lang::En),
                seen.join(", "),
                toml_str(&c.name),
                toml_str(&provider),
                toml_str(&th),
                toml_str(&en),
            );
        }
    }
    out
}
