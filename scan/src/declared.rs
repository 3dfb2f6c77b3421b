//! The declared categories and cookie tables a scan is compared with: a site folder's
//! `site.toml`, or the notice a Yinyom server publishes (`GET /v1/sites/{site}/notice`).

use crate::ScanError;
use std::{path::Path, time::Duration};
use yinyom_model::{notice::PublishedNotice, site::Category, site::SiteFile};

/// What the site declares.
#[derive(Debug, Clone)]
pub struct Declared {
    /// Where it came from (a folder or a URL), for the report.
    pub from: String,
    /// The notice version.
    pub version: String,
    /// The categories, with their cookie tables.
    pub categories: Vec<Category>,
}

/// Reads `dir/site.toml`; its id must be `site`.
pub fn from_dir(dir: &Path, site: &str) -> Result<Declared, ScanError> {
    let path = dir.join("site.toml");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| ScanError::Declared(format!("{}: {e}", path.display())))?;
    let file: SiteFile = toml::from_str(&text)
        .map_err(|e| ScanError::Declared(format!("{}: {e}", path.display())))?;
    if file.id.as_str() != site {
        return Err(ScanError::Declared(format!(
            "{} is the site file of `{}`, not `{site}`",
            path.display(),
            file.id.as_str()
        )));
    }
    Ok(Declared {
        from: dir.display().to_string(),
        version: file.notice.version,
        categories: file.categories,
    })
}

/// Fetches the current published notice of `site` from the Yinyom server at `server`.
pub async fn from_server(server: &str, site: &str) -> Result<Declared, ScanError> {
    let url = format!("{}/v1/sites/{site}/notice", server.trim_end_matches('/'));
    let fetch_url = url.clone();
    let site = site.to_owned();
    let got = tokio::task::spawn_blocking(move || {
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(20))
            .build();
        match agent.get(&fetch_url).call() {
            Ok(r) => r.into_string().map_err(|e| e.to_string()).and_then(|s| {
                serde_json::from_str::<PublishedNotice>(&s).map_err(|e| e.to_string())
            }),
            Err(ureq::Error::Status(404, _)) => {
                Err(format!("the server publishes no notice for `{site}`"))
            }
            Err(e) => Err(e.to_string()),
        }
    })
    .await
    .map_err(|e| ScanError::Declared(e.to_string()))?
    .map_err(|e| ScanError::Declared(format!("{url}: {e}")))?;
    Ok(Declared {
        from: url,
        version: got.notice.version,
        categories: got.notice.categories,
    })
}
