// Client-side filter of the scenario table: free text over the row, and the outcome.
(function () {
  var text = document.getElementById('scenario-filter');
  var outcome = document.getElementById('outcome-filter');
  var count = document.getElementById('scenario-count');
  function apply() {
    var needle = text.value.toLowerCase();
    var wanted = outcome.value;
    var shown = 0;
    document.querySelectorAll('#scenarios tbody tr').forEach(function (row) {
      var ok = row.textContent.toLowerCase().indexOf(needle) >= 0 &&
        (wanted === '' || row.getAttribute('data-outcome') === wanted);
      row.style.display = ok ? '' : 'none';
      if (ok) { shown += 1; }
    });
    count.textContent = shown + ' shown';
  }
  text.addEventListener('input', apply);
  outcome.addEventListener('change', apply);
  apply();
})();
