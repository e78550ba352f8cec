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
    cfg.service(openapi_document)
        .service(docs)
        // The UI's scripts, styles and icons: the page's parts, not operations of the API,
        // so they stay out of the document.
        .route("/api/docs/{file}/", web::get().to(docs_file));
}

/// Read this OpenAPI document.
///
/// Anyone: the document, generated from the code.
#[utoipa::path(operation_id = "getApiDocument", tag = "operations", responses((status = 200, description = "The OpenAPI 3 document")))]
#[get("/api/v1/openapi.json/")]
async fn openapi_document() -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(crate::openapi::document_json()?))
}

/// Renders the UI's page and the document, so that a failure stops the service at start
/// instead of failing a request.
pub fn check() -> Result<(), String> {
    crate::openapi::document_json().map_err(|error| error.to_string())?;
    DOCS_UI.as_ref().map(drop).map_err(Clone::clone)
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

/// The UI's two rendered files: its initializer and its page.
struct DocsUi {
    initializer: SwaggerFile<'static>,
    index: String,
}

static DOCS_UI: LazyLock<Result<DocsUi, String>> = LazyLock::new(|| {
    let initializer = utoipa_swagger_ui::serve(INITIALIZER_FILE, UI_CONFIG.clone())
        .map_err(|error| format!("the docs UI's configuration does not render: {error}"))?
        .ok_or("Swagger UI's initializer is not compiled in")?;
    let page = compiled_file("index.html").ok_or("Swagger UI's index.html is not compiled in")?;
    // Links made absolute: the page is also reached as `/api/docs`, without the slash (the
    // path is normalized inside the service, not redirected), where the browser would
    // resolve `./swagger-ui.css` to `/api/swagger-ui.css`.
    let index = String::from_utf8_lossy(&page.bytes)
        .replace("href=\"./", &format!("href=\"{UI_PREFIX}"))
        .replace("src=\"./", &format!("src=\"{UI_PREFIX}"))
        .replace(
            "href=\"index.css\"",
            &format!("href=\"{UI_PREFIX}index.css\""),
        )
        .replace(
            "<title>Swagger UI</title>",
            "<title>Order Service API</title>",
        );
    Ok(DocsUi { initializer, index })
});

fn docs_ui() -> Result<&'static DocsUi, ApiError> {
    DOCS_UI
        .as_ref()
        .map_err(|error| ApiError::Internal(error.clone()))
}

/// One of the UI's files as compiled in; only the initializer is rendered, so reading any
/// other cannot fail.
fn compiled_file(name: &str) -> Option<SwaggerFile<'static>> {
    utoipa_swagger_ui::serve(name, UI_CONFIG.clone()).ok()?
}

/// A file of the UI: its content type and bytes.
type UiFile = (String, Cow<'static, [u8]>);

/// One of the UI's files, read from the binary.
fn ui_file(name: &str) -> Result<Option<UiFile>, ApiError> {
    if name == INITIALIZER_FILE {
        let initializer = &docs_ui()?.initializer;
        return Ok(Some((
            initializer.content_type.clone(),
            Cow::Borrowed(&initializer.bytes),
        )));
    }
    Ok(compiled_file(name).map(|file| (file.content_type, file.bytes)))
}

/// Browse the API.
///
/// Anyone: Swagger UI over this document, served by the binary itself.
#[utoipa::path(operation_id = "getApiDocsPage", tag = "operations", responses((status = 200, description = "An HTML page", content_type = "text/html")))]
#[get("/api/docs/")]
async fn docs() -> Result<HttpResponse, ApiError> {
    index_page()
}

fn index_page() -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(docs_ui()?.index.as_str()))
}

async fn docs_file(file: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let file = file.into_inner();
    if file == "index.html" {
        return index_page();
    }
    let (content_type, bytes) = ui_file(&file)?.ok_or(ApiError::NotFound)?;
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
