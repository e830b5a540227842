"""OAI-PMH: the ledger of items exposed to harvesters (with persistent deleted records), their sets,
and when the ledger was last compared with the visible records

Revision ID: d2f7a1c3e9b4
Revises: 7a2cf762fad6
Create Date: 2026-12-02 07:40:00.000000

"""

import sqlalchemy as sa
from alembic import op

import archive.core.types

# revision identifiers, used by Alembic.
revision = "d2f7a1c3e9b4"
down_revision = "7a2cf762fad6"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "oai_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("datestamp", archive.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oai_item")),
        sa.UniqueConstraint("public_id", name=op.f("uq_oai_item_public_id")),
    )
    with op.batch_alter_table("oai_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oai_item_datestamp"), ["datestamp"], unique=False)
        batch_op.create_index(batch_op.f("ix_oai_item_record_id"), ["record_id"], unique=False)

    op.create_table(
        "oai_item_set",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("spec", sa.String(length=160), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["oai_item.id"], name=op.f("fk_oai_item_set_item_id_oai_item"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("item_id", "spec", name=op.f("pk_oai_item_set")),
    )
    with op.batch_alter_table("oai_item_set", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oai_item_set_spec"), ["spec"], unique=False)

    op.create_table(
        "oai_sync_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("synced_at", archive.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oai_sync_state")),
    )


def downgrade():
    op.drop_table("oai_sync_state")
    with op.batch_alter_table("oai_item_set", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oai_item_set_spec"))
    op.drop_table("oai_item_set")
    with op.batch_alter_table("oai_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oai_item_record_id"))
        batch_op.drop_index(batch_op.f("ix_oai_item_datestamp"))
    op.drop_table("oai_item")
