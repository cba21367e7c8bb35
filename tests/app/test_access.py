"""Roles through the real login form in AppTest: every page each role may open runs; 陇县's clerk
asking for 麟游县's detail by URL gets a Chinese refusal (audited) and no 麟游县 rows; the wall's
display link opens the wall without signing in; a first sign-in must change its password."""
import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from builders import admin_as, copy_sqlite_store
from retrofit import accounts, audit, db, ui
from signing import sign_in

APP = Path(__file__).resolve().parents[2] / "app.py"
ROLES = ["leader", "admin", "clerk"]


@pytest.fixture
def store_copy(demo_url, tmp_path) -> str:
    return copy_sqlite_store(demo_url, tmp_path / "store.db")


def _app(monkeypatch, url: str) -> AppTest:
    monkeypatch.setenv("RETROFIT_DB_URL", url)
    return AppTest.from_file(str(APP), default_timeout=90)


def _errors(at) -> str:
    return "\n".join(e.value for e in at.error)


@pytest.mark.parametrize("role", ROLES)
def test_every_page_a_role_may_open_runs_without_an_exception_or_a_refusal(demo_url, monkeypatch, role):
    at = sign_in(_app(monkeypatch, demo_url), role).run()
    signed_in = at.session_state[ui.ACCESS]
    assert signed_in.role == role
    for spec in ui.pages_for(signed_in):
        at.switch_page(spec.path).run()
        assert not at.exception, (spec.path, at.exception)
        assert not at.error, (spec.path, _errors(at))


def test_the_login_page_lists_the_demo_accounts_and_a_wrong_password_is_refused_and_audited(store_copy,
                                                                                            monkeypatch):
    at = _app(monkeypatch, store_copy).run()
    assert any("演示账号" in w.value for w in at.warning)
    at.text_input(key="login_name").input("longxian")
    at.text_input(key="login_password").input("not-the-password")
    next(b for b in at.button if b.label == "登录").click()
    at.run()
    assert "账号或密码不正确" in _errors(at)
    failed = audit.load_audit(db.make_engine(store_copy), actions=(audit.LOGIN_FAILED,))
    assert list(failed["操作人"]) == ["longxian"]


@pytest.mark.parametrize("page", ["pages/heating.py", "pages/renovation.py", "pages/map.py"])
def test_the_longxian_clerk_editing_the_url_to_linyou_gets_a_notice_and_their_own_county_audited(
        store_copy, monkeypatch, page):
    at = sign_in(_app(monkeypatch, store_copy), "clerk")
    at.query_params["county"] = "麟游县"
    at.run()
    at.switch_page(page).run()
    assert not at.exception and not at.error, _errors(at)
    assert any("只能查看本县区(陇县)" in w.value and "已改为显示陇县" in w.value for w in at.warning)
    for frame in at.dataframe:  # the village list's and the community list's rows: 陇县 only
        if {"村编码", "逾期阶段"} & set(frame.value.columns):
            assert set(frame.value["县区"]) == {"陇县"}
    refused = audit.load_audit(db.make_engine(store_copy), who="longxian", actions=(audit.REFUSED,))
    assert len(refused) == 1 and "麟游县" in refused["内容"].iloc[0]


def _map_layers(at) -> dict[str, list[dict]]:
    spec = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    return {layer["id"]: layer["data"] for layer in spec["layers"] if isinstance(layer.get("data"), list)}


def test_the_clerk_sees_the_whole_city_map_with_only_their_own_countys_points(store_copy, monkeypatch):
    at = sign_in(_app(monkeypatch, store_copy), "clerk").run()
    at.switch_page("pages/map.py").run()
    assert not at.exception and not at.error and not at.warning
    layers = _map_layers(at)
    assert len({c["county"] for c in layers["counties"]}) == 12
    assert layers["villages"] and {v["county"] for v in layers["villages"]} == {"陇县"}


def test_the_clerk_asking_the_map_for_linyou_sees_their_own_county_not_a_blank_page(store_copy, monkeypatch):
    at = sign_in(_app(monkeypatch, store_copy), "clerk")
    at.query_params["county"] = "麟游县"
    at.run()
    at.switch_page("pages/map.py").run()
    layers = _map_layers(at)
    assert {c["county"] for c in layers["counties"]} == {"陇县"}
    assert layers["villages"] and {v["county"] for v in layers["villages"]} == {"陇县"}


def test_the_longxian_clerk_sees_own_villages_with_full_names(store_copy, monkeypatch):
    at = sign_in(_app(monkeypatch, store_copy), "clerk")
    at.query_params["county"] = "陇县"
    at.run()
    at.switch_page("pages/heating.py").run()
    assert not at.exception and not at.error
    villages = next(d.value for d in at.dataframe if "村编码" in getattr(d.value, "columns", []))
    assert set(villages["县区"]) == {"陇县"}


def test_the_wall_opens_on_its_display_link_without_signing_in(store_copy, monkeypatch):
    token = accounts.create_display_token(db.make_engine(store_copy), admin_as("测试"), "会议室")
    at = _app(monkeypatch, store_copy)
    at.query_params["display"] = token
    at.run()
    assert not at.exception and not at.error
    assert at.session_state[ui.ACCESS].role == "display"
    assert not any(t.key == "login_name" for t in at.text_input)


def test_a_revoked_or_guessed_display_link_gets_a_refusal(store_copy, monkeypatch):
    at = _app(monkeypatch, store_copy)
    at.query_params["display"] = "guessed"
    at.run()
    assert "大屏链接无效或已被吊销" in _errors(at)


def test_a_first_sign_in_must_change_the_one_time_password(store_copy, monkeypatch):
    engine = db.make_engine(store_copy)
    password = accounts.add_account(engine, admin_as("测试"), "linyou", "麟游县住建局", "clerk", "麟游县")
    at = _app(monkeypatch, store_copy).run()
    at.text_input(key="login_name").input("linyou")
    at.text_input(key="login_password").input(password)
    next(b for b in at.button if b.label == "登录").click()
    at.run()
    assert any(s.value == "首次登录,请修改密码" for s in at.subheader)
    at.text_input(key="old_password").input(password)
    at.text_input(key="new_password").input("linyou-new-password")
    at.text_input(key="new_password_again").input("linyou-new-password")
    next(b for b in at.button if b.label == "修改密码").click()
    at.run()
    assert not at.exception and at.session_state[ui.ACCESS].county_name == "麟游县"
    assert not accounts.sign_in(engine, "linyou", "linyou-new-password", "本机").must_change


IDP = {"auth": {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "a-long-random-secret",
                "client_id": "retrofit", "client_secret": "secret",
                "server_metadata_url": "https://idp.bureau.gov.cn/.well-known/openid-configuration"}}
IDP_BUTTON = "使用单位统一身份认证登录"


def _buttons(at) -> list[str]:
    return [b.label for b in at.button]


def test_the_identity_provider_button_appears_only_when_auth_is_configured(store_copy, monkeypatch):
    local = _app(monkeypatch, store_copy).run()
    assert IDP_BUTTON not in _buttons(local) and any(t.key == "login_name" for t in local.text_input)
    configured = _app(monkeypatch, store_copy)
    configured.secrets.update(IDP)
    configured.run()
    assert IDP_BUTTON in _buttons(configured) and any(t.key == "login_name" for t in configured.text_input)


def test_an_identity_with_an_account_signs_in_with_its_role_and_county(store_copy, monkeypatch):
    engine = db.make_engine(store_copy)
    accounts.add_account(engine, admin_as("测试"), "wang@bureau.gov.cn", "王科长", "clerk", "麟游县")
    at = _app(monkeypatch, store_copy)
    at.secrets.update(IDP)
    at.user = {"is_logged_in": True, "email": "wang@bureau.gov.cn", "sub": "u-1"}
    at.run()
    at.switch_page("pages/heating.py").run()  # the next run goes on in the session, no password change
    signed_in = at.session_state[ui.ACCESS]
    assert (signed_in.who, signed_in.role, signed_in.county_name) == ("wang@bureau.gov.cn", "clerk", "麟游县")
    assert not at.exception and not at.error and not any("修改密码" in s.value for s in at.subheader)
    logins = audit.load_audit(engine, who="wang@bureau.gov.cn", actions=(audit.LOGIN,))
    assert len(logins) == 1 and "统一身份认证" in logins["内容"].iloc[0]


def test_an_identity_without_an_account_is_refused_in_chinese_and_audited_once(store_copy, monkeypatch):
    at = _app(monkeypatch, store_copy)
    at.secrets.update(IDP)
    at.user = {"is_logged_in": True, "email": "stranger@bureau.gov.cn"}
    at.run()
    at.run()
    assert ui.ACCESS not in at.session_state
    assert "该账号尚未开通,请联系管理员" in _errors(at) and "退出统一身份认证" in _buttons(at)
    failed = audit.load_audit(db.make_engine(store_copy), who="stranger", actions=(audit.LOGIN_FAILED,))
    assert len(failed) == 1
