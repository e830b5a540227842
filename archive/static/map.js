/* Festival map: zoom and drag. The page works without this file. */
(function () {
  "use strict";
  var frame = document.querySelector("[data-map]");
  if (!frame) return;
  var svgs = frame.querySelectorAll("svg"), box = svgs[0].viewBox.baseVal;
  var W = box.width, H = box.height, view = { x: 0, y: 0, w: W };
  var markers = frame.querySelectorAll("[data-at]");

  function apply() {
    var h = view.w * H / W, s = view.w / W, i;
    view.x = Math.min(Math.max(view.x, 0), W - view.w);
    view.y = Math.min(Math.max(view.y, 0), H - h);
    for (i = 0; i < svgs.length; i++) svgs[i].setAttribute("viewBox", [view.x, view.y, view.w, h].join(" "));
    // Markers and names keep their screen size.
    for (i = 0; i < markers.length; i++) {
      markers[i].setAttribute("transform", "translate(" + markers[i].dataset.at + ") scale(" + s + ")");
    }
    frame.style.setProperty("--s", s);
    frame.classList.toggle("zoomed", s < 1);
  }

  function zoom(f) {
    var h = view.w * H / W, cx = view.x + view.w / 2, cy = view.y + h / 2;
    var w = Math.min(Math.max(view.w / f, W / 6), W);
    view = { x: cx - w / 2, y: cy - w * H / W / 2, w: w };
    apply();
  }

  var bar = document.createElement("div");
  bar.className = "map-zoom";
  [["+", "zoomIn", 1.6], ["\u2212", "zoomOut", 1 / 1.6], ["\u21ba", "zoomReset", 0]].forEach(function (b) {
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = b[0];
    button.title = frame.dataset[b[1]];
    button.setAttribute("aria-label", button.title);
    button.addEventListener("click", function () { zoom(b[2] || 0.01); });
    bar.appendChild(button);
  });
  frame.appendChild(bar);

  // Drag to pan a zoomed map (a drag is no click).
  var start = null, moved = false;
  frame.addEventListener("pointerdown", function (e) {
    if (view.w < W && !e.target.closest(".map-zoom")) start = { x: e.clientX, y: e.clientY, vx: view.x, vy: view.y };
    moved = false;
  });
  frame.addEventListener("pointermove", function (e) {
    if (!start) return;
    var k = view.w / frame.clientWidth, dx = e.clientX - start.x, dy = e.clientY - start.y;
    if (Math.abs(dx) + Math.abs(dy) > 6) moved = true;
    if (moved) { view.x = start.vx - dx * k; view.y = start.vy - dy * k; apply(); }
  });
  ["pointerup", "pointercancel", "pointerleave"].forEach(function (t) {
    frame.addEventListener(t, function () { start = null; });
  });
  frame.addEventListener("click", function (e) { if (moved) e.preventDefault(); }, true);

  // A marker tabbed to comes into view.
  frame.addEventListener("focusin", function (e) {
    var g = e.target.querySelector && e.target.querySelector("[data-at]");
    if (!g || view.w >= W) return;
    var at = g.dataset.at.split(" ").map(Number), h = view.w * H / W;
    if (at[0] < view.x || at[0] > view.x + view.w || at[1] < view.y || at[1] > view.y + h) {
      view.x = at[0] - view.w / 2;
      view.y = at[1] - h / 2;
      apply();
    }
  });
})();
