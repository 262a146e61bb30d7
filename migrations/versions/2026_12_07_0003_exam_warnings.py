"""exam warnings: what an exam's build could not do as asked (variants not in variant 1's form)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 23:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Exams built before it had nothing to warn of: an empty list. A plain ADD COLUMN (a constant
    # default): a batch rebuild of `exams` on SQLite dropped the old table, and with foreign keys on
    # that deleted every variant, question, assignment and submission (migrations/env.py now turns
    # them off for a migration as well).
    op.add_column("exams", sa.Column("warnings", sa.JSON(), server_default="[]", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("exams", schema=None) as batch_op:
        batch_op.drop_column("warnings")
