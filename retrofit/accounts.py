"""Accounts, sign-in and scope (issue 12): who may see, import and publish what.

An `Access` (who, role, county) is the signed-in account's scope. Functions that build
household, village and community detail, named people, templates and imports take one and
apply it themselves, so no page, URL parameter or download can widen it. Passwords are
hashed with argon2id; the store keeps only hashes of sign-in and display tokens.
"""
import getpass
import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from datetime import timedelta

import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from . import audit, db
from .settings import LOCKOUT_MINUTES, MAX_FAILED_LOGINS, MIN_PASSWORD_LENGTH, SESSION_HOURS
from .vocab import ROLES

LEADER, ADMIN, CLERK, DISPLAY = "leader", "admin", "clerk", "display"
CLI_SOURCE = "命令行"
FIRST_ADMIN = "admin"
# Demo stores only (generated data): one account per role, listed in the README and on the login page.
DEMO_PASSWORD = "demo-2026"
DEMO_ACCOUNTS = (("leader", "演示领导", LEADER, None), ("admin", "演示管理员", ADMIN, None),
                 ("longxian", "陇县演示填报员", CLERK, "610327"))

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


class AccessRefused(Exception):
    """Not allowed, or not signed in: the message is Chinese and says why."""


@dataclass(frozen=True)
class Access:
    """Who is asking, in which role, for which county (clerks), from where (for the audit)."""
    who: str
    role: str
    county_adcode: str | None = None
    county_name: str = ""
    source: str = ""

    @property
    def role_label(self) -> str:
        return ROLES.get(self.role, "大屏链接")

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN

    def detail_counties(self, requested: tuple[str, ...] = ()) -> tuple[str, ...]:
        """The counties whose communities, villages and households this account may list, for a
        request of `requested` (adcodes; empty: all it may see). Leaders and admins: as asked.
        A clerk: their own county, asked or not; asking for another county is refused."""
        if self.role in (ADMIN, LEADER):
            return tuple(requested)
        if self.role == CLERK:
            if any(adcode != self.county_adcode for adcode in requested):
                raise AccessRefused(f"县区填报员只能查看本县区({self.county_name})的小区、村和农户明细;"
                                    f"所选县区的明细无权查看。全市排名与通报不受影响。")
            return (self.county_adcode,)
        raise AccessRefused("大屏链接只能查看大屏。")

    def narrow_detail_counties(self, requested: tuple[str, ...] = ()) -> tuple[tuple[str, ...], str]:
        """As detail_counties, but a clerk asking for another county gets their own county and a
        Chinese notice saying so (pages keep the public city map and rankings around it instead
        of going blank). The notice is empty when nothing was narrowed."""
        try:
            return self.detail_counties(requested), ""
        except AccessRefused:
            if self.role != CLERK:
                raise
        return (self.county_adcode,), (f"县区填报员只能查看本县区({self.county_name})的小区、村和农户明细:"
                                       f"所选的其他县区已改为显示{self.county_name}。"
                                       "全市县区着色、排名与通报为公开数据,不受影响。")

    def may_see_names(self, adcode: str) -> bool:
        """Full head-of-household names: only to the household's own county and to city admins."""
        return self.role == ADMIN or (self.role == CLERK and adcode == self.county_adcode)

    def check_import(self, adcode: str | None) -> None:
        """May this account import (or download the pre-filled template of) `adcode` (None: a
        city-wide file such as the plans)? Admins: any; clerks: their own county only."""
        if self.role == ADMIN:
            return
        if self.role == CLERK and adcode is not None and adcode == self.county_adcode:
            return
        if self.role == CLERK:
            raise AccessRefused(f"县区填报员只能导入本县区({self.county_name})的数据;"
                                + ("计划等不属于某一县区的文件只能由管理员导入。" if adcode is None else "该文件属于其他县区,已拒绝。"))
        raise AccessRefused(f"{self.role_label}没有导入数据的权限。")

    def import_log_county(self) -> str | None:
        """Whose imports this account may list: a clerk, their own county's only; leaders and admins
        all (None). The wall's link reads no import log."""
        if self.role in (ADMIN, LEADER):
            return None
        if self.role == CLERK:
            return self.county_adcode
        raise AccessRefused("大屏链接只能查看大屏。")

    def check_admin(self, action: str) -> None:
        if self.role != ADMIN:
            raise AccessRefused(f"{action}只能由管理员操作。")


def cli_access(name: str | None = None) -> Access:
    """Shell access to the server is server administration: the CLI acts as an admin, audited
    under the operating-system user (and the name given with --by/--who, if any)."""
    name = (name or "").strip()
    return Access(who=f"命令行:{getpass.getuser()}" + (f"({name})" if name and name != CLI_SOURCE else ""),
                  role=ADMIN, source=CLI_SOURCE)


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_password() -> str:
    """A one-time password: 16 URL-safe characters, easy to read out and to type."""
    return secrets.token_urlsafe(12)


def check_new_password(password: str, login: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccessRefused(f"新密码至少 {MIN_PASSWORD_LENGTH} 位。")
    if password == login or password == DEMO_PASSWORD:
        raise AccessRefused("新密码不能与账号名或演示密码相同。")


# ---- account management --------------------------------------------------------------------

def _county_adcode(conn: Connection, county: str | None) -> tuple[str | None, str]:
    if not county:
        return None, ""
    row = conn.execute(select(db.county.c.adcode, db.county.c.name).where(
        (db.county.c.adcode == county) | (db.county.c.name == county))).first()
    if row is None:
        raise AccessRefused(f"未知县区“{county}”。")
    return row.adcode, row.name


def _account_row(conn: Connection, login: str):
    row = conn.execute(select(db.account).where(db.account.c.login == login)).mappings().first()
    if row is None:
        raise AccessRefused(f"没有账号“{login}”。")
    return row


def add_account(engine: Engine, actor: Access, login: str, display_name: str, role: str,
                county: str | None = None, password: str | None = None, must_change: bool = True) -> str:
    """Create an account; returns its (one-time, unless `password` is given) password. Admins only."""
    actor.check_admin("管理账号")
    login, display_name = (login or "").strip(), (display_name or "").strip() or (login or "").strip()
    if not login or len(login) > 40:
        raise AccessRefused("账号名不能为空,且不超过 40 个字符。")
    if role not in ROLES:
        raise AccessRefused(f"未知角色“{role}”:可选 {'、'.join(f'{k}({v})' for k, v in ROLES.items())}。")
    if (role == CLERK) != bool(county):
        raise AccessRefused("县区填报员须指定县区;领导和管理员不指定县区。")
    password = password or new_password()
    with engine.begin() as conn:
        adcode, name = _county_adcode(conn, county)
        if conn.execute(select(db.account.c.id).where(db.account.c.login == login)).first():
            raise AccessRefused(f"账号“{login}”已存在。")
        conn.execute(db.account.insert().values(
            login=login, display_name=display_name[:40], role=role, county_adcode=adcode,
            password_hash=_hasher.hash(password), must_change=must_change, failed_logins=0,
            disabled=False, created_at=audit.utc_now()))
        audit.record_in(conn, actor.who, actor.source, audit.ACCOUNT,
                        f"新建账号 {login}({display_name},{ROLES[role]}{'·' + name if name else ''})")
    return password


def set_disabled(engine: Engine, actor: Access, login: str, disabled: bool = True) -> None:
    """Disable (its sign-ins end at once) or enable an account. Admins only."""
    actor.check_admin("管理账号")
    with engine.begin() as conn:
        row = _account_row(conn, login)
        conn.execute(update(db.account).where(db.account.c.id == row["id"]).values(disabled=disabled))
        if disabled:
            conn.execute(db.account_session.delete().where(db.account_session.c.account_id == row["id"]))
        audit.record_in(conn, actor.who, actor.source, audit.ACCOUNT, f"{'停用' if disabled else '启用'}账号 {login}")


def reset_password(engine: Engine, actor: Access, login: str) -> str:
    """A new one-time password for `login` (changed at the next sign-in), unlocked, signed out
    everywhere. Admins only. Returns the password, shown once."""
    actor.check_admin("管理账号")
    password = new_password()
    with engine.begin() as conn:
        row = _account_row(conn, login)
        conn.execute(update(db.account).where(db.account.c.id == row["id"]).values(
            password_hash=_hasher.hash(password), must_change=True, failed_logins=0, locked_until=None))
        conn.execute(db.account_session.delete().where(db.account_session.c.account_id == row["id"]))
        audit.record_in(conn, actor.who, actor.source, audit.ACCOUNT, f"重置账号 {login} 的密码(解除锁定)")
    return password


def change_password(engine: Engine, access: Access, old: str, new: str) -> None:
    """The signed-in account changes its own password (forced at the first sign-in)."""
    check_new_password(new, access.who)
    with engine.begin() as conn:
        row = _account_row(conn, access.who)
        if not _verify(row["password_hash"], old):
            raise AccessRefused("原密码不正确。")
        conn.execute(update(db.account).where(db.account.c.id == row["id"]).values(
            password_hash=_hasher.hash(new), must_change=False))
        audit.record_in(conn, access.who, access.source, audit.PASSWORD, f"账号 {access.who} 修改了自己的密码")


def load_accounts(engine: Engine) -> pd.DataFrame:
    """Every account, without its hash, with Chinese column names."""
    a, c = db.account, db.county
    with engine.connect() as conn:
        rows = conn.execute(select(a.c.login, a.c.display_name, a.c.role, c.c.name, a.c.must_change,
                                   a.c.failed_logins, a.c.locked_until, a.c.disabled, a.c.created_at)
                            .select_from(a.outerjoin(c, c.c.adcode == a.c.county_adcode)).order_by(a.c.id)).all()
    frame = pd.DataFrame(rows, columns=["login", "name", "role", "county", "must_change", "failed", "locked_until",
                                        "disabled", "created_at"])
    now = audit.utc_now()
    return pd.DataFrame({
        "账号": frame["login"], "姓名": frame["name"], "角色": frame["role"].map(ROLES.get),
        "县区": frame["county"].fillna("全市"),
        "状态": ["已停用" if d else "已锁定" if (u is not None and not pd.isna(u) and u > now) else "正常"
               for d, u in zip(frame["disabled"], frame["locked_until"])],
        "须改密码": frame["must_change"].map({True: "是", False: "否"}), "连续失败": frame["failed"].astype("int64"),
        "创建时间(UTC)": frame["created_at"].map(lambda t: f"{t:%Y-%m-%d %H:%M}")})


# ---- signing in ----------------------------------------------------------------------------

def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class SignedIn:
    token: str
    access: Access
    must_change: bool


def _access_of(conn: Connection, row, source: str) -> Access:
    name = conn.execute(select(db.county.c.name).where(db.county.c.adcode == row["county_adcode"])
                        ).scalar_one_or_none() if row["county_adcode"] else ""
    return Access(who=row["login"], role=row["role"], county_adcode=row["county_adcode"], county_name=name or "",
                  source=source)


def sign_in(engine: Engine, login: str, password: str, source: str) -> SignedIn:
    """Check a password and open a session of SESSION_HOURS. MAX_FAILED_LOGINS wrong passwords in
    a row lock the account for LOCKOUT_MINUTES. Every attempt writes one audit row; a refusal
    raises AccessRefused that does not say whether the login exists."""
    login = (login or "").strip()
    now = audit.utc_now()
    wrong = "账号或密码不正确。"
    with engine.begin() as conn:
        row = conn.execute(select(db.account).where(db.account.c.login == login)).mappings().first()
        if row is None:
            _verify(_dummy_hash(), password)  # same time as a wrong password: logins cannot be probed
            audit.record_in(conn, login or "(空)", source, audit.LOGIN_FAILED, "无此账号")
            refusal = wrong
        elif row["disabled"]:
            audit.record_in(conn, login, source, audit.LOGIN_FAILED, "账号已停用")
            refusal = "该账号已停用,请联系管理员。"
        elif row["locked_until"] is not None and row["locked_until"] > now:
            audit.record_in(conn, login, source, audit.LOGIN_FAILED, "账号锁定中")
            minutes = max(1, int((row["locked_until"] - now).total_seconds() // 60) + 1)
            refusal = f"连续输错密码 {MAX_FAILED_LOGINS} 次,账号已锁定,请 {minutes} 分钟后再试或请管理员重置密码。"
        elif not _verify(row["password_hash"], password):
            failed = row["failed_logins"] + 1
            locked = now + timedelta(minutes=LOCKOUT_MINUTES) if failed >= MAX_FAILED_LOGINS else None
            conn.execute(update(db.account).where(db.account.c.id == row["id"]).values(
                failed_logins=0 if locked else failed, locked_until=locked))
            audit.record_in(conn, login, source, audit.LOGIN_FAILED,
                            f"密码错误,第 {failed} 次" + (f",账号锁定 {LOCKOUT_MINUTES} 分钟" if locked else ""))
            refusal = (f"连续输错密码 {MAX_FAILED_LOGINS} 次,账号已锁定 {LOCKOUT_MINUTES} 分钟。" if locked else wrong)
        else:
            token = secrets.token_urlsafe(32)
            conn.execute(update(db.account).where(db.account.c.id == row["id"]).values(
                failed_logins=0, locked_until=None))
            conn.execute(db.account_session.delete().where(db.account_session.c.account_id == row["id"],
                                                           db.account_session.c.expires_at <= now))
            conn.execute(db.account_session.insert().values(
                token_sha256=_sha256(token), account_id=row["id"], created_at=now,
                expires_at=now + timedelta(hours=SESSION_HOURS)))
            audit.record_in(conn, login, source, audit.LOGIN, f"登录成功({ROLES[row['role']]})")
            return SignedIn(token, _access_of(conn, row, source), bool(row["must_change"]))
    raise AccessRefused(refusal)


@cache
def _dummy_hash() -> str:
    """Made at the first unknown login rather than at import: hashing costs a third of a second
    of every app server's cold start."""
    return _hasher.hash("not a password of anyone")


def load_signed_in(engine: Engine, token: str | None, source: str = "") -> SignedIn | None:
    """The session a token opens, or None: unknown, expired, or its account disabled."""
    if not token:
        return None
    a, s = db.account, db.account_session
    with engine.connect() as conn:
        row = conn.execute(select(a).join(s, s.c.account_id == a.c.id).where(
            s.c.token_sha256 == _sha256(token), s.c.expires_at > audit.utc_now(), a.c.disabled.is_(False))
        ).mappings().first()
        return SignedIn(token, _access_of(conn, row, source), bool(row["must_change"])) if row else None


def sign_out(engine: Engine, token: str | None) -> None:
    if token:
        with engine.begin() as conn:
            conn.execute(db.account_session.delete().where(db.account_session.c.token_sha256 == _sha256(token)))


# ---- an intranet identity provider (OIDC through st.login), switched on by configuration ----------

NOT_OPENED = "该账号尚未开通,请联系管理员。"


def compute_oidc_provider(secrets: Mapping) -> str | None:
    """Whether sign-in through the bureau's identity provider is switched on, and how st.login is
    called: None when `secrets` (.streamlit/secrets.toml) has no usable [auth] section (local
    accounts only, the default); "" for a single provider configured in [auth] itself; else the
    name of the first provider configured as an [auth.<name>] subsection."""
    auth = secrets.get("auth")
    if not isinstance(auth, Mapping) or not auth.get("redirect_uri") or not auth.get("cookie_secret"):
        return None
    if auth.get("client_id"):
        return ""
    return next((name for name, value in auth.items() if isinstance(value, Mapping) and value.get("client_id")), None)


def build_identity_access(identity: Mapping, account: Mapping | None, county_name: str = "",
                          source: str = "") -> Access:
    """The Access an identity from the identity provider (st.user as a dict) maps to: the store's
    account whose login is the identity's e-mail (or its `sub` when it has no e-mail), created by
    an admin with a role and county. `account` is that account's row, or None when there is none.
    Refused in Chinese (NOT_OPENED) when not signed in at the provider, when no account has that
    login, or when the account is disabled."""
    if not identity.get("is_logged_in"):
        raise AccessRefused("尚未通过单位统一身份认证登录。")
    if account is None or account["login"] not in identity_logins(identity) or account["disabled"]:
        raise AccessRefused(NOT_OPENED)
    return Access(who=account["login"], role=account["role"], county_adcode=account["county_adcode"],
                  county_name=county_name, source=source)


def identity_logins(identity: Mapping) -> tuple[str, ...]:
    """The logins an identity may be known by, in order: its e-mail (unless the provider says it
    is not verified), then its subject id."""
    email = identity.get("email") if identity.get("email_verified", True) is not False else None
    return tuple(str(v).strip() for v in (email, identity.get("sub")) if v and str(v).strip())


def sign_in_identity(engine: Engine, identity: Mapping, source: str) -> SignedIn:
    """Open a session (as sign_in does) for an identity the provider returned, mapped by
    build_identity_access; one audit row either way: a login, or a failed login naming the
    identity and why. Disabling the account ends these sessions as it does any other."""
    logins = identity_logins(identity)
    now = audit.utc_now()
    with engine.begin() as conn:
        rows = {r["login"]: r for r in conn.execute(select(db.account).where(db.account.c.login.in_(logins))).mappings()}
        account = next((rows[login] for login in logins if login in rows), None)
        shown = (logins or ("(无邮箱与标识)",))[0]
        try:
            access = build_identity_access(identity, account, _access_of(conn, account, source).county_name
                                           if account else "", source)
        except AccessRefused as refused:
            reason = "统一身份认证:" + ("账号已停用" if account is not None else "无对应账号")
            audit.record_in(conn, shown, source, audit.LOGIN_FAILED, reason)
            failed = refused
        else:
            token = secrets.token_urlsafe(32)
            conn.execute(db.account_session.insert().values(
                token_sha256=_sha256(token), account_id=account["id"], created_at=now,
                expires_at=now + timedelta(hours=SESSION_HOURS)))
            audit.record_in(conn, access.who, source, audit.LOGIN, f"登录成功(统一身份认证,{ROLES[access.role]})")
            return SignedIn(token, access, False)
    raise failed


# ---- the wall's display link ---------------------------------------------------------------

def create_display_token(engine: Engine, actor: Access, label: str) -> str:
    """A new display link token (shown once). Admins only."""
    actor.check_admin("管理大屏链接")
    label = (label or "").strip() or "大屏"
    token = secrets.token_urlsafe(24)
    with engine.begin() as conn:
        conn.execute(db.display_token.insert().values(token_sha256=_sha256(token), label=label[:40],
                                                      created_at=audit.utc_now(), created_by=actor.who))
        audit.record_in(conn, actor.who, actor.source, audit.ACCOUNT, f"新建大屏链接“{label}”")
    return token


def revoke_display_token(engine: Engine, actor: Access, token_id: int) -> None:
    actor.check_admin("管理大屏链接")
    t = db.display_token
    with engine.begin() as conn:
        label = conn.execute(select(t.c.label).where(t.c.id == token_id, t.c.revoked_at.is_(None))).scalar_one_or_none()
        if label is None:
            raise AccessRefused(f"没有在用的大屏链接(编号 {token_id})。")
        conn.execute(update(t).where(t.c.id == token_id).values(revoked_at=audit.utc_now()))
        audit.record_in(conn, actor.who, actor.source, audit.ACCOUNT, f"吊销大屏链接“{label}”(编号 {token_id})")


def load_display_tokens(engine: Engine) -> pd.DataFrame:
    t = db.display_token
    with engine.connect() as conn:
        rows = conn.execute(select(t.c.id, t.c.label, t.c.created_at, t.c.created_by, t.c.revoked_at)
                            .order_by(t.c.id)).all()
    frame = pd.DataFrame(rows, columns=["id", "label", "created_at", "created_by", "revoked_at"])
    return pd.DataFrame({"编号": frame["id"].astype("int64"), "名称": frame["label"],
                         "创建时间(UTC)": frame["created_at"].map(lambda t: f"{t:%Y-%m-%d %H:%M}"),
                         "创建人": frame["created_by"],
                         "状态": frame["revoked_at"].map(lambda t: "在用" if t is None or pd.isna(t) else "已吊销")})


def load_display_access(engine: Engine, token: str | None, source: str = "") -> Access | None:
    """The wall's access for a display token that is not revoked, else None."""
    if not token:
        return None
    t = db.display_token
    with engine.connect() as conn:
        label = conn.execute(select(t.c.label).where(t.c.token_sha256 == _sha256(token), t.c.revoked_at.is_(None))
                             ).scalar_one_or_none()
    return Access(who=f"大屏链接:{label}", role=DISPLAY, source=source) if label else None


# ---- first start ---------------------------------------------------------------------------

def build_demo_account_rows() -> list[dict]:
    """The demo store's accounts (one per role, documented password, no forced change)."""
    now = audit.utc_now()
    return [dict(login=login, display_name=name, role=role, county_adcode=adcode,
                 password_hash=_hasher.hash(DEMO_PASSWORD), must_change=False, failed_logins=0,
                 locked_until=None, disabled=False, created_at=now)
            for login, name, role, adcode in DEMO_ACCOUNTS]


def ensure_first_admin(engine: Engine) -> str | None:
    """On a store without any account (a real city's first start), create the admin `admin` with
    a one-time password and return the console message naming it, as Jupyter prints its token;
    else None. Another process racing to do the same loses on the unique login and returns None."""
    with engine.connect() as conn:
        if conn.execute(select(func.count()).select_from(db.account)).scalar_one():
            return None
    try:
        password = add_account(engine, Access(who="系统", role=ADMIN, source="首次启动"), FIRST_ADMIN,
                               "管理员", ADMIN)
    except (IntegrityError, AccessRefused):
        return None
    return (f"首次启动:已建立管理员账号 {FIRST_ADMIN},一次性密码 {password}\n"
            f"  请登录后立即修改密码;此密码只显示这一次。忘记时:python -m retrofit user reset {FIRST_ADMIN}")


# ---- a rebuild keeps who may sign in and the record of what they did -------------------------

# Carried across a rebuild of the store (demo --force, city init --force): accounts, their
# sessions, display links and the audit trail, so a rebuild never erases the record of itself.
CARRIED_TABLES = (db.account, db.account_session, db.display_token, db.audit_event)


def load_carried_rows(conn: Connection, owned: tuple[str, ...]) -> dict[str, list[dict]]:
    """The carried tables' rows, read in the rebuild's transaction before its tables are dropped
    (`owned`: the tables the old store has)."""
    return {t.name: [dict(r) for r in conn.execute(select(t)).mappings()] for t in CARRIED_TABLES if t.name in owned}


def restore_carried_rows(conn: Connection, carried: dict[str, list[dict]], by: Access, action: str, what: str) -> None:
    """Put the carried rows back into the rebuilt store, in the same transaction, then write the
    rebuild's own audit row. An account the rebuilt store already has (the demo's own, by login)
    takes the carried values (password, lock, state); sessions follow their account. Not carried,
    each with an audit row saying why: a clerk whose county the new store lacks (the account
    could not be valid), and into a store that is not a demo, an account still signing in with the
    public demo password."""
    is_demo = db.read_meta(conn).get("is_demo") == "1"
    counties = set(conn.execute(select(db.county.c.adcode)).scalars())
    present = dict(conn.execute(select(db.account.c.login, db.account.c.id)).all())
    new_id, left_out = {}, []
    for row in carried.get(db.account.name, []):
        if row["county_adcode"] and row["county_adcode"] not in counties:
            left_out.append(f"账号 {row['login']} 的县区({row['county_adcode']})不在重建后的库中,未保留")
            continue
        if not is_demo and _verify(row["password_hash"], DEMO_PASSWORD):
            left_out.append(f"账号 {row['login']} 仍使用公开的演示密码,未带入非演示库")
            continue
        values = {k: v for k, v in row.items() if k != "id"}
        if row["login"] in present:
            conn.execute(update(db.account).where(db.account.c.id == present[row["login"]]).values(**values))
            new_id[row["id"]] = present[row["login"]]
        else:
            new_id[row["id"]] = conn.execute(db.account.insert().values(**values)).inserted_primary_key[0]
    sessions = [dict(s, account_id=new_id[s["account_id"]])
                for s in carried.get(db.account_session.name, []) if s["account_id"] in new_id]
    if sessions:
        conn.execute(db.account_session.insert(), sessions)
    for table in (db.display_token, db.audit_event):  # as they were, ids and all: the trail keeps its order
        if carried.get(table.name):
            conn.execute(table.insert(), carried[table.name])
            db.sync_id_sequence(conn, table)
    for note in left_out:
        audit.record_in(conn, by.who, by.source, audit.ACCOUNT, note)
    audit.record_in(conn, by.who, by.source, action, what)
