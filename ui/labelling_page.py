"""What the labelling pages add to the page's head (issue 20): the inline script of the
keyboard, zoom, pan and contrast of the labelling and adjudication views, and the CSS that makes
the photo fill the window's height. No JavaScript library: a CSS transform of the shown image.
Mounted by :func:`fpgrade_ui.app.launch` through :mod:`fpgrade_ui.labelling_app`."""

from __future__ import annotations

#: keyboard and mouse of the labelling and adjudication views (a small inline script, no
#: library): 1-9 choose a level, Enter submits (adjudication: decides; Ctrl+Enter from the reason),
#: S skips, G shows the campaign's guideline in the photo's place (again, or any answer: back);
#: the photo
#: zooms with the wheel or + / - (0: back to the whole photo), pans by
#: dragging or with the arrow keys, C steps the contrast (1, 1.4, 1.8), F toggles the face crop
#: (a server event: fpgrade's face detection); adjudication: O opens the chosen case, Q refreshes
#: the queue, R goes to the reason. The zoom is a CSS transform of the shown <img>, reset when a
#: new photo arrives (its src changes).
SHORTCUTS = """<script>
(() => {
  const VIEWS = [
    {view: '#label-view', image: '#medium-image', levels: '#level-choice',
     submit: '#submit-label', face: '#face-button',
     keys: {s: '#skip-button', g: '#guideline-button'}},
    {view: '#adjudication-view', image: '#case-image', levels: '#decision',
     submit: '#decide-button', face: '#case-face-button', reason: '#decision-reason textarea',
     keys: {o: '#open-case', q: '#queue-button'}},
  ];
  const zooms = new WeakMap();
  const shown = (sel) => { const el = document.querySelector(sel);
                           return el && el.offsetParent !== null ? el : null; };
  const active = () => VIEWS.find((v) => shown(v.view));
  const photo = (v) => { const box = shown(v.image); return box && box.querySelector('img'); };
  function zoomOf(img) {
    let z = zooms.get(img);
    if (!z || z.src !== img.src) { z = {s: 1, x: 0, y: 0, c: 1, src: img.src}; zooms.set(img, z); }
    return z;
  }
  function draw(img) {
    const z = zoomOf(img);
    if (z.s <= 1) { z.s = 1; z.x = 0; z.y = 0; }
    img.style.transformOrigin = '0 0';
    img.style.transform = `translate(${z.x}px, ${z.y}px) scale(${z.s})`;
    img.style.filter = z.c === 1 ? '' : `contrast(${z.c})`;
    img.style.cursor = z.s > 1 ? 'grab' : '';
    img.dataset.zoom = z.s.toFixed(2);
  }
  function zoomAt(img, factor, clientX, clientY) {
    const z = zoomOf(img), r = img.getBoundingClientRect();
    const next = Math.min(8, Math.max(1, z.s * factor)), f = next / z.s;
    const cx = clientX === undefined ? r.left + r.width / 2 : clientX;
    const cy = clientY === undefined ? r.top + r.height / 2 : clientY;
    z.x += (cx - r.left) * (1 - f); z.y += (cy - r.top) * (1 - f); z.s = next;
    draw(img);
  }
  document.addEventListener('wheel', (e) => {
    const v = active(), img = v && photo(v);
    if (!img || !img.parentElement.contains(e.target)) return;
    e.preventDefault();
    zoomAt(img, e.deltaY < 0 ? 1.25 : 0.8, e.clientX, e.clientY);
  }, {passive: false});
  let drag = null;
  document.addEventListener('mousedown', (e) => {
    const v = active(), img = v && photo(v);
    if (!img || e.target !== img || zoomOf(img).s <= 1) return;
    drag = {img, x: e.clientX, y: e.clientY}; e.preventDefault();
  });
  document.addEventListener('mousemove', (e) => {
    if (!drag) return;
    const z = zoomOf(drag.img);
    z.x += e.clientX - drag.x; z.y += e.clientY - drag.y;
    drag.x = e.clientX; drag.y = e.clientY; draw(drag.img);
  });
  document.addEventListener('mouseup', () => { drag = null; });
  // a new medium brings the photo back in the guideline's place: the guideline's own toggle
  // (a server event) is pressed when an answer, a skip or "Next" leaves it open
  const ANSWERS = '#submit-label, #skip-button, #next-button, #cannot-grade-button';
  document.addEventListener('click', (e) => {
    if (e.target.closest && e.target.closest(ANSWERS) && shown('#guideline-panel'))
      document.querySelector('#guideline-button')?.click();
  }, true);
  const PAN = {ArrowLeft: [60, 0], ArrowRight: [-60, 0], ArrowUp: [0, 60], ArrowDown: [0, -60]};
  document.addEventListener('keydown', (e) => {
    const v = active();
    if (!v || e.altKey || e.metaKey) return;
    const t = e.target;
    if (v.reason && t && t.matches && t.matches(v.reason) && e.key === 'Enter' && e.ctrlKey) {
      document.querySelector(v.submit)?.click(); e.preventDefault(); return;
    }
    if (e.ctrlKey) return;
    if (t && (t.tagName === 'TEXTAREA' || t.isContentEditable ||
              (t.tagName === 'INPUT' && !['radio', 'checkbox'].includes(t.type)))) return;
    const img = photo(v), key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
    if (/^[1-9]$/.test(key)) {
      const input = document.querySelectorAll(`${v.levels} input[type=radio]`)[Number(key) - 1];
      if (input) { input.click(); e.preventDefault(); }
    } else if (key === 'Enter') {
      document.querySelector(v.submit)?.click(); e.preventDefault();
    } else if (v.keys[key]) {
      document.querySelector(v.keys[key])?.click(); e.preventDefault();
    } else if (key === 'f') {
      document.querySelector(v.face)?.click(); e.preventDefault();
    } else if (key === 'r' && v.reason) {
      document.querySelector(v.reason)?.focus(); e.preventDefault();
    } else if (img && (key === '+' || key === '=')) { zoomAt(img, 1.25); e.preventDefault(); }
    else if (img && key === '-') { zoomAt(img, 0.8); e.preventDefault(); }
    else if (img && key === '0') { const z = zoomOf(img); z.s = 1; draw(img); e.preventDefault(); }
    else if (img && key === 'c') {
      const z = zoomOf(img); z.c = z.c >= 1.8 ? 1 : Math.round((z.c + 0.4) * 10) / 10;
      draw(img); e.preventDefault();
    } else if (img && PAN[key]) {
      const z = zoomOf(img); z.x += PAN[key][0]; z.y += PAN[key][1]; draw(img);
      e.preventDefault();
    }
  });
})();
</script>"""

#: the photo fills the window's height (1366x768 and larger without scrolling); the same size in
#: the labelling and the adjudication view; a zoomed photo is clipped to its frame
PHOTO_HEIGHT = "calc(100vh - 290px)"
CSS = """#medium-image img, #case-image img { object-fit: contain; user-select: none; }
#medium-image, #case-image { min-height: 320px; }
#medium-image *:has(> img), #case-image *:has(> img) { overflow: hidden; }
.message p { font-weight: 600; }
#page-head p { margin: 0; }
#medium-title h3, #case-title h3 { margin: 0; font-size: 1.05em; }
#medium-title h3, #case-title h3 { white-space: nowrap; overflow: hidden;
                                   text-overflow: ellipsis; }"""

PHOTO_LABEL = ("Photo: wheel or +/- zoom, drag or arrows pan, 0 whole photo, C contrast, "
               "F face crop")
