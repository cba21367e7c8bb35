"""Every AppTest goes through the real login form: `sign_in` opens the app, fills in the form and
clicks 登录; the test's next run() signs in and lands on the page (with its query parameters)."""
from streamlit.testing.v1 import AppTest

from builders import admin_as
from retrofit import accounts, db
from retrofit.settings import database_url

TEST_PASSWORD = "test-password-2026"
DEMO_LOGINS = {"admin": "admin", "leader": "leader", "clerk": "longxian"}


def ensure_test_account(engine, role: str, county: str | None = None) -> tuple[str, str]:
    """(login, password) of an account of `role`: the demo account on a demo store (documented
    password), else one created here with a known password and no forced change."""
    if db.load_is_demo(engine) and role in DEMO_LOGINS and county in (None, "陇县"):
        return DEMO_LOGINS[role], accounts.DEMO_PASSWORD
    login = f"test-{role}" + (f"-{county}" if county else "")
    if login not in set(accounts.load_accounts(engine)["账号"]):
        accounts.add_account(engine, admin_as("测试"), login, login, role, county, TEST_PASSWORD, must_change=False)
    return login, TEST_PASSWORD


def sign_in(at: AppTest, role: str = "admin", county: str | None = None) -> AppTest:
    """Open the login page and submit it as an account of `role` (a store that cannot be read
    shows its fault instead, and there is nothing to fill in)."""
    at.run()
    if not any(t.key == "login_name" for t in at.text_input):
        return at
    engine = db.make_engine(database_url())
    try:
        login, password = ensure_test_account(engine, role, county)
    finally:
        engine.dispose()
    at.text_input(key="login_name").input(login)
    at.text_input(key="login_password").input(password)
    next(b for b in at.button if b.label == "登录").click()
    return at
