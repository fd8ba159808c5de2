// kbsearch serve: the page works without this; it adds search as you type
// (the server renders the results; this fetches and swaps them in) and "/"
// to jump to the search box.
(function () {
  "use strict";
  var box = document.getElementById("q");
  var form = document.getElementById("search-form");
  if (!box || !form) return;

  document.addEventListener("keydown", function (e) {
    var t = e.target.tagName;
    if (e.key === "/" && t !== "INPUT" && t !== "TEXTAREA" && !e.ctrlKey && !e.metaKey) {
      e.preventDefault();
      box.focus();
      box.select();
    }
  });

  var timer = null, pending = null, last = box.value.trim();
  function urlFor(q) {
    var params = new URLSearchParams(new FormData(form));
    params.set("q", q);
    params.delete("offset");
    return "/?" + params.toString();
  }
  function update() {
    var q = box.value.trim();
    if (q === last || q.length < 3) return;
    last = q;
    var url = urlFor(q);
    if (pending) pending.abort();
    pending = new AbortController();
    fetch(url, { signal: pending.signal, headers: { "Accept": "text/html" } })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("results");
        var main = document.querySelector("main");
        if (!fresh || !main) return;
        main.replaceChildren(fresh);
        document.title = doc.title;
        history.replaceState(null, "", url);
      })
      .catch(function () { /* aborted or offline: the form still submits */ });
  }
  box.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(update, 300);
  });
})();
