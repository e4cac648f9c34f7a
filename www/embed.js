// cipherstage embed loader. Put <div data-cipherstage="s=hybrid&at=4&lang=ja"></div>
// anywhere on a page and load this script (from the folder the app is served from).
// Each div becomes an iframe of the app in its compact embed layout, at a height fixed
// before it loads.
// Optional: data-height="520" (px) reserves that height; data-autosize follows the
// height the app posts instead (the host page then moves as the widget grows).
// Several widgets per page are fine.
(function () {
  'use strict';
  var script = document.currentScript;
  var base = new URL('./', script ? script.src : location.href);
  var frames = [];

  // The height is reserved before the iframe loads (data-height, else a default for
  // the width it gets), so the host page never moves; a widget taller than that
  // scrolls inside. data-autosize opts in to following the height the app posts.
  window.addEventListener('message', function (e) {
    var d = e.data;
    if (!d || d.type !== 'cipherstage:size' || typeof d.height !== 'number') return;
    for (var i = 0; i < frames.length; i++) {
      if (frames[i].contentWindow === e.source && frames[i].dataset.autosize) {
        frames[i].style.height = Math.min(Math.max(Math.round(d.height), 240), 1600) + 'px';
      }
    }
  });

  function reserved(el) {
    var asked = parseInt(el.getAttribute('data-height') || '', 10);
    if (asked >= 240 && asked <= 1600) return asked;
    // One column below 600 px (the current step, then the timeline), two above.
    return (el.clientWidth || 600) < 600 ? 600 : 460;
  }

  function mount(el) {
    if (el.dataset.cipherstageMounted) return;
    el.dataset.cipherstageMounted = '1';
    var params = new URLSearchParams(el.getAttribute('data-cipherstage') || '');
    params.set('embed', '');
    var frame = document.createElement('iframe');
    frame.src = new URL('index.html?' + params.toString(), base).href;
    frame.title = el.getAttribute('data-title') || 'cipherstage: ' + (params.get('s') || '');
    frame.loading = 'lazy';
    frame.style.width = '100%';
    frame.style.height = reserved(el) + 'px';
    if (el.hasAttribute('data-autosize')) frame.dataset.autosize = '1';
    frame.style.border = '1px solid #c8cdd4';
    frame.style.borderRadius = '8px';
    el.replaceChildren(frame);
    frames.push(frame);
  }

  function mountAll() {
    document.querySelectorAll('div[data-cipherstage]').forEach(mount);
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', mountAll);
  else mountAll();
})();
