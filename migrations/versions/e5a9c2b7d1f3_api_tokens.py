"""Personal API tokens for the JSON API

Revision ID: e5a9c2b7d1f3
Revises: d2f7a1c3e9b4
Create Date: 2026-12-02 07:40:00.000000

"""

import sqlalchemy as sa
from alembic import op

import archive.core.types

# revision identifiers, used by Alembic.
revision = "e5a9c2b7d1f3"
down_revision = "d2f7a1c3e9b4"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("created_at", archive.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", archive.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", archive.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", archive.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_api_token_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_token_token_hash")),
    )
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_token_user_id"), ["user_id"], unique=False)


def downgrade():
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_token_user_id"))
    op.drop_table("api_token")
