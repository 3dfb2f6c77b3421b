//! Who may reach which site, as types. A handler under `/admin/sites/{site}/…` or
//! `/v1/admin/sites/{site}/…` takes one of these extractors instead of the raw path, and
//! the operations in [`super::ops`] take them as arguments: a value exists only once the
//! check passed, so neither door (the HTML console, the JSON API) can skip it.
//!
//! - [`VisibleSite`]: any role of the site (an admin: every site). Statistics, notice
//!   history and diffs.
//! - [`RecordsSite`]: browsing record-level receipts (admins and the site's DPO).
//! - [`ReleaseSite`]: record-level exports, under the principal's access tier (admins,
//!   the site's DPO, a requesting agency of the site).
//! - [`PublisherSite`]: publishing notices (admins and the site's DPO).
//! - [`CasesSite`]: data-subject request cases: the site's DPO and admins read and act;
//!   its auditor reads (no contact, message or subject) and may not act (403).
//! - [`EntrySite`]: entering a consent signed on paper (admins and the site's DPO).
//! - [`ConsentSite`]: a subject's current consent (the consent-check API): a service
//!   token of the site, or the site's DPO or an admin.
//!
//! Anything of a site the principal may not reach answers 404, as if it did not exist.

use super::{
    auth::{self, Principal},
    tiers::Policy,
};
use crate::{
    error::{ApiError, ApiResult},
    state::AppState,
};
use axum::{
    extract::{ConnectInfo, FromRequestParts, Path},
    http::request::Parts,
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use std::net::SocketAddr;
use yinyom_model::site::Site;

/// A site the principal may see, and the principal.
#[derive(Debug)]
pub(crate) struct VisibleSite {
    principal: Principal,
    site: Site,
}

/// A site whose record-level receipts the principal may read.
#[derive(Debug)]
pub(crate) struct RecordsSite(VisibleSite);

/// A site whose receipts the principal may export, and the tier's policy it is under.
#[derive(Debug)]
pub(crate) struct ReleaseSite(VisibleSite, Policy);

/// A site whose notices the principal may publish.
#[derive(Debug)]
pub(crate) struct PublisherSite(VisibleSite);

impl VisibleSite {
    /// 404 unless `principal` may see site `id` and the site exists.
    async fn check(state: &AppState, principal: Principal, id: &str) -> ApiResult<Self> {
        if !principal.can_see(id) {
            return Err(ApiError::UnknownSite(id.to_owned()));
        }
        let site = state
            .store
            .site(id)
            .await?
            .ok_or_else(|| ApiError::UnknownSite(id.to_owned()))?;
        Ok(Self { principal, site })
    }

    /// Who is asking.
    pub(crate) fn principal(&self) -> &Principal {
        &self.principal
    }

    /// The site as stored.
    pub(crate) fn site(&self) -> &Site {
        &self.site
    }

    /// The site's id.
    pub(crate) fn id(&self) -> &str {
        self.site.id.as_str()
    }
}

impl RecordsSite {
    /// 404 unless `principal` may read record-level receipts of site `id`.
    async fn check(state: &AppState, principal: Principal, id: &str) -> ApiResult<Self> {
        let visible = VisibleSite::check(state, principal, id).await?;
        if !visible.principal.records(id) {
            // An auditor sees aggregates only: record-level pages do not exist for them.
            return Err(ApiError::NotFound(
                "record-level receipts are for the DPO role".into(),
            ));
        }
        Ok(Self(visible))
    }
}

impl ReleaseSite {
    /// 404 unless `principal`'s tier gets records of site `id` (an auditor: statistics
    /// only).
    async fn check(state: &AppState, principal: Principal, id: &str) -> ApiResult<Self> {
        let visible = VisibleSite::check(state, principal, id).await?;
        let Some(policy) = Policy::of(visible.principal.role()) else {
            return Err(ApiError::NotFound(
                "record-level receipts are for the DPO role".into(),
            ));
        };
        Ok(Self(visible, policy))
    }

    /// The release policy of the principal's tier.
    pub(crate) fn policy(&self) -> Policy {
        self.1
    }
}

impl PublisherSite {
    /// 404 unless `principal` may publish notices of site `id`: an admin, or a DPO of the
    /// site (an auditor sees statistics and history only; a requesting agency exports).
    async fn check(state: &AppState, principal: Principal, id: &str) -> ApiResult<Self> {
        let visible = VisibleSite::check(state, principal, id).await?;
        if !visible.principal.role().is_staff() {
            return Err(ApiError::NotFound(
                "publishing notices is for admins and the site's DPO".into(),
            ));
        }
        Ok(Self(visible))
    }
}

/// A site whose data-subject request cases the principal may read.
#[derive(Debug)]
pub(crate) struct CasesSite(VisibleSite);

impl CasesSite {
    /// 404 unless `principal` may read the cases of site `id`: an admin, the site's DPO
    /// or its auditor (who checks that answers come in time); a requesting agency never.
    async fn check(state: &AppState, principal: Principal, id: &str) -> ApiResult<Self> {
        let visible = VisibleSite::check(state, principal, id).await?;
        let role = visible.principal.role();
        if !(role.is_staff() || role == crate::store::Role::Auditor) {
            return Err(ApiError::NotFound(
                "data-subject request cases are for the site's DPO and auditor".into(),
            ));
        }
        Ok(Self(visible))
    }

    /// Whether the principal works the cases (admins and the site's DPO) and reads their
    /// record-level parts (the subject, the contact, the message, the receipts).
    pub(crate) fn may_act(&self) -> bool {
        self.0.principal.role().is_staff()
    }

    /// 403 unless the principal may act on cases: an auditor reads them only.
    pub(crate) fn check_act(&self) -> ApiResult<()> {
        if self.may_act() {
            Ok(())
        } else {
            Err(ApiError::Forbidden(
                "an auditor reads cases; the site's DPO acts on them".into(),
            ))
        }
    }
}

impl std::ops::Deref for CasesSite {
    type Target = VisibleSite;
    fn deref(&self) -> &VisibleSite {
        &self.0
    }
}

/// A site whose consents signed on paper the principal may enter: an admin, or a DPO of
/// the site.
#[derive(Debug)]
pub(crate) struct EntrySite(VisibleSite);

impl EntrySite {
    /// 404 unless `principal` may enter paper consents of site `id`.
    async fn check(state: &AppState, principal: Principal, id: &str) -> ApiResult<Self> {
        let visible = VisibleSite::check(state, principal, id).await?;
        if !visible.principal.role().is_staff() {
            return Err(ApiError::NotFound(
                "entering paper consent is for admins and the site's DPO".into(),
            ));
        }
        Ok(Self(visible))
    }
}

impl std::ops::Deref for EntrySite {
    type Target = VisibleSite;
    fn deref(&self) -> &VisibleSite {
        &self.0
    }
}

impl std::ops::Deref for RecordsSite {
    type Target = VisibleSite;
    fn deref(&self) -> &VisibleSite {
        &self.0
    }
}

impl std::ops::Deref for ReleaseSite {
    type Target = VisibleSite;
    fn deref(&self) -> &VisibleSite {
        &self.0
    }
}

impl std::ops::Deref for PublisherSite {
    type Target = VisibleSite;
    fn deref(&self) -> &VisibleSite {
        &self.0
    }
}

/// The `{site}` segment of the route.
#[derive(Debug, Deserialize)]
struct SitePath {
    site: String,
}

/// The `{receipt_id}` segment of a receipt's route (its site is the access extractor's).
#[derive(Debug, Deserialize)]
pub(crate) struct ReceiptPath {
    pub(crate) receipt_id: String,
}

/// The principal (signed in, or a redirect / 401) and the path's site id.
async fn principal_and_site(
    parts: &mut Parts,
    state: &AppState,
) -> Result<(Principal, String), Response> {
    let principal = Principal::from_request_parts(parts, state)
        .await
        .map_err(IntoResponse::into_response)?;
    let Path(SitePath { site }) = Path::<SitePath>::from_request_parts(parts, state)
        .await
        .map_err(IntoResponse::into_response)?;
    Ok((principal, site))
}

/// Each access type is taken from a request the same way: the principal and the `{site}`
/// segment, then the type's own `check` (the only way to build one).
macro_rules! site_extractor {
    ($($t:ty),+) => {$(
        impl FromRequestParts<AppState> for $t {
            type Rejection = Response;

            async fn from_request_parts(
                parts: &mut Parts,
                state: &AppState,
            ) -> Result<Self, Response> {
                let (principal, site) = principal_and_site(parts, state).await?;
                Self::check(state, principal, &site)
                    .await
                    .map_err(IntoResponse::into_response)
            }
        }
    )+};
}

site_extractor!(
    VisibleSite,
    RecordsSite,
    ReleaseSite,
    PublisherSite,
    CasesSite,
    EntrySite
);

/// A site whose subjects' current consent the caller may read: a `service` token of that
/// site (its one site), or a principal who may read its record-level receipts (the site's
/// DPO, an admin). Another site answers 404; no credential 401.
#[derive(Debug)]
pub(crate) struct ConsentSite {
    /// Who asked, for the audit log: `service:<name>`, or the principal's actor.
    pub(crate) actor: String,
    /// The client address.
    pub(crate) client: String,
    /// The site's id.
    pub(crate) site: String,
}

impl FromRequestParts<AppState> for ConsentSite {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let token = auth::bearer(&parts.headers).map(auth::hash_secret);
        let service = match token {
            Some(hash) => state
                .store
                .service_token(&hash)
                .await
                .map_err(|e| ApiError::Store(e).into_response())?,
            None => None,
        };
        let Some(service) = service else {
            let records = RecordsSite::from_request_parts(parts, state).await?;
            return Ok(Self {
                actor: records.principal().actor.clone(),
                client: records.principal().client.clone(),
                site: records.id().to_owned(),
            });
        };
        let Path(SitePath { site }) = Path::<SitePath>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        if service.site != site {
            return Err(ApiError::UnknownSite(site).into_response());
        }
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(a)| *a);
        Ok(Self {
            actor: format!("service:{}", service.name),
            client: state.client_ip(&parts.headers, peer).to_string(),
            site,
        })
    }
}
