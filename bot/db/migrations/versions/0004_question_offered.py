"""Questions keep the entries a clarifying question offered ("Handler det om A, B eller C?").

When the employee picks "Ingen af dem", HR sees in the review queue which entries the bot
offered and the employee turned down.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("questions") as batch:
        batch.add_column(sa.Column("offered", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("questions") as batch:
        batch.drop_column("offered")
