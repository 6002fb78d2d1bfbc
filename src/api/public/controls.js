// Pan (drag), zoom (wheel, buttons) and click on the map canvas.

const CLICK_SLOP_PX = 4;

/**
 * Wires the pointer and the zoom buttons to the viewport. `onChange` after every move or zoom,
 * `onClick(x, y)` (canvas coordinates) for a press without a drag, `onFit` for the ⤢ button.
 */
export function installPanZoom({ map, canvas, view, buttons, onChange, onClick, onFit }) {
  let drag = null;
  map.addEventListener('pointerdown', (e) => {
    if (e.target !== canvas) return;
    drag = { x: e.clientX, y: e.clientY, moved: 0 };
    map.setPointerCapture(e.pointerId);
  });
  map.addEventListener('pointermove', (e) => {
    if (!drag) return;
    const dx = e.clientX - drag.x;
    const dy = e.clientY - drag.y;
    drag.moved += Math.abs(dx) + Math.abs(dy);
    if (drag.moved > CLICK_SLOP_PX) map.classList.add('dragging');
    view.panBy(dx, dy);
    drag.x = e.clientX;
    drag.y = e.clientY;
    onChange();
  });
  map.addEventListener('pointerup', (e) => {
    const wasClick = drag && drag.moved <= CLICK_SLOP_PX;
    drag = null;
    map.classList.remove('dragging');
    if (!wasClick) return;
    const rect = canvas.getBoundingClientRect();
    onClick(e.clientX - rect.left, e.clientY - rect.top);
  });
  map.addEventListener(
    'wheel',
    (e) => {
      e.preventDefault();
      const rect = canvas.getBoundingClientRect();
      view.zoomAround(e.clientX - rect.left, e.clientY - rect.top, view.zoom - e.deltaY * 0.002);
      onChange();
    },
    { passive: false },
  );
  const zoomBy = (d) => {
    view.zoomAround(view.width / 2, view.height / 2, Math.round(view.zoom) + d);
    onChange();
  };
  buttons.zoomIn.addEventListener('click', () => zoomBy(1));
  buttons.zoomOut.addEventListener('click', () => zoomBy(-1));
  buttons.fit.addEventListener('click', () => {
    onFit();
    onChange();
  });
}

/** The id of the marker nearest to (x, y) within `radius` pixels, or null. */
export function nearestMarker(markers, x, y, radius) {
  let best = null;
  let bestD = radius ** 2;
  for (const m of markers) {
    const d = (m.x - x) ** 2 + (m.y - y) ** 2;
    if (d <= bestD) {
      best = m.id;
      bestD = d;
    }
  }
  return best;
}
