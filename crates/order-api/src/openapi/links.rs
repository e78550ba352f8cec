//! Links from each answer to the operations on what it names, so that a consumer's tools
//! can go from the answer that made or changed an order to what may be done to it next: an
//! order to every operation on an order, a dispute to every operation on it and on its
//! order, a new offer to its acceptance and decline. A page of orders or disputes links
//! as its first result would, so that a tool that starts from a list (a fuzzer's stateful
//! phase, say) reaches real objects without knowing an id.
//!
//! What an operation acts on is read from its path parameters as the routes document them,
//! so a new operation on an order is linked from every order answer with no more code.
//!
//! They are added to the document's JSON, not through utoipa's `Link`: utoipa 5.5 writes
//! that type's fields as Rust names them (`operation_id`), which OpenAPI does not know.

use serde_json::{json, Map, Value};

use crate::routes::{DISPUTE_PARAMETER, OFFER_PARAMETER, ORDER_PARAMETER};

const METHODS: [&str; 5] = ["get", "post", "patch", "put", "delete"];

/// What an answer is, or what an operation's path names: the schema of the one and the
/// path parameters of the other say the same thing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Names {
    Order,
    Dispute,
    Offer,
}

impl Names {
    /// What the path of `operation` names, from its path parameters' descriptions.
    fn in_path(operation: &Value) -> Option<Names> {
        let mut parameters: Vec<(&str, &str)> = operation["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|parameter| parameter["in"] == "path")
            .map(|parameter| {
                let text = |field: &str| parameter[field].as_str().unwrap_or_default();
                (text("name"), text("description"))
            })
            .collect();
        parameters.sort_unstable();
        match parameters.as_slice() {
            [("id", ORDER_PARAMETER)] => Some(Names::Order),
            [("id", DISPUTE_PARAMETER)] => Some(Names::Dispute),
            [("id", DISPUTE_PARAMETER), ("offer_id", OFFER_PARAMETER)] => Some(Names::Offer),
            _ => None,
        }
    }

    /// What an answer whose content is `response`'s names, and where in the answer that
    /// is: the answer itself, or a page's first result.
    fn answered(response: &Value) -> Option<(Names, &'static str)> {
        let content = response["content"].as_object()?;
        content.values().find_map(|media| {
            match media["schema"]["$ref"]
                .as_str()?
                .strip_prefix("#/components/schemas/")?
            {
                "Order" => Some((Names::Order, "")),
                "Dispute" => Some((Names::Dispute, "")),
                "Offer" => Some((Names::Offer, "")),
                "OrderPage" => Some((Names::Order, FIRST_RESULT)),
                "DisputePage" => Some((Names::Dispute, FIRST_RESULT)),
                _ => None,
            }
        })
    }

    /// The values of a path naming `target`, taken from an answer that holds a `self` at
    /// `at`, to a request whose path named `asked`; `None` where the answer does not say
    /// them.
    fn fills(self, target: Names, at: &str, asked: Option<Names>) -> Option<Value> {
        let field = |name: &str| format!("$response.body#{at}/{name}");
        match (self, target) {
            (Names::Order, Names::Order) | (Names::Dispute, Names::Dispute) => {
                Some(json!({"id": field("id")}))
            }
            (Names::Dispute, Names::Order) => Some(json!({"id": field("order_id")})),
            // An offer does not name its dispute: the request that made it did.
            (Names::Offer, Names::Offer) if asked == Some(Names::Dispute) => {
                Some(json!({"id": "$request.path.id", "offer_id": field("id")}))
            }
            _ => None,
        }
    }
}

/// Where a page holds its first result.
const FIRST_RESULT: &str = "/results/0";

/// Every operation of `document`.
fn operations(document: &Value) -> impl Iterator<Item = &Value> {
    document["paths"]
        .as_object()
        .into_iter()
        .flat_map(Map::values)
        .flat_map(|item| METHODS.iter().filter_map(move |method| item.get(*method)))
}

/// Adds to every 2xx answer of `document` that is an order, a dispute or an offer, or a
/// page of orders or disputes, a link to each operation on it, named by that operation's id.
pub fn link_answers(document: &mut Value) {
    let targets: Vec<(Names, String)> = operations(document)
        .filter_map(|operation| {
            let id = operation["operationId"].as_str()?;
            Some((Names::in_path(operation)?, id.to_owned()))
        })
        .collect();
    let Some(paths) = document["paths"].as_object_mut() else {
        return;
    };
    for item in paths.values_mut() {
        for method in METHODS {
            let Some(operation) = item.get_mut(method) else {
                continue;
            };
            let asked = Names::in_path(operation);
            let Some(responses) = operation["responses"].as_object_mut() else {
                continue;
            };
            for (status, response) in responses.iter_mut() {
                let answer = Names::answered(response).filter(|_| status.starts_with('2'));
                let Some((answer, at)) = answer else {
                    continue;
                };
                let links: Map<String, Value> = targets
                    .iter()
                    .filter_map(|(target, id)| {
                        let parameters = answer.fills(*target, at, asked)?;
                        Some((
                            id.clone(),
                            json!({"operationId": id, "parameters": parameters}),
                        ))
                    })
                    .collect();
                if !links.is_empty() {
                    response["links"] = Value::Object(links);
                }
            }
        }
    }
}
