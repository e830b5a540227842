/* Display preferences without a page reload: the links work without JavaScript (they set a cookie
   on the server); with it, the classes change at once and the same cookie is written here. */
(function () {
  "use strict";
  var root = document.documentElement;
  function current() {
    var m = document.cookie.match(/(?:^|; )display=([a-z]+)\.([a-z]+)/);
    return { text: m ? m[1] : "normal", contrast: m ? m[2] : "normal" };
  }
  function apply(prefs) {
    root.classList.remove("text-large", "text-larger", "contrast-high");
    if (prefs.text !== "normal") root.classList.add("text-" + prefs.text);
    if (prefs.contrast === "high") root.classList.add("contrast-high");
    document.cookie = "display=" + prefs.text + "." + prefs.contrast +
      "; path=/; max-age=31536000; samesite=lax" + (location.protocol === "https:" ? "; secure" : "");
    document.querySelectorAll("[data-display-text]").forEach(function (a) {
      if (a.getAttribute("data-display-text") === prefs.text) a.setAttribute("aria-current", "true");
      else a.removeAttribute("aria-current");
    });
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("[data-display-text], [data-display-contrast]");
    if (!link) return;
    event.preventDefault();
    var prefs = current();
    if (link.hasAttribute("data-display-text")) prefs.text = link.getAttribute("data-display-text");
    if (link.hasAttribute("data-display-contrast")) {
      prefs.contrast = link.getAttribute("data-display-contrast");
      var next = prefs.contrast === "high" ? "normal" : "high";
      link.setAttribute("data-display-contrast", next);
      link.textContent = link.getAttribute(next === "high" ? "data-label-high" : "data-label-normal") || link.textContent;
    }
    apply(prefs);
  });
})();
