//! Article Markdown to what readers and the index see: sanitized HTML for pages, plain text for
//! search. Links written `kb:slug` point at that article in the help center.

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd};

fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS
}

/// The help-center address of the article with `slug` in `locale`.
pub fn article_path(locale: &str, slug: &str) -> String {
    format!("/help/{locale}/articles/{slug}")
}

/// Sanitized HTML of `markdown`; `kb:slug` links become help-center addresses in `locale`.
pub fn to_html(markdown: &str, locale: &str) -> String {
    let events = Parser::new_ext(markdown, options()).map(|event| match event {
        Event::Start(Tag::Link { link_type, dest_url, title, id }) => {
            let dest_url = match dest_url.strip_prefix("kb:") {
                Some(slug) => CowStr::from(article_path(locale, slug.trim())),
                None => dest_url,
            };
            Event::Start(Tag::Link { link_type, dest_url, title, id })
        }
        // Raw HTML is shown as text: articles are Markdown, and ammonia would drop it anyway.
        Event::Html(html) | Event::InlineHtml(html) => Event::Text(html),
        other => other,
    });
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events);
    ammonia::Builder::default()
        .link_rel(Some("noopener noreferrer"))
        .url_relative(ammonia::UrlRelative::PassThrough)
        .add_tag_attributes("input", ["type", "checked", "disabled"])
        .add_tags(["input"])
        .clean(&html)
        .to_string()
}

/// The words of `markdown` without markup, blocks separated by new lines: what search indexes.
pub fn to_text(markdown: &str) -> String {
    let mut text = String::with_capacity(markdown.len());
    for event in Parser::new_ext(markdown, options()) {
        match event {
            Event::Text(t) | Event::Code(t) => text.push_str(&t),
            Event::SoftBreak | Event::HardBreak => text.push(' '),
            Event::End(TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::Item | TagEnd::TableCell | TagEnd::CodeBlock) => text.push('\n'),
            _ => {}
        }
    }
    text
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn renders_markdown_and_resolves_article_links() {
        let html =
            to_html("## Steps\n\n1. Open **Assets**\n2. See [pending](kb:withdrawal-pending)\n\n| a | b |\n|---|---|\n| 1 | 2 |", "en");
        assert!(html.contains("<h2>Steps</h2>"), "{html}");
        assert!(html.contains("<strong>Assets</strong>"), "{html}");
        assert!(html.contains(r#"href="/help/en/articles/withdrawal-pending""#), "{html}");
        assert!(html.contains("<table>"), "{html}");
    }

    #[test]
    fn scripts_and_dangerous_links_are_removed() {
        let html = to_html("<script>alert(1)</script>\n\n[x](javascript:alert(1)) <img src=x onerror=alert(1)>", "en");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(!html.contains("<img"), "{html}");
    }

    #[test]
    fn text_has_no_markup() {
        assert_eq!(to_text("## 提币\n\n点击 **提币**，选择 [网络](kb:x)。"), "提币\n点击 提币，选择 网络。\n");
    }
}
