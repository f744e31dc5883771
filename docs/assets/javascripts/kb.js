/* InfoCenter KB: small accessibility fixes to theme markup (no external resources), and
 * kbSiteRoot(): the site's root URL from Material's config (the search and feedback scripts'). */
window.kbSiteRoot = function () {
  var base = ".";
  var config = document.getElementById("__config");
  if (config) {
    try { base = JSON.parse(config.textContent).base || "."; } catch (e) { /* keep "." */ }
  }
  return new URL(base.replace(/\/?$/, "/"), location.href);
};
/* kbService(): one GET of api/health per page, shared by the scripts that talk to kb serve
 * (search, 阅知确认, feedback): its JSON answer, or null where there is no service (a static
 * copy answers with the build's api/health file, {"status": "static"}, or not at all). The
 * body is always read or cancelled, and a failure is silent: no request is left pending. */
window.kbService = (function () {
  var answer = null;
  return function () {
    if (answer) return answer;
    if (location.protocol === "file:" || !window.fetch) return (answer = Promise.resolve(null));
    answer = fetch(new URL("api/health", window.kbSiteRoot()),
                   { cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (resp) {
        var type = resp.headers.get("Content-Type") || "";
        if (type.indexOf("application/json") !== 0) {
          if (resp.body) resp.body.cancel();
          return null;
        }
        return resp.json();
      })
      .then(function (data) { return data && data.status !== "static" ? data : null; },
            function () { return null; });
    return answer;
  };
})();
/* kbOffers(name): whether the service answers api/NAME (its health lists its APIs). */
window.kbOffers = function (name) {
  return window.kbService().then(function (up) {
    return !!up && (!up.apis || up.apis.indexOf(name) >= 0);
  });
};
(function () {
  "use strict";
  function label() {
    /* Material's search overlay has role="dialog" without a name */
    var dialog = document.querySelector(".md-search[role='dialog']");
    if (dialog && !dialog.hasAttribute("aria-label")) dialog.setAttribute("aria-label", "站内搜索");
  }

  /* Tab reaches only what can be seen: the search results while the search is open with a
   * query, the navigation drawer while it is open (on narrow screens it sits off-screen) */
  function inertWhenHidden() {
    var search = document.getElementById("__search");
    var input = document.querySelector(".md-search__input");
    var output = document.querySelector(".md-search__output");
    if (search && input && output) {
      var syncSearch = function () {
        output.inert = !(search.checked && input.value.trim() !== "");
      };
      ["input", "focus", "keyup"].forEach(function (name) { input.addEventListener(name, syncSearch); });
      search.addEventListener("change", syncSearch);
      document.addEventListener("focusin", function () { setTimeout(syncSearch, 0); });
      syncSearch();
    }
    var drawer = document.getElementById("__drawer");
    var primary = document.querySelector(".md-sidebar--primary");
    if (drawer && primary && window.matchMedia) {
      var wide = window.matchMedia("(min-width: 76.25em)");
      var syncDrawer = function () { primary.inert = !wide.matches && !drawer.checked; };
      drawer.addEventListener("change", syncDrawer);
      if (wide.addEventListener) wide.addEventListener("change", syncDrawer);
      syncDrawer();
    }
  }

  function start() { label(); inertWhenHidden(); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
