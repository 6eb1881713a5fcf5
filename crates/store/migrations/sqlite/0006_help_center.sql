-- The help center: categories (a section is a category with a parent), articles in three
-- languages linked as translations, their version history, reader feedback and search analytics.

CREATE TABLE kb_categories (
    id           TEXT PRIMARY KEY,
    slug         TEXT NOT NULL UNIQUE,
    parent_id    TEXT REFERENCES kb_categories (id) ON DELETE CASCADE,
    position     BIGINT NOT NULL DEFAULT 0,
    icon         TEXT NOT NULL DEFAULT '',
    -- JSON objects keyed by locale.
    names        TEXT NOT NULL,
    descriptions TEXT NOT NULL DEFAULT '{}',
    updated_at   BIGINT NOT NULL
);
CREATE INDEX kb_categories_parent ON kb_categories (parent_id, position);

CREATE TABLE kb_articles (
    id            TEXT PRIMARY KEY,
    slug          TEXT NOT NULL UNIQUE,
    -- `article` or `announcement`.
    kind          TEXT NOT NULL,
    locale        TEXT NOT NULL,
    -- The id of the article this one translates, or its own id: shared by all translations.
    group_id      TEXT NOT NULL,
    title         TEXT NOT NULL,
    summary       TEXT NOT NULL,
    -- Markdown as written.
    body          TEXT NOT NULL,
    category_id   TEXT REFERENCES kb_categories (id) ON DELETE SET NULL,
    section_id    TEXT REFERENCES kb_categories (id) ON DELETE SET NULL,
    tags          TEXT NOT NULL DEFAULT '[]',
    -- Slugs, in order.
    related       TEXT NOT NULL DEFAULT '[]',
    -- `draft` or `published`.
    status        TEXT NOT NULL,
    version       BIGINT NOT NULL,
    -- From kb_state.revision at the last change: what search indexes catch up from.
    revision      BIGINT NOT NULL,
    author_id     TEXT,
    author_name   TEXT NOT NULL DEFAULT '',
    helpful_yes   BIGINT NOT NULL DEFAULT 0,
    helpful_no    BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    published_at  BIGINT
);
CREATE INDEX kb_articles_revision ON kb_articles (revision);
CREATE INDEX kb_articles_group ON kb_articles (group_id);
CREATE INDEX kb_articles_listing ON kb_articles (status, kind, locale, published_at);
CREATE INDEX kb_articles_category ON kb_articles (category_id, section_id);

CREATE TABLE kb_article_versions (
    article_id   TEXT NOT NULL REFERENCES kb_articles (id) ON DELETE CASCADE,
    version      BIGINT NOT NULL,
    title        TEXT NOT NULL,
    summary      TEXT NOT NULL,
    body         TEXT NOT NULL,
    status       TEXT NOT NULL,
    author_id    TEXT,
    author_name  TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (article_id, version)
);

-- Articles deleted, so that indexes catching up by revision drop them too.
CREATE TABLE kb_deleted (
    article_id  TEXT PRIMARY KEY,
    revision    BIGINT NOT NULL
);
CREATE INDEX kb_deleted_revision ON kb_deleted (revision);

-- One row: the help center's change counter, and a counter a rebuild request bumps.
CREATE TABLE kb_state (
    id          BIGINT PRIMARY KEY CHECK (id = 1),
    revision    BIGINT NOT NULL,
    rebuild     BIGINT NOT NULL
);
INSERT INTO kb_state (id, revision, rebuild) VALUES (1, 0, 0);

CREATE TABLE kb_feedback (
    id          TEXT PRIMARY KEY,
    article_id  TEXT NOT NULL REFERENCES kb_articles (id) ON DELETE CASCADE,
    helpful     BOOLEAN NOT NULL,
    comment     TEXT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX kb_feedback_article ON kb_feedback (article_id, created_at);

-- What readers searched for, with no personal data: no address, no account, the text scrubbed.
CREATE TABLE kb_searches (
    id                  TEXT PRIMARY KEY,
    query               TEXT NOT NULL,
    locale              TEXT NOT NULL,
    -- help_center, widget, console, bot or api.
    source              TEXT NOT NULL,
    results             BIGINT NOT NULL,
    clicked_article_id  TEXT,
    created_at          BIGINT NOT NULL
);
CREATE INDEX kb_searches_created ON kb_searches (created_at);
