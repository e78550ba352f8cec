//! Rules shared by the free-text fields.

use crate::error::DomainError;

/// DRF refuses NUL in every text field, and PostgreSQL cannot store it in TEXT or JSONB.
pub(crate) fn no_null_characters(field: &'static str, value: &str) -> Result<(), DomainError> {
    if value.contains('\0') {
        return Err(DomainError::invalid(
            field,
            "Null characters are not allowed.",
        ));
    }
    Ok(())
}
