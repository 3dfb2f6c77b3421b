//! Importing a site folder (`site.toml` + `notice.<lang>.md`) and publishing its notice.
//!
//! Everything is read and validated before anything is written. A new notice version is
//! published only when the canonical content changed; a published version is never
//! edited in place.

use crate::store::{Store, rfc3339_ms};
use std::{io::Read, path::Path};
use yinyom_model::{
    Lang, Text,
    canonical::{sha256_hex, to_canonical_json},
    notice::PublishedNotice,
    site::SiteFile,
};

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Imported {
    /// A new notice version was published.
    Published {
        /// Site id.
        site: String,
        /// The new version label.
        version: String,
        /// Its hash.
        sha256: String,
    },
    /// This exact notice is already published: nothing new was published.
    Unchanged {
        /// Site id.
        site: String,
        /// The folder's version label.
        version: String,
        /// The site's current version label.
        current: String,
    },
}

impl std::fmt::Display for Imported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Imported::Published {
                site,
                version,
                sha256,
            } => {
                write!(
                    f,
                    "{site}: published notice version {version} (sha256 {sha256})"
                )
            }
            Imported::Unchanged {
                site,
                version,
                current,
            } if version == current => {
                write!(f, "{site}: notice unchanged, still version {version}")
            }
            Imported::Unchanged {
                site,
                version,
                current,
            } => write!(
                f,
                "{site}: notice version {version} is already published (the current version is {current})"
            ),
        }
    }
}

/// Why an import was refused. Nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// A file could not be read.
    #[error("{file}: cannot read it: {source}")]
    Read {
        /// The file.
        file: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The files are wrong; every problem is listed.
    #[error("{} is not valid:\n{}", .dir, .problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    Invalid {
        /// The folder.
        dir: String,
        /// `file: field: what is wrong` lines.
        problems: Vec<String>,
    },
    /// `site.toml` lists a language whose notice file is not there.
    #[error("notice.{}.md: the file is missing (site.toml lists `{}`)", .0.code(), .0.code())]
    Missing(Lang),
    /// The notice conflicts with what is already published.
    #[error("{0}")]
    Conflict(String),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// The texts of a site folder: `site.toml` and the notice text per language (`None`: the
/// file is not there). The CLI reads them from a folder; the console from an upload.
#[derive(Debug, Clone, Default)]
pub struct SiteTexts {
    /// `site.toml`.
    pub site_toml: String,
    /// `notice.th.md`.
    pub notice_th: Option<String>,
    /// `notice.en.md`.
    pub notice_en: Option<String>,
}

/// Most bytes a site folder's texts (`site.toml` and the notice files) may hold together,
/// whether imported from the CLI or uploaded in the console (whose request limit adds room
/// for the form around them).
pub const MAX_FOLDER_BYTES: usize = 512 * 1024;

/// A validated site folder: the site, its notice (stamped with the validation time as
/// `published_at`) and the notice's canonical JSON.
pub type Validated = (yinyom_model::site::Site, PublishedNotice, String);

/// Validates the texts of a site folder without touching the database: the one check
/// behind both `yinyom sites import` and the console's upload. `dir` names the folder in
/// messages. Every problem is listed ([`ImportError::Invalid`]); a notice file of a
/// listed language that is not there is [`ImportError::Missing`].
pub fn validate_texts(dir: &str, texts: &SiteTexts) -> Result<Validated, ImportError> {
    let invalid = |problems: Vec<String>| ImportError::Invalid {
        dir: dir.to_owned(),
        problems,
    };
    let size = texts.site_toml.len()
        + texts.notice_th.as_ref().map_or(0, String::len)
        + texts.notice_en.as_ref().map_or(0, String::len);
    if size > MAX_FOLDER_BYTES {
        return Err(too_large(dir));
    }
    let file: SiteFile = toml::from_str(&texts.site_toml).map_err(|e| {
        invalid(vec![format!(
            "site.toml: {}",
            e.to_string().trim_end().replace('\n', "\n    ")
        )])
    })?;
    let mut body = Text::default();
    for lang in &file.languages {
        let text = match lang {
            Lang::Th => &texts.notice_th,
            Lang::En => &texts.notice_en,
        };
        let text = text.clone().ok_or(ImportError::Missing(*lang))?;
        match lang {
            Lang::Th => body.th = text,
            Lang::En => body.en = text,
        }
    }
    let (site, notice) = file.validate(body).map_err(|problems| {
        invalid(
            problems
                .into_iter()
                .map(|p| {
                    if p.field.ends_with(".md") {
                        format!("{}: {}", p.field, p.message)
                    } else {
                        format!("site.toml: {p}")
                    }
                })
                .collect(),
        )
    })?;
    let json = to_canonical_json(&notice).map_err(|e| invalid(vec![e.to_string()]))?;
    let sha256 = sha256_hex(&notice).map_err(|e| invalid(vec![e.to_string()]))?;
    let published = PublishedNotice {
        notice,
        sha256,
        published_at: rfc3339_ms(crate::store::now_ms()),
    };
    Ok((site, published, json))
}

fn too_large(dir: &str) -> ImportError {
    ImportError::Invalid {
        dir: dir.to_owned(),
        problems: vec![format!(
            "site.toml and the notice files are too large: at most {} KB together, as for an upload in the console",
            MAX_FOLDER_BYTES / 1024
        )],
    }
}

/// Reads and validates the site folder `dir` without touching the database.
pub fn read_site_dir(dir: &Path) -> Result<Validated, ImportError> {
    // Never more than the whole folder may hold (plus one byte, so too large is seen).
    let read = |name: &str| {
        let path = dir.join(name);
        let mut bytes = Vec::new();
        std::fs::File::open(&path)
            .and_then(|f| f.take(MAX_FOLDER_BYTES as u64 + 1).read_to_end(&mut bytes))
            .map_err(|source| ImportError::Read {
                file: path.display().to_string(),
                source,
            })?;
        if bytes.len() > MAX_FOLDER_BYTES {
            return Err(too_large(&dir.display().to_string()));
        }
        String::from_utf8(bytes).map_err(|e| ImportError::Read {
            file: path.display().to_string(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        })
    };
    let site_toml = read("site.toml")?;
    // Notice files are needed only for the languages site.toml lists: a file that cannot
    // be read matters only when validation asks for it.
    let th = read("notice.th.md");
    let en = read("notice.en.md");
    let texts = SiteTexts {
        site_toml,
        notice_th: th.as_ref().ok().cloned(),
        notice_en: en.as_ref().ok().cloned(),
    };
    match validate_texts(&dir.display().to_string(), &texts) {
        // Keep the reason the file could not be read.
        Err(ImportError::Missing(lang)) => Err(match lang {
            Lang::Th => th,
            Lang::En => en,
        }
        .err()
        .unwrap_or(ImportError::Missing(lang))),
        other => other,
    }
}

/// What publishing a validated notice would do, given what is already published.
#[derive(Debug, Clone)]
pub enum Plan {
    /// A new version: publishes it (and updates the site's name and origins).
    New {
        /// The site's current notice, if it has one.
        current: Option<Box<PublishedNotice>>,
    },
    /// Nothing new to publish.
    Unchanged(Imported),
}

/// Decides what publishing `published` for `site` would do, without writing: a new
/// version, nothing (this exact notice is already published), or a conflict (the label
/// is taken by other content, or the consent revision would go down).
pub async fn plan(
    store: &Store,
    site: &yinyom_model::site::Site,
    published: &PublishedNotice,
) -> Result<Plan, ImportError> {
    let id = site.id.to_string();
    let version = published.notice.version.clone();
    let Some(current) = store.current_notice(&id).await? else {
        return Ok(Plan::New { current: None });
    };
    if let Some(same_label) = store.notice_version(&id, &version).await? {
        if same_label.sha256 == published.sha256 {
            // Re-importing a published version (e.g. v1 after v2): nothing to do.
            return Ok(Plan::Unchanged(Imported::Unchanged {
                site: id,
                version,
                current: current.notice.version,
            }));
        }
        return Err(ImportError::Conflict(format!(
            "{id}: notice version `{version}` is already published with different content. \
             A published version is never changed: give the new text a new `notice.version` \
             (and raise `consent_revision` if visitors must be asked again)."
        )));
    }
    if current.sha256 == published.sha256 {
        return Ok(Plan::Unchanged(Imported::Unchanged {
            site: id,
            current: current.notice.version,
            version,
        }));
    }
    if published.notice.consent_revision < current.notice.consent_revision {
        return Err(ImportError::Conflict(format!(
            "{id}: consent_revision {} is lower than the current version's {}: it can only stay or rise",
            published.notice.consent_revision, current.notice.consent_revision
        )));
    }
    Ok(Plan::New {
        current: Some(Box::new(current)),
    })
}

/// Registers the site and publishes its validated notice if it is new (see [`plan`]).
pub async fn publish(store: &Store, validated: &Validated) -> Result<Imported, ImportError> {
    let (site, published, json) = validated;
    match plan(store, site, published).await? {
        Plan::Unchanged(unchanged) => {
            if let Imported::Unchanged {
                version, current, ..
            } = &unchanged
                && version == current
            {
                store.upsert_site(site).await?;
            }
            Ok(unchanged)
        }
        Plan::New { .. } => {
            store.upsert_site(site).await?;
            store.insert_notice(published, json).await?;
            Ok(Imported::Published {
                site: site.id.to_string(),
                version: published.notice.version.clone(),
                sha256: published.sha256.clone(),
            })
        }
    }
}

/// Imports the site folder `dir`: registers the site and publishes its notice if it changed.
pub async fn import(store: &Store, dir: &Path) -> Result<Imported, ImportError> {
    publish(store, &read_site_dir(dir)?).await
}
