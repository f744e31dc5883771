/* "本页有帮助吗？" (kb/feedback): shown only when kb serve answers GET api/feedback with a
 * token (a static deployment never shows it); a vote is POSTed as JSON with the token in the
 * X-KB-Token header (the server checks it against its SameSite cookie and the Origin). */
(function () {
  "use strict";
  var box = document.querySelector(".kb-feedback");
  if (!box || location.protocol === "file:" || !window.fetch) return;

  if (!window.kbSiteRoot) return;  // kb.js (listed first in mkdocs.yml) defines it
  var root = window.kbSiteRoot();
  var api = new URL("api/feedback", root);
  var page = "/" + decodeURI(location.pathname).slice(decodeURI(root.pathname).length);
  var form = box.querySelector(".kb-feedback__form");
  var status = box.querySelector(".kb-feedback__status");
  var choices = box.querySelectorAll(".kb-feedback__choice");
  var token = null;
  var helpful = null;

  var service = window.kbOffers ? window.kbOffers("feedback") : Promise.resolve(true);
  service.then(function (up) {
    // no service on this copy (kb.js's one probe of api/health): no request to api/feedback
    if (!up) return null;
    return fetch(api, { credentials: "same-origin", headers: { Accept: "application/json" } });
  })
    .then(function (r) {
      if (!r) return null;
      if (r.ok) return r.json();
      if (r.body) r.body.cancel();
      return null;
    })
    .then(function (data) {
      if (!data || !data.enabled || !data.token) return;
      token = data.token;
      box.hidden = false;
    }, function () { /* no service: the widget stays hidden */ });

  Array.prototype.forEach.call(choices, function (button) {
    button.addEventListener("click", function () {
      helpful = button.getAttribute("data-helpful") === "true";
      Array.prototype.forEach.call(choices, function (b) {
        b.setAttribute("aria-pressed", b === button ? "true" : "false");
      });
      form.hidden = false;
      status.textContent = "";
      form.querySelector("textarea").focus();
    });
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (helpful === null || !token) return;
    var button = form.querySelector("button");
    button.disabled = true;
    fetch(api, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-KB-Token": token },
      body: JSON.stringify({ page: page, helpful: helpful,
                             comment: form.querySelector("textarea").value })
    }).then(function (r) {
      if (r.status === 201) {
        form.hidden = true;
        Array.prototype.forEach.call(choices, function (b) { b.disabled = true; });
        status.textContent = "谢谢您的反馈！";
      } else if (r.status === 429) {
        status.textContent = "提交太频繁，请稍后再试。";
      } else {
        status.textContent = "反馈未能提交，请刷新页面后重试。";
      }
    }, function () {
      status.textContent = "反馈未能提交：无法连接服务器。";
    }).then(function () { button.disabled = false; });
  });
})();
