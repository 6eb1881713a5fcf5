//! The help center as files: one Markdown file per article with YAML front matter, and an
//! optional `categories.yaml`. `kefu kb import` reads this format and `kefu kb export` writes it.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// An article's front matter. Only `slug`, `title` and `locale` are required.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrontMatter {
    pub slug: String,
    pub title: String,
    pub locale: String,
    /// `article` (the default) or `announcement`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub summary: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<String>,
    /// The slug of the article this one translates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub translation_of: Option<String>,
    /// `published` (the default) or `draft`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// One article file: its front matter and Markdown body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleFile {
    pub front: FrontMatter,
    pub body: String,
}

/// An entry of `categories.yaml`: a category with its sections.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryFile {
    pub slug: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub icon: String,
    pub name: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub description: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sections: Vec<SectionFile>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SectionFile {
    pub slug: String,
    pub name: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub description: BTreeMap<String, String>,
}

/// Everything an import brings: categories (if a `categories.yaml` came) and articles.
#[derive(Debug, Clone, Default)]
pub struct Bundle {
    pub categories: Option<Vec<CategoryFile>>,
    /// Each with the name of the file it came from, for messages.
    pub articles: Vec<(String, ArticleFile)>,
}

/// Splits `text` into front matter and body; the error says what is wrong, for the file's author.
pub fn parse_article(text: &str) -> Result<ArticleFile, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text).replace("\r\n", "\n");
    let rest = text.strip_prefix("---\n").ok_or("the file must start with a `---` line opening the front matter")?;
    let end = rest.find("\n---\n").map(|at| (at, at + 5)).or_else(|| rest.strip_suffix("\n---").map(|r| (r.len(), rest.len())));
    let (yaml_end, body_start) = end.ok_or("the front matter has no closing `---` line")?;
    let front: FrontMatter = serde_norway::from_str(&rest[..yaml_end]).map_err(|e| format!("front matter: {e}"))?;
    Ok(ArticleFile { front, body: rest[body_start..].trim_start_matches('\n').trim_end().to_string() })
}

pub fn parse_categories(text: &str) -> Result<Vec<CategoryFile>, String> {
    serde_norway::from_str(text).map_err(|e| format!("categories.yaml: {e}"))
}

pub fn write_article(file: &ArticleFile) -> Result<String, String> {
    let yaml = serde_norway::to_string(&file.front).map_err(|e| e.to_string())?;
    Ok(format!("---\n{}---\n\n{}\n", yaml, file.body.trim_end()))
}

pub fn write_categories(categories: &[CategoryFile]) -> Result<String, String> {
    serde_norway::to_string(categories).map_err(|e| e.to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_front_matter_and_body() {
        let file = parse_article("---\nslug: a\ntitle: \"A: b\"\nlocale: en\ntags: [x, y]\n---\n\nHello\n").unwrap();
        assert_eq!(file.front.slug, "a");
        assert_eq!(file.front.title, "A: b");
        assert_eq!(file.front.tags, ["x", "y"]);
        assert_eq!(file.body, "Hello");
    }

    #[test]
    fn writes_what_it_reads() {
        let file = ArticleFile {
            front: FrontMatter {
                slug: "a-zh-cn".into(),
                title: "提币: 步骤".into(),
                locale: "zh-CN".into(),
                translation_of: Some("a".into()),
                tags: vec!["withdrawal".into()],
                ..Default::default()
            },
            body: "## 步骤\n\n1. 打开".into(),
        };
        assert_eq!(parse_article(&write_article(&file).unwrap()).unwrap(), file);
    }

    #[test]
    fn explains_what_is_wrong() {
        assert!(parse_article("no front matter").unwrap_err().contains("---"));
        assert!(parse_article("---\nslug: a\n").unwrap_err().contains("closing"));
        assert!(parse_article("---\nslug: a\ntitle: t\nlocale: en\ncolour: red\n---\n").unwrap_err().contains("colour"));
        assert!(parse_article("---\ntitle: t\nlocale: en\n---\n").unwrap_err().contains("slug"));
    }
}
