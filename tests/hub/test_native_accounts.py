"""A hub started on JupyterHub 5.5.4's database: upgraded on start, and its accounts work on 6.

The database is tests/fixtures/jupyterhub5_db.sql (made by make_jupyterhub5_db.py with the
previous release); the hub upgrades it the way a deployment does, by starting.
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
from pathlib import Path

import jupyterhub
import pytest
from alembic.script import ScriptDirectory
from fixtures.make_jupyterhub5_db import COURSE, PASSWORDS
from hubkit import Browser, IsolatedHub

pytestmark = pytest.mark.slow

DUMP = Path(__file__).parents[1] / "fixtures" / "jupyterhub5_db.sql"
JUPYTERHUB5_HEAD = "4621fec11365"  # the alembic revision JupyterHub 5.5.4 stamps


@pytest.fixture(scope="module")
def hub():
    if os.geteuid() != 0:
        pytest.skip("local mode runs students as their own system accounts: needs root")
    # Not the dump's admin password: the admin kept in the database must not be re-seeded.
    local = IsolatedHub(COURSE, admin_password="not-the-old-one-66")
    db_file = local.data_dir / "hub" / "jupyterhub.sqlite"
    db_file.parent.mkdir(parents=True)
    with sqlite3.connect(db_file) as db:
        db.executescript(DUMP.read_text())
    try:
        started = time.monotonic()
        local.start()
        print(f"hub start with the database upgrade: {time.monotonic() - started:.1f} s")
        yield local
    finally:
        print(f"--- hub log tail ({local.log_path}) ---\n{local.log_tail()}")
        local.stop()


def login_error(response) -> str:
    """The message the login form shows, or '' when it shows none."""
    found = re.search(r'class="login_error">\s*(.*?)\s*</p>', response.text, re.S)
    return found.group(1) if found else ""


def query(hub, sql: str) -> list[tuple]:
    with sqlite3.connect(hub.data_dir / "hub" / "jupyterhub.sqlite") as db:
        return db.execute(sql).fetchall()


def test_database_is_upgraded_to_jupyterhub_6_and_backed_up_first(hub):
    assert jupyterhub.version_info[0] == 6, jupyterhub.__version__
    head = ScriptDirectory(str(Path(jupyterhub.__file__).parent / "alembic")).get_current_head()
    assert query(hub, "SELECT version_num FROM alembic_version") == [(head,)]
    backups = list((hub.data_dir / "hub").glob("jupyterhub.sqlite.*"))
    assert len(backups) == 1, backups
    with sqlite3.connect(backups[0]) as db:
        assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [
            (JUPYTERHUB5_HEAD,)
        ]


def test_users_group_memberships_and_sign_ups_are_kept(hub):
    users = {u["name"]: u for u in hub.api("GET", "/users").json()}
    assert {"admin", "alice", "bob"} <= set(users), users
    assert users["admin"]["admin"] and not users["alice"]["admin"]
    assert f"nbgrader-{COURSE}" in users["bob"]["groups"]
    assert f"formgrade-{COURSE}" in users["admin"]["groups"]
    signups = dict(query(hub, "SELECT username, is_authorized FROM users_info"))
    assert signups == {"admin": 1, "alice": 1, "bob": 1, "carol": 0}


def test_old_passwords_log_in_and_the_admin_is_not_seeded_again(hub):
    for name in ("alice", "bob", "admin"):
        assert Browser(hub).login(name, PASSWORDS[name]), f"{name} cannot log in after upgrade"
    assert not Browser(hub).login("admin", hub.admin_password)


def test_unapproved_sign_up_cannot_log_in_until_an_admin_approves(hub):
    carol = Browser(hub)
    refused = carol.post_form("/hub/login", {"username": "carol", "password": PASSWORDS["carol"]})
    assert refused.status_code == 403, refused.status_code
    assert login_error(refused) == "User carol has not been approved by an administrator yet."
    assert not carol.login("carol", PASSWORDS["carol"])
    admin = Browser(hub)
    assert admin.login("admin", PASSWORDS["admin"])
    area = admin.get("/hub/authorize")
    assert area.status_code == 200 and "carol" in area.text, area.status_code
    admin.get("/hub/authorize/carol")
    assert carol.login("carol", PASSWORDS["carol"])


def test_sign_up_before_enrolment_is_approved_by_the_roster(hub, tmp_path):
    erin, password = Browser(hub), "erin-secret-4242"
    erin.signup("erin", password)
    refused = erin.post_form("/hub/login", {"username": "erin", "password": password})
    assert login_error(refused) == "User erin has not been approved by an administrator yet."
    hub.cli("students", "add", "erin")
    assert not erin.login("erin", "a-wrong-password"), "the roster must not skip the password"
    assert erin.login("erin", password), "an enrolled student still waits for an admin"


def test_wrong_password_shows_the_login_page_with_a_message(hub):
    refused = Browser(hub).post_form("/hub/login", {"username": "alice", "password": "nope-nope"})
    assert refused.status_code == 403, refused.status_code
    assert login_error(refused) == "Invalid username or password."
    assert 'id="login_submit"' in refused.text


def test_expired_form_shows_the_login_page_not_a_500(hub):
    """JupyterHub renders this error through the login handler's ``_render(sync=True, ...)``."""
    browser = Browser(hub)
    browser.get("/hub/login")
    stale = browser.s.post(
        hub.url + "/hub/login",
        data={"username": "alice", "password": PASSWORDS["alice"], "_xsrf": "stale"},
        timeout=30,
    )
    assert stale.status_code == 403, stale.status_code
    assert "invalid or expired" in login_error(stale), stale.text[-2000:]


def test_sign_up_refuses_short_and_common_passwords(hub):
    for password in ("short7", "password1"):
        page = Browser(hub).signup("dave", password)
        assert "at least 8 characters and is not too common" in page.text, password
    assert "dave" not in dict(query(hub, "SELECT username, is_authorized FROM users_info"))


def test_ten_failed_logins_lock_the_account_out(hub):
    bob = Browser(hub)
    for _ in range(10):
        bob.post_form("/hub/login", {"username": "bob", "password": "wrong-guess"})
    locked = bob.post_form("/hub/login", {"username": "bob", "password": PASSWORDS["bob"]})
    assert locked.status_code == 403
    assert login_error(locked).startswith("Too many failed logins for bob: wait 60 s")
    assert not bob.login("bob", PASSWORDS["bob"])
    assert Browser(hub).login("alice", PASSWORDS["alice"]), "the lock-out is per account"


def test_users_change_their_own_password(hub):
    alice = Browser(hub)
    assert alice.login("alice", PASSWORDS["alice"])
    new = "alice-secret-66"
    changed = alice.post_form(
        "/hub/change-password",
        {
            "old_password": PASSWORDS["alice"],
            "new_password": new,
            "new_password_confirmation": new,
        },
    )
    assert "changed successfully" in changed.text, changed.status_code
    assert Browser(hub).login("alice", new)
    assert not Browser(hub).login("alice", PASSWORDS["alice"])
