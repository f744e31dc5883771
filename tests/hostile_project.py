"""A knowledge-base project written by an attacker: script in every place a writer can type.

Each payload calls ``alert(N)`` (or sets ``window.__pwned``) with its own number N, so a browser
test that listens for dialogs names the payload that ran. :data:`PAYLOADS` says where each one
sits. The project is :mod:`writer_project`'s (the real ``mkdocs.yml``, hooks and theme) plus the
hostile pages below. Imported by the test modules, not collected.
"""

from __future__ import annotations

from pathlib import Path

from writer_project import git, make_project as make_writer_project


def img(n: int) -> str:
    """An image whose error handler reports payload ``n``."""
    return f"<img src=x onerror=alert({n})>"


#: payload number -> where it was written
PAYLOADS: dict[int, str] = {
    1: "raw <script> in a policy's body",
    2: "<img onerror> in a policy's body",
    3: "<a href=javascript:> in a policy's body (runs when clicked)",
    4: "<svg onload> in a policy's body",
    5: "<iframe src=javascript:> in a policy's body",
    6: "<iframe srcdoc> with a script",
    7: "raw <img onerror> inside a heading",
    8: "escaped <img onerror> as heading text (search indexes)",
    9: "policy title: front matter",
    10: "policy tag",
    11: "admonition title",
    12: "notice title",
    13: "notice summary",
    14: "course audience",
    15: "course trainer",
    16: "course objective",
    17: "policy owner",
    18: "</title> break-out in a page title",
    19: "attr_list onfocus autofocus",
    20: "Markdown link to javascript: (runs when clicked)",
    21: "h1 heading without a front-matter title",
    22: "<object data=javascript:>",
    23: "<details ontoggle open>",
    24: "<math> / <form action=javascript:> (runs when submitted)",
    25: "notice tag",
    26: "page title: front matter (plain page)",
    27: "history summary",
    28: "<base href> and <meta refresh>",
    29: "page tag",
}

#: the policy with script in its body, title, tags and owner
POLICY = f"""---
doc_id: XXZX-ZD-666
title: "危险制度 {img(9)}"
version: "1.0"
status: effective
owner: "信息中心 {img(17)}"
author: 赵敏
reviewer: 钱程
approver: 孙立
effective_date: 2026-06-01
review_months: 12
tags: ["恶意标签 {img(10)}", "普通标签"]
history:
  - version: "1.0"
    date: 2026-06-01
    summary: "首次发布 {img(27)}"
    approver: 孙立
---
# 危险制度

正文第一段，介绍网络安全要求。

<script>alert(1)</script>

<img src="x" onerror="alert(2)" alt="坏图">

<a href="javascript:alert(3)" id="kb-js-link">点我领奖</a>

<svg onload="alert(4)"><circle r="5"></circle></svg>

<iframe src="javascript:alert(5)"></iframe>

<iframe srcdoc="<script>parent.alert(6)</script>"></iframe>

<object data="javascript:alert(22)"></object>

<details ontoggle="alert(23)" open><summary>展开</summary>内容</details>

<form action="javascript:alert(24)"><button id="kb-js-submit">提交</button></form>

<base href="http://attacker.example/">
<meta http-equiv="refresh" content="0;url=javascript:alert(28)">

<div style="position:fixed;top:0;left:0;width:100%;height:100%;background:#c00;z-index:9999"
     id="kb-overlay">伪造的登录框</div>

<style>body {{ display: none }}</style>

## 接入要求 {img(7)}

## 标题 &lt;img src=x onerror=alert(8)&gt; 检索

自动获得焦点的段落
{{: tabindex="0" autofocus onfocus="alert(19)" }}

[Markdown 链接](javascript:alert(20))

!!! note "{img(11)}"

    提示内容。
"""

#: a plain page whose title comes from its h1 only
H1_PAGE = f"""# 首页公告 {img(21)}

普通页面正文，关键词 漏洞演示。
"""

#: a plain page with a front-matter title that closes <title>
TITLE_PAGE = f"""---
title: "关于 </title><script>alert(18)</script> 本站 {img(26)}"
tags: ["页面标签 {img(29)}"]
---
正文一段，关键词 标题演示。
"""

#: a title with every character HTML escapes (shown on the home list, indexed for search)
AMP_TITLE = 'A&B <x> "q" \'s'
AMP_PAGE = f"""---
title: '{AMP_TITLE.replace("'", "''")}'
---
正文一段，关键词 符号演示。
"""

NOTICE = f"""---
title: "停机通知 {img(12)}"
date: 2026-11-20
category: 系统维护
summary: "摘要 {img(13)}"
tags: ["通知标签 {img(25)}"]
---
# 停机通知

机房停电检修。
"""

COURSE = f"""---
course_code: PX-2026-66
title: 安全意识培训
duration: "2 学时"
audience: "全体员工 {img(14)}"
objectives:
  - "识别钓鱼邮件 {img(16)}"
trainer: "陈静 {img(15)}"
tags: [安全]
---
# 安全意识培训

课程内容。
"""

HOSTILE_FILES: dict[str, str] = {
    "policies/danger.md": POLICY,
    "docs/h1-only.md": H1_PAGE,
    "docs/title-page.md": TITLE_PAGE,
    "docs/announcements/2026/2026-11-20-outage.md": NOTICE,
    "docs/training/index.md": "# 培训\n\n<!-- kb:training-catalog -->\n",
    "docs/training/security.md": COURSE,
    "docs/zz-symbols.md": AMP_PAGE,  # "zz": first of the same day on 最近更新
    "docs/tags.md": "---\ntitle: 标签索引\n---\n# 标签索引\n\n"
                    "<!-- material/tags -->\n",
    "docs/search.md": "---\ntitle: 搜索\nsearch:\n  exclude: true\n---\n# 站内搜索\n\n"
                      '<div id="kb-search-page" class="kb-results" markdown>\n\n'
                      "搜索结果。\n\n</div>\n",
    "policies/index.md": "---\nconfidentiality: public\n---\n# 制度\n\n"
                         "<!-- kb:policy-register -->\n",
}


def make_project(dest: Path) -> Path:
    """The writers' project plus the hostile pages, committed in git."""
    make_writer_project(dest)
    for rel, text in HOSTILE_FILES.items():
        path = dest / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    home = dest / "docs" / "index.md"
    home.write_text(home.read_text(encoding="utf-8")
                    + "\n## 通知公告\n\n<!-- kb:current-announcements -->\n"
                    + "\n## 最近更新\n\n<!-- kb:recently-updated -->\n", encoding="utf-8")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "恶意内容")
    return dest

#: a page using every Markdown feature of mkdocs.yml: must look the same after sanitising
FEATURES = """# 功能示例

## 表格 {#tables .kb-demo}

| 左 | 中 | 右 |
|:---|:--:|---:|
| a  | b  | c  |

*[HTML]: Hyper Text Markup Language

HTML 缩写，==高亮==，按 ++ctrl+alt+del++，表情 :material-account-circle: :smile:。

- [x] 已完成
- [ ] 未完成

术语
:   定义内容

脚注引用[^1]。

[^1]: 脚注内容。

!!! warning "注意事项"

    警告内容。

??? info "可折叠"

    折叠内容。

=== "Windows"

    Windows 步骤。

=== "macOS"

    macOS 步骤。

```python linenums="1"
def hello():
    return "你好"
```

`行内代码` 与 `#!python print("x")`。

<figure markdown>
  ![拓扑](../policies/images/topology.png){ width="40" }
  <figcaption>网络拓扑</figcaption>
</figure>

<details><summary>原始 HTML 折叠</summary><p>内容 <kbd>Ctrl</kbd> <mark>标记</mark>
<abbr title="缩写">ABC</abbr></p></details>

<div class="grid" markdown>
段落 **粗体** 与 [链接](about.md#联系方式) 及 <a href="https://example.org/" title="外部">外链</a>、
<a href="mailto:it@example.org">邮件</a>。
</div>
"""
HOSTILE_FILES["docs/features.md"] = FEATURES
