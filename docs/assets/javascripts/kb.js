/* InfoCenter KB: small accessibility fixes to theme markup (no external resources). */
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
