"use strict";
// swerm's report page: the instances table (sortable, filterable, the view in the URL hash) and
// each instance's candidates with their patches. It draws from the JSON block `swerm-data`
// (src/report/html/data.rs) and builds every node with textContent: no data becomes markup.
(function () {
  const errors = [];
  window.addEventListener("error", function (e) {
    errors.push(String(e.message));
    document.documentElement.dataset.errors = errors.join(" | ");
  });
  const block = document.getElementById("swerm-data");
  if (!block) {
    document.documentElement.dataset.ready = "1"; // a page without instances
    return;
  }
  const D = JSON.parse(block.textContent);
  const PAGE = 500;
  let limit = PAGE;
  // compare.html: one row per instance with each scorer's pick and its credit (no instance view).
  const CMP = D.kind === "compare";
  const mark = function (x) {
    if (x === null || x === undefined) return "";
    return x === 1 ? " ✓" : x === 0 ? " ✗" : " (" + x.toFixed(2) + ")";
  };
  const someRight = function (r) { return r.res.some(function (x) { return x === 1; }); };
  const someWrong = function (r) { return r.res.some(function (x) { return x !== null && x < 1; }); };

  const FILTERS = CMP ? [
    ["all", "All instances", function () { return true; }],
    ["disagree", "Scorers disagree (one picks right, another not)", function (r) { return someRight(r) && someWrong(r); }],
    ["differ", "Different picks", function (r) { return !r.same; }],
    ["missed", "Solvable, no scorer picks right", function (r) { return r.solvable === true && !someRight(r); }],
    ["right", "Every scorer picks right", function (r) { return !someWrong(r) && someRight(r); }],
  ].filter(function (f) { return D.labeled || ["all", "differ"].indexOf(f[0]) >= 0; }) : [
    ["all", "All instances", function () { return true; }],
    ["wrong", "Solvable but picked wrong", function (r) { return r.solvable === true && r.resolved === false; }],
    ["mixed", "Ties with mixed labels", function (r) { return r.mixed; }],
    ["ties", "Tied at the top", function (r) { return r.tie; }],
    ["unscored", "With unscored candidates", function (r) { return r.unscored > 0; }],
    ["unsolvable", "Solved by no run", function (r) { return r.solvable === false; }],
    ["right", "Picked right", function (r) { return r.resolved === true; }],
  ].filter(function (f) { return D.labeled || ["all", "ties", "unscored"].indexOf(f[0]) >= 0; });

  const COLUMNS = CMP ? [
    { key: "id", label: "Instance", get: function (r) { return r.id; } },
    { key: "solvable", label: "Solvable", get: function (r) { return r.solvable; }, labeled: true },
  ].concat(D.scorers.map(function (name, i) {
    return { key: "s" + i, label: name, get: function (r) { return D.runs[r.picks[i]] + mark(r.res[i]); } };
  }), [
    { key: "same", label: "Same patch", get: function (r) { return r.same; } },
  ]).filter(function (c) { return D.labeled || !c.labeled; }) : [
    { key: "id", label: "Instance", get: function (r) { return r.id; } },
    { key: "solvable", label: "Solvable", get: function (r) { return r.solvable; }, labeled: true },
    { key: "pick", label: "Selected run", get: function (r) { return D.runs[r.pick]; } },
    { key: "resolved", label: "Selected resolved", get: function (r) { return r.resolved; }, labeled: true },
    { key: "distinct", label: "Distinct patches", get: function (r) { return r.distinct; }, num: true },
    { key: "margin", label: "Top-score margin", get: function (r) { return r.margin; }, num: true },
    { key: "tie", label: "Tie", get: function (r) { return r.tie ? (r.mixed ? "mixed labels" : "tied") : ""; } },
    { key: "unscored", label: "Unscored", get: function (r) { return r.unscored; }, num: true },
  ].filter(function (c) { return D.labeled || !c.labeled; });

  function h(tag, attrs, children) {
    const e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") e.textContent = attrs[k];
      else if (k === "class") e.className = attrs[k];
      else e.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) e.appendChild(c); });
    return e;
  }

  function state() {
    const p = new URLSearchParams(location.hash.replace(/^#/, ""));
    return {
      filter: p.get("filter") || "all",
      sort: p.get("sort") || "",
      dir: p.get("dir") === "desc" ? "desc" : "asc",
      q: p.get("q") || "",
      instance: p.get("instance"),
    };
  }

  // The hash of the current view with `changes` applied.
  function hashOf(changes) {
    const s = Object.assign(state(), changes);
    const p = new URLSearchParams();
    ["filter", "sort", "dir", "q", "instance"].forEach(function (k) {
      const v = s[k];
      if (v && !(k === "filter" && v === "all") && !(k === "dir" && v === "asc")) p.set(k, v);
    });
    return "#" + (p.toString() || "filter=all");
  }

  function go(changes) {
    location.hash = hashOf(changes);
  }

  function fmt(x, digits) {
    if (x === null || x === undefined) return "–";
    if (typeof x === "boolean") return x ? "yes" : "no";
    if (typeof x !== "number") return String(x);
    if (x !== 0 && (Math.abs(x) >= 1e4 || Math.abs(x) < 1e-3)) return x.toExponential(2);
    return x.toFixed(digits === undefined ? 4 : digits);
  }

  function compare(col, dir) {
    return function (a, b) {
      const x = col.get(a), y = col.get(b);
      const nx = x === null || x === undefined, ny = y === null || y === undefined;
      if (nx || ny) return nx === ny ? 0 : nx ? 1 : -1; // no value last, either way
      const c = x < y ? -1 : x > y ? 1 : 0;
      return dir === "desc" ? -c : c;
    };
  }

  function rows(s) {
    const f = (FILTERS.find(function (f) { return f[0] === s.filter; }) || FILTERS[0])[2];
    const q = s.q.toLowerCase();
    const out = D.rows.filter(function (r) { return f(r) && (!q || r.id.toLowerCase().indexOf(q) >= 0); });
    const col = COLUMNS.find(function (c) { return c.key === s.sort; });
    if (col) out.sort(compare(col, s.dir));
    return out;
  }

  function controls(s, shown) {
    const select = h("select", { id: "filter", "aria-label": "filter" });
    FILTERS.forEach(function (f) {
      const n = D.rows.filter(f[2]).length;
      const o = h("option", { value: f[0], text: f[1] + " (" + n + ")" });
      if (f[0] === s.filter) o.selected = true;
      select.appendChild(o);
    });
    select.addEventListener("change", function () { limit = PAGE; go({ filter: select.value }); });
    const search = h("input", { id: "search", type: "search", placeholder: "instance id contains…", value: s.q });
    search.addEventListener("change", function () { go({ q: search.value }); });
    const count = h("span", { id: "count", text: shown + " of " + D.rows.length + " instances" });
    return h("div", { class: "controls" }, [select, search, count]);
  }

  function drawTable(s) {
    const sec = document.getElementById("table");
    sec.textContent = "";
    const list = rows(s);
    sec.appendChild(h("h2", { text: "Instances" }));
    sec.appendChild(controls(s, list.length));
    const head = h("tr", {}, COLUMNS.map(function (c) {
      const sorted = s.sort === c.key;
      const th = h("th", { text: c.label + (sorted ? (s.dir === "desc" ? " ▼" : " ▲") : ""), class: c.num ? "num" : "" });
      th.setAttribute("aria-sort", sorted ? (s.dir === "desc" ? "descending" : "ascending") : "none");
      th.dataset.key = c.key;
      th.addEventListener("click", function () {
        go({ sort: c.key, dir: sorted && s.dir === "asc" ? "desc" : "asc" });
      });
      return th;
    }));
    const body = h("tbody");
    list.slice(0, limit).forEach(function (r) {
      const pick = CMP ? r.picks.map(function (p) { return D.runs[p]; }).join(",") : D.runs[r.pick];
      const tr = h("tr", { "data-id": r.id, "data-pick": pick }, COLUMNS.map(function (c) {
        const v = c.get(r);
        if (c.key === "id" && !CMP) return h("td", {}, [h("a", { href: hashOf({ instance: r.id }), text: r.id })]);
        return h("td", { text: c.num ? fmt(v, c.key === "margin" ? 4 : 0) : fmt(v), class: c.num ? "num" : "" });
      }));
      if (CMP) {
        if (someRight(r) && someWrong(r)) tr.className = "wrong";
        else if (someRight(r) && !someWrong(r)) tr.className = "right";
      } else {
        if (r.solvable === true && r.resolved === false) tr.className = "wrong";
        else if (r.resolved === true) tr.className = "right";
        tr.addEventListener("click", function () { go({ instance: r.id }); });
      }
      body.appendChild(tr);
    });
    sec.appendChild(h("table", { id: "instances", class: "rows" }, [h("thead", {}, [head]), body]));
    if (list.length > limit) {
      const more = h("button", { text: "Show " + Math.min(PAGE, list.length - limit) + " more" });
      more.addEventListener("click", function () { limit += PAGE; drawTable(state()); });
      sec.appendChild(more);
    }
  }

  function diff(text) {
    const pre = h("pre", { class: "diff" });
    text.replace(/\n$/, "").split("\n").forEach(function (line) {
      let cls = "";
      if (line.startsWith("+++") || line.startsWith("---") || line.startsWith("diff ")) cls = "file";
      else if (line.startsWith("@@")) cls = "hunk";
      else if (line.startsWith("+")) cls = "add";
      else if (line.startsWith("-")) cls = "del";
      pre.appendChild(h("span", { class: cls, text: line || " " }));
    });
    return pre;
  }

  function note(c) {
    const parts = [];
    if (c.e === "missing") parts.push("no record (a hole)");
    if (c.e === "empty") parts.push("no patch");
    if (c.u) parts.push("unscored: " + c.u);
    if (c.t) parts.push(c.c ? "cut: " + c.c + " (" + c.rm + " tokens removed)" : "truncated");
    if (c.po) parts.push("judged from its patch alone");
    if (c.pv) parts.push("PRIVILEGED prompt: " + c.pv);
    if (c.sm !== undefined) parts.push(c.sm + " samples" + (c.si ? " (" + c.si + " without a verdict)" : ""));
    if (c.n !== undefined && !c.e) parts.push(c.n + " tokens");
    return parts.join("; ");
  }

  function drawInstance(s) {
    const sec = document.getElementById("instance");
    sec.textContent = "";
    const back = h("a", { href: hashOf({ instance: "" }), text: "← instances" });
    sec.appendChild(back);
    const r = D.rows.find(function (r) { return r.id === s.instance; });
    if (!r) {
      sec.appendChild(h("p", { class: "warn", text: "No instance " + s.instance + " in this report." }));
      return;
    }
    sec.appendChild(h("h2", { text: r.id }));
    const facts = ["selected: " + D.runs[r.pick]];
    if (D.labeled) facts.push("selected resolves: " + fmt(r.resolved), "solvable: " + fmt(r.solvable));
    facts.push(r.distinct + " distinct patches", "top-score margin: " + fmt(r.margin));
    if (r.tie) facts.push(r.mixed ? "tied top, mixed labels" : "tied top");
    if (r.unscored) facts.push(r.unscored + " unscored");
    sec.appendChild(h("p", { class: "facts", text: facts.join(" · ") }));
    const groups = [];
    r.cands.forEach(function (c) { if (c.p !== undefined && groups.indexOf(c.p) < 0) groups.push(c.p); });
    const letter = function (p) { return p === undefined ? "–" : "P" + (groups.indexOf(p) + 1); };
    const logits = r.cands.some(function (c) { return c.ly !== undefined || c.ln !== undefined; });
    const titles = ["rank", "run", "score"].concat(logits ? ["logit YES", "logit NO"] : [], ["label", "patch", "notes"]);
    const head = h("tr", {}, titles.map(function (t) { return h("th", { text: t }); }));
    const body = h("tbody", {}, r.cands.map(function (c, i) {
      const tr = h("tr", { "data-run": D.runs[c.r] }, [
        h("td", { class: "num", text: String(i + 1) }),
        h("td", { text: D.runs[c.r] + (i === 0 ? " ★ picked" : "") }),
        h("td", { class: "num", text: fmt(c.s) }),
        logits && h("td", { class: "num", text: fmt(c.ly, 3) }),
        logits && h("td", { class: "num", text: fmt(c.ln, 3) }),
        h("td", { text: c.l === undefined ? "–" : c.l ? "resolved" : "unresolved" }),
        h("td", { text: letter(c.p) }),
        h("td", { text: note(c) }),
      ]);
      if (i === 0) tr.className = "pick";
      return tr;
    }));
    sec.appendChild(h("table", { id: "candidates", class: "rows" }, [h("thead", {}, [head]), body]));
    groups.forEach(function (p) {
      const members = r.cands.filter(function (c) { return c.p === p; });
      const labels = members.map(function (c) { return c.l === undefined ? "–" : c.l ? "✓" : "✗"; }).join(" ");
      const title = letter(p) + ": " + members.map(function (c) { return D.runs[c.r]; }).join(", ") +
        (D.labeled ? "  [" + labels + "]" : "") + (members.indexOf(r.cands[0]) >= 0 ? "  ★ picked" : "");
      const box = h("div", { class: "patch", "data-patch": letter(p) }, [h("h3", { text: title })]);
      const text = D.patches[p];
      box.appendChild(text === null ? h("p", { class: "warn", text: "Patch not in this page: " + (D.patches_note || "") }) : diff(text));
      sec.appendChild(box);
    });
    // A reasoning judge's samples: each candidate's, in rank order.
    r.cands.forEach(function (c, i) {
      if (!c.g || !c.g.length) return;
      const box = h("div", { class: "samples", "data-run": D.runs[c.r] }, [
        h("h3", { text: "Samples of " + D.runs[c.r] + (i === 0 ? "  ★ picked" : "") }),
      ]);
      c.g.forEach(function (g) {
        const head = "sample " + g.k + ": verdict " + (g.v === null || g.v === undefined ? "none" : fmt(g.v)) + " (ended: " + g.e + ")";
        box.appendChild(h("p", { class: "facts", text: head }));
        box.appendChild(h("pre", { class: "sample", text: g.x }));
      });
      sec.appendChild(box);
    });
  }

  function render() {
    const s = state();
    // Three views: no hash, the overview with the whole table below it; a table state in the
    // hash (filter, sort, search), the table alone; an instance, its candidates alone.
    const inInstance = !!s.instance && !CMP;
    document.getElementById("overview").hidden = location.hash.length > 1;
    document.getElementById("table").hidden = inInstance;
    document.getElementById("instance").hidden = !inInstance;
    if (inInstance) drawInstance(s);
    else drawTable(s);
    window.scrollTo(0, 0);
    document.documentElement.dataset.ready = "1";
  }

  window.addEventListener("hashchange", render);
  render();
})();
