"""The Professional who applied is told by email when an admin approves or declines them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import client_for
from tests.provider_fixtures import Providers
from tests.support import Clinic, login, post_form


@pytest.mark.parametrize(("action", "words"), [("approve", "approved"), ("reject", "declined")])
async def test_the_applicant_is_told_the_decision_by_email_once(
    app: Any, clinic: Clinic, providers: Providers, action: str, words: str
) -> None:
    path = f"/admin/professionals/{clinic.pending_professional_id}/{action}"
    async with client_for(app, clinic.host) as admin:
        await login(admin, clinic.admin.username)
        assert (await post_form(admin, path, {}, page="/admin")).status_code == 303
        again = await post_form(admin, path, {}, page="/admin")  # already decided: refused
        assert again.status_code == 409
    await providers.run_jobs()
    told = [m for m in providers.mails() if m["To"] == "alpha.newpro@example.org"]
    assert len(told) == 1
    assert words in told[0]["Subject"] or words in told[0].get_payload(decode=True).decode()
