//! What the public help-center pages show: the published catalogue (kept per revision, so a page
//! view costs no query), home, category, article and announcement pages, and the sitemap.

use super::{Categories, markdown, to_article};
use crate::{App, AppError, AppResult};
use kefu_domain::inbox::parse_locale;
use kefu_domain::kb::{Article, Category};
use kefu_store::KbArticleRow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// A published article as lists show it.
#[derive(Debug, Clone)]
pub struct ArticleCard {
    pub id: String,
    pub slug: String,
    pub locale: String,
    pub group_id: String,
    pub kind: String,
    pub title: String,
    pub summary: String,
    pub category: Option<String>,
    pub section: Option<String>,
    pub url: String,
    pub published_at: i64,
    pub updated_at: i64,
}

/// Every published article (without bodies) and the categories, as of one revision.
pub(crate) struct Catalog {
    revision: i64,
    pub categories: Vec<Category>,
    pub articles: Vec<ArticleCard>,
}

#[derive(Default)]
pub(crate) struct PageCache(Mutex<Option<Arc<Catalog>>>);

pub struct HomePage {
    /// Top-level categories, each with up to a few of its articles in the locale.
    pub categories: Vec<(Category, Vec<ArticleCard>, usize)>,
    pub announcements: Vec<ArticleCard>,
}

pub struct CategoryPage {
    pub category: Category,
    /// Sections with their articles, then the category's articles in no section (`None`).
    pub sections: Vec<(Option<Category>, Vec<ArticleCard>)>,
    pub categories: Vec<Category>,
}

pub struct ArticlePage {
    pub article: Article,
    pub category: Option<Category>,
    pub section: Option<Category>,
    pub related: Vec<ArticleCard>,
}

fn card(r: &KbArticleRow, cats: &Categories) -> ArticleCard {
    ArticleCard {
        id: r.id.clone(),
        slug: r.slug.clone(),
        locale: r.locale.clone(),
        group_id: r.group_id.clone(),
        kind: r.kind.clone(),
        title: r.title.clone(),
        summary: r.summary.clone(),
        category: r.category_id.as_ref().and_then(|c| cats.slug_of.get(c).cloned()),
        section: r.section_id.as_ref().and_then(|c| cats.slug_of.get(c).cloned()),
        url: markdown::article_path(&r.locale, &r.slug),
        published_at: r.published_at.unwrap_or(r.updated_at),
        updated_at: r.updated_at,
    }
}

/// The cards of `locale`, and for articles not translated into it, the English or other version.
fn in_locale<'a>(cards: impl Iterator<Item = &'a ArticleCard>, locale: &str) -> Vec<ArticleCard> {
    let mut best: HashMap<&str, &ArticleCard> = HashMap::new();
    let mut order: Vec<&str> = Vec::new();
    let rank = |c: &ArticleCard| {
        if c.locale == locale {
            0
        } else if c.locale.starts_with("zh") && locale.starts_with("zh") {
            1
        } else if c.locale == "en" {
            2
        } else {
            3
        }
    };
    for c in cards {
        match best.get(c.group_id.as_str()) {
            Some(b) if rank(b) <= rank(c) => {}
            Some(_) => {
                best.insert(&c.group_id, c);
            }
            None => {
                order.push(&c.group_id);
                best.insert(&c.group_id, c);
            }
        }
    }
    order.into_iter().filter_map(|g| best.get(g).map(|c| (*c).clone())).collect()
}

impl App {
    /// The published catalogue, rebuilt when the index has moved to a newer revision.
    pub(crate) async fn kb_catalog(&self) -> AppResult<Arc<Catalog>> {
        if !self.0.kb.built.load(std::sync::atomic::Ordering::Acquire) {
            self.kb_sync().await?;
        }
        let shown = self.0.kb.shown.load(std::sync::atomic::Ordering::Acquire);
        if let Some(c) = self.0.kb.pages.0.lock().unwrap_or_else(PoisonError::into_inner).as_ref()
            && c.revision == shown
        {
            return Ok(c.clone());
        }
        let cats = self.kb_category_map().await?;
        let mut articles: Vec<ArticleCard> = self.store().kb_published().await?.iter().map(|r| card(r, &cats)).collect();
        articles.sort_by(|a, b| a.title.cmp(&b.title));
        let catalog = Arc::new(Catalog { revision: shown, categories: cats.list, articles });
        *self.0.kb.pages.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(catalog.clone());
        Ok(catalog)
    }

    pub async fn kb_home(&self, locale: &str) -> AppResult<HomePage> {
        let locale = parse_locale("locale", locale)?;
        let catalog = self.kb_catalog().await?;
        let visible = in_locale(catalog.articles.iter(), &locale);
        let categories = catalog
            .categories
            .iter()
            .filter(|c| c.parent.is_none() && c.slug != "announcements")
            .map(|c| {
                let mine: Vec<ArticleCard> =
                    visible.iter().filter(|a| a.category.as_deref() == Some(&c.slug) && a.kind == "article").cloned().collect();
                let total = mine.len();
                (c.clone(), mine.into_iter().take(4).collect(), total)
            })
            .filter(|(_, _, n)| *n > 0)
            .collect();
        let mut announcements: Vec<ArticleCard> = visible.into_iter().filter(|a| a.kind == "announcement").collect();
        announcements.sort_by_key(|c| std::cmp::Reverse(c.published_at));
        announcements.truncate(5);
        Ok(HomePage { categories, announcements })
    }

    pub async fn kb_category_page(&self, locale: &str, slug: &str) -> AppResult<CategoryPage> {
        let locale = parse_locale("locale", locale)?;
        let catalog = self.kb_catalog().await?;
        let category =
            catalog.categories.iter().find(|c| c.slug == slug && c.parent.is_none()).cloned().ok_or(AppError::NotFound("category"))?;
        let visible = in_locale(catalog.articles.iter().filter(|a| a.category.as_deref() == Some(slug)), &locale);
        let mut sections: Vec<(Option<Category>, Vec<ArticleCard>)> = catalog
            .categories
            .iter()
            .filter(|s| s.parent.as_deref() == Some(slug))
            .map(|s| (Some(s.clone()), visible.iter().filter(|a| a.section.as_deref() == Some(&s.slug)).cloned().collect::<Vec<_>>()))
            .filter(|(_, a)| !a.is_empty())
            .collect();
        let loose: Vec<ArticleCard> = visible.iter().filter(|a| a.section.is_none()).cloned().collect();
        if !loose.is_empty() {
            sections.push((None, loose));
        }
        if category.slug == "announcements" {
            for (_, list) in &mut sections {
                list.sort_by_key(|c| std::cmp::Reverse(c.published_at));
            }
        }
        Ok(CategoryPage { category, sections, categories: catalog.categories.iter().filter(|c| c.parent.is_none()).cloned().collect() })
    }

    /// A published article by slug, with where it sits and what is related.
    pub async fn kb_article_page(&self, slug: &str) -> AppResult<ArticlePage> {
        let slug = kefu_domain::kb::parse_slug("slug", slug).map_err(|_| AppError::NotFound("article"))?;
        let slug = slug.as_str();
        let row = self.store().kb_article_by_slug(slug).await?.filter(|a| a.status == "published").ok_or(AppError::NotFound("article"))?;
        let cats = self.kb_category_map().await?;
        let mut article = self.kb_views(vec![row], &cats).await?.pop().ok_or(AppError::NotFound("article"))?;
        article.translations.retain(|t| t.status == kefu_domain::kb::ArticleStatus::Published);
        let catalog = self.kb_catalog().await?;
        let locale = article.locale.clone();
        let by_group = |slug: &str| catalog.articles.iter().find(|a| a.slug == slug).map(|a| a.group_id.clone());
        // Related articles as listed, in the reader's language where one exists; then the rest of the section.
        let mut groups: Vec<String> = article.related.iter().filter_map(|s| by_group(s)).collect();
        if groups.len() < 5
            && let Some(section) = &article.section
        {
            let own = by_group(&article.slug);
            for a in catalog.articles.iter().filter(|a| a.section.as_deref() == Some(section.as_str())) {
                if groups.len() >= 5 {
                    break;
                }
                if Some(&a.group_id) != own.as_ref() && !groups.contains(&a.group_id) {
                    groups.push(a.group_id.clone());
                }
            }
        }
        let choices = in_locale(catalog.articles.iter().filter(|a| groups.contains(&a.group_id)), &locale);
        let related = groups.iter().filter_map(|g| choices.iter().find(|c| &c.group_id == g).cloned()).collect();
        Ok(ArticlePage {
            category: article.category.as_ref().and_then(|c| cats.get(c).cloned()),
            section: article.section.as_ref().and_then(|s| cats.get(s).cloned()),
            article,
            related,
        })
    }

    /// Published announcements in `locale` (others where not translated), newest first.
    pub async fn kb_announcements(&self, locale: &str, limit: usize) -> AppResult<Vec<ArticleCard>> {
        let locale = parse_locale("locale", locale)?;
        let catalog = self.kb_catalog().await?;
        let mut list = in_locale(catalog.articles.iter().filter(|a| a.kind == "announcement"), &locale);
        list.sort_by_key(|c| std::cmp::Reverse(c.published_at));
        list.truncate(limit);
        Ok(list)
    }

    /// Every published article grouped by translation, for the sitemap.
    pub async fn kb_sitemap(&self) -> AppResult<Vec<Vec<ArticleCard>>> {
        let catalog = self.kb_catalog().await?;
        let mut groups: HashMap<&str, Vec<ArticleCard>> = HashMap::new();
        let mut order = Vec::new();
        for a in &catalog.articles {
            if !groups.contains_key(a.group_id.as_str()) {
                order.push(a.group_id.as_str());
            }
            groups.entry(&a.group_id).or_default().push(a.clone());
        }
        Ok(order.into_iter().filter_map(|g| groups.remove(g)).collect())
    }

    /// A published announcement's full text, for the feed.
    pub async fn kb_published_article(&self, slug: &str) -> AppResult<Article> {
        let slug = kefu_domain::kb::parse_slug("slug", slug).map_err(|_| AppError::NotFound("article"))?;
        let slug = slug.as_str();
        let row = self.store().kb_article_by_slug(slug).await?.filter(|a| a.status == "published").ok_or(AppError::NotFound("article"))?;
        let cats = self.kb_category_map().await?;
        Ok(to_article(row, &cats, Vec::new()))
    }
}
