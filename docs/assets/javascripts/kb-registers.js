/* InfoCenter KB: sortable, filterable registers (制度目录, 手册目录). No server, no libraries.
   Tables: table.kb-register; sortable headers th[data-sort] ("text" | "number"); each cell
   carries data-sort-value. Filter bar: .kb-register-tools[data-kb-register-for=<table id>] with
   [data-filter=text|status|owner]; rows carry data-status and data-owner. */
(function () {
  "use strict";

  var collator = new Intl.Collator("zh-CN", { numeric: true, sensitivity: "base" });

  function cellValue(row, index) {
    var cell = row.cells[index];
    return cell ? (cell.getAttribute("data-sort-value") || "") : "";
  }

  function compare(kind, a, b) {
    if (kind === "number") { return (parseFloat(a) || 0) - (parseFloat(b) || 0); }
    if (a === "" && b !== "") { return 1; }   /* empty values last in both directions */
    if (b === "" && a !== "") { return -1; }
    return collator.compare(a, b);
  }

  function sortBy(table, th) {
    var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
    var index = headers.indexOf(th);
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    headers.forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var kind = th.getAttribute("data-sort");
    rows.sort(function (r1, r2) {
      var result = compare(kind, cellValue(r1, index), cellValue(r2, index));
      return ascending ? result : -result;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }

  function setUpSorting(table) {
    Array.prototype.forEach.call(table.querySelectorAll("th[data-sort]"), function (th) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "kb-sort";
      button.title = "排序";
      while (th.firstChild) { button.appendChild(th.firstChild); }
      th.appendChild(button);
      button.addEventListener("click", function () { sortBy(table, th); });
    });
  }

  function setUpFilter(tools) {
    var table = document.getElementById(tools.getAttribute("data-kb-register-for"));
    if (!table) { return; }
    var text = tools.querySelector("[data-filter=text]");
    var status = tools.querySelector("[data-filter=status]");
    var owner = tools.querySelector("[data-filter=owner]");
    var count = tools.querySelector(".kb-register-count");
    var empty = table.closest(".kb-register-wrap").querySelector(".kb-register-empty");
    function apply() {
      var words = (text.value || "").toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      var rows = table.tBodies[0].rows;
      Array.prototype.forEach.call(rows, function (row) {
        var haystack = row.textContent.toLowerCase();
        var ok = words.every(function (w) { return haystack.indexOf(w) !== -1; }) &&
          (!status.value || row.getAttribute("data-status") === status.value) &&
          (!owner.value || row.getAttribute("data-owner") === owner.value);
        row.hidden = !ok;
        if (ok) { shown += 1; }
      });
      count.textContent = "显示 " + shown + " / " + rows.length + " 项";
      if (empty) { empty.hidden = shown !== 0; }
    }
    [text, status, owner].forEach(function (control) {
      control.addEventListener("input", apply);
      control.addEventListener("change", apply);
    });
    tools.hidden = false;
    apply();
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("table.kb-register"), function (t) {
      if (!t.hasAttribute("data-kb-ready")) { t.setAttribute("data-kb-ready", ""); setUpSorting(t); }
    });
    Array.prototype.forEach.call(document.querySelectorAll(".kb-register-tools[hidden]"), setUpFilter);
  }

  /* Material's instant navigation swaps pages without a reload: follow its document$ stream */
  if (typeof window.document$ !== "undefined" && window.document$.subscribe) {
    window.document$.subscribe(init);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
