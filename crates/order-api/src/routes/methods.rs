//! The methods every route answers besides its own: `HEAD` wherever `GET` is served, and
//! `OPTIONS` everywhere, as link checkers, caches and DRF clients expect.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use actix_web::body::MessageBody;
use actix_web::dev::{ResourceDef, ServiceRequest, ServiceResponse};
use actix_web::http::header::ALLOW;
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse};
use serde_json::json;
use utoipa::openapi::path::{Operation, PathItem};

/// Answers `HEAD` as the same request's `GET` would — status and headers, `Content-Length`
/// included. The handler runs as for `GET`; the HTTP codec, which parsed the request as
/// `HEAD`, writes the headers of the answer and leaves its body out.
pub async fn head_as_get(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
        req.extensions_mut().insert(AskedWith(Method::HEAD));
    }
    next.call(req).await
}

/// The method a request came with, when [`head_as_get`] answered it as another.
#[derive(Clone, Debug)]
pub struct AskedWith(pub Method);

/// What `OPTIONS` tells of one route.
#[derive(Clone, Debug)]
pub struct RouteOptions {
    /// The `Allow` header: the route's methods, with `HEAD` and `OPTIONS`.
    allow: String,
    /// DRF's metadata: the route's name and description.
    name: String,
    description: String,
}

/// The operations a documented path serves, by method.
fn operations(item: &PathItem) -> Vec<(Method, &Operation)> {
    [
        (Method::GET, &item.get),
        (Method::POST, &item.post),
        (Method::PUT, &item.put),
        (Method::PATCH, &item.patch),
        (Method::DELETE, &item.delete),
    ]
    .into_iter()
    .filter_map(|(method, operation)| operation.as_ref().map(|o| (method, o)))
    .collect()
}

/// Whether `method` on `path` reaches one of the documented operations, rather than a 405
/// (or a 404): the writes that `Idempotency-Key` applies to.
pub fn serves(method: &Method, path: &str) -> bool {
    static SERVED: LazyLock<Vec<(ResourceDef, Vec<Method>)>> = LazyLock::new(|| {
        crate::openapi::document()
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let methods = operations(item).into_iter().map(|(method, _)| method);
                (ResourceDef::new(path.as_str()), methods.collect())
            })
            .collect()
    });
    SERVED
        .iter()
        .any(|(route, methods)| methods.contains(method) && route.is_match(path))
}

/// Every documented path with what `OPTIONS` answers for it, from the OpenAPI document,
/// so that a new route is covered as soon as it is documented.
pub fn route_options(document: &utoipa::openapi::OpenApi) -> BTreeMap<String, RouteOptions> {
    document
        .paths
        .paths
        .iter()
        .map(|(path, item)| {
            let served = operations(item);
            let mut methods: Vec<&str> = served.iter().map(|(method, _)| method.as_str()).collect();
            if item.get.is_some() {
                methods.push("HEAD");
            }
            methods.push("OPTIONS");
            let first = served.first().map(|(_, operation)| *operation);
            let options = RouteOptions {
                allow: methods.join(", "),
                name: first.and_then(|o| o.summary.clone()).unwrap_or_default(),
                description: first
                    .and_then(|o| o.description.clone())
                    .unwrap_or_default(),
            };
            (path.clone(), options)
        })
        .collect()
}

impl RouteOptions {
    /// The route's methods, as `Allow` lists them.
    pub fn allow(&self) -> &str {
        &self.allow
    }
}

/// `OPTIONS` on a route: 200 with its `Allow` header and DRF's metadata body.
pub fn options(route: &RouteOptions) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((ALLOW, route.allow.clone()))
        .json(json!({
            "name": route.name,
            "description": route.description,
            "renders": ["application/json"],
            "parses": ["application/json"],
        }))
}
