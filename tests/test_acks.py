"""阅知确认 (issue 21): the content model's fields, the build's button and manifest, the API of a
real ``kb serve`` on a real SQLite file and on PostgreSQL (Debian's server, started by the
suite), hostile input, a killed server, and ``kb report --acks``."""

from __future__ import annotations

import datetime as _dt
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from acks_client import DOC, SECRET, VERSION, Staff, call
from conftest import ROOT, build_env, new_database
from kb.acks.records import AckStore
from kb.store.db import StoreError, open_engine
from served import Served, stop_processes


def _store(target: str) -> AckStore:
    return AckStore(open_engine(target))


def _count(target: str) -> int:
    store = _store(target)
    try:
        return store.count()
    finally:
        store.close()


@pytest.fixture(scope="module")
def secret_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ack-secret") / "secret"
    path.write_text(SECRET + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def roster(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ack-roster") / "staff.csv"
    path.write_text("id,name,department,groups\n"
                    "zhangsan,张三,信息中心,全体员工;制度管理员\n"
                    "lisi,李四,财务处,\n"
                    "wangwu,王五,信息中心,运维组\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def sqlite_served(demo_site: Path, secret_file: Path, roster: Path,
                  tmp_path_factory: pytest.TempPathFactory):
    """``kb serve`` of the demo site, two workers, acknowledgements in a SQLite file."""
    db = tmp_path_factory.mktemp("ack-sqlite") / "acks.db"
    served = Served(demo_site, "off", "--workers", "2", "--ack-proxy-secret-file",
                    str(secret_file), "--ack-db", str(db), "--ack-roster", str(roster))
    try:
        yield served, str(db)
    finally:
        served.stop()


# --------------------------------------------------------------------------- declare


def _validate(front_matter: str):
    from kb.content.model import PolicyMeta, parse_front_matter, validate_meta

    front, errors = parse_front_matter(front_matter, "policies/x.md")
    assert not errors
    return validate_meta(PolicyMeta, front, "policies/x.md")


BASE_POLICY = ("---\ndoc_id: XXZX-ZD-090\ntitle: 测试制度\nversion: \"1.0\"\nstatus: effective\n"
               "author: a\nreviewer: b\napprover: c\neffective_date: 2026-01-01\n"
               "review_months: 12\n")


@pytest.mark.parametrize("extra, field, expected", [
    ("acknowledge: yes\n", "acknowledge", "one of"),
    ("acknowledge: always\n", "acknowledge", "required"),
    ("acknowledge_groups: [运维组]\n", "acknowledge_groups", "only together with acknowledge"),
    ("acknowledge: required\nacknowledge_days: 0\n", "acknowledge_days", "greater than"),
    ("acknowledge: required\nacknowledge_groups: 运维组\n", "acknowledge_groups", "a list"),
    ("acknowledge: required\nacknowledge_groups: [运维组, 运维组]\n", "acknowledge_groups",
     "each group once"),
])
def test_bad_acknowledge_fields_name_file_field_and_expected(extra: str, field: str,
                                                             expected: str) -> None:
    meta, errors = _validate(BASE_POLICY + extra + "---\n正文\n")
    assert meta is None and errors
    error = errors[0]
    assert error.file == "policies/x.md" and error.field.startswith(field), error
    assert expected in error.expected, error
    assert error.line is not None


def test_acknowledge_fields_accepted() -> None:
    meta, errors = _validate(BASE_POLICY + "acknowledge: required\nacknowledge_groups: [运维组]\n"
                             "acknowledge_days: 7\n---\n正文\n")
    assert not errors and meta.acknowledge_required and meta.acknowledge_groups == ["运维组"]


def test_build_writes_hidden_button_and_manifest(demo_site: Path) -> None:
    """The required demo policy carries the hidden form with its version; the manifest lists
    it with its deadline; a policy without the field has neither."""
    page = (demo_site / "policies/information-security/index.html").read_text("utf-8")
    assert '<form class="kb-ack" data-kb-ack data-kb-pdf="omit" hidden' in page
    assert f'data-doc-id="{DOC}" data-version="{VERSION}" data-api="../../api/ack"' in page
    assert f"我已阅读并理解本制度（v{VERSION}）" in page
    # v3.1 keeps the deadline of v3.0, which asked first (renew: major), and says so; the block
    # sits below the control block, before the body (outside report item 18)
    assert ("本制度要求全体员工阅知确认（自 v3.0 起要求，v3.x 任一版的确认均有效），"
            "v3.0 的确认期限 2025-04-14 已过，请尽快确认。") in page  # built on 2026-11-27
    assert page.index('class="kb-control') < page.index('data-kb-ack') < page.index(
        '<h2 id="第一章-总则">') < page.index('class="kb-feedback')
    assert "assets/javascripts/kb-ack.js" in page
    assert "&lt;h2" not in page and '<h2 id="第一章-总则">' in page  # the content is not escaped
    assert (demo_site / "assets/javascripts/kb-ack.js").is_file()
    other = (demo_site / "policies/network/index.html").read_text("utf-8")
    assert "data-kb-ack" not in other
    manifest = json.loads((demo_site / ".kb-acks.json").read_text("utf-8"))
    docs = {d["doc_id"]: d for d in manifest["documents"]}
    assert list(docs) == [DOC]
    # 3.1 is a minor version of 3.0 (released 2025-03-15): the 3.0 deadline stands (30 days)
    assert docs[DOC]["version"] == VERSION and docs[DOC]["due"] == "2025-04-14"


def test_release_notices_say_confirmation_is_required(demo_site: Path) -> None:
    """A major version's 制度发布 notice asks for confirmation by a date; a minor one says the
    earlier confirmation still counts."""
    folder = demo_site / "announcements"
    major = (folder / "2025/2025-03-15-release-information-security-v3-0/index.html").read_text(
        "utf-8")
    assert "本制度要求全体员工阅知确认：请于 2025 年 4 月 14 日前" in major
    minor = (folder / "2025/2025-12-20-release-information-security-v3-1/index.html").read_text(
        "utf-8")
    assert "此前对第 3.0 版的阅知确认继续有效" in minor
    assert "请于 2025 年" not in minor


def test_major_version_asks_again_minor_keeps(tmp_path: Path) -> None:
    """A confirmation of 3.0 counts for 3.1 (renew: major), not for 4.0, and not for 3.1 when
    every version asks again; confirming 4.0 adds a record, the 3.0 one stays."""
    from kb.acks.manifest import Requirement

    store = _store(str(tmp_path / "acks.db"))
    now = _dt.datetime(2026, 11, 27, 2, 0, tzinfo=_dt.timezone.utc)
    later = now + _dt.timedelta(days=1)
    req = {v: Requirement(DOC, "t", v, "2026-01-01", "2026-02-01", "u/") for v in
           ("3.0", "3.1", "4.0")}
    record, created = store.confirm("u1", DOC, "3.0", req["3.0"].covered, "nonce-0001", later,
                                    "h", now)
    assert created
    assert store.status("u1", DOC, "3.1", req["3.1"].covered).version == "3.0"
    record, created = store.confirm("u1", DOC, "3.1", req["3.1"].covered, "nonce-0002", later,
                                    "h", now)
    assert not created and record.version == "3.0"
    every = Requirement(DOC, "t", "3.1", "2026-01-01", "2026-02-01", "u/", renew="every")
    assert store.status("u1", DOC, "3.1", every.covered) is None
    assert req["4.0"].counts("3.0") is False and req["3.1"].counts("3.0") is True
    assert store.status("u1", DOC, "4.0", req["4.0"].covered) is None
    record, created = store.confirm("u1", DOC, "4.0", None, "nonce-0003", later, "h", later)
    assert created and [r.version for r in store.confirmations(DOC)] == ["3.0", "4.0"]
    store.close()


def test_manifest_follows_the_served_release(tmp_path: Path) -> None:
    """kb serve reads the manifest of the release it serves, again when it is replaced."""
    from kb.acks.manifest import ManifestHolder, Requirement, write_manifest

    holder = ManifestHolder(lambda: str(tmp_path))
    assert holder.current().documents == {} and not holder.current().found
    write_manifest(tmp_path, [Requirement(DOC, "t", "3.1", "2026-01-01", "2026-02-01", "u/")],
                   "Asia/Shanghai")
    assert holder.current().documents[DOC].version == "3.1"
    write_manifest(tmp_path, [Requirement(DOC, "t", "4.0", "2026-03-01", "2026-04-01", "u/",
                                          groups=("运维组",))], "Asia/Shanghai")
    current = holder.current().documents[DOC]
    assert current.version == "4.0" and current.applies_to({"运维组"})
    assert not current.applies_to({"财务处"}) and current.applies_to(None)


# --------------------------------------------------------------------------- confirm (SQLite)


def test_confirm_then_status_then_idempotent(sqlite_served) -> None:
    served, db = sqlite_served
    alice = Staff(served.base, "zhangsan", "全体员工")
    code, data = alice.status()
    assert code == 200 and data["confirmed"] is None and data["required"] is True
    assert data["version"] == VERSION and data["token"]
    code, data = alice.confirm()
    assert code == 201 and data["created"] is True, data
    day = data["confirmed"]["date"]
    assert _dt.date.fromisoformat(day)
    code, data = alice.status()
    assert data["confirmed"] == {"version": VERSION, "date": day}
    before = _count(db)
    code, data = alice.confirm()  # again, with a new token: nothing added
    assert code == 200 and data["created"] is False and data["confirmed"]["date"] == day
    assert _count(db) == before
    records = _store(db).confirmations(DOC)
    mine = [r for r in records if r.user_id == "zhangsan"]
    assert len(mine) == 1 and mine[0].version == VERSION


def test_manifest_is_not_served(sqlite_served) -> None:
    served, _ = sqlite_served
    code, _, _ = call(served.base, "/.kb-acks.json")
    assert code == 404


def test_chinese_user_names_pass_through(sqlite_served) -> None:
    served, _ = sqlite_served
    code, data = Staff(served.base, "赵六").confirm()
    assert code == 201 and data["user"] == "赵六"


def _refused(served_db, staff: Staff, expect: int, code_name: str, **kwargs) -> dict:
    served, db = served_db
    before = _count(db)
    code, data = staff.confirm(**kwargs)
    assert (code, data.get("error")) == (expect, code_name), data
    assert data["message"]
    assert _count(db) == before, "a refused confirmation was stored"
    return data


def test_bad_input_is_refused_and_nothing_stored(sqlite_served) -> None:
    served, db = sqlite_served
    base = served.base
    user = Staff(base, "sunqi")
    _refused(sqlite_served, user, 404, "unknown_doc", doc_id="XXZX-ZD-999")
    _refused(sqlite_served, user, 400, "bad_doc_id", doc_id="../etc/passwd")
    _refused(sqlite_served, user, 400, "bad_version", version="3")
    data = _refused(sqlite_served, user, 409, "not_current_version", version="3.0")
    assert data["current_version"] == VERSION
    _refused(sqlite_served, user, 409, "not_current_version", version="9.9")
    _refused(sqlite_served, user, 400, "bad_body", body=b'{"doc_id": "XXZX-ZD-004"')
    _refused(sqlite_served, user, 400, "bad_body",
             body=json.dumps({"doc_id": DOC, "version": VERSION, "user": "x"}).encode())
    _refused(sqlite_served, user, 415, "bad_content_type", content_type="text/plain")
    # identity: none, forged straight to kb serve (no or wrong proxy secret)
    _refused(sqlite_served, Staff(base, None), 401, "no_identity", token=user.token())
    _refused(sqlite_served, Staff(base, "sunqi", secret=None), 403, "not_via_proxy", token=None)
    _refused(sqlite_served, Staff(base, "sunqi", secret="guessed-secret-000000"), 403,
             "not_via_proxy", token=None)
    # CSRF: no token, another user's token, a forged one, a replayed one, another origin
    _refused(sqlite_served, user, 403, "csrf_missing", token=None)
    other_token = Staff(base, "wangwu").token()
    _refused(sqlite_served, user, 403, "csrf_invalid", token=other_token)
    _refused(sqlite_served, user, 403, "csrf_invalid", token="4102444800.AAAAAAAAAAAA.0000")
    _refused(sqlite_served, Staff(base, "sunqi", origin="http://evil.example"), 403,
             "cross_origin")
    _refused(sqlite_served, Staff(base, "sunqi", origin=None), 403, "cross_origin")
    _refused(sqlite_served, user, 403, "cross_origin", extra={"Sec-Fetch-Site": "cross-site"})
    token = user.token()
    code, data = user.confirm(token=token)
    assert code == 201, data
    _refused(sqlite_served, user, 409, "csrf_replayed", token=token)


def test_forged_identity_cannot_read_status(sqlite_served) -> None:
    served, _ = sqlite_served
    code, _, body = call(served.base, f"/api/ack?doc_id={DOC}", headers={
        "X-Remote-User": "zhangsan"})
    assert code == 403 and json.loads(body)["error"] == "not_via_proxy"
    code, data = Staff(served.base, "zhangsan").status("XXZX-ZD-999")
    assert code == 404 and data["error"] == "unknown_doc"


def test_report_page_for_admins_only(sqlite_served) -> None:
    served, _ = sqlite_served
    Staff(served.base, "wangwu", "运维组").confirm()
    Staff(served.base, "zhangsan").confirm()  # (or already did: 200, nothing added)
    for staff in (Staff(served.base, "lisi"), Staff(served.base, "lisi", "运维组")):
        code, _, body = call(served.base, "/api/ack/report", headers=staff.headers())
        assert code == 403 and json.loads(body)["error"] == "not_admin"
    admin = Staff(served.base, "zhangsan", "全体员工,制度管理员")
    code, headers, body = call(served.base, "/api/ack/report", headers=admin.headers())
    assert code == 200 and headers["content-type"].startswith("text/html")
    assert "script" not in headers["content-security-policy"]
    assert "style-src 'sha256-" in headers["content-security-policy"]
    page = body.decode("utf-8")
    assert "阅知确认报告" in page and DOC in page and "王五" in page
    code, _, body = call(served.base, "/api/ack/report?format=json", headers=admin.headers())
    doc = json.loads(body)["documents"][0]
    confirmed = {c["user_id"] for c in doc["confirmed"]}
    assert {"zhangsan", "wangwu"} <= confirmed
    pending = {p["user_id"] for p in doc["pending"]}
    assert not pending & confirmed and pending <= {"lisi"}


# --------------------------------------------------------------------------- many, killed


def _environ(method: str, query: str, headers: dict[str, str], body: bytes = b"") -> dict:
    env = {"REQUEST_METHOD": method, "PATH_INFO": "/api/ack", "QUERY_STRING": query,
           "REMOTE_ADDR": "127.0.0.1", "wsgi.input": io.BytesIO(body), "wsgi.url_scheme": "http",
           "CONTENT_LENGTH": str(len(body)), "HTTP_HOST": "kb.test"}
    for name, value in headers.items():
        key = name.upper().replace("-", "_")
        env[key if key == "CONTENT_TYPE" else "HTTP_" + key] = value
    return env


def test_ten_thousand_confirmations_from_one_user(demo_site: Path, tmp_path: Path) -> None:
    """10,000 POSTs of one user (in process, against the real app and SQLite file): one
    confirmation is stored; every other answer is a 4xx (a replayed token, then the rate
    limit)."""
    from functools import partial

    from kb.acks.web import AckConfig, mount
    from search.service import create_app
    from search.web import Request

    db = tmp_path / "acks.db"
    app = create_app(demo_site, log_path=None, mounts=[
        partial(mount, config=AckConfig(proxy_secret=SECRET, db=str(db)))])
    try:
        who = {"X-KB-Proxy-Secret": SECRET, "X-Remote-User": "flood"}
        status = app.respond(Request.of(_environ("GET", f"doc_id={DOC}", who)))
        token = json.loads(status.body)["token"]
        post = {**who, "X-KB-Token": token, "Origin": "http://kb.test",
                "Content-Type": "application/json"}
        body = json.dumps({"doc_id": DOC, "version": VERSION}).encode()
        codes: dict[int, int] = {}
        errors: set[str] = set()
        for _ in range(10_000):
            resp = app.respond(Request.of(_environ("POST", "", post, body)))
            codes[resp.status] = codes.get(resp.status, 0) + 1
            if resp.status >= 400:
                errors.add(json.loads(resp.body)["error"])
        assert codes.pop(201) == 1
        assert all(400 <= code < 500 for code in codes), codes
        assert errors == {"csrf_replayed", "rate_limited"}
        assert codes[429] > 9_900
        store = _store(str(db))
        assert store.count() == 1
        store.close()
    finally:
        app.close()


def test_killed_during_a_burst_every_acknowledged_confirmation_is_stored(
        demo_site: Path, secret_file: Path, tmp_path: Path) -> None:
    """8 clients confirm as new users; ``kb serve`` (both workers) is killed with SIGKILL
    mid-burst; every confirmation answered 2xx is in the SQLite file afterwards."""
    db = tmp_path / "acks.db"
    served = Served(demo_site, "off", "--workers", "2", "--ack-proxy-secret-file",
                    str(secret_file), "--ack-db", str(db))
    acknowledged: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def client(n: int) -> None:
        i = 0
        while not stop.is_set() and i < 2000:
            user = f"burst-{n}-{i}"
            i += 1
            try:
                code, _ = Staff(served.base, user).confirm()
            except (OSError, ValueError):
                continue  # the server is gone: no answer, no promise
            if 200 <= code < 300:
                with lock:
                    acknowledged.append(user)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    try:
        deadline = time.monotonic() + 60
        while len(acknowledged) < 150 and time.monotonic() < deadline:
            time.sleep(0.02)
        children = subprocess.run(["pgrep", "-P", str(served.proc.pid)], capture_output=True,
                                  text=True).stdout.split()
        for pid in [served.proc.pid, *map(int, children)]:
            os.kill(int(pid), signal.SIGKILL)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
        stop_processes(served.proc)
    assert len(acknowledged) >= 150
    stored = {r.user_id for r in _store(str(db)).confirmations(DOC)}
    missing = set(acknowledged) - stored
    assert not missing, f"{len(missing)} acknowledged confirmations lost: {sorted(missing)[:5]}"


# --------------------------------------------------------------------------- PostgreSQL


def test_postgres_replicas_share_confirmations_and_tokens(demo_site: Path, secret_file: Path,
                                                         postgres_url: str) -> None:
    """Two ``kb serve`` replicas on one PostgreSQL database (KB_DB_URL): a confirmation made
    through one is seen by the other, and a token spent on one is refused by the other."""
    url = new_database(postgres_url, "acks_replicas")
    env_args = ("--workers", "1", "--ack-proxy-secret-file", str(secret_file))
    first = Served(demo_site, "off", *env_args, "--ack-db", url)
    try:
        second = Served(demo_site, "off", *env_args, "--ack-db", url)
        try:
            assert any("acknowledgements in postgresql" in line for line in first.seen)
            token = Staff(first.base, "zhangsan").token()
            code, data = Staff(first.base, "zhangsan").confirm(token=token)
            assert code == 201, data
            code, data = Staff(second.base, "zhangsan").status()
            assert data["confirmed"]["version"] == VERSION
            code, data = Staff(second.base, "zhangsan").confirm(token=token)
            assert (code, data["error"]) == (409, "csrf_replayed")
            code, data = Staff(second.base, "zhangsan").confirm()
            assert code == 200 and data["created"] is False
            code, data = Staff(second.base, "lisi").confirm(version="3.0")
            assert code == 409
            assert _count(url) == 1
            proc = subprocess.run([sys.executable, "-m", "kb.cli", "report", "--acks", "--json"],
                                  capture_output=True, text=True, cwd=ROOT, timeout=120,
                                  env=build_env({"KB_DB_URL": url}))  # the replicas' store
            assert proc.returncode == 0, proc.stderr
            doc = json.loads(proc.stdout)["documents"][0]
            assert [c["user_id"] for c in doc["confirmed"]] == ["zhangsan"]
        finally:
            second.stop()
    finally:
        first.stop()


def test_postgres_store_concurrent_first_start(postgres_url: str) -> None:
    """Processes migrating one new database at once: one schema, the last version, no error."""
    url = new_database(postgres_url, "acks_migrate")
    code = ("import sys; from kb.acks.records import AckStore; from kb.store.db import "
            "open_engine; print(AckStore(open_engine(sys.argv[1])).schema_version)")
    procs = [subprocess.Popen([sys.executable, "-c", code, url], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, cwd=ROOT) for _ in range(4)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    assert [o[0].strip() for o in outs] == ["2"] * 4


def _upgraded_from_version_1_is_append_only(target: str) -> None:
    from sqlalchemy import delete, update
    from sqlalchemy.exc import DatabaseError

    from kb.acks.records import MIGRATIONS, RECORDS
    from kb.store.migrate import migrate

    engine = open_engine(target)
    assert migrate(engine, "acks", MIGRATIONS[:1]) == 1  # a store made by the first release
    engine.dispose()
    store = _store(target)  # opening it upgrades it
    assert store.schema_version == 2
    now = _dt.datetime.now(_dt.timezone.utc)
    store.confirm("u1", DOC, VERSION, None, "nonce-append-1", now, "h", now)
    for statement in (update(RECORDS).values(version="9.9"), delete(RECORDS)):
        with pytest.raises(DatabaseError, match="append-only"):
            with store.engine.begin() as conn:
                conn.execute(statement)
    assert [r.version for r in store.confirmations(DOC)] == [VERSION]
    store.close()


def test_sqlite_store_upgrades_and_is_append_only(tmp_path: Path) -> None:
    _upgraded_from_version_1_is_append_only(str(tmp_path / "acks.db"))


def test_postgres_store_upgrades_and_is_append_only(postgres_url: str) -> None:
    _upgraded_from_version_1_is_append_only(new_database(postgres_url, "acks_upgrade"))


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    from sqlalchemy import update

    from kb.store.migrate import SCHEMA_TABLE

    db = str(tmp_path / "acks.db")
    store = _store(db)
    with store.engine.begin() as conn:
        conn.execute(update(SCHEMA_TABLE).where(SCHEMA_TABLE.c.component == "acks")
                     .values(version=99))
    store.close()
    with pytest.raises(StoreError, match="schema version 99, newer than this kb knows"):
        _store(db)
    proc = subprocess.run([sys.executable, "-m", "kb.cli", "report", "--acks", "--db", db],
                          capture_output=True, text=True, cwd=ROOT, env=build_env())
    assert proc.returncode == 2 and "newer than this kb knows" in proc.stderr


@pytest.mark.parametrize("options, message", [
    (["--ack-db", "mysql://x@y/z"], "expected postgresql://"),
    (["--ack-roster", "/nonexistent/staff.csv"], "roster file not found"),
    (["--ack-trusted-proxy", "not-an-address"], "not-an-address"),
])
def test_bad_ack_options_stop_kb_serve(demo_site: Path, secret_file: Path, tmp_path: Path,
                                       options: list[str], message: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "kb.cli", "serve", str(demo_site), "--port", "0", "--log", "off",
         "--ack-proxy-secret-file", str(secret_file), "--ack-db", str(tmp_path / "a.db"),
         *options], capture_output=True, text=True, cwd=ROOT, env=build_env(), timeout=60)
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr
    assert proc.stderr.startswith("kb serve: ")


# --------------------------------------------------------------------------- kb report --acks


def _report(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kb.cli", "report", "--acks", *args],
                          capture_output=True, text=True, cwd=ROOT, env=build_env(), timeout=120)


def test_kb_report_acks(sqlite_served, roster: Path, tmp_path: Path) -> None:
    served, db = sqlite_served
    Staff(served.base, "zhangsan").confirm()
    proc = _report("--db", db, "--roster", str(roster))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert f"{DOC}  信息安全管理制度  v{VERSION}" in out and "期限 2025-04-14（已过期限）" in out
    assert "未确认：" in out and "李四（lisi，财务处）" in out
    assert "逾期未确认（按归口部门）" in out and "信息中心" in out.split("逾期未确认")[1]
    data = json.loads(_report("--db", db, "--roster", str(roster), "--json",
                              "--doc", DOC).stdout)
    doc = data["documents"][0]
    assert doc["overdue"] is True and doc["expected_count"] == 3
    assert "zhangsan" in {c["user_id"] for c in doc["confirmed"]}
    departments = {d["department"]: d for d in doc["by_department"]}
    assert departments["财务处"]["expected"] == 1
    csv_out = _report("--db", db, "--roster", str(roster), "--csv").stdout.splitlines()
    assert csv_out[0].startswith("doc_id,version,due,user_id")
    assert any(",lisi,李四,财务处," in line for line in csv_out)
    bad = tmp_path / "bad.csv"
    bad.write_text("id,name\nx,\n", encoding="utf-8")
    proc = _report("--db", db, "--roster", str(bad))
    assert proc.returncode == 2 and "missing department, groups" in proc.stderr
    bad.write_text("id,name,department,groups\nx,,信息中心,\n", encoding="utf-8")
    proc = _report("--db", db, "--roster", str(bad))
    assert proc.returncode == 2 and f"{bad}:2: column name" in proc.stderr
    proc = _report("--db", db, "--doc", "XXZX-ZD-001")
    assert proc.returncode == 2 and "XXZX-ZD-001" in proc.stderr

