// The page's only script (inline, allowed by its hash): sorting, filters, the drill-down's tabs and
// "show more", and links to a sample's evidence. It only moves, shows and hides what the page already
// holds, and writes text with textContent: nothing in the data is ever parsed as markup.
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.add("js");
  var each = function (list, action) { Array.prototype.forEach.call(list, action); };
  var all = function (selector, scope) { return (scope || document).querySelectorAll(selector); };

  // ---- rows and their groups ------------------------------------------------------------------
  // A tbody is a group: rows marked "average" at its start or end stay there; every other row is a
  // unit with the "baseline" rows that follow it, and units are what sorting and filtering move.
  function structure(body) {
    if (body._structure) { return body._structure; }
    var rows = Array.prototype.slice.call(body.rows);
    var top = [], bottom = [], units = [];
    rows.forEach(function (row) {
      if (row.classList.contains("average")) {
        (units.length ? bottom : top).push(row);
      } else if (row.classList.contains("baseline") && units.length) {
        units[units.length - 1].push(row);
      } else {
        units.push([row]);
      }
    });
    body._structure = { top: top, bottom: bottom, units: units };
    return body._structure;
  }

  // ---- sorting --------------------------------------------------------------------------------
  function sortKey(cell) {
    if (!cell) { return null; }
    var raw = cell.getAttribute("data-sort");
    if (raw === null) { raw = cell.textContent.trim(); }
    if (raw === "" || raw === "\u2013") { return null; }
    var number = Number(raw);
    return isNaN(number) ? raw.toLowerCase() : number;
  }
  function compare(a, b) {
    if (a === null) { return b === null ? 0 : 1; }
    if (b === null) { return -1; }
    if (typeof a === typeof b) { return a < b ? -1 : (a > b ? 1 : 0); }
    return typeof a === "number" ? -1 : 1;
  }
  function sortTable(table, index, descending) {
    each(table.tBodies, function (body) {
      var parts = structure(body);
      var order = parts.units.map(function (unit, position) { return { unit: unit, key: sortKey(unit[0].cells[index]), position: position }; });
      order.sort(function (x, y) {
        var result = (x.key === null || y.key === null) ? compare(x.key, y.key)
          : (descending ? compare(y.key, x.key) : compare(x.key, y.key));
        return result || x.position - y.position;
      });
      parts.units = order.map(function (item) { return item.unit; });
      parts.top.concat.apply(parts.top, parts.units).concat(parts.bottom).forEach(function (row) { body.appendChild(row); });
    });
  }
  each(all("table.sortable"), function (table) {
    var headers = table.tHead.rows[0].cells;
    each(headers, function (header, index) {
      header.tabIndex = 0;
      var activate = function () {
        var descending = header.getAttribute("aria-sort") === "ascending";
        each(headers, function (other) { other.removeAttribute("aria-sort"); });
        header.setAttribute("aria-sort", descending ? "descending" : "ascending");
        sortTable(table, index, descending);
      };
      header.addEventListener("click", activate);
      header.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); activate(); }
      });
    });
  });

  // ---- the drill-down: a tab per length, a few samples at a time --------------------------------
  var drill = document.querySelector(".drill");
  var page = drill ? Math.max(1, Number(drill.getAttribute("data-page")) || 3) : 3;
  function panelsOf(group) { return all(":scope > .panel", group); }
  function activate(group, panel) {
    each(panelsOf(group), function (other) { other.classList.toggle("active", other === panel); });
    each(all(":scope > .tabs > .tab", group), function (tab) {
      var on = tab.getAttribute("data-tab") === panel.getAttribute("data-length");
      tab.classList.toggle("active", on);
      tab.setAttribute("aria-selected", on ? "true" : "false");
    });
  }
  function updateMore(panel) {
    var button = panel._more;
    if (!button) { return; }
    var left = all("tr.sample.later", panel).length;
    button.hidden = left === 0;
    button.textContent = "show " + Math.min(page, left) + " more (" + left + " not shown)";
  }
  each(all("details.drilldown"), function (group) {
    each(all(":scope > .tabs > .tab", group), function (tab) {
      tab.addEventListener("click", function () {
        each(panelsOf(group), function (panel) {
          if (panel.getAttribute("data-length") === tab.getAttribute("data-tab")) { activate(group, panel); }
        });
      });
    });
    each(panelsOf(group), function (panel) {
      var rows = all("tr.sample", panel);
      each(rows, function (row, index) { if (index >= page) { row.classList.add("later"); } });
      if (rows.length > page) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "more";
        button.addEventListener("click", function () {
          var hidden = all("tr.sample.later", panel);
          for (var i = 0; i < Math.min(page, hidden.length); i++) { hidden[i].classList.remove("later"); }
          updateMore(panel);
        });
        panel.appendChild(button);
        panel._more = button;
        updateMore(panel);
      }
    });
  });

  // ---- filters --------------------------------------------------------------------------------
  var form = document.getElementById("filters");
  var textBox = document.getElementById("filter-text");
  var status = document.getElementById("filter-status");
  function textOf(node) {
    if (node._text === undefined) {
      node._text = (node.getAttribute("data-text") || node.textContent).toLowerCase();
    }
    return node._text;
  }
  function chosen(name) {
    var boxes = all("input[name='" + name + "']", form);
    var set = {}, count = 0;
    each(boxes, function (box) { if (box.checked) { set[box.value] = true; count++; } });
    return { set: set, count: count, total: boxes.length };
  }
  var state = null;
  function fits(node) {
    var keys = ["model", "task", "length"];
    for (var i = 0; i < keys.length; i++) {
      var value = node.getAttribute("data-" + keys[i]);
      if (value !== null && state[keys[i]].total && !state[keys[i]].set[value]) { return false; }
    }
    return true;
  }
  function matches(node) { return !state.query || textOf(node).indexOf(state.query) !== -1; }
  function show(node, visible) { node.classList.toggle("off", !visible); return visible; }

  function filterBody(body) {
    var parts = structure(body), shown = 0;
    parts.units.forEach(function (unit) {
      var visible = fits(unit[0]) && unit.some(matches);
      unit.forEach(function (row) { show(row, visible && fits(row)); });
      if (visible) { shown++; }
    });
    parts.top.concat(parts.bottom).forEach(function (row) {
      // an average shows with any of its rows, or when the text names it
      var visible = fits(row) && (shown > 0 || (!parts.units.length && matches(row)) || (state.query !== "" && matches(row)));
      show(row, visible);
      if (visible && !parts.units.length) { shown++; }
    });
    return shown;
  }
  function filterDrilldown(group) {
    if (!fits(group)) { return show(group, false); }
    var searching = state.query !== "" && !matches(group.querySelector("summary"));
    group.classList.toggle("searching", searching);
    var any = false, firstVisible = null, activeVisible = false;
    each(panelsOf(group), function (panel) {
      var shown = 0, fitting = fits(panel);
      each(all("tr.sample", panel), function (row) {
        if (show(row, fitting && (!searching || matches(row)))) { shown++; }
      });
      var visible = show(panel, fitting && (shown > 0 || !searching));
      each(all(":scope > .tabs > .tab", group), function (tab) {
        if (tab.getAttribute("data-tab") === panel.getAttribute("data-length")) { show(tab, visible); }
      });
      if (visible) {
        any = true;
        firstVisible = firstVisible || panel;
        activeVisible = activeVisible || panel.classList.contains("active");
      }
    });
    if (firstVisible && !activeVisible) { activate(group, firstVisible); }
    return show(group, any);
  }
  function apply() {
    state = { query: textBox.value.trim().toLowerCase(), model: chosen("model"), task: chosen("task"), length: chosen("length") };
    each(all("[data-length-col]"), function (cell) {
      show(cell, !state.length.total || !!state.length.set[cell.getAttribute("data-length-col")]);
    });
    var rows = 0;
    each(all("table.filterable"), function (table) {
      var shown = 0;
      each(table.tBodies, function (body) { shown += filterBody(body); });
      rows += shown;
      var wrap = table.closest(".table-wrap");
      if (wrap) { wrap.toggleAttribute("data-empty", shown === 0); }
    });
    each(all(".heat-block"), function (block) { show(block, fits(block) && matches(block)); });
    var groups = 0;
    each(all("details.drilldown"), function (group) { if (filterDrilldown(group)) { groups++; } });
    each(all(".plot [data-model]"), function (node) { show(node, fits(node)); });
    var parts = [];
    ["model", "task", "length"].forEach(function (name) {
      var choice = state[name];
      if (choice.count < choice.total) { parts.push(choice.count + " of " + choice.total + " " + name + "s"); }
    });
    if (state.query) { parts.push("text \u201c" + textBox.value.trim() + "\u201d"); }
    status.textContent = parts.length
      ? "Showing " + parts.join(", ") + ": " + rows + " table rows, " + groups + " sample groups."
      : "Showing everything.";
  }
  if (form) {
    var timer = null;
    textBox.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(apply, 120); });
    form.addEventListener("submit", function (event) { event.preventDefault(); apply(); });
    form.addEventListener("change", function (event) {
      var box = event.target;
      if (box.classList && box.classList.contains("family-toggle")) {
        each(all("input[name='task']", form), function (task) {
          if (task.getAttribute("data-family") === box.getAttribute("data-family")) { task.checked = box.checked; }
        });
      }
      apply();
    });
    each(all("button[data-set]", form), function (button) {
      button.addEventListener("click", function () {
        var fieldset = button.closest("fieldset");
        each(all("input[type='checkbox']", fieldset), function (box) { box.checked = button.getAttribute("data-set") === "all"; });
        apply();
      });
    });
    form.addEventListener("reset", function () { setTimeout(apply, 0); });
    apply();
  }
  function resetFilters() {
    if (!form) { return; }
    form.reset();
    apply();
  }

  // ---- a link to a sample's evidence opens its drill-down, its tab, its row and the evidence ------
  function openLinkedDetails() {
    var id = location.hash.slice(1), target = id ? document.getElementById(id) : null;
    if (!target && id) {
      try { target = document.getElementById(decodeURIComponent(id)); } catch (error) { target = null; }
    }
    if (!target) { return; }
    for (var node = target; node; node = node.parentElement) {
      if (node.classList && node.classList.contains("off")) { resetFilters(); break; }
    }
    for (node = target; node; node = node.parentElement) {
      if (node.tagName === "DETAILS") { node.open = true; }
      if (node.classList && node.classList.contains("later")) {
        node.classList.remove("later");
        updateMore(node.closest(".panel"));
      }
      if (node.classList && node.classList.contains("panel")) { activate(node.parentElement, node); }
    }
    target.scrollIntoView({ block: "center" });
  }
  window.addEventListener("hashchange", openLinkedDetails);
  openLinkedDetails();
})();
