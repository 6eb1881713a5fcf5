//! The public help center, rendered on the server: pages that load fast, work without
//! JavaScript and that search engines index (home, categories, articles, search, announcements
//! with their Atom feed, the sitemap), in the exchange's branding.

use crate::WebState;
use crate::problem::Problem;
use crate::routes::assets::Assets;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use kefu_app::AppError;
use kefu_app::kb::{ArticleCard, KbSearchRequest, SearchSource};
use kefu_domain::inbox::LOCALES;
use kefu_domain::kb::{ArticleKind, Category};
use serde::Deserialize;
use std::collections::HashMap;
use std::fmt::Write;
use std::sync::LazyLock;

/// The exchange's branding on its help center.
#[derive(Debug, Clone)]
pub struct HelpBranding {
    /// The exchange's name, shown in the header and titles.
    pub name: String,
    /// An image URL for the header (else the name's first letter in the brand colour).
    pub logo_url: Option<String>,
    /// `#rrggbb`.
    pub primary_color: String,
    /// Where the exchange's own site is, linked from the footer.
    pub home_url: Option<String>,
}

impl Default for HelpBranding {
    fn default() -> Self {
        Self { name: "Kefu".into(), logo_url: None, primary_color: "#2563eb".into(), home_url: None }
    }
}

const HELP_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; connect-src 'self'; \
     frame-ancestors 'none'; object-src 'none'; base-uri 'self'; form-action 'self'";

/// The `help.*` strings of the shared catalogue, per locale.
static STRINGS: LazyLock<HashMap<&'static str, HashMap<String, String>>> = LazyLock::new(|| {
    LOCALES
        .iter()
        .map(|&locale| {
            let strings = <Assets as rust_embed::Embed>::get(&format!("i18n/{locale}.json"))
                .and_then(|f| serde_json::from_slice::<HashMap<String, String>>(&f.data).ok())
                .unwrap_or_default()
                .into_iter()
                .filter(|(k, _)| k.starts_with("help.") || k.starts_with("lang."))
                .collect();
            (locale, strings)
        })
        .collect()
});

fn t(locale: &str, key: &str) -> String {
    STRINGS
        .get(locale)
        .and_then(|m| m.get(key))
        .or_else(|| STRINGS.get("en").and_then(|m| m.get(key)))
        .cloned()
        .unwrap_or_else(|| key.to_string())
}

fn t_with(locale: &str, key: &str, vars: &[(&str, &str)]) -> String {
    let mut s = t(locale, key);
    for (k, v) in vars {
        s = s.replace(&format!("{{{k}}}"), v);
    }
    s
}

/// HTML-escapes text for element content and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

fn at(micros: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_micros(micros).unwrap_or_default()
}

fn date(locale: &str, micros: i64) -> String {
    let d = at(micros);
    if locale == "en" { d.format("%-d %b %Y").to_string() } else { d.format("%Y年%-m月%-d日").to_string() }
}

fn parse_locale(raw: &str) -> Option<&'static str> {
    LOCALES.iter().copied().find(|l| l.eq_ignore_ascii_case(raw))
}

/// The best of our locales for an `Accept-Language` header.
fn negotiate(headers: &HeaderMap) -> &'static str {
    let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
    for part in accept.split(',') {
        let tag = part.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        if tag.starts_with("zh") {
            let traditional = ["zh-tw", "zh-hk", "zh-mo", "zh-hant"].iter().any(|p| tag.starts_with(p));
            return if traditional { "zh-TW" } else { "zh-CN" };
        }
        if tag.starts_with("en") {
            return "en";
        }
    }
    "en"
}

/// The site's address for absolute links (feeds, sitemaps, hreflang).
fn origin(s: &WebState, headers: &HeaderMap) -> String {
    if let Some(u) = &s.config.public_url {
        return u.trim_end_matches('/').to_string();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| h.chars().all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c)));
    format!("http://{}", host.unwrap_or("localhost"))
}

fn html(status: StatusCode, body: String) -> Response {
    let mut res = (status, body).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(HELP_CSP));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    res
}

/// A page's head and tail around `main`.
struct Page<'a> {
    locale: &'a str,
    title: String,
    description: String,
    /// (locale, path) of this page in each language, for the switcher and `hreflang`.
    alternates: Vec<(String, String)>,
    origin: String,
    query: String,
}

impl Page<'_> {
    fn render(&self, s: &WebState, main: &str) -> String {
        let b = &s.config.help;
        let l = self.locale;
        let home = format!("/help/{l}");
        let mut out = String::with_capacity(main.len() + 4096);
        let _ = write!(
            out,
            r#"<!doctype html><html lang="{l}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title><meta name="description" content="{desc}">
<link rel="stylesheet" href="/assets/shared/tokens.css"><link rel="stylesheet" href="/assets/help/help.css"><link rel="stylesheet" href="/help/brand.css">
<link rel="icon" href="/assets/shared/favicon.svg"><link rel="alternate" type="application/atom+xml" title="{feed}" href="/help/{l}/announcements.atom">
"#,
            title = esc(&self.title),
            desc = esc(&self.description),
            feed = esc(&t(l, "help.feed")),
        );
        for (alt, path) in &self.alternates {
            let _ = writeln!(out, r#"<link rel="alternate" hreflang="{}" href="{}{}">"#, alt, esc(&self.origin), esc(path));
        }
        if let Some((_, en)) = self.alternates.iter().find(|(a, _)| a == "en") {
            let _ = writeln!(out, r#"<link rel="alternate" hreflang="x-default" href="{}{}">"#, esc(&self.origin), esc(en));
        }
        let logo = match &b.logo_url {
            Some(u) => format!(r#"<img class="hc-logo" src="{}" alt="">"#, esc(u)),
            None => {
                format!(r#"<span class="hc-mark" aria-hidden="true">{}</span>"#, esc(&b.name.chars().next().unwrap_or('K').to_string()))
            }
        };
        let _ = write!(
            out,
            r##"</head><body><a class="hc-skip" href="#main">{skip}</a>
<header class="hc-header"><div class="hc-wrap hc-header-row"><a class="hc-brand" href="{home}" data-testid="hc-home-link">{logo}<span>{name}</span><span class="hc-brand-sub">{helptitle}</span></a>
<nav class="hc-lang" aria-label="{langlabel}" data-testid="hc-languages">"##,
            skip = esc(&t(l, "help.skip")),
            name = esc(&b.name),
            helptitle = esc(&t(l, "help.title")),
            langlabel = esc(&t(l, "help.language")),
        );
        for (alt, path) in &self.alternates {
            let current = if alt == l { r#" aria-current="true""# } else { "" };
            let _ = write!(
                out,
                r#"<a href="{}" hreflang="{alt}" lang="{alt}"{current} data-locale="{alt}">{}</a>"#,
                esc(path),
                esc(&t(alt, &format!("lang.{alt}")))
            );
        }
        let _ = write!(
            out,
            r#"</nav></div>
<form class="hc-wrap hc-search-bar" role="search" action="/help/{l}/search" method="get"><label class="hc-visually-hidden" for="hc-q">{label}</label>
<input id="hc-q" name="q" type="search" value="{q}" placeholder="{ph}" maxlength="200" data-testid="hc-search-input"><button type="submit" data-testid="hc-search-submit">{btn}</button></form></header>
<main id="main" class="hc-wrap hc-main">{main}</main>
<footer class="hc-footer"><div class="hc-wrap"><h2>{contact}</h2><p>{ctext}</p><p><a class="hc-button" href="/portal">{clink}</a>{site}</p><p><a href="/help/{l}/verify" data-testid="hc-verify-link">{verify}</a></p></div></footer></body></html>"#,
            label = esc(&t(l, "help.searchLabel")),
            q = esc(&self.query),
            ph = esc(&t(l, "help.searchPlaceholder")),
            btn = esc(&t(l, "help.searchButton")),
            contact = esc(&t(l, "help.contact")),
            ctext = esc(&t(l, "help.contactText")),
            clink = esc(&t(l, "help.contactLink")),
            verify = esc(&t(l, "help.verifyLink")),
            site = b.home_url.as_ref().map(|u| format!(r#" <a href="{}">{}</a>"#, esc(u), esc(&b.name))).unwrap_or_default(),
        );
        out
    }
}

fn same_page_in_every_locale(path_after_locale: &str) -> Vec<(String, String)> {
    LOCALES.iter().map(|l| (l.to_string(), format!("/help/{l}{path_after_locale}"))).collect()
}

fn not_found(s: &WebState, locale: &str, origin: String) -> Response {
    let page = Page {
        locale,
        title: t(locale, "help.title"),
        description: String::new(),
        alternates: same_page_in_every_locale(""),
        origin,
        query: String::new(),
    };
    let main = format!(
        r#"<section class="hc-empty" data-testid="hc-not-found"><h1>{}</h1><p><a href="/help/{locale}">{}</a></p></section>"#,
        esc(&t(locale, "help.notFound")),
        esc(&t(locale, "help.backHome"))
    );
    html(StatusCode::NOT_FOUND, page.render(s, &main))
}

fn failure(s: &WebState, locale: &str, origin: String, e: AppError) -> Response {
    match e {
        AppError::NotFound(_) => not_found(s, locale, origin),
        AppError::Validation(_) => {
            let reason = e.to_string();
            let page = Page {
                locale,
                title: t(locale, "help.title"),
                description: String::new(),
                alternates: Vec::new(),
                origin,
                query: String::new(),
            };
            let main =
                format!(r#"<section class="hc-empty"><h1>{}</h1></section>"#, esc(&t_with(locale, "help.invalid", &[("reason", &reason)])));
            html(StatusCode::UNPROCESSABLE_ENTITY, page.render(s, &main))
        }
        other => Problem::from(other).into_response(),
    }
}

fn card_list(cards: &[ArticleCard], testid: &str) -> String {
    let mut out = format!(r#"<ul class="hc-list" data-testid="{testid}">"#);
    for c in cards {
        let _ = write!(out, r#"<li><a href="{}" lang="{}">{}</a></li>"#, esc(&c.url), esc(&c.locale), esc(&c.title));
    }
    out.push_str("</ul>");
    out
}

/// A category's icon: a line drawing in the brand colour (no icon font, no emoji font needed).
fn icon(name: &str) -> String {
    let path = match name {
        "shield" => "M12 3l8 3v6c0 5-3.5 8-8 9-4.5-1-8-4-8-9V6z",
        "wallet" => "M3 7h18v12H3z M3 7l13-4v4 M16 13h2",
        "chart" => "M4 20V11 M10 20V5 M16 20v-7 M2 20h20",
        "coins" => "M12 3a9 9 0 1 0 .01 0z M9 12h6 M12 9v6",
        "people" => {
            "M8 11a3 3 0 1 0 0-6 3 3 0 0 0 0 6z M16 11a3 3 0 1 0 0-6 3 3 0 0 0 0 6z M2 20c0-3 3-5 6-5s6 2 6 5 M14 16c1-.7 2.3-1 4-1 2.5 0 4 2 4 5"
        }
        "code" => "M8 7l-5 5 5 5 M16 7l5 5-5 5",
        "alert" => "M12 3l10 18H2z M12 10v5 M12 18v.5",
        "megaphone" => "M3 10v4h4l8 5V5l-8 5z M19 9a4 4 0 0 1 0 6",
        _ => "M6 3h9l5 5v13H6z M15 3v5h5",
    };
    format!(
        r#"<svg class="hc-icon" viewBox="0 0 24 24" width="22" height="22" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round"><path d="{path}"/></svg>"#
    )
}

/// `/help`: the reader's language, from the browser.
pub async fn root(headers: HeaderMap) -> Redirect {
    Redirect::to(&format!("/help/{}", negotiate(&headers)))
}

/// The brand colour as a stylesheet (the pages allow no inline styles).
pub async fn brand_css(State(s): State<WebState>) -> Response {
    let css = format!(":root {{ --hc-brand: {}; }}\n", s.config.help.primary_color);
    let mut res = css.into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8"));
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    res
}

pub async fn home(State(s): State<WebState>, headers: HeaderMap, Path(locale): Path<String>) -> Response {
    let origin = origin(&s, &headers);
    let Some(l) = parse_locale(&locale) else { return not_found(&s, negotiate(&headers), origin) };
    if l != locale {
        return Redirect::permanent(&format!("/help/{l}")).into_response();
    }
    let data = match s.app.kb_home(l).await {
        Ok(d) => d,
        Err(e) => return failure(&s, l, origin, e),
    };
    let mut main = format!(r#"<section class="hc-hero"><h1>{}</h1></section>"#, esc(&t(l, "help.searchHeading")));
    let _ = write!(main, r#"<section><h2>{}</h2><div class="hc-grid" data-testid="hc-categories">"#, esc(&t(l, "help.categories")));
    for (c, cards, total) in &data.categories {
        let _ = write!(
            main,
            r#"<article class="hc-card"><h3>{}<a href="/help/{l}/categories/{}">{}</a></h3><p>{}</p>{}<p class="hc-more"><a href="/help/{l}/categories/{}">{}</a></p></article>"#,
            icon(&c.icon),
            esc(&c.slug),
            esc(c.name_in(l)),
            esc(c.description_in(l)),
            card_list(cards, "hc-category-articles"),
            esc(&c.slug),
            esc(&t_with(l, "help.viewAll", &[("n", &total.to_string())])),
        );
    }
    main.push_str("</div></section>");
    if !data.announcements.is_empty() {
        let _ =
            write!(main, r#"<section class="hc-announcements"><h2>{}</h2><ul class="hc-list hc-dated">"#, esc(&t(l, "help.announcements")));
        for a in &data.announcements {
            let _ =
                write!(main, r#"<li><a href="{}">{}</a> <time>{}</time></li>"#, esc(&a.url), esc(&a.title), esc(&date(l, a.published_at)));
        }
        let _ = write!(main, r#"</ul><p><a href="/help/{l}/announcements">{}</a></p></section>"#, esc(&t(l, "help.allAnnouncements")));
    }
    let page = Page {
        locale: l,
        title: format!("{} · {}", t(l, "help.title"), s.config.help.name),
        description: t(l, "help.searchHeading"),
        alternates: same_page_in_every_locale(""),
        origin,
        query: String::new(),
    };
    html(StatusCode::OK, page.render(&s, &main))
}

fn breadcrumbs(l: &str, trail: &[(String, String)]) -> String {
    let mut out = format!(
        r#"<nav class="hc-crumbs" aria-label="{}" data-testid="hc-breadcrumbs"><ol><li><a href="/help/{l}">{}</a></li>"#,
        esc(&t(l, "help.breadcrumb")),
        esc(&t(l, "help.title"))
    );
    for (href, name) in trail {
        let _ = write!(out, r#"<li><a href="{}">{}</a></li>"#, esc(href), esc(name));
    }
    out.push_str("</ol></nav>");
    out
}

pub async fn category(State(s): State<WebState>, headers: HeaderMap, Path((locale, slug)): Path<(String, String)>) -> Response {
    let origin = origin(&s, &headers);
    let Some(l) = parse_locale(&locale) else { return not_found(&s, negotiate(&headers), origin) };
    let data = match s.app.kb_category_page(l, &slug).await {
        Ok(d) => d,
        Err(e) => return failure(&s, l, origin, e),
    };
    let c = &data.category;
    let mut main = breadcrumbs(l, &[]);
    let _ = write!(
        main,
        r#"<header class="hc-page-head"><h1>{}</h1><p>{}</p></header><div class="hc-columns"><div>"#,
        esc(c.name_in(l)),
        esc(c.description_in(l))
    );
    for (section, cards) in &data.sections {
        let name = section.as_ref().map_or_else(|| t(l, "help.other"), |s| s.name_in(l).to_string());
        let _ = write!(main, r#"<section class="hc-section"><h2>{}</h2>{}</section>"#, esc(&name), card_list(cards, "hc-section-articles"));
    }
    main.push_str(r#"</div><aside class="hc-side"><ul class="hc-list">"#);
    for other in &data.categories {
        let current = if other.slug == c.slug { r#" aria-current="page""# } else { "" };
        let _ = write!(main, r#"<li><a href="/help/{l}/categories/{}"{current}>{}</a></li>"#, esc(&other.slug), esc(other.name_in(l)));
    }
    main.push_str("</ul></aside></div>");
    let page = Page {
        locale: l,
        title: format!("{} · {}", c.name_in(l), s.config.help.name),
        description: c.description_in(l).to_string(),
        alternates: same_page_in_every_locale(&format!("/categories/{}", c.slug)),
        origin,
        query: String::new(),
    };
    html(StatusCode::OK, page.render(&s, &main))
}

#[derive(Deserialize)]
pub struct ArticleParams {
    /// The search this article was opened from.
    sid: Option<String>,
    /// The reader's vote (to add a comment to), or `done`.
    feedback: Option<String>,
}

pub async fn article(
    State(s): State<WebState>,
    headers: HeaderMap,
    Path((locale, slug)): Path<(String, String)>,
    Query(q): Query<ArticleParams>,
) -> Response {
    let origin = origin(&s, &headers);
    let Some(l) = parse_locale(&locale) else { return not_found(&s, negotiate(&headers), origin) };
    let data = match s.app.kb_article_page(&slug).await {
        Ok(d) => d,
        Err(e) => return failure(&s, l, origin, e),
    };
    let a = &data.article;
    // An article lives under its own language's address.
    if a.locale != l {
        return Redirect::permanent(&a.url).into_response();
    }
    if let Some(sid) = &q.sid {
        let _ = s.app.kb_record_click(sid, &a.id);
    }
    let mut trail = Vec::new();
    if let Some(c) = &data.category {
        trail.push((format!("/help/{l}/categories/{}", c.slug), c.name_in(l).to_string()));
    }
    if let (Some(c), Some(sec)) = (&data.category, &data.section) {
        trail.push((format!("/help/{l}/categories/{}#{}", c.slug, sec.slug), sec.name_in(l).to_string()));
    }
    let mut main = breadcrumbs(l, &trail);
    let when = match (a.kind, a.published_at) {
        (ArticleKind::Announcement, Some(p)) => t_with(l, "help.published", &[("date", &date(l, p.timestamp_micros()))]),
        _ => t_with(l, "help.updated", &[("date", &date(l, a.updated_at.timestamp_micros()))]),
    };
    let _ = write!(
        main,
        r#"<div class="hc-columns"><article class="hc-article" data-testid="hc-article"><h1 data-testid="hc-article-title">{}</h1><p class="hc-meta">{}</p><div class="hc-body">{}</div>"#,
        esc(&a.title),
        esc(&when),
        a.html
    );
    // Feedback: a vote, then an optional comment; plain forms, so it works without scripts.
    let form_base = format!("/help/{l}/articles/{}/feedback", esc(&a.slug));
    main.push_str(r#"<section id="feedback" class="hc-feedback" data-testid="hc-feedback">"#);
    match q.feedback.as_deref() {
        None => {
            let _ = write!(
                main,
                r#"<form method="post" action="{form_base}"><h2>{}</h2><button name="helpful" value="yes" data-testid="hc-helpful-yes">{}</button> <button name="helpful" value="no" data-testid="hc-helpful-no">{}</button></form>"#,
                esc(&t(l, "help.helpful")),
                esc(&t(l, "help.yes")),
                esc(&t(l, "help.no")),
            );
        }
        Some("done") => {
            let _ = write!(main, r#"<p role="status" data-testid="hc-feedback-done">{}</p>"#, esc(&t(l, "help.commentThanks")));
        }
        Some("expired") => {
            let _ = write!(main, r#"<p role="status">{}</p>"#, esc(&t(l, "help.feedbackExpired")));
        }
        Some(id) => {
            let _ = write!(
                main,
                r#"<p role="status" data-testid="hc-feedback-thanks">{}</p><form method="post" action="{form_base}/{}"><label for="hc-comment">{}</label><textarea id="hc-comment" name="comment" rows="3" maxlength="2000" required data-testid="hc-feedback-comment"></textarea><button data-testid="hc-feedback-send">{}</button></form>"#,
                esc(&t(l, "help.thanks")),
                esc(id),
                esc(&t(l, "help.tellMore")),
                esc(&t(l, "help.send")),
            );
        }
    }
    let total = a.helpful_yes + a.helpful_no;
    if total > 0 {
        let _ = write!(
            main,
            r#"<p class="hc-meta">{}</p>"#,
            esc(&t_with(l, "help.votes", &[("yes", &a.helpful_yes.to_string()), ("total", &total.to_string())]))
        );
    }
    main.push_str("</section></article><aside class=\"hc-side\">");
    if !data.related.is_empty() {
        let _ = write!(main, r#"<h2>{}</h2>{}"#, esc(&t(l, "help.related")), card_list(&data.related, "hc-related"));
    }
    main.push_str("</aside></div>");
    let mut alternates: Vec<(String, String)> = vec![(a.locale.clone(), a.url.clone())];
    alternates.extend(a.translations.iter().map(|t| (t.locale.clone(), kefu_app::kb::markdown::article_path(&t.locale, &t.slug))));
    alternates.sort_by_key(|(loc, _)| LOCALES.iter().position(|x| x == loc));
    let page = Page {
        locale: l,
        title: format!("{} · {}", a.title, s.config.help.name),
        description: a.summary.clone(),
        alternates,
        origin,
        query: String::new(),
    };
    html(StatusCode::OK, page.render(&s, &main))
}

#[derive(Deserialize)]
pub struct VoteForm {
    helpful: String,
}

#[derive(Deserialize)]
pub struct CommentForm {
    comment: String,
}

pub async fn vote(
    State(s): State<WebState>,
    headers: HeaderMap,
    Path((locale, slug)): Path<(String, String)>,
    Form(f): Form<VoteForm>,
) -> Response {
    let origin = origin(&s, &headers);
    let l = parse_locale(&locale).unwrap_or("en");
    let helpful = match f.helpful.as_str() {
        "yes" => true,
        "no" => false,
        _ => return failure(&s, l, origin, AppError::Validation(vec![kefu_domain::FieldError::new("helpful", "must be yes or no")])),
    };
    let article = match s.app.kb_article_page(&slug).await {
        Ok(p) => p.article,
        Err(e) => return failure(&s, l, origin, e),
    };
    match s.app.kb_feedback(&article.id, helpful, None).await {
        Ok(id) => Redirect::to(&format!("{}?feedback={id}#feedback", article.url)).into_response(),
        Err(e) => failure(&s, l, origin, e),
    }
}

pub async fn comment(
    State(s): State<WebState>,
    headers: HeaderMap,
    Path((locale, slug, feedback_id)): Path<(String, String, String)>,
    Form(f): Form<CommentForm>,
) -> Response {
    let origin = origin(&s, &headers);
    let l = parse_locale(&locale).unwrap_or("en");
    let article = match s.app.kb_article_page(&slug).await {
        Ok(p) => p.article,
        Err(e) => return failure(&s, l, origin, e),
    };
    match s.app.kb_feedback_comment(&article.id, &feedback_id, &f.comment).await {
        Ok(()) => Redirect::to(&format!("{}?feedback=done#feedback", article.url)).into_response(),
        Err(AppError::NotFound(_)) => Redirect::to(&format!("{}?feedback=expired#feedback", article.url)).into_response(),
        Err(e) => failure(&s, l, origin, e),
    }
}

#[derive(Deserialize)]
pub struct SearchParams {
    #[serde(default)]
    q: String,
}

/// Text with the byte ranges in `highlights` wrapped in `<mark>`, all escaped.
fn highlighted(text: &str, highlights: &[(usize, usize)]) -> String {
    let mut out = String::new();
    let mut at = 0;
    for &(from, to) in highlights {
        if from < at || to > text.len() || !text.is_char_boundary(from) || !text.is_char_boundary(to) {
            continue;
        }
        out.push_str(&esc(&text[at..from]));
        let _ = write!(out, "<mark>{}</mark>", esc(&text[from..to]));
        at = to;
    }
    out.push_str(&esc(&text[at..]));
    out
}

pub async fn search(State(s): State<WebState>, headers: HeaderMap, Path(locale): Path<String>, Query(q): Query<SearchParams>) -> Response {
    let origin = origin(&s, &headers);
    let Some(l) = parse_locale(&locale) else { return not_found(&s, negotiate(&headers), origin) };
    let text = q.q.trim().to_string();
    if text.is_empty() {
        return Redirect::to(&format!("/help/{l}")).into_response();
    }
    let req = KbSearchRequest {
        q: text.clone(),
        locale: Some(l.to_string()),
        limit: 20,
        source: SearchSource::HelpCenter,
        track: true,
        include_drafts: false,
        kind: None,
    };
    let found = match s.app.kb_search(None, req).await {
        Ok(f) => f,
        Err(e) => return failure(&s, l, origin, e),
    };
    let n = found.hits.len().to_string();
    let mut main = format!(
        r#"<header class="hc-page-head"><h1 data-testid="hc-results-heading">{}</h1></header>"#,
        esc(&t_with(l, "help.results", &[("n", &n), ("q", &text)]))
    );
    if found.hits.is_empty() {
        let _ =
            write!(main, r#"<p class="hc-empty" data-testid="hc-no-results">{}</p>"#, esc(&t_with(l, "help.noResults", &[("q", &text)])));
    } else {
        main.push_str(r#"<ol class="hc-results" data-testid="hc-results">"#);
        for h in &found.hits {
            let _ = write!(
                main,
                r#"<li><a href="{}" lang="{}">{}</a><p>{}</p></li>"#,
                esc(&h.url),
                esc(&h.locale),
                esc(&h.title),
                highlighted(&h.snippet, &h.highlights)
            );
        }
        main.push_str("</ol>");
    }
    let page = Page {
        locale: l,
        title: format!("{text} · {}", t(l, "help.title")),
        description: String::new(),
        alternates: same_page_in_every_locale(&format!("/search?q={}", url_encode(&text))),
        origin,
        query: text,
    };
    let mut res = html(StatusCode::OK, page.render(&s, &main));
    res.headers_mut().insert("x-robots-tag", HeaderValue::from_static("noindex"));
    res
}

/// `/help/{locale}/verify`: the official verification service for readers; works without
/// JavaScript (a form that comes back here).
pub async fn verify(State(s): State<WebState>, headers: HeaderMap, Path(locale): Path<String>, Query(q): Query<SearchParams>) -> Response {
    let origin = origin(&s, &headers);
    let Some(l) = parse_locale(&locale) else { return not_found(&s, negotiate(&headers), origin) };
    let name = s.config.help.name.clone();
    let text = q.q.trim().to_string();
    let mut status = StatusCode::OK;
    let result = if text.is_empty() {
        String::new()
    } else {
        match s.app.verify(&text).await {
            Ok(v) => {
                let verdict = v.verdict.as_str();
                let headline = match v.verdict {
                    kefu_shield::Verdict::Official => t_with(l, "help.verifyOfficial", &[("q", &v.query), ("name", &name)]),
                    kefu_shield::Verdict::Lookalike => {
                        t_with(l, "help.verifyLookalike", &[("q", &v.query), ("of", v.lookalike_of.as_deref().unwrap_or(""))])
                    }
                    kefu_shield::Verdict::Unknown => t_with(l, "help.verifyUnknown", &[("q", &v.query), ("name", &name)]),
                };
                let why = v
                    .reason
                    .and_then(|r| serde_json::to_value(r).ok())
                    .and_then(|r| r.as_str().map(|r| t(l, &format!("help.verifyReason.{r}"))))
                    .map(|r| format!("<p>{}</p>", esc(&r)))
                    .unwrap_or_default();
                let advice = match v.verdict {
                    kefu_shield::Verdict::Official => String::new(),
                    _ => format!("<p>{}</p>", esc(&t(l, "help.verifyAdvice"))),
                };
                format!(
                    r#"<section class="hc-verdict hc-verdict-{verdict}" role="status" data-testid="hc-verdict" data-verdict="{verdict}"><h2>{}</h2>{why}{advice}</section>"#,
                    esc(&headline)
                )
            }
            Err(AppError::Validation(errors)) => {
                status = StatusCode::UNPROCESSABLE_ENTITY;
                let reason = errors.first().map(|e| e.message.clone()).unwrap_or_default();
                format!(
                    r#"<p class="hc-verdict hc-verdict-invalid" role="alert" data-testid="hc-verdict-invalid">{}</p>"#,
                    esc(&t_with(l, "help.invalid", &[("reason", &reason)]))
                )
            }
            Err(e) => return failure(&s, l, origin, e),
        }
    };
    let main = format!(
        r#"<header class="hc-page-head"><h1>{title}</h1><p>{intro}</p></header>
<form class="hc-verify" action="/help/{l}/verify" method="get" data-testid="hc-verify-form"><label for="hc-verify-q">{label}</label>
<div class="hc-verify-row"><input id="hc-verify-q" name="q" type="text" value="{q}" placeholder="{ph}" maxlength="512" autocomplete="off" spellcheck="false" data-testid="hc-verify-input"><button type="submit" class="hc-button" data-testid="hc-verify-submit">{btn}</button></div></form>
{result}"#,
        title = esc(&t(l, "help.verifyTitle")),
        intro = esc(&t_with(l, "help.verifyIntro", &[("name", &name)])),
        label = esc(&t(l, "help.verifyLabel")),
        q = esc(&text),
        ph = esc(&t(l, "help.verifyPlaceholder")),
        btn = esc(&t(l, "help.verifyButton")),
    );
    let page = Page {
        locale: l,
        title: format!("{} · {}", t(l, "help.verifyTitle"), t(l, "help.title")),
        description: t_with(l, "help.verifyIntro", &[("name", &name)]),
        alternates: same_page_in_every_locale("/verify"),
        origin,
        query: String::new(),
    };
    let mut res = html(status, page.render(&s, &main));
    if !text.is_empty() {
        res.headers_mut().insert("x-robots-tag", HeaderValue::from_static("noindex"));
    }
    res
}

pub async fn announcements(State(s): State<WebState>, headers: HeaderMap, Path(locale): Path<String>) -> Response {
    let origin = origin(&s, &headers);
    let Some(l) = parse_locale(&locale) else { return not_found(&s, negotiate(&headers), origin) };
    let list = match s.app.kb_announcements(l, 100).await {
        Ok(list) => list,
        Err(e) => return failure(&s, l, origin, e),
    };
    let mut main = breadcrumbs(l, &[]);
    let _ = write!(
        main,
        r#"<header class="hc-page-head"><h1>{}</h1><p><a href="/help/{l}/announcements.atom">{}</a></p></header><ul class="hc-list hc-dated" data-testid="hc-announcements">"#,
        esc(&t(l, "help.announcements")),
        esc(&t(l, "help.feed"))
    );
    for a in &list {
        let _ = write!(
            main,
            r#"<li><a href="{}">{}</a> <time>{}</time><p>{}</p></li>"#,
            esc(&a.url),
            esc(&a.title),
            esc(&date(l, a.published_at)),
            esc(&a.summary)
        );
    }
    main.push_str("</ul>");
    let page = Page {
        locale: l,
        title: format!("{} · {}", t(l, "help.announcements"), s.config.help.name),
        description: String::new(),
        alternates: same_page_in_every_locale("/announcements"),
        origin,
        query: String::new(),
    };
    html(StatusCode::OK, page.render(&s, &main))
}

fn rfc3339(micros: i64) -> String {
    at(micros).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The announcements of one language as an Atom feed, with their full text.
pub async fn feed(State(s): State<WebState>, headers: HeaderMap, Path(locale): Path<String>) -> Response {
    let origin = origin(&s, &headers);
    let Some(l) = parse_locale(&locale) else { return StatusCode::NOT_FOUND.into_response() };
    let list = match s.app.kb_announcements(l, 50).await {
        Ok(list) => list,
        Err(e) => return Problem::from(e).into_response(),
    };
    let updated = list.iter().map(|a| a.updated_at).max().unwrap_or(0);
    let mut xml = String::from(r#"<?xml version="1.0" encoding="utf-8"?>"#);
    let _ = write!(
        xml,
        r#"<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{l}"><title>{} · {}</title><id>{o}/help/{l}/announcements</id><link rel="self" href="{o}/help/{l}/announcements.atom"/><link href="{o}/help/{l}/announcements"/><updated>{}</updated>"#,
        esc(&s.config.help.name),
        esc(&t(l, "help.announcements")),
        rfc3339(updated),
        o = esc(&origin),
    );
    for a in &list {
        let full = s.app.kb_published_article(&a.slug).await.ok();
        let _ = write!(
            xml,
            r#"<entry><title>{}</title><id>{o}{u}</id><link href="{o}{u}"/><published>{}</published><updated>{}</updated><summary>{}</summary><content type="html">{}</content></entry>"#,
            esc(&a.title),
            rfc3339(a.published_at),
            rfc3339(a.updated_at),
            esc(&a.summary),
            esc(&full.map(|f| f.html).unwrap_or_default()),
            o = esc(&origin),
            u = esc(&a.url),
        );
    }
    xml.push_str("</feed>");
    let mut res = xml.into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/atom+xml; charset=utf-8"));
    res
}

/// Every published article, with its other languages as `hreflang` alternates, and the home and
/// category pages.
pub async fn sitemap(State(s): State<WebState>, headers: HeaderMap) -> Response {
    let origin = esc(&origin(&s, &headers));
    let (groups, categories) = match (s.app.kb_sitemap().await, s.app.kb_categories().await) {
        (Ok(g), Ok(c)) => (g, c),
        (Err(e), _) | (_, Err(e)) => return Problem::from(e).into_response(),
    };
    let mut xml = String::from(
        r#"<?xml version="1.0" encoding="utf-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:xhtml="http://www.w3.org/1999/xhtml">"#,
    );
    let top: Vec<&Category> = categories.iter().filter(|c| c.parent.is_none()).collect();
    for l in LOCALES {
        let _ = write!(xml, "<url><loc>{origin}/help/{l}</loc></url>");
        for c in &top {
            let _ = write!(xml, "<url><loc>{origin}/help/{l}/categories/{}</loc></url>", esc(&c.slug));
        }
    }
    for group in groups {
        for a in &group {
            let _ = write!(xml, "<url><loc>{origin}{}</loc><lastmod>{}</lastmod>", esc(&a.url), rfc3339(a.updated_at));
            if group.len() > 1 {
                for alt in &group {
                    let _ =
                        write!(xml, r#"<xhtml:link rel="alternate" hreflang="{}" href="{origin}{}"/>"#, esc(&alt.locale), esc(&alt.url));
                }
            }
            xml.push_str("</url>");
        }
    }
    xml.push_str("</urlset>");
    let mut res = xml.into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/xml; charset=utf-8"));
    res
}

pub async fn robots(State(s): State<WebState>, headers: HeaderMap) -> Response {
    let body = format!(
        "User-agent: *\nDisallow: /api/\nDisallow: /console\nDisallow: /help/*/search\nSitemap: {}/sitemap.xml\n",
        origin(&s, &headers)
    );
    let mut res = body.into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    res
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn highlights_are_marked_and_text_escaped() {
        assert_eq!(highlighted("a <b> 提币 c", &[(6, 12)]), "a &lt;b&gt; <mark>提币</mark> c");
        assert_eq!(highlighted("abc", &[(5, 9)]), "abc");
    }

    #[test]
    fn browsers_get_their_language() {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static("zh-HK,zh;q=0.9,en;q=0.8"));
        assert_eq!(negotiate(&h), "zh-TW");
        h.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static("zh-CN,zh;q=0.9"));
        assert_eq!(negotiate(&h), "zh-CN");
        h.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static("fr-FR,en;q=0.5"));
        assert_eq!(negotiate(&h), "en");
    }
}
