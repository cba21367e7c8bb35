"""Accounts, scope and the audit trail in the data layer, on SQLite and PostgreSQL: what each role
may list, read in full, download and import, enforced where the queries are built; brute force
locks; sessions end; the wall's link sees only the wall; every audited action writes one row."""
import re
from datetime import date as D
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from builders import NORTH, SOUTH, add_county, add_household, add_plan, add_project, add_village, make_store
from intake_files import PROJECT_HEADERS, add_places, build_projects, build_xlsx, check, household, ledger, project
from retrofit import accounts, audit, cli, db, demo, publish, queries, report, ui
from retrofit.accounts import Access, AccessRefused
from retrofit.intake import commit, templates
from retrofit.settings import MAX_FAILED_LOGINS

LONGXIAN, LINYOU = "610327", "610329"
ADMIN = Access("admin", "admin")
LEADER = Access("leader", "leader")
CLERK = Access("longxian", "clerk", LONGXIAN, "陇县")
WALL = Access("大屏链接:会议室", "display")
REFUSED = "refused"
FULL, MASKED = "王建国", "王*国"
AS_OF = D(2026, 7, 2)


@pytest.fixture
def two_counties(store):
    """陇县 and 麟游县, each with one village, one household (head 王建国) and one community."""
    for adcode, name in ((LONGXIAN, "陇县"), (LINYOU, "麟游县")):
        add_county(store, adcode, name)
        village = add_village(store, adcode)
        add_plan(store, adcode, 2026, 1)
        add_household(store, f"H{adcode}", village, 2026, county=adcode)
        add_project(store, f"P{adcode}", county=adcode)
    return store


def _audit_count(engine, action: str | None = None) -> int:
    a = db.audit_event
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(a).where(
            a.c.action == action if action else a.c.id.isnot(None))).scalar_one()


# ---- the permission matrix: role x what is read, for which county ----------------------------

LISTING = [  # (reader, counties asked for, counties listed or REFUSED)
    (LEADER, (), {LONGXIAN, LINYOU}), (LEADER, (LINYOU,), {LINYOU}),
    (ADMIN, (), {LONGXIAN, LINYOU}), (ADMIN, (LINYOU,), {LINYOU}),
    (CLERK, (), {LONGXIAN}), (CLERK, (LONGXIAN,), {LONGXIAN}),
    (CLERK, (LINYOU,), REFUSED), (CLERK, (LONGXIAN, LINYOU), REFUSED),
    (WALL, (), REFUSED),
]


@pytest.mark.parametrize("reader, asked, listed", LISTING, ids=lambda v: getattr(v, "role", repr(v)))
def test_villages_and_communities_are_listed_only_within_the_readers_scope(two_counties, reader, asked, listed):
    scope = report.Scope(AS_OF, 2026, asked)
    if listed == REFUSED:
        with pytest.raises(AccessRefused, match="无权|只能"):
            queries.load_village_progress(two_counties, reader, 2026, AS_OF, asked)
        with pytest.raises(AccessRefused, match="无权|只能"):
            report.compute_communities(two_counties, reader, scope)
        return
    assert set(queries.load_village_progress(two_counties, reader, 2026, AS_OF, asked)["adcode"]) == listed
    assert set(report.compute_communities(two_counties, reader, scope)["county_adcode"]) == listed


HOUSEHOLDS = [  # (reader, village's county, head's name as returned: FULL, MASKED, None (no row), REFUSED)
    (ADMIN, LONGXIAN, FULL), (ADMIN, LINYOU, FULL),
    (CLERK, LONGXIAN, FULL), (CLERK, LINYOU, None),
    (LEADER, LONGXIAN, MASKED), (LEADER, LINYOU, MASKED),
    (WALL, LONGXIAN, REFUSED),
]


@pytest.mark.parametrize("reader, county, name", HOUSEHOLDS, ids=lambda v: getattr(v, "role", repr(v)))
def test_full_names_only_to_the_households_county_and_admins_and_no_other_countys_rows_to_a_clerk(
        two_counties, reader, county, name):
    village = f"{county}101201"
    if name == REFUSED:
        with pytest.raises(AccessRefused):
            queries.load_village_households(two_counties, reader, village, 2026, AS_OF)
        return
    rows = queries.load_village_households(two_counties, reader, village, 2026, AS_OF)
    assert list(rows["head_name"]) == ([] if name is None else [name])


TEMPLATES = [  # (who, county of the pre-filled template (None: city-wide plans), allowed)
    (ADMIN, "陇县", True), (ADMIN, "麟游县", True), (ADMIN, None, True),
    (CLERK, "陇县", True), (CLERK, "麟游县", False), (CLERK, None, False),
    (LEADER, "陇县", False), (WALL, "陇县", False),
]


@pytest.mark.parametrize("who, county, allowed", TEMPLATES, ids=lambda v: getattr(v, "role", repr(v)))
def test_prefilled_templates_with_names_go_only_to_who_may_import_that_county(two_counties, who, county, allowed):
    program = "heating" if county else "plans"
    if allowed:
        assert templates.build_template(two_counties, who, program, county, 2026)[:2] == b"PK"
    else:
        with pytest.raises(AccessRefused):
            templates.build_template(two_counties, who, program, county, 2026)


@pytest.fixture
def city(store):
    add_places(store)
    return store


NORTH_CLERK = Access("beixian", "clerk", NORTH, "北县")


def _south_ledger() -> bytes:
    return build_xlsx([household("S1", "河村", **{"县(市、区)": "南区", "乡镇": "南关镇"})], title="南区 2026年度 一户一档")


def test_a_clerk_imports_their_own_county_and_never_another_and_the_store_stays_unchanged(city):
    own = commit.commit_import(city, check(city, build_xlsx(ledger())), NORTH_CLERK)
    other = check(city, _south_ledger(), name="南区.xlsx")
    assert other.ok and other.county_adcode == SOUTH
    before = commit.compute_store_checksum(city)
    for who in (NORTH_CLERK, LEADER, WALL):
        with pytest.raises(AccessRefused):
            commit.commit_import(city, other, who)
    assert commit.compute_store_checksum(city) == before
    south = commit.commit_import(city, other, ADMIN)
    with pytest.raises(AccessRefused):
        commit.undo_import(city, south, NORTH_CLERK)
    assert commit.undo_import(city, own, NORTH_CLERK)["deleted"] == 3


def test_a_clerk_asking_for_another_countys_detail_is_narrowed_to_their_own_with_a_notice():
    counties, notice = CLERK.narrow_detail_counties((LINYOU, LONGXIAN))
    assert counties == (LONGXIAN,) and "只能查看本县区(陇县)" in notice and "已改为显示陇县" in notice
    assert CLERK.narrow_detail_counties((LONGXIAN,)) == ((LONGXIAN,), "")
    assert ADMIN.narrow_detail_counties((LINYOU,)) == ((LINYOU,), "")
    with pytest.raises(AccessRefused):
        WALL.narrow_detail_counties(())


def test_a_clerks_file_cannot_take_over_another_countys_community_by_its_code_nor_preview_it(city):
    south = build_xlsx([project("PS1", **{"县(市、区)": "南区", "小区名称": "南区家属院"})], PROJECT_HEADERS,
                       sheet="小区台账", title="南区 2026年度 小区台账")
    commit.commit_import(city, check(city, south, name="南区.xlsx"), ADMIN)
    taking = check(city, build_projects([project("PS1", 小区名称="北县新名")]))
    assert taking.ok and taking.county_adcode == NORTH
    before = commit.compute_store_checksum(city)
    with pytest.raises(AccessRefused, match="在库中属于南区"):
        commit.build_preview(city, taking, NORTH_CLERK)
    with pytest.raises(AccessRefused, match="在库中属于南区"):
        commit.commit_import(city, taking, NORTH_CLERK)
    assert commit.compute_store_checksum(city) == before
    assert commit.build_preview(city, taking, ADMIN).counts["updated"] == 1  # an admin may move it


def test_a_clerks_import_log_lists_only_their_own_countys_imports(city):
    own = commit.commit_import(city, check(city, build_xlsx(ledger())), NORTH_CLERK)
    south = commit.commit_import(city, check(city, _south_ledger(), name="南区.xlsx"), ADMIN)
    assert list(commit.load_imports(city, NORTH_CLERK)["编号"]) == [own]
    assert list(commit.load_imports(city, ADMIN)["编号"]) == [south, own]
    assert list(commit.load_imports(city, LEADER)["编号"]) == [south, own]
    with pytest.raises(AccessRefused):
        commit.load_imports(city, WALL)


def test_city_wide_files_are_imported_by_admins_only(city):
    with pytest.raises(AccessRefused, match="不属于某一县区的文件只能由管理员导入"):
        NORTH_CLERK.check_import(None)
    ADMIN.check_import(None)


@pytest.mark.parametrize("who", [LEADER, CLERK, WALL], ids=lambda a: a.role)
def test_only_admins_publish_withdraw_manage_accounts_and_rebuild_the_demo(store, who, tmp_path):
    with pytest.raises(AccessRefused):
        publish.publish_report(store, AS_OF, None, who, with_files=False)
    with pytest.raises(AccessRefused):
        publish.withdraw_report(store, AS_OF, who, "理由")
    with pytest.raises(AccessRefused):
        accounts.add_account(store, who, "x", "x", "leader")
    with pytest.raises(AccessRefused):
        accounts.reset_password(store, who, "x")
    with pytest.raises(AccessRefused):
        accounts.create_display_token(store, who, "会议室")
    untouched = tmp_path / "demo.db"
    with pytest.raises(AccessRefused):
        demo.build_demo(db.make_engine(f"sqlite:///{untouched}"), 1, by=who)
    assert not untouched.exists() or untouched.stat().st_size == 0


def test_pages_by_role_admin_pages_for_admins_and_the_wall_link_sees_only_the_wall():
    paths = {role: {p.url_path for p in ui.pages_for(Access("x", role))} for role in ("leader", "admin", "clerk",
                                                                                      "display")}
    assert paths["display"] == {"screen"}
    assert {"accounts", "audit"} <= paths["admin"]
    assert not {"accounts", "audit", "intake", "imports"} & paths["leader"]
    assert not {"accounts", "audit"} & paths["clerk"] and {"intake", "imports"} <= paths["clerk"]


# ---- signing in ----------------------------------------------------------------------------------

@pytest.fixture
def clerk_account(two_counties):
    password = accounts.add_account(two_counties, ADMIN, "longxian", "陇县填报员", "clerk", "陇县")
    return two_counties, password


def test_brute_force_locks_the_account_even_for_the_right_password(clerk_account):
    engine, password = clerk_account
    for attempt in range(MAX_FAILED_LOGINS):
        with pytest.raises(AccessRefused):
            accounts.sign_in(engine, "longxian", f"guess-{attempt}", "10.0.0.9")
    with pytest.raises(AccessRefused, match="锁定"):
        accounts.sign_in(engine, "longxian", password, "10.0.0.9")
    assert _audit_count(engine, audit.LOGIN_FAILED) == MAX_FAILED_LOGINS + 1
    assert accounts.load_accounts(engine).set_index("账号").loc["longxian", "状态"] == "已锁定"
    fresh = accounts.reset_password(engine, ADMIN, "longxian")
    assert accounts.sign_in(engine, "longxian", fresh, "10.0.0.9").must_change


def test_an_unknown_login_and_a_wrong_password_get_the_same_answer(clerk_account):
    engine, _ = clerk_account
    answers = set()
    for login in ("longxian", "nobody"):
        with pytest.raises(AccessRefused) as refused:
            accounts.sign_in(engine, login, "wrong-password", "10.0.0.9")
        answers.add(str(refused.value))
    assert answers == {"账号或密码不正确。"}


def test_first_sign_in_forces_a_password_change_and_the_clerk_gets_their_county(clerk_account):
    engine, password = clerk_account
    signed = accounts.sign_in(engine, "longxian", password, "10.0.0.9")
    assert signed.must_change and signed.access == Access("longxian", "clerk", LONGXIAN, "陇县", "10.0.0.9")
    with pytest.raises(AccessRefused, match="至少"):
        accounts.change_password(engine, signed.access, password, "short")
    accounts.change_password(engine, signed.access, password, "a-long-new-password")
    assert not accounts.sign_in(engine, "longxian", "a-long-new-password", "10.0.0.9").must_change


def test_sessions_expire_and_end_when_the_account_is_disabled(clerk_account):
    engine, password = clerk_account
    signed = accounts.sign_in(engine, "longxian", password, "10.0.0.9")
    assert accounts.load_signed_in(engine, signed.token).access.who == "longxian"
    with engine.begin() as conn:
        conn.execute(update(db.account_session).values(expires_at=audit.utc_now() - timedelta(seconds=1)))
    assert accounts.load_signed_in(engine, signed.token) is None
    again = accounts.sign_in(engine, "longxian", password, "10.0.0.9")
    accounts.set_disabled(engine, ADMIN, "longxian")
    assert accounts.load_signed_in(engine, again.token) is None
    with pytest.raises(AccessRefused, match="停用"):
        accounts.sign_in(engine, "longxian", password, "10.0.0.9")


def test_the_store_keeps_hashes_never_passwords_or_tokens(clerk_account):
    engine, password = clerk_account
    signed = accounts.sign_in(engine, "longxian", password, "10.0.0.9")
    with engine.connect() as conn:
        stored = " ".join(str(v) for table in (db.account, db.account_session)
                          for row in conn.execute(select(table)).all() for v in row)
    assert password not in stored and signed.token not in stored and "$argon2id$" in stored


def test_a_revoked_display_link_opens_nothing(store):
    token = accounts.create_display_token(store, ADMIN, "三楼会议室")
    wall = accounts.load_display_access(store, token)
    assert wall.role == "display" and wall.who == "大屏链接:三楼会议室"
    with pytest.raises(AccessRefused):
        wall.detail_counties()
    accounts.revoke_display_token(store, ADMIN, int(accounts.load_display_tokens(store)["编号"].iloc[0]))
    assert accounts.load_display_access(store, token) is None
    assert accounts.load_display_access(store, "guessed-token") is None


# ---- the audit trail -------------------------------------------------------------------------------

def _publish(engine):
    return publish.publish_report(engine, AS_OF, None, ADMIN, with_files=False)


AUDITED = {  # action -> (what to do on a store with places and a clerk account, the action's label)
    "login": (lambda e, pw: accounts.sign_in(e, "longxian", pw, "1.2.3.4"), audit.LOGIN),
    "failed login": (lambda e, pw: pytest.raises(AccessRefused, accounts.sign_in, e, "longxian", "x", "1.2.3.4"),
                     audit.LOGIN_FAILED),
    "import": (lambda e, pw: commit.commit_import(e, check(e, build_xlsx(ledger())), ADMIN), audit.IMPORT),
    "undo": (lambda e, pw: commit.undo_import(e, commit.commit_import(e, check(e, build_xlsx(ledger())), ADMIN),
                                              ADMIN), audit.UNDO),
    "publish": (lambda e, pw: _publish(e), audit.PUBLISH),
    "withdraw": (lambda e, pw: (_publish(e), publish.withdraw_report(e, AS_OF, ADMIN, "数据有误")), audit.WITHDRAW),
    "download": (lambda e, pw: audit.audited_build(e, "leader", "1.2.3.4", "表格 排名.xlsx", lambda: b"x")(),
                 audit.EXPORT),
    "account add": (lambda e, pw: accounts.add_account(e, ADMIN, "linyou", "麟游", "clerk", "南区"), audit.ACCOUNT),
    "account disable": (lambda e, pw: accounts.set_disabled(e, ADMIN, "longxian"), audit.ACCOUNT),
    "password reset": (lambda e, pw: accounts.reset_password(e, ADMIN, "longxian"), audit.ACCOUNT),
    "display link": (lambda e, pw: accounts.create_display_token(e, ADMIN, "大屏"), audit.ACCOUNT),
}


@pytest.mark.parametrize("name", list(AUDITED))
def test_each_audited_action_writes_exactly_one_row_of_its_kind(city, name):
    password = accounts.add_account(city, ADMIN, "longxian", "北县填报员", "clerk", "北县")
    act, action = AUDITED[name]
    before = {a: _audit_count(city, a) for a in audit.ACTIONS}
    act(city, password)
    after = {a: _audit_count(city, a) for a in audit.ACTIONS}
    grew = {a: after[a] - before[a] for a in audit.ACTIONS if after[a] != before[a]}
    # Publishing for a withdrawal, importing for an undo: each of those is its own one row.
    expected = {action: 1, **({audit.PUBLISH: 1} if name == "withdraw" else {}),
                **({audit.IMPORT: 1} if name == "undo" else {})}
    assert grew == expected
    row = audit.load_audit(city).iloc[0]
    assert row["操作"] == action and row["操作人"] and row["来源"] and row["内容"]


def test_a_first_demo_build_is_the_first_row_of_the_trail(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'demo.db'}")
    demo.build_demo(engine, 1, by=accounts.cli_access())
    trail = audit.load_audit(engine)
    assert list(trail["操作"]) == [audit.DEMO_REBUILD] and trail["操作人"].iloc[0].startswith("命令行:")


def test_a_forced_demo_rebuild_keeps_accounts_sessions_display_links_and_the_trail_and_records_itself_last(store):
    demo.build_demo(store, 1, force=True, by=accounts.cli_access())
    accounts.add_account(store, ADMIN, "linyou", "麟游县住建局", "clerk", "麟游县", password="linyou-password-1",
                         must_change=False)
    signed = accounts.sign_in(store, "linyou", "linyou-password-1", "10.0.0.9")
    with pytest.raises(AccessRefused):
        accounts.sign_in(store, "longxian", "wrong", "10.0.0.9")
    wall = accounts.create_display_token(store, ADMIN, "三楼会议室")
    before = audit.load_audit(store)

    demo.build_demo(store, 2, force=True, by=accounts.cli_access())

    after = audit.load_audit(store)
    assert list(after["编号"].iloc[1:]) == list(before["编号"]) and list(after["内容"].iloc[1:]) == list(before["内容"])
    assert after["操作"].iloc[0] == audit.DEMO_REBUILD and "种子 2" in after["内容"].iloc[0]
    kept = accounts.load_accounts(store).set_index("账号")
    assert set(kept.index) == {"leader", "admin", "longxian", "linyou"}
    assert kept.loc["longxian", "连续失败"] == 1  # the failed sign-in is remembered, not reset by the rebuild
    again = accounts.load_signed_in(store, signed.token)
    assert again is not None and again.access.county_name == "麟游县"
    assert accounts.load_display_access(store, wall) is not None
    assert accounts.sign_in(store, "admin", accounts.DEMO_PASSWORD, "10.0.0.9").access.is_admin
    assert len(audit.load_audit(store)) == len(after) + 1  # the trail goes on after the rebuild


def _two_counties_boundaries(tmp_path, adcodes_names) -> bytes:
    import geopandas as gpd
    from shapely.geometry import box

    frame = gpd.GeoDataFrame({"adcode": [a for a, _ in adcodes_names], "name": [n for _, n in adcodes_names]},
                             geometry=[box(107 + i, 34, 107.5 + i, 34.5) for i in range(len(adcodes_names))], crs=4326)
    frame.to_file(tmp_path / "city.geojson", driver="GeoJSON")
    return (tmp_path / "city.geojson").read_bytes()


def test_a_new_city_over_the_demo_keeps_the_trail_but_not_demo_passwords_nor_clerks_of_missing_counties(
        store, tmp_path):
    from retrofit.intake import city as new_city

    demo.build_demo(store, 1, force=True, by=accounts.cli_access())
    accounts.add_account(store, ADMIN, "chief", "局长", "admin", password="chief-password-1", must_change=False)
    accounts.add_account(store, ADMIN, "linyou", "麟游县住建局", "clerk", "麟游县", password="linyou-password-1",
                         must_change=False)
    accounts.add_account(store, ADMIN, "fengxiang", "凤翔区住建局", "clerk", "610305", password="fengxiang-pass-1",
                         must_change=False)
    before = audit.load_audit(store)

    new_city.init_city(store, "宝鸡市", _two_counties_boundaries(tmp_path, [(LINYOU, "麟游县"), (LONGXIAN, "陇县")]),
                       "city.geojson", AS_OF, force=True, by=accounts.cli_access())

    assert set(accounts.load_accounts(store)["账号"]) == {"chief", "linyou"}
    after = audit.load_audit(store)
    assert list(after["编号"].iloc[-len(before):]) == list(before["编号"])
    added = after.iloc[:len(after) - len(before)]
    assert list(added["操作"]) == [audit.NEW_CITY] + [audit.ACCOUNT] * 4
    left_out = " ".join(added["内容"])
    assert all(f"账号 {login} 仍使用公开的演示密码" in left_out for login in ("leader", "admin"))
    assert "账号 fengxiang 的县区(610305)不在重建后的库中" in left_out
    with pytest.raises(AccessRefused):
        accounts.sign_in(store, "admin", accounts.DEMO_PASSWORD, "10.0.0.9")


def test_nothing_in_the_package_updates_or_deletes_audit_rows():
    source = "\n".join(p.read_text() for p in (Path(__file__).parents[2] / "retrofit").rglob("*.py"))
    assert "audit_event" in source
    assert not re.search(r"audit_event\s*\)?\s*\.(update|delete)|(UPDATE|DELETE\s+FROM)\s+audit_event", source, re.I)


def test_the_audit_page_filters_by_person_and_action(city):
    accounts.add_account(city, ADMIN, "longxian", "北县填报员", "clerk", "北县")
    with pytest.raises(AccessRefused):
        accounts.sign_in(city, "longxian", "wrong", "1.2.3.4")
    failed = audit.load_audit(city, who="longx", actions=(audit.LOGIN_FAILED,))
    assert len(failed) == 1 and failed["来源"].iloc[0] == "1.2.3.4"
    assert audit.load_audit(city, since=D(2000, 1, 1), until=D(2000, 1, 2)).empty


# ---- first start and the command line --------------------------------------------------------------

def test_a_real_citys_first_start_prints_a_one_time_admin_password_once(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'city.db'}"
    engine = make_store(url)
    demo.ensure_store(engine)
    printed = capsys.readouterr().err
    password = re.search(r"一次性密码 (\S+)", printed).group(1)
    assert accounts.sign_in(engine, "admin", password, "本机").must_change
    demo.ensure_store(engine)
    assert "一次性密码" not in capsys.readouterr().err


def test_the_user_command_manages_accounts_as_the_os_user(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'city.db'}"
    engine = make_store(url)
    monkeypatch.setenv("RETROFIT_DB_URL", url)
    assert cli.main(["user", "add", "nanqu", "--role", "clerk", "--county", "南区", "--name", "南区住建局"]) == 0
    password = re.search(r"一次性密码:(\S+)", capsys.readouterr().out).group(1)
    assert accounts.sign_in(engine, "nanqu", password, "本机").access.county_adcode == SOUTH
    assert cli.main(["user", "disable", "nanqu"]) == 0
    assert cli.main(["user", "list"]) == 0 and "已停用" in capsys.readouterr().out
    assert cli.main(["user", "add", "x", "--role", "clerk"]) == 2
    assert "须指定县区" in capsys.readouterr().err
    changes = audit.load_audit(engine, actions=(audit.ACCOUNT,))
    by_cli = changes[changes["操作人"].str.startswith("命令行:")]
    assert list(by_cli["内容"]) == ["停用账号 nanqu", "新建账号 nanqu(南区住建局,县区填报员·南区)"]


AUTH = {"redirect_uri": "http://bureau:8501/oauth2callback", "cookie_secret": "s" * 32}


@pytest.mark.parametrize("secrets, provider", [
    ({}, None),
    ({"auth": dict(AUTH)}, None),                                    # nothing to sign in with
    ({"auth": dict(AUTH, client_id="retrofit")}, ""),                # one provider, in [auth] itself
    ({"auth": dict(AUTH, bureau={"client_id": "retrofit"})}, "bureau"),  # [auth.bureau]
    ({"auth": {"client_id": "retrofit"}}, None),                     # no redirect or cookie secret
], ids=["absent", "no-client", "default", "named", "incomplete"])
def test_the_identity_provider_is_switched_on_only_by_a_complete_auth_section(secrets, provider):
    assert accounts.compute_oidc_provider(secrets) == provider


OPENED = {"login": "wang@bureau.gov.cn", "role": "clerk", "county_adcode": LONGXIAN, "disabled": False}


@pytest.mark.parametrize("identity, account, expected", [
    ({"is_logged_in": True, "email": "wang@bureau.gov.cn"}, OPENED, "clerk"),
    ({"is_logged_in": True, "email": "x@y.cn", "sub": "wang@bureau.gov.cn"}, OPENED, "clerk"),
    ({"is_logged_in": True, "email": "wang@bureau.gov.cn"}, None, accounts.NOT_OPENED),
    ({"is_logged_in": True, "email": "wang@bureau.gov.cn"}, dict(OPENED, disabled=True), accounts.NOT_OPENED),
    ({"is_logged_in": True, "email": "wang@bureau.gov.cn", "email_verified": False}, OPENED, accounts.NOT_OPENED),
    ({"is_logged_in": True, "email": "other@bureau.gov.cn"}, OPENED, accounts.NOT_OPENED),
    ({"is_logged_in": False, "email": "wang@bureau.gov.cn"}, OPENED, "尚未通过单位统一身份认证登录"),
], ids=["email", "sub", "unknown", "disabled", "unverified-email", "another-login", "not-signed-in"])
def test_an_identity_maps_to_its_account_or_a_chinese_refusal(identity, account, expected):
    if expected == "clerk":
        access = accounts.build_identity_access(identity, account, "陇县", "10.0.0.9")
        assert (access.who, access.role, access.county_adcode, access.county_name) == (
            "wang@bureau.gov.cn", "clerk", LONGXIAN, "陇县")
    else:
        with pytest.raises(AccessRefused, match=expected.rstrip("。")):
            accounts.build_identity_access(identity, account)


def test_identity_sign_ins_open_a_session_and_unknown_or_disabled_ones_write_one_failed_row_each(two_counties):
    engine = two_counties
    accounts.add_account(engine, ADMIN, "wang@bureau.gov.cn", "王科长", "clerk", "陇县")
    signed = accounts.sign_in_identity(engine, {"is_logged_in": True, "email": "wang@bureau.gov.cn"}, "10.0.0.9")
    assert accounts.load_signed_in(engine, signed.token, "10.0.0.9").access == signed.access
    accounts.set_disabled(engine, ADMIN, "wang@bureau.gov.cn")
    before = _audit_count(engine, audit.LOGIN_FAILED)
    for email in ("wang@bureau.gov.cn", "stranger@bureau.gov.cn"):
        with pytest.raises(AccessRefused, match="该账号尚未开通"):
            accounts.sign_in_identity(engine, {"is_logged_in": True, "email": email}, "10.0.0.9")
    failed = audit.load_audit(engine, actions=(audit.LOGIN_FAILED,))
    assert _audit_count(engine, audit.LOGIN_FAILED) == before + 2
    assert list(failed["内容"].iloc[:2]) == ["统一身份认证:无对应账号", "统一身份认证:账号已停用"]
