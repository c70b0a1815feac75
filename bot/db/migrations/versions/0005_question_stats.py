"""Weekly counts of purged questions, so the dashboard's figures survive the retention purge.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "question_stats",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("unit_id", sa.String(64), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("decision", sa.String(16), nullable=True),
        sa.Column("mandate_id", sa.String(64), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_question_stats_week", "question_stats", ["week"])
    op.create_index("ix_question_stats_unit_id", "question_stats", ["unit_id"])
    # The purge deletes feedback by date and by user.
    op.create_index("ix_questions_user_pseudonym", "questions", ["user_pseudonym"])
    op.create_index("ix_feedback_user_pseudonym", "feedback", ["user_pseudonym"])


def downgrade() -> None:
    op.drop_index("ix_feedback_user_pseudonym", table_name="feedback")
    op.drop_index("ix_questions_user_pseudonym", table_name="questions")
    op.drop_index("ix_question_stats_unit_id", table_name="question_stats")
    op.drop_index("ix_question_stats_week", table_name="question_stats")
    op.drop_table("question_stats")
