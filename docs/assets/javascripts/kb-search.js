/* InfoCenter KB — site search through the search service (kb serve, /api/search).
 *
 * Header box: as-you-type results from the API (debounced) in an ARIA combobox/listbox, with
 * title, section, highlighted snippet, type badge, doc_id and version; ArrowUp/ArrowDown move,
 * Enter opens the selected result or the results page /search/?q=, Esc closes.
 * Results page (an element #kb-search-page): facet filters (type, tag, status), "include archived
 * versions", pagination; the state lives in the URL so it can be shared.
 * When the API cannot be reached (site opened as plain files, service stopped), Material's
 * built-in search keeps working and a short notice says so.
 *
 * Snippets come from the server HTML-escaped except <mark>; they are still parsed inertly here
 * and rebuilt from text nodes and <mark> only, so page text can never become markup.
 */
(function () {
  "use strict";

  var TYPE_LABELS = {
    policy: "制度", manual: "用户手册", chapter: "手册章节", course: "培训",
    announcement: "通知公告", page: "页面"
  };
  var STATUS_LABELS = {
    draft: "草稿", review: "审核中", effective: "现行有效", superseded: "已被替代",
    retired: "已废止", expired: "已过期"
  };
  var DEBOUNCE_MS = 150;
  var LIVE_SIZE = 8;
  var PAGE_SIZE = 10;
  var NOTICE = "站内搜索服务暂不可用，已改用浏览器内的离线搜索（结果可能不完整）。";

  var root = window.kbSiteRoot();
  var apiState = "unknown"; // "unknown" | "up" | "down"

  /* ------------------------------------------------------------------ helpers */

  function apiUrl(path, params) {
    var url = new URL("api/" + path, root);
    if (params) {
      Object.keys(params).forEach(function (name) {
        var value = params[name];
        (Array.isArray(value) ? value : [value]).forEach(function (v) {
          if (v !== undefined && v !== null && v !== "") url.searchParams.append(name, v);
        });
      });
    }
    return url;
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") node.textContent = attrs[name];
      else if (name === "className") node.className = attrs[name];
      else node.setAttribute(name, attrs[name]);
    });
    (children || []).forEach(function (child) {
      if (child) node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  /** The snippet as DOM: text and <mark> only, whatever the string contains. */
  function snippetNodes(html) {
    var out = document.createDocumentFragment();
    var doc = new DOMParser().parseFromString("<body>" + (html || ""), "text/html");
    (function walk(parent, target) {
      parent.childNodes.forEach(function (node) {
        if (node.nodeType === Node.TEXT_NODE) {
          target.appendChild(document.createTextNode(node.nodeValue));
        } else if (node.nodeType === Node.ELEMENT_NODE) {
          if (node.tagName === "MARK") target.appendChild(el("mark", { text: node.textContent }));
          else walk(node, target);
        }
      });
    })(doc.body, out);
    return out;
  }

  function hitHref(hit) {
    return new URL(hit.url || "", root).href;
  }

  function badges(hit) {
    var list = el("span", { className: "kb-search-badges" });
    if (hit.type) {
      list.appendChild(el("span", {
        className: "kb-badge kb-badge--" + hit.type, text: TYPE_LABELS[hit.type] || hit.type
      }));
    }
    if (hit.doc_id) list.appendChild(el("span", { className: "kb-search-docid", text: hit.doc_id }));
    if (hit.version) list.appendChild(el("span", { className: "kb-search-version", text: "v" + hit.version }));
    if (hit.archived) list.appendChild(el("span", { className: "kb-badge kb-badge--archived", text: "历史版本" }));
    else if (hit.status && hit.status !== "effective") {
      list.appendChild(el("span", {
        className: "kb-badge kb-badge--status", text: STATUS_LABELS[hit.status] || hit.status
      }));
    }
    return list;
  }

  function quoted(words) {
    return words.map(function (w) { return "“" + w + "”"; }).join("");
  }

  /** "未找到同时包含…的结果，以下结果包含…" when no page matched every word (API ``partial``). */
  function partialText(partial) {
    if (!partial || !partial.found || !partial.found.length) return "";
    return "未找到同时包含" + quoted(partial.words) + "的结果，以下结果包含" + quoted(partial.found) + "。";
  }

  function fetchJson(url, signal) {
    return fetch(url, { signal: signal, headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (resp) {
        return resp.json().catch(function () { return {}; }).then(function (data) {
          if (resp.status >= 500 || resp.status === 404) {
            var err = new Error(data.message || "search service unavailable");
            err.unavailable = true;
            throw err;
          }
          if (!resp.ok) throw new Error(data.message || "bad request");
          return data;
        });
      }, function (err) {
        if (err.name !== "AbortError") err.unavailable = true;
        throw err;
      });
  }

  function checkApi() {
    if (location.protocol === "file:") return Promise.resolve(false);
    if (window.kbService) {  // kb.js: the page's one probe of the service
      return window.kbService().then(function (data) { return !!data && data.status === "ok"; });
    }
    return fetchJson(apiUrl("health")).then(function (data) {
      return data.status === "ok";
    }, function () { return false; });
  }

  /* ------------------------------------------------------------------ header box */

  function HeaderSearch(input) {
    this.input = input;
    this.search = input.closest("[data-md-component=search]");
    this.output = this.search.querySelector(".md-search__scrollwrap");
    this.toggle = document.getElementById("__search");
    this.timer = null;
    this.controller = null;
    this.active = -1;
    this.options = [];
    this.lastQuery = null;
    this.notice = el("p", { className: "kb-search-notice", role: "status", hidden: "" });
    this.search.querySelector(".md-search__output").prepend(this.notice);
  }

  HeaderSearch.prototype.enableApi = function () {
    var self = this;
    this.search.classList.add("kb-search--api");
    this.status = el("p", { className: "kb-search-status", id: "kb-search-status", role: "status", "aria-live": "polite" });
    this.listbox = el("div", { className: "kb-search-list", id: "kb-search-listbox", role: "listbox", "aria-label": "搜索结果" });
    this.more = el("a", { className: "kb-search-more", href: "#", hidden: "" });
    this.panel = el("div", { className: "kb-search-panel" }, [this.status, this.listbox, this.more]);
    this.output.prepend(this.panel);
    var input = this.input;
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", "kb-search-listbox");
    input.setAttribute("aria-describedby", "kb-search-status");
    // Material runs its own search on keyup of the input: keep that from happening.
    this.blockKeyup = function (ev) { if (ev.target === input) ev.stopPropagation(); };
    window.addEventListener("keyup", this.blockKeyup, true);
    // while an IME composes (pinyin letters), wait for the Chinese characters it commits
    this.onInput = function (ev) { if (!ev.isComposing) self.schedule(); };
    input.addEventListener("compositionend", function () { if (self.panel) self.schedule(); });
    this.onKeydown = function (ev) { self.keydown(ev); };
    input.addEventListener("input", this.onInput);
    input.addEventListener("keydown", this.onKeydown);
    if (input.value.trim()) this.schedule();
  };

  HeaderSearch.prototype.fallBack = function () {
    if (this.panel) {
      window.removeEventListener("keyup", this.blockKeyup, true);
      this.input.removeEventListener("input", this.onInput);
      this.input.removeEventListener("keydown", this.onKeydown);
      ["role", "aria-autocomplete", "aria-expanded", "aria-controls", "aria-describedby",
        "aria-activedescendant"].forEach(function (name) { this.input.removeAttribute(name); }, this);
      this.panel.remove();
      this.panel = null;
      this.search.classList.remove("kb-search--api");
      // let Material's search answer what is already typed
      this.input.dispatchEvent(new KeyboardEvent("keyup", { key: "Unidentified" }));
    }
    this.notice.textContent = NOTICE;
    this.notice.hidden = false;
  };

  HeaderSearch.prototype.schedule = function () {
    var self = this;
    clearTimeout(this.timer);
    this.timer = setTimeout(function () { self.run(); }, DEBOUNCE_MS);
  };

  HeaderSearch.prototype.run = function () {
    var self = this;
    var q = this.input.value.trim();
    if (q === this.lastQuery) return;
    this.lastQuery = q;
    if (this.controller) this.controller.abort();
    if (!q) { this.render(null, q); return; }
    this.controller = new AbortController();
    this.status.textContent = "正在搜索…";
    fetchJson(apiUrl("search", { q: q.slice(0, 200), size: LIVE_SIZE, live: 1 }), this.controller.signal)
      .then(function (data) { self.render(data, q); }, function (err) {
        if (err.name === "AbortError") return;
        if (err.unavailable) { apiState = "down"; self.fallBack(); return; }
        self.render(null, q);
        self.status.textContent = err.message;
      });
  };

  HeaderSearch.prototype.render = function (data, q) {
    var self = this;
    this.listbox.replaceChildren();
    this.options = [];
    this.setActive(-1);
    if (!data) {
      this.status.textContent = "";
      this.more.hidden = true;
      this.input.setAttribute("aria-expanded", "false");
      return;
    }
    data.hits.forEach(function (hit, i) {
      var option = el("a", {
        className: "kb-search-option", role: "option", id: "kb-search-option-" + i,
        href: hitHref(hit), tabindex: "-1", "aria-selected": "false"
      }, [
        el("span", { className: "kb-search-head" }, [
          el("span", { className: "kb-search-title", text: hit.title || hit.url }),
          hit.section ? el("span", { className: "kb-search-section", text: hit.section }) : null
        ]),
        badges(hit),
        el("span", { className: "kb-search-snippet" }, [snippetNodes(hit.snippet)])
      ]);
      option.addEventListener("mousemove", function () { self.setActive(i); });
      self.options.push(option);
      self.listbox.appendChild(option);
    });
    var text = data.total ? "找到 " + data.total + " 个相关页面" : "没有找到与“" + q + "”相关的页面";
    if (data.suggestion) text += "。您是不是要找：" + data.suggestion;
    if (partialText(data.partial)) text = partialText(data.partial) + text;
    this.status.textContent = text;
    this.more.href = resultsUrl({ q: q }).href;
    this.more.textContent = data.total > data.hits.length
      ? "查看全部 " + data.total + " 个结果（按回车）" : "在结果页中筛选（按回车）";
    this.more.hidden = !data.total;
    this.input.setAttribute("aria-expanded", data.hits.length ? "true" : "false");
  };

  HeaderSearch.prototype.setActive = function (i) {
    if (this.active >= 0 && this.options[this.active]) {
      this.options[this.active].setAttribute("aria-selected", "false");
    }
    this.active = i;
    if (i >= 0 && this.options[i]) {
      var option = this.options[i];
      option.setAttribute("aria-selected", "true");
      option.scrollIntoView({ block: "nearest" });
      this.input.setAttribute("aria-activedescendant", option.id);
    } else {
      this.input.removeAttribute("aria-activedescendant");
    }
  };

  HeaderSearch.prototype.keydown = function (ev) {
    if (ev.isComposing || ev.keyCode === 229) return; // IME composition: keys belong to the IME
    var n = this.options.length;
    switch (ev.key) {
      case "ArrowDown":
      case "ArrowUp":
        if (n) {
          this.setActive(ev.key === "ArrowDown" ? (this.active + 1) % n
            : (this.active <= 0 ? n - 1 : this.active - 1));
        }
        ev.preventDefault();
        ev.stopPropagation();
        break;
      case "Enter":
        ev.preventDefault();
        ev.stopPropagation();
        if (this.active >= 0 && this.options[this.active]) {
          location.assign(this.options[this.active].href);
        } else if (this.input.value.trim()) {
          location.assign(resultsUrl({ q: this.input.value.trim() }).href);
        }
        break;
      case "Escape":
        this.setActive(-1);
        this.input.setAttribute("aria-expanded", "false");
        break; // Material closes the search dialog
      default:
        break;
    }
  };

  /* ------------------------------------------------------------------ results page */

  function resultsUrl(state) {
    var url = new URL("search/", root);
    if (state.q) url.searchParams.set("q", state.q);
    (state.type || []).forEach(function (v) { url.searchParams.append("type", v); });
    (state.tag || []).forEach(function (v) { url.searchParams.append("tag", v); });
    (state.status || []).forEach(function (v) { url.searchParams.append("status", v); });
    if (state.archived) url.searchParams.set("archived", "1");
    if (state.page && state.page > 1) url.searchParams.set("page", String(state.page));
    return url;
  }

  function stateFrom(params) {
    var page = parseInt(params.get("page") || "1", 10);
    return {
      q: (params.get("q") || "").trim(),
      type: params.getAll("type"), tag: params.getAll("tag"), status: params.getAll("status"),
      archived: params.get("archived") === "1",
      page: page > 0 && page <= 100 ? page : 1
    };
  }

  function ResultsPage(container) {
    this.container = container;
    this.state = stateFrom(new URLSearchParams(location.search));
    this.controller = null;
    // the page's own title ("搜索 - 信息中心知识库"), before a query is put in front of it
    this.baseTitle = document.title;
    this.build();
  }

  ResultsPage.prototype.build = function () {
    var self = this;
    this.query = el("input", {
      type: "search", id: "kb-results-q", name: "q", className: "kb-results-input",
      autocomplete: "off", maxlength: "200", placeholder: "输入关键词，例如：VPN 密码"
    });
    this.query.value = this.state.q;
    var form = el("form", { className: "kb-results-form", role: "search", "aria-label": "站内搜索" }, [
      el("label", { for: "kb-results-q", className: "kb-results-label", text: "搜索" }),
      this.query,
      el("button", { type: "submit", className: "md-button md-button--primary", text: "搜索" })
    ]);
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      self.update({ q: self.query.value.trim(), page: 1 });
    });
    this.archived = el("input", { type: "checkbox", id: "kb-results-archived" });
    this.archived.checked = this.state.archived;
    this.archived.addEventListener("change", function () {
      self.update({ archived: self.archived.checked, page: 1 });
    });
    this.filters = el("div", { className: "kb-results-filters" });
    this.status = el("p", { className: "kb-results-status", role: "status", "aria-live": "polite" });
    this.list = el("ol", { className: "kb-results-list", "aria-label": "搜索结果" });
    this.pager = el("nav", { className: "kb-results-pager", "aria-label": "结果分页" });
    var aside = el("aside", { className: "kb-results-facets", id: "kb-results-facets", "aria-label": "筛选" }, [
      el("p", { className: "kb-results-switch" }, [
        this.archived, el("label", { for: "kb-results-archived", text: "包括历史版本（已归档）" })
      ]),
      this.filters
    ]);
    // on a phone the filters fold behind one button (CSS shows it below 60em) so that the
    // first result is visible without scrolling
    this.filterButton = el("button", {
      type: "button", className: "kb-results-filter-toggle md-button",
      "aria-expanded": "false", "aria-controls": "kb-results-facets", text: "筛选"
    });
    this.filterButton.addEventListener("click", function () {
      var open = self.filterButton.getAttribute("aria-expanded") !== "true";
      self.filterButton.setAttribute("aria-expanded", open ? "true" : "false");
      aside.classList.toggle("kb-results-facets--open", open);
    });
    this.partial = el("p", { className: "kb-results-partial", hidden: "" });
    this.help = el("div", { className: "kb-results-empty", hidden: "" });
    var main = el("div", { className: "kb-results-main" }, [this.status, this.partial, this.help, this.list, this.pager]);
    this.container.replaceChildren(form, this.filterButton, el("div", { className: "kb-results-body" }, [aside, main]));
    window.addEventListener("popstate", function () {
      self.state = stateFrom(new URLSearchParams(location.search));
      self.query.value = self.state.q;
      self.archived.checked = self.state.archived;
      self.load();
    });
  };

  ResultsPage.prototype.update = function (changes) {
    Object.keys(changes).forEach(function (k) { this.state[k] = changes[k]; }, this);
    history.pushState(null, "", resultsUrl(this.state).href);
    this.load();
  };

  ResultsPage.prototype.load = function () {
    var self = this;
    var s = this.state;
    document.title = (s.q ? s.q + " - " : "") + this.baseTitle;
    if (this.controller) this.controller.abort();
    if (!s.q) {
      this.status.textContent = "请输入要搜索的词语。";
      this.list.replaceChildren();
      this.filters.replaceChildren();
      this.pager.replaceChildren();
      return;
    }
    this.controller = new AbortController();
    this.status.textContent = "正在搜索…";
    fetchJson(apiUrl("search", {
      q: s.q.slice(0, 200), type: s.type, tag: s.tag, status: s.status,
      archived: s.archived ? 1 : "", page: s.page, size: PAGE_SIZE
    }), this.controller.signal).then(function (data) { self.render(data); }, function (err) {
      if (err.name === "AbortError") return;
      if (err.unavailable) { self.unavailable(); return; }
      self.status.textContent = "无法搜索：" + err.message;
      self.list.replaceChildren();
    });
  };

  ResultsPage.prototype.unavailable = function () {
    this.status.textContent = NOTICE + "请使用页面顶部的搜索框。";
    this.list.replaceChildren();
    openMaterialSearch(this.state.q);
  };

  ResultsPage.prototype.render = function (data) {
    var self = this;
    var s = this.state;
    var first = (s.page - 1) * PAGE_SIZE;
    var text = data.total
      ? "“" + s.q + "”共找到 " + data.total + " 个页面" + (data.total > PAGE_SIZE
        ? "，第 " + (first + 1) + "–" + Math.min(first + PAGE_SIZE, data.total) + " 个" : "")
      : "没有找到与“" + s.q + "”相关的页面。";
    this.status.replaceChildren(text);
    this.partial.textContent = partialText(data.partial);
    this.partial.hidden = !this.partial.textContent;
    this.renderEmpty(data);
    var chosen = ["type", "tag", "status"].reduce(function (n, k) { return n + (s[k] || []).length; }, 0);
    this.filterButton.textContent = chosen ? "筛选（已选 " + chosen + " 项）" : "筛选";
    if (data.suggestion) {
      var link = el("a", { href: resultsUrl({ q: data.suggestion }).href, text: data.suggestion });
      link.addEventListener("click", function (ev) {
        ev.preventDefault();
        self.query.value = data.suggestion;
        self.update({ q: data.suggestion, page: 1 });
      });
      this.status.append(" 您是不是要找：", link);
    }
    this.list.replaceChildren.apply(this.list, data.hits.map(function (hit) {
      var sections = (hit.sections || []).filter(function (sec) { return sec.section; });
      return el("li", { className: "kb-result" }, [
        el("a", { className: "kb-result-link", href: hitHref(hit) }, [
          el("span", { className: "kb-result-title", text: hit.title || hit.url }),
          hit.section ? el("span", { className: "kb-search-section", text: hit.section }) : null
        ]),
        badges(hit),
        el("p", { className: "kb-search-snippet" }, [snippetNodes(hit.snippet)]),
        sections.length ? el("details", { className: "kb-result-sections" }, [
          el("summary", { text: "本页其他相关章节（" + sections.length + "）" }),
          el("ul", {}, sections.map(function (sec) {
            return el("li", {}, [el("a", { href: new URL(sec.url, root).href, text: sec.section })]);
          }))
        ]) : null
      ]);
    }));
    this.renderFacets(data.facets || {});
    this.renderPager(data.total);
  };

  /** Nothing found: what to try, popular searches and the helpdesk (built from extra.kb into
   *  #kb-search-help), never a bare "0". */
  ResultsPage.prototype.renderEmpty = function (data) {
    var self = this;
    this.help.replaceChildren();
    this.help.hidden = data.total > 0;
    if (data.total > 0) return;
    this.help.appendChild(el("ul", { className: "kb-results-tips" }, [
      el("li", { text: "检查是否有错别字，或换一个说法（例如“口令”和“密码”）" }),
      el("li", { text: "减少关键词，只保留最重要的一两个词" }),
      el("li", { text: "去掉筛选条件，或勾选“包括历史版本”" })
    ]));
    var source = document.getElementById("kb-search-help");
    if (source) {
      var copy = source.cloneNode(true);
      copy.removeAttribute("id");
      copy.hidden = false;
      copy.querySelectorAll(".kb-search-popular a").forEach(function (a) {
        a.addEventListener("click", function (ev) {
          ev.preventDefault();
          self.query.value = a.textContent;
          self.update({ q: a.textContent, page: 1 });
        });
      });
      this.help.appendChild(copy);
    }
  };

  ResultsPage.prototype.renderFacets = function (facets) {
    var self = this;
    var groups = [["type", "类型", TYPE_LABELS], ["status", "状态", STATUS_LABELS], ["tag", "标签", {}]];
    this.filters.replaceChildren.apply(this.filters, groups.map(function (group) {
      var name = group[0], counts = facets[name] || {}, chosen = self.state[name] || [];
      var values = Object.keys(counts);
      chosen.forEach(function (v) { if (values.indexOf(v) < 0) values.push(v); });
      if (!values.length) return el("span", { hidden: "" });
      return el("fieldset", { className: "kb-facet kb-facet--" + name }, [
        el("legend", { text: group[1] })
      ].concat(values.slice(0, 30).map(function (value, i) {
        var id = "kb-facet-" + name + "-" + i;
        var box = el("input", { type: "checkbox", id: id, value: value, "data-facet": name });
        box.checked = chosen.indexOf(value) >= 0;
        box.addEventListener("change", function () {
          var next = (self.state[name] || []).filter(function (v) { return v !== value; });
          if (box.checked) next.push(value);
          var change = { page: 1 };
          change[name] = next;
          self.update(change);
        });
        return el("div", { className: "kb-facet-option" }, [box, el("label", { for: id }, [
          (group[2][value] || value) + " ",
          el("span", { className: "kb-facet-count", text: "(" + (counts[value] || 0) + ")" })
        ])]);
      })));
    }));
  };

  ResultsPage.prototype.renderPager = function (total) {
    var self = this;
    var pages = Math.min(100, Math.ceil(total / PAGE_SIZE));
    var current = this.state.page;
    this.pager.replaceChildren();
    if (pages <= 1) return;
    function link(page, label, rel) {
      var a = el("a", { href: resultsUrl(Object.assign({}, self.state, { page: page })).href, text: label });
      if (rel) a.setAttribute("rel", rel);
      if (page === current) a.setAttribute("aria-current", "page");
      a.addEventListener("click", function (ev) {
        ev.preventDefault();
        self.update({ page: page });
        self.container.scrollIntoView();
      });
      return a;
    }
    if (current > 1) this.pager.appendChild(link(current - 1, "上一页", "prev"));
    for (var p = Math.max(1, current - 4); p <= Math.min(pages, current + 4); p++) {
      this.pager.appendChild(link(p, String(p)));
    }
    if (current < pages) this.pager.appendChild(link(current + 1, "下一页", "next"));
  };

  /* ------------------------------------------------------------------ start */

  function openMaterialSearch(q) {
    var input = document.querySelector("[data-md-component=search-query]");
    var toggle = document.getElementById("__search");
    if (!input || !toggle || !q) return;
    input.value = q;
    toggle.checked = true;
    toggle.dispatchEvent(new Event("change"));
    input.focus();
    input.dispatchEvent(new KeyboardEvent("keyup", { key: "Unidentified" }));
  }

  /** Results page: Material opened its own search dialog for ?q= when it started; close it
   *  (without a change event, so Material keeps the URL) and keep q in the URL afterwards. */
  function keepResultsPageOpen(page) {
    var toggle = document.getElementById("__search");
    var input = document.querySelector("[data-md-component=search-query]");
    if (!toggle) return;
    if (toggle.checked) {
      toggle.checked = false;
      if (input) input.blur();
    }
    toggle.addEventListener("change", function () {
      if (!toggle.checked) {
        setTimeout(function () { history.replaceState(null, "", resultsUrl(page.state).href); }, 0);
      }
    });
  }

  function start() {
    var input = document.querySelector("[data-md-component=search-query]");
    var header = input && input.closest("[data-md-component=search]") ? new HeaderSearch(input) : null;
    var container = document.getElementById("kb-search-page");
    var page = container ? new ResultsPage(container) : null;
    if (page) keepResultsPageOpen(page);
    checkApi().then(function (up) {
      apiState = up ? "up" : "down";
      document.documentElement.setAttribute("data-kb-search", apiState);
      if (up) {
        if (header) header.enableApi();
        if (page) page.load();
      } else {
        if (header) header.fallBack();
        if (page) page.unavailable();
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { setTimeout(start, 0); });
  } else {
    setTimeout(start, 0);
  }
})();
