//! The example sites in `examples/` (every folder with a `site.toml`, and its `v2/`): each
//! one validates, and its notice names no third party or country that its site file does
//! not list. The site file is the one source of truth: a purpose's `recipients` and a
//! cookie's `provider` list who receives data and where; the notice texts (`notice.*.md`
//! and every other text in `site.toml`: summary, descriptions, retention, cookie purposes…)
//! may only repeat them.

use serde_json::Value;
use std::path::{Path, PathBuf};
use yinyom_model::site::SiteFile;
use yinyom_server::sites::read_site_dir;

/// Countries other than Thailand, by the spellings a notice would use (Latin spellings
/// match whole words, Thai ones anywhere).
const COUNTRIES: &[(&str, &[&str])] = &[
    ("United States", &["United States", "USA", "U.S.", "สหรัฐ"]),
    ("Japan", &["Japan", "ญี่ปุ่น"]),
    ("Singapore", &["Singapore", "สิงคโปร์"]),
    ("Ireland", &["Ireland", "ไอร์แลนด์"]),
    ("Netherlands", &["Netherlands", "เนเธอร์แลนด์"]),
    ("Germany", &["Germany", "เยอรมนี"]),
    ("France", &["France", "ฝรั่งเศส"]),
    ("United Kingdom", &["United Kingdom", "สหราชอาณาจักร"]),
    ("European Union", &["European Union", "สหภาพยุโรป"]),
    ("China", &["China", "ประเทศจีน"]),
    ("Hong Kong", &["Hong Kong", "ฮ่องกง"]),
    ("Taiwan", &["Taiwan", "ไต้หวัน"]),
    ("Korea", &["Korea", "เกาหลี"]),
    ("India", &["India", "อินเดีย"]),
    ("Australia", &["Australia", "ออสเตรเลีย"]),
    ("Malaysia", &["Malaysia", "มาเลเซีย"]),
    ("Indonesia", &["Indonesia", "อินโดนีเซีย"]),
    ("Vietnam", &["Vietnam", "Viet Nam", "เวียดนาม"]),
];

/// Third parties a web page commonly sends visitors' data to. (A page may still name an
/// agency's own channel on a platform, e.g. "LINE: @iiindustry": the company names and
/// the data services are what count as recipients here.)
const RECIPIENTS: &[(&str, &[&str])] = &[
    ("Google", &["Google", "กูเกิล"]),
    ("YouTube", &["YouTube", "ยูทูบ"]),
    (
        "Meta",
        &["Meta Platforms", "Facebook Pixel", "Instagram", "WhatsApp"],
    ),
    (
        "LINE",
        &[
            "LINE Corporation",
            "LY Corporation",
            "LINE Official Account",
            "LINE OA",
        ],
    ),
    ("Microsoft", &["Microsoft", "Azure", "Clarity", "ไมโครซอฟท์"]),
    ("Amazon", &["Amazon", "AWS"]),
    ("Cloudflare", &["Cloudflare"]),
    ("TikTok", &["TikTok", "ByteDance"]),
    ("X", &["Twitter", "X Corp"]),
    ("Hotjar", &["Hotjar"]),
    ("Adobe", &["Adobe"]),
    ("Oracle", &["Oracle"]),
    ("Akamai", &["Akamai"]),
    ("Alibaba", &["Alibaba"]),
    ("Huawei", &["Huawei"]),
];

/// The texts of one example folder.
struct Example {
    dir: PathBuf,
    site_toml: String,
    notices: Vec<(String, String)>,
}

fn read(dir: &Path) -> Example {
    let site_toml = std::fs::read_to_string(dir.join("site.toml")).expect("site.toml");
    let notices = ["notice.th.md", "notice.en.md"]
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(dir.join(f)).expect("notice file");
            ((*f).to_owned(), text)
        })
        .collect();
    Example {
        dir: dir.to_owned(),
        site_toml,
        notices,
    }
}

/// Every example folder: `examples/*` and `examples/*/v2`.
fn examples() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut dirs = Vec::new();
    for entry in std::fs::read_dir(&root).expect("examples/") {
        let dir = entry.expect("entry").path();
        if dir.join("site.toml").is_file() {
            for sub in std::fs::read_dir(&dir).expect("example folder") {
                let sub = sub.expect("entry").path();
                if sub.join("site.toml").is_file() {
                    dirs.push(sub);
                }
            }
            dirs.push(dir);
        }
    }
    dirs.sort();
    dirs
}

/// Every string under `v`, except under the keys in `skip`.
fn strings(v: &Value, skip: &[&str], out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|v| strings(v, skip, out)),
        Value::Object(o) => {
            for (k, v) in o {
                if !skip.contains(&k.as_str()) {
                    strings(v, skip, out);
                }
            }
        }
        _ => {}
    }
}

fn mentions(text: &str, spelling: &str) -> bool {
    if !spelling.is_ascii() {
        return text.contains(spelling);
    }
    let word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    text.match_indices(spelling).any(|(at, _)| {
        !word(text[..at].chars().next_back()) && !word(text[at + spelling.len()..].chars().next())
    })
}

/// What the example's notice names that its site file does not list as a recipient
/// (a purpose's `recipients`, a cookie's `provider`): "file: name" for each.
fn unlisted(ex: &Example) -> Vec<String> {
    let file: SiteFile = toml::from_str(&ex.site_toml).expect("site.toml parses");
    let mut listed = Vec::new();
    for p in &file.purposes {
        for r in &p.recipients {
            listed.extend([r.th.clone(), r.en.clone()]);
        }
    }
    for c in file.categories.iter().flat_map(|c| &c.cookies) {
        listed.extend([c.provider.th.clone(), c.provider.en.clone()]);
    }
    let listed = listed.join("\n");

    let mut texts = Vec::new();
    strings(
        &serde_json::to_value(&file).expect("to JSON"),
        &["recipients", "provider"],
        &mut texts,
    );
    let mut sources = vec![("site.toml".to_owned(), texts.join("\n"))];
    sources.extend(ex.notices.iter().cloned());

    let mut found = Vec::new();
    for (source, text) in &sources {
        for (name, spellings) in COUNTRIES.iter().chain(RECIPIENTS) {
            let named = spellings.iter().any(|s| mentions(text, s));
            let in_file = spellings.iter().any(|s| mentions(&listed, s));
            if named && !in_file {
                found.push(format!("{source}: {name}"));
            }
        }
    }
    found
}

#[test]
fn every_example_validates() {
    let dirs = examples();
    assert!(dirs.len() >= 5, "the five examples: {dirs:?}");
    for dir in dirs {
        if let Err(e) = read_site_dir(&dir) {
            panic!("{}: {e}", dir.display());
        }
    }
}

#[test]
fn notices_name_only_the_recipients_and_countries_their_site_file_lists() {
    for dir in examples() {
        let ex = read(&dir);
        let found = unlisted(&ex);
        assert!(
            found.is_empty(),
            "{}: the notice names what no recipient or cookie provider in site.toml lists: {found:?}",
            ex.dir.display()
        );
    }
}

/// The check itself catches a transfer written only into the prose, in either file and
/// language, and accepts it once the site file lists the recipient.
#[test]
fn a_transfer_named_only_in_the_prose_is_caught() {
    let dir = examples()
        .into_iter()
        .find(|d| d.ends_with("osmep-sme-monitoring"))
        .expect("osmep-sme-monitoring");
    let mut ex = read(&dir);
    ex.notices[0].1 += "\nข้อมูลการรับชมส่งไปยัง Google ที่สหรัฐอเมริกา\n";
    ex.notices[1].1 += "\nData goes to LY Corporation in Japan.\n";
    assert_eq!(
        unlisted(&ex),
        [
            "notice.th.md: United States",
            "notice.th.md: Google",
            "notice.en.md: Japan",
            "notice.en.md: LINE"
        ]
    );

    // Listed as a recipient of a purpose: the same prose is fine.
    let mut listed = read(&dir);
    listed.notices[0].1 += "\nข้อมูลการรับชมส่งไปยัง Google ที่สหรัฐอเมริกา\n";
    listed.site_toml = listed.site_toml.replacen(
        "recipients = [\n",
        "recipients = [\n  { th = \"Google LLC (สหรัฐอเมริกา)\", en = \"Google LLC (United States)\" },\n",
        1,
    );
    assert_eq!(unlisted(&listed), Vec::<String>::new());

    // A summary in site.toml is a notice text too.
    let mut summary = read(&dir);
    summary.site_toml =
        summary
            .site_toml
            .replacen("summary = { th = \"", "summary = { th = \"YouTube ", 1);
    assert_eq!(unlisted(&summary), ["site.toml: YouTube"]);
}
