"""``kb publish`` / ``kb rollback``: atomic releases, verification, keep, the lock, SIGKILL safety."""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import build_env, copy_project
from kb.publish import release as pub
from processes import kill_session, survivors
from writer_project import git, make_project

KB = [sys.executable, "-m", "kb.cli"]
DRIVER = Path(__file__).with_name("publish_driver.py")


def _env() -> dict[str, str]:
    return {"KB_TODAY": build_env()["KB_TODAY"], "KB_AUDIENCE": "internal"}


def _publish(project: Path, target: Path, **kwargs: object) -> pub.PublishResult:
    return pub.publish(project / "mkdocs.yml", target, env=_env(), **kwargs)  # type: ignore[arg-type]


def _about(target: Path) -> str:
    return (target / "current" / "about" / "index.html").read_text(encoding="utf-8")


def _assert_complete(target: Path) -> str:
    """``current`` resolves to a complete, verified release; return its name."""
    link = target / "current"
    assert link.is_symlink(), "current is not a symlink"
    name = pub.current(target)
    assert name in pub.releases(target)
    release = link.resolve()
    info = json.loads((release / pub.MARKER).read_text(encoding="utf-8"))
    assert info["pages"] >= 5
    assert (release / "index.html").stat().st_size > 0
    assert (release / "policies" / "net-access" / "index.html").is_file()
    assert (release / ".search-index" / "build.json").is_file()
    return name  # type: ignore[return-value]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small writer project, committed."""
    return make_project(tmp_path_factory.mktemp("pub") / "kb")


@pytest.fixture(scope="module")
def two_releases(project: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """A target with release A (about page says 第一版) then B (第二版) current."""
    target = tmp_path_factory.mktemp("target") / "internal"
    about = project / "docs" / "about.md"
    original = about.read_text(encoding="utf-8")
    about.write_text(original + "\n第一版。\n", encoding="utf-8")
    first = _publish(project, target)
    about.write_text(original + "\n第二版。\n", encoding="utf-8")
    second = _publish(project, target)
    about.write_text(original, encoding="utf-8")
    return target, first.name, second.name


def test_publish_makes_complete_release_current(two_releases: tuple[Path, str, str]) -> None:
    """A publish builds site + index into releases/NAME and points a relative symlink at it."""
    target, first, second = two_releases
    assert _assert_complete(target) == second
    assert os.readlink(target / "current") == f"releases/{second}"
    assert pub.releases(target) == [first, second]
    info = pub.release_info(target, second)
    assert info["audience"] == "internal" and info["index_documents"] > 0
    assert "第二版" in _about(target)
    log = (target / pub.LOG_FILE).read_text(encoding="utf-8")
    assert f"publish {first}" in log and f"publish {second}" in log
    assert not [p for p in (target / "releases").iterdir() if p.name.startswith(".")]


def test_release_name_is_utc_time_and_commit(project: Path,
                                             two_releases: tuple[Path, str, str]) -> None:
    """Release names are <UTC time to the millisecond>-<commit>."""
    _, first, _ = two_releases
    commit = git(project, "rev-parse", "--short=10", "HEAD").strip()
    stamp, _, rest = first.partition("-")
    assert rest.startswith(commit)
    assert re.fullmatch(r"\d{8}T\d{6}\.\d{3}Z", stamp), stamp


def test_release_names_within_one_second_differ_and_sort_in_time(tmp_path: Path) -> None:
    """Publishes can follow each other within a second; their names still differ (a pruned
    name never returns for a newer release) and sort in publishing order."""
    import datetime as dt

    start = dt.datetime(2026, 11, 28, 4, 8, 38, 5000, tzinfo=dt.timezone.utc)
    names = [pub.release_name("abc1234567", tmp_path, now=start + dt.timedelta(milliseconds=k))
             for k in (0, 1, 250, 999)]
    assert len(set(names)) == 4 and names == sorted(names)
    assert names[0] == "20261128T040838.005Z-abc1234567"


def test_rollback_and_roll_forward(two_releases: tuple[Path, str, str]) -> None:
    """kb rollback returns to the previous release; --to moves to a named one; none older fails."""
    target, first, second = two_releases
    proc = subprocess.run([*KB, "rollback", "--target", str(target)], capture_output=True,
                          text=True, env=build_env())
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == first and pub.current(target) == first
    assert "第一版" in _about(target)
    again = subprocess.run([*KB, "rollback", "--target", str(target)], capture_output=True,
                           text=True, env=build_env())
    assert again.returncode == 1 and "no release older" in again.stderr
    assert pub.current(target) == first
    pub.rollback(target, to=second)
    assert "第二版" in _about(target) and _assert_complete(target) == second
    with pytest.raises(pub.PublishError, match="--to"):
        pub.rollback(target, to="20000101T000000Z-nothing")


def test_keep_removes_old_releases_but_never_current_or_previous(
        project: Path, tmp_path: Path) -> None:
    """--keep prunes the oldest releases; the current and the one before it always stay."""
    target = tmp_path / "t"
    names = [_publish(project, target, keep=10).name for _ in range(4)]
    assert pub.releases(target) == names
    pub.rollback(target, to=names[1])
    assert pub.prune(target, keep=1) == [names[2]]  # newest, current, previous stay
    assert pub.releases(target) == [names[0], names[1], names[3]]
    result = _publish(project, target, keep=2)
    # kept: the 2 newest, and the release that was current before this publish
    assert set(result.removed) == {names[0]}
    assert pub.releases(target) == [names[1], names[3], result.name]
    assert not (target / "releases" / names[2]).exists()


def test_publish_with_pdfs(project: Path, tmp_path: Path) -> None:
    """--pdf renders the controlled documents' PDFs into the release."""
    target = tmp_path / "t"
    result = _publish(project, target, pdf=True)
    assert result.verification.pdfs >= 2
    assert pub.release_info(target, result.name)["pdfs"] == result.verification.pdfs
    pdfs = sorted(p.name for p in (target / "current").rglob("*.pdf"))
    assert "XXZX-ZD-101.pdf" in pdfs
    assert (target / "current" / "policies" / "net-access" / "XXZX-ZD-101.pdf").read_bytes()[:5] \
        == b"%PDF-"


def test_broken_build_publishes_nothing(project: Path, tmp_path: Path) -> None:
    """A strict-build failure leaves current untouched and no temporary folder behind."""
    target = tmp_path / "t"
    good = _publish(project, target).name
    broken = tmp_path / "broken"
    shutil.copytree(project, broken)
    (broken / "docs" / "about.md").write_text("# 关于\n\n[坏链接](nowhere.md)\n", encoding="utf-8")
    with pytest.raises(pub.PublishError, match="nowhere.md"):
        _publish(broken, target)
    assert pub.current(target) == good and pub.releases(target) == [good]
    assert [p.name for p in (target / "releases").iterdir()] == [good]


def test_failed_verification_publishes_nothing(project: Path, tmp_path: Path) -> None:
    """A release whose sample query finds nothing is not made current."""
    target = tmp_path / "t"
    good = _publish(project, target).name
    with pytest.raises(pub.PublishError, match="sample query"):
        _publish(project, target, sample_query="zqxj不存在的词语wvk")
    assert pub.current(target) == good and pub.releases(target) == [good]


# --------------------------------------------------------------------------- processes


def _start(project: Path, target: Path, *extra: str,
           env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """``kb publish`` in its own session (so every process it starts can be found)."""
    return subprocess.Popen(
        [*KB, "publish", "--target", str(target), "-f", str(project / "mkdocs.yml"), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=project,
        env=build_env({**_env(), **(env or {})}), start_new_session=True)


def _start_paused(project: Path, target: Path, step: str, *extra: str) -> subprocess.Popen[str]:
    """A publish that stops at ``step`` (tests/publish_driver.py injects the step callback)."""
    return subprocess.Popen(
        [sys.executable, str(DRIVER), str(project / "mkdocs.yml"), str(target),
         "--pause-at", step, *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=project,
        env=build_env(_env()), start_new_session=True)


def _wait_for_line(proc: subprocess.Popen[str], needle: str, timeout: float = 300) -> str:
    """Read the process's stderr (raw, unbuffered) until it contains ``needle``; the timeout
    only guards against a hang."""
    assert proc.stderr is not None
    fd = proc.stderr.fileno()
    deadline = time.monotonic() + timeout
    seen = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1)
        if ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                break  # the process ended
            seen += chunk
            if needle.encode() in seen:
                return seen.decode(errors="replace")
    proc.kill()
    raise AssertionError(f"{needle!r} never printed; stderr so far:\n"
                         f"{seen.decode(errors='replace')}")


def test_lock_serializes_publishes(project: Path, tmp_path: Path) -> None:
    """While one publish holds DIR/.lock another waits (naming the holder's PID), then both
    complete one after the other."""
    target = tmp_path / "t"
    with pub.locked(target):
        proc = _start(project, target)
        seen = _wait_for_line(proc, "waiting for another publish")
        assert f"(PID {os.getpid()}, kb publish, since " in seen, seen
        time.sleep(0.5)
        assert not (target / "releases").exists() or not list((target / "releases").iterdir())
        other = _start(project, target)  # a third party queues too
    out, err = proc.communicate(timeout=180)
    out2, err2 = other.communicate(timeout=180)
    assert proc.returncode == 0, err
    assert other.returncode == 0, err2
    names = pub.releases(target)
    assert len(names) == 2 and pub.current(target) == names[-1]
    log = (target / pub.LOG_FILE).read_text(encoding="utf-8").splitlines()
    assert [line.split()[1] for line in log] == ["publish", "publish"]


#: where publishes are killed: mid-build (temporary folder being written), then at each step
KILL_POINTS = ("building", "verified", "renamed", "switched", "pruning")


def _kill_at(proc: subprocess.Popen[str], target: Path, point: str) -> None:
    if point == "building":
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not any(
                p.name.startswith(pub.TMP_PREFIX) and any(p.rglob("*.html"))
                for p in (target / "releases").iterdir()):
            time.sleep(0.02)
    else:
        _wait_for_line(proc, f"paused at {point}")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)


@pytest.fixture(scope="module")
def killed(project: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str]]:
    """For each kill point: a target (3 releases, keep 1) whose publish was SIGKILLed there.

    Publishes run two at a time; each is killed when it reports the named step (or, for
    ``building``, as soon as its temporary release folder has pages). Value: (target, current
    release before the publish).
    """
    base = tmp_path_factory.mktemp("kill") / "base"
    for _ in range(3):
        _publish(project, base, keep=10)
    before = pub.current(base)
    assert before is not None
    targets = {}
    for batch in (KILL_POINTS[i:i + 2] for i in range(0, len(KILL_POINTS), 2)):
        procs = {}
        for point in batch:
            target = base.with_name(f"t-{point}")
            shutil.copytree(base, target, symlinks=True)
            targets[point] = (target, before)
            procs[point] = (_start(project, target, "--keep", "1") if point == "building"
                            else _start_paused(project, target, point, "--keep", "1"))
        try:
            for point, proc in procs.items():
                _kill_at(proc, targets[point][0], point)
        finally:
            for proc in procs.values():
                if proc.poll() is None:
                    proc.kill()
                proc.communicate()
    return targets


@pytest.mark.parametrize("point", KILL_POINTS)
def test_sigkill_leaves_current_complete(killed: dict[str, tuple[Path, str]], point: str) -> None:
    """A publish killed at any step leaves current on a complete release (old or new)."""
    target, before = killed[point]
    name = _assert_complete(target)
    if point in ("switched", "pruning"):
        assert name != before  # the switch had happened: the new release is live and complete
    else:
        assert name == before
    # a killed publish never leaves something that looks like a release but is not complete
    for path in (target / "releases").iterdir():
        if not path.name.startswith("."):
            assert (path / pub.MARKER).is_file() and (path / "index.html").is_file()


def test_next_publish_cleans_up_after_a_kill(project: Path,
                                             killed: dict[str, tuple[Path, str]]) -> None:
    """After a kill before the rename, the next publish removes the leftovers and succeeds."""
    target, _ = killed["verified"]
    assert any(p.name.startswith(pub.TMP_PREFIX) for p in (target / "releases").iterdir())
    result = _publish(project, target, keep=10)
    assert pub.current(target) == result.name
    assert not [p for p in (target / "releases").iterdir() if p.name.startswith(".")]
    assert not list(target.glob(".current.tmp-*"))


# --------------------------------------------------------------------------- random kills

#: SIGKILLs at random moments in the random-kill drill
RANDOM_KILLS = 10


@pytest.fixture(scope="module")
def demo_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo knowledge base (big enough for every worker pool: background indexing, the
    index pool), committed, with PDFs (when ``--pdf``) limited to two documents."""
    project = copy_project(tmp_path_factory.mktemp("demo-pub") / "kb")
    config = project / "mkdocs.yml"
    text = config.read_text(encoding="utf-8")
    assert "\n    pdf: false\n" in text
    config.write_text(text.replace(
        "\n    pdf: false\n", "\n    pdf: false\n    pdf_only: [manuals/vpn/index.md, "
        "policies/network.md]\n"), encoding="utf-8")
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "-c", "user.name=测试", "-c", "user.email=t@infocenter.example",
        "commit", "-q", "-m", "demo")
    return project


def _complete_demo_release(target: Path) -> str:
    """``current`` is a complete release of the demo project; return its name."""
    name = pub.current(target)
    assert name in pub.releases(target), (name, pub.releases(target))
    release = (target / "current").resolve()
    assert json.loads((release / pub.MARKER).read_text(encoding="utf-8"))["pages"] > 60
    assert (release / "index.html").stat().st_size > 0
    assert (release / ".search-index" / "build.json").is_file()
    return name  # type: ignore[return-value]


def test_random_sigkills_never_block_the_next_publish(demo_project: Path, tmp_path: Path) -> None:
    """SIGKILL ``kb publish`` (PDFs on every other time, caches cleared) at random moments,
    each time starting the next publish at once: no process of a killed publish survives it,
    none of the next publishes waits for a lock, current is always complete, and the last
    publish finishes. Prints the figures (seed, kill moments, next publish duration)."""
    import random

    target = tmp_path / "t"
    seed = int(os.environ.get("KB_KILL_SEED") or time.time())
    rng = random.Random(seed)
    started = time.monotonic()
    first = _start(demo_project, target)
    out, err = first.communicate(timeout=600)
    assert first.returncode == 0, err
    span = time.monotonic() - started  # how long a whole publish takes here, now
    figures = []
    for i in range(RANDOM_KILLS):
        pdf = i % 2 == 1
        if pdf:  # render the PDFs again: the kill may land in the PDF workers
            shutil.rmtree(demo_project / ".cache" / "kb-pdf", ignore_errors=True)
        log = tmp_path / f"kill-{i + 1}.log"  # a file: a surviving child would hold a pipe open
        with open(log, "w", encoding="utf-8") as err_file:
            proc = subprocess.Popen(
                [*KB, "publish", "--target", str(target), "-f", str(demo_project / "mkdocs.yml"),
                 *(["--pdf"] if pdf else [])], stdout=subprocess.DEVNULL, stderr=err_file,
                cwd=demo_project, env=build_env(_env()), start_new_session=True)
        moment = rng.uniform(0.2, span * (1.6 if pdf else 1.0))
        try:
            proc.wait(timeout=moment)
            ended = True
        except subprocess.TimeoutExpired:
            ended = False
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        left = survivors(proc.pid)
        kill_session(proc.pid)
        assert not left, f"kill {i + 1} at {moment:.1f} s left processes behind: {left}"
        err = log.read_text(encoding="utf-8")
        assert "waiting for another publish" not in err, err
        _complete_demo_release(target)
        figures.append(f"{moment:.1f} s{' (pdf)' if pdf else ''}{' (had ended)' if ended else ''}")
    begun = time.monotonic()
    last = _start(demo_project, target)
    out, err = last.communicate(timeout=600)  # a hang guard, not a timing
    took = time.monotonic() - begun
    assert last.returncode == 0, err
    assert "waiting for another publish" not in err, err
    assert _complete_demo_release(target) == Path(out.strip()).name
    print(f"\nrandom kills (seed {seed}): a whole publish {span:.1f} s; killed at "
          f"{', '.join(figures)}; the next publish finished in {took:.1f} s")
