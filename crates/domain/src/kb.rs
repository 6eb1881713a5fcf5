//! The help center's types: articles and announcements in three languages, categories and their
//! sections, versions, search hits and the analytics admins read to know what to write next.

use crate::error::DomainError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ArticleKind {
    Article,
    /// Platform news, maintenance, listings: dated, listed newest first, in the Atom feed.
    Announcement,
}

impl ArticleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Article => "article",
            Self::Announcement => "announcement",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "article" => Some(Self::Article),
            "announcement" => Some(Self::Announcement),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ArticleStatus {
    Draft,
    Published,
}

impl ArticleStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Published => "published",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "draft" => Some(Self::Draft),
            "published" => Some(Self::Published),
            _ => None,
        }
    }
}

/// A slug: 1 to 100 lower-case ASCII letters, digits and single dashes, not at either end.
pub fn parse_slug(field: &str, raw: &str) -> Result<String, DomainError> {
    let s = raw.trim();
    let ok = !s.is_empty()
        && s.len() <= 100
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--");
    if ok { Ok(s.to_string()) } else { Err(DomainError::field(field, "must be lower-case letters, digits and single dashes")) }
}

/// One language version of a help-center article.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Article {
    pub id: String,
    pub slug: String,
    pub kind: ArticleKind,
    /// zh-CN, zh-TW or en.
    pub locale: String,
    pub title: String,
    pub summary: String,
    /// Markdown as written; links to other articles are written `kb:slug`.
    pub body: String,
    /// The body rendered to sanitized HTML.
    pub html: String,
    /// Category slug.
    pub category: Option<String>,
    /// Section slug (a section belongs to the category).
    pub section: Option<String>,
    pub tags: Vec<String>,
    /// Slugs of related articles, in order.
    pub related: Vec<String>,
    pub status: ArticleStatus,
    /// Increases with every saved change; send it back when saving to detect a concurrent edit.
    pub version: i64,
    /// The other language versions of this article.
    pub translations: Vec<Translation>,
    /// Who saved the current version.
    pub author_name: String,
    pub helpful_yes: i64,
    pub helpful_no: i64,
    /// Public address in the help center.
    pub url: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Translation {
    pub id: String,
    pub slug: String,
    pub locale: String,
    pub title: String,
    pub status: ArticleStatus,
}

/// A saved state of an article.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ArticleVersion {
    pub version: i64,
    pub title: String,
    pub summary: String,
    pub body: String,
    pub status: ArticleStatus,
    pub author_name: String,
    pub created_at: DateTime<Utc>,
}

/// A help-center category, or a section of one (when `parent` is set).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Category {
    pub id: String,
    pub slug: String,
    /// The parent category's slug, for a section.
    pub parent: Option<String>,
    pub position: i64,
    /// An icon name the help center knows (shield, wallet, chart, coins, people, code, alert, megaphone).
    pub icon: String,
    /// Name per locale.
    pub names: BTreeMap<String, String>,
    /// Description per locale.
    pub descriptions: BTreeMap<String, String>,
}

impl Category {
    /// The name in `locale`, else in English, else any.
    pub fn name_in(&self, locale: &str) -> &str {
        localized(&self.names, locale).unwrap_or(&self.slug)
    }

    pub fn description_in(&self, locale: &str) -> &str {
        localized(&self.descriptions, locale).unwrap_or_default()
    }
}

fn localized<'a>(map: &'a BTreeMap<String, String>, locale: &str) -> Option<&'a str> {
    map.get(locale).or_else(|| map.get("en")).or_else(|| map.values().next()).map(String::as_str).filter(|s| !s.is_empty())
}

/// One article found by a search.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ArticleHit {
    pub id: String,
    pub slug: String,
    pub locale: String,
    pub title: String,
    pub summary: String,
    pub score: f32,
    /// Plain text around the best match.
    pub snippet: String,
    /// Byte ranges of `snippet` that matched.
    pub highlights: Vec<(usize, usize)>,
    /// Public address; opening it records the click for search analytics.
    pub url: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ArticleSearch {
    /// Identifies this search when reporting which result was opened.
    pub search_id: Option<String>,
    pub hits: Vec<ArticleHit>,
    /// Milliseconds the search took on the server.
    pub took_ms: f64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QueryStat {
    pub query: String,
    pub searches: i64,
    pub avg_results: f64,
    /// Searches after which a result was opened.
    pub clicks: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ArticleFeedbackStat {
    pub id: String,
    pub slug: String,
    pub title: String,
    pub locale: String,
    pub helpful_yes: i64,
    pub helpful_no: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FeedbackComment {
    pub article_slug: String,
    pub article_title: String,
    pub helpful: bool,
    pub comment: String,
    pub created_at: DateTime<Utc>,
}

/// What readers searched for and how articles were rated, over the last `days`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KbAnalytics {
    pub days: i64,
    pub searches: i64,
    /// Searches after which a result was opened.
    pub clicks: i64,
    pub zero_result_searches: i64,
    pub top_queries: Vec<QueryStat>,
    /// Queries that found nothing: what to write next.
    pub no_result_queries: Vec<QueryStat>,
    /// Articles readers found least helpful (with at least a few votes).
    pub poor_articles: Vec<ArticleFeedbackStat>,
    pub recent_comments: Vec<FeedbackComment>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_url_safe() {
        assert_eq!(parse_slug("slug", " withdraw-crypto ").unwrap(), "withdraw-crypto");
        for bad in ["", "Withdraw", "with draw", "-a", "a-", "a--b", "提币", "a/b"] {
            assert!(parse_slug("slug", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_fall_back_to_english() {
        let mut names = BTreeMap::new();
        names.insert("en".to_string(), "Earn".to_string());
        let c = Category {
            id: "1".into(),
            slug: "earn".into(),
            parent: None,
            position: 0,
            icon: String::new(),
            names,
            descriptions: BTreeMap::new(),
        };
        assert_eq!(c.name_in("zh-TW"), "Earn");
        assert_eq!(c.description_in("en"), "");
    }
}
