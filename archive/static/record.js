/* The record page, enhanced: everything works without this script (links, <details>, players).
 * - "Low data" / "Higher quality" swap the players' sources in place and remember the choice;
 *   on a first visit, navigator.connection may choose "Low data" when the server had no hint.
 * - "Zoom" loads OpenSeadragon only when pressed and opens it in a modal dialog (Escape closes).
 * - "Copy citation" copies the citation text.
 */
(function () {
  "use strict";

  var article = document.querySelector("article.record");
  if (!article) return;

  /* ---- rendition quality ---- */
  var switcher = article.querySelector(".quality-switch");
  var SLOW = ["slow-2g", "2g", "3g"];

  function hasCookie(name) {
    return document.cookie.split(";").some(function (part) {
      return part.trim().indexOf(name + "=") === 0;
    });
  }

  function applyQuality(quality) {
    article.querySelectorAll("[data-player]").forEach(function (player) {
      var order = (player.getAttribute("data-order-" + quality) || "").split(" ");
      var sources = Array.prototype.slice.call(player.querySelectorAll("source"));
      sources.sort(function (a, b) {
        return order.indexOf(a.dataset.rendition) - order.indexOf(b.dataset.rendition);
      });
      if (sources.length && sources[0] !== player.querySelector("source")) {
        var anchor = player.querySelector("track") || player.lastChild;
        sources.forEach(function (source) { player.insertBefore(source, anchor); });
        if (player.readyState === 0 && player.paused) {
          // Not started: load() now would fetch data on some browsers despite preload="none"; the
          // new first source is taken when the visitor presses play.
          if (!player.dataset.reloadOnPlay) {
            player.dataset.reloadOnPlay = "1";
            player.addEventListener("play", function reload() {
              player.removeEventListener("play", reload);
              delete player.dataset.reloadOnPlay;
              player.load();
              player.play();
            });
          }
          return;
        }
        var time = player.currentTime, playing = !player.paused;
        player.load();
        if (time > 0) {
          player.addEventListener("loadedmetadata", function restore() {
            player.removeEventListener("loadedmetadata", restore);
            player.currentTime = time;
            if (playing) player.play();
          });
        }
      }
    });
    if (switcher) {
      switcher.dataset.quality = quality;
      switcher.querySelectorAll("[data-quality-choice]").forEach(function (link) {
        if (link.dataset.qualityChoice === quality) link.setAttribute("aria-current", "true");
        else link.removeAttribute("aria-current");
      });
      var hint = switcher.querySelector(".quality-hint");
      var text = switcher.getAttribute("data-hint-" + quality);
      if (hint && text) hint.textContent = text;
    }
  }

  if (switcher) {
    switcher.addEventListener("click", function (event) {
      var link = event.target.closest("[data-quality-choice]");
      if (!link) return;
      event.preventDefault();
      var quality = link.dataset.qualityChoice;
      document.cookie = "quality=" + quality + "; path=/; max-age=31536000; samesite=lax" +
        (location.protocol === "https:" ? "; secure" : "");
      applyQuality(quality);
    });
    var connection = navigator.connection;
    if (switcher.dataset.qualitySource === "default" && !hasCookie("quality") && connection &&
        (connection.saveData || SLOW.indexOf(connection.effectiveType) !== -1)) {
      applyQuality("low");
    }
  }

  /* ---- deep zoom ---- */
  var scriptUrl = article.dataset.osdScript, imagesUrl = article.dataset.osdImages;
  var loading = null;

  function loadViewer() {
    if (window.OpenSeadragon) return Promise.resolve(window.OpenSeadragon);
    if (!loading) {
      // OpenSeadragon adds an inline <style> (hiding the canvas's focus outline on touch screens)
      // unless `style[data-openseadragon-mobile-css]` exists. The Content Security Policy refuses
      // inline styles, and the focus outline should stay visible: an inert element of another
      // namespace, named "style", matches that selector, so nothing is injected.
      if (!document.querySelector("style[data-openseadragon-mobile-css]")) {
        var marker = document.createElementNS("urn:x-heritage-archive:marker", "style");
        marker.setAttribute("data-openseadragon-mobile-css", "true");
        document.head.appendChild(marker);
      }
      loading = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = scriptUrl;
        script.onload = function () { resolve(window.OpenSeadragon); };
        script.onerror = function () { loading = null; script.remove(); reject(new Error("viewer")); };
        document.head.appendChild(script);
      });
    }
    return loading;
  }

  function openZoom(button) {
    var dialog = document.createElement("dialog");
    dialog.className = "zoom-dialog";
    dialog.setAttribute("aria-labelledby", "zoom-title");
    var bar = document.createElement("div");
    bar.className = "zoom-bar";
    var title = document.createElement("h2");
    title.id = "zoom-title";
    title.textContent = button.dataset.zoomTitle || button.textContent;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "zoom-close";
    close.textContent = button.dataset.labelClose;
    bar.append(title, close);
    var help = document.createElement("p");
    help.className = "zoom-help";
    help.textContent = button.dataset.labelHelp;
    var stage = document.createElement("div");
    stage.className = "zoom-stage";
    dialog.append(bar, help, stage);
    document.body.appendChild(dialog);
    var viewer = null;
    close.addEventListener("click", function () { dialog.close(); });
    dialog.addEventListener("close", function () {
      if (viewer) viewer.destroy();
      dialog.remove();
      button.focus();
    });
    dialog.showModal();
    close.focus();
    loadViewer().then(function (OSD) {
      if (!dialog.open) return;
      viewer = OSD({
        element: stage,
        tileSources: button.dataset.zoomInfo,
        prefixUrl: imagesUrl,
        showFullPageControl: false,
        showRotationControl: false,
        crossOriginPolicy: false,
        gestureSettingsMouse: { clickToZoom: true },
        visibilityRatio: 1,
      });
      viewer.addHandler("open-failed", function () { fail(stage, button); });
      viewer.addHandler("open", function () {
        var canvas = stage.querySelector(".openseadragon-canvas");
        if (canvas) canvas.setAttribute("aria-label", title.textContent);
      });
    }, function () { fail(stage, button); });
  }

  function fail(stage, button) {
    stage.textContent = "";
    var message = document.createElement("p");
    message.className = "zoom-error";
    message.setAttribute("role", "alert");
    message.textContent = button.dataset.labelFailed;
    stage.appendChild(message);
  }

  if (scriptUrl && typeof HTMLDialogElement === "function") {
    article.querySelectorAll("button.zoom").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { openZoom(button); });
    });
  }

  /* ---- copy the citation ---- */
  article.querySelectorAll("button.copy-citation").forEach(function (button) {
    if (!navigator.clipboard) return;
    var status = button.parentNode.querySelector(".copy-status");
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = document.getElementById(button.dataset.copy).textContent.replace(/\s+/g, " ").trim();
      navigator.clipboard.writeText(text).then(function () {
        if (status) status.textContent = button.dataset.labelCopied;
      }, function () {
        if (status) status.textContent = button.dataset.labelFailed;
      });
    });
  });
})();
