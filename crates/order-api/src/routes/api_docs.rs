//! The API's own description: the OpenAPI document and a browsable UI of it.
//!
//! The UI is Swagger UI, its files compiled into the binary, so that the page works offline
//! and behind a strict proxy: nothing it loads comes from anywhere but this service.

use std::sync::{Arc, LazyLock};

use actix_web::http::header::{CacheControl, CacheDirective};
use actix_web::{get, web, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_swagger_ui::Config;

use crate::error::ApiError;

/// Where the UI's files are served from.
const UI_PREFIX: &str = "/api/docs/";

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(openapi_document)
        .service(docs)
        // The UI's scripts, styles and icons: the page's parts, not operations of the API,
        // so they stay out of the document.
        .route("/api/docs/{file}/", web::get().to(docs_file));
}

/// This document.
#[utoipa::path(tag = "operations", responses((status = 200, description = "The OpenAPI 3 document")))]
#[get("/api/v1/openapi.json/")]
async fn openapi_document() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(crate::openapi::document_json())
}

/// The UI reads the document from this service, and its validator badge, which would ask a
/// public server to validate the document, is off.
static UI_CONFIG: LazyLock<Arc<Config<'static>>> = LazyLock::new(|| {
    Arc::new(
        Config::from("/api/v1/openapi.json")
            .validator_url("none")
            .try_it_out_enabled(true)
            .persist_authorization(true)
            .display_request_duration(true),
    )
});

/// One of the UI's files, read from the binary. Only the initializer is rendered (with
/// the configuration above), and that cannot fail for this constant configuration: the
/// test of this page would.
fn ui_file(name: &str) -> Option<utoipa_swagger_ui::SwaggerFile<'static>> {
    utoipa_swagger_ui::serve(name, UI_CONFIG.clone())
        .expect("the docs UI's constant configuration renders")
}

/// The UI's page with its links made absolute: the page is also reached as `/api/docs`,
/// without the slash (the path is normalized inside the service, not redirected), where
/// the browser would resolve `./swagger-ui.css` to `/api/swagger-ui.css`.
static INDEX: LazyLock<String> = LazyLock::new(|| {
    let page = ui_file("index.html").expect("Swagger UI's index.html is compiled in");
    String::from_utf8_lossy(&page.bytes)
        .replace("href=\"./", &format!("href=\"{UI_PREFIX}"))
        .replace("src=\"./", &format!("src=\"{UI_PREFIX}"))
        .replace(
            "href=\"index.css\"",
            &format!("href=\"{UI_PREFIX}index.css\""),
        )
        .replace(
            "<title>Swagger UI</title>",
            "<title>Order Service API</title>",
        )
});

/// A browsable rendering of this document (Swagger UI, served by this service itself).
#[utoipa::path(tag = "operations", responses((status = 200, description = "An HTML page", content_type = "text/html")))]
#[get("/api/docs/")]
async fn docs() -> HttpResponse {
    index_page()
}

fn index_page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(INDEX.as_str())
}

async fn docs_file(file: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let file = file.into_inner();
    if file == "index.html" {
        return Ok(index_page());
    }
    let found = ui_file(&file).ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type(found.content_type)
        // The files change only with the binary; an hour keeps a reload cheap without
        // keeping an old UI long after an upgrade.
        .insert_header(CacheControl(vec![
            CacheDirective::Public,
            CacheDirective::MaxAge(3600),
        ]))
        .body(found.bytes.into_owned()))
}
