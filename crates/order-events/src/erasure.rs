//! Personal data erased from the service's JSON documents: the stored event documents, the
//! history's details, saved answers. Which keys are personal is `order-domain`'s list.

use order_domain::personal::{Erased, PersonalField, ERASED_TEXT};
use serde_json::Value;

/// Replaces every personal field of `document`, at any depth, by its erased value (an
/// absent or null field stays so, and an empty text stays empty); whether anything
/// changed.
///
/// ```
/// use serde_json::json;
///
/// let mut document = json!({
///     "event_type": "order.cancelled",
///     "reason": "Alice moved to 1 Marker Street",
///     "order": {"total": "135.00", "shipping_address": {"name": "Alice"},
///               "delivery_problem": {"status": "FAILED_ATTEMPT", "detail": "Left with Bob"}},
/// });
/// assert!(order_events::erase_personal_fields(&mut document));
/// assert_eq!(document, json!({
///     "event_type": "order.cancelled",
///     "reason": "[erased]",
///     "order": {"total": "135.00", "shipping_address": {},
///               "delivery_problem": {"status": "FAILED_ATTEMPT", "detail": "[erased]"}},
/// }));
/// ```
pub fn erase_personal_fields(document: &mut Value) -> bool {
    erase(document, None)
}

fn erase(value: &mut Value, parent: Option<&str>) -> bool {
    let mut changed = false;
    match value {
        Value::Object(fields) => {
            for (key, field) in fields.iter_mut() {
                match PersonalField::at(key, parent) {
                    Some(personal) => {
                        let erased = erased(personal, field);
                        if *field != erased {
                            *field = erased;
                            changed = true;
                        }
                    }
                    None => changed |= erase(field, Some(key)),
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                changed |= erase(item, parent);
            }
        }
        _ => {}
    }
    changed
}

fn erased(field: PersonalField, current: &Value) -> Value {
    match (current, field.erased()) {
        (Value::Null, _) => Value::Null,
        (Value::String(text), Erased::Text) if text.is_empty() => Value::String(String::new()),
        (_, Erased::Text) => Value::String(ERASED_TEXT.to_owned()),
        (_, Erased::EmptyObject) => Value::Object(Default::default()),
        (_, Erased::EmptyList) => Value::Array(Vec::new()),
    }
}
