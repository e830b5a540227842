/* The record form of the contributor workspace: progressive enhancement only.
 *
 * Without this script the form works in full: every list shows spare empty rows, vocabulary boxes are
 * plain text inputs that accept what the CSV import accepts, and the server checks everything. The
 * script adds:
 *   - an "Add …" button to every list ([data-repeat]) that copies a row with its names renumbered;
 *   - ARIA 1.2 comboboxes on [data-picker] inputs, fed by the JSON pickers (Up/Down, Enter, Escape);
 *   - the festival timing preview ("In 2027 this falls on …") from /pickers/lunar.json;
 *   - showing the season fields only when the Seasonal label is ticked, and marking the community
 *     group as required when the access level is "community".
 * Strings come from the page (data-form-strings), translated by the server.
 */
(function () {
  "use strict";
  if (!document.querySelector || !window.fetch) {
    return;
  }
  var form = document.querySelector("form.record-form");
  if (!form) {
    return;
  }
  var strings = {};
  try {
    strings = JSON.parse(form.getAttribute("data-form-strings") || "{}");
  } catch (e) {
    strings = {};
  }
  var DEBOUNCE_MS = 200;
  var counter = 0;

  function escapeRegExp(text) {
    return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }

  function directRows(container) {
    var list = container.querySelector(".repeat-rows");
    var out = [];
    if (!list) {
      return out;
    }
    for (var i = 0; i < list.children.length; i += 1) {
      if (list.children[i].hasAttribute("data-repeat-row")) {
        out.push(list.children[i]);
      }
    }
    return out;
  }

  function fieldsOf(row) {
    return row.querySelectorAll("input, select, textarea");
  }

  function isBlank(row) {
    var fields = fieldsOf(row);
    for (var i = 0; i < fields.length; i += 1) {
      var f = fields[i];
      if (f.type === "hidden" || f.tagName === "SELECT") {
        continue;
      }
      if (f.type === "checkbox" || f.type === "radio") {
        if (f.checked) {
          return false;
        }
      } else if (f.value && !(f.hasAttribute("data-timing-part") && f.getAttribute("data-timing-part") === "duration")) {
        return false;
      }
    }
    return !row.querySelector(".error");
  }

  /* ---- repeatable rows --------------------------------------------------------------------------- */

  function renumber(node, prefix, from, to) {
    var pattern = new RegExp("^" + escapeRegExp(prefix) + "-" + from + "-");
    var replacement = prefix + "-" + to + "-";
    var attributes = ["id", "name", "for", "aria-describedby", "aria-controls", "data-repeat"];
    var all = [node].concat(Array.prototype.slice.call(node.querySelectorAll("*")));
    all.forEach(function (el) {
      attributes.forEach(function (attr) {
        var value = el.getAttribute(attr);
        if (value === null) {
          return;
        }
        var renamed = value
          .split(" ")
          .map(function (token) {
            return token.replace(pattern, replacement);
          })
          .join(" ");
        if (renamed !== value) {
          el.setAttribute(attr, renamed);
        }
      });
    });
  }

  function clearRow(row) {
    Array.prototype.forEach.call(row.querySelectorAll(".error"), function (el) {
      el.parentNode.removeChild(el);
    });
    Array.prototype.forEach.call(row.querySelectorAll("[aria-invalid]"), function (el) {
      el.removeAttribute("aria-invalid");
    });
    Array.prototype.forEach.call(row.querySelectorAll("[aria-describedby]"), function (el) {
      var kept = el
        .getAttribute("aria-describedby")
        .split(" ")
        .filter(function (id) {
          return id && !/-error$/.test(id);
        });
      if (kept.length) {
        el.setAttribute("aria-describedby", kept.join(" "));
      } else {
        el.removeAttribute("aria-describedby");
      }
    });
    Array.prototype.forEach.call(fieldsOf(row), function (f) {
      if (f.type === "checkbox" || f.type === "radio") {
        f.checked = false;
      } else if (f.tagName === "SELECT") {
        if (!f.hasAttribute("data-lang-select") && f.getAttribute("data-picker-field") !== "lang") {
          f.selectedIndex = 0;
        }
      } else if (f.getAttribute("data-timing-part") === "duration") {
        f.value = "1";
      } else {
        f.value = "";
      }
      f.disabled = false;
    });
    Array.prototype.forEach.call(row.querySelectorAll("[data-timing-preview]"), function (p) {
      p.textContent = "";
    });
    // Drop the combobox machinery and the buttons copied with the row; they are set up again on the copy.
    Array.prototype.forEach.call(row.querySelectorAll(".picker-list, .picker-status, .add-row"), function (el) {
      el.parentNode.removeChild(el);
    });
    Array.prototype.forEach.call(row.querySelectorAll("[data-picker]"), function (input) {
      input.removeAttribute("data-picker-ready");
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    });
  }

  function unusedLanguage(container, select) {
    var used = {};
    directRows(container).forEach(function (row) {
      var s = row.querySelector("[data-lang-select]");
      if (s && s !== select) {
        used[s.value] = true;
      }
    });
    for (var i = 0; i < select.options.length; i += 1) {
      if (!used[select.options[i].value]) {
        return select.options[i].value;
      }
    }
    return select.value;
  }

  function addRow(container) {
    var rows = directRows(container);
    if (!rows.length) {
      return null;
    }
    var prefix = container.getAttribute("data-repeat");
    var template = rows[rows.length - 1];
    var next = Number(container.getAttribute("data-next"));
    var from = Number(template.getAttribute("data-index"));
    var copy = template.cloneNode(true);
    renumber(copy, prefix, from, next);
    copy.setAttribute("data-index", String(next));
    container.setAttribute("data-next", String(next + 1));
    clearRow(copy);
    // A nested list (a timing's note) keeps a single empty row.
    Array.prototype.forEach.call(copy.querySelectorAll("[data-repeat]"), function (inner) {
      var innerRows = directRows(inner);
      for (var i = 1; i < innerRows.length; i += 1) {
        innerRows[i].parentNode.removeChild(innerRows[i]);
      }
    });
    template.parentNode.insertBefore(copy, template.nextSibling);
    var langSelect = null;
    Array.prototype.forEach.call(copy.querySelectorAll("[data-lang-select]"), function (s) {
      if (s.closest("[data-repeat]") === container) {
        langSelect = s;
      }
    });
    if (langSelect) {
      langSelect.value = unusedLanguage(container, langSelect);
      syncLang(langSelect);
    }
    enhance(copy);
    return copy;
  }

  function syncLang(select) {
    var row = select.closest("[data-repeat-row]");
    var value = row && row.querySelector(".value-cell input, .value-cell textarea");
    if (value) {
      value.setAttribute("lang", select.value);
    }
  }

  function setUpRepeat(container) {
    var prefix = container.getAttribute("data-repeat");
    var pattern = new RegExp("^" + escapeRegExp(prefix) + "-(\\d+)-");
    var max = -1;
    directRows(container).forEach(function (row) {
      var field = row.querySelector("[name]");
      var m = field && pattern.exec(field.getAttribute("name"));
      var index = m ? Number(m[1]) : 0;
      row.setAttribute("data-index", String(index));
      max = Math.max(max, index);
    });
    container.setAttribute("data-next", String(max + 1));
    // With the button at hand, one empty row is enough: hide the other spare rows.
    var rows = directRows(container);
    var blanks = rows.filter(isBlank);
    for (var i = 1; i < blanks.length; i += 1) {
      if (rows.length > 1) {
        blanks[i].parentNode.removeChild(blanks[i]);
        rows.splice(rows.indexOf(blanks[i]), 1);
      }
    }
    var button = document.createElement("button");
    button.type = "button";
    button.className = "add-row";
    button.textContent = container.getAttribute("data-add-label") || strings.add_row || "+";
    button.addEventListener("click", function () {
      var row = addRow(container);
      if (row) {
        var first = row.querySelector(".value-cell input, .value-cell textarea, input[type=text], textarea");
        if (first) {
          first.focus();
        }
      }
    });
    container.appendChild(button);
  }

  /* ---- comboboxes -------------------------------------------------------------------------------- */

  function announcement(count) {
    if (count === 0) {
      return strings.none || "";
    }
    if (count === 1) {
      return strings.one || "";
    }
    return (strings.many || "").replace("%(num)s", String(count));
  }

  function Picker(input) {
    counter += 1;
    this.input = input;
    this.endpoint = input.getAttribute("data-picker");
    this.row = input.closest("[data-repeat-row]") || input.parentNode;
    this.ref = this.row.querySelector("[data-picker-ref]");
    this.prefix = "picker" + counter;
    this.results = [];
    this.active = -1;
    this.timer = null;
    this.controller = null;
    input.setAttribute("data-picker-ready", "1");

    var wrapper = input.parentNode;
    if (!wrapper.classList.contains("picker")) {
      wrapper = document.createElement("span");
      wrapper.className = "picker";
      input.parentNode.insertBefore(wrapper, input);
      wrapper.appendChild(input);
    }
    this.list = document.createElement("ul");
    this.list.id = this.prefix + "-list";
    this.list.className = "picker-list";
    this.list.setAttribute("role", "listbox");
    if (input.labels && input.labels.length) {
      if (!input.labels[0].id) {
        input.labels[0].id = this.prefix + "-label";
      }
      this.list.setAttribute("aria-labelledby", input.labels[0].id);
    }
    this.list.hidden = true;
    wrapper.appendChild(this.list);
    this.status = document.createElement("span");
    this.status.className = "vh picker-status";
    this.status.setAttribute("role", "status");
    wrapper.appendChild(this.status);

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", this.list.id);
    input.setAttribute("autocomplete", "off");

    var self = this;
    input.addEventListener("input", function () {
      if (self.ref) {
        self.ref.value = ""; // the text no longer reads as what was picked
      }
      self.schedule();
    });
    input.addEventListener("keydown", function (event) {
      self.onKey(event);
    });
    input.addEventListener("blur", function () {
      self.close();
    });
    this.list.addEventListener("mousedown", function (event) {
      event.preventDefault();
    });
    this.list.addEventListener("click", function (event) {
      var option = event.target.closest("[role=option]");
      if (option) {
        self.choose(Number(option.getAttribute("data-index")));
      }
    });
  }

  Picker.prototype.query = function () {
    return this.input.value.replace(/\s+/g, " ").trim();
  };

  Picker.prototype.url = function (q) {
    var url = this.endpoint + (this.endpoint.indexOf("?") < 0 ? "?" : "&") + "q=" + encodeURIComponent(q);
    var extra = this.input.getAttribute("data-picker-extra");
    if (extra) {
      extra.split("&").forEach(function (pair) {
        var parts = pair.split("=");
        var field = form.elements[parts[1]];
        if (field && field.value) {
          url += "&" + encodeURIComponent(parts[0]) + "=" + encodeURIComponent(field.value);
        }
      });
    }
    return url;
  };

  Picker.prototype.schedule = function () {
    var self = this;
    window.clearTimeout(this.timer);
    if (!this.query()) {
      this.abort();
      this.close();
      return;
    }
    this.timer = window.setTimeout(function () {
      self.fetch();
    }, DEBOUNCE_MS);
  };

  Picker.prototype.abort = function () {
    if (this.controller) {
      this.controller.abort();
      this.controller = null;
    }
  };

  Picker.prototype.fetch = function () {
    var self = this;
    var q = this.query();
    this.abort();
    var controller = window.AbortController ? new AbortController() : null;
    this.controller = controller;
    window
      .fetch(this.url(q), {
        signal: controller ? controller.signal : undefined,
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
      .then(function (response) {
        return response.ok ? response.json() : { results: [] };
      })
      .then(function (body) {
        if (self.controller !== controller || self.query() !== q) {
          return; // an answer to an older question
        }
        self.controller = null;
        self.render(body.results || []);
      })
      .catch(function () {
        // Aborted, or the network failed: the box stays a plain text box.
      });
  };

  Picker.prototype.render = function (results) {
    this.results = results;
    this.active = -1;
    this.input.removeAttribute("aria-activedescendant");
    while (this.list.firstChild) {
      this.list.removeChild(this.list.firstChild);
    }
    for (var i = 0; i < results.length; i += 1) {
      var item = results[i];
      var option = document.createElement("li");
      option.id = this.prefix + "-opt" + i;
      option.className = "picker-option";
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.setAttribute("data-index", String(i));
      var label = document.createElement("span");
      label.className = "picker-label";
      label.textContent = item.label;
      option.appendChild(label);
      if (item.detail) {
        option.appendChild(document.createTextNode(" "));
        var detail = document.createElement("span");
        detail.className = "picker-detail";
        detail.textContent = item.detail;
        option.appendChild(detail);
      }
      this.list.appendChild(option);
    }
    this.status.textContent = announcement(results.length);
    if (results.length) {
      this.list.hidden = false;
      this.input.setAttribute("aria-expanded", "true");
    } else {
      this.close();
    }
  };

  Picker.prototype.isOpen = function () {
    return !this.list.hidden;
  };

  Picker.prototype.close = function () {
    this.list.hidden = true;
    this.active = -1;
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
  };

  Picker.prototype.highlight = function (index) {
    var options = this.list.querySelectorAll("[role=option]");
    if (!options.length) {
      return;
    }
    if (index < 0) {
      index = options.length - 1;
    }
    if (index >= options.length) {
      index = 0;
    }
    for (var i = 0; i < options.length; i += 1) {
      options[i].setAttribute("aria-selected", i === index ? "true" : "false");
    }
    this.active = index;
    this.input.setAttribute("aria-activedescendant", options[index].id);
    if (options[index].scrollIntoView) {
      options[index].scrollIntoView({ block: "nearest" });
    }
  };

  Picker.prototype.choose = function (index) {
    var item = this.results[index];
    if (!item) {
      return;
    }
    this.input.value = item.label;
    if (this.ref) {
      this.ref.value = item.ref || "";
    }
    var fill = item.fill || {};
    var row = this.row;
    Object.keys(fill).forEach(function (key) {
      var target = row.querySelector('[data-picker-field="' + key + '"]');
      if (target) {
        target.value = fill[key];
      }
    });
    this.close();
    this.status.textContent = item.detail ? item.label + " · " + item.detail : item.label;
  };

  Picker.prototype.onKey = function (event) {
    var key = event.key;
    if (key === "ArrowDown" || key === "Down") {
      event.preventDefault();
      if (!this.isOpen()) {
        if (this.results.length) {
          this.list.hidden = false;
          this.input.setAttribute("aria-expanded", "true");
        } else {
          this.fetch();
          return;
        }
      }
      this.highlight(this.active + 1);
    } else if (key === "ArrowUp" || key === "Up") {
      if (this.isOpen()) {
        event.preventDefault();
        this.highlight(this.active - 1);
      }
    } else if (key === "Enter") {
      if (this.isOpen()) {
        event.preventDefault(); // never submit the form while the list is open
        if (this.active >= 0) {
          this.choose(this.active);
        } else {
          this.close();
        }
      }
    } else if (key === "Escape" || key === "Esc") {
      if (this.isOpen()) {
        event.preventDefault();
        this.close();
      }
    } else if (key === "Tab") {
      this.close();
    }
  };

  /* ---- festival timing ----------------------------------------------------------------------------- */

  var timings = form.querySelector("[data-lunar-url]");

  function part(row, name) {
    return row.querySelector('[data-timing-part="' + name + '"]');
  }

  function updateTiming(row) {
    var calendar = part(row, "calendar");
    var chosen = part(row, "day_chosen");
    var day = part(row, "day");
    var leap = part(row, "leap");
    var duration = part(row, "duration");
    var lunar = calendar.value === "lunar";
    day.disabled = chosen.checked;
    duration.disabled = chosen.checked;
    leap.disabled = !lunar;
    if (!lunar) {
      leap.checked = false;
    }
    previewTiming(row);
  }

  function previewTiming(row) {
    var preview = row.querySelector("[data-timing-preview]");
    if (!preview || !timings) {
      return;
    }
    var calendar = part(row, "calendar").value;
    var month = part(row, "month").value.trim();
    var chosen = part(row, "day_chosen").checked;
    var day = part(row, "day").value.trim();
    if (calendar !== "lunar" || !/^\d{1,2}$/.test(month) || (!chosen && !/^\d{1,2}$/.test(day))) {
      preview.textContent = "";
      return;
    }
    var params = [
      "month=" + encodeURIComponent(month),
      "year=" + encodeURIComponent(timings.getAttribute("data-preview-year")),
      "leap=" + (part(row, "leap").checked ? "1" : "0"),
    ];
    if (!chosen) {
      params.push("day=" + encodeURIComponent(day));
      var duration = part(row, "duration").value.trim();
      if (/^\d{1,2}$/.test(duration)) {
        params.push("duration=" + duration);
      }
    }
    var url = timings.getAttribute("data-lunar-url") + "?" + params.join("&");
    var token = String(Date.now()) + Math.random();
    row.setAttribute("data-preview-token", token);
    window
      .fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.json();
      })
      .then(function (body) {
        if (row.getAttribute("data-preview-token") !== token) {
          return;
        }
        preview.classList.toggle("error", !!body.error);
        preview.textContent = body.error ? body.error.message : body.text || "";
      })
      .catch(function () {
        if (row.getAttribute("data-preview-token") === token) {
          preview.textContent = strings.preview_failed || "";
        }
      });
  }

  function setUpTiming(row) {
    var timer = null;
    function later() {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        updateTiming(row);
      }, 300);
    }
    ["calendar", "day_chosen", "leap"].forEach(function (name) {
      part(row, name).addEventListener("change", function () {
        updateTiming(row);
      });
    });
    ["month", "day", "duration"].forEach(function (name) {
      part(row, name).addEventListener("input", later);
    });
    updateTiming(row);
  }

  /* ---- access: community and the season of the Seasonal label --------------------------------------- */

  function setUpAccess() {
    var level = form.querySelector("[data-access-level]");
    var community = form.querySelector("[data-community]");
    if (level && community) {
      var sync = function () {
        var needed = level.value === "community";
        community.required = needed;
        community.setAttribute("aria-required", needed ? "true" : "false");
      };
      level.addEventListener("change", sync);
      sync();
    }
    Array.prototype.forEach.call(form.querySelectorAll("[data-reveal-with]"), function (block) {
      var box = document.getElementById(block.getAttribute("data-reveal-with"));
      if (!box) {
        return;
      }
      var sync = function () {
        block.hidden = !box.checked;
      };
      box.setAttribute("aria-controls", block.id);
      box.addEventListener("change", sync);
      sync();
    });
  }

  /* ---- wiring ---------------------------------------------------------------------------------------- */

  function enhance(root) {
    Array.prototype.forEach.call(root.querySelectorAll("[data-picker]"), function (input) {
      if (!input.hasAttribute("data-picker-ready")) {
        new Picker(input);
      }
    });
    Array.prototype.forEach.call(root.querySelectorAll("[data-lang-select]"), function (select) {
      select.addEventListener("change", function () {
        syncLang(select);
      });
    });
    var rows = root.matches && root.matches("[data-timing]") ? [root] : [];
    rows = rows.concat(Array.prototype.slice.call(root.querySelectorAll("[data-timing]")));
    rows.forEach(setUpTiming);
    // Lists inside a copied row (a timing's note) get their own button.
    Array.prototype.forEach.call(root.querySelectorAll("[data-repeat]"), function (inner) {
      if (root !== form) {
        setUpRepeat(inner);
      }
    });
  }

  Array.prototype.forEach.call(form.querySelectorAll("[data-repeat]"), setUpRepeat);
  enhance(form);
  setUpAccess();

  // Move the focus to the error summary so that it is read first.
  var summary = document.getElementById("error-summary");
  if (summary) {
    summary.focus();
  }
})();
