//! The HTTP API's error body: `{"error":{"code":"...","message":"..."}}`.

use serde::{Deserialize, Serialize};

/// The body of every error response of the HTTP API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong, for programs (`code`) and for people (`message`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// A stable, machine-readable code such as `unknown_site` or `invalid_decisions`.
    pub code: String,
    /// A sentence a developer can act on.
    pub message: String,
}
