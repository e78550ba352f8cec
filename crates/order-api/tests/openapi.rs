//! The OpenAPI document describes exactly the API: every endpoint is in it,
//! every operation in it is served, and real answers have the documented shape.

mod support;

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::{listing, seed, As, Cast, TestApp};

/// The API's endpoints, written out by hand from docs/api.md.
fn spec_endpoints() -> BTreeSet<(String, String)> {
    [
        ("GET", "/api/v1/orders/"),
        ("GET", "/api/v1/orders/{id}/"),
        ("POST", "/api/v1/orders/{id}/ship/"),
        ("POST", "/api/v1/orders/{id}/complete/"),
        ("POST", "/api/v1/orders/{id}/dispute/"),
        ("POST", "/api/v1/orders/{id}/cancel/"),
        ("POST", "/api/v1/orders/{id}/refund/"),
        ("POST", "/api/v1/orders/{id}/release/"),
        ("POST", "/api/v1/orders/{id}/settle/"),
        ("POST", "/api/v1/orders/{id}/extend/"),
        ("GET", "/api/v1/orders/{id}/history/"),
        ("GET", "/api/v1/orders/internal/events/"),
        ("POST", "/api/v1/orders/internal/create/"),
        ("POST", "/api/v1/orders/internal/mark-paid/"),
        ("POST", "/api/v1/orders/{id}/purchase/"),
        ("POST", "/api/v1/orders/internal/cancel/"),
        ("POST", "/api/v1/orders/internal/mark-delivered/"),
        ("POST", "/api/v1/orders/internal/erase-user/"),
        ("POST", "/api/v1/orders/carrier-events/"),
        ("GET", "/api/v1/disputes/"),
        ("GET", "/api/v1/disputes/{id}/"),
        ("PATCH", "/api/v1/disputes/{id}/"),
        ("POST", "/api/v1/disputes/{id}/evidence/"),
        ("POST", "/api/v1/disputes/{id}/offers/"),
        ("POST", "/api/v1/disputes/{id}/offers/{offer_id}/accept/"),
        ("POST", "/api/v1/disputes/{id}/offers/{offer_id}/decline/"),
        ("GET", "/healthz/"),
        ("GET", "/readyz/"),
        ("GET", "/metrics/"),
        ("GET", "/api/v1/openapi.json/"),
        ("GET", "/api/docs/"),
    ]
    .into_iter()
    .map(|(m, p)| (m.to_owned(), p.to_owned()))
    .collect()
}

fn documented(document: &Value) -> BTreeSet<(String, String)> {
    support::documented_operations(document)
        .into_iter()
        .flat_map(|(path, methods)| methods.into_iter().map(move |m| (m, path.clone())))
        .collect()
}

#[tokio::test]
async fn the_document_lists_exactly_the_spec_endpoints() {
    let app = TestApp::spawn(seed(0, "1.00")).await;
    let answer = app.get("/api/v1/openapi.json", &As::Nobody).await;
    answer.assert_status(StatusCode::OK);
    assert!(answer.body["openapi"].as_str().unwrap().starts_with("3."));
    assert_eq!(documented(&answer.body), spec_endpoints());
    let schemes = &answer.body["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["serviceToken"]["name"], "X-Service-Token");
}

#[tokio::test]
async fn every_operation_has_its_own_name_and_says_what_it_does() {
    let app = TestApp::spawn(seed(0, "1.00")).await;
    let document = app.get("/api/v1/openapi.json", &As::Nobody).await.body;
    let mut names = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let at = format!("{method} {path}");
            let name = operation["operationId"].as_str().unwrap_or_default();
            assert!(
                name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                    && name.chars().all(|c| c.is_ascii_alphanumeric()),
                "{at}: operationId {name:?} is not lowerCamelCase"
            );
            assert!(names.insert(name.to_owned()), "{at}: {name} is used twice");
            let summary = operation["summary"].as_str().unwrap_or_default();
            assert!(
                !summary.is_empty() && !summary.ends_with(','),
                "{at}: summary {summary:?}"
            );
            let description = operation["description"].as_str().unwrap_or_default();
            assert!(description.len() > 40, "{at}: description {description:?}");
        }
    }
    assert!(names.contains("cancelUnpaidOrder") && names.contains("cancelOrder"));
    assert_eq!(document["servers"].as_array().map(Vec::len), Some(1));
    assert!(document["info"]["contact"]["name"].is_string());
    assert_eq!(document["info"]["license"]["identifier"], "MIT");
}

#[tokio::test]
async fn every_request_body_shows_an_example() {
    let app = TestApp::spawn(seed(0, "1.00")).await;
    let document = app.get("/api/v1/openapi.json", &As::Nobody).await.body;
    let mut bodies = 0;
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let schema = &operation["requestBody"]["content"]["application/json"]["schema"];
            let Some(reference) = schema["$ref"].as_str() else {
                continue;
            };
            let name = reference.trim_start_matches("#/components/schemas/");
            let example = &document["components"]["schemas"][name]["example"];
            assert!(
                example.as_object().is_some_and(|fields| !fields.is_empty()),
                "{method} {path}: {name} has no example"
            );
            bodies += 1;
        }
    }
    assert!(bodies >= 15, "only {bodies} request bodies");
}

#[tokio::test]
async fn every_documented_operation_is_served() {
    let app = TestApp::spawn(seed(0, "1.00")).await;
    let document = app.get("/api/v1/openapi.json", &As::Nobody).await.body;
    for (method, path) in documented(&document) {
        let concrete = path.replace("{id}", &support::uuid(7).to_string());
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let answer = app
            .call(method.clone(), &concrete, &As::Nobody, Some(json!({})))
            .await;
        let public = path.starts_with("/healthz")
            || path.starts_with("/readyz")
            || path.starts_with("/metrics")
            || path.starts_with("/api/v1/openapi")
            || path.starts_with("/api/docs");
        let expected = if public {
            StatusCode::OK
        } else {
            StatusCode::UNAUTHORIZED
        };
        assert_eq!(
            answer.status, expected,
            "{method} {concrete}: {}",
            answer.body
        );
    }
    // And a documented path asked with another method is a 405, not a 404.
    let put = app
        .call(Method::PUT, "/api/v1/orders/", &As::Nobody, None)
        .await;
    put.assert_status(StatusCode::METHOD_NOT_ALLOWED);
}

fn properties(document: &Value, schema: &str) -> BTreeSet<String> {
    document["components"]["schemas"][schema]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

fn keys(value: &Value) -> BTreeSet<String> {
    value.as_object().unwrap().keys().cloned().collect()
}

#[tokio::test]
async fn answers_have_the_documented_fields() {
    let app = TestApp::spawn(seed(0, "1000.00")).await;
    let document = app.get("/api/v1/openapi.json", &As::Nobody).await.body;
    let order = app.shipped_order(listing(1), "10.00").await;
    assert_eq!(keys(&order), properties(&document, "Order"));
    let dispute = app
        .open_dispute(&order, Cast::buyer(), "It arrived broken.")
        .await;
    assert_eq!(keys(&dispute), properties(&document, "Dispute"));
    let disputed = app
        .get(
            &format!("/api/v1/orders/{}/", order["id"].as_str().unwrap()),
            &As::buyer(),
        )
        .await
        .body;
    assert_eq!(
        keys(&disputed["dispute"]),
        properties(&document, "DisputeSummary")
    );
    let page = app.get("/api/v1/orders/", &As::buyer()).await.body;
    // `count_exact` appears only when a count stopped at its cap.
    let mut documented = properties(&document, "OrderPage");
    assert!(documented.remove("count_exact"));
    assert_eq!(keys(&page), documented);
    let statuses = strings(&document["components"]["schemas"]["OrderStatus"]["enum"]);
    let domain: BTreeSet<String> = order_domain::OrderStatus::ALL
        .iter()
        .map(|s| s.as_str().to_owned())
        .collect();
    assert_eq!(statuses, domain);
}

fn strings(list: &Value) -> BTreeSet<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|item| item.as_str().unwrap().to_owned())
        .collect()
}

/// What the buyer, the seller and an admin are offered on what `path` reads, together.
async fn offered_to_all(app: &TestApp, path: &str) -> BTreeSet<String> {
    let mut offered = BTreeSet::new();
    for who in [As::buyer(), As::seller(), As::admin()] {
        offered.extend(strings(&app.get(path, &who).await.body["allowed_actions"]));
    }
    offered
}

#[tokio::test]
async fn every_action_an_answer_offers_is_one_the_document_names() {
    let app = TestApp::spawn(seed(0, "1000.00")).await;
    let document = app.get("/api/v1/openapi.json", &As::Nobody).await.body;
    let documented = |schema: &str| {
        strings(
            &document["components"]["schemas"][schema]["properties"]["allowed_actions"]["items"]
                ["enum"],
        )
    };
    let order = app.shipped_order(listing(1), "10.00").await;
    let path = format!("/api/v1/orders/{}/", order["id"].as_str().unwrap());
    let offered = offered_to_all(&app, &path).await;
    assert!(offered.is_subset(&documented("Order")), "{offered:?}");
    assert!(offered.contains("release"), "an admin's operator actions");

    let dispute = app
        .open_dispute(&order, Cast::buyer(), "It arrived broken.")
        .await;
    let path = format!("/api/v1/disputes/{}/", dispute["id"].as_str().unwrap());
    let offered = offered_to_all(&app, &path).await;
    assert!(offered.is_subset(&documented("Dispute")), "{offered:?}");
    assert!(offered.contains("make_offer"), "the seller's offer");
}

/// Every operation of the document, with its path.
fn operations(document: &Value) -> impl Iterator<Item = (&String, &Value)> {
    document["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| item.as_object().unwrap().values().map(move |op| (path, op)))
        .filter(|(_, operation)| operation.get("operationId").is_some())
}

/// The operation named `id`, with its path.
fn operation<'a>(document: &'a Value, id: &str) -> (&'a String, &'a Value) {
    operations(document)
        .find(|(_, operation)| operation["operationId"] == id)
        .unwrap_or_else(|| panic!("no operation {id}"))
}

/// The path of the operation `id` with its path parameters filled from `link`, whose
/// expressions read `answer` (`$response.body#/…`) and the path `asked` of the request
/// that got it (`$request.path.id`).
fn follow(document: &Value, link: &Value, answer: &Value, asked: &str) -> String {
    let (path, _) = operation(document, link["operationId"].as_str().unwrap());
    let mut path = path.clone();
    for (name, expression) in link["parameters"].as_object().unwrap() {
        let expression = expression.as_str().unwrap();
        let value = match expression.strip_prefix("$response.body#") {
            Some(pointer) => answer
                .pointer(pointer)
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned(),
            None => {
                assert_eq!(expression, "$request.path.id");
                asked.to_owned()
            }
        };
        path = path.replace(&format!("{{{name}}}"), &value);
    }
    path
}

/// The link `target` of `operation_id`'s answer with `status`.
fn link(document: &Value, operation_id: &str, status: &str, target: &str) -> Value {
    let (_, answering) = operation(document, operation_id);
    answering["responses"][status]["links"][target].clone()
}

#[tokio::test]
async fn every_link_names_an_operation_and_fills_exactly_its_path() {
    let app = TestApp::spawn(seed(0, "1000.00")).await;
    let document = app.get("/api/v1/openapi.json", &As::Nobody).await.body;
    let mut links = 0;
    for (_, answering) in operations(&document) {
        for response in answering["responses"].as_object().unwrap().values() {
            for (name, link) in response["links"].as_object().into_iter().flatten() {
                links += 1;
                assert_eq!(link["operationId"], *name);
                let (path, _) = operation(&document, name);
                let filled: BTreeSet<String> = link["parameters"]
                    .as_object()
                    .unwrap()
                    .keys()
                    .cloned()
                    .collect();
                let templated: BTreeSet<String> = path
                    .split('/')
                    .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
                    .map(str::to_owned)
                    .collect();
                assert_eq!(filled, templated, "{name}");
            }
        }
    }
    assert!(links > 0, "the document links its answers");
}

#[tokio::test]
async fn following_an_answers_links_reaches_what_it_names() {
    let app = TestApp::spawn(seed(0, "1000.00")).await;
    let document = app.get("/api/v1/openapi.json", &As::Nobody).await.body;
    let order = app.shipped_order(listing(1), "10.00").await;

    let read = follow(
        &document,
        &link(&document, "shipOrder", "200", "getOrder"),
        &order,
        "",
    );
    let read = app.get(&read, &As::buyer()).await;
    read.assert_status(StatusCode::OK);
    assert_eq!(read.body["id"], order["id"]);

    let dispute = app
        .open_dispute(&order, Cast::buyer(), "It arrived broken.")
        .await;
    let its_order = link(&document, "openDispute", "201", "getOrder");
    let its_order = app
        .get(&follow(&document, &its_order, &dispute, ""), &As::seller())
        .await;
    assert_eq!(its_order.body["id"], order["id"], "{}", its_order.body);

    let make_offer = link(&document, "getDispute", "200", "makeOffer");
    let offers = follow(&document, &make_offer, &dispute, "");
    let offer = app
        .post(&offers, &As::seller(), json!({"refund_amount": "2.00"}))
        .await;
    offer.assert_status(StatusCode::CREATED);
    let accept = link(&document, "makeOffer", "201", "acceptOffer");
    let dispute_id = dispute["id"].as_str().unwrap();
    let accepted = app
        .post(
            &follow(&document, &accept, &offer.body, dispute_id),
            &As::buyer(),
            json!({}),
        )
        .await;
    accepted.assert_status(StatusCode::OK);
    assert_eq!(accepted.body["status"], "RESOLVED");
}

#[tokio::test]
async fn a_pages_links_reach_its_first_result() {
    let app = TestApp::spawn(seed(0, "1000.00")).await;
    let document = app.get("/api/v1/openapi.json", &As::Nobody).await.body;
    let older = app.shipped_order(listing(1), "10.00").await;
    let newest = app.shipped_order(listing(2), "10.00").await;
    let dispute = app
        .open_dispute(&older, Cast::buyer(), "It arrived broken.")
        .await;

    let orders = app.get("/api/v1/orders/", &As::admin()).await;
    orders.assert_status(StatusCode::OK);
    let first = follow(
        &document,
        &link(&document, "listOrders", "200", "getOrder"),
        &orders.body,
        "",
    );
    let first = app.get(&first, &As::admin()).await;
    assert_eq!(first.body["id"], newest["id"], "{}", first.body);

    let disputes = app.get("/api/v1/disputes/", &As::admin()).await;
    let its_order = follow(
        &document,
        &link(&document, "listDisputes", "200", "shipOrder"),
        &disputes.body,
        "",
    );
    let expected = format!(
        "/api/v1/orders/{}/ship/",
        dispute["order_id"].as_str().unwrap()
    );
    assert_eq!(its_order, expected);
}

/// Every `src="…"` and `href="…"` of an HTML page.
fn linked(page: &str) -> Vec<String> {
    ["src=\"", "href=\""]
        .iter()
        .flat_map(|attribute| page.split(attribute).skip(1))
        .map(|rest| rest.split('"').next().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_docs_page_loads_only_from_this_service() {
    let app = TestApp::spawn(seed(0, "1.00")).await;
    for page in ["/api/docs/", "/api/docs"] {
        let answer = app.get(page, &As::Nobody).await;
        answer.assert_status(StatusCode::OK);
        let html = answer.body.as_str().unwrap().to_owned();
        let parts = linked(&html);
        assert!(parts.len() >= 4, "{html}");
        for part in parts {
            assert!(
                part.starts_with("/api/docs/"),
                "{page} loads {part}, which is not this service's own path"
            );
            let served = app.get(&part, &As::Nobody).await;
            assert_eq!(served.status, StatusCode::OK, "{part}");
            let kind = served.headers["content-type"].to_str().unwrap();
            let expected = match part.rsplit('.').next().unwrap() {
                "css" => "text/css",
                "js" => "text/javascript",
                "png" => "image/png",
                other => panic!("{part}: unexpected kind {other}"),
            };
            assert!(kind.starts_with(expected), "{part}: {kind}");
        }
    }
}

#[tokio::test]
async fn the_docs_ui_reads_this_document_and_asks_no_validator() {
    let app = TestApp::spawn(seed(0, "1.00")).await;
    let initializer = app
        .get("/api/docs/swagger-initializer.js", &As::Nobody)
        .await;
    initializer.assert_status(StatusCode::OK);
    let script = initializer.body.as_str().unwrap();
    assert!(
        script.contains("\"url\": \"/api/v1/openapi.json\""),
        "{script}"
    );
    assert!(script.contains("\"validatorUrl\": \"none\""), "{script}");
    assert!(!script.contains("{{config}}"), "{script}");
}

#[tokio::test]
async fn an_unknown_docs_file_is_a_drf_404() {
    let app = TestApp::spawn(seed(0, "1.00")).await;
    let missing = app.get("/api/docs/nothing.js", &As::Nobody).await;
    missing.assert_status(StatusCode::NOT_FOUND);
    assert_eq!(missing.body["detail"], "Not found.");
}
