//! The console shell, static assets and the API reference, embedded in the binary (read from
//! disk in debug builds, so front-end work needs no rebuild).

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

#[derive(rust_embed::RustEmbed)]
#[folder = "../../web-assets"]
#[exclude = "*.test.*"]
pub struct Assets;

fn serve(path: &str, cache: &'static str) -> Response {
    let Some(file) = <Assets as rust_embed::Embed>::get(path) else { return StatusCode::NOT_FOUND.into_response() };
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    let mut res = file.data.into_owned().into_response();
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(mime.essence_str()) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    res
}

pub async fn asset(Path(path): Path<String>) -> Response {
    if path.split('/').any(|seg| seg == ".." || seg.starts_with('.')) {
        return StatusCode::NOT_FOUND.into_response();
    }
    serve(&path, "no-cache")
}

pub async fn console() -> Response {
    let mut res = serve("console/index.html", "no-cache");
    if let Some(ct) = res.headers_mut().get_mut(header::CONTENT_TYPE) {
        *ct = HeaderValue::from_static("text/html; charset=utf-8");
    }
    res
}

/// The customer portal's shell; its script routes `/portal/...` on the client.
pub async fn portal() -> Response {
    let mut res = serve("portal/index.html", "no-cache");
    if let Some(ct) = res.headers_mut().get_mut(header::CONTENT_TYPE) {
        *ct = HeaderValue::from_static("text/html; charset=utf-8");
    }
    res
}

/// The live chat widget that exchanges embed with one script tag, from any origin.
pub async fn widget() -> Response {
    let mut res = serve("widget/widget.js", "public, max-age=300");
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/javascript; charset=utf-8"));
    res.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    res
}

/// A fictional exchange's page with the widget on it, to play customer in one tab and agent in
/// another.
pub async fn demo(axum::extract::State(s): axum::extract::State<crate::WebState>) -> Response {
    let Some(file) = <Assets as rust_embed::Embed>::get("widget/demo.html") else { return StatusCode::NOT_FOUND.into_response() };
    let widget_id = match s.app.chat_widget_id().await {
        Ok(id) => id,
        Err(e) => return crate::problem::Problem::from(e).into_response(),
    };
    let html = String::from_utf8_lossy(&file.data).replace("__WIDGET_ID__", &widget_id);
    let mut res = html.into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // A stand-in for an exchange's own page, with its own inline bits; Kefu's pages stay strict.
    res.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; \
             connect-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'self'",
        ),
    );
    res
}

pub async fn api_docs() -> Response {
    let mut res = serve("apidocs/index.html", "no-cache");
    if let Some(ct) = res.headers_mut().get_mut(header::CONTENT_TYPE) {
        *ct = HeaderValue::from_static("text/html; charset=utf-8");
    }
    res
}

pub async fn root() -> Redirect {
    Redirect::temporary("/console")
}
