// InfoCenter KB: the 打印 button, and every collapsed block (修订记录, details) opened before
// the browser prints and closed again afterwards. Bound here, not in onclick attributes, so
// the site's Content-Security-Policy needs no inline handlers.
(function () {
  var opened = [];
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-kb-print]");
    if (button) {
      event.preventDefault();
      window.print();
    }
  });
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details:not([open])").forEach(function (el) {
      el.setAttribute("open", "");
      opened.push(el);
    });
  });
  window.addEventListener("afterprint", function () {
    opened.forEach(function (el) { el.removeAttribute("open"); });
    opened = [];
  });
})();
