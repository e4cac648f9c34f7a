// The demo page's own script: drives the third widget through the interface
// embed.js gives its div (div.cipherstage.next() …) and follows the steps it reports.
(function () {
  'use strict';
  var el = document.getElementById('driven');
  var status = document.getElementById('drive-status');
  function on(id, f) { document.getElementById(id).addEventListener('click', f); }
  function widget() { return el.cipherstage; }
  on('drive-prev', function () { if (widget()) widget().prev(); });
  on('drive-next', function () { if (widget()) widget().next(); });
  on('drive-first', function () { if (widget()) widget().goto(3); });
  el.addEventListener('cipherstage:step', function (e) {
    var d = e.detail;
    status.textContent = 'Step ' + d.at + ' of ' + d.from + '–' + d.to + ' (' + d.steps + ' in the whole run)';
  });
})();
