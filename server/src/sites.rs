//! Importing a site folder (`site.toml` + `notice.<lang>.md`) and publishing its notice.
//!
//! Everything is read and validated before anything is written. A new notice version is
//! published only when the canonical content changed; a published version is never
//! edited in place.

use crate::store::{Store, rfc3339_ms};
use std::path::Path;
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
    /// The notice conflicts with what is already published.
    #[error("{0}")]
    Conflict(String),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// Reads and validates the site folder `dir` without touching the database.
pub fn read_site_dir(
    dir: &Path,
) -> Result<(yinyom_model::site::Site, PublishedNotice, String), ImportError> {
    let read = |name: &str| {
        let path = dir.join(name);
        std::fs::read_to_string(&path).map_err(|source| ImportError::Read {
            file: path.display().to_string(),
            source,
        })
    };
    let invalid = |problems: Vec<String>| ImportError::Invalid {
        dir: dir.display().to_string(),
        problems,
    };
    let toml_text = read("site.toml")?;
    let file: SiteFile = toml::from_str(&toml_text).map_err(|e| {
        invalid(vec![format!(
            "site.toml: {}",
            e.to_string().trim_end().replace('\n', "\n    ")
        )])
    })?;
    let mut body = Text::default();
    for lang in &file.languages {
        let name = format!("notice.{}.md", lang.code());
        let text = read(&name)?;
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

/// Imports the site folder `dir`: registers the site and publishes its notice if it changed.
pub async fn import(store: &Store, dir: &Path) -> Result<Imported, ImportError> {
    let (site, published, json) = read_site_dir(dir)?;
    let id = site.id.to_string();
    let version = published.notice.version.clone();
    if let Some(current) = store.current_notice(&id).await? {
        if let Some(same_label) = store.notice_version(&id, &version).await? {
            if same_label.sha256 == published.sha256 {
                // Re-importing a published version (e.g. v1 after v2): nothing to do.
                if current.sha256 == published.sha256 {
                    store.upsert_site(&site).await?;
                }
                return Ok(Imported::Unchanged {
                    site: id,
                    version,
                    current: current.notice.version,
                });
            }
            return Err(ImportError::Conflict(format!(
                "{id}: notice version `{version}` is already published with different content. \
                 A published version is never changed: give the new text a new `notice.version` \
                 (and raise `consent_revision` if visitors must be asked again)."
            )));
        }
        if current.sha256 == published.sha256 {
            return Ok(Imported::Unchanged {
                site: id,
                current: current.notice.version,
                version,
            });
        }
        if published.notice.consent_revision < current.notice.consent_revision {
            return Err(ImportError::Conflict(format!(
                "{id}: consent_revision {} is lower than the current version's {}: it can only stay or rise",
                published.notice.consent_revision, current.notice.consent_revision
            )));
        }
    }
    store.upsert_site(&site).await?;
    store.insert_notice(&published, &json).await?;
    Ok(Imported::Published {
        site: id,
        version,
        sha256: published.sha256,
    })
}
