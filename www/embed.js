// cipherstage embed loader. Put <div data-cipherstage="s=hybrid&at=4&lang=ja"></div>
// anywhere on a page and load this script (from the folder the app is served from).
// Each div becomes an iframe of the app in its compact embed layout, at a height fixed
// before it loads.
// Optional: data-height="520" (px) reserves that height; data-autosize follows the
// height the app posts instead (the host page then moves as the widget grows).
// data-from="3" data-to="8" keep the widget in that step range (counted from 1);
// data-hide="title,controls,diagram,detail" (any of them) leaves panes out;
// data-play starts playing; data-lang="ja|en" and data-theme="light|dark|projector".
// Several widgets per page are fine.
//
// The widget talks to its page (window.postMessage; the README's "Embedding" lists it):
// it sends {type: 'cipherstage:ready'} once and {type: 'cipherstage:step'} at every
// step, each with scenario, at, steps, from and to (numbers from 1, nothing of the
// run's bytes or keys); this loader re-dispatches both as DOM events of the same name
// on the div (event.detail holds the message). It obeys {type: 'cipherstage:next'},
// 'cipherstage:prev', {type: 'cipherstage:goto', at: 5}, 'cipherstage:play' and
// 'cipherstage:pause', from its parent page only; the div gets methods for them:
// div.cipherstage.next(), .prev(), .goto(5), .play(), .pause().
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
    if (!d || typeof d.type !== 'string' || e.origin !== base.origin) return;
    for (var i = 0; i < frames.length; i++) {
      var f = frames[i];
      if (f.contentWindow !== e.source) continue;
      if (d.type === 'cipherstage:size' && typeof d.height === 'number' && f.dataset.autosize) {
        f.style.height = Math.min(Math.max(Math.round(d.height), 240), 1600) + 'px';
      } else if (d.type === 'cipherstage:ready' || d.type === 'cipherstage:step') {
        var detail = { scenario: String(d.scenario), at: d.at, steps: d.steps, from: d.from, to: d.to };
        f.parentNode && f.parentNode.dispatchEvent(new CustomEvent(d.type, { detail: detail }));
      }
    }
  });

  // The commands a page may send its widget (see the top of this file).
  function commands(frame) {
    function send(msg) {
      if (frame.contentWindow) frame.contentWindow.postMessage(msg, base.origin);
    }
    return {
      next: function () { send({ type: 'cipherstage:next' }); },
      prev: function () { send({ type: 'cipherstage:prev' }); },
      goto: function (at) { send({ type: 'cipherstage:goto', at: Number(at) }); },
      play: function () { send({ type: 'cipherstage:play' }); },
      pause: function () { send({ type: 'cipherstage:pause' }); }
    };
  }

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
    ['from', 'to', 'hide', 'lang', 'theme'].forEach(function (k) {
      var v = el.getAttribute('data-' + k);
      if (v) params.set(k, v);
    });
    if (el.hasAttribute('data-play')) params.set('play', '1');
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
    el.cipherstage = commands(frame);
    frames.push(frame);
  }

  function mountAll() {
    document.querySelectorAll('div[data-cipherstage]').forEach(mount);
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', mountAll);
  else mountAll();
})();
