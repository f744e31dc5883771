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
(function () {
  "use strict";
  function label() {
    /* Material's search overlay has role="dialog" without a name */
    var dialog = document.querySelector(".md-search[role='dialog']");
    if (dialog && !dialog.hasAttribute("aria-label")) dialog.setAttribute("aria-label", "站内搜索");
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", label);
  else label();
})();
