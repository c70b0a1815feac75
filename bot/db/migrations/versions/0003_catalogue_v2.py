"""Catalogue format v2: exceptions, a limit with a unit, route; limit_dkk is migrated and dropped.

Upgrade: every ``limit_dkk`` becomes ``limit_value`` with ``limit_unit = 'kr'``.
Downgrade: a limit in kr becomes ``limit_dkk`` again (rounded to whole kroner);
limits in other units, exceptions and routes are lost (format v1 has no place for them).

Batch mode, so SQLite (which cannot drop columns or add constraints in place) works too.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Written out (not imported from bot.domain), so the migration stays what it was when written.
LIMIT_UNITS = ("kr", "minutter", "timer", "dage", "personer", "gange")
ROUTES = ("mistake", "concern")


def _in_list(column: str, values: tuple) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    with op.batch_alter_table("mandates") as batch:
        batch.add_column(sa.Column("exceptions", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("limit_value", sa.Float(), nullable=True))
        batch.add_column(sa.Column("limit_unit", sa.String(16), nullable=True))
        batch.add_column(sa.Column("route", sa.String(16), nullable=True))
    mandates = sa.table(
        "mandates",
        sa.column("exceptions", sa.JSON()),
        sa.column("limit_dkk", sa.Integer()),
        sa.column("limit_value", sa.Float()),
        sa.column("limit_unit", sa.String(16)),
    )
    op.execute(mandates.update().values(exceptions=[]))
    op.execute(
        mandates.update()
        .where(mandates.c.limit_dkk.is_not(None))
        .values(limit_value=sa.cast(mandates.c.limit_dkk, sa.Float()), limit_unit="kr")
    )
    with op.batch_alter_table("mandates") as batch:
        batch.alter_column("exceptions", existing_type=sa.JSON(), nullable=False)
        batch.drop_column("limit_dkk")
        batch.create_check_constraint(
            "ck_mandates_limit_unit", f"limit_unit IS NULL OR {_in_list('limit_unit', LIMIT_UNITS)}"
        )
        batch.create_check_constraint(
            "ck_mandates_limit_pair",
            "(limit_value IS NULL AND limit_unit IS NULL) OR (limit_value IS NOT NULL AND limit_unit IS NOT NULL)",
        )
        batch.create_check_constraint("ck_mandates_route", f"route IS NULL OR {_in_list('route', ROUTES)}")


def downgrade() -> None:
    with op.batch_alter_table("mandates") as batch:
        batch.add_column(sa.Column("limit_dkk", sa.Integer(), nullable=True))
    mandates = sa.table(
        "mandates",
        sa.column("limit_dkk", sa.Integer()),
        sa.column("limit_value", sa.Float()),
        sa.column("limit_unit", sa.String(16)),
    )
    op.execute(
        mandates.update()
        .where(mandates.c.limit_unit == "kr")
        .values(limit_dkk=sa.cast(sa.func.round(mandates.c.limit_value), sa.Integer()))
    )
    with op.batch_alter_table("mandates") as batch:
        batch.drop_constraint("ck_mandates_route", type_="check")
        batch.drop_constraint("ck_mandates_limit_pair", type_="check")
        batch.drop_constraint("ck_mandates_limit_unit", type_="check")
        batch.drop_column("route")
        batch.drop_column("limit_unit")
        batch.drop_column("limit_value")
        batch.drop_column("exceptions")
