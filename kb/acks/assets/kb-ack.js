/* InfoCenter KB — 阅知确认: the "我已阅读并理解本制度" button of policies with acknowledge: required.
 *
 * The button block is built hidden. It is shown only when GET /api/ack?doc_id= answers JSON,
 * i.e. when the page is served through the intranet proxy with kb serve's acknowledgement API:
 * on a static deployment (no API), for a reader the proxy did not sign in, or on a page older
 * than the current release, it stays hidden. A confirmation is a POST with the token of the
 * last GET (a token is spent by its POST; a new one is fetched after every attempt).
 */
(function () {
  "use strict";

  function setup(box) {
    var api = new URL(box.getAttribute("data-api"), location.href);
    var docId = box.getAttribute("data-doc-id");
    var version = box.getAttribute("data-version");
    var button = box.querySelector("button");
    var status = box.querySelector(".kb-ack__status");
    var note = box.querySelector(".kb-ack__note");
    var token = null;

    function say(text) { status.textContent = text; }

    function done(confirmed) {
      button.hidden = true;
      note.hidden = true;
      box.classList.add("kb-ack--done");
      var which = confirmed.version !== version ? "（v" + confirmed.version + "）" : "";
      say("您已于 " + confirmed.date + " 确认" + which);
    }

    function load() {
      var url = new URL(api);
      url.searchParams.set("doc_id", docId);
      return fetch(url, { credentials: "same-origin", cache: "no-store",
                          headers: { Accept: "application/json" } })
        .then(function (resp) {
          var type = resp.headers.get("Content-Type") || "";
          if (!resp.ok || type.indexOf("application/json") !== 0) {
            if (resp.body) resp.body.cancel();  // read nothing more: no request left pending
            throw new Error("no service");
          }
          return resp.json();
        })
        .then(function (data) {
          token = data.token;
          if (data.version !== version) {
            box.hidden = false;
            button.hidden = true;
            say("本页面不是现行版本（现行 v" + data.version + "），请刷新页面后确认。");
            return;
          }
          box.hidden = false;
          box.setAttribute("data-state", "ready");
          if (data.confirmed) { done(data.confirmed); }
        });
    }

    button.addEventListener("click", function () {
      button.disabled = true;
      say("正在提交……");
      fetch(api, {
        method: "POST", credentials: "same-origin", cache: "no-store",
        headers: { "Content-Type": "application/json", Accept: "application/json",
                   "X-KB-Token": token || "" },
        body: JSON.stringify({ doc_id: docId, version: version })
      }).then(function (resp) {
        return resp.json().then(function (data) { return { ok: resp.ok, data: data }; });
      }).then(function (result) {
        if (result.ok) { done(result.data.confirmed); return; }
        button.disabled = false;
        say("未能确认：" + (result.data.message || "服务暂不可用") + "");
        load().catch(function () { /* keep the message */ });
      }).catch(function () {
        button.disabled = false;
        say("网络错误，未能确认，请稍后重试。");
      });
    });

    // no service, or one without 阅知确认 (kb.js: the one probe of api/health): no api/ack request
    var service = window.kbOffers ? window.kbOffers("ack") : Promise.resolve(true);
    service.then(function (up) {
      if (!up) throw new Error("no service");
      return load();
    }).catch(function () {
      box.hidden = true;
      box.setAttribute("data-state", "unavailable");
    });
  }

  var boxes = document.querySelectorAll("form[data-kb-ack]");
  for (var i = 0; i < boxes.length; i++) {
    boxes[i].addEventListener("submit", function (event) { event.preventDefault(); });
    setup(boxes[i]);
  }
})();
