/// A value a user typed (or an API client sent) that the domain refuses, with a message
/// meant to be shown to that user next to the field; or an object the policy refuses to
/// let the caller put into member clusters (`policy.rs`), with why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    /// Well-formed, but not for this caller (or anyone) to write into members.
    #[error("{reason}")]
    Refused { reason: String },
}

impl Error {
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid { field, reason: reason.into() }
    }

    pub fn refused(reason: impl Into<String>) -> Self {
        Self::Refused { reason: reason.into() }
    }

    /// What is wrong, without the field's name.
    pub fn reason(&self) -> &str {
        match self {
            Self::Invalid { reason, .. } | Self::Refused { reason } => reason,
        }
    }

    /// The input field the error concerns, for placing the message next to it (a refusal
    /// concerns the object as a whole: its template).
    pub fn field(&self) -> &'static str {
        match self {
            Self::Invalid { field, .. } => field,
            Self::Refused { .. } => "template",
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
