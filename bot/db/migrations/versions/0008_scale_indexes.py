"""Indexes where `make bench-scale` found a scan (1,000,000 questions, 100,000 entries; issue 15).

* ``questions (status, resolved_mandate_id, status_at)``: the questions HR linked to an entry, read on
  every question the bot answers (the catalogue fingerprint, ``bot.service``) and when the index is
  rebuilt: a scan of all questions, now a range of the index that also holds ``status_at``;
* ``mandates.updated_at``: the fingerprint's ``max(updated_at)`` on every question: a scan of all entries.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_questions_linked", "questions", ["status", "resolved_mandate_id", "status_at"])
    op.create_index("ix_mandates_updated_at", "mandates", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_mandates_updated_at", table_name="mandates")
    op.drop_index("ix_questions_linked", table_name="questions")
