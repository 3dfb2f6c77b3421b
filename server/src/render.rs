//! Server-rendered HTML: the public notice page (`/sites/{site}/notice[/{version}]`, the
//! `policyUrl` of receipts).
//!
//! Notice texts are Markdown from the site file. They are rendered with raw HTML turned
//! into plain text, images dropped (a notice must not load third-party content) and only
//! `http`, `https`, `mailto`, `tel`, relative and `#` links kept, so nothing in a site file
//! can inject script into the page.

use crate::{dates, store::VersionRow};
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd, html};
use yinyom_model::{Lang, Text, notice::PublishedNotice, site::Party};

/// Escapes text for HTML content and quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn safe_url(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    match lower.split_once(':') {
        Some((scheme, _))
            if !scheme.contains('/') && !scheme.contains('#') && !scheme.contains('?') =>
        {
            matches!(scheme, "http" | "https" | "mailto" | "tel")
        }
        _ => true,
    }
}

/// Markdown → HTML with no raw HTML, no images and only safe link targets.
pub fn markdown(md: &str) -> String {
    let mut in_image = 0usize;
    let events = Parser::new_ext(md, Options::ENABLE_TABLES).filter_map(|ev| match ev {
        Event::Html(s) | Event::InlineHtml(s) => Some(Event::Text(s)),
        Event::Start(Tag::Image { .. }) => {
            in_image += 1;
            None
        }
        Event::End(TagEnd::Image) => {
            in_image = in_image.saturating_sub(1);
            None
        }
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => {
            let dest_url = if safe_url(&dest_url) {
                dest_url
            } else {
                "#".into()
            };
            Some(Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }))
        }
        other if in_image > 0 => match other {
            Event::Text(t) => Some(Event::Text(t)),
            _ => None,
        },
        other => Some(other),
    });
    let mut out = String::new();
    html::push_html(&mut out, events);
    out
}

struct Words {
    notice: &'static str,
    version: &'static str,
    effective: &'static str,
    revision: &'static str,
    published: &'static str,
    technical: &'static str,
    version_id: &'static str,
    sha256: &'static str,
    superseded: &'static str,
    read_current: &'static str,
    purposes: &'static str,
    basis: &'static str,
    data: &'static str,
    retention: &'static str,
    recipients: &'static str,
    cookies: &'static str,
    required: &'static str,
    optional: &'static str,
    name: &'static str,
    provider: &'static str,
    duration: &'static str,
    purpose: &'static str,
    contacts: &'static str,
    controller: &'static str,
    dpo: &'static str,
    history: &'static str,
    current: &'static str,
    other_lang: &'static str,
}

const TH: Words = Words {
    notice: "ประกาศความเป็นส่วนตัว",
    version: "ฉบับ",
    effective: "มีผลตั้งแต่",
    revision: "รอบความยินยอม (เพิ่มขึ้นเมื่อต้องขอความยินยอมใหม่)",
    published: "เผยแพร่เมื่อ",
    technical: "รายละเอียดทางเทคนิค",
    version_id: "รหัสฉบับ",
    sha256: "ค่าแฮช SHA-256 ของประกาศ (ใช้ตรวจว่าเนื้อหาไม่ถูกแก้ไข)",
    superseded: "ประกาศฉบับนี้ถูกแทนที่แล้ว ฉบับที่ใช้อยู่ในปัจจุบันคือ",
    read_current: "อ่านประกาศฉบับปัจจุบัน",
    purposes: "วัตถุประสงค์และฐานทางกฎหมาย",
    basis: "ฐานทางกฎหมาย",
    data: "ข้อมูลที่ใช้",
    retention: "ระยะเวลาเก็บ",
    recipients: "ผู้รับข้อมูล",
    cookies: "คุกกี้",
    required: "จำเป็น เปิดอยู่เสมอ",
    optional: "เปิดเมื่อท่านเลือกเท่านั้น",
    name: "ชื่อ",
    provider: "ผู้ตั้ง",
    duration: "อายุ",
    purpose: "ใช้เพื่อ",
    contacts: "ติดต่อ",
    controller: "ผู้ควบคุมข้อมูลส่วนบุคคล",
    dpo: "เจ้าหน้าที่คุ้มครองข้อมูลส่วนบุคคล",
    history: "ประกาศทุกฉบับ",
    current: "ฉบับปัจจุบัน",
    other_lang: "English",
};

const EN: Words = Words {
    notice: "Privacy notice",
    version: "Version",
    effective: "Effective from",
    revision: "Consent revision (raised when consent must be asked again)",
    published: "Published",
    technical: "Technical details",
    version_id: "Version id",
    sha256: "SHA-256 hash of the notice (shows the text was not changed)",
    superseded: "This notice has been replaced. The notice in force is",
    read_current: "Read the current notice",
    purposes: "Purposes and legal bases",
    basis: "Legal basis",
    data: "Data used",
    retention: "Kept for",
    recipients: "Recipients",
    cookies: "Cookies",
    required: "Necessary, always on",
    optional: "On only if you choose",
    name: "Name",
    provider: "Set by",
    duration: "Lasts",
    purpose: "Used for",
    contacts: "Contacts",
    controller: "Data controller",
    dpo: "Data protection officer",
    history: "All versions",
    current: "current",
    other_lang: "ไทย",
};

fn list(items: &[Text], lang: Lang) -> String {
    items
        .iter()
        .map(|t| esc(t.get(lang)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn party(title: &str, p: &Party, lang: Lang) -> String {
    let mut s = format!("<h3>{}</h3><p>{}", esc(title), esc(p.name.get(lang)));
    if !p.address.get(lang).is_empty() {
        s += &format!("<br>{}", esc(p.address.get(lang)));
    }
    s += &format!("<br><a href=\"mailto:{e}\">{e}</a>", e = esc(&p.email));
    if !p.phone.is_empty() {
        s += &format!("<br>{}", esc(&p.phone));
    }
    if !p.url.is_empty() && safe_url(&p.url) {
        s += &format!("<br><a href=\"{u}\">{u}</a>", u = esc(&p.url));
    }
    s + "</p>"
}

/// A version label as people read it: "ฉบับกรกฎาคม 2568" for `2025-07`.
fn version_label(w: &Words, version: &str, lang: Lang) -> String {
    let label = dates::year_month(version, lang);
    let space = if lang == Lang::Th && label != version {
        ""
    } else {
        " "
    };
    format!("{}{space}{}", w.version, esc(&label))
}

/// The full notice page of one version, in `lang`, with links to every version
/// (`versions`, newest first). `current`: the page is the site's current notice URL. An
/// older version says at the top that it was replaced, and links the current one.
pub fn notice_page(
    p: &PublishedNotice,
    versions: &[VersionRow],
    lang: Lang,
    current: bool,
) -> String {
    let n = &p.notice;
    let w = if lang == Lang::Th { &TH } else { &EN };
    let other = if lang == Lang::Th { Lang::En } else { Lang::Th };
    let base = format!("/sites/{}/notice", esc(n.site.as_str()));
    let here = if current {
        base.clone()
    } else {
        format!("{base}/{}", esc(&n.version))
    };
    let mut h = String::new();
    h += &format!(
        "<!doctype html><html lang=\"{l}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t} — {site}</title><style>{css}</style></head><body><main>",
        l = lang.code(),
        t = esc(w.notice),
        site = esc(n.site_name.get(lang)),
        css = PAGE_CSS,
    );
    if n.languages.contains(&other) {
        h += &format!(
            "<p class=\"lang\"><a href=\"{here}?lang={o}\" lang=\"{o}\" hreflang=\"{o}\">{label}</a></p>",
            o = other.code(),
            label = w.other_lang
        );
    }
    if let Some(newest) = versions.first().filter(|v| v.version != n.version) {
        h += &format!(
            "<p class=\"superseded\" data-superseded=\"\"><strong>{} {} ({} {})</strong> \
             <a href=\"{base}?lang={l}\">{}</a></p>",
            w.superseded,
            version_label(w, &newest.version, lang),
            w.effective,
            esc(&dates::ymd(&newest.effective_from, lang)),
            w.read_current,
            l = lang.code(),
        );
    }
    h += &format!(
        "<header><p class=\"site\">{}</p><h1>{}</h1><dl class=\"meta\">\
         <dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd></dl>\
         <details class=\"technical\"><summary>{}</summary><dl class=\"meta\">\
         <dt>{}</dt><dd><code>{}</code></dd><dt>{}</dt><dd>{}</dd>\
         <dt>{}</dt><dd><code data-sha256=\"\">{}</code></dd></dl></details></header>",
        esc(n.site_name.get(lang)),
        esc(w.notice),
        w.version,
        esc(&dates::year_month(&n.version, lang)),
        w.effective,
        esc(&dates::ymd(&n.effective_from, lang)),
        w.published,
        esc(&dates::rfc3339(&p.published_at, lang)),
        w.technical,
        w.version_id,
        esc(&n.version),
        w.revision,
        n.consent_revision,
        w.sha256,
        esc(&p.sha256),
    );
    h += &format!("<article>{}</article>", markdown(n.body.get(lang)));

    // Purposes as blocks, not a five-column table: they read on a 320 px phone.
    h += &format!("<section class=\"purposes\"><h2>{}</h2>", w.purposes);
    for pu in &n.purposes {
        h += &format!(
            "<div class=\"purpose\"><h3>{}</h3><p>{}</p><dl class=\"meta\"><dt>{}</dt><dd>{}</dd>",
            esc(pu.title.get(lang)),
            esc(pu.description.get(lang)),
            w.basis,
            esc(pu.legal_basis.label(lang)),
        );
        if !pu.data.is_empty() {
            h += &format!("<dt>{}</dt><dd>{}</dd>", w.data, list(&pu.data, lang));
        }
        h += &format!(
            "<dt>{}</dt><dd>{}</dd>",
            w.retention,
            esc(pu.retention.get(lang))
        );
        if !pu.recipients.is_empty() {
            h += &format!(
                "<dt>{}</dt><dd>{}</dd>",
                w.recipients,
                list(&pu.recipients, lang)
            );
        }
        h += "</dl></div>";
    }
    h += "</section>";

    h += &format!("<section><h2>{}</h2>", w.cookies);
    for c in &n.categories {
        h += &format!(
            "<h3>{} <small>({})</small></h3><p>{}</p>",
            esc(c.title.get(lang)),
            if c.required { w.required } else { w.optional },
            esc(c.description.get(lang))
        );
        if !c.cookies.is_empty() {
            h += &format!(
                "<table><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th>\
                 <th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
                w.name, w.provider, w.duration, w.purpose
            );
            for k in &c.cookies {
                h += &format!(
                    "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    esc(&k.name),
                    esc(k.provider.get(lang)),
                    esc(k.duration.get(lang)),
                    esc(k.purpose.get(lang))
                );
            }
            h += "</tbody></table>";
        }
    }
    h += "</section>";

    h += &format!(
        "<section><h2>{}</h2>{}{}</section>",
        w.contacts,
        party(w.controller, &n.controller, lang),
        party(w.dpo, &n.dpo, lang)
    );

    h += &format!("<nav aria-label=\"{h}\"><h2>{h}</h2><ul>", h = w.history);
    for (i, v) in versions.iter().enumerate() {
        let mark = if i == 0 {
            format!(" ({})", w.current)
        } else {
            String::new()
        };
        let aria = if v.version == n.version {
            " aria-current=\"page\""
        } else {
            ""
        };
        h += &format!(
            "<li><a href=\"{base}/{ver}?lang={l}\"{aria}>{label}</a>{mark} — {eff} {date}</li>",
            ver = esc(&v.version),
            l = lang.code(),
            label = version_label(w, &v.version, lang),
            eff = w.effective,
            date = esc(&dates::ymd(&v.effective_from, lang)),
        );
    }
    h += "</ul></nav></main></body></html>";
    h
}

/// The page's stylesheet: readable at 320 px (no fixed widths, long words wrap, the
/// cookie tables fit), links and the disclosure at least 44 px tall on touch screens.
const PAGE_CSS: &str = "body{margin:0;background:#f6f7f9;color:#1a1a1a;font:17px/1.7 \"Sarabun\",\"Noto Sans Thai\",\"Tahoma\",system-ui,sans-serif}\
main{box-sizing:border-box;max-width:52rem;margin:0 auto;padding:1.5rem;background:#fff;overflow-wrap:anywhere}\
h1{font-size:1.8rem;line-height:1.3;margin:.25rem 0}h2{margin-top:2rem;border-bottom:2px solid #0b4f9c}\
a{color:#0b4f9c}.site{margin:0;color:#444}.lang{text-align:right;margin:0}\
.superseded{margin:0 0 1rem;padding:.75rem 1rem;border:2px solid #9e4a00;border-radius:.5rem;background:#fff4e5}\
.meta{display:grid;grid-template-columns:fit-content(40%) 1fr;gap:.1rem 1rem;margin:.5rem 0;font-size:.9rem}.meta dt{font-weight:600}.meta dd{margin:0;min-width:0}\
details{margin:.5rem 0}summary{cursor:pointer;color:#0b4f9c}\
.purpose{margin:0 0 1rem;padding:.75rem 1rem;border:1px solid #c8ccd2;border-radius:.5rem}.purpose h3{margin:0 0 .25rem}.purpose p{margin:0 0 .5rem}\
table{border-collapse:collapse;width:100%;table-layout:fixed;font-size:.95rem;margin:.5rem 0 1rem}th,td{border:1px solid #c8ccd2;padding:.4rem .5rem;text-align:left;vertical-align:top;overflow-wrap:anywhere}\
thead th{background:#eef2f7}small{color:#444;font-weight:normal}code{overflow-wrap:anywhere}\
@media (max-width:30rem){main{padding:1rem .75rem}h1{font-size:1.5rem}table{font-size:.85rem}th,td{padding:.3rem}.meta{grid-template-columns:1fr}.meta dd{margin-bottom:.25rem}}\
@media (pointer:coarse){.lang a,.superseded a,nav li a{display:inline-block;min-height:44px;line-height:44px}summary{padding:.6rem 0}}";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_cannot_inject_script() {
        let html = markdown(
            "# หัวข้อ\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1)) [ok](https://a.go.th) \
             <img src=x onerror=alert(1)> ![track](https://evil.example/p.gif)\n",
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(html.contains("href=\"https://a.go.th\""), "{html}");
        assert!(html.contains("<h1>หัวข้อ</h1>"), "{html}");
    }

    #[test]
    fn escapes_attribute_breakers() {
        assert_eq!(esc("\"><b>&'"), "&quot;&gt;&lt;b&gt;&amp;&#39;");
    }

    #[test]
    fn only_safe_schemes_pass() {
        for ok in [
            "https://x.go.th",
            "mailto:dpo@x.go.th",
            "tel:1301",
            "/path",
            "#top",
            "page?a=b:c",
        ] {
            assert!(safe_url(ok), "{ok}");
        }
        for bad in [
            "javascript:alert(1)",
            " JavaScript:alert(1)",
            "data:text/html,x",
            "vbscript:x",
        ] {
            assert!(!safe_url(bad), "{bad}");
        }
    }
}
