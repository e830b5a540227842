/* Search box autocomplete: an ARIA 1.2 combobox with a listbox (titles, ethnic groups, places).
 *
 * Progressive enhancement only: without this script every search box is a plain GET form, and the
 * search page works in full. The script turns each <input data-autocomplete="URL"> into a combobox:
 * suggestions are fetched 200 ms after the last key stroke (a stale request is aborted), Up/Down move
 * through them, Enter opens the chosen one (or submits the form when none is chosen), Escape closes the
 * list (and clears the box when the list is already closed). Labels come from the page, translated.
 */
(function () {
  "use strict";
  if (!window.fetch || !window.AbortController || !document.querySelector) {
    return;
  }
  var DEBOUNCE_MS = 200;
  var strings = {};
  var holder = document.querySelector("[data-search-strings]");
  if (holder) {
    try {
      strings = JSON.parse(holder.getAttribute("data-search-strings")) || {};
    } catch (e) {
      strings = {};
    }
  }
  var kinds = strings.kinds || {};
  var minChars = strings.minChars || 2;
  var counter = 0;

  function announcement(count) {
    if (count === 0) {
      return strings.none || "";
    }
    if (count === 1) {
      return strings.one || "";
    }
    return (strings.many || "").replace("%(num)s", String(count));
  }

  function Combobox(input) {
    counter += 1;
    this.input = input;
    this.form = input.form;
    this.endpoint = input.getAttribute("data-autocomplete");
    this.prefix = "ac" + counter;
    this.results = [];
    this.active = -1;
    this.timer = null;
    this.controller = null;

    var wrapper = document.createElement("div");
    wrapper.className = "ac";
    input.parentNode.insertBefore(wrapper, input);
    wrapper.appendChild(input);

    this.list = document.createElement("ul");
    this.list.id = this.prefix + "-list";
    this.list.className = "ac-list";
    this.list.setAttribute("role", "listbox");
    if (input.labels && input.labels.length) {
      if (!input.labels[0].id) {
        input.labels[0].id = this.prefix + "-label";
      }
      this.list.setAttribute("aria-labelledby", input.labels[0].id);
    }
    this.list.hidden = true;
    wrapper.appendChild(this.list);

    this.status = document.createElement("div");
    this.status.className = "vh";
    this.status.setAttribute("role", "status");
    wrapper.appendChild(this.status);

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", this.list.id);
    input.setAttribute("autocomplete", "off");

    var self = this;
    input.addEventListener("input", function () {
      self.schedule();
    });
    input.addEventListener("keydown", function (event) {
      self.onKey(event);
    });
    input.addEventListener("blur", function () {
      self.close();
    });
    // Keep the focus in the box while an option is clicked or tapped.
    this.list.addEventListener("mousedown", function (event) {
      event.preventDefault();
    });
    this.list.addEventListener("click", function (event) {
      var option = event.target.closest("[role=option]");
      if (option) {
        self.open(Number(option.getAttribute("data-index")));
      }
    });
  }

  Combobox.prototype.query = function () {
    return this.input.value.replace(/\s+/g, " ").trim();
  };

  Combobox.prototype.schedule = function () {
    var self = this;
    window.clearTimeout(this.timer);
    if (this.query().length < minChars) {
      this.abort();
      this.close();
      return;
    }
    this.timer = window.setTimeout(function () {
      self.fetch();
    }, DEBOUNCE_MS);
  };

  Combobox.prototype.abort = function () {
    if (this.controller) {
      this.controller.abort();
      this.controller = null;
    }
  };

  Combobox.prototype.fetch = function () {
    var self = this;
    var q = this.query();
    this.abort();
    var controller = new AbortController();
    this.controller = controller;
    var url = this.endpoint + (this.endpoint.indexOf("?") < 0 ? "?" : "&") + "q=" + encodeURIComponent(q);
    window
      .fetch(url, { signal: controller.signal, credentials: "same-origin", headers: { Accept: "application/json" } })
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
        // Aborted, or the network failed: the box stays a plain search box.
      });
  };

  Combobox.prototype.render = function (results) {
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
      option.className = "ac-option";
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.setAttribute("data-index", String(i));
      var label = document.createElement("span");
      label.className = "ac-label";
      label.textContent = item.label;
      option.appendChild(label);
      var kind = document.createElement("span");
      kind.className = "ac-kind ac-kind-" + item.kind;
      kind.textContent = (kinds[item.kind] || item.kind) + (item.count ? " · " + item.count : "");
      option.appendChild(document.createTextNode(" "));
      option.appendChild(kind);
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

  Combobox.prototype.isOpen = function () {
    return !this.list.hidden;
  };

  Combobox.prototype.close = function () {
    this.list.hidden = true;
    this.active = -1;
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
  };

  Combobox.prototype.reopen = function () {
    if (this.results.length) {
      this.list.hidden = false;
      this.input.setAttribute("aria-expanded", "true");
    }
  };

  Combobox.prototype.highlight = function (index) {
    var options = this.list.children;
    if (!options.length) {
      return;
    }
    index = (index + options.length) % options.length;
    for (var i = 0; i < options.length; i += 1) {
      options[i].setAttribute("aria-selected", i === index ? "true" : "false");
    }
    this.active = index;
    this.input.setAttribute("aria-activedescendant", options[index].id);
    if (options[index].scrollIntoView) {
      options[index].scrollIntoView({ block: "nearest" });
    }
  };

  Combobox.prototype.open = function (index) {
    var item = this.results[index];
    if (item && item.url) {
      this.close();
      window.location.assign(item.url);
    }
  };

  Combobox.prototype.onKey = function (event) {
    var open = this.isOpen();
    switch (event.key) {
      case "ArrowDown":
      case "Down":
        if (!open) {
          this.reopen();
          if (!event.altKey && this.isOpen()) {
            this.highlight(0);
          }
        } else {
          this.highlight(this.active + 1);
        }
        event.preventDefault();
        break;
      case "ArrowUp":
      case "Up":
        if (open) {
          this.highlight(this.active < 0 ? -1 : this.active - 1);
          event.preventDefault();
        }
        break;
      case "Enter":
        if (open && this.active >= 0) {
          event.preventDefault();
          this.open(this.active);
        }
        break;
      case "Escape":
      case "Esc":
        if (open) {
          this.close();
          event.preventDefault();
        } else if (this.input.value) {
          this.input.value = "";
          this.abort();
          event.preventDefault();
        }
        break;
      case "Tab":
        this.close();
        break;
      default:
        break;
    }
  };

  function init() {
    var inputs = document.querySelectorAll("input[data-autocomplete]");
    for (var i = 0; i < inputs.length; i += 1) {
      new Combobox(inputs[i]);
    }
    // On a wide screen the filters are a sidebar: show them open.
    var filters = document.getElementById("filters");
    if (filters && window.matchMedia && window.matchMedia("(min-width: 48em)").matches) {
      filters.open = true;
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
