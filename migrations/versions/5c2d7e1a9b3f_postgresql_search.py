"""PostgreSQL full-text search index: unaccent, pg_trgm, weighted tsvectors, GIN indexes

Revision ID: 5c2d7e1a9b3f
Revises: 88c1b7f614b4
Create Date: 2026-11-24

The tables are not SQLAlchemy models: they belong to the PostgreSQL search backend
(archive/search/postgres.py), which is their only reader and writer, and Alembic autogenerate ignores
them (archive.search.postgres.is_search_schema_object). Nothing happens on SQLite, which uses the
Whoosh backend.
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "5c2d7e1a9b3f"
down_revision = "88c1b7f614b4"
branch_labels = None
depends_on = None

UPGRADE = [
    # Both are "trusted" extensions since PostgreSQL 13: a database owner may create them.
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    # 'simple' (lower-case, no stemming, no stop words) with diacritics removed: the lexemes of the
    # index for Vietnamese text, for whoever queries it by hand (to_tsquery('archive_folded', 'Lễ hội')).
    # The backend itself cuts and folds words in Python, exactly as the Whoosh backend does.
    "CREATE TEXT SEARCH CONFIGURATION archive_folded (COPY = simple)",
    "ALTER TEXT SEARCH CONFIGURATION archive_folded ALTER MAPPING FOR "
    "word, hword, hword_part, numword, numhword, hword_numpart WITH unaccent, simple",
    # One row per indexed record. The small columns read for every match (access, sort keys, facet
    # keys, head_fts and title_exact) stay in the row, uncompressed; the long vectors read only for the
    # best candidates (body_fts, exact_fts) are stored out of line, uncompressed.
    """
    CREATE TABLE search_document (
        record_id integer PRIMARY KEY,
        public_id text NOT NULL,
        status text NOT NULL,
        access_level text NOT NULL,
        owner_id integer,
        title_sort text COLLATE "C" NOT NULL,
        sort_date date,
        facets text[] NOT NULL,
        facet_starts smallint[] NOT NULL,
        titles_folded text NOT NULL,
        head_fts tsvector NOT NULL,
        title_exact tsvector NOT NULL,
        body_fts tsvector NOT NULL,
        exact_fts tsvector NOT NULL
    )
    """,
    # MAIN: kept in the row, compressed only when a row would not fit otherwise; EXTERNAL: moved out of
    # line (uncompressed) first when a row is long.
    "ALTER TABLE search_document"
    + ",".join(
        f" ALTER COLUMN {column} SET STORAGE MAIN"
        for column in (
            "public_id",
            "status",
            "access_level",
            "title_sort",
            "facets",
            "facet_starts",
            "titles_folded",
            "head_fts",
            "title_exact",
        )
    )
    + ", ALTER COLUMN body_fts SET STORAGE EXTERNAL, ALTER COLUMN exact_fts SET STORAGE EXTERNAL",
    # Matching is on every field, media text included.
    "CREATE INDEX ix_search_document_match ON search_document USING gin ((head_fts || body_fts))",
    "CREATE INDEX ix_search_document_titles ON search_document USING gin (ts_filter(head_fts, '{a}'))",
    "CREATE INDEX ix_search_document_facets ON search_document USING gin (facets)",
    "CREATE INDEX ix_search_document_date_desc ON search_document (sort_date DESC NULLS LAST, record_id)",
    "CREATE INDEX ix_search_document_date_asc ON search_document (sort_date ASC NULLS LAST, record_id)",
    "CREATE INDEX ix_search_document_title_sort"
    " ON search_document ((title_sort = ''), title_sort, record_id)",
    "CREATE INDEX ix_search_document_owner_id ON search_document (owner_id)",
    # How many documents of each status and access level hold each facet key ('' for all of them): the
    # facet counts and totals of browsing without words or filters.
    "CREATE TABLE search_facet_count (status text, access_level text, key text,"
    " documents integer NOT NULL, PRIMARY KEY (status, access_level, key))",
    # Distinct folded words of the index with how many documents hold them, for 'did you mean'.
    'CREATE TABLE search_word (word text COLLATE "C" PRIMARY KEY, documents integer NOT NULL)',
    "CREATE INDEX ix_search_word_trgm ON search_word USING gin (word gin_trgm_ops)",
]

DOWNGRADE = [
    "DROP TABLE IF EXISTS search_word",
    "DROP TABLE IF EXISTS search_facet_count",
    "DROP TABLE IF EXISTS search_document",
    "DROP TEXT SEARCH CONFIGURATION IF EXISTS archive_folded",
    "DROP EXTENSION IF EXISTS pg_trgm",
    "DROP EXTENSION IF EXISTS unaccent",
]


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in UPGRADE:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in DOWNGRADE:
        op.execute(statement)
