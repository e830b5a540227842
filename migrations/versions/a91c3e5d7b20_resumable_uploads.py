"""Resumable uploads: upload_session (tus 1.0 uploads in progress and their pipeline verdict)

Revision ID: a91c3e5d7b20
Revises: f3dd95cf28e3
Create Date: 2026-12-02

The partial bytes live in files under <DATA_DIR>/incoming/tus/, named after each session's token;
downgrading drops the table only (the periodic clean-up no longer runs, remove that directory by hand).
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import archive.core.types

# revision identifiers, used by Alembic.
revision = "a91c3e5d7b20"
down_revision = "f3dd95cf28e3"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade():
    op.create_table(
        "upload_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("caption", JSON, nullable=False),
        sa.Column("upload_length", sa.BigInteger(), nullable=False),
        sa.Column("upload_offset", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("media_public_id", sa.String(length=64), nullable=True),
        sa.Column("refusal_code", sa.String(length=40), nullable=True),
        sa.Column("refusal_params", JSON, nullable=True),
        sa.Column("created_at", archive.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", archive.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("completed_at", archive.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('receiving', 'accepted', 'refused')", name=op.f("ck_upload_session_state")
        ),
        sa.CheckConstraint(
            "upload_offset >= 0 AND upload_offset <= upload_length", name=op.f("ck_upload_session_offset")
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["heritage_record.id"],
            name=op.f("fk_upload_session_record_id_heritage_record"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_upload_session_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_upload_session")),
        sa.UniqueConstraint("token", name=op.f("uq_upload_session_token")),
    )
    with op.batch_alter_table("upload_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_upload_session_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_upload_session_record_id"), ["record_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_upload_session_user_id"), ["user_id"], unique=False)


def downgrade():
    with op.batch_alter_table("upload_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_upload_session_user_id"))
        batch_op.drop_index(batch_op.f("ix_upload_session_record_id"))
        batch_op.drop_index(batch_op.f("ix_upload_session_expires_at"))
    op.drop_table("upload_session")
