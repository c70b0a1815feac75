"""Initial schema: units, mandates, mandate_history, questions, feedback.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "units",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("parent_id", sa.String(64), sa.ForeignKey("units.id"), nullable=True),
        sa.Column("aliases", sa.JSON(), nullable=False),
    )
    op.create_index("ix_units_parent_id", "units", ["parent_id"])
    op.create_table(
        "mandates",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("unit_id", sa.String(64), sa.ForeignKey("units.id"), nullable=False),
        sa.Column("topic", sa.String(300), nullable=False),
        sa.Column("topic_key", sa.String(64), nullable=True),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("decided_by", sa.String(300), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("limit_dkk", sa.Integer(), nullable=True),
        sa.Column("inform", sa.Text(), nullable=True),
        sa.Column("how", sa.Text(), nullable=True),
        sa.Column("examples", sa.JSON(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(500), nullable=True),
        sa.Column("contact", sa.String(300), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("review_by", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "decision IN ('employee', 'team', 'leader', 'other')", name="ck_mandates_decision"
        ),
    )
    op.create_index("ix_mandates_unit_id", "mandates", ["unit_id"])
    op.create_index("ix_mandates_topic_key", "mandates", ["topic_key"])
    op.create_table(
        "mandate_history",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("mandate_id", sa.String(64), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.Column("changed_by", sa.String(200), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
    )
    op.create_index("ix_mandate_history_mandate_id", "mandate_history", ["mandate_id"])
    op.create_table(
        "questions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("asked_at", sa.DateTime(), nullable=False),
        sa.Column("unit_id", sa.String(64), nullable=True),
        sa.Column("user_pseudonym", sa.String(64), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("intent", sa.String(64), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("mandate_id", sa.String(64), nullable=True),
        sa.Column("decision", sa.String(16), nullable=True),
        sa.Column("best_mandate_id", sa.String(64), nullable=True),
        sa.Column("best_score", sa.Float(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_by", sa.String(200), nullable=True),
        sa.Column("status_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_questions_asked_at", "questions", ["asked_at"])
    op.create_index("ix_questions_unit_id", "questions", ["unit_id"])
    op.create_index("ix_questions_outcome_asked", "questions", ["outcome", "asked_at"])
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("question_id", sa.Integer(), sa.ForeignKey("questions.id"), nullable=True),
        sa.Column("mandate_id", sa.String(64), nullable=True),
        sa.Column("unit_id", sa.String(64), nullable=True),
        sa.Column("user_pseudonym", sa.String(64), nullable=True),
        sa.Column("value", sa.String(16), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
    )
    op.create_index("ix_feedback_created_at", "feedback", ["created_at"])


def downgrade() -> None:
    op.drop_table("feedback")
    op.drop_table("questions")
    op.drop_table("mandate_history")
    op.drop_table("mandates")
    op.drop_table("units")
