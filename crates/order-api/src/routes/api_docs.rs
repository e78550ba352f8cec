//! The API's own description: the OpenAPI document and a browsable UI of it.
//!
//! The UI is Swagger UI, its files compiled into the binary, so that the page works offline
//! and behind a strict proxy: nothing it loads comes from anywhere but this service.

use std::borrow::Cow;
use std::sync::{Arc, LazyLock};

use actix_web::http::header::{CacheControl, CacheDirective};
use actix_web::{get, web, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_swagger_ui::{Config, SwaggerFile};

use crate::error::ApiError;

/// Where the UI's files are served from.
const UI_PREFIX: &str = "/api/docs/";

pub fn configure(cfg: &mut ServiceConfig) {
    // Rendered now, so that a page that cannot be rendered stops the service at start
    // instead of failing a request.
    LazyLock::force(&INITIALIZER);
    LazyLock::force(&INDEX);
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

/// The UI's script that starts it with the configuration above: the one file rendered.
const INITIALIZER_FILE: &str = "swagger-initializer.js";

static INITIALIZER: LazyLock<SwaggerFile<'static>> = LazyLock::new(|| {
    utoipa_swagger_ui::serve(INITIALIZER_FILE, UI_CONFIG.clone())
        .expect("the docs UI's configuration renders")
        .expect("Swagger UI's initializer is compiled in")
});

/// One of the UI's files, read from the binary: its content type and bytes.
fn ui_file(name: &str) -> Option<(String, Cow<'static, [u8]>)> {
    if name == INITIALIZER_FILE {
        return Some((
            INITIALIZER.content_type.clone(),
            Cow::Borrowed(&INITIALIZER.bytes),
        ));
    }
    // Only the initializer is rendered, so serving any other file cannot fail.
    let file = utoipa_swagger_ui::serve(name, UI_CONFIG.clone()).ok()??;
    Some((file.content_type, file.bytes))
}

/// The UI's page with its links made absolute: the page is also reached as `/api/docs`,
/// without the slash (the path is normalized inside the service, not redirected), where
/// the browser would resolve `./swagger-ui.css` to `/api/swagger-ui.css`.
static INDEX: LazyLock<String> = LazyLock::new(|| {
    let (_, page) = ui_file("index.html").expect("Swagger UI's index.html is compiled in");
    String::from_utf8_lossy(&page)
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
    let (content_type, bytes) = ui_file(&file).ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        // The files change only with the binary; an hour keeps a reload cheap without
        // keeping an old UI long after an upgrade.
        .insert_header(CacheControl(vec![
            CacheDirective::Public,
            CacheDirective::MaxAge(3600),
        ]))
        .body(match bytes {
            Cow::Borrowed(bytes) => web::Bytes::from_static(bytes),
            Cow::Owned(bytes) => web::Bytes::from(bytes),
        }))
}
