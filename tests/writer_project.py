"""A small, clean knowledge-base project for the writers'-workflow tests (new, check, publish).

It uses the repository's real ``mkdocs.yml`` (hooks, theme, extensions; its ``nav:`` removed so
the navigation follows the files) and hooks, with its own content: three pages, one policy with an
image and a Chinese anchor, one manual with a chapter. It is a git repository with one commit, as
the history hooks and ``kb publish`` expect. Imported by the test modules, not collected.
"""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
from pathlib import Path

from conftest import ROOT

#: a 1x1 PNG
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")

FILES: dict[str, str] = {
    "docs/index.md": """# 信息中心知识库

欢迎使用。上网须遵守[网络接入管理制度](../policies/net-access.md#接入申请)，
远程办公请参阅[VPN 使用手册](../manuals/vpn/index.md)。
""",
    "docs/about.md": """# 关于本站

本站由信息中心维护。

## 联系方式

服务台分机 8000。
""",
    "docs/announcements/index.md": """# 通知公告

<!-- kb:announcement-archive -->
""",
    "policies/net-access.md": """---
doc_id: XXZX-ZD-101
title: 网络接入管理制度
version: "1.1"
status: effective
owner: 信息中心
author: 赵敏
reviewer: 钱程
approver: 孙立
effective_date: 2026-06-01
review_months: 12
history:
  - version: "1.0"
    date: 2026-01-10
    summary: 首次发布
    approver: 孙立
  - version: "1.1"
    date: 2026-06-01
    summary: 增加访客网络条款
    approver: 孙立
---
# 网络接入管理制度

## 接入申请

终端接入办公网络前，须在服务台登记设备信息，由信息中心分配地址。

![办公网络拓扑](images/topology.png)

## 访客网络

访客只可使用隔离的访客无线网络，详见[关于本站](../docs/about.md#联系方式)。
""",
    "manuals/vpn/index.md": """---
doc_id: XXZX-SC-101
title: VPN 使用手册
version: "1.0"
status: effective
owner: 信息中心
author: 赵敏
reviewer: 钱程
approver: 孙立
effective_date: 2026-03-01
review_months: 24
history:
  - version: "1.0"
    date: 2026-03-01
    summary: 首次发布
---
# VPN 使用手册

本手册介绍远程接入客户端的安装与登录。
""",
    "manuals/vpn/01-install.md": """---
chapter: 1
title: 安装客户端
---
# 安装客户端

## 下载

从内网软件中心下载客户端安装包。

## 登录

输入工号与动态口令登录，接入前请阅读[网络接入管理制度](../../policies/net-access.md)。
""",
}


def strip_nav(config_text: str) -> str:
    """``mkdocs.yml`` without its ``nav:`` block (the navigation then follows the files)."""
    return re.sub(r"(?m)^nav:\n(?:(?:[ \t]+.*|[ \t]*-.*|)\n)*", "", config_text)


def git(project: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=project, capture_output=True, text=True, check=True)
    return proc.stdout


def make_project(dest: Path, *, commit: bool = True) -> Path:
    """Write the small project into ``dest`` (a new folder) and commit it."""
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "mkdocs.yml").write_text(strip_nav((ROOT / "mkdocs.yml").read_text(encoding="utf-8")),
                                     encoding="utf-8")
    shutil.copytree(ROOT / "hooks", dest / "hooks", ignore=shutil.ignore_patterns("__pycache__"))
    for folder in ("overrides", "assets"):
        if (ROOT / "docs" / folder).is_dir():
            shutil.copytree(ROOT / "docs" / folder, dest / "docs" / folder)
    for rel, text in FILES.items():
        path = dest / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (dest / "policies/images").mkdir(parents=True, exist_ok=True)
    (dest / "policies/images/topology.png").write_bytes(PNG)
    if commit:
        git(dest, "init", "-q", "-b", "main")
        git(dest, "config", "user.name", "测试编辑")
        git(dest, "config", "user.email", "editor@infocenter.example")
        git(dest, "add", "-A")
        git(dest, "commit", "-q", "-m", "初始内容")
    return dest
