//! A readable difference between two notice versions: texts line by line, purposes,
//! categories and cookies added, removed or changed.

use serde::Serialize;
use yinyom_model::{Lang, notice::Notice};

/// One line of a text diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Line {
    /// In both.
    Same(String),
    /// Only in the newer version.
    Added(String),
    /// Only in the older version.
    Removed(String),
}

/// Line diff of `a` → `b`: a shortest edit script (Myers' algorithm, from `similar`: time
/// O((n+m)·d) for d differing lines, memory O(n+m), so a 512 KB upload diffs in
/// milliseconds). In a changed block, removed lines come before added ones.
pub fn lines(a: &str, b: &str) -> Vec<Line> {
    let a: Vec<&str> = a.lines().collect();
    let b: Vec<&str> = b.lines().collect();
    let mut out = Vec::with_capacity(a.len().max(b.len()));
    let owned = |l: &&str| (*l).to_owned();
    for op in similar::capture_diff_slices(similar::Algorithm::Myers, &a, &b) {
        let (tag, old, new) = op.as_tag_tuple();
        let (old, new) = (
            a.get(old).unwrap_or_default(),
            b.get(new).unwrap_or_default(),
        );
        if tag == similar::DiffTag::Equal {
            out.extend(old.iter().map(owned).map(Line::Same));
        } else {
            out.extend(old.iter().map(owned).map(Line::Removed));
            out.extend(new.iter().map(owned).map(Line::Added));
        }
    }
    out
}

/// A change to a named part (purpose, category, cookie, field).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// What: e.g. `purpose industry_news`, `cookie _ga (analytics)`, `consent_revision`.
    pub what: String,
    /// `added`, `removed` or `changed`.
    pub how: &'static str,
    /// Old value, shown in plain words.
    pub before: String,
    /// New value.
    pub after: String,
}

/// Everything that differs between two notice versions, in `lang`.
#[derive(Debug, Clone, Serialize)]
pub struct NoticeDiff {
    /// Field, purpose, category and cookie changes.
    pub changes: Vec<Change>,
    /// The full text, line by line.
    pub body: Vec<Line>,
}

fn field(changes: &mut Vec<Change>, what: &str, a: String, b: String) {
    if a != b {
        changes.push(Change {
            what: what.to_owned(),
            how: "changed",
            before: a,
            after: b,
        });
    }
}

/// The difference from `a` (older) to `b` (newer).
pub fn notices(a: &Notice, b: &Notice, lang: Lang) -> NoticeDiff {
    let mut c = Vec::new();
    field(
        &mut c,
        "consent_revision",
        a.consent_revision.to_string(),
        b.consent_revision.to_string(),
    );
    field(
        &mut c,
        "effective_from",
        a.effective_from.clone(),
        b.effective_from.clone(),
    );
    field(
        &mut c,
        "consent_validity_days",
        a.consent_validity_days.to_string(),
        b.consent_validity_days.to_string(),
    );
    field(
        &mut c,
        "title",
        a.title.get(lang).to_owned(),
        b.title.get(lang).to_owned(),
    );
    field(
        &mut c,
        "summary",
        a.summary.get(lang).to_owned(),
        b.summary.get(lang).to_owned(),
    );
    field(
        &mut c,
        "controller",
        a.controller.name.get(lang).to_owned(),
        b.controller.name.get(lang).to_owned(),
    );
    field(
        &mut c,
        "dpo",
        format!("{} <{}>", a.dpo.name.get(lang), a.dpo.email),
        format!("{} <{}>", b.dpo.name.get(lang), b.dpo.email),
    );

    let describe_p = |p: &yinyom_model::site::Purpose| {
        format!(
            "{} — {} — {}; {}",
            p.title.get(lang),
            p.legal_basis.label(lang),
            p.description.get(lang),
            p.retention.get(lang)
        )
    };
    for p in &b.purposes {
        match a.purposes.iter().find(|x| x.id == p.id) {
            None => c.push(Change {
                what: format!("purpose {}", p.id),
                how: "added",
                before: String::new(),
                after: describe_p(p),
            }),
            Some(old) if old != p => c.push(Change {
                what: format!("purpose {}", p.id),
                how: "changed",
                before: describe_p(old),
                after: describe_p(p),
            }),
            Some(_) => {}
        }
    }
    for p in &a.purposes {
        if !b.purposes.iter().any(|x| x.id == p.id) {
            c.push(Change {
                what: format!("purpose {}", p.id),
                how: "removed",
                before: describe_p(p),
                after: String::new(),
            });
        }
    }
    let describe_c = |k: &yinyom_model::site::Category| {
        format!("{} — {}", k.title.get(lang), k.description.get(lang))
    };
    for k in &b.categories {
        match a.categories.iter().find(|x| x.id == k.id) {
            None => c.push(Change {
                what: format!("category {}", k.id),
                how: "added",
                before: String::new(),
                after: describe_c(k),
            }),
            Some(old) => {
                if old.title != k.title
                    || old.description != k.description
                    || old.required != k.required
                    || old.gcm != k.gcm
                {
                    c.push(Change {
                        what: format!("category {}", k.id),
                        how: "changed",
                        before: describe_c(old),
                        after: describe_c(k),
                    });
                }
                let cookie = |x: &yinyom_model::site::Cookie| {
                    format!(
                        "{} — {} — {}",
                        x.provider.get(lang),
                        x.duration.get(lang),
                        x.purpose.get(lang)
                    )
                };
                for ck in &k.cookies {
                    match old.cookies.iter().find(|x| x.name == ck.name) {
                        None => c.push(Change {
                            what: format!("cookie {} ({})", ck.name, k.id),
                            how: "added",
                            before: String::new(),
                            after: cookie(ck),
                        }),
                        Some(o) if o != ck => c.push(Change {
                            what: format!("cookie {} ({})", ck.name, k.id),
                            how: "changed",
                            before: cookie(o),
                            after: cookie(ck),
                        }),
                        Some(_) => {}
                    }
                }
                for ck in &old.cookies {
                    if !k.cookies.iter().any(|x| x.name == ck.name) {
                        c.push(Change {
                            what: format!("cookie {} ({})", ck.name, k.id),
                            how: "removed",
                            before: cookie(ck),
                            after: String::new(),
                        });
                    }
                }
            }
        }
    }
    for k in &a.categories {
        if !b.categories.iter().any(|x| x.id == k.id) {
            c.push(Change {
                what: format!("category {}", k.id),
                how: "removed",
                before: describe_c(k),
                after: String::new(),
            });
        }
    }
    NoticeDiff {
        changes: c,
        body: lines(a.body.get(lang), b.body.get(lang)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_diff_keeps_order_and_marks_changes() {
        let d = lines("a\nb\nc\n", "a\nx\nc\nd\n");
        assert_eq!(
            d,
            vec![
                Line::Same("a".into()),
                Line::Removed("b".into()),
                Line::Added("x".into()),
                Line::Same("c".into()),
                Line::Added("d".into()),
            ]
        );
    }

    /// The console's diff before `similar`: a longest common subsequence, removed lines
    /// first in a changed block. The new diff keeps its output.
    fn lcs_lines(a: &str, b: &str) -> Vec<Line> {
        let a: Vec<&str> = a.lines().collect();
        let b: Vec<&str> = b.lines().collect();
        let (n, m) = (a.len(), b.len());
        let mut lcs = vec![vec![0u32; m + 1]; n + 1];
        for i in (0..n).rev() {
            for j in (0..m).rev() {
                lcs[i][j] = if a[i] == b[j] {
                    lcs[i + 1][j + 1] + 1
                } else {
                    lcs[i + 1][j].max(lcs[i][j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        let mut out = Vec::new();
        while i < n || j < m {
            if i < n && j < m && a[i] == b[j] {
                out.push(Line::Same(a[i].to_owned()));
                (i, j) = (i + 1, j + 1);
            } else if i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1]) {
                out.push(Line::Removed(a[i].to_owned()));
                i += 1;
            } else {
                out.push(Line::Added(b[j].to_owned()));
                j += 1;
            }
        }
        out
    }

    #[test]
    fn an_edited_notice_diffs_as_before() {
        let before: String = (0..400)
            .map(|i| format!("ข้อ {i}: ข้อมูลส่วนบุคคลที่เก็บ\n"))
            .collect();
        let mut lines_after: Vec<String> = before.lines().map(str::to_owned).collect();
        for (i, l) in lines_after.iter_mut().enumerate() {
            if i % 37 == 5 {
                l.push_str(" (แก้ไข)");
            }
        }
        lines_after.splice(200..203, ["ข้อใหม่ ก".to_owned(), "ข้อใหม่ ข".to_owned()]);
        lines_after.push("ภาคผนวก".to_owned());
        let after = lines_after.join("\n");
        let d = lines(&before, &after);
        assert_eq!(d, lcs_lines(&before, &after));
        assert!(d.iter().any(|l| matches!(l, Line::Removed(_))));
        assert_eq!(
            lines("", "a\nb"),
            vec![Line::Added("a".into()), Line::Added("b".into())]
        );
        assert_eq!(
            lines("a\nb", ""),
            vec![Line::Removed("a".into()), Line::Removed("b".into())]
        );
    }
}
