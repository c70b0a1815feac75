"""Admin app: users, questions.resolved_mandate_id, indexes for the review pages.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("units", sa.JSON(), nullable=False),
        sa.Column("can_edit", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("password_changed_at", sa.DateTime(), nullable=True),
        sa.Column("last_login_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("role IN ('leader', 'hr', 'admin')", name="ck_users_role"),
        sa.UniqueConstraint("username", name="uq_users_username"),
    )
    with op.batch_alter_table("questions") as batch:
        batch.add_column(sa.Column("resolved_mandate_id", sa.String(64), nullable=True))
        batch.create_index("ix_questions_resolved_mandate_id", ["resolved_mandate_id"])
        batch.create_index("ix_questions_unit_outcome_asked", ["unit_id", "outcome", "asked_at"])
    op.create_index("ix_feedback_question_id", "feedback", ["question_id"])
    op.create_index("ix_mandates_review_by", "mandates", ["review_by"])


def downgrade() -> None:
    op.drop_index("ix_mandates_review_by", table_name="mandates")
    op.drop_index("ix_feedback_question_id", table_name="feedback")
    with op.batch_alter_table("questions") as batch:
        batch.drop_index("ix_questions_unit_outcome_asked")
        batch.drop_index("ix_questions_resolved_mandate_id")
        batch.drop_column("resolved_mandate_id")
    op.drop_table("users")
