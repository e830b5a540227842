/* Resumable uploads on the "Add media" page, with tus-js-client (served from node_modules).
 *
 * Progressive enhancement only: without this script (or without tus-js-client) the form posts every file
 * in one multipart request, as before. With it, each chosen file is sent on its own over the tus protocol
 * and gets a progress bar, a percentage and a state line read out by screen readers. A dropped
 * connection is retried, and when the browser says it is offline the upload waits for the network to come
 * back and goes on from the last byte the server holds. The server's URL of each unfinished upload is
 * kept in localStorage, so choosing the same file again after a reload resumes it instead of starting
 * over. Once a file is complete, the media pipeline's verdict is fetched and shown: accepted (with a
 * link to "My media") or refused, with the reason in the page's language.
 */
(function () {
  "use strict";
  var form = document.querySelector("form[data-tus-endpoint]");
  var tus = window.tus;
  if (!form || !tus || !tus.isSupported || !window.fetch || !window.Promise) {
    return;
  }
  var CHUNK_SIZE = 1024 * 1024;
  var RETRY_DELAYS = [0, 1000, 3000, 5000, 10000, 20000];
  // Flask-WTF refuses a CSRF token older than an hour; a long upload fetches a fresh one.
  var TOKEN_MAX_AGE_MS = 30 * 60 * 1000;
  var strings = {};
  try {
    strings = JSON.parse(form.getAttribute("data-tus-strings")) || {};
  } catch (e) {
    strings = {};
  }
  var input = form.querySelector("input[type=file]");
  var section = document.getElementById("tus-uploads");
  var list = section ? section.querySelector("ul") : null;
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = { token: meta ? meta.getAttribute("content") : "", at: Date.now() };
  var waitingForNetwork = [];

  function freshToken() {
    if (Date.now() - csrf.at < TOKEN_MAX_AGE_MS) {
      return Promise.resolve(csrf.token);
    }
    return fetch(form.getAttribute("data-tus-token-url"), {
      credentials: "same-origin",
      headers: { Accept: "application/json" }
    })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (data) {
        if (data && data.csrf_token) {
          csrf.token = data.csrf_token;
          csrf.at = Date.now();
        }
        return csrf.token;
      })
      .catch(function () {
        return csrf.token;
      });
  }

  function field(name) {
    var element = form.querySelector('[name="' + name + '"]');
    return element ? element.value.trim() : "";
  }

  function Row(file) {
    this.item = document.createElement("li");
    var name = document.createElement("span");
    name.textContent = file.name + " ";
    this.bar = document.createElement("progress");
    this.bar.max = 100;
    this.bar.value = 0;
    this.bar.setAttribute("aria-label", file.name);
    this.percent = document.createElement("span");
    this.percent.className = "tus-percent";
    this.state = document.createElement("span");
    this.state.className = "tus-state";
    this.state.setAttribute("role", "status");
    this.extra = document.createElement("span");
    this.item.appendChild(name);
    this.item.appendChild(this.bar);
    this.item.appendChild(document.createTextNode(" "));
    this.item.appendChild(this.percent);
    this.item.appendChild(document.createTextNode(" · "));
    this.item.appendChild(this.state);
    this.item.appendChild(document.createTextNode(" "));
    this.item.appendChild(this.extra);
    this.show(0, 1);
    this.say(strings.waiting);
  }

  Row.prototype.show = function (sent, total) {
    var percent = total > 0 ? Math.floor((sent / total) * 100) : 0;
    this.bar.value = percent;
    this.percent.textContent = percent + " %";
  };

  Row.prototype.say = function (text, isError) {
    this.state.textContent = text || "";
    this.state.className = isError ? "tus-state error" : "tus-state";
  };

  Row.prototype.clearExtra = function () {
    while (this.extra.firstChild) {
      this.extra.removeChild(this.extra.firstChild);
    }
  };

  function fingerprint(file) {
    // One stored URL per person, record and file: another record or account never resumes it.
    return Promise.resolve(
      [
        "archive-tus",
        form.getAttribute("data-uploader"),
        form.getAttribute("data-record"),
        file.name,
        file.type,
        file.size,
        file.lastModified
      ].join("/")
    );
  }

  function showVerdict(row, upload, attempt) {
    row.say(strings.checking);
    fetch(upload.url + "/status", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.json();
      })
      .then(function (status) {
        if (status.state === "receiving" && attempt < 5) {
          window.setTimeout(function () {
            showVerdict(row, upload, attempt + 1);
          }, 1000);
          return;
        }
        row.clearExtra();
        if (status.state === "accepted") {
          row.say(status.message);
          var link = document.createElement("a");
          link.href = status.link;
          link.textContent = strings.my_media;
          row.extra.appendChild(link);
        } else {
          row.say(status.message, true);
        }
      })
      .catch(function () {
        row.say(strings.failed, true);
      });
  }

  function resume(row, upload) {
    if (row.running) {
      return;
    }
    row.running = true;
    row.clearExtra();
    row.say(strings.resuming);
    upload.start();
  }

  function stopped(row, upload, error) {
    row.running = false;
    var response = error && error.originalResponse;
    var status = response ? response.getStatus() : 0;
    if (status >= 400 && status < 500 && status !== 409 && status !== 423) {
      // The server refused the upload (too large, too many, not allowed...): say why, do not insist.
      row.say(response.getBody() || strings.failed, true);
      return;
    }
    if (navigator.onLine === false) {
      row.say(strings.offline);
      waitingForNetwork.push({ row: row, upload: upload });
    } else {
      row.say(strings.failed, true);
    }
    row.clearExtra();
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = strings.retry;
    button.addEventListener("click", function () {
      resume(row, upload);
    });
    row.extra.appendChild(button);
  }

  function send(file) {
    var row = new Row(file);
    list.appendChild(row.item);
    var metadata = {
      filename: file.name,
      filetype: file.type || "application/octet-stream",
      record: form.getAttribute("data-record")
    };
    ["caption_vi", "caption_en"].forEach(function (name) {
      var value = field(name);
      if (value) {
        metadata[name] = value;
      }
    });
    var upload = new tus.Upload(file, {
      endpoint: form.getAttribute("data-tus-endpoint"),
      chunkSize: CHUNK_SIZE,
      retryDelays: RETRY_DELAYS,
      metadata: metadata,
      fingerprint: fingerprint,
      storeFingerprintForResuming: true,
      removeFingerprintOnSuccess: true,
      onBeforeRequest: function (request) {
        return freshToken().then(function (token) {
          request.setHeader("X-CSRFToken", token);
        });
      },
      onShouldRetry: function (error) {
        var response = error.originalResponse;
        var status = response ? response.getStatus() : 0;
        var retry = (status === 0 || status >= 500 || status === 409 || status === 423) && navigator.onLine !== false;
        if (retry) {
          row.say(strings.retrying);
        }
        return retry;
      },
      onProgress: function (sent, total) {
        row.show(sent, total);
        if (row.state.textContent !== strings.sending) {
          row.say(strings.sending);
          row.clearExtra();
        }
      },
      onError: function (error) {
        stopped(row, upload, error);
      },
      onSuccess: function () {
        row.running = false;
        row.show(1, 1);
        showVerdict(row, upload, 0);
      }
    });
    row.running = true;
    upload
      .findPreviousUploads()
      .then(function (previous) {
        if (previous.length) {
          row.say(strings.resuming);
          upload.resumeFromPreviousUpload(previous[0]);
        }
        upload.start();
      })
      .catch(function () {
        upload.start();
      });
  }

  form.addEventListener("submit", function (event) {
    var files = Array.prototype.slice.call(input.files || []);
    if (!files.length || !list) {
      return; // the browser's own check (required) or the plain form takes over
    }
    event.preventDefault();
    section.hidden = false;
    files.forEach(send);
    input.value = "";
  });

  window.addEventListener("online", function () {
    var waiting = waitingForNetwork;
    waitingForNetwork = [];
    waiting.forEach(function (entry) {
      resume(entry.row, entry.upload);
    });
  });
})();
