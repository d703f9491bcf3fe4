// Progressive enhancement only: every page works without it.
// A report form whose request never reached the server (network failure) keeps what was typed and is
// sent again with the same Idempotency-Key (the hidden idempotency_key field), so it is filed once.
(function () {
  var tries = new WeakMap();
  document.addEventListener("htmx:sendError", function (evt) {
    var form = evt.detail.elt && evt.detail.elt.closest && evt.detail.elt.closest("form[data-retry]");
    if (!form) { return; }
    var n = (tries.get(form) || 0) + 1;
    tries.set(form, n);
    var notice = document.getElementById("notice");
    if (notice) {
      notice.hidden = false;
      notice.textContent = document.documentElement.lang === "en"
        ? "Network failure; retrying with the same number (" + n + ")…"
        : "网络中断，正在以同一编号重试（第 " + n + " 次）……";
    }
    if (n <= 5) {
      setTimeout(function () { htmx.trigger(form, "submit"); }, Math.min(8000, 500 * Math.pow(2, n - 1)));
    }
  });
})();
