//! Layers every request passes: who is calling (and CSRF for cookie writes), idempotent
//! replays of creates, security headers, metrics, and problem bodies for bare errors.

use crate::WebState;
use crate::extract::ClientIp;
use crate::problem::{PROBLEM_JSON, Problem};
use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use kefu_app::idempotency::IdempotencyClaim;
use kefu_app::{AppError, Principal, Via, constant_time_eq};
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use std::time::Instant;

pub const SESSION_COOKIE: &str = "kefu_session";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// A `Set-Cookie` value for an HttpOnly cookie, `Secure` behind an https public URL or proxy;
/// an empty value with `max_age` 0 clears it.
pub fn cookie_header(state: &WebState, headers: &HeaderMap, name: &str, value: &str, max_age: u64, same_site: &str) -> HeaderValue {
    let secure = state.config.public_url.as_deref().is_some_and(|u| u.starts_with("https://"))
        || headers.get("x-forwarded-proto").is_some_and(|v| v.as_bytes() == b"https");
    let c = format!("{name}={value}; Path=/; HttpOnly; SameSite={same_site}; Max-Age={max_age}{}", if secure { "; Secure" } else { "" });
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static("kefu_invalid=; Path=/; Max-Age=0"))
}

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn client_ip(state: &WebState, req: &Request) -> Option<String> {
    if state.config.trust_proxy
        && let Some(ip) = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .map(|s| s.trim().to_string())
            .filter(|s| s.parse::<std::net::IpAddr>().is_ok())
    {
        return Some(ip);
    }
    req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string())
}

/// Resolves the caller from a bearer token or the session cookie. A bad bearer token is an
/// error at once; a stale cookie just means "not signed in". Cookie-authenticated writes must
/// echo the session's CSRF token.
pub async fn authenticate(State(state): State<WebState>, mut req: Request, next: Next) -> Response {
    let ip = client_ip(&state, &req);
    req.extensions_mut().insert(ClientIp(ip.clone()));
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")).map(str::trim));
    // Signing in needs no caller, and must work even with a stale cookie and no CSRF token.
    if req.uri().path().starts_with("/api/v1/auth/login") {
        return next.run(req).await;
    }
    let principal: Result<Option<Principal>, AppError> = match bearer {
        Some(Some(secret)) => match state.app.principal_from_token(secret, ip).await {
            Ok(None) => {
                return Problem::new(StatusCode::UNAUTHORIZED, "invalid_token", "the API token is unknown, expired or revoked")
                    .into_response();
            }
            other => other,
        },
        Some(None) => {
            return Problem::new(StatusCode::UNAUTHORIZED, "invalid_token", "use `Authorization: Bearer <token>`").into_response();
        }
        None => match cookie(req.headers(), SESSION_COOKIE) {
            Some(token) => state.app.principal_from_session(token, ip).await,
            None => Ok(None),
        },
    };
    let principal = match principal {
        Ok(p) => p,
        Err(e) => return Problem::from(e).into_response(),
    };
    if let Some(p) = principal {
        if let Via::Session { csrf_token, .. } = &p.via
            && !req.method().is_safe()
        {
            let sent = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
            if !constant_time_eq(sent.as_bytes(), csrf_token.as_bytes()) {
                return Problem::new(StatusCode::FORBIDDEN, "csrf_failed", "send the session's CSRF token in the X-CSRF-Token header")
                    .into_response();
            }
        }
        req.extensions_mut().insert(p);
    }
    next.run(req).await
}

pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";

/// A POST with an `Idempotency-Key` runs once per caller and key; a retry gets the first
/// response back (marked `Idempotent-Replayed: true`). The same key with a different request
/// is refused. Answers we failed to give (5xx) are forgotten so the retry runs again.
pub async fn idempotency(State(state): State<WebState>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let Some(key) = req.headers().get(IDEMPOTENCY_HEADER) else { return next.run(req).await };
    // An upload retried creates one more unattached file, which harms nothing; hashing
    // megabytes to spot the retry is not worth it.
    if req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("multipart/")) {
        return next.run(req).await;
    }
    let key = match key.to_str() {
        Ok(k) if !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| b.is_ascii_graphic()) => k.to_string(),
        _ => {
            return Problem::new(
                StatusCode::BAD_REQUEST,
                "invalid_idempotency_key",
                "Idempotency-Key must be 1 to 255 visible ASCII characters",
            )
            .into_response();
        }
    };
    // Keys are per caller; an anonymous request has nothing to scope them to.
    let Some(scope) = req.extensions().get::<Principal>().map(|p| format!("agent:{}", p.agent.id)) else {
        return next.run(req).await;
    };
    let (parts, body) = req.into_parts();
    let bytes = match to_bytes(body, state.config.max_body_bytes).await {
        Ok(b) => b,
        Err(_) => return Problem::for_status(StatusCode::PAYLOAD_TOO_LARGE).into_response(),
    };
    let mut h = Sha256::new();
    h.update(parts.method.as_str());
    h.update([0]);
    h.update(parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or(""));
    h.update([0]);
    h.update(&bytes);
    let request_hash = hex::encode(h.finalize());
    let app = &state.app;
    match app.claim_idempotency(&scope, &key, &request_hash).await {
        Err(e) => return Problem::from(e).into_response(),
        Ok(IdempotencyClaim::InFlight { .. }) => {
            return Problem::new(StatusCode::CONFLICT, "idempotency_key_in_flight", "a request with this Idempotency-Key is still running")
                .into_response();
        }
        Ok(IdempotencyClaim::Done { request_hash: first, status, content_type, body }) => {
            if first != request_hash {
                return Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "idempotency_key_reused",
                    "this Idempotency-Key was used for a different request",
                )
                .into_response();
            }
            let mut res = (StatusCode::from_u16(status).unwrap_or(StatusCode::OK), body).into_response();
            if let Some(ct) = content_type.and_then(|c: String| HeaderValue::from_str(&c).ok()) {
                res.headers_mut().insert(header::CONTENT_TYPE, ct);
            }
            res.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
            return res;
        }
        Ok(IdempotencyClaim::New) => {}
    }
    let res = next.run(Request::from_parts(parts, Body::from(bytes))).await;
    let (rparts, rbody) = res.into_parts();
    let rbytes = match to_bytes(rbody, 16 * 1024 * 1024).await {
        Ok(b) => b,
        Err(_) => {
            let _ = app.release_idempotency(&scope, &key).await;
            return Problem::for_status(StatusCode::INTERNAL_SERVER_ERROR).into_response();
        }
    };
    let saved = if rparts.status.is_server_error() {
        app.release_idempotency(&scope, &key).await
    } else {
        let ct = rparts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
        app.complete_idempotency(&scope, &key, rparts.status.as_u16(), ct, &rbytes).await
    };
    if let Err(e) = saved {
        tracing::error!(error = %e, "saving idempotency record failed");
    }
    Response::from_parts(rparts, Body::from(rbytes))
}

/// Every response: no sniffing, no framing, a strict CSP, no referrer leaks; API answers are
/// never cached.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let is_api = req.uri().path().starts_with("/api/");
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    // A handler may set a stricter policy of its own (downloads are sandboxed).
    h.entry(header::CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
             frame-ancestors 'none'; object-src 'none'; base-uri 'self'; form-action 'self'",
    ));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("strict-origin-when-cross-origin"));
    h.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    if is_api && !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// Error responses that carry no problem body (unknown route, wrong method, a layer's 413)
/// get one, so clients always see the same shape.
pub async fn problem_for_bare_errors(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    // Problems pass, and so do the help center's pages for readers (its "not found" page).
    let is_problem_or_page = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()) || v.as_bytes().starts_with(b"text/html"));
    if is_problem_or_page {
        return res;
    }
    let allow = res.headers().get(header::ALLOW).cloned();
    let mut out = Problem::for_status(status).into_response();
    if let Some(a) = allow {
        out.headers_mut().insert(header::ALLOW, a);
    }
    out
}

/// Counts requests and observes latency per route template (never per raw path, which
/// would let clients create unbounded series).
pub async fn track_metrics(State(state): State<WebState>, req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string()).unwrap_or_else(|| "unmatched".into());
    let method = req.method().as_str().to_string();
    let start = Instant::now();
    let res = next.run(req).await;
    state.metrics.observe(method, route, res.status().as_u16(), start.elapsed().as_secs_f64());
    res
}
