//! [`Flag`]: a `BOOLEAN` column read the same way from both databases.

use sqlx::any::{Any, AnyTypeInfo, AnyTypeInfoKind};
use sqlx::error::BoxDynError;
use sqlx::{Decode, Type, ValueRef};

/// A boolean as read: PostgreSQL hands back a `BOOLEAN`, SQLite the integer 0 or 1 (it has no
/// boolean type). sqlx's `Any` decodes `bool` only from the former, and refuses a SQLite
/// column *declared* `BOOLEAN` outright, so boolean columns are selected as
/// `CAST(col AS INTEGER) AS col` (an integer in both databases) and read as `Flag`
/// (`#[sqlx(try_from = "crate::flag::Flag")]` on a `bool` field); computed booleans
/// (`x IS NOT NULL AS y`) arrive as integers from SQLite and booleans from PostgreSQL, which
/// `Flag` takes too. Binding a `bool` needs nothing: sqlx writes 0/1 to SQLite itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Flag(pub(crate) bool);

impl From<Flag> for bool {
    fn from(flag: Flag) -> Self {
        flag.0
    }
}

impl Type<Any> for Flag {
    fn type_info() -> AnyTypeInfo {
        <bool as Type<Any>>::type_info()
    }

    fn compatible(ty: &AnyTypeInfo) -> bool {
        ty.kind() == AnyTypeInfoKind::Bool || ty.kind().is_integer()
    }
}

impl<'r> Decode<'r, Any> for Flag {
    fn decode(value: <Any as sqlx::Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
        let kind = value.type_info().kind();
        match kind {
            AnyTypeInfoKind::Bool => Ok(Self(<bool as Decode<Any>>::decode(value)?)),
            _ if kind.is_integer() => Ok(Self(<i64 as Decode<Any>>::decode(value)? != 0)),
            other => Err(format!("expected a boolean, found {other:?}").into()),
        }
    }
}
