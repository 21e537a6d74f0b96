// The landmark editor of the clinician page (issue 19): a canvas over each graded photo with the
// points the measurements read, moved by dragging or by the arrow keys (1 px of the photo;
// Shift: 10 px). Every move ends with trigger('moved', {movement, points}); the server measures
// again. Runs as gr.HTML's js_on_load: `element`, `props`, `trigger` and `watch` are Gradio's.
// Plain canvas 2D, no drawing library.
(() => {
  const HIT = 12;  // canvas pixels within which a click takes a point
  const COLOURS = {right: "#e8413c", left: "#3c7cff", middle: "#ffd400"};
  const CONTOURS = [
    [17, 18, 19, 20, 21], [22, 23, 24, 25, 26],
    [36, 37, 38, 39, 40, 41, 36], [42, 43, 44, 45, 46, 47, 42],
    [48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 48], [60, 61, 62, 63, 64, 65, 66, 67, 60],
  ];
  const state = {photo: 0, selected: null, drag: null, points: {}, images: {}};

  const photos = () => ((props.value && props.value.photos) || []);
  const current = () => photos()[state.photo];

  function side(id) {
    const p = current();
    return (p && p.sides && p.sides[id]) || "middle";
  }

  function build() {
    element.innerHTML = "";
    const root = document.createElement("div");
    root.className = "fp-lm";
    element.appendChild(root);
    state.points = {};
    state.selected = null;
    state.zoom = 1;
    state.centre = null;
    if (!photos().length) {
      const note = document.createElement("p");
      note.className = "fp-lm-empty";
      note.textContent = (props.value && props.value.note) ||
        "Grade a photo: its landmarks can then be corrected here by hand.";
      root.appendChild(note);
      return;
    }
    photos().forEach((p) => { state.points[p.movement] = JSON.parse(JSON.stringify(p.points)); });
    state.photo = Math.min(state.photo, photos().length - 1);
    const bar = document.createElement("div");
    bar.className = "fp-lm-bar";
    photos().forEach((p, i) => {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = p.label;
      b.dataset.movement = p.movement;
      b.className = "fp-lm-photo";
      b.addEventListener("click", () => {
        state.photo = i; state.selected = null; state.zoom = 1; show();
      });
      bar.appendChild(b);
    });
    const reset = document.createElement("button");
    reset.type = "button";
    reset.className = "fp-lm-reset";
    reset.textContent = "Reset: the detector's points";
    reset.addEventListener("click", () => {
      const p = current();
      state.points[p.movement] = JSON.parse(JSON.stringify(p.detected));
      draw();
      send();
    });
    const whole = document.createElement("button");
    whole.type = "button";
    whole.className = "fp-lm-whole";
    whole.textContent = state.whole ? "Show the face" : "Show the whole photo";
    whole.addEventListener("click", () => {
      state.whole = !state.whole;
      state.zoom = 1;
      whole.textContent = state.whole ? "Show the face" : "Show the whole photo";
      draw();
    });
    bar.appendChild(whole);
    bar.appendChild(reset);
    root.appendChild(bar);
    const canvas = document.createElement("canvas");
    canvas.tabIndex = 0;
    canvas.className = "fp-lm-canvas";
    root.appendChild(canvas);
    const status = document.createElement("div");
    status.className = "fp-lm-status";
    root.appendChild(status);
    state.canvas = canvas;
    state.status = status;
    canvas.addEventListener("pointerdown", down);
    canvas.addEventListener("pointermove", move);
    canvas.addEventListener("pointerup", up);
    canvas.addEventListener("pointercancel", up);
    canvas.addEventListener("keydown", key);
    canvas.addEventListener("keyup", keyUp);
    canvas.addEventListener("wheel", wheel, {passive: false});
    show();
  }

  function show() {
    const p = current();
    element.querySelectorAll(".fp-lm-photo").forEach((b) =>
      b.classList.toggle("selected", b.dataset.movement === p.movement));
    let image = state.images[p.movement];
    if (!image || image.src !== p.image) {
      image = new Image();
      image.onload = () => draw();
      image.src = p.image;
      state.images[p.movement] = image;
    }
    draw();
  }

  // the part of the photo shown: the face (its points with a margin) or the whole photo,
  // magnified `state.zoom` times around `state.centre` (the mouse wheel)
  function view() {
    const base = frame(), z = state.zoom || 1;
    if (z <= 1) return base;
    const p = current(), w = base.w / z, h = base.h / z;
    const c = state.centre || {x: base.x + base.w / 2, y: base.y + base.h / 2};
    return {x: Math.min(Math.max(0, c.x - w / 2), p.width - w),
            y: Math.min(Math.max(0, c.y - h / 2), p.height - h), w, h};
  }

  function frame() {
    const p = current();
    if (state.whole) return {x: 0, y: 0, w: p.width, h: p.height};
    const pts = Object.values(p.detected);
    const xs = pts.map((v) => v[0]), ys = pts.map((v) => v[1]);
    let x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = Math.max(...ys);
    const margin = 0.45 * Math.max(x1 - x0, y1 - y0);
    x0 = Math.max(0, x0 - margin); y0 = Math.max(0, y0 - margin);
    x1 = Math.min(p.width, x1 + margin); y1 = Math.min(p.height, y1 + margin);
    return {x: x0, y: y0, w: x1 - x0, h: y1 - y0};
  }

  function scale() {
    const width = Math.min(720, Math.max(320, element.clientWidth || 720));
    return width / view().w;
  }

  // an editable handle: iBUG points, iris centres and one rim handle per iris
  function handles() {
    const pts = state.points[current().movement];
    const out = [];
    for (const [id, v] of Object.entries(pts)) {
      out.push({id, x: v[0], y: v[1]});
      if (v.length === 3) out.push({id: id + ":rim", x: v[0] + v[2], y: v[1]});
    }
    return out;
  }

  function draw() {
    const p = current(), c = state.canvas;
    if (!p || !c) return;
    const s = scale(), v0 = view();
    c.width = Math.round(v0.w * s);
    c.height = Math.round(v0.h * s);
    const g = c.getContext("2d");
    g.setTransform(1, 0, 0, 1, 0, 0);
    g.fillStyle = "#222";
    g.fillRect(0, 0, c.width, c.height);
    g.translate(-v0.x * s, -v0.y * s);  // photo pixels x s, shifted to the part shown
    const image = state.images[p.movement];
    if (image && image.complete && image.naturalWidth) {
      g.drawImage(image, 0, 0, p.width * s, p.height * s);
    }
    const pts = state.points[p.movement];
    g.lineWidth = 1;
    g.strokeStyle = "rgba(255,255,255,0.75)";
    for (const line of CONTOURS) {
      g.beginPath();
      line.forEach((i, k) => {
        const v = pts[String(i)];
        if (v) k ? g.lineTo(v[0] * s, v[1] * s) : g.moveTo(v[0] * s, v[1] * s);
      });
      g.stroke();
    }
    const r = pts.iris_right, l = pts.iris_left;
    if (r && l) {  // the facial midline: perpendicular bisector of the iris centres (Emotrics)
      const mx = (r[0] + l[0]) / 2, my = (r[1] + l[1]) / 2;
      let dx = l[0] - r[0], dy = l[1] - r[1];
      const n = Math.hypot(dx, dy) || 1;
      dx /= n; dy /= n;
      const reach = 4 * n;
      g.setLineDash([6, 4]);
      g.strokeStyle = "#ffd400";
      g.beginPath();
      g.moveTo((mx + dy * 0.5 * reach) * s, (my - dx * 0.5 * reach) * s);
      g.lineTo((mx - dy * reach) * s, (my + dx * reach) * s);
      g.moveTo(r[0] * s, r[1] * s);
      g.lineTo(l[0] * s, l[1] * s);
      g.stroke();
      g.setLineDash([]);
      for (const iris of [r, l]) {
        g.strokeStyle = "#00d2e6";
        g.lineWidth = 1.5;
        g.beginPath();
        g.arc(iris[0] * s, iris[1] * s, iris[2] * s, 0, 2 * Math.PI);
        g.stroke();
      }
    }
    for (const h of handles()) {
      const id = h.id.split(":")[0];
      const moved = differs(id);
      g.fillStyle = h.id.endsWith(":rim") ? "#00d2e6" : COLOURS[side(id)];
      g.beginPath();
      g.arc(h.x * s, h.y * s, h.id === state.selected ? 6 : 4, 0, 2 * Math.PI);
      g.fill();
      g.lineWidth = moved ? 2 : 1;
      g.strokeStyle = moved ? "#ff9d00" : "rgba(0,0,0,0.6)";
      g.stroke();
    }
    say();
  }

  function differs(id) {
    const p = current(), a = state.points[p.movement][id], b = p.detected[id];
    return a.some((v, i) => Math.abs(v - b[i]) > 0.05);
  }

  function say() {
    const p = current();
    const moved = Object.keys(p.detected).filter(differs).length;
    let text = `${p.label}: drag a point, or click it and use the arrow keys (1 px; Shift: ` +
      `10 px); the mouse wheel magnifies (now x${(state.zoom || 1).toFixed(1)}). Orange rings: ` +
      `moved by hand (${moved}).`;
    if (state.selected) {
      const id = state.selected.split(":")[0], v = state.points[p.movement][id];
      text = `Selected: ${p.words[id]}${state.selected.endsWith(":rim") ? " (radius)" : ""} at ` +
        `x ${v[0].toFixed(1)}, y ${v[1].toFixed(1)}` + (v.length === 3 ?
        `, radius ${v[2].toFixed(1)}` : "") + " px. " + text;
    }
    state.status.textContent = text;
  }

  function at(event) {
    const rect = state.canvas.getBoundingClientRect(), s = scale(), v0 = view();
    const k = state.canvas.width / rect.width;  // the canvas may be shown smaller than drawn
    return {x: v0.x + (event.clientX - rect.left) * k / s,
            y: v0.y + (event.clientY - rect.top) * k / s};
  }

  function nearest(pos) {
    const s = scale();
    let best = null, distance = HIT / s;
    for (const h of handles()) {
      const d = Math.hypot(h.x - pos.x, h.y - pos.y);
      if (d < distance) { best = h.id; distance = d; }
    }
    return best;
  }

  function place(handle, x, y) {
    const pts = state.points[current().movement];
    const [id, part] = handle.split(":");
    const v = pts[id];
    if (part === "rim") v[2] = Math.max(1, Math.hypot(x - v[0], y - v[1]));
    else { v[0] = x; v[1] = y; }
  }

  function down(event) {
    const pos = at(event);
    state.selected = nearest(pos);
    state.canvas.focus();
    if (state.selected) {
      state.drag = {moved: false};
      state.canvas.setPointerCapture(event.pointerId);
    }
    draw();
  }

  function move(event) {
    if (!state.drag || !state.selected) return;
    const pos = at(event);
    place(state.selected, pos.x, pos.y);
    state.drag.moved = true;
    draw();
  }

  function up() {
    const dragged = state.drag && state.drag.moved;
    state.drag = null;
    if (dragged) send();
  }

  function wheel(event) {
    event.preventDefault();  // the point under the pointer stays where it is
    const pos = at(event), v = view(), fx = (pos.x - v.x) / v.w, fy = (pos.y - v.y) / v.h;
    state.zoom = Math.min(8, Math.max(1, (state.zoom || 1) * (event.deltaY < 0 ? 1.25 : 0.8)));
    const base = frame(), w = base.w / state.zoom, h = base.h / state.zoom;
    state.centre = {x: pos.x - fx * w + w / 2, y: pos.y - fy * h + h / 2};
    draw();
  }

  const ARROWS = {ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1]};

  function key(event) {
    const step = ARROWS[event.key];
    if (!step || !state.selected) return;
    event.preventDefault();
    const size = event.shiftKey ? 10 : 1;
    const handle = handles().find((h) => h.id === state.selected);
    place(state.selected, handle.x + step[0] * size, handle.y + step[1] * size);
    state.nudged = true;
    draw();
  }

  function keyUp(event) {
    if (ARROWS[event.key] && state.nudged) { state.nudged = false; send(); }
  }

  function send() {
    const p = current();
    trigger("moved", {movement: p.movement, points: state.points[p.movement]});
  }

  // for the browser test and for a11y tools: where a point is on the screen
  element.fpLandmarks = {
    position(id) {
      const v = state.points[current().movement][id], s = scale(), v0 = view();
      const rect = state.canvas.getBoundingClientRect(), k = rect.width / state.canvas.width;
      return {x: rect.left + (v[0] - v0.x) * s * k, y: rect.top + (v[1] - v0.y) * s * k};
    },
    point(id) { return state.points[current().movement][id].slice(); },
    choose(movement) {
      const i = photos().findIndex((p) => p.movement === movement);
      if (i >= 0) { state.photo = i; state.selected = null; show(); }
    },
  };

  build();
  watch("value", build);
})();
