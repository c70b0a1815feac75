"""Close the loop (issue "Close the loop"): replies to askers, entry drafts, good stories, demo marks.

* ``questions``: ``reply_text`` (a leader's one-off reply, redacted), ``answered_by``,
  ``answered_at`` (when a leader or HR answered it: a link, a new entry or a reply),
  ``notified_at`` (when the asker was told in the widget), ``emailed_at`` (when the
  unit's leaders were told by e-mail), ``demo`` (generated demo history).
* ``feedback.demo``: generated demo history.
* ``mandates.status``: ``published`` (the bot uses it), ``draft`` or ``pending``
  (awaiting an area leader's approval); ``bot.domain.ENTRY_STATUSES``.
* ``users.email``: where a leader's notices and weekly digest go (optional).
* ``stories``: good stories told in the chat, reviewed by HR.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("questions") as batch:
        batch.add_column(sa.Column("reply_text", sa.Text(), nullable=True))
        batch.add_column(sa.Column("answered_by", sa.String(200), nullable=True))
        batch.add_column(sa.Column("answered_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("notified_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("emailed_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("demo", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_index("ix_questions_user_pseudonym_answered", "questions", ["user_pseudonym", "answered_at"])
    with op.batch_alter_table("feedback") as batch:
        batch.add_column(sa.Column("demo", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("mandates") as batch:
        batch.add_column(sa.Column("status", sa.String(16), nullable=False, server_default="published"))
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("email", sa.String(300), nullable=True))
    op.create_table(
        "stories",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("unit_id", sa.String(64), nullable=True),
        sa.Column("user_pseudonym", sa.String(64), nullable=True),
        sa.Column("what_happened", sa.Text(), nullable=False),
        sa.Column("own_decision", sa.Text(), nullable=True),
        sa.Column("may_share", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("status", sa.String(16), nullable=False, server_default="new"),
        sa.Column("status_by", sa.String(200), nullable=True),
        sa.Column("status_at", sa.DateTime(), nullable=True),
        sa.Column("demo", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_stories_status_created", "stories", ["status", "created_at"])
    op.create_index("ix_stories_unit_id", "stories", ["unit_id"])


def downgrade() -> None:
    op.drop_index("ix_stories_unit_id", table_name="stories")
    op.drop_index("ix_stories_status_created", table_name="stories")
    op.drop_table("stories")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("email")
    with op.batch_alter_table("mandates") as batch:
        batch.drop_column("status")
    with op.batch_alter_table("feedback") as batch:
        batch.drop_column("demo")
    op.drop_index("ix_questions_user_pseudonym_answered", table_name="questions")
    with op.batch_alter_table("questions") as batch:
        for column in ("demo", "emailed_at", "notified_at", "answered_at", "answered_by", "reply_text"):
            batch.drop_column(column)
