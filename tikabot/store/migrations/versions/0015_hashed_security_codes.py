"""hashed security codes: appointments keep only an HMAC of the 4-digit code, as OTPs are kept

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 11:30:00

A security code verifies a beneficiary like an OTP; it was stored as it was sent. Each existing
code is replaced by HMAC-SHA256(OTP_SECRET, "appt:<beneficiary id>:<code>") (tikabot/security_codes.py,
written out here so that this revision does not change when that module does): run the upgrade
with the deployment's OTP_SECRET in the environment (or its .env), as the app runs, or the codes
already sent stop verifying. There is no way back: the downgrade refuses.
"""
import hashlib
import hmac
import os
from pathlib import Path
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from dotenv import load_dotenv


revision: str = '0015'
down_revision: Union[str, Sequence[str], None] = '0014'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

DEV_OTP_SECRET = "dev-only-otp-secret-change-me"  # tikabot.config.DEV_OTP_SECRET
appointments = sa.table("appointments", sa.column("id", sa.Integer), sa.column("beneficiary_id", sa.Integer),
                        sa.column("security_code_hash", sa.String))


def _secret() -> str:
    load_dotenv(Path.cwd() / ".env", override=False)
    return os.environ.get("OTP_SECRET") or DEV_OTP_SECRET


def _hash(secret: str, beneficiary_id: int, code: str) -> str:
    return hmac.new(secret.encode(), f"appt:{beneficiary_id}:{code}".encode(), hashlib.sha256).hexdigest()


def upgrade() -> None:
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.alter_column('security_code', new_column_name='security_code_hash',
                              existing_type=sa.String(length=4), type_=sa.String(length=64), existing_nullable=False)
    conn = op.get_bind()
    secret = _secret()
    rows = conn.execute(sa.select(appointments.c.id, appointments.c.beneficiary_id, appointments.c.security_code_hash)
                        .where(sa.func.length(appointments.c.security_code_hash) <= 4)).all()
    for start in range(0, len(rows), 1000):
        conn.execute(appointments.update().where(appointments.c.id == sa.bindparam("row_id"))
                     .values(security_code_hash=sa.bindparam("hashed")),
                     [{"row_id": r.id, "hashed": _hash(secret, r.beneficiary_id, r.security_code_hash)}
                      for r in rows[start:start + 1000]])


def downgrade() -> None:
    raise NotImplementedError("security codes are kept only as hashes since 0015: they cannot be restored")
